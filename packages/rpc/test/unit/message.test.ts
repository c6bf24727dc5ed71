import t from 'tap'
import {
  decodeMessage, encodeCallRecord, encodeReplyRecord, encodeMessageHeader, decodeMessageHeader, replyError,
  peekXid, RecordDecoder, XdrWriter, XdrReader, xdr, AcceptStat, RejectStat, AuthStat, MsgType, NULL_AUTH,
  acceptStatName, authStatName, OpaqueAuthCodec,
} from '@gluster-ts/rpc'
import type { RpcMessage, CallMessage, ReplyMessage } from '@gluster-ts/rpc'

/**
 * Whole records (record mark included) cut from ../shared/captures (GlusterFS 10.3, tshark
 * `-T fields -e tcp.payload`); see docs/protocol/rpc.md.
 */
const V = {
  /** mount.pcap frame 22: GETSPEC (handshake 14398633 v2 proc 2) xid 2, cred AUTH_GLUSTERFS_v2 (24 bytes) */
  getspecCall: '8000008c00000002000000000000000200dbb4a900000002000000020005f397000000180000000000000000000000000000000000000004000000000000000000000000000000010000000476' +
    '6f6c310000003b000000020000000e000000076d61782d6f702d76657273696f6e00313030303030000000000e000000026d696e2d6f702d76657273696f6e00310000',
  /** mount.pcap frame 41: PING (GF-DUMP 123451501 v1 proc 2) xid 3, v2 cred, empty arguments */
  pingCall: '80000040000000030000000000000002075bb86d00000001000000020005f397000000180000000000000000000000000000000000000004000000000000000000000000',
  /** mount.pcap frame 53: the PING reply: accepted, AUTH_NULL verifier, SUCCESS, gf_common_rsp {0, 0, 0} */
  pingReply: '80000024000000030000000100000000000000000000000000000000000000000000000000000000',
  /** mount.pcap frame 103, first 84 bytes: SETVOLUME xid 7, cred AUTH_GLUSTERFS_v3 (40 bytes, pid 0), verf, then the dict starts */
  setvolumeCallHead: '8000033000000007000000000000000200dbb4a900000002000000010005f39800000028000000000000000000000000000000000000000000000000000000000000000000000004000000000000000000000000',
  /** mount.pcap frame 24, first 36 bytes: GETSPEC reply header, then gf_getspec_rsp {op_ret 2800, op_errno 0, spec<2800> …} */
  getspecReplyHead: '80000b6400000002000000010000000000000000000000000000000000000af000000000',
  /** read.pcap frame 44: OPEN (fop 1298437 v400 proc 11) xid 19, v3 cred pid 13984, lk_owner a0360000 */
  openCall: '800000700000001300000000000000020013d005000001900000000b0005f39800000028000036a000000000000000000000000037056dcb000000006b06ae9d0000000000000004a0360000' +
    '000000000000000039c162eb96d040a790e3966fc9e991d70000000000000000ffffffff00000000',
  /** mount.pcap frame 137: INODELK (proc 29) xid 11, v3 cred pid -13, 8-byte lk_owner */
  inodelkCall: '800000ac0000000b00000000000000020013d005000001900000001d0005f3980000002cfffffff3000000000000000000000000000000000000000000000000000000000000000878eb168c717f0000' +
    '000000000000000000000000000000000000000000000001000000010000000100000001000000007ffffffffffffffe0000000000000000000000000000000000000010766f6c312d7265706c69636174652d3000000000ffffffff00000000',
  /** failover.pcap frame 763: brick → client callback 52743234 v1 proc 10 (INODELK_CONTENTION), xid 1, AUTH_NULL */
  contentionCallback: '800000800000000100000000000000020324cc42000000010000000a00000000000000000000000000000000872aeb5df2664c678218e1fedf3712d4000000010000000000000000000000000000' +
    '0000000000000000000000000000fffffffa0000001a766f6c312d7265706c69636174652d303a73656c662d6865616c000000000000',
  /** volset-fetchspec.pcap frame 14: glusterd → client FETCHSPEC (52743234 v1 proc 1), xid 1, 40-byte record, no arguments */
  fetchspecCallback: '800000280000000100000000000000020324cc42000000010000000100000000000000000000000000000000',
}

/** Strip the record mark through RecordDecoder (also checks the mark). */
function record (hex: string): Buffer {
  const buf = Buffer.from(hex, 'hex')
  const recs = new RecordDecoder().push(buf)
  if (recs.length === 1) return recs[0]!
  // a head cut from a longer record: strip the mark by hand
  return buf.subarray(4)
}

