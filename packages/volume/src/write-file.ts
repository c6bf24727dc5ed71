// A file open for writing on one replica set: an fd per brick (from CREATE or OPEN), WRITEs
// under one AFR data transaction that is kept open while writes keep coming ("eager lock"):
// FINODELK + FXATTROP pre-op before the first WRITE, then FSYNC (AFR's ensure-durability),
// FXATTROP post-op and unlock once the file is idle for `postOpDelayMs` (AFR's
// post-op-delay-secs, 1 s), or at sync/truncate/close. close() then FLUSHes and RELEASEs the fd
// on every brick, as a FUSE close does (capture write.pcap).
import {
  FopProgram, GF_ANON_FD, GlusterError, GfOpenFlags, type GfxDict, type GfxIattx,
} from '@gluster-ts/rpc'
import type { Replicate } from './replicate.js'
import { AfrTxn, type WriteTiming } from './afr-txn.js'
import { xdataOf, type FopCtx, type LayerFd, type WriteOut, type XdataKeys } from './layer.js'

export interface BrickFd { fd: bigint, generation: number }

export interface WritableFileInit {
  sv: Replicate
  gfid: Buffer
  path: string
  /** one per child of the set (undefined: not open there; the anonymous fd is used) */
  fds: Array<BrickFd | undefined>
  size: number
  /** the open flags (GF_O_*), sent as WRITE's flag */
  flags: number
  timing: WriteTiming
  postOpDelayMs: number
  ensureDurability: boolean
}

export class WritableFile implements LayerFd {
  readonly sv: Replicate
  readonly gfid: Buffer
  readonly path: string
  /** the end of the file as far as our writes know (appends go here) */
  size: number
  readonly #fds: Array<BrickFd | undefined>
  readonly #flags: number
  readonly #timing: WriteTiming
  readonly #delay: number
  readonly #durable: boolean
  #txn: AfrTxn | undefined
  #starting: Promise<AfrTxn> | undefined
  #ending: Promise<void> | undefined
  #busy = 0
  /** sync() callers waiting for the fops in flight */
  readonly #idleWaiters: Array<() => void> = []
  #idle: NodeJS.Timeout | undefined
  #closed = false
  #dirty = false
  /** the latest attributes a brick returned */
  stat: GfxIattx | undefined

  constructor (o: WritableFileInit) {
    this.sv = o.sv
    this.gfid = o.gfid
    this.path = o.path
    this.size = o.size
    this.#fds = o.fds
    this.#flags = o.flags
    this.#timing = o.timing
    this.#delay = o.postOpDelayMs
    this.#durable = o.ensureDurability
  }

