// What an AFR write transaction sends a brick (packages/volume's afr-txn.ts, and the FUSE
// client's AFR): INODELK/FINODELK in the replicate xlator's domain (data: the whole file;
// metadata: from LLONG_MAX-1), ENTRYLK on a name or a whole directory, XATTROP/FXATTROP
// ADD_ARRAY(64) on trusted.afr.*, with the transaction's lk-owner in the credential; entry fops
// with `gfid-req`; and the utime xlator's operation time in the v3 credential.
import t from 'tap'
import {
  RpcClient, FopProgram, glusterfsV3Cred, gfxDict, gfxUuid, gfxBin, gfxStr, gfxInt,
  ROOT_GFID, GfLkCmd, GfLkType, GfEntrylkCmd, GfEntrylkType, GfXattropFlags,
} from '@gluster-ts/rpc'
import type { GfxDict, GfxIattx } from '@gluster-ts/rpc'
import { newGfid } from '@gluster-ts/server'
import { cluster, attach, createFile } from './brick-client.js'

const NULL16 = Buffer.alloc(16)
const DOMAIN = 'vol1-replicate-0'
const METADATA_START = 9223372036854775806n
const owner = (n: number): Buffer => Buffer.from(`0000000${n}deadbeef`.slice(-16), 'hex')

const cred = (lk: Buffer, extra: { flags?: number, ctime_sec?: bigint, ctime_nsec?: number } = {}): ReturnType<typeof glusterfsV3Cred> =>
  glusterfsV3Cred({ pid: 7, lk_owner: lk, ...extra })

