import t from 'tap'
import path from 'node:path'
import fs from 'node:fs'
import os from 'node:os'
import {
  RpcClient, FopProgram, HandshakeProgram, CallbackProgram, getSpec, dump, isGlusterd, servesFopV400, portByBrick, setVolume,
  getVolumeId, glusterfsV3Cred, gfxDict, gfxUuid, gfxUint, gfxInt, gfxBin, gfxDictUint, ROOT_GFID, GF_ANON_FD, flatDict,
} from '@gluster-ts/rpc'
import type { GfxDict } from '@gluster-ts/rpc'
import { startCluster, newGfid } from '@gluster-ts/server'
import type { Cluster } from '@gluster-ts/server'

const NULL16 = Buffer.alloc(16)
let sockSeq = 0
const sockets = new Map<Cluster, string>()

async function cluster (t: import('tap').Test, o: { replica?: number } = {}): Promise<Cluster> {
  // unix socket paths are limited to 107 bytes: keep this one short
  const sock = path.join(os.tmpdir(), `gts-${process.pid}-${++sockSeq}.sock`)
  const c = await startCluster({ dir: t.testdir(), replica: o.replica ?? 3, port: 0, unixSocket: sock })
  sockets.set(c, sock)
  t.teardown(() => c.close())
  return c
}

async function connect (t: import('tap').Test, address: string): Promise<RpcClient> {
  const client = await RpcClient.connect(address, { cred: glusterfsV3Cred({ pid: 4242 }) })
  t.teardown(() => { client.destroy() })
  return client
}

/** A client attached (SETVOLUME) to brick `i`, found through glusterd's portmapper. */
async function attach (t: import('tap').Test, c: Cluster, i: number): Promise<RpcClient> {
  const mgmt = await connect(t, c.volfileServer)
  const port = await portByBrick(mgmt, c.volume.bricks[i]!.path)
  mgmt.destroy()
  const client = await connect(t, `127.0.0.1:${port}`)
  t.ok(servesFopV400(await dump(client)))
  await setVolume(client, { remoteSubvolume: c.volume.bricks[i]!.path, volfileKey: c.volume.name, clientName: `${c.volume.name}-client-${i}` })
  return client
}

t.test('glusterd: DUMP lists the portmapper, GETSPEC serves the volfile, PORTBYBRICK, GET_VOLUME_INFO', async t => {
  const c = await cluster(t)
  const mgmt = await connect(t, c.volfileServer)
  t.ok(isGlusterd(await dump(mgmt)))
  for (const key of ['vol1', '/vol1']) {
    const { spec } = await getSpec(mgmt, key)
    t.match(spec, /^volume vol1-client-0\n    type protocol\/client\n/)
    t.match(spec, /option remote-subvolume .*\/b2\n/)
    t.match(spec, new RegExp(`option remote-port ${c.port}\\n`))
    t.match(spec, /volume vol1-replicate-0\n    type cluster\/replicate\n/)
    t.match(spec, /option afr-pending-xattr vol1-client-0,vol1-client-1,vol1-client-2\n/)
    t.match(spec, /volume vol1\n    type debug\/io-stats\n[^]*subvolumes vol1-md-cache\nend-volume\n$/)
  }
  await t.rejects(getSpec(mgmt, 'nope'), { name: 'GlusterError', errno: 2 })
  t.equal(await portByBrick(mgmt, c.volume.bricks[1]!.path), c.bricks[1]!.port)
  await t.rejects(portByBrick(mgmt, '/no/such/brick'), { code: 'ENOENT' })
  t.equal(await getVolumeId(mgmt, 'vol1'), c.volume.id)
  const unix = await connect(t, `unix:${sockets.get(c)!}`)
  t.match((await getSpec(unix, 'vol1')).spec, /vol1-replicate-0/, 'also over the unix socket')
})

t.test('glusterd: FETCHSPEC goes to clients that fetched the volfile when the volume changes', async t => {
  const c = await cluster(t)
  const mgmt = await connect(t, c.volfileServer)
  await getSpec(mgmt, 'vol1')
  const got = new Promise<void>(resolve => { mgmt.onCall(CallbackProgram, { FETCHSPEC: () => { resolve() } }) })
  c.glusterd.setVolumeOption('vol1', 'ping-timeout', '10')
  await got
  t.match((await getSpec(mgmt, 'vol1')).spec, /option ping-timeout 10\n/)
})

