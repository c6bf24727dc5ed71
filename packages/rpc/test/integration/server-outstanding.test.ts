// Issue 13: "a client pipelining thousands of calls gets them all executed concurrently". At most
// maxInflightPerConnection handlers run per connection (GlusterFS's outstanding-rpc-limit) and the
// server stops reading that connection meanwhile; calls that wait for another call (locks) are
// parked so that the call they wait for can still be read.
import t from 'tap'
import type { Test } from 'tap'
import { RpcServer, RpcClient, RecordBudget, defineProgram, xdr, DEFAULT_MAX_INFLIGHT_PER_CONNECTION, FopProgram } from '@gluster-ts/rpc'
import type { Handlers, RpcServerOptions, ServerConnection } from '@gluster-ts/rpc'
import { TestProgram, testHandlers } from './fixtures.js'
import { waitFor, turn } from './raw-peer.js'

const { struct, u32, i32 } = xdr
const Rsp = struct({ op_ret: i32, op_errno: i32 })
const Key = struct({ key: u32 })

/** Locks by key: LOCK waits until the key is free (blocking, as INODELK is), UNLOCK frees it. */
const LockProgram = defineProgram({
  name: 'Locks',
  prog: 0x20000103,
  vers: 1,
  procs: {
    /** waits for UNLOCK; declared blocking: parked from the start */
    LOCK: { num: 1, args: Key, res: Rsp, blocking: true },
    /** waits for UNLOCK; not declared blocking, its handler calls ctx.park() */
    PARK_AND_WAIT: { num: 2, args: Key, res: Rsp },
    /** waits for UNLOCK and never parks: it fills the outstanding limit */
    WAIT: { num: 3, args: Key, res: Rsp },
    UNLOCK: { num: 4, args: Key, res: Rsp },
  },
})

function lockHandlers (): { handlers: Handlers<typeof LockProgram>, unlocked: () => number, release: (key: number) => void } {
  const waiters = new Map<number, Array<() => void>>()
  let unlocks = 0
  const wait = (key: number): Promise<{ op_ret: number, op_errno: number }> => new Promise(resolve => {
    const list = waiters.get(key) ?? []
    list.push(() => { resolve({ op_ret: 0, op_errno: 0 }) })
    waiters.set(key, list)
  })
  const release = (key: number): void => {
    for (const f of waiters.get(key) ?? []) f()
    waiters.delete(key)
  }
  return {
    handlers: {
      LOCK: ({ key }) => wait(key),
      PARK_AND_WAIT: ({ key }, ctx) => { ctx.park(); return wait(key) },
      WAIT: ({ key }) => wait(key),
      UNLOCK: ({ key }) => { unlocks++; release(key); return { op_ret: 0, op_errno: 0 } },
    },
    unlocked: () => unlocks,
    release,
  }
}

async function serve (t: Test, opts: RpcServerOptions, handlers: Handlers<typeof TestProgram> = testHandlers,
  locks?: Handlers<typeof LockProgram>): Promise<{ server: RpcServer, address: string }> {
  const server = new RpcServer({ recordBudget: new RecordBudget(), ...opts })
  server.register(TestProgram, handlers)
  if (locks !== undefined) server.register(LockProgram, locks)
  const address = await server.listen(0, '127.0.0.1')
  t.teardown(() => server.close({ timeoutMs: 100 }))
  return { server, address }
}

async function connect (t: Test, address: string): Promise<RpcClient> {
  const c = await RpcClient.connect(address)
  t.teardown(() => { c.destroy() })
  return c
}

t.test('10 000 pipelined calls to a slow handler: at most the limit run at once, all are answered, others are served', async t => {
  t.equal(DEFAULT_MAX_INFLIGHT_PER_CONNECTION, 64)
  let running = 0
  let most = 0
  let sawPaused = false
  let conn: ServerConnection | undefined
  const { server, address } = await serve(t, {}, {
    ...testHandlers,
    DELAY: async ({ n }) => {
      running++
      most = Math.max(most, running)
      if (conn?.readingPaused === true) sawPaused = true
      // slow: several event-loop turns (disk I/O would be similar)
      for (let i = 0; i < 3; i++) await turn()
      running--
      return { op_ret: 0, op_errno: 0, n, s: '' }
    },
  })
  const flood = await connect(t, address)
  const other = await connect(t, address)
  conn = [...server.connections][0]!
  const N = 10_000
  const calls = Array.from({ length: N }, (_, i) => flood.call(TestProgram.procs.DELAY, { ms: 0, n: i }, { timeoutMs: 600_000 }))
  // while the flood is being worked through, the other connection is answered
  await waitFor(t, 'flood started', () => running > 0)
  const served: number[] = []
  while (flood.pending > N / 2) {
    served.push((await other.call(TestProgram.procs.ECHO, { n: served.length, s: '' })).n)
    t.ok(server.stats.callsInFlight <= DEFAULT_MAX_INFLIGHT_PER_CONNECTION + 1, 'in flight: at most the limit (+ the other connection\'s)')
  }
  t.ok(served.length >= 1, `the other connection got ${served.length} answers while ${flood.pending} of the flood were pending`)
  const results = await Promise.all(calls)
  t.equal(results.length, N)
  t.ok(results.every((r, i) => r.n === i), 'every call answered, with its own result')
  t.equal(most, DEFAULT_MAX_INFLIGHT_PER_CONNECTION, `never more than ${DEFAULT_MAX_INFLIGHT_PER_CONNECTION} at once`)
  t.ok(sawPaused, 'the server stopped reading the flooding connection while the limit was reached')
  t.equal(server.stats.callsInFlight, 0)
})

