/**
 * Capture replay: every RPC message decodes with our codecs and re-encodes to the same bytes.
 *
 * For each message: decode the rpc_msg header (message.ts). A CALL is looked up by (prog, vers)
 * among the programs we model and its arguments are decoded with the procedure's codec; a REPLY
 * is decoded with the result codec of the call with the same xid on the same connection (the call
 * travelled the other way). The message is then encoded again through the production path
 * (`encodeCallRecord` / `encodeReplyRecord`, record mark included) and compared byte for byte.
 * Credentials are also decoded and re-encoded (auth.ts). Programs we do not model (glusterd
 * peer-to-peer, GD_BRICK, cli) round-trip at the header level with the body as opaque bytes.
 *
 * `replayCapture(pcap)` also feeds every reassembled TCP stream, cut at the captured segment
 * boundaries, through `RecordDecoder` and checks it yields the same records as the reader.
 *
 * Reusable by the interop suite: run `replayCapture` on a pcap/pcapng taken with dumpcap during a
 * run against our own client/server (pass `isServerPort` if the ports differ from Gluster's).
 */
import { readFileSync } from 'node:fs'
import { XdrWriter } from '../../src/xdr/writer.js'
import { rest, type Codec } from '../../src/xdr/codec.js'
import {
  decodeMessage, encodeCallRecord, encodeReplyRecord, acceptStatName,
  MsgType, ReplyStat, AcceptStat, type RpcMessage,
} from '../../src/message.js'
import { decodeCredential, encodeCredential } from '../../src/auth.js'
import { RecordDecoder } from '../../src/record.js'
import type { Program, Proc } from '../../src/programs/program.js'
import { DumpProgram } from '../../src/programs/dump.js'
import { HandshakeProgram } from '../../src/programs/handshake.js'
import { PortmapProgram } from '../../src/programs/portmap.js'
import { FopProgram } from '../../src/programs/fop.js'
import { CallbackProgram } from '../../src/programs/cbk.js'
import { captureRecords, isGlusterPort, splitRecords, type TcpConnection } from './pcap.js'

/** The programs whose procedure bodies we decode. */
export const MODELLED_PROGRAMS: readonly Program[] = [DumpProgram, HandshakeProgram, PortmapProgram, FopProgram, CallbackProgram]

/**
 * Gluster programs we deliberately do not model (header-level round trip, body opaque), with
 * their procedure names (fact sheet §2.7) for the report.
 */
export const UNMODELLED_PROGRAMS: Readonly<Record<string, { name: string, procs: readonly string[] }>> = {
  '1238433/2': { name: 'GlusterD svc mgmt', procs: ['NULL', 'CLUSTER_LOCK', 'CLUSTER_UNLOCK', 'STAGE_OP', 'COMMIT_OP'] },
  '1238433/3': { name: 'GlusterD svc mgmt v3', procs: ['NULL', 'LOCK', 'PRE_VALIDATE', 'BRICK_OP', 'COMMIT', 'POST_VALIDATE', 'UNLOCK', 'POST_COMMIT'] },
  '1238437/2': { name: 'GlusterD svc peer', procs: ['NULL', 'PROBE_QUERY', 'FRIEND_ADD', 'FRIEND_REMOVE', 'FRIEND_UPDATE'] },
  '1239873/1': { name: 'Gluster MGMT Handshake', procs: ['NULL', 'VERSIONS', 'VERSIONS_ACK'] },
  '4867634/2': {
    name: 'GD brick ops',
    procs: ['NULL', 'TERMINATE', 'XLATOR_INFO', 'XLATOR_OP', 'STATUS', 'OP', 'XLATOR_DEFRAG', 'NODE_PROFILE', 'NODE_STATUS',
      'VOLUME_BARRIER_OP', 'BRICK_BARRIER', 'NODE_BITROT', 'BRICK_ATTACH', 'DUMP_METRICS', 'SVC_ATTACH', 'SVC_DETACH'],
  },
  '1238463/2': { name: 'GlusterD svc cli', procs: [] },
  '1298437/330': { name: 'GlusterFS 3.3', procs: [] },
}

