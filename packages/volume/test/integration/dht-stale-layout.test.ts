// DHT with a parent whose layout, as the client holds it, does not cover the hash ring
// (distribute.ts #current; gluster-cluster.md §5.3).
//
// 1. A stale inode. A fresh volume's root on our server has no layout until the first name is
//    placed in it (#placeable writes one); the resolver keeps the root it looked up before that
//    for its entry timeout. CI saw the cleanup `rm('/top', { recursive: true })` of
//    write-loopback's 2 x 3 test fail with EIO "the layout of the parent of '/top' has holes"
//    whenever mkdir and rm fell within one entry timeout. Each fop below is the first to use
//    that stale root after the layout was written; a long entry timeout makes it certain.
// 2. Real holes. DHT removes a directory from every subvolume when the parent's layout gives no
//    hashed subvolume, and an unlink stands without the linkto clean-up (dht-common.c:
//    dht_rmdir_do, dht_unlink_cbk); only placing a new name needs a hashed subvolume.
import t from 'tap'
import type { Test } from 'tap'
import { lstat } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOT_GFID, gfxBin, gfxDictBin, gfxStr, gfxUint } from '@gluster-ts/rpc'
import { startCluster } from '../../../../test-cluster/ts-cluster.js'
import { Volume } from '../../src/index.js'
import { DHT_XATTR, DistributeLayer, decodeLayoutXattr, encodeLayoutXattr, hashedSubvol, newGfid, type Inode, type Layout } from '../../src/internals.js'

type Cluster = Awaited<ReturnType<typeof startCluster>>
const noRegex = { rsyncRegex: null, extraRegex: null }
const exists = (p: string): Promise<boolean> => lstat(p).then(() => true, () => false)

/** A 2-subvolume distribute volume (one brick each) and a client that keeps directories a minute. */
async function setup (t: Test): Promise<{ c: Cluster, vol: Volume, bricks: string[] }> {
  const c = await startCluster({ dir: t.testdir(), replica: 1, distribute: 2, port: 0 })
  t.teardown(() => c.close())
  const vol = await Volume.connect({ servers: c.volfileServer, volume: c.volume.name, entryTimeoutMs: 60_000 })
  t.teardown(() => vol.close())
  return { c, vol, bricks: c.volume.bricks.map(b => b.path) }
}

/** The merged layout of a directory as a new client sees it. */
async function layoutOf (c: Cluster, path: string): Promise<Layout> {
  const v = await Volume.connect({ servers: c.volfileServer, volume: c.volume.name })
  try {
    const r = await (v as unknown as { _resolve: (p: string, o: { follow: boolean }) => Promise<{ inode: { layout?: Layout } }> })._resolve(path, { follow: true })
    return r.inode.layout!
  } finally { await v.close() }
}

t.test('the first fops in a fresh root after its layout was written, with the root cached from before', async t => {
  t.test('rmdir', async t => {
    const { vol, bricks } = await setup(t)
    await vol.mkdir('/top')
    await vol.writeFile('/top/a', 'a')
    await vol.rm('/top', { recursive: true })
    for (const [i, b] of bricks.entries()) t.notOk(await exists(join(b, 'top')), `brick ${i}: /top removed`)
    t.same(await vol.readdir('/'), [])
  })

  t.test('rename', async t => {
    const { c, vol } = await setup(t)
    await vol.writeFile('/x', 'x')
    // a target name on the other subvolume than the source: the rename needs both hashes
    const layout = await layoutOf(c, '/')
    t.ok(layout.complete, 'the first create gave the root a layout')
    const sx = hashedSubvol(layout, 'x', noRegex)
    let target = 'y0'
    for (let i = 0; hashedSubvol(layout, target, noRegex) === sx; i++) target = `y${i}`
    await vol.rename('/x', `/${target}`)
    t.equal((await vol.readFile(`/${target}`)).toString(), 'x')
    t.same(await vol.readdir('/'), [target], 'one name listed (the linkto hidden)')
  })

  t.test('link', async t => {
    const { vol } = await setup(t)
    await vol.writeFile('/x', 'x')
    await vol.link('/x', '/x2')
    t.equal((await vol.stat('/x2')).nlink, 2)
    t.same((await vol.readdir('/')).sort(), ['x', 'x2'])
  })

  t.test('unlink of a renamed file (its linkto goes too)', async t => {
    const { c, vol, bricks } = await setup(t)
    await vol.stat('/') // `vol` caches the root before it has a layout
    // placed and renamed by another client, so that `vol`'s first fop in the root is the unlink
    const other = await Volume.connect({ servers: c.volfileServer, volume: c.volume.name, entryTimeoutMs: 0 })
    t.teardown(() => other.close())
    await other.writeFile('/x', 'x')
    const layout = await layoutOf(c, '/')
    const sx = hashedSubvol(layout, 'x', noRegex)
    let target = 'y0'
    for (let i = 0; hashedSubvol(layout, target, noRegex) === sx; i++) target = `y${i}`
    await other.rename('/x', `/${target}`)
    await vol.unlink(`/${target}`)
    for (const [i, b] of bricks.entries()) t.notOk(await exists(join(b, target)), `brick ${i}: neither data nor linkto left`)
  })
})

