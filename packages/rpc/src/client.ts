import { EventEmitter } from 'node:events'
import type { OnReadOpts, Socket } from 'node:net'
import { GlusterError, abortError, protocolError } from './errors.js'
import { RecordDecoder } from './record.js'
import type { RecordPlacement } from './record.js'
import { AcceptStat, MsgType, ReplyStat, decodeMessage, encodeCallRecord, replyError } from './message.js'
import type { CallMessage, OpaqueAuth, ReplyMessage } from './message.js'
import { encodeCredential } from './auth.js'
import type { CredentialLike } from './auth.js'
import { connect } from './transport.js'
import type { ConnectOptions } from './transport.js'
import { Outbox } from './outbox.js'
import { XdrWriter } from './xdr/writer.js'
import type { XdrReader } from './xdr/reader.js'
import type { Proc, ProcArgs, Program, ProgramRef } from './programs/program.js'
import { TLSSocket } from 'node:tls'
import { certCommonName, classifyTlsError, keepMessagesApart, looksLikeTls, tlsError } from './tls.js'
import { callEndChannel, callStartChannel, callbackChannel, opStatus } from './diagnostics.js'
import type { RpcCallEvent, RpcCallbackEvent } from './diagnostics.js'

/** A procedure that knows its program (what defineProgram returns in `procs`). */
export type BoundProc<A = any, R = any> = Proc<A, R> & { readonly program: ProgramRef }

/** A credential, or a function returning one per call (for v3 credentials stamped with the time). */
export type CredentialSource = CredentialLike | (() => CredentialLike)

export interface RpcClientOptions {
  /** How the peer is named in errors and traces. Default: from the socket ('10.0.0.1:24007'). */
  peer?: string
  /** Default credential for every call. Default AUTH_NULL. */
  cred?: CredentialSource
  /**
   * The first xid. Default 2: GlusterFS starts its counter at 1 and pre-increments. To continue
   * one counter across a reconnect as GlusterFS does, pass the old client's `nextXid`.
   */
  firstXid?: number
  /**
   * Default per-call deadline in ms. Default 1 800 000 (GlusterFS frame-timeout, 30 min);
   * 0 disables. Dead peers are found by the caller's ping, not by this deadline.
   */
  timeoutMs?: number
  /** Largest reply record accepted (RecordDecoder). Default 64 MiB. */
  maxRecordBytes?: number
}

export interface RpcConnectOptions extends RpcClientOptions, Omit<ConnectOptions, 'timeoutMs'> {
  /** Deadline for establishing the connection. Default 30 000 ms. */
  connectTimeoutMs?: number
}

export interface CallOptions {
  signal?: AbortSignal
  /** Deadline for this call in ms, overriding the client default; 0 disables. */
  timeoutMs?: number
  /** Credential for this call, overriding the client default. */
  cred?: CredentialLike
  /**
   * For a procedure whose reply ends in raw bytes (READ's data): a buffer the kernel may read
   * those bytes straight into, so the decoded field is a subarray of `into` (no allocation, no
   * copy). It is only a wish: a reply too small to be read in place, one longer than `into`, or
   * one on a socket not opened by RpcClient.connect is decoded as usual (compare
   * `data.buffer === into.buffer` and copy). Nothing is written into `into` once the call has
   * settled, whatever the outcome: a call that times out or is aborted while its reply is being
   * read has the rest of that reply thrown away.
   */
  into?: Buffer
}

/** What a callback handler learns about a server-initiated CALL. */
export interface CallbackInfo {
  peer: string
  xid: number
  prog: number
  vers: number
  proc: number
  program: string
  procedure: string
  cred: OpaqueAuth
  client: RpcClient
}

export type CallbackHandler<P> = (args: ProcArgs<P>, info: CallbackInfo) => void | Promise<void>
export type CallbackHandlers<P extends Program> = { [K in keyof P['procs']]?: CallbackHandler<P['procs'][K]> }