export interface ReplayMessage {
  /** Where it came from: a capture or vector file name. */
  source: string
  frame: number
  conn: string
  side: 'c2s' | 's2c'
  /** The RPC message without its record marker. */
  message: Buffer
}

export interface Mismatch {
  source: string
  frame: number
  conn: string
  xid: number
  /** e.g. "1298437/400 GlusterFS 4.x v1 LOOKUP reply" */
  label: string
  /** What failed: the rpc_msg header, the credential, the procedure body, or record splitting. */
  part: 'header' | 'cred' | 'body' | 'record'
  /** The codec that decoded the body (`args` of a call, `res` of a reply), when there is one. */
  codec?: string
  /** First differing byte, as an offset in the message (record marker excluded) and in the body. */
  offset: number
  bodyOffset?: number
  expectedLength: number
  actualLength: number
  expected: string
  actual: string
  error?: string
}

export interface ProcCount { call: number, reply: number }

export interface ReplayResult {
  /** Messages replayed. */
  total: number
  /** "prog/vers Program PROC" → messages whose body went through our codecs. */
  byProc: Record<string, ProcCount>
  /** "prog/vers Program proc N" → messages of programs/procs we do not model (header only). */
  opaque: Record<string, ProcCount>
  /** Replies whose call is not in the capture (connection opened before it): header only. */
  orphanReplies: number
  /** Replies that are not accepted SUCCESS: header only (no body to decode). */
  errorReplies: Record<string, number>
  /** Credentials decoded and re-encoded, by flavor. */
  creds: Record<string, number>
  mismatches: Mismatch[]
}

export interface CaptureReplayResult extends ReplayResult {
  connections: number
  /** Records cut by a hole or the snaplen (not replayed). */
  incomplete: number
  /** Records also checked through RecordDecoder at the captured segment boundaries. */
  recordDecoderChecked: number
}

const MAX_MISMATCHES = 200

function snippet (b: Buffer, at: number): string {
  const from = Math.max(0, at - 16)
  const hex = b.subarray(from, at + 32).toString('hex')
  return `[${from}..${Math.min(b.length, at + 32)}) ${hex.slice(0, (at - from) * 2)}|${hex.slice((at - from) * 2)}`
}

function firstDiff (a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i
  return a.length === b.length ? -1 : n
}

export function emptyResult (): ReplayResult {
  return { total: 0, byProc: {}, opaque: {}, orphanReplies: 0, errorReplies: {}, creds: {}, mismatches: [] }
}

/** Replays messages in order; keeps the xid → call table per connection. */
export class Replayer {
  readonly result: ReplayResult = emptyResult()
  readonly #programs = new Map<string, Program>()
  readonly #pending = new Map<string, { label: string, program?: Program, proc?: Proc }>()

  constructor (programs: readonly Program[] = MODELLED_PROGRAMS) {
    for (const p of programs) this.#programs.set(`${p.prog}/${p.vers}`, p)
  }