t.test('INODELK/FINODELK in the AFR domain: data and metadata ranges, owners from the credential, blocking, domains apart', async t => {
  const c = await cluster(t)
  const a = await attach(t, c)
  const b = await attach(t, c)
  const { gfid, fd } = await createFile(a, 'f')
  const flock = (type: number, start = 0n): { type: number, whence: number, start: bigint, len: bigint, pid: number, lk_owner: Buffer } =>
    ({ type, whence: 0, start, len: 0n, pid: 0, lk_owner: Buffer.alloc(0) })
  const inodelk = (cl: RpcClient, lk: Buffer, cmd: number, type: number, start = 0n, domain = DOMAIN): Promise<{ op_ret: number, op_errno: number }> =>
    cl.call(FopProgram.procs.INODELK, { gfid, cmd, type, flock: flock(type, start), volume: domain, xdata: null }, { cred: cred(lk) })

  // a data transaction (whole file) by owner 1, through its fd
  t.equal((await a.call(FopProgram.procs.FINODELK, { gfid, fd, cmd: GfLkCmd.SETLK, type: GfLkType.WRLCK, flock: flock(GfLkType.WRLCK), volume: DOMAIN, xdata: null }, { cred: cred(owner(1)) })).op_ret, 0)
  t.equal((await inodelk(b, owner(2), GfLkCmd.SETLK, GfLkType.WRLCK)).op_errno, 11, 'data lock of another owner: EAGAIN')
  t.equal((await inodelk(b, owner(2), GfLkCmd.SETLK, GfLkType.WRLCK, METADATA_START)).op_errno, 11, 'a metadata lock overlaps a whole-file lock')
  t.equal((await inodelk(a, owner(2), GfLkCmd.SETLK, GfLkType.WRLCK)).op_errno, 11, 'same connection, other lk-owner: conflicts')
  t.equal((await inodelk(b, owner(1), GfLkCmd.SETLK, GfLkType.WRLCK)).op_errno, 11, 'same lk-owner on another connection: conflicts')
  t.equal((await inodelk(b, owner(2), GfLkCmd.SETLK, GfLkType.WRLCK, 0n, `${DOMAIN}:self-heal`)).op_ret, 0, 'another domain is apart')
  t.equal((await inodelk(b, owner(2), GfLkCmd.SETLK, GfLkType.UNLCK, 0n, `${DOMAIN}:self-heal`)).op_ret, 0)

  // owner 2 queues (SETLKW); a wrong owner's unlock does not release owner 1's lock
  let granted = false
  const waiting = inodelk(b, owner(2), GfLkCmd.SETLKW, GfLkType.WRLCK).then(r => { granted = true; return r })
  await inodelk(a, owner(3), GfLkCmd.SETLK, GfLkType.UNLCK)
  t.equal((await inodelk(b, owner(4), GfLkCmd.SETLK, GfLkType.WRLCK)).op_errno, 11, 'still held after a stranger\'s unlock')
  t.notOk(granted, 'the waiter still waits')
  t.equal((await a.call(FopProgram.procs.FINODELK, { gfid, fd, cmd: GfLkCmd.SETLK, type: GfLkType.UNLCK, flock: flock(GfLkType.UNLCK), volume: DOMAIN, xdata: null }, { cred: cred(owner(1)) })).op_ret, 0)
  t.equal((await waiting).op_ret, 0, 'SETLKW granted once the owner unlocked')
  // owner 2 now holds data: a metadata-only lock of owner 1 waits too; after unlock both kinds coexist
  t.equal((await inodelk(a, owner(1), GfLkCmd.SETLK, GfLkType.WRLCK, METADATA_START)).op_errno, 11)
  t.equal((await inodelk(b, owner(2), GfLkCmd.SETLK, GfLkType.UNLCK)).op_ret, 0)
  t.equal((await inodelk(a, owner(1), GfLkCmd.SETLK, GfLkType.WRLCK, METADATA_START)).op_ret, 0, 'metadata lock')
  const partial = { type: GfLkType.WRLCK, whence: 0, start: 0n, len: 4096n, pid: 0, lk_owner: Buffer.alloc(0) }
  t.equal((await b.call(FopProgram.procs.INODELK, { gfid, cmd: GfLkCmd.SETLK, type: GfLkType.WRLCK, flock: partial, volume: DOMAIN, xdata: null }, { cred: cred(owner(2)) })).op_ret, 0,
    'a data range below the metadata range does not conflict with it')
  // an unlock after the file is gone (AFR unlocks after UNLINK) succeeds
  t.equal((await a.call(FopProgram.procs.UNLINK, { pargfid: ROOT_GFID, bname: 'f', xflags: 0, xdata: null })).op_ret, 0)
  t.equal((await inodelk(a, owner(1), GfLkCmd.SETLK, GfLkType.UNLCK, METADATA_START)).op_ret, 0, 'unlock after UNLINK')
})

t.test('ENTRYLK in the AFR domain: a name, the whole directory, blocking, release on disconnect', async t => {
  const c = await cluster(t)
  const a = await attach(t, c)
  const b = await attach(t, c)
  const entrylk = (cl: RpcClient, lk: Buffer, cmd: number, name: string | null, domain = DOMAIN): Promise<{ op_ret: number, op_errno: number }> =>
    cl.call(FopProgram.procs.ENTRYLK, { gfid: ROOT_GFID, cmd, type: GfEntrylkType.WRLCK, namelen: name === null ? 0n : 1n, name: name ?? '', volume: domain, xdata: null }, { cred: cred(lk) })
  t.equal((await entrylk(a, owner(1), GfEntrylkCmd.LOCK_NB, 'x')).op_ret, 0)
  t.equal((await entrylk(b, owner(2), GfEntrylkCmd.LOCK_NB, 'x')).op_errno, 11, 'same name: EAGAIN')
  t.equal((await entrylk(b, owner(2), GfEntrylkCmd.LOCK_NB, 'y')).op_ret, 0, 'another name')
  t.equal((await entrylk(b, owner(3), GfEntrylkCmd.LOCK_NB, null)).op_errno, 11, 'the whole directory conflicts with a name')
  t.equal((await entrylk(b, owner(3), GfEntrylkCmd.LOCK_NB, 'x', 'vol1-dht')).op_ret, 0, 'another domain is apart')
  t.equal((await entrylk(b, owner(2), GfEntrylkCmd.UNLOCK, 'y')).op_ret, 0)
  const waiting = entrylk(b, owner(2), GfEntrylkCmd.LOCK, 'x')
  a.destroy() // owner 1's lock goes with its connection
  t.equal((await waiting).op_ret, 0, 'blocking LOCK granted when the holder disconnected')
  t.equal((await entrylk(b, owner(2), GfEntrylkCmd.UNLOCK, 'x')).op_ret, 0)
  t.equal((await entrylk(b, owner(3), GfEntrylkCmd.LOCK_NB, null)).op_ret, 0, 'whole directory once no name is locked')
})

