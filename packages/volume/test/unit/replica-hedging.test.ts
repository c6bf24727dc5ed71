// AFR reads with fake bricks and fake timers: hedging a late read, failover on error, lookups
// that do not wait for a hung brick, split brain.
import t from 'tap'
import type { Test } from 'tap'
import FakeTimers from '@sinonjs/fake-timers'
import { GlusterError, gfxDict, gfxBin, newGfxIattx, type GfxDict } from '@gluster-ts/rpc'
import { Replicate } from '../../src/replicate.js'
import type { BrickClient } from '../../src/brick.js'
import type { ReplicateSpec, ClientSpec } from '../../src/graph.js'

type Clock = ReturnType<typeof FakeTimers.install>
function fakeClock (t: Test): Clock {
  const clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
  t.teardown(() => { clock.uninstall() })
  return clock
}
const flush = async (): Promise<void> => { for (let i = 0; i < 10; i++) await Promise.resolve() }

/** A brick that answers each call with what `answer` returns (a promise that may never settle). */
class FakeBrick {
  label: string
  usable = true
  up = true
  inflight = 0
  suspected = 0
  calls: Array<{ proc: string, aborted: () => boolean, into?: Buffer }> = []
  answer: (proc: string, args: unknown) => Promise<unknown>
  constructor (label: string, answer: (proc: string, args: unknown) => Promise<unknown>) {
    this.label = label
    this.answer = answer
  }

  suspect (): void { this.suspected++ }
  call (proc: { name: string }, args: unknown, o: { signal?: AbortSignal, into?: Buffer }): Promise<unknown> {
    this.calls.push({ proc: proc.name, aborted: () => o.signal?.aborted === true, ...(o.into !== undefined ? { into: o.into } : {}) })
    return new Promise((resolve, reject) => {
      o.signal?.addEventListener('abort', () => reject(new GlusterError('ABORT_ERR', 'aborted')), { once: true })
      this.answer(proc.name, args).then(resolve, reject)
    })
  }
}

const never = (): Promise<unknown> => new Promise(() => {})
const gfid = Buffer.from('00000000000000000000000000000001', 'hex') // hashes to child 1 of 3
const stat = (size: bigint, g = Buffer.from('11111111111111111111111111111111', 'hex')) => newGfxIattx({ ia_gfid: g, ia_size: size, mode: 0o100644 })
const readRsp = (data: string) => Promise.resolve({ op_ret: data.length, op_errno: 0, stat: stat(10n), size: data.length, xdata: null, data: Buffer.from(data) })
const lookupRsp = (xdata: GfxDict = null, size = 10n) => Promise.resolve({ op_ret: 0, op_errno: 0, xdata, prestat: stat(size), poststat: stat(0n) })

function replicate (bricks: FakeBrick[], timing = { hedgeAfterMs: 300, stragglerMs: 300, attemptTimeoutMs: 10_000 }): Replicate {
  const children = bricks.map((b, i) => ({ kind: 'client', name: `v-client-${i}`, host: 'h', brickPath: '/b', pingTimeoutSec: 42, leafIndex: i, options: new Map() }) as ClientSpec)
  const spec: ReplicateSpec = { kind: 'replicate', name: 'v-replicate-0', children, pendingXattrs: children.map(c => c.name), arbiterCount: 0, readHashMode: 1, readSubvolumeIndex: -1, chooseLocal: false, quorumCount: bricks.length > 2 ? 2 : 0, options: new Map() }
  return new Replicate(spec, bricks as unknown as BrickClient[], timing)
}

t.test('a read that has not answered after hedgeAfterMs goes to a second copy; first answer wins', async t => {
  const clock = fakeClock(t)
  const b = [new FakeBrick('b0', () => readRsp('from-0')), new FakeBrick('b1', never), new FakeBrick('b2', () => readRsp('from-2'))]
  const r = replicate(b)
  let res: { res: { data: Buffer }, child: number } | undefined
  void r.read(gfid, 0, 10, [true, true, true]).then(x => { res = x })
  await flush()
  t.equal(b[1]!.calls.length, 1, 'gfid hash picks child 1 first')
  t.equal(b[0]!.calls.length + b[2]!.calls.length, 0, 'no second copy yet')
  clock.tick(299)
  await flush()
  t.equal(res, undefined)
  clock.tick(1)
  await flush()
  t.ok(res !== undefined, 'answered by the hedge')
  t.equal(res!.res.data.toString().startsWith('from-'), true)
  t.ok(b[1]!.calls[0]!.aborted(), 'the late attempt was aborted')
  t.equal(b[1]!.suspected, 1, 'the late brick is suspected (probed)')
  t.equal(clock.countTimers(), 0, 'no timer left')
})

