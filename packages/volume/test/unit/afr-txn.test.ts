// AFR write transactions with fake bricks: the call sequence FUSE shows in captures/write.pcap
// (create with all bricks up: no XATTROP; write: lock, dirty +1, WRITE, dirty −1, unlock), the
// changelog when a brick is down (pre-op, new-inode marks, blame in the post-op), quorum refused
// before anything is sent, lock contention falling back to blocking locks in child order, and a
// hung brick left out after the straggler deadline (fake timers) whose late lock is released,
// and the eager lock of a file being written (closed after postOpDelayMs idle).
import t from 'tap'
import type { Test } from 'tap'
import FakeTimers from '@sinonjs/fake-timers'
import { GfEntrylkCmd, GfLkCmd, GfLkType, type GfxDict } from '@gluster-ts/rpc'
import { AfrTxn, type WriteTiming } from '../../src/afr-txn.js'
import type { Replicate } from '../../src/replicate.js'
import { WritableFile } from '../../src/write-file.js'

const flush = async (): Promise<void> => { for (let i = 0; i < 20; i++) await Promise.resolve() }

interface Call { brick: number, proc: string, args: Record<string, unknown>, owner?: string }

class FakeBrick {
  up = true
  usable = true
  slow = false
  lastError: Error | undefined
  suspected = 0
  label: string
  constructor (readonly i: number, readonly log: Call[], public answer: (proc: string, args: Record<string, unknown>) => Promise<{ op_ret: number, op_errno: number }>) {
    this.label = `10.0.0.${i}:49152:/b${i}`
  }

  suspect (): void { this.suspected++ }
  lockCred (owner: Buffer): { lk_owner: Buffer } { return { lk_owner: owner } }
  call (proc: { name: string }, args: Record<string, unknown>, o: { cred?: { lk_owner: Buffer } } = {}): Promise<unknown> {
    this.log.push({ brick: this.i, proc: proc.name, args, ...(o.cred !== undefined ? { owner: o.cred.lk_owner.toString('hex') } : {}) })
    return this.answer(proc.name, args)
  }
}

const ok = async (): Promise<{ op_ret: number, op_errno: number, xdata: null }> => ({ op_ret: 0, op_errno: 0, xdata: null })

function set (answer: (i: number, proc: string, args: Record<string, unknown>) => Promise<{ op_ret: number, op_errno: number }> = () => ok()): { sv: Replicate, log: Call[], bricks: FakeBrick[] } {
  const log: Call[] = []
  const bricks = [0, 1, 2].map(i => new FakeBrick(i, log, (p, a) => answer(i, p, a)))
  const sv = {
    name: 'vol1-replicate-0',
    children: bricks,
    spec: { quorumCount: 2, pendingXattrs: ['vol1-client-0', 'vol1-client-1', 'vol1-client-2'], options: new Map([['granular-entry-heal', 'on']]) },
  } as unknown as Replicate
  return { sv, log, bricks }
}

const timing: WriteTiming = { attemptTimeoutMs: 10_000, stragglerMs: 2000 }
const PARENT = Buffer.alloc(16); PARENT[15] = 1
const GFID = Buffer.alloc(16, 0xab)

const hexOf = (d: unknown, k: string): string | undefined => ((d as GfxDict)?.get(k)?.value as Buffer | undefined)?.toString('hex')
const seq = (log: Call[]): string[] => log.map(c => `${c.brick}:${c.proc}`)