export interface RpcClientStats {
  /** calls sent (one-way ones included) */
  calls: number
  /** replies matched to a pending call */
  replies: number
  /** replies whose xid matched no pending call (late after a timeout or abort, or bogus): ignored */
  unknownXidReplies: number
  /** server-initiated CALLs received */
  callbacks: number
  /** …of which no handler was registered for */
  unhandledCallbacks: number
  /** …of which the arguments did not decode or the handler threw */
  callbackErrors: number
}

export const DEFAULT_CALL_TIMEOUT_MS = 1_800_000
export const DEFAULT_CLOSE_TIMEOUT_MS = 10_000

interface Pending {
  xid: number
  proc: BoundProc
  resolve: (v: unknown) => void
  reject: (e: unknown) => void
  deadline: number
  timeoutMs: number
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
  trace: RpcCallEvent | undefined
  t0: number
  into: Buffer | undefined
}

interface Registered {
  program: Program
  handlers: Record<string, CallbackHandler<any> | undefined>
}

const now = (): number => performance.now()

/**
 * ONC RPC client over one connected socket (TCP or unix), as GlusterFS uses it: many calls in
 * flight matched by xid, per-call deadlines and AbortSignals, and server-initiated one-way CALLs
 * (callbacks) accepted on the same connection.
 *
 * Events: 'close' (err?: Error — absent after close()/destroy() without an error), 'drain'
 * (the socket's write buffer emptied after `writableNeedDrain` was true).
 * It never emits 'error': failures reach the calls they concern.
 */
export class RpcClient extends EventEmitter {
  readonly peer: string
  readonly socket: Socket
  readonly #decoder: RecordDecoder
  readonly #writer = new XdrWriter()
  readonly #outbox: Outbox
  readonly #pending = new Map<number, Pending>()
  readonly #callbacks = new Map<string, Registered>()
  readonly #defaultTimeoutMs: number
  #cred: CredentialSource
  #credCache: { src: CredentialLike, auth: OpaqueAuth } | undefined
  #lastXid: number
  #state: 'open' | 'closing' | 'closed' = 'open'
  #closedError: (() => GlusterError) | undefined
  #socketError: Error | undefined
  #timer: NodeJS.Timeout | undefined
  #timerAt = Infinity
  #idleWaiters: Array<() => void> = []
  #socketClosed: Promise<void>
  #closing: Promise<void> | undefined
  /** The call whose reply is being read into its `into` buffer right now. */
  #placing: Pending | undefined
  /** A record came in on this connection (so the peer speaks our protocol). */
  #answered = false
  /** The first bytes the peer sent, on a socket read with 'data' events. */
  #firstBytes: Buffer | undefined
  #reader: DirectReader | undefined
  /** Our certificate's CN on a TLS connection (for messages; the socket forgets it once closed). */
  readonly #tlsName: string | undefined
  readonly #stats: RpcClientStats = { calls: 0, replies: 0, unknownXidReplies: 0, callbacks: 0, unhandledCallbacks: 0, callbackErrors: 0 }

  /**
   * Connect to 'host:port', '[v6]:port' or 'unix:/path' and wrap the socket. The socket is read
   * with `onread` into buffers the RecordDecoder hands out (readBuffer/commit): a large reply
   * (a READ) is read by the kernel straight into the one Buffer its payload is a slice of.
   */
  static async connect (address: string, opts: RpcConnectOptions = {}): Promise<RpcClient> {
    const c: ConnectOptions = { ...opts }
    c.timeoutMs = opts.connectTimeoutMs
    const reader = new DirectReader(opts.maxRecordBytes)
    c.onread = reader.onread
    const socket = await connect(address, c)
    directReaders.set(socket, reader)
    return new RpcClient(socket, { ...opts, peer: opts.peer ?? address })
  }