t.test('brick: DUMP has no portmapper; fops before SETVOLUME are GARBAGE_ARGS; SETVOLUME checks its keys', async t => {
  const c = await cluster(t)
  const client = await connect(t, `127.0.0.1:${c.bricks[0]!.port}`)
  const progs = await dump(client)
  t.notOk(isGlusterd(progs))
  t.ok(servesFopV400(progs))
  await t.rejects(client.call(FopProgram.procs.STAT, { gfid: ROOT_GFID, xdata: null }), { code: 'EGLUSTER_GARBAGE_ARGS' })
  await t.rejects(setVolume(client, { remoteSubvolume: '/elsewhere', volfileKey: 'vol1' }), { name: 'GlusterError', errno: 2 })
  await t.rejects(setVolume(client, { remoteSubvolume: c.volume.bricks[0]!.path, volfileKey: 'vol1', volumeId: '00000000-0000-0000-0000-0000000000ff' }), { name: 'GlusterError', errno: 22 })
  const r = await client.call(HandshakeProgram.procs.SETVOLUME, { dict: flatDict({ 'remote-subvolume': c.volume.bricks[0]!.path }) })
  t.equal(r.op_ret, -1, 'no process-uuid')
  const ok = await setVolume(client, { remoteSubvolume: c.volume.bricks[0]!.path, volfileKey: 'vol1' })
  t.equal(ok.volumeId, c.volume.id)
  t.ok(ok.childUp)
  const st = await client.call(FopProgram.procs.STAT, { gfid: ROOT_GFID, xdata: null })
  t.equal(st.op_ret, 0)
  t.equal(st.stat.ia_ino, 1n)
})

