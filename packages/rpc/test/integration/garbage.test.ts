import t from 'tap'
import type { Test } from 'tap'
import net from 'node:net'
import { once } from 'node:events'
import { RpcClient, RecordDecoder, encodeReplyRecord, XdrWriter, NULL_AUTH } from '@gluster-ts/rpc'
import { startPair, rawServer, TestProgram } from './fixtures.js'

/** A peer that answers the first call with `bytes`. */
async function answersWith (t: Test, bytes: Buffer): Promise<RpcClient> {
  const address = await rawServer(t, s => { s.once('data', () => { s.write(bytes) }) })
  const client = await RpcClient.connect(address)
  t.teardown(() => { client.destroy() })
  return client
}

const cases: Array<[string, string, string]> = [
  ['a zero-length fragment', '80000000', 'EGLUSTER_PROTOCOL'],
  ['a header that is not RPC (msg_type 7)', '80000008 00000002 00000007', 'EGLUSTER_PROTOCOL'],
  ['a record too short for a header', '80000004 00000002', 'EGLUSTER_PROTOCOL'],
  ['an HTTP answer', Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n').toString('hex'), 'EGLUSTER_RECORD_TOO_LARGE'],
  ['a reply_stat of 9', '8000000c 00000002 00000001 00000009', 'EGLUSTER_PROTOCOL'],
]

for (const [name, hex, code] of cases) {
  t.test(`garbage from the peer (${name}) drops the connection and fails every pending call`, async t => {
    const client = await answersWith(t, Buffer.from(hex.replace(/ /g, ''), 'hex'))
    const closed = once(client, 'close')
    const calls = [
      client.call(TestProgram.procs.ECHO, { n: 1, s: '' }),
      client.call(TestProgram.procs.HANG, undefined),
      client.call(TestProgram.procs.HANG, undefined),
    ]
    for (const p of calls) await t.rejects(p, { name: 'GlusterError', code, peer: client.peer, message: /connection closed/ })
    const [err] = await closed
    t.match(err, { code })
    t.ok(client.socket.destroyed)
    await t.rejects(client.call(TestProgram.procs.ECHO, { n: 1, s: '' }), { code: 'EGLUSTER_CLOSED' })
  })
}

t.test('a record larger than maxRecordBytes', async t => {
  const big = Buffer.concat(encodeReplyRecord(new XdrWriter(), { xid: 2, mtype: 1, reply_stat: 0, verf: NULL_AUTH, accept_stat: 0 }))
  const address = await rawServer(t, s => { s.once('data', () => { s.write(Buffer.concat([Buffer.from('80100000', 'hex'), Buffer.alloc(0x100000)])); s.write(big) }) })
  const client = await RpcClient.connect(address, { maxRecordBytes: 4096 })
  t.teardown(() => { client.destroy() })
  await t.rejects(client.call(TestProgram.procs.ECHO, { n: 1, s: '' }), { code: 'EGLUSTER_RECORD_TOO_LARGE', message: /maxRecordBytes 4096/ })
})

t.test('a reply to an unknown xid is ignored and counted, not an error', async t => {
  const stray = Buffer.concat(encodeReplyRecord(new XdrWriter(), { xid: 999, mtype: 1, reply_stat: 0, verf: NULL_AUTH, accept_stat: 0 }))
  const address = await rawServer(t, s => {
    const dec = new RecordDecoder()
    s.on('data', c => {
      for (const r of dec.push(c)) {
        const xid = r.readUInt32BE(0)
        // a stray reply, then the real one (an ECHO result)
        const w = new XdrWriter()
        const real = encodeReplyRecord(w, { xid, mtype: 1, reply_stat: 0, verf: NULL_AUTH, accept_stat: 0 }, TestProgram.procs.ECHO.res, { op_ret: 0, op_errno: 0, n: 4, s: 'ok' })
        s.write(Buffer.concat([stray, ...real]))
      }
    })
  })
  const client = await RpcClient.connect(address)
  t.teardown(() => { client.destroy() })
  t.match(await client.call(TestProgram.procs.ECHO, { n: 1, s: '' }), { n: 4, s: 'ok' })
  t.equal(client.stats.unknownXidReplies, 1)
  t.notOk(client.closed)
})

t.test('the server drops a connection that sends garbage, and only that one', async t => {
  const { client, server, address } = await startPair(t)
  const [host, port] = address.split(':') as [string, string]
  for (const garbage of ['GET / HTTP/1.1\r\n\r\n', '\x80\x00\x00\x00', '\x80\x00\x00\x08\x00\x00\x00\x01\x00\x00\x00\x05']) {
    const s = net.connect({ host, port: Number(port) })
    await once(s, 'connect')
    s.on('error', () => {})
    s.write(Buffer.from(garbage, 'latin1'))
    await once(s, 'close')
    t.pass(`dropped after ${JSON.stringify(garbage)}`)
  }
  t.equal(server.stats.protocolErrors, 3)
  t.match(await client.call(TestProgram.procs.ECHO, { n: 1, s: 'unaffected' }), { s: 'unaffected' })
  t.equal(server.connections.size, 1)
})

t.test('the server ignores REPLY messages', async t => {
  const { client, server, address } = await startPair(t)
  const [host, port] = address.split(':') as [string, string]
  const s = net.connect({ host, port: Number(port) })
  await once(s, 'connect')
  s.write(Buffer.concat(encodeReplyRecord(new XdrWriter(), { xid: 5, mtype: 1, reply_stat: 0, verf: NULL_AUTH, accept_stat: 0 })))
  while (server.stats.ignoredReplies === 0) await new Promise(resolve => setImmediate(resolve))
  t.equal(server.stats.ignoredReplies, 1)
  s.destroy()
  t.match(await client.call(TestProgram.procs.ECHO, { n: 1, s: '' }), { n: 1 })
})
