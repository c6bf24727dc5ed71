import { GlusterError, protocolError } from './errors.js'
import type { ErrorExtra } from './errors.js'
import { XdrReader } from './xdr/reader.js'
import type { XdrWriter } from './xdr/writer.js'
import type { Codec } from './xdr/codec.js'
import { beginRecord, finishRecord } from './record.js'

/**
 * rpc_msg (RFC 5531 §9): CALL and REPLY headers. Field names follow the RFC's XDR so that a
 * diff against it is trivial. Decoding stops where the procedure body starts and hands back a
 * reader over the rest of the record, so a body is decoded later with its procedure's codec and
 * raw payloads (READ data) stay subarrays of the record.
 */

export const RPC_VERSION = 2
/** opaque_auth body<400> (RFC 5531 §8.2; GlusterFS MAX_AUTH_BYTES). */
export const MAX_AUTH_BYTES = 400

export const MsgType = { CALL: 0, REPLY: 1 } as const
export type MsgType = (typeof MsgType)[keyof typeof MsgType]

export const ReplyStat = { MSG_ACCEPTED: 0, MSG_DENIED: 1 } as const
export type ReplyStat = (typeof ReplyStat)[keyof typeof ReplyStat]

export const AcceptStat = {
  SUCCESS: 0, PROG_UNAVAIL: 1, PROG_MISMATCH: 2, PROC_UNAVAIL: 3, GARBAGE_ARGS: 4, SYSTEM_ERR: 5,
} as const
export type AcceptStat = (typeof AcceptStat)[keyof typeof AcceptStat]

export const RejectStat = { RPC_MISMATCH: 0, AUTH_ERROR: 1 } as const
export type RejectStat = (typeof RejectStat)[keyof typeof RejectStat]

export const AuthStat = {
  AUTH_OK: 0, AUTH_BADCRED: 1, AUTH_REJECTEDCRED: 2, AUTH_BADVERF: 3, AUTH_REJECTEDVERF: 4,
  AUTH_TOOWEAK: 5, AUTH_INVALIDRESP: 6, AUTH_FAILED: 7,
} as const
export type AuthStat = (typeof AuthStat)[keyof typeof AuthStat]

/** opaque_auth: a flavor and its body, kept as the exact bytes that were on the wire. */
export interface OpaqueAuth {
  flavor: number
  body: Buffer
}

/** AUTH_NULL with an empty body: every verifier GlusterFS sends, and callback credentials. */
export const NULL_AUTH: OpaqueAuth = Object.freeze({ flavor: 0, body: Buffer.alloc(0) })

export interface MismatchInfo { low: number, high: number }

export interface CallMessage {
  xid: number
  mtype: 0
  /** Always 2 when we send; kept as received so a server can answer RPC_MISMATCH. */
  rpcvers: number
  prog: number
  vers: number
  proc: number
  cred: OpaqueAuth
  verf: OpaqueAuth
}

export interface AcceptedReply {
  xid: number
  mtype: 1
  reply_stat: 0
  verf: OpaqueAuth
  /** An AcceptStat; other values decode (the RFC union has `default: void`) and fail the call. */
  accept_stat: number
  /** Present when accept_stat is PROG_MISMATCH. */
  mismatch_info?: MismatchInfo
}

export interface RejectedReply {
  xid: number
  mtype: 1
  reply_stat: 1
  reject_stat: RejectStat
  /** Present when reject_stat is RPC_MISMATCH. */
  mismatch_info?: MismatchInfo
  /** Present when reject_stat is AUTH_ERROR. */
  auth_stat?: number
}

export type ReplyMessage = AcceptedReply | RejectedReply
export type RpcMessage = CallMessage | ReplyMessage

/** What the caller provides to encode a CALL (rpcvers defaults to 2, verf to AUTH_NULL). */
export interface CallHeaderInit {
  xid: number
  prog: number
  vers: number
  proc: number
  cred?: OpaqueAuth
  verf?: OpaqueAuth
  rpcvers?: number
}

