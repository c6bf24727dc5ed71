// Issue 13 ("one client can take the whole server down"), the RPC layer, against startCluster():
// unfinished records, a pipelined flood and a connection flood aimed at a brick and at glusterd,
// while a well-behaved client keeps getting LOOKUP/READ answers from the brick and GETSPEC from
// glusterd. The assertions are on the servers' counters (RpcServerStats, the process budget).
import t from 'tap'
import type { Test } from 'tap'
import FakeTimers from '@sinonjs/fake-timers'
import {
  processRecordBudget, DEFAULT_SERVER_MAX_RECORD_BYTES, DEFAULT_PARTIAL_RECORD_BUDGET_BYTES, DEFAULT_STALL_TIMEOUT_MS,
  DEFAULT_MAX_INFLIGHT_PER_CONNECTION, DEFAULT_MAX_CONNECTIONS_PER_PEER,
} from '@gluster-ts/rpc'
import { startCluster } from '@gluster-ts/server'
import type { Cluster } from '@gluster-ts/server'
import { MiB, legitClients, raw, recordStart, statFlood, waitFor, turn } from './rpc-attackers.js'
import type { Legit } from './rpc-attackers.js'

async function setup (t: Test): Promise<{ c: Cluster, legit: Legit, brickPort: number, brickPath: string }> {
  // the well-behaved clients come from 127.0.0.2, outside the default auth.allow (loopback's own addresses)
  const c = await startCluster({ dir: t.testdir(), replica: 1, port: 0, authAllow: '127.0.0.0/8' })
  t.teardown(() => c.close())
  const brickPort = c.brickPort(0)!
  const brickPath = c.volume.bricks[0]!.path
  const legit = await legitClients(t, c.volfileServer, c.volume.name, brickPath, brickPort)
  return { c, legit, brickPort, brickPath }
}

t.test('unfinished records against a brick and glusterd: refused, bounded by the budget, closed when stalled', async t => {
  const { c, legit, brickPort } = await setup(t)
  const brick = c.bricks[0]!.rpc
  const glusterd = c.glusterd.rpc

  // 10 connections to each declare a 60 MiB record and send a few bytes: over the cap, refused at the header
  const declared60 = await Promise.all(Array.from({ length: 20 }, (_, i) => raw(t, i < 10 ? brickPort : c.port)))
  for (const a of declared60) a.s.write(recordStart(60 * MiB, Buffer.alloc(100, 1)))
  await waitFor(t, '20 refused', () => declared60.every(a => a.closed()))
  t.equal(brick.stats.closed.recordTooLarge, 10, 'the brick refused its 10 at their headers')
  t.equal(glusterd.stats.closed.recordTooLarge, 10, 'glusterd refused its 10')
  t.equal(processRecordBudget.bytes, 0, 'nothing held')
  await legit.served()

  // 90 connections each send 1 MB of a record under the cap: 90 MB > the 64 MiB process budget
  t.equal(processRecordBudget.maxBytes, DEFAULT_PARTIAL_RECORD_BUDGET_BYTES)
  const held = await Promise.all(Array.from({ length: 90 }, (_, i) => raw(t, i % 3 === 0 ? c.port : brickPort)))
  for (let i = 0; i < held.length; i++) {
    held[i]!.s.write(recordStart(DEFAULT_SERVER_MAX_RECORD_BYTES - 4096, Buffer.alloc(1_000_000, i)))
    if (i % 10 === 9) {
      await waitFor(t, `batch ${i}`, () => brick.stats.partialRecordBytes + glusterd.stats.partialRecordBytes +
        1_000_000 * (brick.stats.closed.recordBudget + glusterd.stats.closed.recordBudget) >= (i + 1) * 1_000_000)
      t.ok(processRecordBudget.bytes <= processRecordBudget.maxBytes, `within the budget after ${i + 1} (${processRecordBudget.bytes})`)
      await legit.served()
    }
  }
  t.equal(brick.stats.partialRecordBytes + glusterd.stats.partialRecordBytes, processRecordBudget.bytes, 'the servers count what the budget counts')
  const evicted = brick.stats.closed.recordBudget + glusterd.stats.closed.recordBudget
  t.ok(evicted >= 90 - 67 && evicted <= 90 - 60, `the budget closed ${evicted} connections (90 MB into 64 MiB)`)
  t.equal(held.filter(a => a.closed()).length, evicted, 'the attackers, nobody else')
  t.notOk(legit.brick.closed || legit.mgmt.closed)

  // the rest stall: 42 s later they are closed (fake clock from here; the attackers' bytes came before)
  const clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout', 'performance'], shouldClearNativeTimers: true })
  t.teardown(() => { clock.uninstall() })
  const before = processRecordBudget.bytes
  const slow = await Promise.all(Array.from({ length: 6 }, (_, i) => raw(t, i % 2 === 0 ? c.port : brickPort)))
  for (const a of slow) a.s.write(recordStart(1000, Buffer.alloc(10)))
  await waitFor(t, 'slow records held', () => processRecordBudget.bytes === before + 60)
  clock.tick(DEFAULT_STALL_TIMEOUT_MS)
  await waitFor(t, 'stalled closed', () => slow.every(a => a.closed()))
  t.ok(brick.stats.closed.recordStalled + brick.stats.closed.noCall >= 3, 'the brick closed its stalled connections')
  t.ok(glusterd.stats.closed.recordStalled + glusterd.stats.closed.noCall >= 3, 'glusterd closed its stalled connections')
  // the attackers from before the fake clock are past their deadline in real time only: close them
  for (const a of held) a.s.destroy()
  await waitFor(t, 'released', () => processRecordBudget.bytes === 0)
  await legit.served()
  t.notOk(legit.brick.closed || legit.mgmt.closed, 'the well-behaved clients stayed connected throughout')
})

