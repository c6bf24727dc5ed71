import t from 'tap'
import fc from 'fast-check'
import {
  decodeMessage, encodeCallRecord, encodeReplyRecord, encodeCredential, decodeCredential, RecordDecoder, XdrWriter,
  GlusterError, xdr, MAX_AUTH_BYTES,
} from '@gluster-ts/rpc'
import type { ReplyMessage, Credential, OpaqueAuth } from '@gluster-ts/rpc'

const u32 = fc.integer({ min: 0, max: 0xffffffff })
const auth = fc.record({ flavor: u32, body: fc.uint8Array({ maxLength: MAX_AUTH_BYTES }).map(a => Buffer.from(a)) })
const body = fc.uint8Array({ maxLength: 64 }).map(a => Buffer.from(a))

const call = fc.record({ xid: u32, rpcvers: u32, prog: u32, vers: u32, proc: u32, cred: auth, verf: auth })
const reply: fc.Arbitrary<ReplyMessage> = fc.oneof(
  fc.record({ xid: u32, verf: auth, accept_stat: fc.constantFrom(0, 1, 3, 4, 5, 6, 99) })
    .map(r => ({ ...r, mtype: 1 as const, reply_stat: 0 as const })),
  fc.record({ xid: u32, verf: auth, low: u32, high: u32 })
    .map(r => ({ xid: r.xid, mtype: 1 as const, reply_stat: 0 as const, verf: r.verf, accept_stat: 2, mismatch_info: { low: r.low, high: r.high } })),
  fc.record({ xid: u32, low: u32, high: u32 })
    .map(r => ({ xid: r.xid, mtype: 1 as const, reply_stat: 1 as const, reject_stat: 0 as const, mismatch_info: { low: r.low, high: r.high } })),
  fc.record({ xid: u32, auth_stat: u32 })
    .map(r => ({ xid: r.xid, mtype: 1 as const, reply_stat: 1 as const, reject_stat: 1 as const, auth_stat: r.auth_stat })),
)

/** Through the framing and back: one record, its header, and the body bytes after it. */
function roundTrip (chunks: Buffer[]): { msg: unknown, rest: Buffer } {
  const [rec, ...more] = new RecordDecoder().push(Buffer.concat(chunks))
  if (rec === undefined || more.length > 0) throw new Error('expected one record')
  const { msg, body: r } = decodeMessage(rec)
  return { msg, rest: r.rest() }
}

t.test('CALL headers round-trip, credential bytes preserved', async t => {
  fc.assert(fc.property(call, body, (h, b) => {
    const { msg, rest } = roundTrip(encodeCallRecord(new XdrWriter(), h, xdr.rest, b))
    const m = msg as typeof h & { mtype: number }
    return m.mtype === 0 && m.xid === h.xid && m.rpcvers === h.rpcvers && m.prog === h.prog && m.vers === h.vers &&
      m.proc === h.proc && m.cred.flavor === h.cred.flavor && m.cred.body.equals(h.cred.body) &&
      m.verf.flavor === h.verf.flavor && m.verf.body.equals(h.verf.body) && rest.equals(b)
  }), { numRuns: 300 })
  t.pass()
})

t.test('REPLY headers round-trip (SUCCESS carries a body)', async t => {
  fc.assert(fc.property(reply, body, (h, b) => {
    const { msg, rest } = roundTrip(encodeReplyRecord(new XdrWriter(), h, xdr.rest, b))
    const success = h.reply_stat === 0 && h.accept_stat === 0
    t.same(msg, h)
    return rest.equals(success ? b : Buffer.alloc(0))
  }), { numRuns: 300 })
})

t.test('random bytes into decodeMessage: a message or EGLUSTER_PROTOCOL, nothing else', async t => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), bytes => {
    try {
      const { body: r } = decodeMessage(Buffer.from(bytes))
      return r.pos <= r.end
    } catch (err) {
      return err instanceof GlusterError && err.code === 'EGLUSTER_PROTOCOL'
    }
  }), { numRuns: 2000 })
  // biased towards plausible headers: valid xid/mtype words followed by noise
  fc.assert(fc.property(u32, fc.constantFrom(0, 1), fc.uint8Array({ maxLength: 120 }), (xid, mtype, tail) => {
    const head = Buffer.alloc(8)
    head.writeUInt32BE(xid, 0)
    head.writeUInt32BE(mtype, 4)
    try {
      decodeMessage(Buffer.concat([head, Buffer.from(tail)]))
      return true
    } catch (err) {
      return err instanceof GlusterError && err.code === 'EGLUSTER_PROTOCOL'
    }
  }), { numRuns: 2000 })
  t.pass()
})

const i32 = fc.integer({ min: -0x80000000, max: 0x7fffffff })
const groups = (max: number): fc.Arbitrary<number[]> => fc.array(u32, { maxLength: max })
const lk = fc.uint8Array({ maxLength: 16 }).map(a => Buffer.from(a))
const cred: fc.Arbitrary<Credential> = fc.oneof(
  fc.constant({ flavor: 0 as const }),
  fc.record({ stamp: u32, machinename: fc.string({ maxLength: 60 }), uid: u32, gid: u32, gids: groups(16) }).map(c => ({ flavor: 1 as const, ...c })),
  fc.record({ lk_owner: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), pid: i32, uid: u32, gid: u32, groups: groups(16) }).map(c => ({ flavor: 5 as const, ...c })),
  fc.record({ pid: i32, uid: u32, gid: u32, groups: groups(70), lk_owner: lk }).map(c => ({ flavor: 390039 as const, ...c })),
  fc.record({ pid: i32, uid: u32, gid: u32, flags: u32, ctime_nsec: u32, ctime_sec: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), groups: groups(70), lk_owner: lk })
    .map(c => ({ flavor: 390040 as const, ...c })),
)

t.test('credentials round-trip', async t => {
  fc.assert(fc.property(cred, c => {
    const enc = encodeCredential(c)
    t.same(decodeCredential(enc), c)
    return enc.body.length <= MAX_AUTH_BYTES
  }), { numRuns: 300 })
})

const big = (_k: string, v: unknown): unknown => typeof v === 'bigint' ? v.toString() : v

t.test('random credential bodies: a credential or EGLUSTER_PROTOCOL', async t => {
  fc.assert(fc.property(fc.constantFrom(0, 1, 5, 390039, 390040, 7), fc.uint8Array({ maxLength: 400 }), (flavor, bytes) => {
    const a: OpaqueAuth = { flavor, body: Buffer.from(bytes) }
    try {
      const c = decodeCredential(a)
      const enc = encodeCredential(c)
      // whatever decodes re-encodes to the same bytes; v1 keeps only its first ngrps group
      // slots, so there only the decoded value is stable
      if (flavor === 5) return JSON.stringify(decodeCredential(enc), big) === JSON.stringify(c, big)
      return enc.body.equals(a.body)
    } catch (err) {
      return err instanceof GlusterError && err.code === 'EGLUSTER_PROTOCOL'
    }
  }), { numRuns: 2000 })
  t.pass()
})
