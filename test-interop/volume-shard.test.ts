// Sharded volumes on the REAL GlusterFS 10 cluster (test-cluster/real: shard4m = 2 x 3 with
// features.shard on and 4 MB blocks; virt = replica 3 with `group virt`, default 64 MB blocks).
//
// - Files written by the FUSE client (several blocks, an overwrite across a block boundary, a
//   sparse file) read identically through our API, with the sizes FUSE reports; reading the
//   sparse file through FUSE makes GlusterFS fill its holes with empty block files (we make none).
// - Files written through our API (several blocks, an overwrite across a block boundary,
//   truncate down, up and to an exact block multiple, unlink, rename over a sharded file) read
//   identically through a fresh FUSE mount; no block is left of removed files once the
//   background deletion (ours, and GlusterFS's own for a file FUSE removes) has run; heal info is
//   empty afterwards.
// - GlusterFS 10.3's truncate to an exact multiple of the block size, reproduced through FUSE:
//   the last remaining block is cut to 0 bytes; ours keeps its bytes.
// - At the end, once a fresh mount's deletion thread has run: no block on any brick whose base
//   file is gone, `.remove_me` empty, heal info empty.
import t from 'tap'
import { createHash } from 'node:crypto'
import { readFile, writeFile, truncate, rm, readdir, stat, open, unlink, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Volume } from '@gluster-ts/volume'
import { dropCaches, healEmpty } from './real-helpers.js'
import { loadRealCluster, type RealCluster } from '../test-cluster/real/index.js'
import { pat } from '../test-cluster/pattern.js'

const cluster = loadRealCluster()
const MiB = 1 << 20
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

/** The block files of `gfid` on every brick of `vol`: brick index → sorted names. */
async function blocksOnBricks (c: RealCluster, vol: string, gfid: string): Promise<string[][]> {
  return await Promise.all(c.volume(vol).bricks.map(async b => (await readdir(join(b.path, '.shard')).catch(() => [] as string[])).filter(n => n.startsWith(`${gfid}.`)).sort()))
}

/**
 * Blocks in `/.shard` of any brick of `vol` whose base file exists on no brick (its gfid has no
 * `.glusterfs/xx/yy/<gfid>` link anywhere), and markers still in `/.shard/.remove_me`.
 */
async function leftovers (c: RealCluster, vol: string): Promise<{ orphans: string[], markers: string[] }> {
  const bricks = c.volume(vol).bricks
  const orphans: string[] = []
  const markers: string[] = []
  const live = new Map<string, boolean>()
  for (const b of bricks) {
    for (const n of await readdir(join(b.path, '.shard')).catch(() => [] as string[])) {
      const m = /^([0-9a-f-]{36})\.\d+$/.exec(n)
      if (m === null) continue
      const g = m[1]!
      if (!live.has(g)) {
        const found = await Promise.all(bricks.map(async o => stat(join(o.path, '.glusterfs', g.slice(0, 2), g.slice(2, 4), g)).then(() => true, () => false)))
        live.set(g, found.some(x => x))
      }
      if (live.get(g) === false) orphans.push(`brick ${b.n}: ${n}`)
    }
    for (const n of await readdir(join(b.path, '.shard', '.remove_me')).catch(() => [] as string[])) markers.push(`brick ${b.n}: ${n}`)
  }
  return { orphans, markers }
}

async function waitFor (what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 1000))
  }
}

