import t from 'tap'
import type { Test } from 'tap'
import { EventEmitter } from 'node:events'
import FakeTimers from '@sinonjs/fake-timers'
import { DEFAULT_CALL_TIMEOUT_MS } from '@gluster-ts/rpc'
import { startPair, TestProgram } from './fixtures.js'

/**
 * Deadlines are driven by @sinonjs/fake-timers: setTimeout/clearTimeout and performance.now
 * (the client's clock) are faked, the sockets are real. No real sleeps.
 */
type Clock = ReturnType<typeof FakeTimers.install>

function fakeClock (t: Test): Clock {
  const clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
  t.teardown(() => { clock.uninstall() })
  return clock
}

/** Let real I/O happen (the call reaches the server) without moving the fake clock. */
const io = (): Promise<void> => new Promise(resolve => setImmediate(resolve))

t.test('a call with no reply fails with EGLUSTER_TIMEOUT at its deadline, naming the deadline', async t => {
  const { client } = await startPair(t)
  const clock = fakeClock(t)
  const p = client.call(TestProgram.procs.HANG, undefined, { timeoutMs: 5000 })
  let settled = false
  p.catch(() => {}).finally(() => { settled = true })
  await io()
  clock.tick(4998)
  await io()
  t.notOk(settled, 'not before the deadline')
  clock.tick(2)
  await t.rejects(p, {
    name: 'GlusterError', code: 'EGLUSTER_TIMEOUT', procedure: 'HANG', program: 'Test', xid: 2, peer: client.peer,
    message: /HANG \(xid 2\) got no reply within timeoutMs 5000 \(peer 127\.0\.0\.1:\d+\)/,
  })
  t.equal(client.pending, 0)
  t.equal(clock.countTimers(), 0, 'no timer left once nothing is pending')
  t.notOk(client.closed, 'a timeout does not close the connection')
  t.match(await client.call(TestProgram.procs.ECHO, { n: 1, s: '' }), { n: 1 })
})

t.test('one timer serves many deadlines; each call expires at its own', async t => {
  const { client } = await startPair(t)
  const clock = fakeClock(t)
  const order: string[] = []
  const a = client.call(TestProgram.procs.HANG, undefined, { timeoutMs: 3000 }).catch(e => { order.push(`a ${e.code}`) })
  const b = client.call(TestProgram.procs.HANG, undefined, { timeoutMs: 1000 }).catch(e => { order.push(`b ${e.code}`) })
  const c = client.call(TestProgram.procs.HANG, undefined, { timeoutMs: 2000 }).catch(e => { order.push(`c ${e.code}`) })
  t.equal(clock.countTimers(), 1, 'one timer for three deadlines')
  await io()
  clock.tick(1000)
  await b
  t.same(order, ['b EGLUSTER_TIMEOUT'])
  clock.tick(1000)
  await c
  clock.tick(1000)
  await a
  t.same(order, ['b EGLUSTER_TIMEOUT', 'c EGLUSTER_TIMEOUT', 'a EGLUSTER_TIMEOUT'])
  t.equal(clock.countTimers(), 0)
})

t.test('the client default deadline, and timeoutMs 0 = none', async t => {
  t.equal(DEFAULT_CALL_TIMEOUT_MS, 1_800_000, 'GlusterFS frame-timeout')
  const { client } = await startPair(t, { client: { timeoutMs: 250 } })
  const clock = fakeClock(t)
  const p = client.call(TestProgram.procs.HANG, undefined)
  const forever = client.call(TestProgram.procs.HANG, undefined, { timeoutMs: 0 })
  let foreverDone = false
  forever.catch(() => {}).finally(() => { foreverDone = true })
  await io()
  clock.tick(250)
  await t.rejects(p, { code: 'EGLUSTER_TIMEOUT', message: /timeoutMs 250/ })
  clock.tick(10_000_000)
  await io()
  t.notOk(foreverDone, 'no deadline')
  t.equal(clock.countTimers(), 0)
  client.destroy()
  await t.rejects(forever, { code: 'EGLUSTER_CLOSED' })
})

t.test('a late reply after the deadline is ignored and counted', async t => {
  const { client, server } = await startPair(t)
  const clock = fakeClock(t)
  // DELAY uses the (fake) setTimeout on the server side too: its reply comes when we tick
  const p = client.call(TestProgram.procs.DELAY, { ms: 2000, n: 1 }, { timeoutMs: 1000 })
  const conn = [...server.connections][0]!
  while (conn.inflight === 0) await io()
  clock.tick(1000)
  await t.rejects(p, { code: 'EGLUSTER_TIMEOUT' })
  clock.tick(1000)
  while (client.stats.unknownXidReplies === 0) await io()
  t.equal(client.stats.unknownXidReplies, 1)
  t.match(await client.call(TestProgram.procs.ECHO, { n: 5, s: '' }), { n: 5 })
})

t.test('AbortSignal: rejects with signal.reason, or an AbortError; the listener is removed', async t => {
  const { client } = await startPair(t)
  const ac = new AbortController()
  const p = client.call(TestProgram.procs.HANG, undefined, { signal: ac.signal })
  await io()
  const reason = new Error('user gave up')
  ac.abort(reason)
  await t.rejects(p, reason)
  t.equal(client.pending, 0)

  const pre = new AbortController()
  pre.abort()
  await t.rejects(client.call(TestProgram.procs.ECHO, { n: 1, s: '' }, { signal: pre.signal }), { name: 'AbortError' })
  t.equal(client.stats.calls, 1, 'an already-aborted signal sends nothing')

  // a signal that outlives many calls does not collect listeners
  const long = new AbortController()
  for (let i = 0; i < 20; i++) await client.call(TestProgram.procs.ECHO, { n: i, s: '' }, { signal: long.signal })
  t.equal(EventEmitter.getEventListeners(long.signal, 'abort').length, 0)
})

t.test('close() with calls that never answer: fails them with EGLUSTER_CLOSED at its deadline, leaves no timer', async t => {
  const { client } = await startPair(t)
  const clock = fakeClock(t)
  const p = client.call(TestProgram.procs.HANG, undefined)
  await io()
  const closing = client.close({ timeoutMs: 2000 })
  await io()
  clock.tick(2000)
  await t.rejects(p, { code: 'EGLUSTER_CLOSED', procedure: 'HANG', message: /closed before the reply/ })
  await closing
  t.ok(client.socket.destroyed)
  t.equal(clock.countTimers(), 0, 'no timer left')
})

t.test('destroy() fails pending calls at once and clears the deadline timer', async t => {
  const { client } = await startPair(t)
  const clock = fakeClock(t)
  const p = client.call(TestProgram.procs.HANG, undefined, { timeoutMs: 60_000 })
  t.equal(clock.countTimers(), 1)
  const why = new Error('shutting down')
  client.destroy(why)
  await t.rejects(p, why)
  t.equal(clock.countTimers(), 0)
  client.destroy()
})