  #fail (m: ReplayMessage, xid: number, label: string, part: Mismatch['part'], expected: Buffer, actual: Buffer, extra: Partial<Mismatch> = {}): void {
    if (this.result.mismatches.length >= MAX_MISMATCHES) return
    const at = Math.max(0, firstDiff(expected, actual))
    this.result.mismatches.push({
      source: m.source, frame: m.frame, conn: m.conn, xid, label, part, offset: at,
      expectedLength: expected.length, actualLength: actual.length,
      expected: snippet(expected, at), actual: snippet(actual, at), ...extra,
    })
  }

  #count (table: Record<string, ProcCount>, key: string, kind: 'call' | 'reply'): void {
    const c = table[key] ??= { call: 0, reply: 0 }
    c[kind]++
  }

  push (m: ReplayMessage): void {
    this.result.total++
    const buf = m.message
    const xid = buf.length >= 4 ? buf.readUInt32BE(0) : 0
    let msg: RpcMessage
    let bodyOffset: number
    try {
      const d = decodeMessage(buf)
      msg = d.msg
      bodyOffset = d.bodyOffset
    } catch (err) {
      this.#fail(m, xid, 'rpc_msg', 'header', buf, Buffer.alloc(0), { error: String(err) })
      return
    }
    const body = buf.subarray(bodyOffset)
    let label: string
    let codec: Codec<any> = rest
    let codecName: string | undefined
    let kind: 'call' | 'reply'
    let modelled = false
    if (msg.mtype === MsgType.CALL) {
      kind = 'call'
      const key = `${msg.prog}/${msg.vers}`
      const program = this.#programs.get(key)
      const proc = program?.byNum.get(msg.proc)
      if (program !== undefined && proc !== undefined) {
        label = `${key} ${program.name} ${proc.name}`
        codec = proc.args
        codecName = `${proc.name}.args`
        modelled = true
      } else {
        const known = UNMODELLED_PROGRAMS[key]
        label = `${key} ${program?.name ?? known?.name ?? 'unknown program'} ${known?.procs[msg.proc] ?? 'proc'} (${msg.proc})`
      }
      this.#pending.set(`${m.conn}|${m.side}|${msg.xid}`, { label, ...(program ? { program } : {}), ...(proc ? { proc } : {}) })
      this.#checkCred(m, msg.xid, label, msg.cred)
      if (msg.verf.flavor !== 0 || msg.verf.body.length !== 0) this.#checkCred(m, msg.xid, `${label} (verifier)`, msg.verf)
    } else {
      kind = 'reply'
      const callKey = `${m.conn}|${m.side === 'c2s' ? 's2c' : 'c2s'}|${msg.xid}`
      const call = this.#pending.get(callKey)
      this.#pending.delete(callKey)
      const success = msg.reply_stat === ReplyStat.MSG_ACCEPTED && msg.accept_stat === AcceptStat.SUCCESS
      if (call === undefined) {
        label = 'reply to a call not in the capture'
        this.result.orphanReplies++
      } else {
        label = call.label
        if (!success) {
          const why = msg.reply_stat === ReplyStat.MSG_ACCEPTED ? acceptStatName(msg.accept_stat) : `DENIED ${msg.reject_stat}`
          this.result.errorReplies[`${label} ${why}`] = (this.result.errorReplies[`${label} ${why}`] ?? 0) + 1
        } else if (call.proc !== undefined) {
          codec = call.proc.res
          codecName = `${call.proc.name}.res`
          modelled = true
        }
      }
    }
    // decode the body with the procedure's codec (or keep it opaque), then encode it all again
    let value: unknown
    try {
      const r = decodeMessage(buf).body
      value = codec.decode(r)
      if (r.remaining !== 0) throw new Error(`${r.remaining} bytes left after decoding the body`)
    } catch (err) {
      this.#fail(m, msg.xid, `${label} ${kind}`, 'body', body, Buffer.alloc(0), { ...(codecName ? { codec: codecName } : {}), error: String(err), bodyOffset: 0 })
      return
    }
    let again: Buffer
    try {
      const w = new XdrWriter()
      const chunks = msg.mtype === MsgType.CALL
        ? encodeCallRecord(w, { xid: msg.xid, rpcvers: msg.rpcvers, prog: msg.prog, vers: msg.vers, proc: msg.proc, cred: msg.cred, verf: msg.verf }, codec, value)
        : encodeReplyRecord(w, msg, codec, value)
      again = Buffer.concat(chunks)
    } catch (err) {
      this.#fail(m, msg.xid, `${label} ${kind}`, 'body', body, Buffer.alloc(0), { ...(codecName ? { codec: codecName } : {}), error: `encode: ${String(err)}` })
      return
    }
    const mark = Buffer.alloc(4)
    mark.writeUInt32BE((0x80000000 | buf.length) >>> 0, 0)
    const expected = Buffer.concat([mark, buf])
    if (!expected.equals(again)) {
      const at = firstDiff(expected, again)
      const inBody = at - 4 >= bodyOffset
      this.#fail(m, msg.xid, `${label} ${kind}`, inBody ? 'body' : 'header', buf, again.subarray(4), {
        ...(codecName && inBody ? { codec: codecName } : {}),
        ...(inBody ? { bodyOffset: at - 4 - bodyOffset } : {}),
        ...(at < 4 ? { error: `record mark ${expected.readUInt32BE(0).toString(16)} re-encoded as ${again.length >= 4 ? again.readUInt32BE(0).toString(16) : '(none)'}` } : {}),
      })
      return
    }
    this.#count(modelled ? this.result.byProc : this.result.opaque, label, kind)
  }

  #checkCred (m: ReplayMessage, xid: number, label: string, a: { flavor: number, body: Buffer }): void {
    try {
      const c = decodeCredential(a)
      const back = encodeCredential(c)
      this.result.creds[String(a.flavor)] = (this.result.creds[String(a.flavor)] ?? 0) + 1
      if (back.flavor !== a.flavor || !back.body.equals(a.body)) {
        this.#fail(m, xid, `${label} credential flavor ${a.flavor}`, 'cred', a.body, back.body, { codec: `credential ${a.flavor}` })
      }
    } catch (err) {
      this.#fail(m, xid, `${label} credential flavor ${a.flavor}`, 'cred', a.body, Buffer.alloc(0), { codec: `credential ${a.flavor}`, error: String(err) })
    }
  }
}

