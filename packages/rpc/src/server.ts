import { EventEmitter } from 'node:events'
import net from 'node:net'
import type { Socket } from 'node:net'
import { GlusterError, protocolError } from './errors.js'
import { RecordDecoder } from './record.js'
import {
  AcceptStat, AuthStat, MsgType, NULL_AUTH, RPC_VERSION, RejectStat, ReplyStat, acceptStatName,
  decodeMessage, encodeCallRecord, encodeReplyRecord,
} from './message.js'
import type { CallMessage, OpaqueAuth, ReplyMessage } from './message.js'
import { decodeCredential } from './auth.js'
import type { Credential } from './auth.js'
import { Outbox } from './outbox.js'
import { XdrWriter } from './xdr/writer.js'
import { formatAddress } from './transport.js'
import { socketPeer } from './client.js'
import type { BoundProc } from './client.js'
import type { Proc, ProcArgs, ProcRes, Program } from './programs/program.js'
import { opStatus, serverCallChannel } from './diagnostics.js'
import type { RpcServerCallEvent } from './diagnostics.js'
import {
  DEFAULT_FIRST_CALL_TIMEOUT_MS, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS_PER_PEER, DEFAULT_MAX_INFLIGHT_PER_CONNECTION,
  DEFAULT_MAX_PARKED_PER_CONNECTION, DEFAULT_SERVER_MAX_RECORD_BYTES, DEFAULT_STALL_TIMEOUT_MS, ConnectionGuard, DeadlineTimer,
  LIMIT_REASONS, processRecordBudget,
} from './server-limits.js'
import type { GuardedConnection, LimitReason, RecordBudget } from './server-limits.js'

/**
 * Return this from a handler to send no reply at all (GlusterFS does so for PMAP BRICKBYPORT;
 * tests use it to play a hung brick).
 */
export const NO_REPLY: unique symbol = Symbol.for('gluster-ts.rpc.noReply')

export interface CallContext {
  peer: string
  xid: number
  prog: number
  vers: number
  proc: number
  program: string
  procedure: string
  /** The decoded credential (an OpaqueAuth for flavors we don't model). */
  cred: Credential | OpaqueAuth
  /** The credential exactly as received. */
  rawCred: OpaqueAuth
  verf: OpaqueAuth
  /** The connection the call came on: send callbacks with connection.send(). */
  connection: ServerConnection
  /** Aborted when the connection closes. */
  signal: AbortSignal
  /**
   * This call is about to wait for something another call must do (a lock that an unlock will
   * release, perhaps one this connection sends later): stop counting it toward the
   * outstanding-call limit, so that the connection keeps being read. Procedures defined with
   * `blocking: true` (the FOP lock calls) are parked from the start. Up to
   * maxParkedPerConnection calls per connection can be parked; past that, park() does nothing.
   */
  park: () => void
}

export type HandlerResult<R> = R | typeof NO_REPLY
export type Handler<P> = (args: ProcArgs<P>, ctx: CallContext) => HandlerResult<ProcRes<P>> | Promise<HandlerResult<ProcRes<P>>>
export type Handlers<P extends Program> = { [K in keyof P['procs']]?: Handler<P['procs'][K]> }

/**
 * What one peer may cost the server (docs/server.md, "Limits"; the defaults and why are in
 * server-limits.ts). Timeouts of 0 are off; counts may be Infinity.
 */
