// cluster/replicate, write side (gluster-cluster.md §4): the AFR transaction every modifying fop
// runs in, so that real GlusterFS clients, the self-heal daemon and `heal info` see our writes
// as their own:
//
//   quorum check → LOCK (inodelk / entrylk in the domain named after the replicate xlator,
//   non-blocking on every child at once, then blocking in child order on contention) → PRE-OP
//   (XATTROP ADD_ARRAY: trusted.afr.dirty +1 at the type's index) → the FOP on every locked
//   child → POST-OP (dirty −1, trusted.afr.<child F> +1 on the survivors for every child F that
//   missed it) → UNLOCK.
//
// As in AFR, metadata and entry transactions skip the pre-op when every child is locked
// ("optimistic changelog"), and the post-op when then nothing failed (the capture of a FUSE
// create shows no XATTROP at all). The lk-owner is per transaction and travels in the
// credential of the lock calls and of the XATTROPs under them (as in the capture).
//
// A hung brick: once a quorum of children answered a phase, the rest get `stragglerMs` more;
// a child still silent then is left out of the transaction (and blamed in the post-op), and is
// suspected (probed; avoided while it does not answer). A lock it grants later is released at
// once. A pure distribute leaf (a "replica set" of one) has no AFR: fops go straight through.
import { randomBytes } from 'node:crypto'
import {
  FopProgram, GlusterError, GfEntrylkCmd, GfEntrylkType, GfLkCmd, GfLkType, GfXattropFlags,
  gfxBin, gfxStr, toGlusterError, type GfxDict, type GfxValue,
} from '@gluster-ts/rpc'
import type { Replicate } from './replicate.js'
import type { BrickClient } from './brick.js'

export type TxnType = 'data' | 'metadata' | 'entry'
/** index of the counter in the 12-byte changelog value */
export const TXN_INDEX: Readonly<Record<TxnType, 0 | 1 | 2>> = { data: 0, metadata: 1, entry: 2 }

/** Where metadata locks sit: far past any data range, so they conflict only with whole-file locks. */
const METADATA_LOCK_START = 9223372036854775806n // LLONG_MAX - 1

export interface WriteTiming {
  /** deadline of one call on one brick, ms */
  attemptTimeoutMs: number
  /** once a quorum answered a phase, how long the others get before they are left out, ms */
  stragglerMs: number
}

/** What a transaction locks: an inode (data/metadata) or a name in a directory (entry). */
export type Lockee =
  | { kind: 'inode', gfid: Buffer }
  | { kind: 'entry', gfid: Buffer, name: string | null }

/** Where the changelog (pre-op/post-op XATTROPs) goes: the inode, or the parent(s) of an entry fop. */
export interface ChangelogTarget {
  gfid: Buffer
  /** entry txns: the name, for granular entry heal's xattrop-entry-create/-delete */
  name?: string
}

export interface TxnOptions {
  timing: WriteTiming
  syscall: string
  path?: string
  signal?: AbortSignal
  /** an open fd per child: locks and XATTROPs go by fd (FINODELK/FXATTROP), as FUSE's do */
  fd?: (child: number) => bigint | undefined
  /** lock domain (default: the replicate xlator's name) */
  domain?: string
}

interface FopReply { op_ret: number, op_errno: number }

type Outcome<R> = { ok: true, res: R } | { ok: false, err: unknown }

function abortErr (signal: AbortSignal): unknown {
  if (signal.reason !== undefined) return signal.reason
  const e = new GlusterError('ABORT_ERR', 'The operation was aborted')
  e.name = 'AbortError'
  return e
}

/** A 12-byte changelog value with `v` at index `idx`. */
export function changelog (idx: number, v: number): Buffer {
  const b = Buffer.alloc(12)
  b.writeInt32BE(v, idx * 4)
  return b
}

function sortLockees (ls: Lockee[]): Lockee[] {
  // a fixed order (gfid, then NULL name first, then name) so two clients never wait on each other
  return [...ls].sort((a, b) => {
    const g = Buffer.compare(a.gfid, b.gfid)
    if (g !== 0) return g
    const an = a.kind === 'entry' ? a.name : null
    const bn = b.kind === 'entry' ? b.name : null
    if (an === bn) return 0
    if (an === null) return -1
    if (bn === null) return 1
    return an < bn ? -1 : 1
  })
}