/** Re-encode header + body (body as raw bytes) and return the framed record as hex. */
function reencode (msg: RpcMessage, bodyBytes: Buffer): string {
  const w = new XdrWriter()
  const chunks = msg.mtype === MsgType.CALL
    ? encodeCallRecord(w, msg, xdr.rest, bodyBytes)
    : encodeReplyRecord(w, msg, xdr.rest, bodyBytes)
  return Buffer.concat(chunks).toString('hex')
}

t.test('GETSPEC call (mount frame 22): CALL header with an AUTH_GLUSTERFS_v2 credential', async t => {
  const rec = record(V.getspecCall)
  const { msg, body, bodyOffset } = decodeMessage(rec)
  t.match(msg, { xid: 2, mtype: 0, rpcvers: 2, prog: 14398633, vers: 2, proc: 2 })
  const call = msg as CallMessage
  t.equal(call.cred.flavor, 390039)
  t.equal(call.cred.body.toString('hex'), '00000000'.repeat(4) + '00000004' + '00000000')
  t.same(call.verf, { flavor: 0, body: Buffer.alloc(0) })
  t.equal(bodyOffset, 24 + 8 + 24 + 8, 'body after xid…proc, cred and verf')
  t.equal(body.pos, bodyOffset)
  t.equal(body.end, rec.length)
  t.equal(body.u32(), 1, 'gf_getspec_req flags 1')
  t.equal(body.string(), 'vol1')
  t.equal(call.cred.body.buffer, rec.buffer, 'credential body is a view of the record')
  t.equal(reencode(msg, rec.subarray(bodyOffset)), V.getspecCall)
})

t.test('PING call and reply (mount frames 41, 53)', async t => {
  const call = decodeMessage(record(V.pingCall))
  t.match(call.msg, { xid: 3, mtype: 0, prog: 123451501, vers: 1, proc: 2, cred: { flavor: 390039 } })
  t.equal(call.body.remaining, 0, 'PING has no arguments')
  t.equal(reencode(call.msg, Buffer.alloc(0)), V.pingCall)

  const rec = record(V.pingReply)
  const reply = decodeMessage(rec)
  t.same(reply.msg, { xid: 3, mtype: 1, reply_stat: 0, verf: { flavor: 0, body: Buffer.alloc(0) }, accept_stat: 0 })
  t.equal(reply.bodyOffset, 24)
  t.equal(reply.body.remaining, 12, 'gf_common_rsp is 12 bytes')
  t.equal(replyError(reply.msg as ReplyMessage), undefined)
  t.equal(reencode(reply.msg, rec.subarray(24)), V.pingReply)
})

t.test('SETVOLUME call head (mount frame 103): AUTH_GLUSTERFS_v3, 40-byte body', async t => {
  const rec = record(V.setvolumeCallHead)
  const { msg, bodyOffset } = decodeMessage(rec)
  t.match(msg, { xid: 7, mtype: 0, prog: 14398633, vers: 2, proc: 1, cred: { flavor: 390040 }, verf: { flavor: 0 } })
  t.equal((msg as CallMessage).cred.body.length, 40)
  t.equal(bodyOffset, 24 + 8 + 40 + 8)
  // re-encode the header alone: identical to the captured bytes
  const w = new XdrWriter()
  encodeMessageHeader(w, msg)
  t.equal(w.finish().toString('hex'), rec.subarray(0, bodyOffset).toString('hex'))
})

t.test('GETSPEC reply head (mount frame 24)', async t => {
  const rec = record(V.getspecReplyHead)
  const { msg, body } = decodeMessage(rec)
  t.same(msg, { xid: 2, mtype: 1, reply_stat: 0, verf: NULL_AUTH, accept_stat: AcceptStat.SUCCESS })
  t.equal(body.i32(), 2800, 'op_ret = spec length')
  t.equal(peekXid(rec), 2)
  t.equal(peekXid(Buffer.alloc(3)), undefined)
})

t.test('fop calls with v3 credentials (read frame 44, mount frame 137) round-trip', async t => {
  for (const [name, hex, xid, proc, credLen] of [
    ['OPEN', V.openCall, 19, 11, 40],
    ['INODELK', V.inodelkCall, 11, 29, 44],
  ] as const) {
    const rec = record(hex)
    const { msg, bodyOffset } = decodeMessage(rec)
    t.match(msg, { xid, mtype: 0, prog: 1298437, vers: 400, proc, cred: { flavor: 390040 } }, name)
    t.equal((msg as CallMessage).cred.body.length, credLen, `${name} credential length`)
    t.equal(reencode(msg, rec.subarray(bodyOffset)), hex, `${name} re-encodes byte for byte`)
  }
})