t.test('XATTROP/FXATTROP ADD_ARRAY and ADD_ARRAY64 on trusted.afr.*: atomic under concurrency, visible to LOOKUP', async t => {
  const c = await cluster(t)
  const a = await attach(t, c)
  const b = await attach(t, c)
  const { gfid, fd } = await createFile(a, 'f')
  const be = (...xs: number[]): Buffer => { const buf = Buffer.alloc(4 * xs.length); xs.forEach((x, i) => buf.writeInt32BE(x, 4 * i)); return buf }
  const pending = (dirty: Buffer, c1: Buffer): GfxDict => gfxDict({ 'trusted.afr.dirty': gfxBin(dirty), [`trusted.afr.vol1-client-1`]: gfxBin(c1) })
  // a pre-op (dirty +1 data) from 100 transactions on two connections at once, half by fd
  const jobs: Array<Promise<{ op_ret: number }>> = []
  for (let i = 0; i < 100; i++) {
    const cl = i % 2 === 0 ? a : b
    const args = { gfid, flags: GfXattropFlags.ADD_ARRAY, dict: pending(be(1, 0, 0), be(0, 0, 0)), xdata: null }
    jobs.push(i % 4 === 0
      ? a.call(FopProgram.procs.FXATTROP, { ...args, fd }, { cred: cred(owner(i)) })
      : cl.call(FopProgram.procs.XATTROP, args, { cred: cred(owner(i)) }))
  }
  t.same((await Promise.all(jobs)).map(r => r.op_ret), Array(100).fill(0))
  // post-op: dirty -1 each, blame client-1 for the data of 3 of them
  const post = await Promise.all(Array.from({ length: 100 }, (_, i) =>
    b.call(FopProgram.procs.XATTROP, { gfid, flags: GfXattropFlags.ADD_ARRAY, dict: pending(be(-1, 0, 0), be(i < 3 ? 1 : 0, 0, 0)), xdata: null })))
  t.same(post.map(r => r.op_ret), Array(100).fill(0))
  const look = await a.call(FopProgram.procs.LOOKUP, {
    gfid: NULL16, pargfid: ROOT_GFID, flags: 0, bname: 'f',
    xdata: gfxDict({ 'trusted.afr.dirty': gfxInt(0), 'trusted.afr.vol1-client-1': gfxInt(0), 'trusted.afr.vol1-client-2': gfxInt(0) }),
  })
  t.same(look.xdata?.get('trusted.afr.dirty')?.value, be(0, 0, 0), 'dirty back to 0')
  t.same(look.xdata?.get('trusted.afr.vol1-client-1')?.value, be(3, 0, 0), 'client-1 blamed 3 times')
  // an all-zero XATTROP reads the values without changing them (AFR's lookup-time check)
  const read = await a.call(FopProgram.procs.FXATTROP, { gfid, fd, flags: GfXattropFlags.ADD_ARRAY, dict: pending(be(0, 0, 0), be(0, 0, 0)), xdata: null })
  t.same(read.dict?.get('trusted.afr.vol1-client-1')?.value, be(3, 0, 0))
  // granular entry heal's xdata on a directory XATTROP is accepted
  const ent = await a.call(FopProgram.procs.XATTROP, { gfid: ROOT_GFID, flags: GfXattropFlags.ADD_ARRAY, dict: pending(be(0, 0, 1), be(0, 0, 0)), xdata: gfxDict({ 'glusterfs.xattrop-entry-create': gfxStr('f') }) })
  t.equal(ent.op_ret, 0)
  t.same(ent.dict?.get('trusted.afr.dirty')?.value, be(0, 0, 1))
  // ADD_ARRAY64
  const v64 = (n: bigint): Buffer => { const buf = Buffer.alloc(8); buf.writeBigInt64BE(n); return buf }
  await Promise.all(Array.from({ length: 20 }, () => b.call(FopProgram.procs.XATTROP, { gfid, flags: GfXattropFlags.ADD_ARRAY64, dict: gfxDict({ 'trusted.glusterfs.quota.size': gfxBin(v64(1n << 33n)) }), xdata: null })))
  const q = await b.call(FopProgram.procs.XATTROP, { gfid, flags: GfXattropFlags.ADD_ARRAY64, dict: gfxDict({ 'trusted.glusterfs.quota.size': gfxBin(v64(-1n)) }), xdata: null })
  t.same(q.dict?.get('trusted.glusterfs.quota.size')?.value, v64(20n * (1n << 33n) - 1n), '64-bit counters do not wrap at 32 bits')
  // the counters survive a restart of the brick (sidecar journal)
  await c.stopBrick(0)
  await c.startBrick(0)
  const again = await attach(t, c)
  const x = await again.call(FopProgram.procs.XATTROP, { gfid, flags: GfXattropFlags.ADD_ARRAY, dict: pending(be(0, 0, 0), be(0, 0, 0)), xdata: null })
  t.same(x.dict?.get('trusted.afr.vol1-client-1')?.value, be(3, 0, 0), 'after a restart')
})