export class AfrTxn {
  readonly sv: Replicate
  readonly type: TxnType
  readonly owner: Buffer = randomBytes(8)
  readonly n: number
  /** children still in the transaction */
  readonly active: boolean[]
  /** children that missed something: down at the start, lock refused, fop failed, too late */
  readonly failed: boolean[]
  /** children whose fop succeeded at least once */
  readonly succeeded: boolean[]
  /** children that failed a metadata fop run inside this (data) transaction: blamed for metadata too */
  readonly #metaFailed: boolean[]
  readonly #o: TxnOptions
  readonly #lockees: Lockee[]
  readonly #targets: ChangelogTarget[]
  /** granted locks: lockee index → children */
  readonly #granted: Array<Set<number>>
  #preop: boolean[]
  #finished = false
  #newInode: { gfid: Buffer, isDir: boolean } | undefined
  readonly #afr: boolean

  constructor (sv: Replicate, type: TxnType, lockees: Lockee[], targets: ChangelogTarget[], o: TxnOptions) {
    this.sv = sv
    this.type = type
    this.n = sv.children.length
    this.#o = o
    this.#lockees = sortLockees(lockees)
    this.#targets = targets
    this.#granted = this.#lockees.map(() => new Set<number>())
    this.active = new Array<boolean>(this.n).fill(false)
    this.failed = new Array<boolean>(this.n).fill(false)
    this.succeeded = new Array<boolean>(this.n).fill(false)
    this.#metaFailed = new Array<boolean>(this.n).fill(false)
    this.#preop = new Array<boolean>(this.n).fill(false)
    this.#afr = this.n > 1
  }

  get need (): number { return Math.max(1, this.sv.spec.quorumCount) }
  get granularEntryHeal (): boolean { return /^(on|yes|true|enable|1)$/i.test(this.sv.spec.options.get('granular-entry-heal') ?? 'on') }

  #extra (brick?: BrickClient): { syscall: string, path?: string, brick?: string } {
    return { syscall: this.#o.syscall, ...(this.#o.path !== undefined ? { path: this.#o.path } : {}), ...(brick !== undefined ? { brick: brick.label } : {}) }
  }

  quorumError (what: string): GlusterError {
    const ok = this.sv.children.filter((_, i) => this.active[i] === true).map(c => c.label)
    const out = this.sv.children.map((c, i) => ({ c, i })).filter(x => this.active[x.i] !== true)
      .map(x => `${x.c.label}: ${x.c.up ? (x.c.slow ? 'not answering' : 'failed') : `down${x.c.lastError !== undefined ? ` (${x.c.lastError.message})` : ''}`}`)
    return new GlusterError('EGLUSTER_NO_QUORUM',
      `EGLUSTER_NO_QUORUM: ${this.#o.syscall}${this.#o.path !== undefined ? ` '${this.#o.path}'` : ''}: ${what}: replica set ${this.sv.name} has ${ok.length} of ${this.n} bricks, needs ${this.need}; nothing was written${out.length > 0 ? ` (${out.join('; ')})` : ''}`,
      this.#extra())
  }

  #drop (i: number): void {
    this.active[i] = false
    this.failed[i] = true
  }

  #count (): number { return this.active.filter(Boolean).length }

