import t from 'tap'
import type { Test } from 'tap'
import net from 'node:net'
import {
  RpcClient, RecordDecoder, decodeMessage, encodeCallRecord, encodeReplyRecord, XdrWriter, xdr, NULL_AUTH, GlusterError,
} from '@gluster-ts/rpc'
import type { ReplyMessage, RpcMessage } from '@gluster-ts/rpc'
import { startPair, rawServer, TestProgram, WrongVersion, UnknownProgram, Mangled, Mangled2, TEST_PROG, testHandlers } from './fixtures.js'

t.test('RPC-level refusals by our server map to typed errors naming peer, program, procedure and xid', async t => {
  const { client } = await startPair(t)
  await t.rejects(client.call(UnknownProgram.procs.ECHO, { n: 1, s: '' }), {
    name: 'GlusterError', code: 'EGLUSTER_PROG_UNAVAIL', peer: client.peer, program: 'Nobody', procedure: 'ECHO', xid: 2,
    message: /PROG_UNAVAIL.*Nobody \(536873369 v1\) ECHO, xid 2 \(peer 127\.0\.0\.1:\d+\)/,
  })
  await t.rejects(client.call(WrongVersion.procs.ECHO, { n: 1, s: '' }), {
    code: 'EGLUSTER_PROG_MISMATCH', message: /versions 2\.\.3/,
  }, 'low/high = the versions the server has')
  await t.rejects(client.call(Mangled.procs.PROC99, undefined), { code: 'EGLUSTER_PROC_UNAVAIL', procedure: 'PROC99' })
  await t.rejects(client.call(TestProgram.procs.NOHANDLER, undefined), { code: 'EGLUSTER_PROC_UNAVAIL' }, 'a procedure with no handler')
  await t.rejects(client.call(Mangled.procs.ECHO_SHORT, { n: 1 }), { code: 'EGLUSTER_GARBAGE_ARGS' })
  await t.rejects(client.call(TestProgram.procs.THROW, undefined), { code: 'EGLUSTER_SYSTEM_ERR' })
  await t.rejects(client.call(TestProgram.procs.BADRES, undefined), { code: 'EGLUSTER_SYSTEM_ERR' }, 'a result the codec cannot encode')
  await t.rejects(client.call(TestProgram.procs.GARBAGE, undefined), { code: 'EGLUSTER_GARBAGE_ARGS' }, 'a handler may refuse with GARBAGE_ARGS')
  // none of these hurt the connection
  t.match(await client.call(TestProgram.procs.ECHO, { n: 3, s: 'still fine' }), { n: 3 })
})

t.test('handler errors named by code', async t => {
  const codes = ['EGLUSTER_PROC_UNAVAIL', 'EGLUSTER_PROG_UNAVAIL', 'EGLUSTER_AUTH', 'EGLUSTER_SYSTEM_ERR', 'ENOENT']
  let i = 0
  const { client, server } = await startPair(t, {
    handlers: { ...testHandlers, THROW: () => { throw new GlusterError(codes[i++]!, 'refused') } },
  })
  await t.rejects(client.call(TestProgram.procs.THROW, undefined), { code: 'EGLUSTER_PROC_UNAVAIL' })
  await t.rejects(client.call(TestProgram.procs.THROW, undefined), { code: 'EGLUSTER_PROG_UNAVAIL' })
  await t.rejects(client.call(TestProgram.procs.THROW, undefined), { code: 'EGLUSTER_AUTH', message: /AUTH_REJECTEDCRED/ })
  await t.rejects(client.call(TestProgram.procs.THROW, undefined), { code: 'EGLUSTER_SYSTEM_ERR' })
  await t.rejects(client.call(TestProgram.procs.THROW, undefined), { code: 'EGLUSTER_SYSTEM_ERR' }, 'other codes are SYSTEM_ERR')
  t.match(server.stats, { handlerErrors: 5, refused: 5 })
})

t.test('a reply that does not decode fails that call only (EGLUSTER_PROTOCOL)', async t => {
  const { client } = await startPair(t)
  await t.rejects(client.call(Mangled2.procs.ECHO_LONG, { n: 1, s: 'x' }), {
    code: 'EGLUSTER_PROTOCOL', procedure: 'ECHO_LONG', message: /reply does not decode/,
  })
  t.match(await client.call(TestProgram.procs.ECHO, { n: 2, s: 'y' }), { n: 2 })
  t.notOk(client.closed)
})

/** Send one hand-made CALL record over a raw socket and decode the reply. */
async function rawCall (address: string, header: { xid: number, rpcvers?: number, prog: number, vers: number, proc: number, cred?: { flavor: number, body: Buffer } }, body = Buffer.alloc(0)): Promise<RpcMessage> {
  const [host, port] = address.split(':') as [string, string]
  const s = net.connect({ host, port: Number(port) })
  try {
    await new Promise<void>((resolve, reject) => { s.once('connect', resolve); s.once('error', reject) })
    s.write(Buffer.concat(encodeCallRecord(new XdrWriter(), header, xdr.rest, body)))
    const dec = new RecordDecoder()
    return await new Promise<RpcMessage>((resolve, reject) => {
      s.on('data', c => { const [r] = dec.push(c); if (r !== undefined) resolve(decodeMessage(r).msg) })
      s.once('error', reject)
      s.once('close', () => { reject(new Error('closed without a reply')) })
    })
  } finally {
    s.destroy()
  }
}