t.test('callbacks are CALLs with AUTH_NULL (failover 763, volset-fetchspec 14)', async t => {
  const c = decodeMessage(record(V.contentionCallback))
  t.match(c.msg, { xid: 1, mtype: 0, prog: 52743234, vers: 1, proc: 10, cred: { flavor: 0 }, verf: { flavor: 0 } })
  t.equal(c.bodyOffset, 40)
  t.equal(c.body.fixed(16).toString('hex'), '872aeb5df2664c678218e1fedf3712d4', 'gfid first')
  const f = decodeMessage(record(V.fetchspecCallback))
  t.match(f.msg, { xid: 1, mtype: 0, prog: 52743234, vers: 1, proc: 1 })
  t.equal(f.body.remaining, 0, 'FETCHSPEC carries no arguments')
  t.equal(reencode(f.msg, Buffer.alloc(0)), V.fetchspecCallback)
  t.equal(reencode(c.msg, record(V.contentionCallback).subarray(40)), V.contentionCallback)
})

t.test('every truncated header is EGLUSTER_PROTOCOL, never another error', async t => {
  for (const hex of Object.values(V)) {
    const rec = record(hex)
    const { bodyOffset } = decodeMessage(rec)
    for (let i = 0; i < bodyOffset; i++) {
      t.throws(() => decodeMessage(rec.subarray(0, i)), { name: 'GlusterError', code: 'EGLUSTER_PROTOCOL' })
    }
  }
})

// synthetic replies: every accept_stat and reject_stat, as RFC 5531 lays them out
const replies: Array<[string, ReplyMessage, string, string | undefined]> = [
  ['SUCCESS', { xid: 9, mtype: 1, reply_stat: 0, verf: NULL_AUTH, accept_stat: 0 }, '00000009 00000001 00000000 00000000 00000000 00000000', undefined],
  ['PROG_UNAVAIL', { xid: 9, mtype: 1, reply_stat: 0, verf: NULL_AUTH, accept_stat: 1 }, '00000009 00000001 00000000 00000000 00000000 00000001', 'EGLUSTER_PROG_UNAVAIL'],
  ['PROG_MISMATCH', { xid: 9, mtype: 1, reply_stat: 0, verf: NULL_AUTH, accept_stat: 2, mismatch_info: { low: 0, high: 0 } },
    '00000009 00000001 00000000 00000000 00000000 00000002 00000000 00000000', 'EGLUSTER_PROG_MISMATCH'],
  ['PROC_UNAVAIL', { xid: 9, mtype: 1, reply_stat: 0, verf: NULL_AUTH, accept_stat: 3 }, '00000009 00000001 00000000 00000000 00000000 00000003', 'EGLUSTER_PROC_UNAVAIL'],
  ['GARBAGE_ARGS', { xid: 9, mtype: 1, reply_stat: 0, verf: NULL_AUTH, accept_stat: 4 }, '00000009 00000001 00000000 00000000 00000000 00000004', 'EGLUSTER_GARBAGE_ARGS'],
  ['SYSTEM_ERR', { xid: 9, mtype: 1, reply_stat: 0, verf: NULL_AUTH, accept_stat: 5 }, '00000009 00000001 00000000 00000000 00000000 00000005', 'EGLUSTER_SYSTEM_ERR'],
  ['accept_stat 6 (outside the RFC)', { xid: 9, mtype: 1, reply_stat: 0, verf: NULL_AUTH, accept_stat: 6 }, '00000009 00000001 00000000 00000000 00000000 00000006', 'EGLUSTER_PROTOCOL'],
  ['RPC_MISMATCH', { xid: 9, mtype: 1, reply_stat: 1, reject_stat: 0, mismatch_info: { low: 2, high: 2 } },
    '00000009 00000001 00000001 00000000 00000002 00000002', 'EGLUSTER_RPC_MISMATCH'],
  ['AUTH_ERROR', { xid: 9, mtype: 1, reply_stat: 1, reject_stat: 1, auth_stat: 1 }, '00000009 00000001 00000001 00000001 00000001', 'EGLUSTER_AUTH'],
]

