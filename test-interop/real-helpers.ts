// Helpers of the suites against the REAL cluster (test-cluster/real) that check what GlusterFS's
// own tools say: page caches dropped, and `gluster volume heal VOL info` empty.
import type { Test } from 'tap'
import { writeFile } from 'node:fs/promises'
import type { RealCluster } from '../test-cluster/real/index.js'

/** Drop the page cache (FUSE client's and bricks'); ignored where /proc/sys is read-only. */
export async function dropCaches (): Promise<void> {
  await writeFile('/proc/sys/vm/drop_caches', '3\n').catch(() => {})
}

/**
 * Assert that heal info lists nothing on `vol`, asking again (every second, up to `ms`) while
 * it does: transactions and lock cycles end a moment after the last fop, heals take a while.
 */
export async function healEmpty (t: Test, c: RealCluster, vol: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms
  let h = await c.healInfo(vol)
  while (!(h.bricks.length > 0 && h.bricks.every(b => b.entries === 0)) && Date.now() < end) {
    await new Promise(resolve => setTimeout(resolve, 1000))
    h = await c.healInfo(vol)
  }
  t.equal(h.entries, 0, `${vol}: heal info lists nothing${h.entries > 0 ? `\n${h.raw}` : ''}`)
}