const EMPTY_BODY: Buffer = Object.freeze(Buffer.alloc(0)) as Buffer

export const OpaqueAuthCodec: Codec<OpaqueAuth> = {
  encode (w, v) {
    if (v.body.length > MAX_AUTH_BYTES) {
      throw new RangeError(`opaque_auth body is ${v.body.length} bytes, the limit is ${MAX_AUTH_BYTES}`)
    }
    w.u32(v.flavor)
    w.opaque(v.body)
  },
  decode (r) {
    const flavor = r.u32()
    const at = r.pos
    if (r.remaining >= 4 && r.buf[at] === 0 && r.buf[at + 1] === 0 && r.buf[at + 2] === 0 && r.buf[at + 3] === 0) {
      // An empty body (every verifier GlusterFS sends, AUTH_NULL credentials): one shared,
      // frozen zero-length Buffer instead of a subarray per message. Safe: a zero-length
      // Buffer has no bytes to write into, and freezing stops property changes. It also
      // avoids keeping the record alive through an empty view of it.
      r.pos = at + 4
      return { flavor, body: EMPTY_BODY }
    }
    const body = r.opaque(MAX_AUTH_BYTES)
    return { flavor, body }
  },
}

export function encodeCallHeader (w: XdrWriter, h: CallHeaderInit): void {
  w.u32(h.xid)
  w.u32(MsgType.CALL)
  w.u32(h.rpcvers ?? RPC_VERSION)
  w.u32(h.prog)
  w.u32(h.vers)
  w.u32(h.proc)
  OpaqueAuthCodec.encode(w, h.cred ?? NULL_AUTH)
  OpaqueAuthCodec.encode(w, h.verf ?? NULL_AUTH)
}

export function encodeReplyHeader (w: XdrWriter, h: ReplyMessage): void {
  w.u32(h.xid)
  w.u32(MsgType.REPLY)
  w.u32(h.reply_stat)
  if (h.reply_stat === ReplyStat.MSG_ACCEPTED) {
    OpaqueAuthCodec.encode(w, h.verf)
    w.u32(h.accept_stat)
    if (h.accept_stat === AcceptStat.PROG_MISMATCH) {
      const m = h.mismatch_info ?? { low: 0, high: 0 }
      w.u32(m.low)
      w.u32(m.high)
    }
    return
  }
  w.u32(h.reject_stat)
  if (h.reject_stat === RejectStat.RPC_MISMATCH) {
    const m = h.mismatch_info ?? { low: RPC_VERSION, high: RPC_VERSION }
    w.u32(m.low)
    w.u32(m.high)
  } else if (h.reject_stat === RejectStat.AUTH_ERROR) {
    w.u32(h.auth_stat ?? 0)
  } else {
    throw new RangeError(`reject_stat ${String(h.reject_stat)} is not RPC_MISMATCH or AUTH_ERROR`)
  }
}

/** Encode a CALL or REPLY header (no body). */
export function encodeMessageHeader (w: XdrWriter, m: RpcMessage): void {
  if (m.mtype === MsgType.CALL) encodeCallHeader(w, m)
  else encodeReplyHeader(w, m)
}

/**
 * Decode an rpc_msg header from `r`, leaving `r` at the first byte of the procedure body
 * (arguments of a CALL, results of an accepted SUCCESS reply). Malformed input throws
 * EGLUSTER_PROTOCOL.
 */
