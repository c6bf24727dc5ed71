// One lock cycle of the disperse translator on one inode (gluster-disperse.md §5): INODELK in
// the domain named after the disperse xlator on every brick that is up, the pre-op XATTROP that
// marks the inode dirty and tells which bricks agree (version, size, config, fragment size),
// then any number of fops on the good bricks, and at the end the post-op XATTROP (version and
// size deltas, dirty −1 when every brick took every change) and the unlock. GlusterFS keeps the
// lock a moment after the last fop (eager lock, ec-common.c:ec_unlock_timer_add); so do we,
// and end it at once when the last fd on the inode closes, so what we leave behind is settled.
import { randomBytes } from 'node:crypto'
import { FopProgram, GfLkCmd, GfLkType, GfXattropFlags, GlusterError, gfxUint, toGlusterError, type GfxDict } from '@gluster-ts/rpc'
import type { ClientLayer } from './client-layer.js'
import { combinePreop, postopXattrs, preopXattrs, type EcPair, type PreopAnswer } from './ec/index.js'

/** What a lock cycle needs from its layer. */
export interface LockHost {
  /** the lock domain: the disperse xlator's name */
  readonly name: string
  readonly k: number
  readonly children: readonly ClientLayer[]
  readonly attemptTimeoutMs: number
  /** how long the last bricks get once k answered a phase, ms (then they are left out) */
  readonly stragglerMs: number
}

export interface Halves { data: boolean, meta: boolean }

/** How long a blocking INODELK may wait for another client's lock (its eager lock is ~1 s). */
const BLOCKING_LOCK_MS = 60_000

const flock = (type: number): { type: number, whence: number, start: bigint, len: bigint, pid: number, lk_owner: Buffer } =>
  ({ type, whence: 0, start: 0n, len: 0n, pid: 0, lk_owner: Buffer.alloc(0) })

/** A brick's answer or its typed error. */
export type Outcome<R> = { brick: number, ok: true, value: R } | { brick: number, ok: false, err: GlusterError }

/**
 * Run `fn` on each of `bricks` in parallel; every answer, success or typed error. With
 * `straggler`, once `need` bricks succeeded the others get `ms` more and are then counted as
 * failed (ETIMEDOUT): a frozen brick costs that long, not a whole call timeout.
 */
export async function fanout<R> (bricks: readonly number[], fn: (brick: number) => Promise<R>, straggler?: { need: number, ms: number }): Promise<Array<Outcome<R>>> {
  const outcomes: Array<Outcome<R> | undefined> = bricks.map(() => undefined)
  let timer: NodeJS.Timeout | undefined
  let cut: () => void = () => {}
  const early = new Promise<void>(resolve => { cut = resolve })
  let ok = 0
  const all = Promise.all(bricks.map(async (brick, j) => {
    try {
      outcomes[j] = { brick, ok: true, value: await fn(brick) }
      if (straggler !== undefined && ++ok === straggler.need && ok < bricks.length) { timer = setTimeout(cut, straggler.ms); timer.unref() }
    } catch (err) {
      outcomes[j] = { brick, ok: false, err: err instanceof GlusterError ? err : new GlusterError('EIO', String(err), {}, { cause: err }) }
    }
  }))
  await Promise.race([all, early])
  if (timer !== undefined) clearTimeout(timer)
  return outcomes.map((o, j) => o ?? { brick: bricks[j]!, ok: false, err: new GlusterError('ETIMEDOUT', `ETIMEDOUT: brick ${bricks[j]! + 1} did not answer within ${straggler?.ms ?? 0} ms of the others`, { errno: 110 }) })
}

/**
 * The successes when at least k bricks succeeded (ec's minimum, EC_MINIMUM_MIN); otherwise the
 * most common failure (ENOENT everywhere is ENOENT), as a typed error naming its brick.
 */
