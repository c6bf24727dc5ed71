// What one peer may cost an RpcServer's process: the defaults of RpcServerOptions, the
// process-wide budget for unfinished call records, and the one timer per server that closes
// connections that stopped making progress. docs/server.md ("Limits") lists each limit with what
// the client sees when it is hit.

/**
 * Default cap on one call record at an RpcServer: the largest legitimate call is a WRITE. The
 * FUSE client's WRITEs are at most 128 KiB (fuse-bridge.c replies to FUSE_INIT with max_write
 * 1 << 17); our volume client's are 512 KiB by default, and docs/volume.md says to keep them at
 * or below 1 MiB (a GlusterFS 10 brick takes larger WRITE buffers from malloc). 1 MiB of payload
 * plus 64 KiB for everything else (RPC header, a credential and verifier of at most 400 bytes
 * each, gfx_write_req and its xdata dict) fits that with room. GlusterFS's socket.c allocates
 * whatever the header declares, up to 1 GiB; our clients keep the decoder's 64 MiB for replies.
 */
export const DEFAULT_SERVER_MAX_RECORD_BYTES = 1024 * 1024 + 64 * 1024

/**
 * Calls run at once per connection before the server stops reading it: GlusterFS's
 * `rpc.outstanding-rpc-limit` / `server.outstanding-rpc-limit` default for bricks
 * (RPCSVC_DEFAULT_OUTSTANDING_RPC_LIMIT in rpcsvc.h). GlusterFS 10 only enforces it when the
 * service turns throttling on, which only gNFS does; we enforce it on every RpcServer (glusterd
 * too: its calls are short).
 */
export const DEFAULT_MAX_INFLIGHT_PER_CONNECTION = 64

/**
 * Calls per connection that wait for another call without counting toward the limit above (lock
 * requests that block: rpcsvc_can_outstanding_req_be_ignored() exempts INODELK, FINODELK, ENTRYLK,
 * FENTRYLK and LK, without a bound). Bounded here so that a peer can't park without end: past
 * it, a waiting call counts again. A FUSE mount has one blocked SETLKW per waiting process and
 * AFR one lock per file in a write transaction, far below this.
 */
export const DEFAULT_MAX_PARKED_PER_CONNECTION = 1024

/**
 * How long a connection may sit in the middle of a record (its header read, its body not) or
 * leave our replies unread (the socket asked us to wait for 'drain' and nothing was written)
 * before it is closed. GlusterFS's network.ping-timeout (GF_NETWORK_TIMEOUT, 42 s): a client
 * whose own messages cannot get through for that long has already given up on us, since its
 * PINGs queue behind the stuck record, and their replies behind the unread ones.
 */
export const DEFAULT_STALL_TIMEOUT_MS = 42_000

/**
 * How long a new connection may take to send its first whole call. Every GlusterFS client sends
 * one at once (DUMP, GETSPEC, PORTBYBRICK or SETVOLUME); the same 42 s as above.
 */
export const DEFAULT_FIRST_CALL_TIMEOUT_MS = 42_000

/**
 * Connections one RpcServer serves at once. An embedded glusterd and its bricks share a process,
 * whose fds they share with the bricks' open files: 1024 per server keeps a glusterd and three
 * bricks under 4096 sockets. A FUSE mount opens one connection to glusterd and one per brick.
 */
export const DEFAULT_MAX_CONNECTIONS = 1024

/**
 * Connections one RpcServer serves from one peer address (a unix socket's peers are one
 * address). One client host opens one connection per brick per mount or gateway worker; the
 * test suites, all on 127.0.0.1, a few dozen at most at a time.
 */
export const DEFAULT_MAX_CONNECTIONS_PER_PEER = 256

/**
 * Default process-wide budget for bytes held in unfinished call records, over every connection
 * of every RpcServer in the process (bricks may share one with glusterd). GlusterFS has none. 64
 * MiB is 60 connections in the middle of a largest WRITE at the same instant; a record in
 * progress normally arrives in microseconds. Beyond it, the connection whose unfinished record
 * has waited longest for its next byte is closed.
 */
export const DEFAULT_PARTIAL_RECORD_BUDGET_BYTES = 64 * 1024 * 1024

/** Why an RpcServer closed or refused a connection (the keys of RpcServerStats.closed). */
export type LimitReason =
  | 'recordTooLarge' | 'recordStalled' | 'replyStalled' | 'noCall' | 'recordBudget' | 'serverFull' | 'peerFull'

export const LIMIT_REASONS: readonly LimitReason[] = [
  'recordTooLarge', 'recordStalled', 'replyStalled', 'noCall', 'recordBudget', 'serverFull', 'peerFull',
]

/** A connection holding part of a record, as the budget sees it. */
export interface BudgetHolder {
  /** bytes of its unfinished record held now */
  readonly heldBytes: number
  /** performance.now() when its unfinished record last grew */
  readonly lastProgressAt: number
  /** true while the server itself is not reading it (the record can't progress; not its fault) */
  readonly readingPaused: boolean
  /** Close it: it was chosen to bring the budget back under its cap. */
  evict (budget: RecordBudget): void
}

