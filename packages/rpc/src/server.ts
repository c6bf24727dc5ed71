import { EventEmitter } from 'node:events'
import net from 'node:net'
import type { Socket } from 'node:net'
import { GlusterError, protocolError } from './errors.js'
import { DEFAULT_MAX_RECORD_BYTES, RecordDecoder } from './record.js'
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
}

export type HandlerResult<R> = R | typeof NO_REPLY
export type Handler<P> = (args: ProcArgs<P>, ctx: CallContext) => HandlerResult<ProcRes<P>> | Promise<HandlerResult<ProcRes<P>>>
export type Handlers<P extends Program> = { [K in keyof P['procs']]?: Handler<P['procs'][K]> }

export interface RpcServerOptions {
  /** Largest call record accepted; a larger one closes that connection. Default 64 MiB. */
  maxRecordBytes?: number
  /**
   * Handlers running at once per connection; further calls wait. Default 64, GlusterFS's
   * server.outstanding-rpc-limit.
   */
  maxInflightPerConnection?: number
  /**
   * Calls waiting per connection (for a handler slot, or for the socket to drain). Past this the
   * server stops reading that socket until the queue halves, which pushes back on the peer
   * through TCP, as GlusterFS's throttling does. Default 1024.
   */
  maxQueuedPerConnection?: number
  /**
   * GlusterFS's `rpc-auth-allow-insecure`: serve calls from TCP source ports >= 1024 (default
   * true). false: such calls are answered MSG_DENIED / AUTH_ERROR (AUTH_REJECTEDCRED) before
   * their handler, as rpcsvc does (after the program and procedure lookups, before the
   * arguments are decoded). Unix-socket peers have no port and are always served.
   */
  allowInsecure?: boolean
}

export interface RpcServerStats {
  connections: number
  calls: number
  /** calls answered with something other than SUCCESS */
  refused: number
  /** handlers that threw (answered SYSTEM_ERR or the mapped RPC error) */
  handlerErrors: number
  /** REPLY messages received (we never call clients and wait, so these are ignored) */
  ignoredReplies: number
  /** connections closed because of malformed framing or headers */
  protocolErrors: number
}

interface Registered {
  program: Program
  handlers: Record<string, Handler<any> | undefined>
}

