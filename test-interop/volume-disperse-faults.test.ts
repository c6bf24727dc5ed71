// Dispersed volumes on the REAL GlusterFS 10 cluster when bricks fail (test-cluster/real: disp21
// = disperse 3 redundancy 1, one brick per node; disp42 = disperse 6 redundancy 2, two bricks per
// node). The happy path is volume-disperse.test.ts.
//
// - With `redundancy` bricks killed (one node's), our reads stay correct and our writes (new
//   file, unaligned overwrite, append, truncate, mkdir) succeed; they leave heal marks, and after
//   the bricks return the real self-heal daemon heals them: heal info empties, reads with another
//   node's bricks down (so from the healed fragments) are right, and so is a fresh FUSE mount.
// - With one brick frozen (SIGSTOP), reads stay correct and cost milliseconds, writes succeed,
//   and the daemon heals the frozen brick once it runs again.
import t from 'tap'
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Volume } from '@gluster-ts/volume'
import { DISPERSE_VOLUMES, connectEmpty, freshMount, healEmpty } from './real-helpers.js'
import { loadRealCluster } from '../test-cluster/real/index.js'
import { pat } from '../test-cluster/pattern.js'

const cluster = loadRealCluster()
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

if ('skip' in cluster) {
  t.test('dispersed volumes with failing bricks', { skip: `real cluster not available: ${cluster.skip}` }, async () => {})
} else {
  t.teardown(async () => { for (const v of DISPERSE_VOLUMES) await cluster.umount(v.name).catch(() => {}) })
  const servers = cluster.nodes.map(n => n.ip)
  const top = `gts-dispf-${process.pid}`
  for (const { name: volName, k, r } of DISPERSE_VOLUMES) {
    const S = 512 * k
    // node 3's bricks: disp21 brick 3, disp42 bricks 3 and 6 (redundancy of each)
    const lost = r === 1 ? [3] : [3, 6]
    // then, after the heal, the bricks of another node, so reads must use the healed fragments
    const other = r === 1 ? [1] : [1, 4]

    t.test(`${volName} (${k}+${r}): ${r} brick(s) killed: our reads stay correct, our writes succeed, the self-heal daemon heals them`, async t => {
      const base = `/${top}/degraded`
      const want = new Map<string, Buffer>()
      const vol0 = await connectEmpty(t, cluster, volName, `/${top}`, base)
      const pre = Buffer.from(pat(5 * S + 77, 51))
      await vol0.writeFile(`${base}/pre.bin`, pre)
      await vol0.close()
      const down = new Set<number>()
      t.teardown(async () => { if (down.size > 0) await cluster.startBrick(volName) })
      for (const b of lost) { await cluster.killBrick(b, volName); down.add(b) }

      const vol = await Volume.connect({ servers, volume: volName })
      t.equal(sha(await vol.readFile(`${base}/pre.bin`) as Buffer), sha(pre), `pre.bin reads with bricks ${lost.join(',')} down`)
      // writes within quorum: a new file, an unaligned overwrite, an append, a truncate, entries
      const nu = pat(3 * S + 5, 52)
      await vol.writeFile(`${base}/new.bin`, nu)
      want.set('new.bin', nu)
      const fh = await vol.open(`${base}/pre.bin`, 'r+')
      await fh.write(pat(100, 53), 0, 100, 700)
      await fh.close()
      pat(100, 53).copy(pre, 700)
      await vol.appendFile(`${base}/pre.bin`, pat(S + 3, 54))
      want.set('pre.bin', Buffer.concat([pre, pat(S + 3, 54)]))
      await vol.writeFile(`${base}/cut.bin`, pat(4 * S, 55))
      await vol.truncate(`${base}/cut.bin`, S + 9)
      want.set('cut.bin', pat(4 * S, 55).subarray(0, S + 9))
      await vol.mkdir(`${base}/sub`)
      await vol.writeFile(`${base}/sub/in.txt`, 'written while degraded\n')
      want.set('sub/in.txt', Buffer.from('written while degraded\n'))
      for (const [name, b] of want) t.equal(sha(await vol.readFile(`${base}/${name}`) as Buffer), sha(b), `${name}: reads back while degraded`)
      await vol.close()
      const marked = await cluster.healInfo(volName)
      t.ok(marked.entries > 0, `heal info lists what the down bricks missed (${marked.entries} entries)`)

      await cluster.startBrick(volName)
      down.clear()
      await cluster.gl(1, 'volume', 'heal', volName).catch(() => '')
      await healEmpty(t, cluster, volName, 240_000)

      // the healed bricks now serve reads: take another node's bricks away
      for (const b of other) { await cluster.killBrick(b, volName); down.add(b) }
      const vol2 = await Volume.connect({ servers, volume: volName })
      t.teardown(() => vol2.close())
      for (const [name, b] of want) t.equal(sha(await vol2.readFile(`${base}/${name}`) as Buffer), sha(b), `${name}: reads from the healed bricks (${other.join(',')} down)`)
      await vol2.close()
      await cluster.startBrick(volName)
      down.clear()
      const mnt = await freshMount(cluster, volName)
      for (const [name, b] of want) t.equal(sha(await readFile(join(mnt, base, name))), sha(b), `${name}: same bytes through a fresh FUSE mount`)
    })

    t.test(`${volName} (${k}+${r}): one brick frozen: reads stay correct and fast, writes succeed`, async t => {
      const base = `/${top}/frozen`
      const vol = await Volume.connect({ servers, volume: volName })
      t.teardown(() => vol.close())
      await vol.mkdir(base, { recursive: true })
      const f = pat(7 * S + 11, 61)
      await vol.writeFile(`${base}/f.bin`, f)
      const fresh = await Volume.connect({ servers, volume: volName })
      t.teardown(() => fresh.close())
      let frozen = false
      t.teardown(async () => { if (frozen) await cluster.contBrick(2, volName) })
      await cluster.freezeBrick(2, volName)
      frozen = true
      const t0 = performance.now()
      t.equal(sha(await fresh.readFile(`${base}/f.bin`) as Buffer), sha(f), 'reads with brick 2 frozen')
      const ms = performance.now() - t0
      t.comment(`lookup + read with a frozen brick: ${ms.toFixed(0)} ms`)
      t.ok(ms < 5000, `the frozen brick costs milliseconds, not a call timeout (${ms.toFixed(0)} ms)`)
      const g = pat(2 * S + 1, 62)
      await fresh.writeFile(`${base}/g.bin`, g)
      t.equal(sha(await fresh.readFile(`${base}/g.bin`) as Buffer), sha(g), 'a write with brick 2 frozen reads back')
      await fresh.close()
      await cluster.contBrick(2, volName)
      frozen = false
      await cluster.gl(1, 'volume', 'heal', volName).catch(() => '')
      await healEmpty(t, cluster, volName, 240_000)
      const mnt = await freshMount(cluster, volName)
      t.equal(sha(await readFile(join(mnt, base, 'g.bin'))), sha(g), 'g.bin through a fresh FUSE mount')
      await vol.rm(`/${top}`, { recursive: true, force: true })
    })
  }
}
