// Dispersed volumes on the REAL GlusterFS 10 cluster (test-cluster/real: disp21 = disperse 3
// redundancy 1, one brick per node; disp42 = disperse 6 redundancy 2, two bricks per node).
//
// - Files written by the FUSE client read identically through our API (whole files, ranges
//   across stripe boundaries, streams), with the sizes FUSE reports.
// - Files written through our API (sizes around the chunk and stripe boundaries, unaligned
//   overwrites, appends, truncates down and up, renames, symlinks, xattrs) read identically
//   through a fresh FUSE mount, and heal info is empty afterwards (our pre-op/post-op
//   xattrops leave no dirty mark and equal versions on every brick).
// - With `redundancy` bricks killed, and with one brick frozen, our reads stay correct and our
//   writes succeed; after the bricks return, the real self-heal daemon heals what we wrote
//   while they were gone (heal info empties, every brick's fragment is the encoding of the file).
import t from 'tap'
import type { Test } from 'tap'
import { createHash } from 'node:crypto'
import { readFile, writeFile, rm, stat, open, mkdir, readlink } from 'node:fs/promises'
import { join } from 'node:path'
import { Volume } from '@gluster-ts/volume'
import { dropCaches, healEmpty } from './real-helpers.js'
import { waitFor } from './server-fuse-helpers.js'
import { loadRealCluster, type RealCluster } from '../test-cluster/real/index.js'
import { pat } from '../test-cluster/pattern.js'

const cluster = loadRealCluster()
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

/** A fresh FUSE mount (no page cache of an earlier one). */
async function freshMount (c: RealCluster, vol: string): Promise<string> {
  await c.umount(vol).catch(() => {})
  await dropCaches()
  return await c.mount(vol)
}