export interface RpcServerOptions {
  /**
   * Largest call record accepted; a larger one is a protocol error that closes the connection
   * as soon as its header arrives. Default 1 MiB + 64 KiB (a 1 MiB WRITE and its headers).
   */
  maxRecordBytes?: number
  /**
   * Handlers running at once per connection. While that many run, the server stops reading the
   * connection's socket (the peer's sends back up through TCP, as GlusterFS's throttling does)
   * and starts reading again below it. Default 64, GlusterFS's outstanding-rpc-limit.
   */
  maxInflightPerConnection?: number
  /**
   * Parked calls (CallContext.park(), and `blocking` procedures such as INODELK) per connection
   * that do not count toward maxInflightPerConnection. Default 1024.
   */
  maxParkedPerConnection?: number
  /**
   * A connection that holds an unfinished record without receiving a byte of it for this long,
   * or that leaves our replies unread (nothing written while the socket waits for 'drain') for
   * this long, is closed. Default 42 000 ms, GlusterFS's ping-timeout.
   */
  stallTimeoutMs?: number
  /** A connection that has not sent one whole call this long after connecting is closed. Default 42 000 ms. */
  firstCallTimeoutMs?: number
  /** Connections served at once; more are closed as they arrive. Default 1024. */
  maxConnections?: number
  /** Connections served at once from one peer address; more are closed as they arrive. Default 256. */
  maxConnectionsPerPeer?: number
  /**
   * The budget for bytes held in unfinished records, shared with other servers. Default
   * `processRecordBudget`, shared by every RpcServer of the process (64 MiB).
   */
  recordBudget?: RecordBudget
  /**
   * GlusterFS's `rpc-auth-allow-insecure`: serve calls from TCP source ports >= 1024 (default
   * true). false: such calls are answered MSG_DENIED / AUTH_ERROR (AUTH_REJECTEDCRED) before
   * their handler, as rpcsvc does (after the program and procedure lookups, before the
   * arguments are decoded). Unix-socket peers have no port and are always served.
   */
  allowInsecure?: boolean
}

export interface RpcServerStats {
  /** connections served (accepted and not refused by a limit), since the start */
  connections: number
  calls: number
  /** calls answered with something other than SUCCESS */
  refused: number
  /** handlers that threw (answered SYSTEM_ERR or the mapped RPC error) */
  handlerErrors: number
  /** REPLY messages received (we never call clients and wait, so these are ignored) */
  ignoredReplies: number
  /** connections closed because of malformed framing or headers (records over the cap included) */
  protocolErrors: number
  /** bytes of unfinished call records held now over this server's connections (without record marks) */
  partialRecordBytes: number
  /** handlers running now (parked ones included) */
  callsInFlight: number
  /** of callsInFlight, the parked ones (not counted toward maxInflightPerConnection) */
  parkedCalls: number
  /** connections closed (or refused, for serverFull and peerFull) by a limit, per limit */
  closed: Record<LimitReason, number>
}

/** RpcServerOptions with every default filled in. */
type Limits = Required<RpcServerOptions>

interface Registered {
  program: Program
  handlers: Record<string, Handler<any> | undefined>
}

const now = (): number => performance.now()

/** A call's standing while its handler runs (CallContext.park). */
const CALL_NEW = 0
const PARK_ASKED = 1
const CALL_COUNTED = 2
const CALL_PARKED = 3

/**
 * ONC RPC server: a table of programs and handlers, dispatched the way GlusterFS's rpcsvc
 * answers (fact sheet §1.4):
 *   rpcvers ≠ 2                       → DENIED RPC_MISMATCH (2, 2)
 *   credential body that won't decode → DENIED AUTH_ERROR (AUTH_BADCRED)
 *   unknown program                   → PROG_UNAVAIL
 *   known program, other version      → PROG_MISMATCH with low/high = the versions we serve
 *                                       (GlusterFS sends 0, 0 here; see docs/protocol/rpc.md)
 *   unknown procedure / no handler    → PROC_UNAVAIL
 *   arguments that don't decode       → GARBAGE_ARGS
 *   handler throws                    → SYSTEM_ERR, or the RPC error its GlusterError code names
 *                                       (EGLUSTER_GARBAGE_ARGS, EGLUSTER_PROC_UNAVAIL,
 *                                       EGLUSTER_PROG_UNAVAIL, EGLUSTER_AUTH, EGLUSTER_SYSTEM_ERR)
 * Malformed framing or an undecodable header closes that connection only.
 *
 * Events: 'connection' (conn: ServerConnection). Never 'error' after listen() resolved.
 */
export class RpcServer extends EventEmitter {
  readonly #programs = new Map<number, Map<number, Registered>>()
  readonly #connections = new Set<ServerConnection>()
  /** connections served per peer address */
  readonly #perPeer = new Map<string, number>()
  readonly #opts: Limits
  readonly #deadlines = new DeadlineTimer(now => this.#sweep(now))
  #server: net.Server | undefined
  #closing: Promise<void> | undefined
  readonly stats: RpcServerStats = {
    connections: 0, calls: 0, refused: 0, handlerErrors: 0, ignoredReplies: 0, protocolErrors: 0,
    partialRecordBytes: 0, callsInFlight: 0, parkedCalls: 0,
    closed: Object.fromEntries(LIMIT_REASONS.map(r => [r, 0])) as Record<LimitReason, number>,
  }