export function replayMessages (messages: Iterable<ReplayMessage>, programs?: readonly Program[]): ReplayResult {
  const r = new Replayer(programs)
  for (const m of messages) r.push(m)
  return r.result
}

/** The messages of a committed `*.records.jsonl` vector file (see test/vectors/SOURCE.md). */
export function loadVectors (file: string): ReplayMessage[] {
  const source = file.replace(/^.*[\\/]/, '')
  return readFileSync(file, 'utf8').split('\n').filter(l => l.length > 0).map(l => {
    const v = JSON.parse(l) as { frame: number, conn: string, side: 'c2s' | 's2c', hex: string }
    return { source, frame: v.frame, conn: v.conn, side: v.side, message: Buffer.from(v.hex, 'hex') }
  })
}

/** Feed each run of a stream through RecordDecoder at the captured segment boundaries. */
function checkRecordDecoder (c: TcpConnection, dir: 'c2s' | 's2c', source: string, out: ReplayResult): number {
  const s = c[dir]
  const recs = splitRecords(c, dir).records
  const bounds = [0, ...s.gaps, s.bytes.length]
  let checked = 0
  for (let run = 0; run + 1 < bounds.length; run++) {
    const [lo, hi] = [bounds[run]!, bounds[run + 1]!]
    const mine = recs.filter(r => r.offset >= lo && r.offset < hi)
    if (mine.length === 0) continue
    const cuts = [mine[0]!.offset, ...s.segments.map(g => g.offset).filter(o => o > mine[0]!.offset && o < hi), hi]
    const dec = new RecordDecoder()
    const got: Buffer[] = []
    try {
      for (let i = 0; i + 1 < cuts.length; i++) dec.push(s.bytes.subarray(cuts[i], cuts[i + 1]), r => { got.push(r) })
    } catch (err) {
      out.mismatches.push({ source, frame: mine[0]!.frame, conn: c.id, xid: 0, label: `RecordDecoder on ${dir}`, part: 'record', offset: 0, expectedLength: mine.length, actualLength: got.length, expected: '', actual: '', error: String(err) })
      continue
    }
    for (let i = 0; i < Math.max(got.length, mine.length); i++) {
      const a = mine[i]?.message ?? Buffer.alloc(0)
      const b = got[i] ?? Buffer.alloc(0)
      if (!a.equals(b)) {
        const at = Math.max(0, firstDiff(a, b))
        out.mismatches.push({ source, frame: mine[i]?.frame ?? 0, conn: c.id, xid: a.length >= 4 ? a.readUInt32BE(0) : 0, label: `RecordDecoder record ${i} on ${dir}`, part: 'record', offset: at, expectedLength: a.length, actualLength: b.length, expected: snippet(a, at), actual: snippet(b, at) })
        break
      }
      checked++
    }
  }
  return checked
}