if ('skip' in cluster) {
  t.test('sharded volumes against the real cluster', { skip: `real cluster not available: ${cluster.skip}` }, async () => {})
} else {
  const servers = cluster.nodes.map(n => n.ip)

  for (const [volName, bs] of [['shard4m', 4 * MiB], ['virt', 64 * MiB]] as const) {
    const top = `gts-shard-${process.pid}`

    t.test(`${volName} (${bs / MiB} MiB blocks): files written by FUSE read identically through our API`, async t => {
      const mnt = await cluster.mount(volName)
      const dir = join(mnt, top, 'fuse')
      await rm(join(mnt, top), { recursive: true, force: true })
      await mkdir(dir, { recursive: true })
      t.teardown(() => rm(join(mnt, top), { recursive: true, force: true }))
      // three blocks and a tail, then 5000 bytes across the boundary of blocks 0 and 1
      const big = pat(2 * bs + 123, 3)
      await writeFile(join(dir, 'vm.img'), big)
      const fh = await open(join(dir, 'vm.img'), 'r+')
      await fh.write(pat(5000, 9), 0, 5000, bs - 2000)
      await fh.close()
      pat(5000, 9).copy(big, bs - 2000)
      // sparse: truncate up to 4 blocks, 4 bytes inside block 2
      await writeFile(join(dir, 'sparse.img'), '')
      await truncate(join(dir, 'sparse.img'), 4 * bs)
      const sh = await open(join(dir, 'sparse.img'), 'r+')
      await sh.write(Buffer.from('tail'), 0, 4, 2 * bs + MiB)
      await sh.close()
      const sparse = Buffer.alloc(4 * bs)
      sparse.write('tail', 2 * bs + MiB)
      await writeFile(join(dir, 'small.txt'), 'hello shard\n')

      const vol = await Volume.connect({ servers, volume: volName })
      t.teardown(() => vol.close())
      for (const [name, want] of [['vm.img', big], ['sparse.img', sparse], ['small.txt', Buffer.from('hello shard\n')]] as const) {
        const got = await vol.readFile(`/${top}/fuse/${name}`) as Buffer
        t.equal(got.length, want.length, `${name}: size`)
        t.equal(sha(got), sha(want), `${name}: same bytes through our API`)
        t.equal((await vol.stat(`/${top}/fuse/${name}`)).size, (await stat(join(dir, name))).size, `${name}: stat size as FUSE reports it`)
      }
      const ents = await vol.readdir(`/${top}/fuse`, { withFileTypes: true, stats: true })
      t.same(Object.fromEntries(ents.map(e => [e.name, e.stats?.size])), { 'vm.img': big.length, 'sparse.img': sparse.length, 'small.txt': 12 }, 'readdir: whole-file sizes')
      const ranged: Buffer[] = []
      for await (const c of vol.createReadStream(`/${top}/fuse/vm.img`, { start: bs - 3000, end: bs + 3000 })) ranged.push(c as Buffer)
      t.ok(Buffer.concat(ranged).equals(big.subarray(bs - 3000, bs + 3001)), 'a ranged stream across the block boundary')

      const gfid = (await vol.stat(`/${top}/fuse/sparse.img`)).gfid
      const before = (await blocksOnBricks(cluster, volName, gfid)).flat().length
      t.equal(before, 3, 'sparse.img: only block 2 exists (on each of 3 bricks)')
      await vol.readFile(`/${top}/fuse/sparse.img`)
      t.equal((await blocksOnBricks(cluster, volName, gfid)).flat().length, before, 'our read of its holes made no block file')
      // GlusterFS's client MKNODs every missing block it reads (shard.c, shard_readv → mknod of holes)
      await dropCaches()
      t.equal(sha(await readFile(join(dir, 'sparse.img'))), sha(sparse), 'FUSE reads the sparse file too')
      const after = (await blocksOnBricks(cluster, volName, gfid)).flat().length
      t.comment(`FUSE's read of sparse.img left ${after / 3} block files (we found ${before / 3}): GlusterFS fills holes with empty blocks when it reads them`)
      t.ok(after > before, 'the real client filled the holes it read with empty block files')
      t.equal(sha(await vol.readFile(`/${top}/fuse/sparse.img`) as Buffer), sha(sparse), 'and the file still reads the same through our API')
    })

    t.test(`${volName} (${bs / MiB} MiB blocks): files written through our API read identically through a fresh FUSE mount`, async t => {
      const vol = await Volume.connect({ servers, volume: volName })
      t.teardown(() => vol.close())
      const base = `/${top}/ours`
      await vol.rm(`/${top}`, { recursive: true, force: true })
      await vol.mkdir(base, { recursive: true })
      const want = new Map<string, Buffer>()
      // several blocks, and an overwrite across a block boundary
      const many = pat(2 * bs + 100_000, 11)
      await vol.writeFile(`${base}/many.bin`, many)
      const fh = await vol.open(`${base}/many.bin`, 'r+')
      await fh.write(pat(70000, 12), 0, 70000, 2 * bs - 30000)
      await fh.close()
      pat(70000, 12).copy(many, 2 * bs - 30000)
      want.set('many.bin', many)
      // truncate down (inside a block), then up (a hole)
      const tr = pat(bs + 500, 13)
      await vol.writeFile(`${base}/trunc.bin`, tr)
      await vol.truncate(`${base}/trunc.bin`, bs / 2 + 777)
      await vol.truncate(`${base}/trunc.bin`, 2 * bs)
      const trWant = Buffer.alloc(2 * bs)
      tr.copy(trWant, 0, 0, bs / 2 + 777)
      want.set('trunc.bin', trWant)
      // truncate to exactly one block: the block's bytes stay (GlusterFS 10.3 would zero them)
      const ex = pat(bs + 10, 14)
      await vol.writeFile(`${base}/exact.bin`, ex)
      await vol.truncate(`${base}/exact.bin`, bs)
      want.set('exact.bin', ex.subarray(0, bs))
      // rename over a sharded file, unlink another
      await vol.writeFile(`${base}/victim.bin`, pat(bs + 1, 15))
      await vol.writeFile(`${base}/mover.bin`, pat(bs + 5, 16))
      const victim = (await vol.stat(`${base}/victim.bin`)).gfid
      await vol.rename(`${base}/mover.bin`, `${base}/victim.bin`)
      want.set('victim.bin', pat(bs + 5, 16))
      await vol.writeFile(`${base}/gone.bin`, pat(bs + 1, 17))
      const gone = (await vol.stat(`${base}/gone.bin`)).gfid
      await vol.unlink(`${base}/gone.bin`)
      await vol.settled()

      await cluster.umount(volName)
      await dropCaches()
      const mnt = await cluster.mount(volName)
      const dir = join(mnt, base)
      t.same((await readdir(dir)).sort(), [...want.keys()].sort(), 'FUSE lists what we left')
      for (const [name, w] of want) {
        const st = await stat(join(dir, name))
        t.equal(st.size, w.length, `${name}: FUSE size`)
        t.equal(sha(await readFile(join(dir, name))), sha(w), `${name}: FUSE reads our bytes`)
        t.equal((await vol.stat(`${base}/${name}`)).size, st.size, `${name}: our stat agrees`)
      }
      t.same((await blocksOnBricks(cluster, volName, victim)).flat(), [], 'the renamed-over file left no block')
      t.same((await blocksOnBricks(cluster, volName, gone)).flat(), [], 'the unlinked file left no block')
      for (const b of cluster.volume(volName).bricks) {
        const markers = await readdir(join(b.path, '.shard', '.remove_me')).catch(() => [] as string[])
        t.notOk(markers.includes(victim) || markers.includes(gone), `brick ${b.n}: no marker of ours left in .remove_me`)
      }

      // a file of ours removed by FUSE: GlusterFS's own background deletion removes its blocks
      await vol.writeFile(`${base}/by-fuse.bin`, pat(bs + 1, 18))
      const byFuse = (await vol.stat(`${base}/by-fuse.bin`)).gfid
      t.equal((await blocksOnBricks(cluster, volName, byFuse)).flat().length > 0, true, 'our file has blocks')
      await unlink(join(dir, 'by-fuse.bin'))
      await waitFor('GlusterFS\'s deletion of by-fuse.bin\'s blocks', 60_000, async () => (await blocksOnBricks(cluster, volName, byFuse)).flat().length === 0)
      t.pass('GlusterFS deleted every block of a file we wrote')

      // a file we remove with our own deletion off: our marker alone, and GlusterFS's client
      // (its deletion thread starts at the first file LOOKUP a fresh mount answers) finishes it
      const lazy = await Volume.connect({ servers, volume: volName, shardDeletion: false })
      t.teardown(() => lazy.close())
      await lazy.writeFile(`${base}/marker.bin`, pat(2 * bs + 9, 19))
      const mg = (await lazy.stat(`${base}/marker.bin`)).gfid
      await lazy.unlink(`${base}/marker.bin`)
      await lazy.close()
      const markers = async (): Promise<number> => (await Promise.all(cluster.volume(volName).bricks.map(async b =>
        (await readdir(join(b.path, '.shard', '.remove_me')).catch(() => [] as string[])).filter(n => n === mg).length))).reduce((a, b) => a + b, 0)
      t.equal(await markers(), 3, 'our marker is in .remove_me (on one replica set)')
      t.equal((await blocksOnBricks(cluster, volName, mg)).flat().length, 6, 'its 2 blocks are still there')
      await cluster.umount(volName)
      const fresh = await cluster.mount(volName)
      await stat(join(fresh, base, 'many.bin'))
      await waitFor('GlusterFS\'s deletion of the blocks our marker names', 120_000, async () => (await blocksOnBricks(cluster, volName, mg)).flat().length === 0 && await markers() === 0)
      t.pass('GlusterFS\'s client deleted the blocks of our marker, and the marker')
      await healEmpty(t, cluster, volName)
    })

    t.test(`${volName}: truncate to an exact block multiple, GlusterFS 10.3 through FUSE vs ours`, async t => {
      const mnt = await cluster.mount(volName)
      const dir = join(mnt, top, 'exact')
      await mkdir(dir, { recursive: true })
      t.teardown(() => rm(join(mnt, top), { recursive: true, force: true }))
      const data = pat(bs + 1000, 21)
      await writeFile(join(dir, 'fuse.bin'), data)
      await truncate(join(dir, 'fuse.bin'), bs)
      await dropCaches()
      const got = await readFile(join(dir, 'fuse.bin'))
      t.equal(got.length, bs, 'FUSE: the size is right')
      const zeros = got.every(x => x === 0)
      t.comment(`GlusterFS 10.3 through FUSE: after truncate -s ${bs} of a ${data.length}-byte file, the first ${bs} bytes read back ${zeros ? 'as zeros (block 0 cut to 0 bytes on every brick)' : 'intact'}`)
      t.ok(zeros, 'GlusterFS 10.3 loses the last block on a truncate to an exact block multiple (the bug we do not copy)')
      const vol = await Volume.connect({ servers, volume: volName })
      t.teardown(() => vol.close())
      await vol.writeFile(`/${top}/exact/ours.bin`, data)
      await vol.truncate(`/${top}/exact/ours.bin`, bs)
      await dropCaches()
      t.equal(sha(await readFile(join(dir, 'ours.bin'))), sha(data.subarray(0, bs)), 'ours: FUSE reads the first block intact')
      await rm(join(mnt, top), { recursive: true, force: true })
      await healEmpty(t, cluster, volName)
    })

    t.test(`${volName}: once GlusterFS's background deletion has run, no block belongs to no file and heal info is empty`, async t => {
      // the tests above removed their trees through FUSE (rm -r) and through our Volume; a fresh
      // mount's deletion thread, started by the first LOOKUP of a file it answers, finishes
      // whatever a mount that went away left in .remove_me. The file looked up is ours and we
      // remove it ourselves: a file FUSE itself had just written and removed can still be open
      // on the bricks when the deletion looks its gfid up (posix finds open-unlinked files), so
      // GlusterFS skips its marker until the thread's next round, 10 minutes later.
      const vol = await Volume.connect({ servers, volume: volName })
      t.teardown(() => vol.close())
      await vol.writeFile(`/${top}-probe`, 'x')
      await cluster.umount(volName)
      const mnt = await cluster.mount(volName)
      await stat(join(mnt, `${top}-probe`))
      await vol.unlink(`/${top}-probe`)
      await vol.settled()
      let last = { orphans: [] as string[], markers: [] as string[] }
      await waitFor(`${volName}: no orphan block, .remove_me empty`, 180_000, async () => {
        last = await leftovers(cluster, volName)
        return last.orphans.length === 0 && last.markers.length === 0
      }).catch(() => {})
      t.same(last.orphans, [], 'no block in /.shard whose base file is gone')
      t.same(last.markers, [], '/.shard/.remove_me is empty on every brick')
      await healEmpty(t, cluster, volName)
    })
  }
}
