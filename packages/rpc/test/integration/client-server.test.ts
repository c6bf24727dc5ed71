import t from 'tap'
import { once } from 'node:events'
import {
  RpcClient, RpcServer, glusterfsV2Cred, glusterfsV3Cred, decodeCredential, trace, RecordDecoder, decodeMessage,
} from '@gluster-ts/rpc'
import type { TraceEvent, CallContext, Credential, OpaqueAuth } from '@gluster-ts/rpc'
import { startPair, rawServer, TestProgram, TestProgramV3, TestCallbacks, testHandlers, payload } from './fixtures.js'

for (const unix of [false, true]) {
  t.test(`calls over ${unix ? 'a unix socket' : 'TCP on 127.0.0.1'}`, async t => {
    const { client, server, address } = await startPair(t, { unix })
    t.match(address, unix ? /^unix:\// : /^127\.0\.0\.1:\d+$/)
    t.equal(client.peer, address)
    const r = await client.call(TestProgram.procs.ECHO, { n: -5, s: 'hello' })
    t.same(r, { op_ret: 0, op_errno: 0, n: -5, s: 'hello' })
    t.same(await client.call(TestProgramV3.procs.ECHO, { n: 1, s: 'x' }), { op_ret: 0, op_errno: 0, n: 1, s: 'v3 x' }, 'two versions of one program')
    t.equal(server.connections.size, 1)
    t.equal(client.pending, 0)
    t.match(client.stats, { calls: 2, replies: 2, unknownXidReplies: 0 })
  })
}

t.test('xids start at 2 and pre-increment, like GlusterFS; firstXid continues a counter', async t => {
  const seen: number[] = []
  const { client, address } = await startPair(t, {
    handlers: { ...testHandlers, ECHO: ({ n, s }, ctx) => { seen.push(ctx.xid); return { op_ret: 0, op_errno: 0, n, s } } },
  })
  t.equal(client.nextXid, 2)
  await client.call(TestProgram.procs.ECHO, { n: 1, s: '' })
  await client.call(TestProgram.procs.ECHO, { n: 2, s: '' })
  t.same(seen, [2, 3])
  const again = await RpcClient.connect(address, { firstXid: client.nextXid })
  t.teardown(() => { again.destroy() })
  await again.call(TestProgram.procs.ECHO, { n: 3, s: '' })
  t.same(seen, [2, 3, 4], 'the counter is not reset on reconnect')
})

t.test('64 concurrent calls, answered out of order, each gets its own reply', async t => {
  const { client } = await startPair(t)
  const calls = Array.from({ length: 64 }, (_, i) =>
    client.call(TestProgram.procs.DELAY, { ms: (i * 7) % 13, n: i }))
  t.equal(client.pending, 64)
  const results = await Promise.all(calls)
  results.forEach((r, i) => { t.equal(r.n, i) })
  t.equal(client.pending, 0)
  const xids = new Set(results.map(r => r.s))
  t.equal(xids.size, 64, 'distinct xids')
})

t.test('credentials: default, function, per call, setCredential; the server decodes them', async t => {
  const creds: Array<Credential | OpaqueAuth> = []
  const raw: OpaqueAuth[] = []
  const { client, address } = await startPair(t, {
    handlers: { ...testHandlers, ECHO: ({ n, s }, ctx: CallContext) => { creds.push(ctx.cred); raw.push(ctx.rawCred); return { op_ret: 0, op_errno: 0, n, s } } },
    client: { cred: glusterfsV2Cred({ pid: 11686, uid: 1000, gid: 1000, groups: [10] }) },
  })
  const echo = (): Promise<unknown> => client.call(TestProgram.procs.ECHO, { n: 0, s: '' })
  await echo()
  t.match(creds[0], { flavor: 390039, pid: 11686, uid: 1000, gid: 1000, groups: [10] })
  t.same((creds[0] as { lk_owner: Buffer }).lk_owner, Buffer.from('a62d0000', 'hex'))
  const v3 = glusterfsV3Cred({ pid: 7, flags: 3, ctime_sec: 5n, ctime_nsec: 6 })
  await client.call(TestProgram.procs.ECHO, { n: 0, s: '' }, { cred: v3 })
  t.same(creds[1], v3, 'per-call override')
  let n = 0
  client.setCredential(() => glusterfsV3Cred({ pid: ++n }))
  await echo()
  await echo()
  t.match(creds.slice(2), [{ flavor: 390040, pid: 1 }, { flavor: 390040, pid: 2 }], 'a function is asked on every call')
  client.setCredential({ flavor: 4242, body: Buffer.from('abcd') })
  await echo()
  t.same(creds[4], { flavor: 4242, body: Buffer.from('abcd') }, 'an unknown flavor passes through as raw bytes')
  t.same(raw[0], { flavor: 390039, body: Buffer.from('00002da6000003e8000003e8000000010000000a00000004a62d0000', 'hex') })

  // the default credential is AUTH_NULL
  const plain = await RpcClient.connect(address)
  t.teardown(() => { plain.destroy() })
  await plain.call(TestProgram.procs.ECHO, { n: 0, s: '' })
  t.same(creds[5], { flavor: 0 })
  t.same(decodeCredential(raw[5]!), { flavor: 0 })
})

t.test('a 1 MiB READ payload arrives as a slice of the record, not a copy', async t => {
  const { client } = await startPair(t)
  const size = 1024 * 1024
  const r = await client.call(TestProgram.procs.READ, { size, fill: 0x5a })
  t.equal(r.op_ret, size)
  t.equal(r.data.length, size)
  t.ok(r.data.equals(payload(size, 0x5a)))
  // the record is xid..verf..accept_stat (24) + op_ret + op_errno (8) + data: the payload is a
  // view at offset 32 of one buffer holding exactly that record (concatenated once)
  t.equal(r.data.byteOffset, 32)
  t.equal(r.data.buffer.byteLength, size + 32)
  // and several READs in a row keep their own bytes
  const [a, b] = await Promise.all([
    client.call(TestProgram.procs.READ, { size: 200_000, fill: 1 }),
    client.call(TestProgram.procs.READ, { size: 200_000, fill: 2 }),
  ])
  t.ok(a.data.every(x => x === 1))
  t.ok(b.data.every(x => x === 2))
  t.ok(r.data.every(x => x === 0x5a), 'the first payload is untouched by later reads')
})

t.test('a large WRITE payload reaches the server intact', async t => {
  // 3 MiB: over the server's default cap (1 MiB + 64 KiB), raised here
  const { client } = await startPair(t, { server: { maxRecordBytes: 4 * 1024 * 1024 } })
  const data = Buffer.alloc(3 * 1024 * 1024 + 3)
  for (let i = 0; i < data.length; i++) data[i] = i & 0xff
  const r = await client.call(TestProgram.procs.WRITE, { size: data.length, data })
  t.same(r, { op_ret: data.length, op_errno: 0 })
})

t.test('small calls issued in one tick go out in one write', async t => {
  const { client, server } = await startPair(t)
  const conn = [...server.connections][0]!
  const chunks: number[] = []
  conn.socket.on('data', (c: Buffer) => { chunks.push(c.length) })
  await Promise.all(Array.from({ length: 20 }, (_, i) => client.call(TestProgram.procs.ECHO, { n: i, s: 'x' })))
  t.equal(chunks.length, 1, `one segment for 20 calls (got ${chunks.join(',')})`)
  t.equal(chunks[0], 20 * (4 + 40 + 12), 'record mark + header + args, 20 times')
})

t.test('the server sends one-way callbacks; the client dispatches them and never replies', async t => {
  const { client, server } = await startPair(t)
  const got: Array<{ name: string, args: unknown, xid: number }> = []
  const done = new Promise<void>(resolve => {
    client.onCall(TestCallbacks, {
      FETCHSPEC: (args, info) => { got.push({ name: info.procedure, args, xid: info.xid }) },
      NOTE: async (args, info) => {
        got.push({ name: info.procedure, args, xid: info.xid })
        t.equal(info.cred.flavor, 0, 'callbacks carry AUTH_NULL')
        t.equal(info.client, client)
        resolve()
      },
    })
  })
  const events: TraceEvent[] = []
  const stop = trace(e => { if (e.type === 'callback') events.push(e) })
  t.teardown(stop)
  const conn = [...server.connections][0]!
  let repliesAtServer = 0
  const dec = new RecordDecoder()
  conn.socket.on('data', (c: Buffer) => { for (const r of dec.push(c)) if (decodeMessage(r).msg.mtype === 1) repliesAtServer++ })
  await client.call(TestProgram.procs.KICK, { what: 1 })
  await client.call(TestProgram.procs.KICK, { what: 3 })
  await client.call(TestProgram.procs.KICK, { what: 2 })
  await done
  t.same(got, [
    { name: 'FETCHSPEC', args: undefined, xid: 1 },
    { name: 'NOTE', args: { text: 'hello from the server' }, xid: 3 },
  ], 'callback xids count from 1 on the connection; unknown procs are ignored')
  // a direct send from the connection object too
  const xid = conn.send(TestCallbacks.procs.FETCHSPEC, undefined)
  t.equal(xid, 4)
  await client.call(TestProgram.procs.ECHO, { n: 0, s: '' })
  t.equal(got.length, 3)
  t.match(client.stats, { callbacks: 4, unhandledCallbacks: 1, callbackErrors: 0 })
  t.equal(repliesAtServer, 0, 'no reply was sent for any callback')
  t.match(events.map(e => e.event), [
    { procedure: 'FETCHSPEC', status: 'ok', xid: 1 },
    { procedure: 'UNKNOWN', status: 'unhandled', xid: 2 },
    { procedure: 'NOTE', status: 'ok', xid: 3 },
    { procedure: 'FETCHSPEC', status: 'ok', xid: 4 },
  ])
})

t.test('a callback handler that throws does not hurt the client', async t => {
  const { client } = await startPair(t)
  const errors: unknown[] = []
  const stop = trace(e => { if (e.type === 'callback' && e.event.status === 'error') errors.push(e.event.error) })
  t.teardown(stop)
  const off = client.onCall(TestCallbacks, {
    FETCHSPEC: () => { throw new Error('sync boom') },
    NOTE: async () => { throw new Error('async boom') },
  })
  await client.call(TestProgram.procs.KICK, { what: 1 })
  await client.call(TestProgram.procs.KICK, { what: 2 })
  await client.call(TestProgram.procs.ECHO, { n: 0, s: '' })
  await new Promise(resolve => setImmediate(resolve))
  t.match(errors, [{ message: 'sync boom' }, { message: 'async boom' }])
  t.equal(client.stats.callbackErrors, 2)
  off()
  await client.call(TestProgram.procs.KICK, { what: 1 })
  await client.call(TestProgram.procs.ECHO, { n: 0, s: '' })
  t.equal(client.stats.unhandledCallbacks, 1, 'after unregistering, callbacks are unhandled')
})

t.test('diagnostics_channel: client start/end, op_errno, server calls', async t => {
  const { client } = await startPair(t)
  const events: TraceEvent[] = []
  const stop = trace(e => { events.push(e) })
  await client.call(TestProgram.procs.ECHO, { n: 1, s: 'a' })
  await client.call(TestProgram.procs.FAIL, undefined)
  await t.rejects(client.call(TestProgram.procs.THROW, undefined))
  stop()
  stop()
  await client.call(TestProgram.procs.ECHO, { n: 1, s: 'not traced' })
  const starts = events.filter(e => e.type === 'call:start')
  const ends = events.filter(e => e.type === 'call:end')
  const servers = events.filter(e => e.type === 'server:call')
  t.equal(starts.length, 3)
  t.equal(ends.length, 3)
  t.equal(starts[0]!.event, ends[0]!.event, 'the same object on start and end')
  t.match(ends[0]!.event, { peer: client.peer, program: 'Test', procedure: 'ECHO', prog: TestProgram.prog, vers: 2, proc: 1, xid: 2, status: 'ok' })
  t.type(ends[0]!.event.latencyMs, 'number')
  t.match(ends[1]!.event, { procedure: 'FAIL', status: 'ok', op_ret: -1, op_errno: 2 })
  t.match(ends[2]!.event, { procedure: 'THROW', status: 'error', error: { code: 'EGLUSTER_SYSTEM_ERR' } })
  t.equal(servers.length, 3)
  t.match(servers.map(e => e.event), [
    { procedure: 'ECHO', status: 'ok', reply: 'SUCCESS' },
    { procedure: 'FAIL', status: 'ok', reply: 'SUCCESS', op_ret: -1, op_errno: 2 },
    { procedure: 'THROW', status: 'error', reply: 'SYSTEM_ERR', error: { message: 'handler blew up' } },
  ])
})

t.test('close() waits for calls in flight, then ends the connection', async t => {
  const { client, server } = await startPair(t)
  const slow = client.call(TestProgram.procs.DELAY, { ms: 30, n: 7 })
  const closed = once(client, 'close')
  const closing = client.close()
  await t.rejects(client.call(TestProgram.procs.ECHO, { n: 0, s: '' }), { code: 'EGLUSTER_CLOSED' }, 'no new calls while closing')
  t.match(await slow, { n: 7 }, 'the call in flight completed')
  await closing
  const [err] = await closed
  t.equal(err, undefined, 'a clean close has no error')
  t.ok(client.closed)
  t.ok(client.socket.destroyed)
  await client.close()
  await client[Symbol.asyncDispose]()
  await t.rejects(client.call(TestProgram.procs.ECHO, { n: 0, s: '' }), { code: 'EGLUSTER_CLOSED' })
  // the server saw the connection go
  while (server.connections.size > 0) await new Promise(resolve => setImmediate(resolve))
  t.pass('server dropped the connection')
})

t.test('RpcServer.close() lets running handlers reply, then closes; listen errors', async t => {
  const server = new RpcServer()
  // close() once the DELAY handler is known to be running (a fixed sleep raced the call's
  // arrival on a loaded machine, and a call that has not arrived is rightly lost)
  let started!: () => void
  const running = new Promise<void>(resolve => { started = resolve })
  server.register(TestProgram, {
    ...testHandlers,
    DELAY: async (args, ctx) => { started(); return await testHandlers.DELAY!(args, ctx) },
  })
  const address = await server.listen(0, '127.0.0.1')
  t.equal(server.address, address)
  t.type(server.port, 'number')
  await t.rejects(server.listen(0), /already listening/)
  const client = await RpcClient.connect(address)
  t.teardown(() => { client.destroy() })
  const slow = client.call(TestProgram.procs.DELAY, { ms: 20, n: 1 })
  const clientClosed = once(client, 'close')
  await running
  await server.close()
  t.match(await slow, { n: 1 })
  const [err] = await clientClosed
  t.match(err, { code: 'EGLUSTER_CONNECTION_LOST' }, 'the server went away')
  await t.rejects(client.call(TestProgram.procs.ECHO, { n: 0, s: '' }), { code: 'EGLUSTER_CONNECTION_LOST' })
  await server[Symbol.asyncDispose]()
  await t.rejects(server.listen(0), { code: 'EGLUSTER_CLOSED' })
  const other = new RpcServer()
  await t.rejects(other.listen(server.port ?? 1, '203.0.113.1'), { code: 'EGLUSTER_CONNECT' }, 'cannot bind a foreign address')
  t.throws(() => other.register(TestProgram, { NOPE: () => ({}) } as never), /no procedure NOPE/)
  other.register(TestProgram, {})
  t.throws(() => other.register(TestProgram, {}), /already registered/)
})

t.test('writableNeedDrain and drain: the caller can hold back while the peer is slow to read', async t => {
  let serverSocket: import('node:net').Socket | undefined
  const address = await rawServer(t, s => { serverSocket = s; s.pause() })
  const client = await RpcClient.connect(address)
  t.teardown(() => { client.destroy() })
  t.notOk(client.writableNeedDrain)
  const data = Buffer.alloc(16 * 1024 * 1024, 1)
  void client.call(TestProgram.procs.WRITE, { size: data.length, data }).catch(() => {})
  t.ok(client.writableLength >= data.length, 'queued for this tick')
  await new Promise(resolve => setImmediate(resolve))
  t.ok(client.writableNeedDrain, 'the socket buffer is full')
  const drained = once(client, 'drain')
  serverSocket!.resume()
  await drained
  t.notOk(client.writableNeedDrain)
})