t.test('gfid-req on CREATE/MKDIR/SYMLINK/MKNOD; LINK keeps the inode\'s gfid; a gfid in use elsewhere is EEXIST', async t => {
  const c = await cluster(t)
  const b = await attach(t, c)
  const req = (g: Buffer): GfxDict => gfxDict({ 'gfid-req': gfxUuid(g) })
  const g = { file: newGfid(), dir: newGfid(), link: newGfid(), node: newGfid() }
  const cr = await b.call(FopProgram.procs.CREATE, { pargfid: ROOT_GFID, flags: 0o101, mode: 0o100644, umask: 0, bname: 'f', xdata: req(g.file) })
  t.same(cr.stat.ia_gfid, g.file, 'CREATE')
  const md = await b.call(FopProgram.procs.MKDIR, { pargfid: ROOT_GFID, mode: 0o755, umask: 0, bname: 'd', xdata: req(g.dir) })
  t.same(md.stat.ia_gfid, g.dir, 'MKDIR')
  const sl = await b.call(FopProgram.procs.SYMLINK, { pargfid: g.dir, bname: 'l', umask: 0, linkname: '../f', xdata: req(g.link) })
  t.same(sl.stat.ia_gfid, g.link, 'SYMLINK')
  const mk = await b.call(FopProgram.procs.MKNOD, { pargfid: g.dir, bname: 'n', mode: 0o100600, dev: 0n, umask: 0, xdata: req(g.node) })
  t.same(mk.stat.ia_gfid, g.node, 'MKNOD')
  const ln = await b.call(FopProgram.procs.LINK, { oldgfid: g.file, newgfid: g.dir, newbname: 'hard', xdata: req(newGfid()) })
  t.equal(ln.op_ret, 0)
  t.same(ln.stat.ia_gfid, g.file, 'LINK: the existing inode\'s gfid, whatever gfid-req says')
  t.equal(ln.stat.ia_nlink, 2)
  for (const [name, g2] of [['by-name', g.node], ['other', g.dir]] as const) {
    const r = await b.call(FopProgram.procs.CREATE, { pargfid: ROOT_GFID, flags: 0o101, mode: 0o100644, umask: 0, bname: name, xdata: req(g2) })
    t.equal(r.op_errno, 17, `CREATE ${name} with a gfid in use: EEXIST`)
  }
  const again = await b.call(FopProgram.procs.MKDIR, { pargfid: ROOT_GFID, mode: 0o755, umask: 0, bname: 'd', xdata: req(newGfid()) })
  t.equal(again.op_errno, 17, 'MKDIR of an existing name: EEXIST')
  const nameless = await b.call(FopProgram.procs.LOOKUP, { gfid: g.node, pargfid: NULL16, flags: 0, bname: '', xdata: null })
  t.same(nameless.prestat.ia_gfid, g.node, 'nameless LOOKUP by the requested gfid')
})