  get closed (): boolean { return this.#closed }

  /** The fd on child i if it is still the one we opened (same connection), else undefined. */
  fdOf (i: number): bigint | undefined {
    const f = this.#fds[i]
    if (f === undefined) return undefined
    return this.sv.children[i]!.generation === f.generation && this.sv.children[i]!.up ? f.fd : undefined
  }

  #check (syscall: string): void {
    if (this.#closed) throw new GlusterError('EBADF', `EBADF: file handle for '${this.path}' is closed`, { path: this.path, syscall })
  }

  async #begin (signal?: AbortSignal): Promise<AfrTxn> {
    while (this.#ending !== undefined) await this.#ending
    if (this.#txn !== undefined) return this.#txn
    this.#starting ??= (async () => {
      const t = new AfrTxn(this.sv, 'data', [{ kind: 'inode', gfid: this.gfid }], [{ gfid: this.gfid }], {
        timing: this.#timing, syscall: 'write', path: this.path, fd: i => this.fdOf(i), ...(signal !== undefined ? { signal } : {}),
      })
      await t.begin()
      this.#txn = t
      return t
    })().finally(() => { this.#starting = undefined })
    return await this.#starting
  }

  #armIdle (): void {
    if (this.#idle !== undefined) clearTimeout(this.#idle)
    this.#idle = undefined
    if (this.#busy > 0 || this.#txn === undefined || this.#closed) return
    this.#idle = setTimeout(() => {
      this.#idle = undefined
      if (this.#busy === 0) void this.#end().catch(() => {})
    }, this.#delay)
    this.#idle.unref()
  }

  /** Run one fop inside the (shared) data transaction. */
  async #inTxn<R extends { op_ret: number, op_errno: number }> (signal: AbortSignal | undefined, call: (t: AfrTxn) => Promise<Map<number, R>>): Promise<Map<number, R>> {
    const t = await this.#begin(signal)
    this.#busy++
    if (this.#idle !== undefined) { clearTimeout(this.#idle); this.#idle = undefined }
    try {
      const r = await call(t)
      this.#dirty = true
      return r
    } finally {
      this.#busy--
      if (this.#busy === 0) for (const w of this.#idleWaiters.splice(0)) w()
      this.#armIdle()
    }
  }

  /**
   * WRITE `data` at `pos` on every brick in the transaction; resolves with the bytes written.
   * `out` gets the attributes one brick reported around the write.
   */
  async write (data: Buffer, pos: number, signal?: AbortSignal, out?: WriteOut): Promise<number> {
    this.#check('write')
    if (data.length === 0) return 0
    const r = await this.#inTxn(signal, t => t.fop((i, b, timeoutMs) => b.call(FopProgram.procs.WRITE, {
      gfid: this.gfid, fd: this.fdOf(i) ?? GF_ANON_FD, offset: BigInt(pos), size: data.length, flag: this.#flags, xdata: null, data,
    }, { timeoutMs })))
    let n = data.length
    for (const res of r.values()) { n = Math.min(n, res.op_ret); this.stat = res.poststat }
    if (out !== undefined) { const first = r.values().next().value!; out.prestat = first.prestat; out.poststat = first.poststat }
    if (pos + n > this.size) this.size = pos + n
    return n
  }