t.test('create with every brick up: ENTRYLK, CREATE, unlock, no changelog (as FUSE)', async t => {
  const { sv, log } = set()
  await AfrTxn.run(sv, 'entry', [{ kind: 'entry', gfid: PARENT, name: 'w1.bin' }], [{ gfid: PARENT, name: 'w1.bin' }], { timing, syscall: 'open' }, async tx => {
    tx.created(GFID, false)
    return await tx.fop((i, b) => b.call({ name: 'CREATE' } as never, {} as never) as never)
  })
  t.same(seq(log), ['0:ENTRYLK', '1:ENTRYLK', '2:ENTRYLK', '0:CREATE', '1:CREATE', '2:CREATE', '0:ENTRYLK', '1:ENTRYLK', '2:ENTRYLK'])
  t.equal(log[0]!.args.cmd, GfEntrylkCmd.LOCK_NB)
  t.equal(log[0]!.args.volume, 'vol1-replicate-0')
  t.equal(log[0]!.args.name, 'w1.bin')
  t.equal(log[6]!.args.cmd, GfEntrylkCmd.UNLOCK)
  t.equal(log[0]!.owner, log[6]!.owner, 'unlock with the lock\'s lk-owner')
  t.equal(log[0]!.owner!.length, 16, '8-byte lk-owner')
})

t.test('data transaction: lock whole file, dirty +1, WRITE, dirty −1, unlock', async t => {
  const { sv, log } = set()
  await AfrTxn.run(sv, 'data', [{ kind: 'inode', gfid: GFID }], [{ gfid: GFID }], { timing, syscall: 'write' }, tx =>
    tx.fop((i, b) => b.call({ name: 'WRITE' } as never, {} as never) as never))
  t.same(seq(log).map(s => s.slice(2)), ['INODELK', 'INODELK', 'INODELK', 'XATTROP', 'XATTROP', 'XATTROP', 'WRITE', 'WRITE', 'WRITE', 'XATTROP', 'XATTROP', 'XATTROP', 'INODELK', 'INODELK', 'INODELK'])
  const lock = log[0]!.args as { cmd: number, type: number, flock: { start: bigint, len: bigint } }
  t.equal(lock.cmd, GfLkCmd.SETLK)
  t.equal(lock.type, GfLkType.WRLCK)
  t.equal(lock.flock.start, 0n)
  t.equal(lock.flock.len, 0n)
  t.equal(hexOf(log[3]!.args.dict, 'trusted.afr.dirty'), '000000010000000000000000', 'pre-op dirty +1 at the data index')
  t.equal(hexOf(log[3]!.args.dict, 'trusted.afr.vol1-client-1'), '000000000000000000000000')
  t.equal(hexOf(log[9]!.args.dict, 'trusted.afr.dirty'), 'ffffffff0000000000000000', 'post-op dirty −1')
  t.equal((log[12]!.args as { type: number }).type, GfLkType.UNLCK)
})

t.test('metadata transaction: lock at LLONG_MAX−1, optimistic changelog', async t => {
  const { sv, log } = set()
  await AfrTxn.run(sv, 'metadata', [{ kind: 'inode', gfid: GFID }], [{ gfid: GFID }], { timing, syscall: 'chmod' }, tx =>
    tx.fop((i, b) => b.call({ name: 'SETATTR' } as never, {} as never) as never))
  t.same(seq(log).map(s => s.slice(2)), ['INODELK', 'INODELK', 'INODELK', 'SETATTR', 'SETATTR', 'SETATTR', 'INODELK', 'INODELK', 'INODELK'])
  t.equal((log[0]!.args as { flock: { start: bigint } }).flock.start, 9223372036854775806n)
})