t.test('brick: LOOKUP root, CREATE/WRITE/READ round trip, xattrs, XATTROP, readdirp, rename, unlink', async t => {
  const c = await cluster(t, { replica: 1 })
  const b = await attach(t, c, 0)
  const root = await b.call(FopProgram.procs.LOOKUP, {
    gfid: ROOT_GFID, pargfid: NULL16, flags: 0, bname: '',
    xdata: gfxDict({ 'glusterfs.inodelk-count': gfxUint(0), 'trusted.glusterfs.mdata': gfxInt(1), 'list-xattr': gfxInt(1) }),
  })
  t.equal(root.op_ret, 0)
  t.equal(root.prestat.mode, 0o40755)
  t.equal(root.prestat.ia_flags, 0x17ffn)
  t.equal(root.xdata?.get('trusted.glusterfs.mdata')?.type, 6)
  t.equal((root.xdata?.get('trusted.glusterfs.mdata')?.value as Buffer).length, 57)

  const gfid = newGfid()
  const cr = await b.call(FopProgram.procs.CREATE, {
    pargfid: ROOT_GFID, flags: 0o2 | 0o100 | 0o200, mode: 0o100644, umask: 0o022, bname: 'hello.txt', xdata: gfxDict({ 'gfid-req': gfxUuid(gfid) }),
  })
  t.equal(cr.op_ret, 0)
  t.same(cr.stat.ia_gfid, gfid)
  const data = Buffer.from('hello, brick\n'.repeat(1000))
  const wr = await b.call(FopProgram.procs.WRITE, { gfid, fd: cr.fd, offset: 0n, size: data.length, flag: 0, xdata: null, data })
  t.equal(wr.op_ret, data.length)
  t.equal(wr.poststat.ia_size, BigInt(data.length))
  const rd = await b.call(FopProgram.procs.READ, { gfid, fd: GF_ANON_FD, offset: 0n, size: 131072, flag: 0, xdata: null })
  t.equal(rd.op_ret, data.length)
  t.equal(rd.op_errno, 2, 'EOF hint')
  t.ok(rd.data.equals(data))
  const part = await b.call(FopProgram.procs.READ, { gfid, fd: cr.fd, offset: 7n, size: 5, flag: 0, xdata: null })
  t.equal(part.data.toString(), 'brick')
  t.equal(part.op_errno, 0)
  t.equal((await b.call(FopProgram.procs.RELEASE, { gfid, fd: cr.fd, xdata: null })).op_ret, 0)

  const look = await b.call(FopProgram.procs.LOOKUP, { gfid: NULL16, pargfid: ROOT_GFID, flags: 0, bname: 'hello.txt', xdata: gfxDict({ 'glusterfs.content': gfxUint(65536) }) })
  t.same(look.prestat.ia_gfid, gfid)
  t.ok((look.xdata?.get('glusterfs.content')?.value as Buffer).equals(data), 'quick-read content')
  t.equal(look.poststat.ia_ino, 1n, 'postparent is the root')

  const pending = gfxDict({ 'trusted.afr.dirty': gfxBin(Buffer.from('000000010000000000000000', 'hex')), 'trusted.afr.vol1-client-1': gfxBin(Buffer.alloc(12)) })
  let xo = await b.call(FopProgram.procs.XATTROP, { gfid, flags: 0, dict: pending, xdata: null })
  xo = await b.call(FopProgram.procs.XATTROP, { gfid, flags: 0, dict: pending, xdata: null })
  t.same(xo.dict?.get('trusted.afr.dirty')?.value, Buffer.from('000000020000000000000000', 'hex'), 'ADD_ARRAY returns the sum')
  const minus = gfxDict({ 'trusted.afr.dirty': gfxBin(Buffer.from('fffffffe0000000000000000', 'hex')) })
  xo = await b.call(FopProgram.procs.XATTROP, { gfid, flags: 0, dict: minus, xdata: null })
  t.same(xo.dict?.get('trusted.afr.dirty')?.value, Buffer.alloc(12))

  t.equal((await b.call(FopProgram.procs.SETXATTR, { gfid, flags: 0, dict: gfxDict({ 'user.k': Buffer.from('v') }), xdata: null })).op_ret, 0)
  const gx = await b.call(FopProgram.procs.GETXATTR, { gfid, namelen: 1, name: 'user.k', xdata: null })
  t.equal(gx.op_ret, 1)
  t.same(gx.dict?.get('user.k')?.value, Buffer.from('v'))
  t.equal((await b.call(FopProgram.procs.GETXATTR, { gfid, namelen: 1, name: 'user.none', xdata: null })).op_errno, 61)
  const pi = await b.call(FopProgram.procs.GETXATTR, { gfid: ROOT_GFID, namelen: 1, name: 'trusted.glusterfs.pathinfo', xdata: null })
  t.match(pi.dict?.get('trusted.glusterfs.pathinfo')?.value, /^<POSIX\(.*\/b0\):.+:.*\/b0\/>$/)

  const dgfid = newGfid()
  const md = await b.call(FopProgram.procs.MKDIR, { pargfid: ROOT_GFID, mode: 0o755, umask: 0, bname: 'd', xdata: gfxDict({ 'gfid-req': gfxUuid(dgfid), 'trusted.glusterfs.dht': Buffer.from('000000000000000000000000ffffffff', 'hex') }) })
  t.equal(md.op_ret, 0)
  t.equal(md.stat.mode, 0o40755)
  t.same((await b.call(FopProgram.procs.GETXATTR, { gfid: dgfid, namelen: 1, name: 'trusted.glusterfs.dht', xdata: null })).dict?.get('trusted.glusterfs.dht')?.value,
    Buffer.from('000000000000000000000000ffffffff', 'hex'), 'entry-creation xdata is stored as xattrs')
  t.equal((await b.call(FopProgram.procs.MKDIR, { pargfid: ROOT_GFID, mode: 0o755, umask: 0, bname: 'e', xdata: null })).op_errno, 22, 'MKDIR needs gfid-req')
  const mv = await b.call(FopProgram.procs.RENAME, { oldgfid: ROOT_GFID, newgfid: dgfid, oldbname: 'hello.txt', newbname: 'moved.txt', xdata: null })
  t.equal(mv.op_ret, 0)

  const od = await b.call(FopProgram.procs.OPENDIR, { gfid: ROOT_GFID, xdata: null })
  const rdp = await b.call(FopProgram.procs.READDIRP, { gfid: ROOT_GFID, fd: od.fd, offset: 0n, size: 4096, xdata: null })
  t.same(rdp.reply.map(e => e.name), ['.', '..', 'd'], 'the sidecar directory is hidden')
  t.equal(rdp.op_errno, 2)
  t.same(rdp.reply.find(e => e.name === 'd')?.stat.ia_gfid, dgfid)
  const more = await b.call(FopProgram.procs.READDIRP, { gfid: ROOT_GFID, fd: od.fd, offset: rdp.reply.at(-1)!.d_off, size: 4096, xdata: null })
  t.equal(more.op_ret, 0)
  await b.call(FopProgram.procs.RELEASEDIR, { gfid: ROOT_GFID, fd: od.fd, xdata: null })

  const un = await b.call(FopProgram.procs.UNLINK, { pargfid: dgfid, bname: 'moved.txt', xflags: 0, xdata: null })
  t.equal(un.op_ret, 0)
  t.equal((await b.call(FopProgram.procs.STAT, { gfid, xdata: null })).op_errno, 116, 'gone: ESTALE')
  t.equal((await b.call(FopProgram.procs.RMDIR, { pargfid: ROOT_GFID, xflags: 0, bname: 'd', xdata: null })).op_ret, 0)
  t.equal((await b.call(FopProgram.procs.LEASE, { gfid: ROOT_GFID, lease: { cmd: 1, lease_type: 1, lease_id: NULL16, lease_flags: 0 }, xdata: null })).op_errno, 38, 'ENOSYS')
})