  /**
   * Wrap a connected socket. A socket from RpcClient.connect is read in place (see there); any
   * other socket through its 'data' events.
   */
  constructor (socket: Socket, opts: RpcClientOptions = {}) {
    super()
    this.socket = socket
    this.peer = opts.peer ?? socketPeer(socket)
    const reader = directReaders.get(socket)
    directReaders.delete(socket)
    this.#decoder = reader?.decoder ?? new RecordDecoder({ maxRecordBytes: opts.maxRecordBytes })
    this.#outbox = new Outbox(socket)
    if (socket instanceof TLSSocket) {
      this.#outbox.separateMessages = true
      keepMessagesApart(socket)
      const own = socket.getCertificate()
      this.#tlsName = own !== null && 'subject' in own ? certCommonName(own.subject) || undefined : undefined
    }
    this.#cred = opts.cred ?? { flavor: 0 }
    this.#defaultTimeoutMs = opts.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS
    const first = opts.firstXid ?? 2
    this.#lastXid = (first - 1) >>> 0
    this.#socketClosed = new Promise(resolve => { socket.once('close', () => { resolve() }) })
    if (reader !== undefined) {
      this.#reader = reader
      reader.attach(this.#onRead, this.#onRecord, this.#onDecodeError, this.#place)
    }
    else socket.on('data', this.#onData)
    socket.on('error', this.#onSocketError)
    socket.on('close', this.#onSocketClose)
    socket.on('drain', this.#onDrain)
    if (socket.destroyed) queueMicrotask(this.#onSocketClose)
  }

  /** Calls waiting for a reply. */
  get pending (): number { return this.#pending.size }
  /** True once the peer sent a whole record (it speaks ONC RPC on this connection). */
  get answered (): boolean { return this.#answered }
  /** True once close() or destroy() has been called, or the connection was lost. */
  get closed (): boolean { return this.#state !== 'open' }
  /** The xid the next call will use (to continue a counter across a reconnect). */
  get nextXid (): number { return (this.#lastXid + 1) >>> 0 }
  /** True when the socket's buffer is full: hold further calls until 'drain'. */
  get writableNeedDrain (): boolean { return this.socket.writableNeedDrain }
  /** Bytes queued in the socket plus those waiting to be written this tick. */
  get writableLength (): number { return this.socket.writableLength + this.#outbox.queuedBytes }
  get stats (): Readonly<RpcClientStats> { return { ...this.#stats } }

  /** Replace the default credential used by later calls. */
  setCredential (cred: CredentialSource): void {
    this.#cred = cred
    this.#credCache = undefined
  }

  /**
   * Handle server-initiated CALLs of `program` (GlusterFS callbacks: FETCHSPEC, upcalls). They
   * are one-way: handlers are never replied to, and what a handler throws is reported on the
   * `gluster-ts:rpc:callback` channel. Returns a function that unregisters the handlers.
   */
  onCall<P extends Program> (program: P, handlers: CallbackHandlers<P>): () => void {
    const key = progKey(program.prog, program.vers)
    const reg: Registered = { program, handlers: handlers as Registered['handlers'] }
    this.#callbacks.set(key, reg)
    return () => { if (this.#callbacks.get(key) === reg) this.#callbacks.delete(key) }
  }

  /**
   * Call a procedure. Resolves with its decoded result, or rejects with a GlusterError:
   * EGLUSTER_TIMEOUT, the signal's reason (ABORT_ERR), EGLUSTER_PROG_UNAVAIL … for RPC-level
   * refusals, EGLUSTER_PROTOCOL when the reply does not decode, EGLUSTER_CONNECTION_LOST,
   * EGLUSTER_CLOSED. A one-way procedure resolves with undefined once queued.
   */
  call<A, R> (proc: BoundProc<A, R>, args: A, opts: CallOptions = {}): Promise<R> {
    if (this.#state !== 'open') return Promise.reject(this.#closedError?.() ?? closedError(this.peer))
    const { signal } = opts
    if (signal?.aborted === true) return Promise.reject(abortError(signal))
    const program = proc.program
    if (program === undefined) return Promise.reject(new TypeError(`procedure ${proc.name} has no program: use one from defineProgram()`))
    const xid = this.#takeXid()
    let chunks: Buffer[]
    try {
      const cred = this.#encodeCred(opts.cred)
      chunks = encodeCallRecord(this.#writer, { xid, prog: program.prog, vers: program.vers, proc: proc.num, cred }, proc.args, args)
    } catch (err) {
      return Promise.reject(err)
    }
    this.#stats.calls++
    if (proc.oneway === true) {
      this.#outbox.push(chunks)
      return Promise.resolve(undefined as R)
    }
    return new Promise<R>((resolve, reject) => {
      const timeoutMs = opts.timeoutMs ?? this.#defaultTimeoutMs
      const tracing = callStartChannel.hasSubscribers || callEndChannel.hasSubscribers
      const p: Pending = {
        xid,
        proc,
        resolve: resolve as (v: unknown) => void,
        reject,
        deadline: timeoutMs > 0 ? now() + timeoutMs : Infinity,
        timeoutMs,
        signal,
        onAbort: undefined,
        trace: undefined,
        t0: 0,
        into: opts.into,
      }
      if (tracing) {
        p.t0 = now()
        p.trace = { peer: this.peer, program: program.name, procedure: proc.name, prog: program.prog, vers: program.vers, proc: proc.num, xid }
        if (callStartChannel.hasSubscribers) callStartChannel.publish(p.trace)
      }
      this.#pending.set(xid, p)
      if (signal !== undefined) {
        p.onAbort = () => {
          if (this.#pending.get(xid) !== p) return
          this.#pending.delete(xid)
          this.#settle(p, abortError(signal))
        }
        signal.addEventListener('abort', p.onAbort, { once: true })
      }
      if (p.deadline !== Infinity) this.#arm(p.deadline)
      this.#outbox.push(chunks)
    })
  }

  /**
   * Stop taking calls, wait up to `timeoutMs` (default 10 s) for the ones in flight, then end the
   * connection. Calls still pending at the deadline fail with EGLUSTER_CLOSED. Leaves no timer.
   */
  close (opts: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#closing !== undefined) return this.#closing
    if (this.#state === 'closed') return Promise.resolve()
    this.#state = 'closing'
    this.#closedError = () => closedError(this.peer)
    this.#closing = this.#doClose(opts.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS)
    return this.#closing
  }

  /** Close at once: pending calls fail with `err` (or EGLUSTER_CLOSED) and the socket is destroyed. */
  destroy (err?: Error): void {
    if (this.#state === 'closed') return
    this.#teardown(p => err ?? closedError(this.peer, p), err)
  }

  async [Symbol.asyncDispose] (): Promise<void> { await this.close() }

  async #doClose (timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<void>(resolve => {
      if (timeoutMs > 0 && Number.isFinite(timeoutMs)) timer = setTimeout(resolve, timeoutMs)
      else if (timeoutMs <= 0) resolve()
    })
    try {
      this.#outbox.flush()
      if (this.#pending.size > 0) {
        await Promise.race([new Promise<void>(resolve => { this.#idleWaiters.push(resolve) }), expired, this.#socketClosed])
      }
      if (this.#pending.size === 0 && !this.socket.destroyed) {
        this.#outbox.flush()
        this.socket.end()
        await Promise.race([this.#socketClosed, expired])
      }
    } finally {
      if (timer !== undefined) clearTimeout(timer)
    }
    if (this.#state !== 'closed') this.#teardown(p => closedError(this.peer, p), undefined)
  }

  #takeXid (): number {
    let xid = this.#lastXid
    do { xid = (xid + 1) >>> 0 } while (this.#pending.has(xid))
    this.#lastXid = xid
    return xid
  }

  #encodeCred (override: CredentialLike | undefined): OpaqueAuth {
    if (override !== undefined) return encodeCredential(override)
    const src = this.#cred
    if (typeof src === 'function') return encodeCredential(src())
    const cached = this.#credCache
    if (cached !== undefined && cached.src === src) return cached.auth
    const auth = encodeCredential(src)
    this.#credCache = { src, auth }
    return auth
  }

  // ---- deadlines: one timer per client, armed for the earliest deadline ----

  #arm (deadline: number): void {
    if (deadline >= this.#timerAt) return
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timerAt = deadline
    this.#timer = setTimeout(this.#onTimer, Math.max(1, Math.ceil(deadline - now())))
    this.#timer.unref()
  }

  #disarm (): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    this.#timerAt = Infinity
  }

  #disarmQueued = false
  readonly #disarmIfIdle = (): void => {
    this.#disarmQueued = false
    if (this.#pending.size === 0) this.#disarm()
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined
    this.#timerAt = Infinity
    const t = now() + 1 // timers may fire a fraction of a millisecond early
    let next = Infinity
    for (const p of this.#pending.values()) {
      if (p.deadline <= t) {
        this.#pending.delete(p.xid)
        this.#settle(p, new GlusterError('EGLUSTER_TIMEOUT',
          `${p.proc.program.name} ${p.proc.name} (xid ${p.xid}) got no reply within timeoutMs ${p.timeoutMs} (peer ${this.peer})`,
          { peer: this.peer, program: p.proc.program.name, procedure: p.proc.name, xid: p.xid, syscall: p.proc.name }))
      } else if (p.deadline < next) {
        next = p.deadline
      }
    }
    if (next !== Infinity) this.#arm(next)
  }

  // ---- settling calls ----

  #settle (p: Pending, err: unknown, result?: unknown): void {
    if (p.onAbort !== undefined) p.signal?.removeEventListener('abort', p.onAbort)
    if (this.#placing === p) {
      // settled before its reply was read in full: stop writing into the caller's buffer. The
      // socket already holds a view of it for its next read (net asks for the next buffer right
      // after each read), so lend it the decoder's throw-away buffer instead.
      this.#placing = undefined
      this.#decoder.unplace()
      if (this.#decoder.error === undefined) userBufferHandle(this.socket)?.useUserBuffer(this.#decoder.readBuffer())
    }
    const ev = p.trace
    if (ev !== undefined) {
      ev.latencyMs = now() - p.t0
      if (err === undefined) {
        ev.status = 'ok'
        const op = opStatus(result)
        if (op !== undefined) { ev.op_ret = op.op_ret; ev.op_errno = op.op_errno }
      } else {
        ev.status = 'error'
        ev.error = err
      }
      if (callEndChannel.hasSubscribers) callEndChannel.publish(ev)
    }
    // Idle: drop the deadline timer, but only if no call was made by the code this settlement
    // wakes up. The check is queued before resolve(), so it runs after the continuations of the
    // calls settled earlier in this batch of replies and before this one's: a closed loop of
    // calls keeps its timer instead of clearing and re-creating it on every batch.
    if (this.#pending.size === 0 && this.#timer !== undefined && !this.#disarmQueued) {
      this.#disarmQueued = true
      queueMicrotask(this.#disarmIfIdle)
    }
    if (err === undefined) p.resolve(result)
    else p.reject(err)
    if (this.#pending.size === 0) {
      if (this.#idleWaiters.length > 0) {
        const w = this.#idleWaiters
        this.#idleWaiters = []
        for (const f of w) f()
      }
    }
  }

  #teardown (errorFor: (p: Pending) => Error, emitted: Error | undefined): void {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    this.#closedError ??= () => closedError(this.peer)
    this.#disarm()
    this.#outbox.clear()
    if (!this.socket.destroyed) this.socket.destroy()
    const pending = [...this.#pending.values()]
    this.#pending.clear()
    for (const p of pending) this.#settle(p, errorFor(p))
    const w = this.#idleWaiters
    this.#idleWaiters = []
    for (const f of w) f()
    this.emit('close', emitted)
  }

  // ---- socket events ----

  readonly #onData = (chunk: Buffer): void => {
    if (this.#state === 'closed') return
    this.#firstBytes ??= Buffer.from(chunk.subarray(0, 8))
    try {
      this.#decoder.push(chunk, this.#onRecord)
    } catch (err) {
      this.#onDecodeError(err)
    }
  }

  /** Direct reads: `n` bytes landed in the decoder's read buffer. */
  readonly #onRead = (n: number): void => {
    if (this.#state === 'closed') return
    try {
      this.#decoder.commit(n, this.#onRecord)
    } catch (err) {
      this.#onDecodeError(err)
    }
  }

  /** A framing or header error: the byte stream can't be trusted any more. */
  readonly #onDecodeError = (err: unknown): void => {
    if (this.#state === 'closed') return
    const tls = this.#tlsRequired(err)
    if (tls !== undefined) {
      this.#lose(tls)
      return
    }
    const cause = err instanceof GlusterError ? err : protocolError(String(err), {}, { cause: err })
    const code = cause.code === 'EGLUSTER_RECORD_TOO_LARGE' ? cause.code : 'EGLUSTER_PROTOCOL'
    const lost = new GlusterError(code, `${cause.message} (peer ${this.peer}); connection closed`, { peer: this.peer }, { cause })
    this.#teardown(p => new GlusterError(code,
      `${p.proc.program.name} ${p.proc.name} (xid ${p.xid}) failed: ${cause.message} (peer ${this.peer}); connection closed`,
      { peer: this.peer, program: p.proc.program.name, procedure: p.proc.name, xid: p.xid, syscall: p.proc.name }, { cause }), lost)
  }

  readonly #onRecord = (record: Buffer, tail?: Buffer): void => {
    if (tail !== undefined) this.#placing = undefined
    this.#answered = true
    const { msg, body } = decodeMessage(record, tail)
    if (msg.mtype === MsgType.REPLY) this.#onReply(msg, body)
    else this.#onCallback(msg, body)
  }

  #onReply (msg: ReplyMessage, body: XdrReader): void {
    const p = this.#pending.get(msg.xid)
    if (p === undefined) {
      this.#stats.unknownXidReplies++
      return
    }
    this.#pending.delete(msg.xid)
    this.#stats.replies++
    const program = p.proc.program
    const err = replyError(msg, { peer: this.peer, program: program.name, procedure: p.proc.name, prog: program.prog, vers: program.vers })
    if (err !== undefined) {
      this.#settle(p, err)
      return
    }
    let result: unknown
    try {
      result = p.proc.res.decode(body)
    } catch (e) {
      this.#settle(p, new GlusterError('EGLUSTER_PROTOCOL',
        `${program.name} ${p.proc.name} (xid ${p.xid}): reply does not decode: ${(e as Error).message} (peer ${this.peer})`,
        { peer: this.peer, program: program.name, procedure: p.proc.name, xid: p.xid, syscall: p.proc.name }, { cause: e }))
      return
    }
    this.#settle(p, undefined, result)
  }

  /**
   * The decoder's place() hook: a large record is starting. If it is the reply of a call that
   * brought an `into` buffer, decode its header from the bytes read so far to find where the
   * raw tail starts, and have the rest read into `into`.
   */
  readonly #place = (head: Buffer, total: number): RecordPlacement | undefined => {
    if (this.#state === 'closed' || userBufferHandle(this.socket) === undefined) return undefined
    const p = this.#pending.get(head.readUInt32BE(0))
    const into = p?.into
    if (p === undefined || into === undefined) return undefined
    let headBytes: number
    try {
      const { msg, body } = decodeMessage(head)
      if (msg.mtype !== MsgType.REPLY || msg.reply_stat !== ReplyStat.MSG_ACCEPTED || msg.accept_stat !== AcceptStat.SUCCESS) return undefined
      p.proc.res.decode(body)
      headBytes = body.restAt
    } catch {
      return undefined // the header is not all here yet, or is bad: the usual path reports it
    }
    if (headBytes < 1 || total - headBytes > into.length) return undefined
    this.#placing = p
    return { headBytes, into }
  }

  #onCallback (msg: CallMessage, body: XdrReader): void {
    this.#stats.callbacks++
    const reg = this.#callbacks.get(progKey(msg.prog, msg.vers))
    const proc = reg?.program.byNum.get(msg.proc)
    const handler = proc !== undefined ? reg?.handlers[proc.name] : undefined
    const ev: RpcCallbackEvent | undefined = callbackChannel.hasSubscribers
      ? { peer: this.peer, program: reg?.program.name, procedure: proc?.name, prog: msg.prog, vers: msg.vers, proc: msg.proc, xid: msg.xid, status: 'ok' }
      : undefined
    const report = (status: RpcCallbackEvent['status'], error?: unknown): void => {
      if (status !== 'ok') this.#stats[status === 'unhandled' ? 'unhandledCallbacks' : 'callbackErrors']++
      if (ev !== undefined && callbackChannel.hasSubscribers) {
        ev.status = status
        if (error !== undefined) ev.error = error
        callbackChannel.publish(ev)
      }
    }
    if (reg === undefined || proc === undefined || handler === undefined) {
      report('unhandled')
      return
    }
    let args: unknown
    try {
      args = proc.args.decode(body)
    } catch (err) {
      report('error', err)
      return
    }
    const info: CallbackInfo = {
      peer: this.peer, xid: msg.xid, prog: msg.prog, vers: msg.vers, proc: msg.proc,
      program: reg.program.name, procedure: proc.name, cred: msg.cred, client: this,
    }
    try {
      const r = handler(args, info)
      if (r !== undefined && typeof (r as Promise<void>).then === 'function') {
        (r as Promise<void>).then(() => { report('ok') }, err => { report('error', err) })
      } else {
        report('ok')
      }
    } catch (err) {
      report('error', err)
    }
  }

  readonly #onSocketError = (err: Error): void => {
    this.#socketError = err
  }

  readonly #onSocketClose = (): void => {
    if (this.#state === 'closed') return
    if (this.#state === 'closing' && this.#pending.size === 0) {
      this.#teardown(p => closedError(this.peer, p), undefined)
      return
    }
    const cause = this.#socketError
    const tls = this.#tlsLoss(cause)
    if (tls !== undefined) {
      this.#lose(tls)
      return
    }
    const why = cause !== undefined ? `: ${(cause as NodeJS.ErrnoException).code ?? cause.message}` : ''
    const lost = new GlusterError('EGLUSTER_CONNECTION_LOST', `connection to ${this.peer} lost${why}`, { peer: this.peer }, { cause })
    this.#closedError = () => new GlusterError('EGLUSTER_CONNECTION_LOST', `connection to ${this.peer} lost${why}`, { peer: this.peer }, { cause })
    this.#teardown(p => new GlusterError('EGLUSTER_CONNECTION_LOST',
      `${p.proc.program.name} ${p.proc.name} (xid ${p.xid}): connection to ${this.peer} lost${why}`,
      { peer: this.peer, program: p.proc.program.name, procedure: p.proc.name, xid: p.xid, syscall: p.proc.name }, { cause }), lost)
  }

  readonly #onDrain = (): void => { this.emit('drain') }

  /**
   * A connection lost for a TLS reason. TLS 1.3 lets a client finish its handshake before the
   * server has checked the client's certificate, so a server's refusal (an alert, or a bare
   * close) arrives after connect, as the first call's answer.
   */
  #tlsLoss (cause: Error | undefined): GlusterError | undefined {
    if (this.socket instanceof TLSSocket) {
      const f = classifyTlsError(cause)
      if (f !== undefined) return tlsError(f, { peer: this.peer, ourName: this.#tlsName, when: 'after the handshake' }, cause)
      if (!this.#answered) {
        return tlsError({ tlsReason: 'closed', rejectedBy: 'unknown' }, { peer: this.peer, ourName: this.#tlsName, when: 'right after the handshake, before answering: it probably refused our certificate (see its log and CA list)' }, cause)
      }
      return undefined
    }
    return this.#tlsRequired(cause)
  }

  /** A plaintext connection whose peer answered with a TLS record: it wants TLS. */
  #tlsRequired (cause: unknown): GlusterError | undefined {
    const first = this.#firstBytes ?? this.#reader?.firstBytes
    if (this.#answered || this.socket instanceof TLSSocket || first === undefined || !looksLikeTls(first)) return undefined
    return tlsError({ tlsReason: 'tls-required', rejectedBy: 'server' }, { peer: this.peer, when: '(it answered our plaintext with a TLS record): turn TLS on for this connection' }, cause)
  }


  /** Fail every pending call with `err` (named per call) and close. */
  #lose (err: GlusterError): void {
    this.#closedError = () => err
    this.#teardown(p => Object.assign(new GlusterError(err.code,
      `${p.proc.program.name} ${p.proc.name} (xid ${p.xid}): ${err.message}`,
      { peer: this.peer, program: p.proc.program.name, procedure: p.proc.name, xid: p.xid, syscall: p.proc.name }, { cause: err }),
    { tlsReason: err.tlsReason, rejectedBy: err.rejectedBy }), err)
  }
}

function progKey (prog: number, vers: number): string { return `${prog}/${vers}` }

/**
 * The socket's native handle, when it can be told to read into another buffer (what net itself
 * calls for `onread`; Node 20-24). Reading replies into callers' buffers depends on it: a call
 * that settles while its reply is half read must take its buffer back from the socket.
 */
function userBufferHandle (socket: Socket): { useUserBuffer: (buf: Uint8Array) => void } | undefined {
  const h = (socket as unknown as { _handle?: { useUserBuffer?: unknown } | null })._handle
  return h != null && typeof h.useUserBuffer === 'function' ? h as { useUserBuffer: (buf: Uint8Array) => void } : undefined
}

/** Sockets RpcClient.connect opened with `onread`, until the RpcClient wrapping them takes over. */
const directReaders = new WeakMap<Socket, DirectReader>()
/** Where reads go once the decoder is dead: the socket is being destroyed, nobody looks. */
let discard: Buffer | undefined

/**
 * The `onread` glue between a socket and a RecordDecoder. Reads that complete before the
 * RpcClient exists (none in practice: connect resolves first) are decoded and their records
 * kept until attach(). Neither callback ever throws into net.
 */
class DirectReader {
  readonly decoder: RecordDecoder
  #onRead: ((n: number) => void) | undefined
  #place: ((head: Buffer, total: number) => RecordPlacement | undefined) | undefined
  #early: Buffer[] = []
  #earlyError: unknown
  /** Where the next read lands (what buffer() returned last). */
  #lent: Buffer | undefined
  /** The first bytes the peer sent (a copy), once they came. */
  firstBytes: Buffer | undefined
  readonly onread: OnReadOpts

  constructor (maxRecordBytes: number | undefined) {
    const decoder = new RecordDecoder({ maxRecordBytes, place: (head, total) => this.#place?.(head, total) })
    this.decoder = decoder
    this.onread = {
      buffer: () => {
        if (decoder.error === undefined) {
          try { return (this.#lent = decoder.readBuffer()) } catch {}
        }
        this.#lent = undefined
        return (discard ??= Buffer.allocUnsafeSlow(64 * 1024))
      },
      callback: (n: number) => {
        // the first read: keep a copy of its first bytes (a TLS server's answer starts like a record)
        if (this.firstBytes === undefined && this.#lent !== undefined) this.firstBytes = Buffer.from(this.#lent.subarray(0, Math.min(n, 8)))
        if (this.#onRead !== undefined) this.#onRead(n)
        else if (decoder.error === undefined) {
          try { decoder.commit(n, r => { this.#early.push(r) }) } catch (err) { this.#earlyError = err }
        }
        return true
      },
    }
  }

  attach (onRead: (n: number) => void, onRecord: (r: Buffer) => void, onError: (err: unknown) => void,
    place: (head: Buffer, total: number) => RecordPlacement | undefined): void {
    this.#onRead = onRead
    this.#place = place
    const early = this.#early
    this.#early = []
    try {
      for (const r of early) onRecord(r)
    } catch (err) {
      onError(err)
      return
    }
    if (this.#earlyError !== undefined) onError(this.#earlyError)
  }
}

function closedError (peer: string, p?: Pending): GlusterError {
  if (p === undefined) return new GlusterError('EGLUSTER_CLOSED', `RPC client for ${peer} is closed`, { peer })
  return new GlusterError('EGLUSTER_CLOSED', `${p.proc.program.name} ${p.proc.name} (xid ${p.xid}): RPC client for ${peer} closed before the reply`,
    { peer, program: p.proc.program.name, procedure: p.proc.name, xid: p.xid, syscall: p.proc.name })
}

/** 'host:port', '[v6]:port', or 'unix' for a socket that is not TCP. */
export function socketPeer (socket: Socket): string {
  const a = socket.remoteAddress
  if (a === undefined) return 'unix'
  return `${a.includes(':') ? `[${a}]` : a}:${socket.remotePort ?? 0}`
}