/**
 * Bytes held in unfinished call records, shared by the RpcServers that use it (by default every
 * RpcServer in the process uses `processRecordBudget`). When a connection's record grows past the
 * cap, connections are closed until the total is under it again, the one whose record has gone
 * longest without a byte first (a slow sender, not the one whose bytes are arriving; connections
 * the server itself stopped reading come last), the one holding most of two equally idle. A
 * legitimate client's record in progress keeps arriving and is the last to go.
 */
export class RecordBudget {
  #maxBytes: number
  #bytes = 0
  readonly #holders = new Set<BudgetHolder>()
  #shedding = false
  /** connections this budget closed */
  evictions = 0

  constructor (maxBytes = DEFAULT_PARTIAL_RECORD_BUDGET_BYTES) {
    this.#maxBytes = checkBytes(maxBytes)
  }

  /** The cap, in bytes. Lowering it closes connections at the next record byte that arrives. */
  get maxBytes (): number { return this.#maxBytes }
  set maxBytes (n: number) { this.#maxBytes = checkBytes(n) }

  /** Bytes held in unfinished records now. */
  get bytes (): number { return this.#bytes }

  /** Connections holding part of a record now. */
  get holders (): number { return this.#holders.size }

  /** @internal `holder`'s held bytes changed by `delta` (its heldBytes is already the new value). */
  update (holder: BudgetHolder, delta: number): void {
    this.#bytes += delta
    if (holder.heldBytes > 0) this.#holders.add(holder)
    else this.#holders.delete(holder)
    if (this.#bytes > this.#maxBytes && !this.#shedding) this.#shed()
  }

  #shed (): void {
    this.#shedding = true
    try {
      while (this.#bytes > this.#maxBytes) {
        const victim = this.#victim()
        if (victim === undefined) return
        // evict() must release its bytes (update() with heldBytes 0); never loop on one that doesn't
        this.#holders.delete(victim)
        this.evictions++
        victim.evict(this)
      }
    } finally {
      this.#shedding = false
    }
  }

  #victim (): BudgetHolder | undefined {
    let best: BudgetHolder | undefined
    for (const h of this.#holders) {
      if (best === undefined || worse(h, best)) best = h
    }
    return best
  }
}

/** True when `a` should be closed before `b`. */
function worse (a: BudgetHolder, b: BudgetHolder): boolean {
  if (a.readingPaused !== b.readingPaused) return !a.readingPaused
  if (a.lastProgressAt !== b.lastProgressAt) return a.lastProgressAt < b.lastProgressAt
  return a.heldBytes > b.heldBytes
}

function checkBytes (n: number): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`a record budget must be a positive integer of bytes, got ${n}`)
  return n
}

/** The budget every RpcServer uses unless given its own (RpcServerOptions.recordBudget). */
export const processRecordBudget = new RecordBudget()

/**
 * One timer for many deadlines (undici's timer idea): armed for the earliest deadline anyone
 * asked for; when it fires, `sweep(now)` checks everything and returns the next deadline
 * (Infinity: nothing to watch, no timer). Deadlines that moved later are found at the sweep.
 */
export class DeadlineTimer {
  readonly #sweep: (now: number) => number
  #timer: ReturnType<typeof setTimeout> | undefined
  #at = Infinity

  constructor (sweep: (now: number) => number) {
    this.#sweep = sweep
  }

  /** Make sure a sweep runs at or before `at` (performance.now() time). */
  need (at: number): void {
    if (at >= this.#at) return
    this.#arm(at)
  }

  stop (): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    this.#at = Infinity
  }

  #arm (at: number): void {
    this.stop()
    if (at === Infinity) return
    this.#at = at
    // at least 1 ms: a timer may fire a little before performance.now() reaches `at` (libuv's
    // loop time lags), and the sweep then asks again for the same deadline
    this.#timer = setTimeout(this.#fire, Math.max(1, Math.ceil(at - performance.now())))
    this.#timer.unref?.()
  }

  readonly #fire = (): void => {
    this.#timer = undefined
    this.#at = Infinity
    const next = this.#sweep(performance.now())
    // need() may have been called during the sweep (and armed for its own deadline)
    this.#arm(Math.min(next, this.#at))
  }
}

/** What a ConnectionGuard needs of the connection it guards. */
export interface GuardedConnection {
  readonly peer: string
  /** true while the server does not read the connection (its record can't progress) */
  readonly readingPaused: boolean
  /** bytes of replies the socket holds while it waits for 'drain' (0 when it does not wait) */
  readonly unsentBytes: number
  /** Close the connection because of a limit (counted per `reason`). */
  limitClose (reason: LimitReason, code: 'EGLUSTER_LIMIT' | 'EGLUSTER_TIMEOUT', what: string): void
}