  /** FTRUNCATE inside the data transaction. */
  async truncate (len: number, signal?: AbortSignal, out?: WriteOut): Promise<void> {
    this.#check('ftruncate')
    const r = await this.#inTxn(signal, t => t.fop((i, b, timeoutMs) => {
      const fd = this.fdOf(i)
      return fd !== undefined
        ? b.call(FopProgram.procs.FTRUNCATE, { gfid: this.gfid, fd, offset: BigInt(len), xdata: null }, { timeoutMs })
        : b.call(FopProgram.procs.TRUNCATE, { gfid: this.gfid, offset: BigInt(len), xdata: null }, { timeoutMs })
    }))
    for (const res of r.values()) this.stat = res.poststat
    if (out !== undefined) { const first = r.values().next().value!; out.prestat = first.prestat; out.poststat = first.poststat }
    this.size = len
  }

  /**
   * FXATTROP (XATTROP where the fd is not open) under the file's write transaction, as AFR runs
   * a metadata fop under its eager lock: the data lock covers the whole file, so no other client
   * changes it meanwhile; a brick that misses it is blamed for data and metadata. Resolves with
   * the dict one brick returned (the new values, for ADD_ARRAY64).
   */
  async xattrop (flags: number, dict: GfxDict, o: FopCtx & { xdata?: XdataKeys } = {}): Promise<GfxDict> {
    this.#check('fxattrop')
    const xdata = xdataOf(o.xdata)
    const r = await this.#inTxn(o.signal, t => t.fop((i, b, timeoutMs) => {
      const fd = this.fdOf(i)
      return fd !== undefined
        ? b.call(FopProgram.procs.FXATTROP, { gfid: this.gfid, fd, flags, dict, xdata }, { timeoutMs })
        : b.call(FopProgram.procs.XATTROP, { gfid: this.gfid, flags, dict, xdata }, { timeoutMs })
    }, { metadata: true }))
    return r.values().next().value!.dict
  }

  /** Finish the open transaction: FSYNC (ensure-durability), post-op, unlock (with `alongside`). */
  #end (alongside?: () => Promise<void>): Promise<void> {
    if (this.#ending !== undefined) return alongside === undefined ? this.#ending : this.#ending.then(alongside)
    const t = this.#txn
    if (t === undefined) return alongside?.() ?? Promise.resolve()
    this.#ending = (async () => {
      try {
        if (this.#durable && this.#dirty) {
          await t.fop((i, b, timeoutMs) => b.call(FopProgram.procs.FSYNC, { gfid: this.gfid, fd: this.fdOf(i) ?? GF_ANON_FD, data: 0, xdata: null }, { timeoutMs })).catch(() => {})
        }
      } finally {
        this.#txn = undefined
        this.#dirty = false
        await t.finish(alongside)
      }
    })().finally(() => { this.#ending = undefined })
    return this.#ending
  }

  /** Wait for writes in flight, then end the transaction (sync/datasync). */
  async sync (alongside?: () => Promise<void>): Promise<void> {
    this.#check('fsync')
    while (this.#starting !== undefined) await this.#starting.catch(() => {})
    if (this.#idle !== undefined) { clearTimeout(this.#idle); this.#idle = undefined }
    if (this.#busy > 0) {
      // the last fop re-arms the idle timer; end once it is idle
      await new Promise<void>(resolve => { this.#idleWaiters.push(resolve) })
      if (this.#idle !== undefined) { clearTimeout(this.#idle); this.#idle = undefined }
    }
    await this.#end(alongside)
  }

  /** End the transaction, FLUSH (together with the unlock) and RELEASE on every brick. Idempotent. */
  async close (): Promise<void> {
    if (this.#closed) return
    this.#check('close')
    const fds = this.sv.children.map((_, i) => this.fdOf(i))
    const flush = async (): Promise<void> => {
      await Promise.all(this.sv.children.map(async (b, i) => {
        const fd = fds[i]
        if (fd === undefined) return
        await b.call(FopProgram.procs.FLUSH, { gfid: this.gfid, fd, xdata: null }, { timeoutMs: this.#timing.attemptTimeoutMs }).catch(() => {})
      }))
    }
    let err: unknown
    try {
      await this.sync(flush)
    } catch (e) { err = e }
    this.#closed = true
    if (this.#idle !== undefined) { clearTimeout(this.#idle); this.#idle = undefined }
    this.sv.children.forEach((b, i) => {
      const fd = fds[i]
      if (fd !== undefined) b.call(FopProgram.procs.RELEASE, { gfid: this.gfid, fd, xdata: null }, { timeoutMs: this.#timing.attemptTimeoutMs }).catch(() => {})
    })
    if (err !== undefined) throw err
  }
}

/** GF_O_* flags of an fs flag string. */
export function openFlags (flags: string): { gf: number, create: boolean, excl: boolean, trunc: boolean, append: boolean, read: boolean, write: boolean } {
  const F = GfOpenFlags
  switch (flags) {
    case 'r': return { gf: F.RDONLY, create: false, excl: false, trunc: false, append: false, read: true, write: false }
    case 'r+': return { gf: F.RDWR, create: false, excl: false, trunc: false, append: false, read: true, write: true }
    case 'w': return { gf: F.WRONLY, create: true, excl: false, trunc: true, append: false, read: false, write: true }
    case 'wx': case 'xw': return { gf: F.WRONLY, create: true, excl: true, trunc: true, append: false, read: false, write: true }
    case 'w+': return { gf: F.RDWR, create: true, excl: false, trunc: true, append: false, read: true, write: true }
    case 'wx+': case 'xw+': return { gf: F.RDWR, create: true, excl: true, trunc: true, append: false, read: true, write: true }
    case 'a': return { gf: F.WRONLY, create: true, excl: false, trunc: false, append: true, read: false, write: true }
    case 'ax': case 'xa': return { gf: F.WRONLY, create: true, excl: true, trunc: false, append: true, read: false, write: true }
    case 'a+': return { gf: F.RDWR, create: true, excl: false, trunc: false, append: true, read: true, write: true }
    case 'ax+': case 'xa+': return { gf: F.RDWR, create: true, excl: true, trunc: false, append: true, read: true, write: true }
    default: throw new GlusterError('EINVAL', `EINVAL: unknown open flags '${flags}'`, { syscall: 'open', errno: 22 })
  }
}