if ('skip' in cluster) {
  t.test('dispersed volumes against the real cluster', { skip: `real cluster not available: ${cluster.skip}` }, async () => {})
} else {
  const servers = cluster.nodes.map(n => n.ip)
  /** A Volume on `volName` (closed at the end of the test) with `clean` removed and `dir` made. */
  const connectEmpty = async (t: Test, volName: string, clean: string, dir: string): Promise<Volume> => {
    const vol = await Volume.connect({ servers, volume: volName })
    t.teardown(() => vol.close())
    await vol.rm(clean, { recursive: true, force: true })
    await vol.mkdir(dir, { recursive: true })
    return vol
  }
  const volumes = [{ name: 'disp21', k: 2, r: 1 }, { name: 'disp42', k: 4, r: 2 }] as const

  t.teardown(async () => { for (const v of volumes) await cluster.umount(v.name).catch(() => {}) })

  for (const { name: volName, k, r } of volumes) {
    const S = 512 * k
    const top = `gts-disp-${process.pid}`
    // sizes around the chunk (512) and stripe (512·k) boundaries, and several stripes
    const sizes = [0, 1, 511, 512, 513, S - 1, S, S + 1, 2 * S + 100, 65539, 1_049_576]

    t.test(`${volName} (${k}+${r}): files written by FUSE read identically through our API`, async t => {
      const mnt = await cluster.mount(volName)
      const dir = join(mnt, top, 'fuse')
      await rm(join(mnt, top), { recursive: true, force: true })
      await mkdir(dir, { recursive: true })
      t.teardown(() => rm(join(mnt, top), { recursive: true, force: true }))
      const want = new Map<string, Buffer>()
      for (const n of sizes) { const b = pat(n, n & 255); await writeFile(join(dir, `f${n}.bin`), b); want.set(`f${n}.bin`, b) }
      // an unaligned overwrite and an append through FUSE
      const big = Buffer.from(want.get('f1049576.bin')!)
      const fh = await open(join(dir, 'f1049576.bin'), 'r+')
      await fh.write(pat(100, 99), 0, 100, 700)
      await fh.close()
      pat(100, 99).copy(big, 700)
      want.set('f1049576.bin', big)
      await writeFile(join(dir, 'f513.bin'), pat(3000, 5), { flag: 'a' })
      want.set('f513.bin', Buffer.concat([want.get('f513.bin')!, pat(3000, 5)]))

      const vol = await Volume.connect({ servers, volume: volName })
      t.teardown(() => vol.close())
      for (const [name, b] of want) {
        const got = await vol.readFile(`/${top}/fuse/${name}`) as Buffer
        t.equal(got.length, b.length, `${name}: size`)
        t.equal(sha(got), sha(b), `${name}: same bytes through our API`)
        t.equal((await vol.stat(`/${top}/fuse/${name}`)).size, (await stat(join(dir, name))).size, `${name}: stat size as FUSE reports it`)
      }
      const ents = await vol.readdir(`/${top}/fuse`, { withFileTypes: true, stats: true })
      t.same(Object.fromEntries(ents.map(e => [e.name, e.stats?.size])), Object.fromEntries([...want].map(([n, b]) => [n, b.length])), 'readdir: logical sizes')
      const ranged: Buffer[] = []
      for await (const c of vol.createReadStream(`/${top}/fuse/f1049576.bin`, { start: S - 7, end: 300_000 })) ranged.push(c as Buffer)
      t.ok(Buffer.concat(ranged).equals(big.subarray(S - 7, 300_001)), 'a ranged stream across stripe boundaries')
      const h = await vol.open(`/${top}/fuse/f65539.bin`, 'r')
      const buf = Buffer.alloc(5000)
      const { bytesRead } = await h.read(buf, 0, 5000, 65539 - 3000)
      await h.close()
      t.equal(bytesRead, 3000, 'a read past EOF is short')
      t.ok(buf.subarray(0, 3000).equals(want.get('f65539.bin')!.subarray(65539 - 3000)), 'and returns the last bytes')
    })

    t.test(`${volName} (${k}+${r}): files written through our API read identically through a fresh FUSE mount`, async t => {
      const base = `/${top}/ours`
      const vol = await connectEmpty(t, volName, `/${top}`, base)
      const want = new Map<string, Buffer>()
      for (const n of sizes) { const b = pat(n, (n + 7) & 255); await vol.writeFile(`${base}/w${n}.bin`, b); want.set(`w${n}.bin`, b) }
      // unaligned overwrites inside a stripe, across stripes, and past EOF
      const ow = Buffer.from(pat(10 * S + 33, 21))
      await vol.writeFile(`${base}/overwrite.bin`, ow)
      const fh = await vol.open(`${base}/overwrite.bin`, 'r+')
      for (const [pos, len, seed] of [[700, 100, 1], [S - 5, 11, 2], [3 * S + 17, 2 * S + 5, 3], [10 * S + 20, 500, 4]] as const) {
        const d = pat(len, seed)
        await fh.write(d, 0, len, pos)
        const end = pos + len
        if (end > ow.length) { const grown = Buffer.alloc(end); ow.copy(grown); d.copy(grown, pos); want.set('overwrite.bin', grown) } else d.copy(ow, pos)
      }
      await fh.close()
      if (!want.has('overwrite.bin')) want.set('overwrite.bin', ow)
      // appends: onto a file ending mid-stripe, several times
      let ap = pat(S + 1, 31)
      await vol.writeFile(`${base}/append.bin`, ap)
      for (const n of [1, 3000, S, 7]) { const d = pat(n, n & 255); await vol.appendFile(`${base}/append.bin`, d); ap = Buffer.concat([ap, d]) }
      want.set('append.bin', ap)
      // truncates: down into a stripe, up (zeros), down to a stripe boundary, to 0 and regrown
      const tr = pat(5 * S + 300, 41)
      await vol.writeFile(`${base}/trunc.bin`, tr)
      await vol.truncate(`${base}/trunc.bin`, 2 * S + 77)
      await vol.truncate(`${base}/trunc.bin`, 4 * S)
      const trWant = Buffer.alloc(4 * S)
      tr.copy(trWant, 0, 0, 2 * S + 77)
      want.set('trunc.bin', trWant)
      await vol.writeFile(`${base}/trunc2.bin`, pat(3 * S + 5, 42))
      await vol.truncate(`${base}/trunc2.bin`, S)
      want.set('trunc2.bin', pat(3 * S + 5, 42).subarray(0, S))
      await vol.writeFile(`${base}/zero.bin`, pat(2 * S, 43))
      await vol.truncate(`${base}/zero.bin`, 0)
      await vol.truncate(`${base}/zero.bin`, 1000)
      want.set('zero.bin', Buffer.alloc(1000))
      // entries: rename, symlink, mkdir, unlink, xattrs, chmod
      await vol.writeFile(`${base}/a.txt`, 'renamed\n')
      await vol.rename(`${base}/a.txt`, `${base}/b.txt`)
      want.set('b.txt', Buffer.from('renamed\n'))
      await vol.symlink('b.txt', `${base}/link`)
      await vol.mkdir(`${base}/sub/deeper`, { recursive: true })
      await vol.writeFile(`${base}/gone.txt`, 'x')
      await vol.unlink(`${base}/gone.txt`)
      await vol.setxattr(`${base}/b.txt`, 'user.colour', Buffer.from('blue'))
      await vol.chmod(`${base}/b.txt`, 0o640)
      // what we wrote reads back through our own API first
      for (const [name, b] of want) t.equal(sha(await vol.readFile(`${base}/${name}`) as Buffer), sha(b), `${name}: reads back through our API`)
      await vol.close()

      const mnt = await freshMount(cluster, volName)
      const dir = join(mnt, base)
      for (const [name, b] of want) {
        const got = await readFile(join(dir, name))
        t.equal(got.length, b.length, `${name}: FUSE size`)
        t.equal(sha(got), sha(b), `${name}: same bytes through FUSE`)
      }
      t.equal(await readlink(join(dir, 'link')), 'b.txt', 'symlink through FUSE')
      t.ok((await stat(join(dir, 'sub/deeper'))).isDirectory(), 'mkdir -p through FUSE')
      await t.rejects(stat(join(dir, 'gone.txt')), { code: 'ENOENT' }, 'unlinked')
      await t.rejects(stat(join(dir, 'a.txt')), { code: 'ENOENT' }, 'renamed away')
      t.equal((await stat(join(dir, 'b.txt'))).mode & 0o777, 0o640, 'chmod through FUSE')
      await healEmpty(t, cluster, volName)
      // and a FUSE overwrite of our file reads back through a new Volume
      const fh2 = await open(join(dir, 'w65539.bin'), 'r+')
      await fh2.write(pat(1234, 77), 0, 1234, 4000)
      await fh2.close()
      const w = Buffer.from(want.get('w65539.bin')!)
      pat(1234, 77).copy(w, 4000)
      const vol2 = await Volume.connect({ servers, volume: volName })
      t.teardown(() => vol2.close())
      await waitFor('the FUSE client to release its lock', 10_000, async () => sha(await vol2.readFile(`${base}/w65539.bin`) as Buffer) === sha(w)).catch(() => {})
      t.equal(sha(await vol2.readFile(`${base}/w65539.bin`) as Buffer), sha(w), 'a FUSE overwrite of our file reads back through our API')
      await vol2.rm(`/${top}`, { recursive: true, force: true })
      await healEmpty(t, cluster, volName)
    })

    // node 3's bricks: disp21 brick 3, disp42 bricks 3 and 6 (redundancy of each)
    const lost = r === 1 ? [3] : [3, 6]
    // then, after the heal, the bricks of another node, so reads must use the healed fragments
    const other = r === 1 ? [1] : [1, 4]

    t.test(`${volName} (${k}+${r}): ${r} brick(s) killed: our reads stay correct, our writes succeed, the self-heal daemon heals them`, async t => {
      const base = `/${top}/degraded`
      const want = new Map<string, Buffer>()
      const vol0 = await Volume.connect({ servers, volume: volName })
      await vol0.rm(`/${top}`, { recursive: true, force: true })
      await vol0.mkdir(base, { recursive: true })
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