export function decodeMessageHeader (r: XdrReader): RpcMessage {
  const xid = r.u32()
  const mtype = r.u32()
  if (mtype === MsgType.CALL) {
    const rpcvers = r.u32()
    const prog = r.u32()
    const vers = r.u32()
    const proc = r.u32()
    const cred = OpaqueAuthCodec.decode(r)
    const verf = OpaqueAuthCodec.decode(r)
    return { xid, mtype, rpcvers, prog, vers, proc, cred, verf }
  }
  if (mtype !== MsgType.REPLY) throw protocolError(`rpc_msg: msg_type ${mtype} is neither CALL (0) nor REPLY (1), xid ${xid}`)
  const replyStat = r.u32()
  if (replyStat === ReplyStat.MSG_ACCEPTED) {
    const verf = OpaqueAuthCodec.decode(r)
    const acceptStat = r.u32()
    if (acceptStat === AcceptStat.PROG_MISMATCH) {
      const low = r.u32()
      const high = r.u32()
      return { xid, mtype, reply_stat: 0, verf, accept_stat: acceptStat, mismatch_info: { low, high } }
    }
    return { xid, mtype, reply_stat: 0, verf, accept_stat: acceptStat }
  }
  if (replyStat !== ReplyStat.MSG_DENIED) throw protocolError(`rpc_msg: reply_stat ${replyStat} is neither MSG_ACCEPTED nor MSG_DENIED, xid ${xid}`)
  const rejectStat = r.u32()
  if (rejectStat === RejectStat.RPC_MISMATCH) {
    const low = r.u32()
    const high = r.u32()
    return { xid, mtype, reply_stat: 1, reject_stat: rejectStat, mismatch_info: { low, high } }
  }
  if (rejectStat === RejectStat.AUTH_ERROR) {
    return { xid, mtype, reply_stat: 1, reject_stat: rejectStat, auth_stat: r.u32() }
  }
  throw protocolError(`rpc_msg: reject_stat ${rejectStat} is neither RPC_MISMATCH nor AUTH_ERROR, xid ${xid}`)
}

export interface DecodedMessage {
  msg: RpcMessage
  /** A reader over the procedure body: from bodyOffset to the end of the record. */
  body: XdrReader
  /** Offset in the record where the procedure body starts. */
  bodyOffset: number
}

/** Decode one record's header; the body is left for the procedure's codec. */
export function decodeMessage (record: Buffer, tail?: Buffer): DecodedMessage {
  const r = new XdrReader(record)
  if (tail !== undefined) r.tail = tail
  const msg = decodeMessageHeader(r)
  return { msg, body: r, bodyOffset: r.pos }
}

/** The xid of a record (its first word), or undefined when the record is shorter than 4 bytes. */
export function peekXid (record: Buffer): number | undefined {
  return record.length >= 4 ? record.readUInt32BE(0) : undefined
}

/**
 * Encode a framed CALL record (record mark, header, arguments) through one writer. Returns the
 * chunks to write: the header/argument bytes, with large raw payloads as chunks of their own.
 */
export function encodeCallRecord<A> (w: XdrWriter, header: CallHeaderInit, args: Codec<A>, value: A): Buffer[] {
  beginRecord(w)
  try {
    encodeCallHeader(w, header)
    args.encode(w, value)
  } catch (err) {
    w.finishChunks() // drop the half-written message
    throw err
  }
  return finishRecord(w)
}

/** Encode a framed REPLY record; `results` is written only for an accepted SUCCESS reply. */
export function encodeReplyRecord<R> (w: XdrWriter, header: ReplyMessage, res?: Codec<R>, value?: R): Buffer[] {
  beginRecord(w)
  try {
    encodeReplyHeader(w, header)
    if (res !== undefined && header.reply_stat === ReplyStat.MSG_ACCEPTED && header.accept_stat === AcceptStat.SUCCESS) {
      res.encode(w, value as R)
    }
  } catch (err) {
    w.finishChunks()
    throw err
  }
  return finishRecord(w)
}

const ACCEPT_NAMES: Readonly<Record<number, string>> = Object.freeze(
  Object.fromEntries(Object.entries(AcceptStat).map(([k, v]) => [v, k])))
const AUTH_NAMES: Readonly<Record<number, string>> = Object.freeze(
  Object.fromEntries(Object.entries(AuthStat).map(([k, v]) => [v, k])))