export function needK<R> (outcomes: ReadonlyArray<Outcome<R>>, k: number, what: string): Array<Outcome<R> & { ok: true }> {
  const ok = outcomes.filter((o): o is Outcome<R> & { ok: true } => o.ok)
  if (ok.length >= k) return ok
  const errs = outcomes.filter((o): o is Outcome<R> & { ok: false } => !o.ok).map(o => o.err)
  const byCode = new Map<string, GlusterError[]>()
  for (const e of errs) byCode.set(e.code, [...(byCode.get(e.code) ?? []), e])
  const top = [...byCode.values()].sort((a, b) => b.length - a.length)[0]
  if (top !== undefined && (ok.length === 0 || top[0]!.code !== 'ENOTCONN')) return rethrow(top[0]!)
  throw new GlusterError('ENOTCONN', `ENOTCONN: ${what}: ${ok.length} of ${outcomes.length} bricks answered, ${k} needed${errs.length > 0 ? ` (${errs.map(e => e.message).join('; ')})` : ''}`, { errno: 107 })
}

function rethrow (e: GlusterError): never { throw e }

export class EcLock {
  readonly gfid: Buffer
  readonly regular: boolean
  readonly owner = randomBytes(8)
  /** bricks holding our INODELK */
  locked: number[] = []
  /** bricks whose lock answer we stopped waiting for */
  #strays: number[] = []
  /** bricks that agreed in the pre-op and took every fop since */
  good: number[] = []
  /** logical size (regular files), as our fops left it; and what the bricks store */
  size = 0n
  #sentSize = 0n
  #pending: EcPair = { data: 0n, meta: 0n }
  #dirty: Halves = { data: false, meta: false }
  /** some brick missed a change of this cycle (or was down): dirty stays set */
  #missed = false
  #users = 0
  #timer: NodeJS.Timeout | undefined
  #ended: Promise<void> | undefined
  /** stripe ranges (fragment offsets) of the writes in flight: overlapping ones wait */
  #ranges: Array<{ from: number, to: number, done: Promise<void> }> = []
  readonly #h: LockHost
  readonly #onEnd: () => void

  constructor (h: LockHost, gfid: Buffer, regular: boolean, onEnd: () => void) {
    this.#h = h
    this.gfid = gfid
    this.regular = regular
    this.#onEnd = onEnd
  }