export interface GuardOptions {
  stallTimeoutMs: number
  firstCallTimeoutMs: number
  recordBudget: RecordBudget
  /** the server's counters: partialRecordBytes is kept here */
  stats: { partialRecordBytes: number }
  /** ask the server's DeadlineTimer for a sweep at `at` */
  needSweep: (at: number) => void
}

/**
 * One connection's clocks and its share of the record budget: when it connected and whether a
 * whole call came since, when its unfinished record last got a byte and how many it holds, when
 * a reply was last written while the socket waits for 'drain'. The connection reports events;
 * the server's sweep calls check().
 */
export class ConnectionGuard implements BudgetHolder {
  readonly #conn: GuardedConnection
  readonly #o: GuardOptions
  readonly #connectedAt = performance.now()
  #sawRecord = false
  /** between a record's first byte and its last */
  #inRecord = false
  #held = 0
  #lastProgressAt = 0
  #writeWaiting = false
  #lastWriteAt = 0

  constructor (conn: GuardedConnection, o: GuardOptions) {
    this.#conn = conn
    this.#o = o
  }

  get heldBytes (): number { return this.#held }
  get lastProgressAt (): number { return this.#lastProgressAt }
  get readingPaused (): boolean { return this.#conn.readingPaused }

  evict (budget: RecordBudget): void {
    this.#conn.limitClose('recordBudget', 'EGLUSTER_LIMIT',
      `unfinished records hold more than the budget of ${budget.maxBytes} bytes; this one (${this.#held} bytes) waited longest for a byte`)
  }

  /** The connection is served: its first-call clock runs. */
  start (): void {
    if (this.#o.firstCallTimeoutMs > 0) this.#o.needSweep(this.#connectedAt + this.#o.firstCallTimeoutMs)
  }

  /** A whole record arrived. */
  recordDone (): void { this.#sawRecord = true }

  /** Bytes arrived: `bytes` of an unfinished record are held now (undefined: between records). */
  received (bytes: number | undefined): void {
    if (bytes === undefined) {
      this.#inRecord = false
      this.#hold(0)
      return
    }
    this.#lastProgressAt = performance.now()
    if (!this.#inRecord) {
      this.#inRecord = true
      this.#needStall(this.#lastProgressAt)
    }
    this.#hold(bytes)
  }

  /** The server reads the connection again: an unfinished record's clock starts over. */
  resumed (): void {
    if (!this.#inRecord) return
    this.#lastProgressAt = performance.now()
    this.#needStall(this.#lastProgressAt)
  }

  /** Whether the socket waits for 'drain' now. */
  writeWaiting (waiting: boolean): void {
    if (waiting && !this.#writeWaiting) {
      this.#lastWriteAt = performance.now()
      this.#needStall(this.#lastWriteAt)
    }
    this.#writeWaiting = waiting
  }

  /** A write to the socket completed (the peer reads). */
  readonly written = (): void => { this.#lastWriteAt = performance.now() }

  /** The connection is gone: give its bytes back. */
  release (): void { this.#hold(0) }

  /** Close the connection if `t` is past one of its deadlines; else its next deadline (Infinity: none). */
  check (t: number): number {
    const { firstCallTimeoutMs, stallTimeoutMs } = this.#o
    let next = Infinity
    if (firstCallTimeoutMs > 0 && !this.#sawRecord) {
      const at = this.#connectedAt + firstCallTimeoutMs
      if (t >= at) return this.#expired('noCall', `no whole call within firstCallTimeoutMs ${firstCallTimeoutMs} of connecting`)
      next = at
    }
    if (stallTimeoutMs > 0 && this.#inRecord && !this.#conn.readingPaused) {
      const at = this.#lastProgressAt + stallTimeoutMs
      if (t >= at) return this.#expired('recordStalled', `an unfinished record (${this.#held} bytes so far) got no byte for stallTimeoutMs ${stallTimeoutMs}`)
      next = Math.min(next, at)
    }
    const unsent = this.#conn.unsentBytes
    if (stallTimeoutMs > 0 && this.#writeWaiting && unsent > 0) {
      const at = this.#lastWriteAt + stallTimeoutMs
      if (t >= at) return this.#expired('replyStalled', `${unsent} bytes of replies not read by the peer for stallTimeoutMs ${stallTimeoutMs}`)
      next = Math.min(next, at)
    }
    return next
  }

  #expired (reason: LimitReason, what: string): number {
    this.#conn.limitClose(reason, 'EGLUSTER_TIMEOUT', what)
    return Infinity
  }

  #needStall (from: number): void {
    if (this.#o.stallTimeoutMs > 0) this.#o.needSweep(from + this.#o.stallTimeoutMs)
  }

  /** Report the unfinished record's bytes to the budget and the stats (may close us, or others). */
  #hold (bytes: number): void {
    const delta = bytes - this.#held
    if (delta === 0) return
    this.#held = bytes
    this.#o.stats.partialRecordBytes += delta
    this.#o.recordBudget.update(this, delta)
  }
}