export function acceptStatName (s: number): string { return ACCEPT_NAMES[s] ?? `accept_stat ${s}` }
export function authStatName (s: number): string { return AUTH_NAMES[s] ?? `auth_stat ${s}` }

/** Who a reply was for, to name it in errors. */
export interface ReplyContext {
  peer?: string
  program?: string
  procedure?: string
  prog?: number
  vers?: number
}

/**
 * The GlusterError for a reply that is not an accepted SUCCESS, or undefined for SUCCESS.
 * Codes: EGLUSTER_PROG_UNAVAIL, EGLUSTER_PROG_MISMATCH, EGLUSTER_PROC_UNAVAIL,
 * EGLUSTER_GARBAGE_ARGS, EGLUSTER_SYSTEM_ERR, EGLUSTER_RPC_MISMATCH, EGLUSTER_AUTH, and
 * EGLUSTER_PROTOCOL for an accept_stat outside RFC 5531.
 */
export function replyError (reply: ReplyMessage, ctx: ReplyContext = {}): GlusterError | undefined {
  if (reply.reply_stat === ReplyStat.MSG_ACCEPTED && reply.accept_stat === AcceptStat.SUCCESS) return undefined
  const progLabel = ctx.program !== undefined
    ? `${ctx.program}${ctx.prog !== undefined ? ` (${ctx.prog} v${ctx.vers ?? '?'})` : ''}`
    : ctx.prog !== undefined ? `program ${ctx.prog} v${ctx.vers ?? '?'}` : 'program'
  const what = `${progLabel}${ctx.procedure !== undefined ? ` ${ctx.procedure}` : ''}, xid ${reply.xid}`
  const where = ctx.peer !== undefined ? ` (peer ${ctx.peer})` : ''
  const extra: ErrorExtra = { peer: ctx.peer, program: ctx.program, procedure: ctx.procedure, xid: reply.xid, syscall: ctx.procedure }
  if (reply.reply_stat === ReplyStat.MSG_ACCEPTED) {
    const m = reply.mismatch_info
    switch (reply.accept_stat) {
      case AcceptStat.PROG_UNAVAIL:
        return new GlusterError('EGLUSTER_PROG_UNAVAIL', `PROG_UNAVAIL: the peer does not serve ${what}${where}`, extra)
      case AcceptStat.PROG_MISMATCH:
        return new GlusterError('EGLUSTER_PROG_MISMATCH',
          `PROG_MISMATCH: the peer serves versions ${m?.low ?? 0}..${m?.high ?? 0}, not the one asked for: ${what}${where}`, extra)
      case AcceptStat.PROC_UNAVAIL:
        return new GlusterError('EGLUSTER_PROC_UNAVAIL', `PROC_UNAVAIL: procedure not available: ${what}${where}`, extra)
      case AcceptStat.GARBAGE_ARGS:
        return new GlusterError('EGLUSTER_GARBAGE_ARGS', `GARBAGE_ARGS: the peer could not decode the arguments: ${what}${where}`, extra)
      case AcceptStat.SYSTEM_ERR:
        return new GlusterError('EGLUSTER_SYSTEM_ERR', `SYSTEM_ERR: the peer failed to run ${what}${where}`, extra)
      default:
        return protocolError(`rpc_msg: unknown accept_stat ${reply.accept_stat}: ${what}${where}`, extra)
    }
  }
  if (reply.reject_stat === RejectStat.RPC_MISMATCH) {
    const m = reply.mismatch_info
    return new GlusterError('EGLUSTER_RPC_MISMATCH',
      `RPC_MISMATCH: the peer speaks ONC RPC versions ${m?.low ?? '?'}..${m?.high ?? '?'}, not 2: ${what}${where}`, extra)
  }
  return new GlusterError('EGLUSTER_AUTH',
    `AUTH_ERROR (${authStatName(reply.auth_stat ?? 0)}): the peer rejected the credential: ${what}${where}`, extra)
}
