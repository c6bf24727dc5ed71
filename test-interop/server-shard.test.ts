// The real FUSE client on a sharded volume of OUR server (`gluster-ts-cluster --shard-block-size
// 4MB`, replica 3 and 2 x 3): the volfile carries features/shard as glusterd writes it; files
// written through FUSE (several blocks, an overwrite across a block boundary, a sparse file, a
// truncate) read back identical through FUSE after dropping caches and through our Volume; the
// blocks sit in /.shard on the bricks; a file our Volume writes reads identically through FUSE,
// and removing it leaves no block, whether our Volume removes it or the FUSE client does (its
// background deletion lists /.shard/.remove_me through the directory's anonymous fd).
import t from 'tap'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { Volume } from '@gluster-ts/volume'
import { fuseSkipReason, waitFor, withVolume } from './server-fuse-helpers.js'
import type { ChildCluster } from './server-fuse-helpers.js'
import { pat } from '../test-cluster/pattern.js'

t.setTimeout(600_000)

const MiB = 1 << 20
const BS = 4 * MiB
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
const dropCaches = (): Promise<void> => fs.promises.writeFile('/proc/sys/vm/drop_caches', '3').catch(() => {})

/** Block files of `gfid` under every brick's /.shard. */
function blocks (c: ChildCluster, gfid: string): string[] {
  return c.volume.bricks.flatMap(b => {
    try { return fs.readdirSync(path.join(b.path, '.shard')).filter(n => n.startsWith(`${gfid}.`)) } catch { return [] }
  }).sort()
}

/** Markers `/.shard/.remove_me/<gfid>` on the bricks. */
function markers (c: ChildCluster, gfid: string): number {
  return c.volume.bricks.filter(b => fs.existsSync(path.join(b.path, '.shard', '.remove_me', gfid))).length
}

const reason = fuseSkipReason()
for (const [name, args] of [['replica 3', ['--replica', '3']], ['2 x 3', ['--replica', '3', '--distribute', '2']]] as const) {
  t.test(`${name}, 4 MB shards: the FUSE client reads and writes our sharded volume`, { skip: reason ?? false }, async t => {
    await withVolume(t, [...args, '--volume', 'sh', '--shard-block-size', '4MB'], async (c, mnt) => {
      t.same(c.volume.shard, { blockSize: '4MB' }, 'cluster.json: features.shard on, 4MB')
      const vm = pat(10 * MiB + 123, 3)
      fs.writeFileSync(path.join(mnt, 'vm.img'), vm)
      const fd = fs.openSync(path.join(mnt, 'vm.img'), 'r+')
      fs.writeSync(fd, pat(5000, 9), 0, 5000, BS - 2000)
      fs.closeSync(fd)
      pat(5000, 9).copy(vm, BS - 2000)
      fs.writeFileSync(path.join(mnt, 'sparse.img'), '')
      fs.truncateSync(path.join(mnt, 'sparse.img'), 20 * MiB)
      const sfd = fs.openSync(path.join(mnt, 'sparse.img'), 'r+')
      fs.writeSync(sfd, Buffer.from('tail'), 0, 4, 13 * MiB)
      fs.closeSync(sfd)
      const sparse = Buffer.alloc(20 * MiB)
      sparse.write('tail', 13 * MiB)
      const tr = pat(9 * MiB, 4)
      fs.writeFileSync(path.join(mnt, 'trunc.bin'), tr)
      fs.truncateSync(path.join(mnt, 'trunc.bin'), 5 * MiB + 3)
      await dropCaches()
      t.equal(sha(fs.readFileSync(path.join(mnt, 'vm.img'))), sha(vm), 'FUSE: vm.img reads back')
      t.equal(fs.statSync(path.join(mnt, 'vm.img')).size, vm.length, 'FUSE: whole-file size')
      t.equal(sha(fs.readFileSync(path.join(mnt, 'sparse.img'))), sha(sparse), 'FUSE: sparse.img reads back')
      t.equal(sha(fs.readFileSync(path.join(mnt, 'trunc.bin'))), sha(tr.subarray(0, 5 * MiB + 3)), 'FUSE: truncated file reads back')

      const vol = await Volume.connect({ servers: `${c.host}:${c.port}`, volume: c.volume.name })
      t.teardown(() => vol.close())
      t.equal(sha(await vol.readFile('/vm.img') as Buffer), sha(vm), 'ours: vm.img')
      t.equal(sha(await vol.readFile('/sparse.img') as Buffer), sha(sparse), 'ours: sparse.img')
      t.equal((await vol.stat('/trunc.bin')).size, 5 * MiB + 3, 'ours: the size FUSE left')
      const gfid = (await vol.stat('/vm.img')).gfid
      t.equal(new Set(blocks(c, gfid)).size, 2, 'blocks 1 and 2 of vm.img in /.shard on the bricks')
      for (const b of c.volume.bricks.slice(0, 3)) {
        const base = path.join(b.path, 'vm.img')
        if (fs.existsSync(base)) t.equal(fs.statSync(base).size, BS, 'the base file holds block 0')
      }

      // ours → FUSE
      const mine = pat(9 * MiB + 77, 8)
      await vol.writeFile('/mine.bin', mine)
      await dropCaches()
      t.equal(sha(fs.readFileSync(path.join(mnt, 'mine.bin'))), sha(mine), 'FUSE reads a file our Volume wrote')

      // our Volume removes a file: the marker and its blocks go (our deletion lists .remove_me
      // through OPENDIR + READDIRP)
      const og = (await vol.stat('/mine.bin')).gfid
      await vol.writeFile('/ours.bin', pat(9 * MiB, 6))
      const ours = (await vol.stat('/ours.bin')).gfid
      t.ok(blocks(c, ours).length > 0)
      await vol.unlink('/ours.bin')
      await vol.settled()
      t.same(blocks(c, ours), [], 'no block left of the file our Volume removed')

      // FUSE removes: GlusterFS's background deletion (in the FUSE client, started by its
      // unlink) takes the blocks and the marker; it lists .remove_me with READDIRP on the
      // directory's anonymous fd. Our Volume is closed first so that it cannot do the sweep.
      await vol.close()
      t.ok(blocks(c, og).length > 0, 'mine.bin has blocks before FUSE removes it')
      fs.unlinkSync(path.join(mnt, 'mine.bin'))
      await waitFor('the FUSE client\'s deletion of the blocks', 60_000, () => blocks(c, og).length === 0 && markers(c, og) === 0).catch(() => {})
      t.same(blocks(c, og), [], 'no block left of the file FUSE removed')
      t.equal(markers(c, og), 0, 'and no marker in /.shard/.remove_me')
    }, 'gts-shard-')
  })
}
