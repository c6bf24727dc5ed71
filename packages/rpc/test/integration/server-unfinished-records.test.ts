// Issue 13: "10 connections holding unfinished 60 MiB records add 540 MiB of RSS that is never
// returned". What an RpcServer holds for unfinished records is what it received (stats and the
// process budget count it), the budget closes the connection whose record waited longest, and a
// record that makes no progress for stallTimeoutMs closes its connection. Counters, not RSS.
import t from 'tap'
import type { Test } from 'tap'
import FakeTimers from '@sinonjs/fake-timers'
import { RpcServer, RpcClient, RecordBudget, DEFAULT_SERVER_MAX_RECORD_BYTES, DEFAULT_STALL_TIMEOUT_MS } from '@gluster-ts/rpc'
import type { RpcServerOptions, ServerConnection } from '@gluster-ts/rpc'
import { TestProgram, testHandlers } from './fixtures.js'
import { rawConnect, waitFor, echoRecord, recordStart, turn } from './raw-peer.js'
import type { RawPeer } from './raw-peer.js'

const MiB = 1024 * 1024

async function serve (t: Test, opts: RpcServerOptions): Promise<{ server: RpcServer, address: string, client: RpcClient }> {
  const server = new RpcServer(opts)
  server.register(TestProgram, testHandlers)
  const address = await server.listen(0, '127.0.0.1')
  const client = await RpcClient.connect(address)
  t.teardown(async () => {
    client.destroy()
    await server.close({ timeoutMs: 100 })
  })
  return { server, address, client }
}

const echo = async (client: RpcClient, n: number): Promise<number> => (await client.call(TestProgram.procs.ECHO, { n, s: 'still served' })).n

t.test('ten unfinished 60 MiB records: the server holds what was received, and the budget closes the longest-waiting', async t => {
  const budget = new RecordBudget(8 * MiB)
  // the cap raised so that a 60 MiB header is not refused outright (the default cap refuses it: below)
  const { server, address, client } = await serve(t, { maxRecordBytes: 64 * MiB, recordBudget: budget })
  const attackers: RawPeer[] = []
  for (let i = 0; i < 10; i++) {
    const a = await rawConnect(t, address)
    await a.write(recordStart(60 * MiB, Buffer.alloc(1000, i)))
    attackers.push(a)
  }
  await waitFor(t, '10 000 bytes held', () => server.stats.partialRecordBytes === 10_000)
  t.equal(server.stats.partialRecordBytes, 10_000, 'the bytes received, not 10 x 60 MiB declared')
  t.equal(budget.bytes, 10_000)
  t.equal(budget.holders, 10)
  t.equal(await echo(client, 1), 1, 'another connection is served')

  // each sends 1 MB more, one after the other: the 9th pushes the total over 8 MiB
  let legit: RawPeer | undefined
  for (let i = 0; i < 10; i++) {
    if (i === 8) {
      // a legitimate client starts a call just before: its record is in progress, not waiting
      legit = await rawConnect(t, address)
      await legit.write(echoRecord(77, 'x'.repeat(200)).subarray(0, 100))
      await waitFor(t, 'legit partial', () => connOf(server, legit!)?.heldBytes === 96)
    }
    const a = attackers[i]!
    if (a.closed) continue
    await a.write(Buffer.alloc(1_000_000, i))
    await waitFor(t, `attacker ${i} received`, () => a.closed || connOf(server, a)?.heldBytes === 1_001_000)
    t.ok(budget.bytes <= budget.maxBytes, `under the budget after attacker ${i} (${budget.bytes} <= ${budget.maxBytes})`)
    t.equal(server.stats.partialRecordBytes, budget.bytes, 'the server counts what the budget counts')
    t.equal(heldBy(server), budget.bytes, 'and what its connections hold')
  }
  await waitFor(t, 'two evictions', () => attackers.filter(a => a.closed).length === 2)
  t.equal(server.stats.closed.recordBudget, 2, 'two connections closed by the budget')
  t.equal(budget.evictions, 2)
  // attacker 9 sent nothing since its first 1000 bytes, attacker 0 its 1 MB before the others
  t.same(attackers.map(a => a.closed), [true, false, false, false, false, false, false, false, false, true],
    'the two whose records had waited longest for a byte')
  t.notOk(legit!.closed, 'the record in progress was not chosen')
  // the legitimate client's call completes and is answered
  await legit!.write(echoRecord(77, 'x'.repeat(200)).subarray(100))
  await waitFor(t, 'legit reply', () => legit!.receivedBytes >= 4 + 24 + 16 + 200)
  t.equal(Buffer.concat(legit!.received).readUInt32BE(4), 77, 'its call was answered')
  t.equal(await echo(client, 2), 2)
  for (const a of attackers) a.socket.destroy()
  await waitFor(t, 'all released', () => budget.bytes === 0)
  t.equal(server.stats.partialRecordBytes, 0)
  t.equal(budget.holders, 0)
})

/** The server's end of a raw peer's connection. */
function connOf (server: RpcServer, peer: RawPeer): ServerConnection | undefined {
  return [...server.connections].find(c => c.socket.remotePort === peer.socket.localPort)
}

/** Bytes held by the server's connections (a cross-check of stats.partialRecordBytes). */
function heldBy (server: RpcServer): number {
  let n = 0
  for (const c of server.connections) n += c.heldBytes
  return n
}