const now = (): number => performance.now()

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
  readonly #opts: Required<RpcServerOptions>
  #server: net.Server | undefined
  #closing: Promise<void> | undefined
  readonly stats: RpcServerStats = { connections: 0, calls: 0, refused: 0, handlerErrors: 0, ignoredReplies: 0, protocolErrors: 0 }

  constructor (opts: RpcServerOptions = {}) {
    super()
    this.#opts = {
      maxRecordBytes: opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES,
      maxInflightPerConnection: opts.maxInflightPerConnection ?? 64,
      maxQueuedPerConnection: opts.maxQueuedPerConnection ?? 1024,
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
    const server = net.createServer({ noDelay: true }, socket => { this.handleSocket(socket) })
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

  /** Serve an already-connected socket (a listener of your own, a socketpair in tests). */
  handleSocket (socket: Socket): ServerConnection {
    const conn = new ServerConnection(socket, this, this.#opts)
    if (this.#closing !== undefined) {
      conn.destroy()
      return conn
    }
    this.#connections.add(conn)
    this.stats.connections++
    conn.once('close', () => { this.#connections.delete(conn) })
    this.emit('connection', conn)
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
    })()
    return this.#closing
  }

  async [Symbol.asyncDispose] (): Promise<void> { await this.close() }

  /** @internal */
  lookup (prog: number): Map<number, Registered> | undefined { return this.#programs.get(prog) }
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
 * Events: 'close' (err?: Error — a protocol error or the socket's error).
 */
export class ServerConnection extends EventEmitter {
  readonly peer: string
  readonly socket: Socket
  readonly #server: RpcServer
  readonly #decoder: RecordDecoder
  readonly #writer = new XdrWriter()
  readonly #outbox: Outbox
  readonly #ac = new AbortController()
  readonly #maxInflight: number
  readonly #maxQueued: number
  /** refuse every call: the peer's source port is >= 1024 and the server does not allow that */
  readonly #insecureRefused: boolean
  #inbox: Buffer[] = []
  #inflight = 0
  #pumping = false
  #readingPaused = false
  #closing = false
  #closed = false
  #cbXid = 0
  #socketError: Error | undefined
  #idleWaiters: Array<() => void> = []
  readonly #socketClosed: Promise<void>

  constructor (socket: Socket, server: RpcServer, opts: Required<RpcServerOptions>) {
    super()
    this.socket = socket
    this.peer = socketPeer(socket)
    this.#server = server
    this.#maxInflight = opts.maxInflightPerConnection
    this.#maxQueued = opts.maxQueuedPerConnection
    this.#insecureRefused = !opts.allowInsecure && socket.remoteAddress !== undefined && (socket.remotePort ?? 0) >= 1024
    this.#decoder = new RecordDecoder({ maxRecordBytes: opts.maxRecordBytes })
    this.#outbox = new Outbox(socket, () => { this.#pump() })
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
  /** Handlers running now. */
  get inflight (): number { return this.#inflight }
  /** Calls received and waiting to be dispatched. */
  get queued (): number { return this.#inbox.length }

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
    if (this.#readingPaused) {
      this.#readingPaused = false
      this.socket.resume()
    }
    const timeoutMs = opts.timeoutMs ?? 5000
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<void>(resolve => { timer = setTimeout(resolve, timeoutMs) })
    try {
      if (this.#inflight > 0) {
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

  #finish (err: Error | undefined): void {
    if (this.#closed) return
    this.#closed = true
    this.#inbox = []
    this.#outbox.clear()
    if (!this.socket.destroyed) this.socket.destroy()
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
      this.destroy(new GlusterError(cause.code, `${cause.message} (peer ${this.peer}); connection closed`, { peer: this.peer }, { cause }))
    }
  }

  readonly #onRecord = (record: Buffer): void => {
    if (this.#closing) return
    this.#inbox.push(record)
    if (this.#inbox.length >= this.#maxQueued && !this.#readingPaused) {
      this.#readingPaused = true
      this.socket.pause()
    }
    this.#pump()
  }

  #blocked (): boolean {
    return this.socket.writableNeedDrain || this.#outbox.queuedBytes >= this.socket.writableHighWaterMark
  }

  #pump (): void {
    if (this.#pumping || this.#closed) return
    this.#pumping = true
    try {
      while (this.#inbox.length > 0 && !this.#closed && !this.#closing && this.#inflight < this.#maxInflight && !this.#blocked()) {
        this.#dispatch(this.#inbox.shift()!)
      }
      if (this.#readingPaused && !this.#closed && this.#inbox.length <= this.#maxQueued >>> 1) {
        this.#readingPaused = false
        this.socket.resume()
      }
    } finally {
      this.#pumping = false
    }
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
    const ctx: CallContext = {
      peer: this.peer, xid: msg.xid, prog: msg.prog, vers: msg.vers, proc: msg.proc,
      program: reg.program.name, procedure: proc.name, cred, rawCred: msg.cred, verf: msg.verf,
      connection: this, signal: this.#ac.signal,
    }
    let out: unknown
    try {
      out = handler(args, ctx)
    } catch (err) {
      this.#handlerFailed(msg, t0, reg.program.name, proc, err)
      return
    }
    if (out !== null && typeof out === 'object' && typeof (out as Promise<unknown>).then === 'function') {
      this.#inflight++
      ;(out as Promise<unknown>).then(v => {
        this.#done()
        this.#respond(msg, t0, reg.program.name, proc, v)
      }, err => {
        this.#done()
        this.#handlerFailed(msg, t0, reg.program.name, proc, err)
      }).catch((err: unknown) => {
        // #respond and #handlerFailed don't throw; if they ever do, drop the connection, not the process
        this.destroy(err instanceof Error ? err : new Error(String(err)))
      }).finally(() => { this.#pump() })
      return
    }
    this.#respond(msg, t0, reg.program.name, proc, out)
  }

  #done (): void {
    this.#inflight--
    if (this.#inflight === 0 && this.#idleWaiters.length > 0) {
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