t.test('a READ with `into`: only an attempt running alone reads into it, never a hedge racing it', async t => {
  const clock = fakeClock(t)
  const into = Buffer.alloc(10)
  const b = [new FakeBrick('b0', never), new FakeBrick('b1', never), new FakeBrick('b2', () => readRsp('from-2'))]
  const r = replicate(b)
  let res: { res: { data: Buffer }, child: number } | undefined
  void r.read(gfid, 0, 10, [true, true, true], { into }).then(x => { res = x })
  await flush()
  t.equal(b[1]!.calls[0]!.into, into, 'the first attempt, alone, gets the caller\'s buffer')
  clock.tick(300)
  await flush()
  const hedge = b[0]!.calls[0] ?? b[2]!.calls[0]
  t.ok(hedge !== undefined, 'hedged')
  t.equal(hedge!.into, undefined, 'the hedge, racing the first, gets none')
  clock.tick(300)
  await flush()
  t.ok(res !== undefined)
  t.ok(b[1]!.calls[0]!.aborted(), 'the first attempt is aborted (its reply stops writing into the buffer)')
  // after an error with nothing else out, the failover attempt is alone again
  const into2 = Buffer.alloc(2)
  const c = [new FakeBrick('b0', () => readRsp('ok')), new FakeBrick('b1', () => Promise.reject(new GlusterError('ENOTCONN', 'down'))), new FakeBrick('b2', never)]
  await replicate(c).read(gfid, 0, 2, [true, true, true], { into: into2 })
  t.equal(c[0]!.calls[0]?.into ?? c[2]!.calls[0]?.into, into2, 'the failover attempt gets the buffer')
})

t.test('an error fails over to the next readable copy at once, without waiting for the hedge', async t => {
  const clock = fakeClock(t)
  const b = [new FakeBrick('b0', () => readRsp('ok')), new FakeBrick('b1', () => Promise.reject(new GlusterError('ENOTCONN', 'down'))), new FakeBrick('b2', never)]
  const r = replicate(b)
  const x = await r.read(gfid, 0, 2, [true, true, true])
  t.equal(x.child, 0)
  t.equal(x.res.data.toString(), 'ok')
  t.equal(clock.countTimers(), 0)
  // a read error from the brick (op_ret -1) also fails over; ENOENT does not
  const c = [new FakeBrick('c0', () => Promise.resolve({ op_ret: -1, op_errno: 5 })), new FakeBrick('c1', () => Promise.resolve({ op_ret: -1, op_errno: 5 })), new FakeBrick('c2', () => readRsp('ok2'))]
  t.equal((await replicate(c).read(gfid, 0, 3, [true, true, true])).res.data.toString(), 'ok2')
  const d = [new FakeBrick('d0', () => readRsp('no')), new FakeBrick('d1', () => Promise.resolve({ op_ret: -1, op_errno: 2 })), new FakeBrick('d2', () => readRsp('no'))]
  await t.rejects(replicate(d).read(gfid, 0, 3, [true, true, true]), { code: 'ENOENT', brick: 'd1' })
  const e = [new FakeBrick('e0', () => Promise.reject(new GlusterError('ENOTCONN', 'x'))), new FakeBrick('e1', () => Promise.reject(new GlusterError('ENOTCONN', 'y')))]
  await t.rejects(replicate(e).read(gfid, 0, 3, [true, true]), { code: 'ENOTCONN' }, 'the last error when every copy failed')
  t.equal(clock.countTimers(), 0)
})

