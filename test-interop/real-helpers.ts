// Helpers of the suites against the REAL cluster (test-cluster/real) that check what GlusterFS's
// own tools say: page caches dropped, and `gluster volume heal VOL info` empty.
import type { Test } from 'tap'
import { writeFile } from 'node:fs/promises'
import { Volume } from '@gluster-ts/volume'
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

/** A fresh FUSE mount (no page cache of an earlier one). */
export async function freshMount (c: RealCluster, vol: string): Promise<string> {
  await c.umount(vol).catch(() => {})
  await dropCaches()
  return await c.mount(vol)
}

/** The dispersed volumes of test-cluster/real: k data bricks, r redundancy. */
export const DISPERSE_VOLUMES = [{ name: 'disp21', k: 2, r: 1 }, { name: 'disp42', k: 4, r: 2 }] as const

/** A Volume on `vol` (closed at the end of the test) with `clean` removed and `dir` made. */
export async function connectEmpty (t: Test, c: RealCluster, vol: string, clean: string, dir: string): Promise<Volume> {
  const v = await Volume.connect({ servers: c.nodes.map(n => n.ip), volume: vol })
  t.teardown(() => v.close())
  await v.rm(clean, { recursive: true, force: true })
  await v.mkdir(dir, { recursive: true })
  return v
}
