// The abort signal a stream (createReadStream, createWriteStream, pipeTo) gives every fop it has
// in flight, and the one a sharded volume's background deletion gives its batch of
// shard-deletion-rate block removals (100 at once by default). Each fop listens on it while it runs (replicate's failover, lock waits, a block's
// lookup or creation on a sharded volume), so a window of READs or WRITEs, each cut in two at a
// block boundary, holds more listeners at once than Node's default of 10 before it warns of a
// leak. The bound grows with the window instead of being lifted: a real leak still warns.
import { setMaxListeners, defaultMaxListeners } from 'node:events'

/** Listeners one fop of a stream may hold on its signal at once (a generous count of the above). */
const LISTENERS_PER_FOP = 8

/** An AbortController whose signal takes the listeners of `window` fops in flight. */
export function windowController (window: number): AbortController {
  const ac = new AbortController()
  setMaxListeners(Math.max(defaultMaxListeners, LISTENERS_PER_FOP * Math.max(1, window)), ac.signal)
  return ac
}