t.test('an entry lock on a name in a root looked up before its layout was written', async t => {
  const { c, vol } = await setup(t)
  const root = (await (vol as unknown as { _resolve: (p: string, o: { follow: boolean }) => Promise<{ inode: Inode & { layout?: Layout } }> })._resolve('/', { follow: true })).inode
  t.notOk(root.layout?.complete, 'the root had no layout then')
  const other = await Volume.connect({ servers: c.volfileServer, volume: c.volume.name })
  t.teardown(() => other.close())
  await other.writeFile('/x', 'x') // gives the root its layout
  const release = await root.layer.lock({ kind: 'entry', parent: root, name: 'x' }, 'gluster-ts.test', { path: '/x' })
  await release()
  t.pass('locked and released on the hashed subvolume')
})

t.test('a parent whose layout has a hole: rmdir and unlink go through, placing a name fails EIO', async t => {
  const { c, vol, bricks } = await setup(t)
  await vol.mkdir('/d/e', { recursive: true })
  await vol.writeFile('/d/f', 'f')
  // give /d's copy on subvolume 1 a zero-width range (holds no names): half the ring uncovered
  const top = (await (vol as unknown as { _resolve: (p: string, o: { follow: boolean }) => Promise<{ inode: { layer: unknown } }> })._resolve('/', { follow: true })).inode.layer
  t.ok(top instanceof DistributeLayer)
  const sub = (top as DistributeLayer).children[1]!
  const d1 = await sub.lookup(await sub.lookupGfid(ROOT_GFID), 'd', { xdata: { [DHT_XATTR]: gfxUint(16) } })
  t.ok(decodeLayoutXattr(gfxDictBin(d1.xdata, DHT_XATTR), 1) !== undefined, 'subvolume 1 had its range')
  await sub.setxattr(d1, new Map([[DHT_XATTR, gfxBin(encodeLayoutXattr({ commitHash: 0, start: 0, stop: 0 }))]]), 0,
    { xdata: { 'glusterfs-internal-fop': gfxStr('yes') } })
  t.notOk((await layoutOf(c, '/d')).complete, '/d has a hole now')

  const fresh = await Volume.connect({ servers: c.volfileServer, volume: c.volume.name })
  t.teardown(() => fresh.close())
  await t.rejects(fresh.writeFile('/d/new', 'n'), { code: 'EIO' }, 'no hashed subvolume for a new name')
  await fresh.unlink('/d/f')
  await fresh.rmdir('/d/e')
  for (const [i, b] of bricks.entries()) {
    t.notOk(await exists(join(b, 'd', 'f')), `brick ${i}: /d/f removed`)
    t.notOk(await exists(join(b, 'd', 'e')), `brick ${i}: /d/e removed`)
  }
  await fresh.rmdir('/d')
  t.same(await fresh.readdir('/'), [])
})

t.test('the inode mkdir returns carries the layout it wrote (the MKDIR replies predate it)', async t => {
  const { c, vol } = await setup(t)
  await vol.mkdir('/p')
  const top = (await (vol as unknown as { _resolve: (p: string, o: { follow: boolean }) => Promise<{ inode: Inode }> })._resolve('/p', { follow: true })).inode
  const made = await top.layer.mkdir(top, 'q', { path: '/p/q', mode: 0o40755, gfid: newGfid() }) as Inode & { layout?: Layout }
  t.same(made.layout, await layoutOf(c, '/p/q'), 'the layout a fresh lookup finds')
  t.ok(made.layout?.complete)
})