  get ended (): boolean { return this.#ended !== undefined }
  get n (): number { return this.#h.children.length }

  #brick (i: number): ClientLayer['brick'] { return this.#h.children[i]!.brick }

  #inodelk (i: number, cmd: number, type: number): Promise<void> {
    const b = this.#brick(i)
    return b.call(FopProgram.procs.INODELK, { gfid: this.gfid, cmd, type, flock: flock(type), volume: this.#h.name, xdata: null },
      { cred: b.lockCred(this.owner), timeoutMs: cmd === GfLkCmd.SETLKW ? BLOCKING_LOCK_MS : this.#h.attemptTimeoutMs }).then(r => {
      if (r.op_ret < 0) throw toGlusterError(r.op_errno, { syscall: 'inodelk', brick: b.label })
    })
  }

  /**
   * INODELK on every brick that is up (ec-locks.c): non-blocking on all at once; when another
   * client holds it somewhere, release what we got and wait for it brick by brick in index
   * order, so two clients never hold parts of each other's lock. k bricks are needed.
   */
  async #lock (): Promise<void> {
    const up = this.#h.children.map((c, i) => (c.brick.up ? i : -1)).filter(i => i >= 0)
    if (up.length < this.#h.k) throw new GlusterError('ENOTCONN', `ENOTCONN: ${this.#h.name}: ${up.length} of ${this.n} bricks up, ${this.#h.k} needed`, { errno: 107 })
    let got = await fanout(up, i => this.#inodelk(i, GfLkCmd.SETLK, GfLkType.WRLCK), this.straggler)
    // a brick left behind (frozen) may still grant it later: it gets an unlock too, unawaited
    this.#strays = got.filter(o => !o.ok && o.err.code === 'ETIMEDOUT').map(o => o.brick)
    if (got.some(o => !o.ok && o.err.code === 'EAGAIN')) {
      await this.#unlock(got.filter(o => o.ok).map(o => o.brick))
      got = []
      for (const i of up) {
        try { await this.#inodelk(i, GfLkCmd.SETLKW, GfLkType.WRLCK); got.push({ brick: i, ok: true, value: undefined }) } catch (err) {
          got.push({ brick: i, ok: false, err: err as GlusterError })
        }
      }
    }
    this.locked = got.filter(o => o.ok).map(o => o.brick)
    if (this.locked.length < this.#h.k) {
      await this.#unlock(this.locked)
      needK(got, this.#h.k, `${this.#h.name} inodelk`)
    }
  }

  async #unlock (bricks: readonly number[]): Promise<void> {
    await fanout(bricks, i => this.#inodelk(i, GfLkCmd.SETLK, GfLkType.UNLCK))
  }

  /** XATTROP ADD_ARRAY64 on `bricks`; k must succeed (those that fail are no longer good). */
  async #xattrop (bricks: readonly number[], dict: Map<string, Buffer>, xdata: GfxDict, what: string): Promise<Array<Outcome<{ dict: GfxDict, xdata: GfxDict }>>> {
    const d: GfxDict = new Map([...dict].map(([key, v]) => [key, { type: 6, value: v }] as const))
    const out = await fanout(bricks, async i => {
      const b = this.#brick(i)
      const r = await b.call(FopProgram.procs.XATTROP, { gfid: this.gfid, flags: GfXattropFlags.ADD_ARRAY64, dict: d, xdata }, { timeoutMs: this.#h.attemptTimeoutMs })
      if (r.op_ret < 0) throw toGlusterError(r.op_errno, { syscall: 'xattrop', brick: b.label })
      return { dict: r.dict, xdata: r.xdata }
    }, this.straggler)
    this.#drop(out.filter(o => !o.ok).map(o => o.brick))
    needK(out, this.#h.k, `${this.#h.name} ${what}`)
    return out
  }

  /** Bricks that failed a fop of this cycle get no more fops and keep the inode dirty. */
  #drop (bricks: readonly number[]): void {
    if (bricks.length === 0) return
    this.good = this.good.filter(b => !bricks.includes(b))
    this.#missed = true
  }

  /** the straggler rule of this cycle's phases: k answers, then stragglerMs for the rest */
  get straggler (): { need: number, ms: number } { return { need: this.#h.k, ms: this.#h.stragglerMs } }

  /** Record a fop's failures on some bricks; throws when fewer than k good bricks are left. */
  took<R> (outcomes: ReadonlyArray<Outcome<R>>, what: string): Array<Outcome<R> & { ok: true }> {
    this.#drop(outcomes.filter(o => !o.ok).map(o => o.brick))
    return needK(outcomes, this.#h.k, `${this.#h.name} ${what}`)
  }

  /**
   * Lock, then the pre-op (ec-common.c:ec_get_size_version): dirty +1 on the halves `modify`
   * names (for entry and metadata fops only when some brick is down: optimistic changelog).
   */
  async begin (modify: Halves, dataFop: boolean): Promise<void> {
    await this.#lock()
    try {
      const allUp = this.locked.length === this.n
      const dirty = dataFop || !allUp ? modify : { data: false, meta: false }
      const xdata: GfxDict = this.regular ? new Map([['get-size', gfxUint(1)]]) : null
      const dict = preopXattrs({ regularFile: this.regular, dirty })
      const out = await fanout(this.locked, async i => {
        const b = this.#brick(i)
        const d: GfxDict = new Map([...dict].map(([key, v]) => [key, { type: 6, value: v }] as const))
        const r = await b.call(FopProgram.procs.XATTROP, { gfid: this.gfid, flags: GfXattropFlags.ADD_ARRAY64, dict: d, xdata }, { timeoutMs: this.#h.attemptTimeoutMs })
        return { brick: i, op_ret: r.op_ret, op_errno: r.op_errno, xdata: r.xdata, dict: r.dict } satisfies PreopAnswer
      }, this.straggler)
      const answers = out.filter(o => o.ok).map(o => o.value)
      const res = combinePreop(answers, { k: this.#h.k, n: this.n, regularFile: this.regular })
      if (!res.quorum) {
        const first = answers.find(a => a.op_ret < 0)
        if (first !== undefined && answers.filter(a => a.op_ret < 0 && a.op_errno === first.op_errno).length >= this.#h.k) throw toGlusterError(first.op_errno, { syscall: 'xattrop' })
        throw new GlusterError('EIO', `EIO: ${this.#h.name}: no ${this.#h.k} bricks agree on the version and size of ${this.gfid.toString('hex')} (groups: ${res.good.join(',')} vs ${res.bad.join(',')})`, { errno: 5 })
      }
      if (res.error !== undefined) throw res.error
      this.good = res.good
      this.size = this.#sentSize = res.size ?? 0n
      if (dirty.data || dirty.meta) this.#dirty = { ...dirty }
      if (this.good.length < this.n) this.#missed = true
    } catch (err) {
      void this.#unlock(this.#strays)
      await this.#unlock(this.locked).catch(() => {})
      this.#ended = Promise.resolve()
      this.#onEnd()
      throw err
    }
  }

  /** A modifying fop under a cycle begun without dirty (a metadata fop's): set it now. */
  async markDirty (modify: Halves): Promise<void> {
    const add = { data: modify.data && !this.#dirty.data, meta: modify.meta && !this.#dirty.meta }
    if (!add.data && !add.meta) return
    await this.#xattrop(this.good, postopXattrs({ dirty: { data: add.data ? 1n : 0n, meta: add.meta ? 1n : 0n } }), null, 'dirty')
    this.#dirty = { data: this.#dirty.data || add.data, meta: this.#dirty.meta || add.meta }
  }

  /** One change done: the version halves it bumps, sent with the next post-op. */
  changed (halves: Halves): void {
    if (halves.data) this.#pending.data++
    if (halves.meta) this.#pending.meta++
  }

  /** Send the version and size changes so far (fsync, flush): the lock stays. */
  async flush (): Promise<void> {
    await Promise.all(this.#ranges.map(r => r.done))
    const dict = postopXattrs({ version: this.#pending, sizeDelta: this.size - this.#sentSize })
    if (dict.size === 0) return
    this.#pending = { data: 0n, meta: 0n }
    this.#sentSize = this.size
    await this.#xattrop(this.good, dict, null, 'post-op')
  }

  /** Run `fn` under this cycle; the cycle ends `idleMs` after its last user (0: right away). */
  async use<R> (fn: () => Promise<R>, idleMs: () => number): Promise<R> {
    if (this.#timer !== undefined) { clearTimeout(this.#timer); this.#timer = undefined }
    this.#users++
    try {
      return await fn()
    } finally {
      if (--this.#users === 0 && this.#ended === undefined) {
        const ms = idleMs()
        if (ms <= 0) void this.end().catch(() => {})
        else { this.#timer = setTimeout(() => { void this.end().catch(() => {}) }, ms); this.#timer.unref() }
      }
    }
  }

  get busy (): boolean { return this.#users > 0 }

  /** Wait for the writes in flight whose fragment range overlaps [from, to), then claim it. */
  async claim (from: number, to: number): Promise<() => void> {
    for (;;) {
      const clash = this.#ranges.filter(r => r.from < to && from < r.to)
      if (clash.length === 0) break
      await Promise.all(clash.map(r => r.done))
    }
    let release!: () => void
    const entry = { from, to, done: new Promise<void>(resolve => { release = resolve }) }
    this.#ranges.push(entry)
    return () => { this.#ranges = this.#ranges.filter(r => r !== entry); release() }
  }

  /**
   * The post-op and the unlock (ec-common.c:ec_update_size_version, ec_unlock_lock): version
   * and size deltas to the good bricks, dirty −1 only when all n bricks took every change
   * (otherwise the dirty mark puts the inode in the bricks' heal index, §7).
   */
  end (): Promise<void> {
    if (this.#ended !== undefined) return this.#ended
    if (this.#timer !== undefined) { clearTimeout(this.#timer); this.#timer = undefined }
    this.#ended = (async () => {
      try {
        await Promise.all(this.#ranges.map(r => r.done))
        const clear = !this.#missed && this.good.length === this.n
        const dirty: EcPair = { data: clear && this.#dirty.data ? -1n : 0n, meta: clear && this.#dirty.meta ? -1n : 0n }
        const dict = postopXattrs({ version: this.#pending, sizeDelta: this.size - this.#sentSize, dirty })
        if (dict.size > 0 && this.good.length > 0) await this.#xattrop(this.good, dict, null, 'post-op')
      } finally {
        this.#onEnd()
        void this.#unlock(this.#strays)
        await this.#unlock(this.locked)
      }
    })()
    return this.#ended
  }
}