t.test('a pipelined flood on one brick connection runs at most 64 calls at once; others are served meanwhile', async t => {
  const { c, legit, brickPort, brickPath } = await setup(t)
  const brick = c.bricks[0]!.rpc
  const N = 10_000
  const flood = await statFlood(t, c.volume.name, brickPath, brickPort, N)
  let most = 0
  let answered = 0
  while (flood.client.pending > N / 2) {
    most = Math.max(most, brick.stats.callsInFlight)
    await legit.served()
    answered++
    most = Math.max(most, brick.stats.callsInFlight)
  }
  t.ok(answered >= 1, `the well-behaved client was served ${answered} times while half the flood was pending`)
  t.equal(await flood.done, N, 'every flood call answered in the end')
  t.ok(most <= DEFAULT_MAX_INFLIGHT_PER_CONNECTION + 1, `at most ${DEFAULT_MAX_INFLIGHT_PER_CONNECTION} of the flood ran at once (seen: ${most} with the other client's)`)
  t.equal(brick.stats.callsInFlight, 0)
})

t.test('a connection flood from one address is capped per peer; other addresses and existing clients are served', async t => {
  const { c, legit, brickPort } = await setup(t)
  const brick = c.bricks[0]!.rpc
  const glusterd = c.glusterd.rpc
  const n = DEFAULT_MAX_CONNECTIONS_PER_PEER + 20
  const flood: Array<Awaited<ReturnType<typeof raw>>> = []
  for (let i = 0; i < n; i++) flood.push(await raw(t, brickPort), await raw(t, c.port))
  await waitFor(t, 'refusals', () => flood.filter(a => a.closed()).length === 40)
  t.equal(brick.stats.closed.peerFull, 20, 'the brick served 256 from 127.0.0.1 and closed 20')
  t.equal(glusterd.stats.closed.peerFull, 20, 'so did glusterd')
  await legit.served()
  // a new client from another address still gets in
  const again = await legitClients(t, c.volfileServer, c.volume.name, c.volume.bricks[0]!.path, brickPort)
  await again.served()
  for (const a of flood) a.s.destroy()
  for (let i = 0; i < 20; i++) await turn()
})