  /**
   * Run `call` on every child in `who` at once. Resolves when all answered, or when a quorum
   * answered well and the rest had stragglerMs more; those are reported as timed out (their
   * call goes on: `late` gets its answer).
   */
  #phase<R> (who: number[], call: (i: number, b: BrickClient) => Promise<R>, late?: (i: number, r: R) => void): Promise<Map<number, Outcome<R>>> {
    const out = new Map<number, Outcome<R>>()
    if (who.length === 0) return Promise.resolve(out)
    const need = Math.min(this.need, who.length)
    return new Promise(resolve => {
      let settled = 0
      let good = 0
      let done = false
      let timer: NodeJS.Timeout | undefined
      const finish = (): void => {
        if (done) return
        done = true
        if (timer !== undefined) clearTimeout(timer)
        for (const i of who) {
          if (out.has(i)) continue
          const b = this.sv.children[i]!
          b.suspect()
          out.set(i, { ok: false, err: new GlusterError('ETIMEDOUT', `ETIMEDOUT: ${this.#o.syscall}${this.#o.path !== undefined ? ` '${this.#o.path}'` : ''}: brick ${b.label} did not answer within ${this.#o.timing.stragglerMs} ms of the others; left out (marked for heal)`, { ...this.#extra(b), errno: 110 }) })
        }
        resolve(out)
      }
      for (const i of who) {
        const b = this.sv.children[i]!
        call(i, b).then(res => {
          if (done) { late?.(i, res); return }
          // a raw reply carries its own status; a layer's result came back only on success
          const rr = res as Partial<FopReply> | undefined
          if (rr?.op_ret !== undefined && rr.op_ret < 0) out.set(i, { ok: false, err: toGlusterError(rr.op_errno ?? 5, this.#extra(b)) })
          else { out.set(i, { ok: true, res }); good++ }
        }, (err: unknown) => {
          if (done) return
          out.set(i, { ok: false, err })
        }).finally(() => {
          if (done) return
          settled++
          if (settled === who.length) { finish(); return }
          if (timer === undefined && good >= need && this.#o.timing.stragglerMs > 0) timer = setTimeout(finish, this.#o.timing.stragglerMs)
        })
      }
    })
  }

  #checkAbort (): void {
    if (this.#o.signal?.aborted === true) throw abortErr(this.#o.signal)
  }

  #activeList (): number[] { return this.active.flatMap((a, i) => (a ? [i] : [])) }

  /** Quorum check, locks, pre-op. Throws (with every lock released) when quorum is not met. */
  async begin (): Promise<void> {
    this.#checkAbort()
    const kids = this.sv.children
    // a brick known to be slow is left out from the start, unless we need it for quorum
    kids.forEach((c, i) => { this.active[i] = c.usable })
    if (this.#count() < this.need) kids.forEach((c, i) => { this.active[i] = c.up })
    kids.forEach((_, i) => { if (!this.active[i]) this.failed[i] = true })
    if (!this.#afr) {
      if (this.#count() === 0) throw new GlusterError('ENOTCONN', `ENOTCONN: ${this.#o.syscall}${this.#o.path !== undefined ? ` '${this.#o.path}'` : ''}: brick ${kids[0]!.label} is not connected`, this.#extra(kids[0]!))
      return
    }
    if (this.#count() < this.need) throw this.quorumError('before locking')
    await this.#lock()
    if (this.#count() < this.need) {
      await this.#unlock()
      throw this.quorumError('after locking')
    }
    try {
      this.#checkAbort()
      // optimistic changelog: metadata/entry txns with every child locked skip the pre-op
      if (this.type === 'data' || this.failed.some(Boolean)) await this.#changelog('pre')
      if (this.#count() < this.need) throw this.quorumError('after the pre-op')
    } catch (err) {
      await this.#unlock()
      this.#finished = true
      throw err
    }
  }

  #lockArgs (l: Lockee, i: number, mode: 'nb' | 'block' | 'unlock'): { run: (b: BrickClient) => Promise<FopReply> } {
    const domain = this.#o.domain ?? this.sv.name
    const timeoutMs = 0 // a lock is never abandoned locally: a late grant must be seen (and released)
    if (l.kind === 'entry') {
      const cmd = mode === 'nb' ? GfEntrylkCmd.LOCK_NB : mode === 'block' ? GfEntrylkCmd.LOCK : GfEntrylkCmd.UNLOCK
      const args = { gfid: l.gfid, cmd, type: GfEntrylkType.WRLCK, namelen: l.name === null ? 0n : 1n, name: l.name ?? '', volume: domain, xdata: null }
      return { run: b => b.call(FopProgram.procs.ENTRYLK, args, { cred: b.lockCred(this.owner), timeoutMs }) }
    }
    const type = mode === 'unlock' ? GfLkType.UNLCK : GfLkType.WRLCK
    const flock = { type, whence: 0, start: this.type === 'metadata' ? METADATA_LOCK_START : 0n, len: 0n, pid: 0, lk_owner: Buffer.alloc(0) }
    const cmd = mode === 'block' ? GfLkCmd.SETLKW : GfLkCmd.SETLK
    const fd = this.#o.fd?.(i)
    if (fd !== undefined) {
      return { run: b => b.call(FopProgram.procs.FINODELK, { gfid: l.gfid, fd, cmd, type, flock, volume: domain, xdata: null }, { cred: b.lockCred(this.owner), timeoutMs }) }
    }
    return { run: b => b.call(FopProgram.procs.INODELK, { gfid: l.gfid, cmd, type, flock, volume: domain, xdata: null }, { cred: b.lockCred(this.owner), timeoutMs }) }
  }

  #lateGrant (k: number) {
    return (i: number, r: FopReply): void => {
      if (r.op_ret < 0) return
      // granted after we gave up on this child: give it back at once
      this.#lockArgs(this.#lockees[k]!, i, 'unlock').run(this.sv.children[i]!).catch(() => {})
    }
  }

  async #lock (): Promise<void> {
    // 1. non-blocking on every child, every lockee, at once
    let contention = false
    const per = await Promise.all(this.#lockees.map((l, k) => this.#phase(this.#activeList(), (i, b) => this.#lockArgs(l, i, 'nb').run(b), this.#lateGrant(k))))
    per.forEach((res, k) => {
      for (const [i, o] of res) {
        if (o.ok) this.#granted[k]!.add(i)
        else if (o.err instanceof GlusterError && o.err.code === 'EAGAIN') contention = true
        else this.#drop(i)
      }
    })
    if (!contention) return
    // 2. someone else holds one: release ours and queue behind them, lockee by lockee, child by child
    await this.#unlock()
    for (const [k, l] of this.#lockees.entries()) {
      for (const i of this.#activeList()) {
        const r = await this.#phase([i], (_, b) => this.#lockArgs(l, i, 'block').run(b), this.#lateGrant(k))
        const o = r.get(i)!
        if (o.ok) this.#granted[k]!.add(i)
        else this.#drop(i)
      }
    }
  }

  async #unlock (): Promise<void> {
    const jobs = this.#lockees.map(async (l, k) => {
      const who = [...this.#granted[k]!]
      this.#granted[k]!.clear()
      await this.#phase(who, (i, b) => this.#lockArgs(l, i, 'unlock').run(b))
    })
    await Promise.all(jobs)
  }

  /** The XATTROP of a pre-op or post-op on `who`, for every changelog target. */
  async #xattrop (who: number[], dictFor: (i: number) => GfxDict, xdataFor: (t: ChangelogTarget) => GfxDict, gfid?: Buffer): Promise<Map<number, Outcome<FopReply>>> {
    const targets = gfid !== undefined ? [{ gfid }] : this.#targets
    const all = await Promise.all(targets.map(t => this.#phase(who, (i, b) => {
      const fd = gfid === undefined && this.type !== 'entry' ? this.#o.fd?.(i) : undefined
      const opts = { cred: b.lockCred(this.owner), timeoutMs: this.#o.timing.attemptTimeoutMs }
      return fd !== undefined
        ? b.call(FopProgram.procs.FXATTROP, { gfid: t.gfid, fd, flags: GfXattropFlags.ADD_ARRAY, dict: dictFor(i), xdata: xdataFor(t) }, opts)
        : b.call(FopProgram.procs.XATTROP, { gfid: t.gfid, flags: GfXattropFlags.ADD_ARRAY, dict: dictFor(i), xdata: xdataFor(t) }, opts)
    })))
    // a child counts as done only when every target's xattrop went through
    const merged = new Map<number, Outcome<FopReply>>()
    for (const i of who) {
      const bad = all.map(m => m.get(i)).find(o => o === undefined || !o.ok)
      merged.set(i, bad ?? all[0]!.get(i)!)
    }
    return merged
  }

  #pendingDict (values: (key: number) => Buffer, dirty: Buffer): GfxDict {
    const d = new Map<string, GfxValue>()
    d.set('trusted.afr.dirty', gfxBin(dirty))
    this.sv.spec.pendingXattrs.forEach((k, j) => d.set(`trusted.afr.${k}`, gfxBin(values(j))))
    return d
  }

  async #changelog (phase: 'pre' | 'post'): Promise<void> {
    if (this.#targets.length === 0) return // a lock-only transaction (DHT's locks)
    const idx = TXN_INDEX[this.type]
    const zero = Buffer.alloc(12)
    const entry = this.type === 'entry' && this.granularEntryHeal
    if (phase === 'pre') {
      const who = this.#activeList()
      const dict = this.#pendingDict(() => zero, changelog(idx, 1))
      const r = await this.#xattrop(who, () => dict, t => (entry && t.name !== undefined ? new Map([['glusterfs.xattrop-entry-create', gfxStr(t.name)]]) : null))
      for (const [i, o] of r) {
        if (o.ok) this.#preop[i] = true
        else this.#drop(i)
      }
      return
    }
    // post-op on the children where the fop went through; blame every child that missed it
    const who = this.#activeList().filter(i => this.succeeded[i])
    const anyFailed = this.failed.some(Boolean)
    if (who.length === 0) return // failed everywhere: the pre-op's dirty stays for heal to judge
    if (!anyFailed && !who.some(i => this.#preop[i])) return
    if (this.#newInode !== undefined && anyFailed) {
      // a new object that some children lack: mark it so heal creates it there
      const m = this.#newInode.isDir ? [1, 1, 1] : [1, 1, 0]
      const v = Buffer.alloc(12)
      m.forEach((x, k) => v.writeInt32BE(x, k * 4))
      const dict = this.#pendingDict(j => (this.failed[j] ? v : zero), zero)
      await this.#xattrop(who, () => dict, () => null, this.#newInode.gfid)
    }
    const blame = changelog(idx, 1)
    const blameBoth = Buffer.from(blame)
    blameBoth.writeInt32BE(1, TXN_INDEX.metadata * 4)
    await this.#xattrop(who, i => this.#pendingDict(j => (this.failed[j] ? (this.#metaFailed[j] ? blameBoth : blame) : zero), this.#preop[i] ? changelog(idx, -1) : zero),
      t => (entry && t.name !== undefined ? new Map([[anyFailed ? 'glusterfs.xattrop-entry-create' : 'glusterfs.xattrop-entry-delete', gfxStr(t.name)]]) : null))
  }

  /** The new object an entry fop creates (marked for heal on the children that missed it). */
  created (gfid: Buffer, isDir: boolean): void { this.#newInode = { gfid, isDir } }

  /**
   * The fop on every child still in the transaction. Children that fail leave it. Returns the
   * replies of those that succeeded; throws the error when it failed everywhere, and
   * EGLUSTER_NO_QUORUM when it went through on too few.
   */
  async fop<R> (call: (i: number, b: BrickClient, timeoutMs: number) => Promise<R>, o: { metadata?: boolean } = {}): Promise<Map<number, R>> {
    const who = this.#activeList()
    if (who.length === 0) throw this.quorumError('no brick left')
    const r = await this.#phase(who, (i, b) => call(i, b, this.#o.timing.attemptTimeoutMs))
    const ok = new Map<number, R>()
    let firstErr: unknown
    for (const i of who) {
      const x = r.get(i)!
      if (x.ok) {
        ok.set(i, x.res)
        this.succeeded[i] = true
      } else {
        firstErr ??= x.err
        this.#drop(i)
        if (o.metadata === true) this.#metaFailed[i] = true
      }
    }
    if (ok.size === 0) throw firstErr
    if (this.#afr && ok.size < Math.min(this.need, this.n)) {
      // AFR reports the fop failed; the children where it went through keep it (dirty marks it)
      const e = this.quorumError('too few bricks applied it')
      throw e
    }
    return ok
  }

  /**
   * Post-op and unlock. Idempotent. `alongside` runs with the unlock (a close sends FLUSH
   * together with the unlock, as FUSE does).
   */
  async finish (alongside?: () => Promise<void>): Promise<void> {
    if (this.#finished) { await alongside?.(); return }
    this.#finished = true
    if (!this.#afr) { await alongside?.(); return }
    try {
      await this.#changelog('post')
    } finally {
      await Promise.all([this.#unlock(), alongside?.()])
    }
  }

  /** begin → body → finish (finish runs even when body throws). */
  static async run<T> (sv: Replicate, type: TxnType, lockees: Lockee[], targets: ChangelogTarget[], o: TxnOptions, body: (t: AfrTxn) => Promise<T>): Promise<T> {
    const t = new AfrTxn(sv, type, lockees, targets, o)
    await t.begin()
    let v: T
    try {
      v = await body(t)
    } catch (err) {
      await t.finish().catch(() => {})
      throw err
    }
    await t.finish()
    return v
  }
}