t.test('operation times from the utime xlator (v3 credential): every replica stamps the same times', async t => {
  const c = await cluster(t, 3)
  const bricks = await Promise.all([0, 1, 2].map(i => attach(t, c, i)))
  const opTime = { ctime_sec: 1_700_000_000n, ctime_nsec: 123_456_000 }
  const same = (x: GfxIattx, what: string): void => {
    t.equal(x.ia_mtime, opTime.ctime_sec, `${what}: mtime seconds`)
    t.ok(Math.abs(x.ia_mtime_nsec - opTime.ctime_nsec) < 1000, `${what}: mtime nanoseconds (${x.ia_mtime_nsec})`)
  }
  const gfid = newGfid()
  const withTime = (flags: number, dt = 0n): ReturnType<typeof glusterfsV3Cred> => glusterfsV3Cred({ pid: 9, flags, ctime_sec: opTime.ctime_sec + dt, ctime_nsec: opTime.ctime_nsec })
  // CREATE as FUSE sends it: CTIME|MTIME|ATIME|PARENT_CTIME|PARENT_MTIME
  const created = await Promise.all(bricks.map(b => b.call(FopProgram.procs.CREATE,
    { pargfid: ROOT_GFID, flags: 0o102, mode: 0o100644, umask: 0, bname: 'f', xdata: gfxDict({ 'gfid-req': gfxUuid(gfid) }) }, { cred: withTime(0x1f) })))
  created.forEach((r, i) => {
    same(r.stat, `CREATE on brick ${i}`)
    t.equal(r.stat.ia_atime, opTime.ctime_sec, `CREATE on brick ${i}: atime`)
    same(r.postparent, `CREATE on brick ${i}: parent`)
  })
  // WRITE: CTIME|MTIME, one second later
  const data = Buffer.from('abc')
  const wrote = await Promise.all(bricks.map((b, i) => b.call(FopProgram.procs.WRITE, { gfid, fd: created[i]!.fd, offset: 0n, size: 3, flag: 0, xdata: null, data }, { cred: withTime(0x3, 1n) })))
  wrote.forEach((r, i) => {
    t.equal(r.poststat.ia_mtime, opTime.ctime_sec + 1n, `WRITE on brick ${i}: mtime`)
    t.equal(r.poststat.ia_atime, opTime.ctime_sec, `WRITE on brick ${i}: atime kept`)
  })
  t.equal(new Set(wrote.map(r => `${r.poststat.ia_mtime}.${r.poststat.ia_mtime_nsec}`)).size, 1, 'one mtime on all three bricks')
  // flags 0 (no utime xlator): the backend's own clock
  const plain = await bricks[0]!.call(FopProgram.procs.WRITE, { gfid, fd: created[0]!.fd, offset: 3n, size: 3, flag: 0, xdata: null, data }, { cred: withTime(0, 1000n) })
  t.ok(plain.poststat.ia_mtime > opTime.ctime_sec + 1000n, 'no flags: not stamped with the credential time')
  // UNLINK: PARENT_MTIME (0x19) stamps the directory
  const un = await bricks[1]!.call(FopProgram.procs.UNLINK, { pargfid: ROOT_GFID, bname: 'f', xflags: 0, xdata: null }, { cred: withTime(0x19, 2n) })
  t.equal(un.poststat.ia_mtime, opTime.ctime_sec + 2n, 'UNLINK: parent mtime')
})