t.test('a record over the cap is refused at its header; the default cap fits a 1 MiB WRITE', async t => {
  const budget = new RecordBudget()
  const { server, address, client } = await serve(t, { recordBudget: budget })
  t.equal(DEFAULT_SERVER_MAX_RECORD_BYTES, 1024 * 1024 + 64 * 1024)
  const a = await rawConnect(t, address)
  await a.write(recordStart(60 * MiB, Buffer.alloc(10)))
  await a.closedP
  t.equal(server.stats.closed.recordTooLarge, 1, 'closed as soon as the header arrived')
  t.equal(server.stats.protocolErrors, 1)
  t.equal(budget.bytes, 0, 'nothing held')
  const b = await rawConnect(t, address)
  await b.write(recordStart(DEFAULT_SERVER_MAX_RECORD_BYTES + 1))
  await b.closedP
  t.equal(server.stats.closed.recordTooLarge, 2, 'one byte over the cap')
  // a 1 MiB WRITE with its headers fits
  const data = Buffer.alloc(MiB, 5)
  t.same(await client.call(TestProgram.procs.WRITE, { size: MiB, data }), { op_ret: MiB, op_errno: 0 })
  // a 1.1 MiB one does not: the client sees its connection closed
  const big = Buffer.alloc(DEFAULT_SERVER_MAX_RECORD_BYTES, 5)
  await t.rejects(client.call(TestProgram.procs.WRITE, { size: big.length, data: big }), { code: 'EGLUSTER_CONNECTION_LOST' })
  t.equal(server.stats.closed.recordTooLarge, 3)
})

type Clock = ReturnType<typeof FakeTimers.install>
function fakeClock (t: Test): Clock {
  const clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
  t.teardown(() => { clock.uninstall() })
  return clock
}

t.test('unfinished records that get no byte for stallTimeoutMs close their connections; others are served', async t => {
  const clock = fakeClock(t)
  const budget = new RecordBudget()
  const { server, address, client } = await serve(t, { maxRecordBytes: 64 * MiB, recordBudget: budget })
  t.equal(DEFAULT_STALL_TIMEOUT_MS, 42_000)
  // slowloris: each sends one whole call (so that only the stall applies), then a 60 MiB header and a few bytes
  const attackers: RawPeer[] = []
  for (let i = 0; i < 10; i++) {
    const a = await rawConnect(t, address)
    await a.write(Buffer.concat([echoRecord(i + 1), recordStart(60 * MiB, Buffer.alloc(16, i))]))
    attackers.push(a)
  }
  // one more keeps its record alive with a byte every 30 s
  const trickler = await rawConnect(t, address)
  await trickler.write(Buffer.concat([echoRecord(99), recordStart(60 * MiB, Buffer.alloc(16))]))
  await waitFor(t, 'records held', () => server.stats.partialRecordBytes === 11 * 16)
  t.equal(await echo(client, 1), 1)

  clock.tick(30_000)
  await trickler.write(Buffer.alloc(1))
  await waitFor(t, 'trickled byte', () => server.stats.partialRecordBytes === 11 * 16 + 1)
  clock.tick(DEFAULT_STALL_TIMEOUT_MS - 30_000 - 1)
  for (let i = 0; i < 20; i++) await turn()
  t.equal(attackers.filter(a => a.closed).length, 0, 'nobody closed 1 ms before the deadline')
  t.equal(await echo(client, 2), 2)
  clock.tick(1)
  await Promise.all(attackers.map(a => a.closedP))
  t.equal(server.stats.closed.recordStalled, 10, 'the ten stalled records closed their connections')
  t.notOk(trickler.closed, 'the record that got a byte 12 s ago is still waited for')
  t.equal(server.stats.partialRecordBytes, 17)
  t.equal(budget.bytes, 17)
  t.equal(await echo(client, 3), 3, 'the well-behaved connection is served')
  clock.tick(30_000)
  await trickler.closedP
  t.equal(server.stats.closed.recordStalled, 11)
  t.equal(server.stats.partialRecordBytes, 0)
  t.equal(budget.bytes, 0)
  t.equal(server.stats.closed.noCall, 0)
  t.notOk(client.closed, 'an idle connection between calls is never closed')
  clock.tick(10 * DEFAULT_STALL_TIMEOUT_MS)
  t.equal(await echo(client, 4), 4)
})

t.test('a connection that sends no whole call within firstCallTimeoutMs is closed', async t => {
  const clock = fakeClock(t)
  const { server, address, client } = await serve(t, { recordBudget: new RecordBudget() })
  t.equal(await echo(client, 1), 1)
  const silent = await rawConnect(t, address)
  const header = await rawConnect(t, address)
  await header.write(Buffer.from([0x80, 0])) // half a record mark
  const caller = await rawConnect(t, address)
  await caller.write(echoRecord(5))
  await waitFor(t, '4 connections', () => server.connections.size === 4)
  clock.tick(41_999)
  for (let i = 0; i < 20; i++) await turn()
  t.notOk(silent.closed || header.closed)
  clock.tick(1)
  await Promise.all([silent.closedP, header.closedP])
  t.equal(server.stats.closed.noCall, 2)
  t.notOk(caller.closed, 'a connection that sent a call stays')
  t.equal(server.connections.size, 2)
  t.equal(await echo(client, 2), 2)
  // once no connection is left, the server keeps no timer
  client.destroy()
  caller.socket.destroy()
  await waitFor(t, 'no connections', () => server.connections.size === 0)
  t.equal(clock.countTimers(), 0, 'no timer left')
})

t.test('limits are validated', async t => {
  t.throws(() => new RpcServer({ maxInflightPerConnection: 0 }), RangeError)
  t.throws(() => new RpcServer({ stallTimeoutMs: -1 }), RangeError)
  t.throws(() => new RpcServer({ maxRecordBytes: Infinity }), RangeError)
  t.throws(() => new RecordBudget(0), RangeError)
  t.doesNotThrow(() => new RpcServer({ stallTimeoutMs: 0, firstCallTimeoutMs: 0, maxConnections: Infinity }))
})
