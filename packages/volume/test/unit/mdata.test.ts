// The utime flags and operation time our fops carry in the v3 credential (features.ctime bricks
// update times only from these).
import t from 'tap'
import { glusterfsV3Cred, glusterfsV2Cred } from '@gluster-ts/rpc'
import { mdataCred, mdataFlags, opTime, MDATA_CTIME, MDATA_MTIME, MDATA_ATIME, MDATA_PAR_CTIME, MDATA_PAR_MTIME } from '../../src/mdata.js'

t.test('flags per fop, as a FUSE client sends them (capture: CREATE 0x1f, WRITE 0x3, UNLINK 0x19)', async t => {
  t.equal(mdataFlags('CREATE'), 0x1f)
  t.equal(mdataFlags('MKDIR'), MDATA_ATIME | MDATA_CTIME | MDATA_MTIME | MDATA_PAR_CTIME | MDATA_PAR_MTIME)
  t.equal(mdataFlags('WRITE'), 0x3)
  t.equal(mdataFlags('FTRUNCATE'), MDATA_CTIME | MDATA_MTIME)
  t.equal(mdataFlags('UNLINK'), 0x19)
  t.equal(mdataFlags('RENAME'), 0x19)
  t.equal(mdataFlags('SETXATTR'), MDATA_CTIME)
  for (const name of ['READ', 'LOOKUP', 'STAT', 'INODELK', 'XATTROP', 'FLUSH']) t.equal(mdataFlags(name), 0, name)
})

t.test('one operation time per synchronous turn, a later one after it', async t => {
  const a = opTime()
  const b = opTime()
  t.equal(a, b, 'same turn: the same object')
  await new Promise(resolve => setImmediate(resolve))
  const c = opTime()
  t.not(c, a)
  const ns = (x: { sec: bigint, nsec: number }): bigint => x.sec * 1_000_000_000n + BigInt(x.nsec)
  t.ok(ns(c) >= ns(a), 'monotonic')
  t.ok(Math.abs(Number(ns(c) / 1_000_000n) - Date.now()) < 5000, 'wall clock')
})

t.test('mdataCred', async t => {
  const init = (): ReturnType<typeof glusterfsV3Cred> => glusterfsV3Cred({ pid: 7, uid: 1, gid: 2 })
  t.equal(mdataCred('READ', undefined, init), undefined, 'no time change: the default credential')
  const v2 = glusterfsV2Cred({ pid: 7 })
  t.equal(mdataCred('WRITE', v2, init), v2, 'another flavour chosen on purpose: untouched')
  const w = mdataCred('WRITE', undefined, init) as ReturnType<typeof glusterfsV3Cred>
  t.equal(w.flags, 0x3)
  t.equal(w.uid, 1)
  const owner = Buffer.from('0102030405060708', 'hex')
  const lock = glusterfsV3Cred({ pid: 7, lk_owner: owner, flags: 0x40 })
  const c = mdataCred('CREATE', lock, init) as ReturnType<typeof glusterfsV3Cred>
  t.same(c.lk_owner, owner, 'the lock owner is kept')
  t.equal(c.flags, 0x40 | 0x1f, 'flags added to those already there')
  const t0 = opTime()
  t.equal(c.ctime_sec, t0.sec)
  t.equal(c.ctime_nsec, t0.nsec)
  t.equal(lock.flags, 0x40, 'the base credential is not modified')
})