t.test('create with brick 2 down: pre-op on the parent, new inode marked, brick 2 blamed', async t => {
  const { sv, log, bricks } = set()
  bricks[2]!.up = false
  bricks[2]!.usable = false
  await AfrTxn.run(sv, 'entry', [{ kind: 'entry', gfid: PARENT, name: 'f' }], [{ gfid: PARENT, name: 'f' }], { timing, syscall: 'open' }, async tx => {
    tx.created(GFID, false)
    return await tx.fop((i, b) => b.call({ name: 'CREATE' } as never, {} as never) as never)
  })
  t.notOk(log.some(c => c.brick === 2), 'nothing sent to the down brick')
  t.same(seq(log), ['0:ENTRYLK', '1:ENTRYLK', '0:XATTROP', '1:XATTROP', '0:CREATE', '1:CREATE', '0:XATTROP', '1:XATTROP', '0:XATTROP', '1:XATTROP', '0:ENTRYLK', '1:ENTRYLK'])
  const pre = log[2]!.args
  t.same(pre.gfid, PARENT)
  t.equal(hexOf(pre.dict, 'trusted.afr.dirty'), '000000000000000000000001', 'dirty +1 at the entry index')
  t.equal((pre.xdata as GfxDict)?.get('glusterfs.xattrop-entry-create')?.value, 'f', 'granular entry heal names the entry')
  const mark = log[6]!.args
  t.same(mark.gfid, GFID)
  t.equal(hexOf(mark.dict, 'trusted.afr.vol1-client-2'), '000000010000000100000000', 'new file: [1,1,0] against brick 2')
  const post = log[8]!.args
  t.same(post.gfid, PARENT)
  t.equal(hexOf(post.dict, 'trusted.afr.dirty'), '0000000000000000ffffffff', 'dirty −1')
  t.equal(hexOf(post.dict, 'trusted.afr.vol1-client-2'), '000000000000000000000001', 'entry pending +1 against brick 2')
  t.equal(hexOf(post.dict, 'trusted.afr.vol1-client-0'), '000000000000000000000000')
  t.equal((post.xdata as GfxDict)?.get('glusterfs.xattrop-entry-create')?.value, 'f')
})

t.test('a fop failing on one brick: that brick is blamed in the post-op', async t => {
  const { sv, log } = set((i, proc) => (proc === 'WRITE' && i === 1 ? Promise.resolve({ op_ret: -1, op_errno: 28 }) : ok()))
  await AfrTxn.run(sv, 'data', [{ kind: 'inode', gfid: GFID }], [{ gfid: GFID }], { timing, syscall: 'write' }, tx =>
    tx.fop((i, b) => b.call({ name: 'WRITE' } as never, {} as never) as never))
  const post = log.filter(c => c.proc === 'XATTROP').slice(3)
  t.same(post.map(c => c.brick), [0, 2], 'post-op on the bricks that have the write')
  t.equal(hexOf(post[0]!.args.dict, 'trusted.afr.vol1-client-1'), '000000010000000000000000', 'data pending against brick 1')
})

t.test('two bricks down: EGLUSTER_NO_QUORUM before anything is sent', async t => {
  const { sv, log, bricks } = set()
  for (const b of bricks.slice(1)) { b.up = false; b.usable = false }
  await t.rejects(AfrTxn.run(sv, 'entry', [{ kind: 'entry', gfid: PARENT, name: 'f' }], [{ gfid: PARENT, name: 'f' }], { timing, syscall: 'open', path: '/f' }, tx =>
    tx.fop((i, b) => b.call({ name: 'CREATE' } as never, {} as never) as never)), { code: 'EGLUSTER_NO_QUORUM', message: /replica set vol1-replicate-0 has 1 of 3 bricks, needs 2; nothing was written/ })
  t.same(log, [])
})

t.test('lock contention: release, then blocking locks in child order', async t => {
  let first = true
  const { sv, log } = set((i, proc, args) => {
    if (proc === 'ENTRYLK' && args.cmd === GfEntrylkCmd.LOCK_NB && i === 1 && first) { first = false; return Promise.resolve({ op_ret: -1, op_errno: 11 }) }
    return ok()
  })
  await AfrTxn.run(sv, 'entry', [{ kind: 'entry', gfid: PARENT, name: 'f' }], [{ gfid: PARENT, name: 'f' }], { timing, syscall: 'open' }, tx =>
    tx.fop((i, b) => b.call({ name: 'CREATE' } as never, {} as never) as never))
  const locks = log.filter(c => c.proc === 'ENTRYLK').map(c => `${c.brick}:${['LOCK', 'UNLOCK', 'NB'][c.args.cmd as number]}`)
  t.same(locks.slice(0, 3).sort(), ['0:NB', '1:NB', '2:NB'])
  t.same(locks.slice(3, 5).sort(), ['0:UNLOCK', '2:UNLOCK'], 'the granted ones released')
  t.same(locks.slice(5, 8), ['0:LOCK', '1:LOCK', '2:LOCK'], 'blocking, in child order')
})