t.test('blocking calls are parked: a connection whose unlock comes after its lock calls does not deadlock', async t => {
  const locks = lockHandlers()
  const { server, address } = await serve(t, { maxInflightPerConnection: 2 }, testHandlers, locks.handlers)
  const c = await connect(t, address)
  let mostParked = 0
  let mostCounted = 0
  const watch = setInterval(() => {
    mostParked = Math.max(mostParked, server.stats.parkedCalls)
    mostCounted = Math.max(mostCounted, server.stats.callsInFlight - server.stats.parkedCalls)
  }, 0)
  t.teardown(() => { clearInterval(watch) })
  // 6 LOCKs wait for the UNLOCK that follows them on the same connection; only 2 calls may run
  const lockCalls = Array.from({ length: 6 }, () => c.call(LockProgram.procs.LOCK, { key: 1 }))
  const parkCalls = Array.from({ length: 6 }, () => c.call(LockProgram.procs.PARK_AND_WAIT, { key: 1 }))
  await waitFor(t, 'parked', () => server.stats.parkedCalls === 12)
  mostParked = Math.max(mostParked, server.stats.parkedCalls)
  t.same(await c.call(LockProgram.procs.UNLOCK, { key: 1 }), { op_ret: 0, op_errno: 0 }, 'the unlock was read and run')
  t.same((await Promise.all([...lockCalls, ...parkCalls])).map(r => r.op_ret), Array(12).fill(0), 'every lock call answered')
  t.equal(mostParked, 12, 'the 12 waiting calls were parked (6 blocking procedures, 6 through ctx.park())')
  t.ok(mostCounted <= 2, 'counted calls stayed within the limit')
  t.equal(server.stats.parkedCalls, 0)
  t.equal(server.stats.callsInFlight, 0)
})

t.test('without parking, waiting calls fill the limit and the connection is not read: what parking prevents', async t => {
  const locks = lockHandlers()
  const { server, address } = await serve(t, { maxInflightPerConnection: 2 }, testHandlers, locks.handlers)
  const c = await connect(t, address)
  const waits = [c.call(LockProgram.procs.WAIT, { key: 1 }), c.call(LockProgram.procs.WAIT, { key: 1 })]
  const unlock = c.call(LockProgram.procs.UNLOCK, { key: 1 })
  const conn = [...server.connections][0]!
  await waitFor(t, 'two running', () => server.stats.callsInFlight === 2)
  for (let i = 0; i < 200; i++) await turn()
  t.equal(locks.unlocked(), 0, 'the unlock sits behind the two waits')
  t.ok(conn.readingPaused || conn.queued > 0, 'the connection is throttled')
  // an unlock from elsewhere (another client, as GlusterFS's lock owners may) frees them
  locks.release(1)
  await Promise.all([...waits, unlock])
  t.equal(locks.unlocked(), 1)
})

t.test('maxParkedPerConnection bounds parked calls; past it, a waiting call counts again', async t => {
  const locks = lockHandlers()
  const { server, address } = await serve(t, { maxInflightPerConnection: 2, maxParkedPerConnection: 3 }, testHandlers, locks.handlers)
  const c = await connect(t, address)
  const calls = Array.from({ length: 6 }, () => c.call(LockProgram.procs.LOCK, { key: 1 }))
  await waitFor(t, '3 parked + 2 counted', () => server.stats.callsInFlight === 5)
  for (let i = 0; i < 200; i++) await turn()
  t.equal(server.stats.parkedCalls, 3)
  t.equal(server.stats.callsInFlight, 5, 'the sixth waits: the connection is throttled')
  locks.release(1)
  await waitFor(t, 'the sixth runs', () => server.stats.callsInFlight === 1)
  locks.release(1)
  t.same((await Promise.all(calls)).map(r => r.op_ret), Array(6).fill(0))
})

t.test('the FOP lock procedures are declared blocking, as rpcsvc exempts them from the outstanding limit', async t => {
  const blocking = Object.values(FopProgram.procs).filter(p => p.blocking === true).map(p => p.name).sort()
  t.same(blocking, ['ENTRYLK', 'FENTRYLK', 'FINODELK', 'INODELK', 'LK'])
})
