// Dispersed volumes on the REAL GlusterFS 10 cluster (test-cluster/real: disp21 = disperse 3
// redundancy 1, one brick per node; disp42 = disperse 6 redundancy 2, two bricks per node).
//
// - Files written by the FUSE client read identically through our API (whole files, ranges
//   across stripe boundaries, streams), with the sizes FUSE reports.
// - Files written through our API (sizes around the chunk and stripe boundaries, unaligned
//   overwrites, appends, truncates down and up, renames, symlinks, xattrs) read identically
//   through a fresh FUSE mount, and heal info is empty afterwards (our pre-op/post-op
//   xattrops leave no dirty mark and equal versions on every brick).
// Bricks killed and frozen: volume-disperse-faults.test.ts.
import t from 'tap'
import { createHash } from 'node:crypto'
import { readFile, writeFile, rm, stat, open, mkdir, readlink } from 'node:fs/promises'
import { join } from 'node:path'
import { Volume } from '@gluster-ts/volume'
import { DISPERSE_VOLUMES, connectEmpty, freshMount, healEmpty } from './real-helpers.js'
import { waitFor } from './server-fuse-helpers.js'
import { loadRealCluster } from '../test-cluster/real/index.js'
import { pat } from '../test-cluster/pattern.js'

const cluster = loadRealCluster()
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

if ('skip' in cluster) {
  t.test('dispersed volumes against the real cluster', { skip: `real cluster not available: ${cluster.skip}` }, async () => {})
} else {
  const servers = cluster.nodes.map(n => n.ip)

  t.teardown(async () => { for (const v of DISPERSE_VOLUMES) await cluster.umount(v.name).catch(() => {}) })

  for (const { name: volName, k, r } of DISPERSE_VOLUMES) {
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
      const vol = await connectEmpty(t, cluster, volName, `/${top}`, base)
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
  }
}