t.test('brick: nothing a client sends reaches outside the brick directory', async t => {
  const c = await cluster(t, { replica: 1 })
  const b = await attach(t, c, 0)
  const outside = path.join(path.dirname(c.volume.bricks[0]!.path), 'outside')
  fs.writeFileSync(outside, 'secret')
  const req = (): GfxDict => gfxDict({ 'gfid-req': gfxUuid(newGfid()) })
  for (const bname of ['..', '../outside', 'a/b', '.', '.glusterfs-ts']) {
    const r = await b.call(FopProgram.procs.LOOKUP, { gfid: NULL16, pargfid: ROOT_GFID, flags: 0, bname, xdata: null })
    t.equal(r.op_ret, -1, `LOOKUP ${bname}`)
    const cr = await b.call(FopProgram.procs.CREATE, { pargfid: ROOT_GFID, flags: 0o101, mode: 0o100644, umask: 0, bname, xdata: req() })
    t.equal(cr.op_ret, -1, `CREATE ${bname}`)
  }
  t.equal((await b.call(FopProgram.procs.STAT, { gfid: newGfid(), xdata: null })).op_errno, 116, 'foreign gfid: ESTALE')
  t.equal((await b.call(FopProgram.procs.READ, { gfid: newGfid(), fd: GF_ANON_FD, offset: 0n, size: 10, flag: 0, xdata: null })).op_ret, -1)
  // a symlink pointing outside is only text: we never follow it
  const lg = newGfid()
  t.equal((await b.call(FopProgram.procs.SYMLINK, { pargfid: ROOT_GFID, bname: 'esc', umask: 0, linkname: outside, xdata: gfxDict({ 'gfid-req': gfxUuid(lg) }) })).op_ret, 0)
  t.equal((await b.call(FopProgram.procs.OPEN, { gfid: lg, flags: 0, xdata: null })).op_ret, -1, 'OPEN of a symlink does not follow it')
  t.equal((await b.call(FopProgram.procs.READ, { gfid: lg, fd: GF_ANON_FD, offset: 0n, size: 10, flag: 0, xdata: null })).op_ret, -1)
  t.equal((await b.call(FopProgram.procs.TRUNCATE, { gfid: lg, offset: 0n, xdata: null })).op_ret, -1)
  t.equal((await b.call(FopProgram.procs.READLINK, { gfid: lg, size: 4096, xdata: null })).path, outside)
  t.equal(fs.readFileSync(outside, 'utf8'), 'secret')
})