t.test('the wire answers, as RFC 5531 and GlusterFS lay them out', async t => {
  const { address } = await startPair(t)
  t.same(await rawCall(address, { xid: 77, rpcvers: 3, prog: TEST_PROG, vers: 2, proc: 1 }),
    { xid: 77, mtype: 1, reply_stat: 1, reject_stat: 0, mismatch_info: { low: 2, high: 2 } }, 'rpcvers 3 → DENIED RPC_MISMATCH(2, 2)')
  t.same(await rawCall(address, { xid: 78, prog: TEST_PROG, vers: 2, proc: 1, cred: { flavor: 390040, body: Buffer.alloc(8) } }),
    { xid: 78, mtype: 1, reply_stat: 1, reject_stat: 1, auth_stat: 1 }, 'an undecodable credential → DENIED AUTH_ERROR(AUTH_BADCRED)')
  t.same(await rawCall(address, { xid: 79, prog: TEST_PROG, vers: 2, proc: 1, cred: { flavor: 31337, body: Buffer.alloc(8) } },
    Buffer.from('00000001 00000001 61000000'.replace(/ /g, ''), 'hex')),
  { xid: 79, mtype: 1, reply_stat: 0, verf: NULL_AUTH, accept_stat: 0 }, 'an unknown flavor is not an error (GlusterFS treats it as AUTH_NULL)')
  t.same(await rawCall(address, { xid: 80, prog: 1, vers: 1, proc: 1 }),
    { xid: 80, mtype: 1, reply_stat: 0, verf: NULL_AUTH, accept_stat: 1 }, 'PROG_UNAVAIL')
  t.same(await rawCall(address, { xid: 81, prog: TEST_PROG, vers: 9, proc: 1 }),
    { xid: 81, mtype: 1, reply_stat: 0, verf: NULL_AUTH, accept_stat: 2, mismatch_info: { low: 2, high: 3 } }, 'PROG_MISMATCH(2, 3)')
  t.same(await rawCall(address, { xid: 82, prog: TEST_PROG, vers: 2, proc: 0 }),
    { xid: 82, mtype: 1, reply_stat: 0, verf: NULL_AUTH, accept_stat: 3 }, 'PROC_UNAVAIL (proc 0 not defined)')
  t.same(await rawCall(address, { xid: 83, prog: TEST_PROG, vers: 2, proc: 1 }, Buffer.from('0000000100000009', 'hex')),
    { xid: 83, mtype: 1, reply_stat: 0, verf: NULL_AUTH, accept_stat: 4 }, 'GARBAGE_ARGS')
  t.same(await rawCall(address, { xid: 84, prog: TEST_PROG, vers: 2, proc: 4 }),
    { xid: 84, mtype: 1, reply_stat: 0, verf: NULL_AUTH, accept_stat: 5 }, 'SYSTEM_ERR')
})

/** A scripted peer that answers every call with `reply(xid)`. */
async function scripted (t: Test, reply: (xid: number) => ReplyMessage): Promise<string> {
  return await rawServer(t, s => {
    const dec = new RecordDecoder()
    s.on('data', c => {
      for (const r of dec.push(c)) {
        const { msg } = decodeMessage(r)
        s.write(Buffer.concat(encodeReplyRecord(new XdrWriter(), reply(msg.xid))))
      }
    })
  })
}

t.test('DENIED replies from a peer: RPC_MISMATCH and AUTH_ERROR', async t => {
  const a1 = await scripted(t, xid => ({ xid, mtype: 1, reply_stat: 1, reject_stat: 0, mismatch_info: { low: 3, high: 4 } }))
  const c1 = await RpcClient.connect(a1)
  t.teardown(() => { c1.destroy() })
  await t.rejects(c1.call(TestProgram.procs.ECHO, { n: 1, s: '' }), { code: 'EGLUSTER_RPC_MISMATCH', message: /versions 3\.\.4/, peer: a1 })
  const a2 = await scripted(t, xid => ({ xid, mtype: 1, reply_stat: 1, reject_stat: 1, auth_stat: 0 }))
  const c2 = await RpcClient.connect(a2)
  t.teardown(() => { c2.destroy() })
  await t.rejects(c2.call(TestProgram.procs.ECHO, { n: 1, s: '' }), { code: 'EGLUSTER_AUTH', procedure: 'ECHO' })
})

t.test('GlusterFS answers PROG_MISMATCH with low = high = 0', async t => {
  const a = await scripted(t, xid => ({ xid, mtype: 1, reply_stat: 0, verf: NULL_AUTH, accept_stat: 2, mismatch_info: { low: 0, high: 0 } }))
  const c = await RpcClient.connect(a)
  t.teardown(() => { c.destroy() })
  await t.rejects(c.call(TestProgram.procs.ECHO, { n: 1, s: '' }), { code: 'EGLUSTER_PROG_MISMATCH', message: /versions 0\.\.0/ })
  t.notOk(c.closed)
})