for (const [name, msg, hex, code] of replies) {
  t.test(`reply ${name}: decode, encode, mirror, error mapping`, async t => {
    const bytes = Buffer.from(hex.replace(/ /g, ''), 'hex')
    const d = decodeMessage(bytes)
    t.same(d.msg, msg, 'decode')
    t.equal(d.body.remaining, 0)
    const w = new XdrWriter()
    encodeMessageHeader(w, msg)
    const enc = w.finish()
    t.equal(enc.toString('hex'), bytes.toString('hex'), 'encode')
    t.same(decodeMessageHeader(new XdrReader(enc)), msg, 'mirror')
    const err = replyError(msg, { peer: '10.0.0.1:24007', program: 'GF-DUMP', procedure: 'PING', prog: 123451501, vers: 1 })
    if (code === undefined) {
      t.equal(err, undefined)
    } else {
      t.match(err, { name: 'GlusterError', code, peer: '10.0.0.1:24007', program: 'GF-DUMP', procedure: 'PING', xid: 9 })
      t.match(err!.message, /GF-DUMP \(123451501 v1\) PING, xid 9 \(peer 10\.0\.0\.1:24007\)/)
    }
    for (let i = 0; i < bytes.length; i++) t.throws(() => decodeMessage(bytes.subarray(0, i)), { code: 'EGLUSTER_PROTOCOL' })
  })
}

t.test('malformed headers', async t => {
  const bad: Array<[string, string]> = [
    ['msg_type 2', '00000001 00000002'],
    ['reply_stat 2', '00000001 00000001 00000002'],
    ['reject_stat 2', '00000001 00000001 00000001 00000002'],
    ['credential longer than 400 bytes', '00000001 00000000 00000002 00000001 00000001 00000001 00000001 00000191'],
  ]
  for (const [name, hex] of bad) {
    t.throws(() => decodeMessage(Buffer.from(hex.replace(/ /g, '') + '00'.repeat(500), 'hex')), { code: 'EGLUSTER_PROTOCOL' }, name)
  }
})

t.test('encoding checks', async t => {
  const w = new XdrWriter()
  t.throws(() => OpaqueAuthCodec.encode(w, { flavor: 1, body: Buffer.alloc(401) }), RangeError)
  w.finishChunks()
  t.throws(() => encodeMessageHeader(w, { xid: 1, mtype: 1, reply_stat: 1, reject_stat: 7 as 0 }), RangeError)
  w.finishChunks()
  // a CALL with defaults: rpcvers 2, AUTH_NULL cred and verf
  const chunks = encodeCallRecord(w, { xid: 5, prog: 1, vers: 2, proc: 3 }, xdr.xvoid, undefined)
  t.equal(Buffer.concat(chunks).toString('hex'), '80000028' + '00000005 00000000 00000002 00000001 00000002 00000003 00000000 00000000 00000000 00000000'.replace(/ /g, ''))
  // an argument codec that throws leaves the writer clean for the next message
  const failing = { encode: () => { throw new Error('bad args') }, decode: () => undefined }
  t.throws(() => encodeCallRecord(w, { xid: 6, prog: 1, vers: 1, proc: 1 }, failing, undefined), /bad args/)
  const again = encodeCallRecord(w, { xid: 7, prog: 1, vers: 1, proc: 1 }, xdr.xvoid, undefined)
  t.equal(Buffer.concat(again).readUInt32BE(4), 7)
  // a result codec that throws, likewise
  t.throws(() => encodeReplyRecord(w, { xid: 8, mtype: 1, reply_stat: 0, verf: NULL_AUTH, accept_stat: 0 }, failing, undefined), /bad args/)
  t.equal(Buffer.concat(encodeReplyRecord(w, { xid: 9, mtype: 1, reply_stat: 1, reject_stat: RejectStat.AUTH_ERROR, auth_stat: AuthStat.AUTH_TOOWEAK })).toString('hex'),
    '80000014' + '00000009 00000001 00000001 00000001 00000005'.replace(/ /g, ''))
})

t.test('names', async t => {
  t.equal(acceptStatName(3), 'PROC_UNAVAIL')
  t.equal(acceptStatName(42), 'accept_stat 42')
  t.equal(authStatName(5), 'AUTH_TOOWEAK')
  t.equal(authStatName(99), 'auth_stat 99')
  const e = replyError({ xid: 1, mtype: 1, reply_stat: 1, reject_stat: 1, auth_stat: 0 })
  t.match(e, { code: 'EGLUSTER_AUTH', message: /AUTH_OK/ })
  const m = replyError({ xid: 1, mtype: 1, reply_stat: 0, verf: NULL_AUTH, accept_stat: 2, mismatch_info: { low: 1, high: 3 } }, { prog: 7, vers: 9 })
  t.match(m, { code: 'EGLUSTER_PROG_MISMATCH', message: /versions 1\.\.3.*program 7 v9/ })
})
