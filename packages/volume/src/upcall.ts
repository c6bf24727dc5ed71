// GlusterFS upcalls (cache invalidation), as the volume hands them to its users.
//
// A brick whose volume has `features.cache-invalidation on` runs the upcall xlator: every fop it
// serves registers the calling client (by its SETVOLUME process-uuid) on that inode, LOOKUP
// included; when another client changes the inode within `features.cache-invalidation-timeout`
// seconds (default 60) of our last fop on it, the brick sends us a one-way CALL on the brick
// connection: program GlusterFS Callback (52743234 v1), procedure CACHE_INVALIDATION (5),
// argument gfs3_cbk_cache_invalidation_req (packages/rpc/src/programs/cbk.ts). The changing
// client itself is never told. Each brick of a replica set that saw the change sends its own.
import { GfUpcallEvent, GfUpcallFlags, type Gfs3CbkCacheInvalidationReq, type TlsContext } from '@gluster-ts/rpc'
import type { BrickClient } from './brick.js'
import { fetchVolfile } from './bootstrap.js'
import { parseServers } from './servers.js'
import { parseVolfile } from './volfile.js'
import { parseBool } from './graph.js'
import { gfidString } from './stats.js'

/** One cache-invalidation upcall, decoded. */
export interface InvalidateEvent {
  /** the changed object's gfid, canonical text */
  gfid: string
  /** its path, when the volume knows it (a directory it resolved recently) */
  path?: string
  /** what changed: GfUpcallFlags bits (SIZE|TIMES for a write; TIMES on a directory an entry was created in; NLINK on an unlinked file …) */
  flags: number
  /** the object's type after the change, from the upcall's stat ('unknown' when the brick sent none) */
  type: 'file' | 'directory' | 'symlink' | 'other' | 'unknown'
  /** gfid of the parent directory, when the upcall carried its stat (unlink, rename, link) */
  parentGfid?: string
  /** the brick's cache-invalidation-timeout for us, seconds */
  expireTimeSec: number
  /** 'host:port:/brick/path' of the brick that sent it */
  brick: string
}

/** A brick came back with a new connection: the upcall registrations of the old one are gone. */
export interface ResyncEvent {
  brick: string
}

export interface UpcallEvents {
  invalidate: [e: InvalidateEvent]
  resync: [e: ResyncEvent]
  /** glusterd sent FETCHSPEC: some volfile of the volume changed (`gluster volume set`), brick ones included */
  fetchspec: []
}

/** gf_iatt.mode is a st_mode: the type is in its S_IFMT bits */
const TYPES: Record<number, InvalidateEvent['type']> = { 0o100000: 'file', 0o040000: 'directory', 0o120000: 'symlink' }
const NULL_GFID = '00000000-0000-0000-0000-000000000000'

/** gfs3_cbk_cache_invalidation_req → InvalidateEvent (pure). */
export function toInvalidateEvent (req: Gfs3CbkCacheInvalidationReq, brick: string, pathOf?: (gfid: string) => string | undefined): InvalidateEvent {
  const gfid = req.gfid.toLowerCase()
  const statGfid = gfidString(req.stat.ia_gfid)
  const type = statGfid === NULL_GFID ? 'unknown' : (TYPES[req.stat.mode & 0o170000] ?? 'other')
  const e: InvalidateEvent = { gfid, flags: req.flags, type, expireTimeSec: req.expire_time_attr, brick }
  const parent = gfidString(req.parent_stat.ia_gfid)
  if (parent !== NULL_GFID) e.parentGfid = parent
  const path = pathOf?.(gfid)
  if (path !== undefined) e.path = path
  return e
}

/** Whether the flags say the object's name or existence changed (its path → gfid mapping). */
export function namespaceChanged (flags: number): boolean {
  return (flags & (GfUpcallFlags.RENAME | GfUpcallFlags.FORGET | GfUpcallFlags.NLINK)) !== 0
}

/**
 * Wire a brick's upcalls and reconnects to `sink`. Idempotent per (brick, sink): a brick kept
 * across a volfile change is not wired twice. Returns a function that unwires it.
 */
export function watchBrick (b: BrickClient, sink: {
  invalidate: (e: InvalidateEvent) => void
  resync: (e: ResyncEvent) => void
  pathOf?: (gfid: string) => string | undefined
}): () => void {
  let wired = WIRED.get(b)
  if (wired === undefined) { wired = new WeakSet(); WIRED.set(b, wired) }
  if (wired.has(sink)) return () => {}
  wired.add(sink)
  const onUpcall = (req: Gfs3CbkCacheInvalidationReq): void => {
    if (req.event_type !== GfUpcallEvent.CACHE_INVALIDATION) return
    sink.invalidate(toInvalidateEvent(req, b.label, sink.pathOf))
  }
  let seenUp = b.up
  const onState = (s: string): void => {
    if (s !== 'up') return
    if (seenUp) sink.resync({ brick: b.label })
    seenUp = true
  }
  b.on('upcall', onUpcall)
  b.on('state', onState)
  return () => { b.off('upcall', onUpcall); b.off('state', onState); wired.delete(sink) }
}
const WIRED = new WeakMap<BrickClient, WeakSet<object>>()

/** The volfile id glusterd gives a brick's own volfile: `vol.host.path-with-dashes`. */
export function brickVolfileId (volume: string, host: string, brickPath: string): string {
  return `${volume}.${host}.${brickPath.replace(/^\/+/, '').replace(/\//g, '-')}`
}

/**
 * Whether the bricks of `volume` send cache-invalidation upcalls: GETSPEC of each brick's own
 * volfile (glusterd serves them to any client) and look at the features/upcall translator's
 * `cache-invalidation` option. True only when every brick has it on; false when one has it off
 * or its volfile cannot be read.
 */
export async function cacheInvalidationEnabled (servers: readonly string[], volume: string, bricks: Iterable<BrickClient>, o: { signal?: AbortSignal, timeoutMs?: number, tls?: TlsContext } = {}): Promise<boolean> {
  const ids = new Set<string>()
  for (const b of bricks) ids.add(brickVolfileId(volume, b.spec.host, b.spec.brickPath))
  if (ids.size === 0) return false
  const list = parseServers(servers)
  const texts = await Promise.all([...ids].map(async id => {
    try {
      const r = await fetchVolfile(list, { volume: id, timeoutMs: o.timeoutMs ?? 5000, ...(o.signal !== undefined ? { signal: o.signal } : {}), ...(o.tls !== undefined ? { tls: o.tls } : {}) })
      r.client.destroy()
      return r.spec
    } catch {
      return undefined
    }
  }))
  if (o.signal?.aborted === true) throw o.signal.reason
  return texts.every(t => t !== undefined && upcallOptionOn(t))
}

/** In a brick volfile's text: is the features/upcall translator's cache-invalidation on? */
export function upcallOptionOn (volfile: string): boolean {
  let vf
  try { vf = parseVolfile(volfile) } catch { return false }
  const up = vf.xlators.find(x => x.type === 'features/upcall')
  return up !== undefined && parseBool(up.options.get('cache-invalidation'), false)
}