t.test('brick: locks are released when the connection drops', async t => {
  const c = await cluster(t, { replica: 1 })
  const a = await attach(t, c, 0)
  const b = await attach(t, c, 0)
  const flock = { type: 1, whence: 0, start: 0n, len: 0n, pid: 1, lk_owner: Buffer.alloc(0) }
  const lk = (client: RpcClient, cmd: number, type = 1): Promise<{ op_ret: number, op_errno: number }> =>
    client.call(FopProgram.procs.INODELK, { gfid: ROOT_GFID, cmd, type, flock: { ...flock, type }, volume: 'vol1-replicate-0', xdata: null })
  t.equal((await lk(a, 1)).op_ret, 0)
  t.equal((await lk(b, 1)).op_errno, 11, 'SETLK conflict: EAGAIN')
  const waiting = lk(b, 2)
  a.destroy()
  t.equal((await waiting).op_ret, 0, 'SETLKW granted once the holder disconnects')
  t.equal((await lk(b, 1, 2)).op_ret, 0, 'unlock')
})

t.test('brick: FSTAT and FSETATTR on a directory fd (AFR fstats opendir fds)', async t => {
  const c = await cluster(t, { replica: 1 })
  const client = await attach(t, c, 0)
  const od = await client.call(FopProgram.procs.OPENDIR, { gfid: ROOT_GFID, xdata: null })
  t.equal(od.op_ret, 0)
  const st = await client.call(FopProgram.procs.FSTAT, { fd: od.fd, gfid: ROOT_GFID, xdata: null })
  t.equal(st.op_ret, 0, 'FSTAT of a directory fd')
  t.equal(st.stat.mode & 0o170000, 0o040000, 'a directory')
  const anon = await client.call(FopProgram.procs.FSTAT, { fd: GF_ANON_FD, gfid: ROOT_GFID, xdata: null })
  t.equal(anon.op_ret, 0, 'FSTAT of the anonymous fd of a directory')
  const sa = await client.call(FopProgram.procs.FSETATTR, { fd: od.fd, gfid: ROOT_GFID, stbuf: { ...st.stat, mode: 0o40755 }, valid: 1, xdata: null })
  t.equal(sa.op_ret, 0, 'FSETATTR of a directory fd')
})

t.test('brick: UNLINK answers gf_get_file_block_count (the blocks the entry held) when asked, as posix_unlink does', async t => {
  const c = await cluster(t, { replica: 1 })
  const b = await attach(t, c, 0)
  const unlinkAsk = async (name: string, ask: boolean): Promise<{ op_ret: number, xdata: GfxDict }> => {
    const gfid = newGfid()
    const cr = await b.call(FopProgram.procs.CREATE, { pargfid: ROOT_GFID, flags: 0o102, mode: 0o100644, umask: 0, bname: name, xdata: gfxDict({ 'gfid-req': gfxUuid(gfid) }) })
    await b.call(FopProgram.procs.WRITE, { gfid, fd: cr.fd, offset: 0n, size: 65536, flag: 0, xdata: null, data: Buffer.alloc(65536, 1) })
    await b.call(FopProgram.procs.FSYNC, { gfid, fd: cr.fd, data: 0, xdata: null })
    await b.call(FopProgram.procs.RELEASE, { gfid, fd: cr.fd, xdata: null })
    return b.call(FopProgram.procs.UNLINK, { pargfid: ROOT_GFID, bname: name, xflags: 0, xdata: ask ? gfxDict({ gf_get_file_block_count: gfxUint(64) }) : null })
  }
  const backend = path.join(c.volume.bricks[0]!.path, 'asked')
  const r = await unlinkAsk('asked', true)
  t.equal(r.op_ret, 0)
  const blocks = gfxDictUint(r.xdata, 'gf_get_file_block_count')
  t.ok(blocks !== undefined && blocks >= 128n, `64 KiB written: at least 128 blocks of 512 bytes (${blocks})`)
  t.notOk(fs.existsSync(backend), 'and the entry is gone')
  const plain = await unlinkAsk('plain', false)
  t.equal(gfxDictUint(plain.xdata, 'gf_get_file_block_count'), undefined, 'not asked: not answered')
})