t.test('only readable, usable copies are read; a slow brick is avoided', async t => {
  fakeClock(t)
  const b = [new FakeBrick('b0', () => readRsp('zero')), new FakeBrick('b1', () => readRsp('one')), new FakeBrick('b2', () => readRsp('two'))]
  t.equal((await replicate(b).read(gfid, 0, 3, [true, false, true])).child, 0)
  b[0]!.usable = false
  t.equal((await replicate(b).read(gfid, 0, 3, [true, false, true])).child, 2)
  await t.rejects(replicate(b).read(gfid, 0, 3, [false, false, false]), { code: 'ENOTCONN' })
})

t.test('an abort signal rejects and aborts the attempts', async t => {
  fakeClock(t)
  const b = [new FakeBrick('b0', never), new FakeBrick('b1', never), new FakeBrick('b2', never)]
  const ac = new AbortController()
  const p = replicate(b).read(gfid, 0, 3, [true, true, true], { signal: ac.signal })
  await flush()
  ac.abort()
  await t.rejects(p, { name: 'AbortError' }, 'rejects with signal.reason')
  t.ok(b[1]!.calls[0]!.aborted())
})

t.test('LOOKUP does not wait for a hung brick beyond stragglerMs once a quorum answered', async t => {
  const clock = fakeClock(t)
  const b = [new FakeBrick('b0', () => lookupRsp()), new FakeBrick('b1', never), new FakeBrick('b2', () => lookupRsp())]
  const r = replicate(b)
  let res: Awaited<ReturnType<Replicate['lookup']>> | undefined
  void r.lookup({ pargfid: gfid, name: 'f' }).then(x => { res = x })
  await flush()
  clock.tick(299)
  await flush()
  t.equal(res, undefined, 'still waiting for the third brick')
  clock.tick(1)
  await flush()
  t.ok(res !== undefined)
  t.same(res!.readable, [true, false, true], 'the brick that did not answer is not read')
  t.not(res!.child, 1)
  t.equal(b[1]!.suspected, 1)
  t.equal(clock.countTimers(), 0)
})

t.test('LOOKUP: all bricks agree the name is missing → ENOENT; no quorum → EGLUSTER_NO_QUORUM', async t => {
  fakeClock(t)
  const missing = () => Promise.resolve({ op_ret: -1, op_errno: 2, xdata: null, prestat: stat(0n), poststat: stat(0n) })
  await t.rejects(replicate([new FakeBrick('a', missing), new FakeBrick('b', missing), new FakeBrick('c', missing)]).lookup({ pargfid: gfid, name: 'x' }, { path: '/x' }), { code: 'ENOENT', path: '/x' })
  const down = [new FakeBrick('a', () => lookupRsp()), new FakeBrick('b', never), new FakeBrick('c', never)]
  down[1]!.up = false; down[1]!.usable = false
  down[2]!.up = false; down[2]!.usable = false
  await t.rejects(replicate(down).lookup({ pargfid: gfid, name: 'x' }), { code: 'EGLUSTER_NO_QUORUM' })
})

t.test('split brain: copies accusing each other give EIO with splitBrain', async t => {
  fakeClock(t)
  const pend = (): Buffer => { const x = Buffer.alloc(12); x.writeInt32BE(1, 0); return x }
  const b = [
    new FakeBrick('a', () => lookupRsp(gfxDict({ 'trusted.afr.v-client-1': gfxBin(pend()) }))),
    new FakeBrick('b', () => lookupRsp(gfxDict({ 'trusted.afr.v-client-0': gfxBin(pend()) }))),
  ]
  await t.rejects(replicate(b).lookup({ pargfid: gfid, name: 'sb' }, { path: '/sb' }), { code: 'EIO', errno: 5, splitBrain: true, replicaSet: 'v-replicate-0', path: '/sb' })
  // one copy accused: the other is read
  const c = [
    new FakeBrick('a', () => lookupRsp(gfxDict({ 'trusted.afr.v-client-1': gfxBin(pend()) }))),
    new FakeBrick('b', () => lookupRsp()),
  ]
  const r = await replicate(c).lookup({ pargfid: gfid, name: 'ok' })
  t.same(r.readable, [true, false])
  t.equal(r.child, 0)
})