t.test('a hung brick is left out after stragglerMs, blamed, and its late lock released', async (t: Test) => {
  const clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout'] })
  t.teardown(() => { clock.uninstall() })
  let grant: (() => void) | undefined
  const { sv, log, bricks } = set((i, proc) => {
    if (i === 2 && proc === 'INODELK' && grant === undefined) return new Promise(resolve => { grant = () => resolve({ op_ret: 0, op_errno: 0 }) })
    return ok()
  })
  const p = AfrTxn.run(sv, 'data', [{ kind: 'inode', gfid: GFID }], [{ gfid: GFID }], { timing, syscall: 'write' }, tx =>
    tx.fop((i, b) => b.call({ name: 'WRITE' } as never, {} as never) as never))
  await flush()
  t.equal(log.filter(c => c.proc === 'WRITE').length, 0, 'waiting for the third lock')
  await clock.tickAsync(1999)
  t.equal(log.filter(c => c.proc === 'WRITE').length, 0, 'still within the straggler deadline')
  await clock.tickAsync(1)
  await p
  t.same(log.filter(c => c.proc === 'WRITE').map(c => c.brick), [0, 1], 'written on the two that answered')
  t.equal(bricks[2]!.suspected, 1, 'the late brick is suspected')
  const post = log.filter(c => c.proc === 'XATTROP').slice(2)
  t.equal(hexOf(post[0]!.args.dict, 'trusted.afr.vol1-client-2'), '000000010000000000000000', 'blamed')
  const before = log.filter(c => c.brick === 2 && c.proc === 'INODELK').length
  grant!()
  await flush()
  const after = log.filter(c => c.brick === 2 && c.proc === 'INODELK')
  t.equal(after.length, before + 1, 'a late grant is answered by an unlock')
  t.equal((after.at(-1)!.args as { type: number }).type, GfLkType.UNLCK)
})

t.test('eager lock: writes share one transaction, closed after postOpDelayMs idle (FSYNC, post-op, unlock)', async (t: Test) => {
  const clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout'] })
  t.teardown(() => { clock.uninstall() })
  const { sv, log } = set((i, proc) => proc === 'WRITE' ? Promise.resolve({ op_ret: 4, op_errno: 0 }) : ok())
  const f = new WritableFile({ sv, gfid: GFID, path: '/f', fds: [undefined, undefined, undefined], size: 0, flags: 1, timing, postOpDelayMs: 1000, ensureDurability: true })
  await Promise.all([f.write(Buffer.alloc(4), 0), f.write(Buffer.alloc(4), 4)])
  await f.write(Buffer.alloc(4), 8)
  const names = (): string[] => log.filter(c => c.brick === 0).map(c => c.proc)
  t.same(names(), ['INODELK', 'XATTROP', 'WRITE', 'WRITE', 'WRITE'], 'one lock and one pre-op for three WRITEs')
  t.equal(f.size, 12)
  await clock.tickAsync(999)
  t.equal(names().length, 5, 'the transaction stays open while less than postOpDelayMs idle')
  await clock.tickAsync(1)
  await flush()
  t.same(names().slice(5), ['FSYNC', 'XATTROP', 'INODELK'], 'then FSYNC, post-op, unlock')
  await f.write(Buffer.alloc(4), 12)
  await f.close()
  t.same(names().slice(8), ['INODELK', 'XATTROP', 'WRITE', 'FSYNC', 'XATTROP', 'INODELK'], 'a later write opens a new transaction; close ends it')
})