/**
 * Replay every Gluster RPC message of a capture (libpcap or pcapng). Connections are kept when
 * their server port passes `isServerPort` (default: 24007 and 49152-49251).
 */
export function replayCapture (pcapPath: string, opts: { isServerPort?: (port: number) => boolean, programs?: readonly Program[] } = {}): CaptureReplayResult {
  const source = pcapPath.replace(/^.*[\\/]/, '')
  const cap = captureRecords(pcapPath, opts.isServerPort ?? isGlusterPort)
  const r = new Replayer(opts.programs)
  for (const rec of cap.records) r.push({ source, frame: rec.lastFrame, conn: rec.conn, side: rec.dir, message: rec.message })
  let recordDecoderChecked = 0
  for (const c of cap.connections) for (const d of ['c2s', 's2c'] as const) recordDecoderChecked += checkRecordDecoder(c, d, source, r.result)
  return { ...r.result, connections: cap.connections.length, incomplete: cap.incomplete, recordDecoderChecked }
}

/** Add `b` into `a` (totals over several captures). */
export function mergeResults (a: ReplayResult, b: ReplayResult): ReplayResult {
  a.total += b.total
  a.orphanReplies += b.orphanReplies
  for (const [k, v] of Object.entries(b.byProc)) { const c = a.byProc[k] ??= { call: 0, reply: 0 }; c.call += v.call; c.reply += v.reply }
  for (const [k, v] of Object.entries(b.opaque)) { const c = a.opaque[k] ??= { call: 0, reply: 0 }; c.call += v.call; c.reply += v.reply }
  for (const [k, v] of Object.entries(b.errorReplies)) a.errorReplies[k] = (a.errorReplies[k] ?? 0) + v
  for (const [k, v] of Object.entries(b.creds)) a.creds[k] = (a.creds[k] ?? 0) + v
  a.mismatches.push(...b.mismatches)
  return a
}

/** A human-readable table of a result (for t.comment and the interop logs). */
export function formatResult (r: ReplayResult, title = 'replay'): string {
  const sum = (t: Record<string, ProcCount>): number => Object.values(t).reduce((n, c) => n + c.call + c.reply, 0)
  const lines = [`${title}: ${r.total} messages, ${sum(r.byProc)} decoded with our codecs, ${sum(r.opaque)} header-only (programs not modelled), ` +
    `${r.orphanReplies} replies to calls not captured, ${r.mismatches.length} mismatches`]
  const table = (t: Record<string, ProcCount>): void => {
    for (const k of Object.keys(t).sort((x, y) => x.localeCompare(y, 'en', { numeric: true }))) lines.push(`  ${k.padEnd(58)} call ${String(t[k]!.call).padStart(5)}  reply ${String(t[k]!.reply).padStart(5)}`)
  }
  table(r.byProc)
  if (Object.keys(r.opaque).length > 0) { lines.push(' not modelled (header round trip, body opaque):'); table(r.opaque) }
  if (Object.keys(r.errorReplies).length > 0) lines.push(` error replies: ${JSON.stringify(r.errorReplies)}`)
  lines.push(` credentials by flavor: ${JSON.stringify(r.creds)}`)
  return lines.join('\n')
}

export function formatMismatch (m: Mismatch): string {
  return `${m.source} frame ${m.frame} ${m.conn} xid ${m.xid}: ${m.label}: ${m.part}${m.codec ? ` (${m.codec})` : ''} differs at message offset ${m.offset}` +
    `${m.bodyOffset !== undefined ? ` (body offset ${m.bodyOffset})` : ''}, length ${m.expectedLength} on the wire vs ${m.actualLength} re-encoded` +
    `${m.error ? `; ${m.error}` : ''}\n    wire:      ${m.expected}\n    re-encoded: ${m.actual}`
}