  constructor (opts: RpcServerOptions = {}) {
    super()
    this.#opts = {
      maxRecordBytes: count('maxRecordBytes', opts.maxRecordBytes ?? DEFAULT_SERVER_MAX_RECORD_BYTES, false),
      maxInflightPerConnection: count('maxInflightPerConnection', opts.maxInflightPerConnection ?? DEFAULT_MAX_INFLIGHT_PER_CONNECTION),
      maxParkedPerConnection: count('maxParkedPerConnection', opts.maxParkedPerConnection ?? DEFAULT_MAX_PARKED_PER_CONNECTION, true, 0),
      stallTimeoutMs: count('stallTimeoutMs', opts.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS, false, 0),
      firstCallTimeoutMs: count('firstCallTimeoutMs', opts.firstCallTimeoutMs ?? DEFAULT_FIRST_CALL_TIMEOUT_MS, false, 0),
      maxConnections: count('maxConnections', opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS),
      maxConnectionsPerPeer: count('maxConnectionsPerPeer', opts.maxConnectionsPerPeer ?? DEFAULT_MAX_CONNECTIONS_PER_PEER),
      recordBudget: opts.recordBudget ?? processRecordBudget,
      allowInsecure: opts.allowInsecure ?? true,
    }
  }

  /** Serve `program` (one prog/vers) with these handlers. Procedures without a handler answer PROC_UNAVAIL. */
  register<P extends Program> (program: P, handlers: Handlers<P>): this {
    let versions = this.#programs.get(program.prog)
    if (versions === undefined) {
      versions = new Map()
      this.#programs.set(program.prog, versions)
    }
    if (versions.has(program.vers)) throw new Error(`${program.name} (${program.prog} v${program.vers}) is already registered`)
    for (const name of Object.keys(handlers)) {
      if (!(name in program.procs)) throw new Error(`${program.name} has no procedure ${name}`)
    }
    versions.set(program.vers, { program, handlers: handlers as Registered['handlers'] })
    return this
  }

  /** The connections being served. */
  get connections (): ReadonlySet<ServerConnection> { return this.#connections }

  /** The listening address as connect() takes it ('127.0.0.1:1234', '[::1]:1234', 'unix:/p'), or undefined. */
  get address (): string | undefined {
    const a = this.#server?.address()
    if (a === null || a === undefined) return undefined
    if (typeof a === 'string') return `unix:${a}`
    return formatAddress({ host: a.address, port: a.port })
  }

  /** The TCP port listened on (after listen()), or undefined. */
  get port (): number | undefined {
    const a = this.#server?.address()
    return a !== null && typeof a === 'object' ? a.port : undefined
  }

  /**
   * Listen on a TCP port (0 = any; host default: all addresses), a unix socket path, or
   * net.ListenOptions. Resolves with the address string (see `address`).
   */
  listen (port: number, host?: string): Promise<string>
  listen (path: string): Promise<string>
  listen (options: net.ListenOptions): Promise<string>
  listen (where: number | string | net.ListenOptions, host?: string): Promise<string> {
    if (this.#closing !== undefined) return Promise.reject(new GlusterError('EGLUSTER_CLOSED', 'RpcServer is closed'))
    if (this.#server !== undefined) return Promise.reject(new Error('RpcServer is already listening'))
    // keep-alive probes after 20 s idle, GlusterFS's transport.socket.keepalive-time (socket.h
    // GF_KEEPALIVE_TIME): a peer that vanished without a FIN gives its connection back
    const server = net.createServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: 20_000 }, socket => { this.handleSocket(socket) })
    this.#server = server
    const options: net.ListenOptions = typeof where === 'number'
      ? (host !== undefined ? { port: where, host } : { port: where })
      : typeof where === 'string' ? { path: where } : where
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        this.#server = undefined
        reject(new GlusterError('EGLUSTER_CONNECT', `listen on ${JSON.stringify(options)} failed: ${err.message}`, { syscall: 'listen' }, { cause: err }))
      }
      server.once('error', onError)
      server.listen(options, () => {
        server.removeListener('error', onError)
        // after listening, errors (EMFILE on accept …) must not crash the process
        server.on('error', () => {})
        resolve(this.address ?? '')
      })
    })
  }

  /**
   * Serve an already-connected socket (a listener of your own, a socketpair in tests). Past
   * maxConnections or maxConnectionsPerPeer the connection is closed at once (and returned closed).
   */
  handleSocket (socket: Socket): ServerConnection {
    const conn = new ServerConnection(socket, this, this.#opts)
    if (this.#closing !== undefined) {
      conn.destroy()
      return conn
    }
    const from = peerAddress(socket)
    const fromPeer = this.#perPeer.get(from) ?? 0
    if (this.#connections.size >= this.#opts.maxConnections) {
      conn.limitClose('serverFull', 'EGLUSTER_LIMIT', `the server already serves maxConnections ${this.#opts.maxConnections} connections`)
      return conn
    }
    if (fromPeer >= this.#opts.maxConnectionsPerPeer) {
      conn.limitClose('peerFull', 'EGLUSTER_LIMIT', `${from} already has maxConnectionsPerPeer ${this.#opts.maxConnectionsPerPeer} connections`)
      return conn
    }
    this.#connections.add(conn)
    this.#perPeer.set(from, fromPeer + 1)
    this.stats.connections++
    conn.once('close', () => {
      this.#connections.delete(conn)
      const n = (this.#perPeer.get(from) ?? 1) - 1
      if (n > 0) this.#perPeer.set(from, n)
      else this.#perPeer.delete(from)
      // nothing left to watch: no timer (a sweep would find nothing)
      if (this.#connections.size === 0) this.#deadlines.stop()
    })
    this.emit('connection', conn)
    if (!conn.closed) conn.guard.start()
    return conn
  }

  /**
   * Stop listening, let each connection finish its running handlers (up to `timeoutMs`, default
   * 5 s), then close them. Leaves no timer.
   */
  close (opts: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#closing !== undefined) return this.#closing
    const server = this.#server
    const stopped = server !== undefined ? new Promise<void>(resolve => { server.close(() => { resolve() }) }) : Promise.resolve()
    const timeoutMs = opts.timeoutMs ?? 5000
    this.#closing = (async () => {
      await Promise.all([...this.#connections].map(c => c.close({ timeoutMs })))
      await stopped
      this.#deadlines.stop()
    })()
    return this.#closing
  }

  async [Symbol.asyncDispose] (): Promise<void> { await this.close() }

  /** @internal */
  lookup (prog: number): Map<number, Registered> | undefined { return this.#programs.get(prog) }

  /** @internal a connection has a deadline at `at` (performance.now() time) */
  needSweep (at: number): void { this.#deadlines.need(at) }

  /** Close the connections past a deadline; the next deadline of those left. */
  #sweep (now: number): number {
    let next = Infinity
    for (const c of this.#connections) {
      if (!c.closed) next = Math.min(next, c.guard.check(now))
    }
    return next
  }
}

/** Validate a count option: an integer >= min, or Infinity when allowed. */
function count (name: string, n: number, infinite = true, min = 1): number {
  if ((infinite && n === Infinity) || (Number.isSafeInteger(n) && n >= min)) return n
  throw new RangeError(`RpcServerOptions.${name} must be an integer >= ${min}${infinite ? ' or Infinity' : ''}, got ${n}`)
}

/** The address a connection's peer is counted under (maxConnectionsPerPeer). */
function peerAddress (socket: Socket): string {
  return socket.remoteAddress ?? 'unix'
}

/** Map a GlusterError thrown by a handler to the RPC answer it names. */
function answerFor (err: unknown, h: { xid: number, verf: OpaqueAuth }): ReplyMessage {
  const code = err instanceof GlusterError ? err.code : undefined
  switch (code) {
    case 'EGLUSTER_GARBAGE_ARGS': return accepted(h, AcceptStat.GARBAGE_ARGS)
    case 'EGLUSTER_PROC_UNAVAIL': return accepted(h, AcceptStat.PROC_UNAVAIL)
    case 'EGLUSTER_PROG_UNAVAIL': return accepted(h, AcceptStat.PROG_UNAVAIL)
    case 'EGLUSTER_AUTH': return { xid: h.xid, mtype: 1, reply_stat: 1, reject_stat: RejectStat.AUTH_ERROR, auth_stat: AuthStat.AUTH_REJECTEDCRED }
    default: return accepted(h, AcceptStat.SYSTEM_ERR)
  }
}

function accepted (h: { xid: number, verf: OpaqueAuth }, stat: number): ReplyMessage {
  return { xid: h.xid, mtype: 1, reply_stat: ReplyStat.MSG_ACCEPTED, verf: h.verf, accept_stat: stat }
}

function replyName (r: ReplyMessage): string {
  if (r.reply_stat === ReplyStat.MSG_ACCEPTED) return acceptStatName(r.accept_stat)
  return r.reject_stat === RejectStat.RPC_MISMATCH ? 'RPC_MISMATCH' : 'AUTH_ERROR'
}

/**
 * One client connection of an RpcServer. Besides answering calls it can send one-way CALLs to
 * the client (GlusterFS callbacks: AUTH_NULL, their own xid counter from 1, never answered).
 * Events: 'close' (err?: Error — a protocol error, a limit (EGLUSTER_LIMIT, EGLUSTER_TIMEOUT,
 * EGLUSTER_RECORD_TOO_LARGE) or the socket's error).
 *
 * Reading: the socket is read only while a call that arrives could start at once. It is paused
 * while maxInflightPerConnection handlers run (parked ones aside), while the socket waits for
 * 'drain' (our replies are not being read: no new work, and no more memory, for that peer) and
 * while calls wait to be dispatched (at most the rest of one socket read, since reading stops).
 */
export class ServerConnection extends EventEmitter implements GuardedConnection {
  readonly peer: string
  readonly socket: Socket
  readonly #server: RpcServer
  readonly #decoder: RecordDecoder
  readonly #writer = new XdrWriter()
  readonly #outbox: Outbox
  readonly #ac = new AbortController()
  readonly #limits: Limits
  /** refuse every call: the peer's source port is >= 1024 and the server does not allow that */
  readonly #insecureRefused: boolean
  #inbox: Buffer[] = []
  /** handlers running that count toward maxInflightPerConnection, and parked ones */
  #inflight = 0
  #parked = 0
  #pumping = false
  #readingPaused = false
  #closing = false
  #closed = false
  #cbXid = 0
  #socketError: Error | undefined
  #idleWaiters: Array<() => void> = []
  readonly #socketClosed: Promise<void>
  /** @internal its deadlines and share of the record budget */
  readonly guard: ConnectionGuard

  constructor (socket: Socket, server: RpcServer, limits: Limits) {
    super()
    this.socket = socket
    this.peer = socketPeer(socket)
    this.#server = server
    this.#limits = limits
    this.#decoder = new RecordDecoder({ maxRecordBytes: limits.maxRecordBytes })
    this.guard = new ConnectionGuard(this, { ...limits, stats: server.stats, needSweep: at => { server.needSweep(at) } })
    this.#outbox = new Outbox(socket, () => { this.#pump() }, this.guard.written)
    this.#insecureRefused = !limits.allowInsecure && socket.remoteAddress !== undefined && (socket.remotePort ?? 0) >= 1024
    this.#socketClosed = new Promise(resolve => { socket.once('close', () => { resolve() }) })
    socket.on('data', this.#onData)
    socket.on('error', err => { this.#socketError = err })
    socket.on('close', () => { this.#finish(this.#socketError) })
    socket.on('drain', () => { this.#pump() })
    if (socket.destroyed) queueMicrotask(() => { this.#finish(undefined) })
  }

  /** Aborted when the connection closes. */
  get signal (): AbortSignal { return this.#ac.signal }
  get closed (): boolean { return this.#closed }
  /** Handlers running now (parked ones included). */
  get inflight (): number { return this.#inflight + this.#parked }
  /** Parked handlers running now (not counted toward maxInflightPerConnection). */
  get parked (): number { return this.#parked }
  /** Calls received and waiting to be dispatched. */
  get queued (): number { return this.#inbox.length }
  /** Bytes of the unfinished call record held now (0 between records). */
  get heldBytes (): number { return this.guard.heldBytes }
  /** True while the server does not read the socket (throttled: see the class comment). */
  get readingPaused (): boolean { return this.#readingPaused }
  /** Bytes of replies the socket holds while it waits for 'drain' (0 when it does not wait). */
  get unsentBytes (): number { return this.socket.writableNeedDrain ? this.socket.writableLength : 0 }

  /**
   * Send a one-way CALL to the client (a GlusterFS callback). Returns its xid. Throws
   * EGLUSTER_CLOSED when the connection is gone.
   */
  send<A> (proc: BoundProc<A, any>, args: A): number {
    if (this.#closed) throw new GlusterError('EGLUSTER_CLOSED', `connection from ${this.peer} is closed`, { peer: this.peer })
    const xid = this.#cbXid = (this.#cbXid + 1) >>> 0
    const { program } = proc
    this.#outbox.push(encodeCallRecord(this.#writer,
      { xid, prog: program.prog, vers: program.vers, proc: proc.num, cred: NULL_AUTH, verf: NULL_AUTH }, proc.args, args))
    return xid
  }

  /**
   * Stop dispatching, wait up to `timeoutMs` for running handlers to reply, then end the
   * connection (destroying it if the peer does not close in time). Leaves no timer.
   */
  async close (opts: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#closed) return
    this.#closing = true
    this.#inbox = []
    // keep reading (and discarding) so that the peer's FIN is seen
    this.#flow()
    const timeoutMs = opts.timeoutMs ?? 5000
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<void>(resolve => { timer = setTimeout(resolve, timeoutMs) })
    try {
      if (this.inflight > 0) {
        await Promise.race([new Promise<void>(resolve => { this.#idleWaiters.push(resolve) }), expired, this.#socketClosed])
      }
      if (!this.#closed) {
        this.#outbox.flush()
        this.socket.end()
        await Promise.race([this.#socketClosed, expired])
      }
    } finally {
      clearTimeout(timer)
    }
    this.destroy()
  }

  /** Close the connection now. */
  destroy (err?: Error): void {
    if (!this.socket.destroyed) this.socket.destroy()
    this.#finish(err)
  }

  /** @internal Close because of a limit: counted in stats.closed, `code` on the 'close' error. */
  limitClose (reason: LimitReason, code: 'EGLUSTER_LIMIT' | 'EGLUSTER_TIMEOUT', what: string): void {
    if (this.#closed) return
    this.#server.stats.closed[reason]++
    this.destroy(new GlusterError(code, `${what} (peer ${this.peer}); connection closed`, { peer: this.peer }))
  }

  #finish (err: Error | undefined): void {
    if (this.#closed) return
    this.#closed = true
    this.#inbox = []
    this.#outbox.clear()
    if (!this.socket.destroyed) this.socket.destroy()
    this.guard.release()
    this.#ac.abort(new GlusterError('EGLUSTER_CONNECTION_LOST', `connection from ${this.peer} closed`, { peer: this.peer }, { cause: err }))
    const w = this.#idleWaiters
    this.#idleWaiters = []
    for (const f of w) f()
    this.emit('close', err)
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#closed) return
    try {
      this.#decoder.push(chunk, this.#onRecord)
    } catch (err) {
      this.#server.stats.protocolErrors++
      const cause = err instanceof GlusterError ? err : protocolError(String(err), {}, { cause: err })
      if (cause.code === 'EGLUSTER_RECORD_TOO_LARGE') this.#server.stats.closed.recordTooLarge++
      this.destroy(new GlusterError(cause.code, `${cause.message} (peer ${this.peer}); connection closed`, { peer: this.peer }, { cause }))
      return
    }
    if (this.#closed) return // a handler closed it
    this.guard.received(this.#decoder.idle ? undefined : this.#decoder.bufferedBytes)
  }

  readonly #onRecord = (record: Buffer): void => {
    this.guard.recordDone()
    if (this.#closing) return
    this.#inbox.push(record)
    this.#pump()
  }

  #blocked (): boolean {
    return this.socket.writableNeedDrain || this.#outbox.queuedBytes >= this.socket.writableHighWaterMark
  }

  #pump (): void {
    if (this.#pumping || this.#closed) return
    this.#pumping = true
    try {
      while (this.#inbox.length > 0 && !this.#closed && !this.#closing && this.#inflight < this.#limits.maxInflightPerConnection && !this.#blocked()) {
        this.#dispatch(this.#inbox.shift()!)
      }
      this.#flow()
    } finally {
      this.#pumping = false
    }
  }

  /** Read the socket only while a call that arrives could start at once (see the class comment). */
  #flow (): void {
    if (this.#closed) return
    const hold = !this.#closing && (this.#inbox.length > 0 || this.#inflight >= this.#limits.maxInflightPerConnection || this.#blocked())
    if (hold && !this.#readingPaused) {
      this.#readingPaused = true
      this.socket.pause()
    } else if (!hold && this.#readingPaused) {
      this.#readingPaused = false
      this.socket.resume()
      // an unfinished record could not progress while we did not read: its clock starts again
      this.guard.resumed()
    }
    this.guard.writeWaiting(this.socket.writableNeedDrain)
  }

  #dispatch (record: Buffer): void {
    let msg
    let body
    try {
      ({ msg, body } = decodeMessage(record))
    } catch (err) {
      // a header that does not decode: we can't even answer it
      this.#server.stats.protocolErrors++
      this.destroy(new GlusterError('EGLUSTER_PROTOCOL', `${(err as Error).message} (peer ${this.peer}); connection closed`, { peer: this.peer }, { cause: err }))
      return
    }
    if (msg.mtype !== MsgType.CALL) {
      this.#server.stats.ignoredReplies++
      return
    }
    this.#server.stats.calls++
    const t0 = serverCallChannel.hasSubscribers ? now() : 0
    if (msg.rpcvers !== RPC_VERSION) {
      this.#refuse(msg, t0, undefined, undefined,
        { xid: msg.xid, mtype: 1, reply_stat: 1, reject_stat: RejectStat.RPC_MISMATCH, mismatch_info: { low: RPC_VERSION, high: RPC_VERSION } })
      return
    }
    let cred: Credential | OpaqueAuth
    try {
      cred = decodeCredential(msg.cred)
    } catch (err) {
      this.#refuse(msg, t0, undefined, undefined,
        { xid: msg.xid, mtype: 1, reply_stat: 1, reject_stat: RejectStat.AUTH_ERROR, auth_stat: AuthStat.AUTH_BADCRED }, err)
      return
    }
    const versions = this.#server.lookup(msg.prog)
    if (versions === undefined) {
      this.#refuse(msg, t0, undefined, undefined, accepted(msg, AcceptStat.PROG_UNAVAIL))
      return
    }
    const reg = versions.get(msg.vers)
    if (reg === undefined) {
      const vs = [...versions.keys()]
      this.#refuse(msg, t0, undefined, undefined,
        { ...accepted(msg, AcceptStat.PROG_MISMATCH), mismatch_info: { low: Math.min(...vs), high: Math.max(...vs) } } as ReplyMessage)
      return
    }
    const proc = reg.program.byNum.get(msg.proc)
    const handler = proc !== undefined ? reg.handlers[proc.name] : undefined
    if (proc === undefined || handler === undefined) {
      this.#refuse(msg, t0, reg.program.name, proc?.name, accepted(msg, AcceptStat.PROC_UNAVAIL))
      return
    }
    if (this.#insecureRefused) {
      this.#refuse(msg, t0, reg.program.name, proc.name,
        { xid: msg.xid, mtype: 1, reply_stat: 1, reject_stat: RejectStat.AUTH_ERROR, auth_stat: AuthStat.AUTH_REJECTEDCRED })
      return
    }
    let args: unknown
    try {
      args = proc.args.decode(body)
    } catch (err) {
      this.#refuse(msg, t0, reg.program.name, proc.name, accepted(msg, AcceptStat.GARBAGE_ARGS), err)
      return
    }
    // how the call counts once its handler returns a promise (see CallContext.park)
    let mode = proc.blocking === true ? PARK_ASKED : CALL_NEW
    const ctx: CallContext = {
      peer: this.peer, xid: msg.xid, prog: msg.prog, vers: msg.vers, proc: msg.proc,
      program: reg.program.name, procedure: proc.name, cred, rawCred: msg.cred, verf: msg.verf,
      connection: this, signal: this.#ac.signal,
      park: () => {
        if (mode === CALL_NEW) mode = PARK_ASKED
        else if (mode === CALL_COUNTED && this.#parked < this.#limits.maxParkedPerConnection) {
          mode = CALL_PARKED
          this.#inflight--
          this.#parked++
          this.#server.stats.parkedCalls++
          this.#pump()
        }
      },
    }
    let out: unknown
    try {
      out = handler(args, ctx)
    } catch (err) {
      this.#handlerFailed(msg, t0, reg.program.name, proc, err)
      return
    }
    if (out !== null && typeof out === 'object' && typeof (out as Promise<unknown>).then === 'function') {
      if (mode === PARK_ASKED && this.#parked < this.#limits.maxParkedPerConnection) {
        mode = CALL_PARKED
        this.#parked++
        this.#server.stats.parkedCalls++
      } else {
        mode = CALL_COUNTED
        this.#inflight++
      }
      this.#server.stats.callsInFlight++
      ;(out as Promise<unknown>).then(v => {
        this.#done(mode === CALL_PARKED)
        this.#respond(msg, t0, reg.program.name, proc, v)
      }, err => {
        this.#done(mode === CALL_PARKED)
        this.#handlerFailed(msg, t0, reg.program.name, proc, err)
      }).catch((err: unknown) => {
        // #respond and #handlerFailed don't throw; if they ever do, drop the connection, not the process
        this.destroy(err instanceof Error ? err : new Error(String(err)))
      }).finally(() => { this.#pump() })
      return
    }
    this.#respond(msg, t0, reg.program.name, proc, out)
  }

  #done (parked: boolean): void {
    if (parked) {
      this.#parked--
      this.#server.stats.parkedCalls--
    } else {
      this.#inflight--
    }
    this.#server.stats.callsInFlight--
    if (this.#inflight + this.#parked === 0 && this.#idleWaiters.length > 0) {
      const w = this.#idleWaiters
      this.#idleWaiters = []
      for (const f of w) f()
    }
  }

  #respond (msg: CallMessage, t0: number, program: string, proc: Proc, result: unknown): void {
    if (this.#closed) {
      this.#publish(msg, t0, program, proc.name, 'error', 'none', result, new GlusterError('EGLUSTER_CONNECTION_LOST', 'connection closed before the reply', { peer: this.peer }))
      return
    }
    if (result === NO_REPLY || proc.oneway === true) {
      this.#publish(msg, t0, program, proc.name, 'ok', 'none', result)
      return
    }
    let chunks: Buffer[]
    try {
      chunks = encodeReplyRecord(this.#writer, accepted(msg, AcceptStat.SUCCESS), proc.res, result)
    } catch (err) {
      // the handler returned something its result codec can't encode: our bug, the peer sees SYSTEM_ERR
      this.#server.stats.handlerErrors++
      this.#server.stats.refused++
      this.#outbox.push(encodeReplyRecord(this.#writer, accepted(msg, AcceptStat.SYSTEM_ERR)))
      this.#publish(msg, t0, program, proc.name, 'error', 'SYSTEM_ERR', undefined, err)
      return
    }
    this.#outbox.push(chunks)
    this.#publish(msg, t0, program, proc.name, 'ok', 'SUCCESS', result)
  }

  #handlerFailed (msg: CallMessage, t0: number, program: string, proc: Proc, err: unknown): void {
    this.#server.stats.handlerErrors++
    if (this.#closed) {
      this.#publish(msg, t0, program, proc.name, 'error', 'none', undefined, err)
      return
    }
    if (proc.oneway === true) {
      this.#publish(msg, t0, program, proc.name, 'error', 'none', undefined, err)
      return
    }
    this.#refuse(msg, t0, program, proc.name, answerFor(err, msg), err)
  }

  #refuse (msg: CallMessage, t0: number, program: string | undefined, procedure: string | undefined, reply: ReplyMessage, err?: unknown): void {
    this.#server.stats.refused++
    if (!this.#closed) this.#outbox.push(encodeReplyRecord(this.#writer, reply))
    this.#publish(msg, t0, program, procedure, 'error', replyName(reply), undefined, err)
  }

  #publish (msg: CallMessage, t0: number, program: string | undefined, procedure: string | undefined,
    status: 'ok' | 'error', reply: string, result: unknown, error?: unknown): void {
    if (!serverCallChannel.hasSubscribers) return
    const ev: RpcServerCallEvent = {
      peer: this.peer, prog: msg.prog, vers: msg.vers, proc: msg.proc, xid: msg.xid,
      status, reply, latencyMs: t0 > 0 ? now() - t0 : 0,
    }
    if (program !== undefined) ev.program = program
    if (procedure !== undefined) ev.procedure = procedure
    const op = opStatus(result)
    if (op !== undefined) { ev.op_ret = op.op_ret; ev.op_errno = op.op_errno }
    if (error !== undefined) ev.error = error
    serverCallChannel.publish(ev)
  }
}
