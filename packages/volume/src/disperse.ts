// cluster/disperse as a layer (GlusterFS's ec translator; gluster-disperse.md): files are
// erasure-coded over n = k + r bricks, each brick holding one 512-byte fragment per stripe of
// 512·k bytes. LOOKUP goes to every brick and the answers are combined as ec combines them
// (ec/combine.ts: the largest group of equal version/size/iatt wins); READ decodes from k good
// bricks, chosen as ec's read policy chooses them, trying the next brick when one fails or is
// slow; every change runs in the inode's lock cycle (disperse-lock.ts): entry fops in their
// parent directory's, writes and truncates (disperse-fd.ts) and metadata changes in the
// file's own, so the versions, sizes and dirty marks are the ones the self-heal daemon expects.
import {
  FopProgram, GF_ANON_FD, GlusterError, gfxBin, gfxUint, toGlusterError,
  type GfStatfs, type GfxDict, type GfxIattx,
} from '@gluster-ts/rpc'
import type { BrickClient } from './brick.js'
import type { ClientFd, ClientLayer } from './client-layer.js'
import type { DisperseSpec } from './graph.js'
import { EcLock, fanout, needK, type Halves, type Outcome } from './disperse-lock.js'
import { DisperseFd, ecTruncate, type BrickFdOf, type EcWriteHost } from './disperse-fd.js'
import {
  EC_XATTR, combineLookup, createCodec, ecConfigFor, encodeEcConfig, encodeEcPair, encodeEcSize, firstReadBrick,
  planRead, type EcCodec, type LookupAnswer,
} from './ec/index.js'
import {
  landInto, ownCtx, xdataOf,
  type CreateOpts, type DirEntry, type FopCtx, type Inode, type LockTarget, type LookupOpts, type RenameSide, type WriteOut, type XdataKeys,
} from './layer.js'
import type { ReadTiming } from './replicate.js'
import { FragmentBuffers } from './frag-buffers.js'

const S_IFMT = 0o170000
const S_IFREG = 0o100000
const O_LARGEFILE = 0o100000
const O_TRUNC = 0o1000
const O_APPEND = 0o2000

/** What the layer keeps per inode: the bricks that agreed at LOOKUP, and the file's size then. */
interface EcInode { good: number[], size?: bigint }

const META: Halves = { data: false, meta: true }
const ALL: Halves = { data: true, meta: true }
/** sizes of files we wrote, newer than an older LOOKUP's (bounded) */
const SIZE_CACHE = 4096

const isRegular = (mode: number): boolean => (mode & S_IFMT) === S_IFREG

function enotconn (what: string, o: FopCtx): GlusterError {
  return new GlusterError('ENOTCONN', `ENOTCONN: ${what}${o.path !== undefined ? `, ${o.syscall ?? 'fop'} '${o.path}'` : ''}`,
    { errno: 107, ...(o.path !== undefined ? { path: o.path } : {}), ...(o.syscall !== undefined ? { syscall: o.syscall } : {}) })
}

/** Fops inside a lock cycle run to the end: the caller's signal is not passed down. */
function noSignal<O extends FopCtx> (o: O): Omit<O, 'signal'> {
  const { signal: _s, ...rest } = o
  return rest
}

export class DisperseLayer implements EcWriteHost {
  readonly type = 'cluster/disperse'
  readonly spec: DisperseSpec
  readonly children: readonly ClientLayer[]
  readonly k: number
  readonly n: number
  readonly codec: EcCodec
  readonly attemptTimeoutMs: number
  readonly stragglerMs: number
  readonly #timing: ReadTiming
  readonly #locks = new Map<string, EcLock & { ready?: Promise<void> }>()
  readonly #openFds = new Map<string, number>()
  readonly #sizes = new Map<string, bigint>()
  /** what fragment READs are read into (reused: no garbage per READ) */
  readonly #frags = new FragmentBuffers()
  #rr = 0

  constructor (spec: DisperseSpec, children: ClientLayer[], timing: ReadTiming, writeStragglerMs: number) {
    this.spec = spec
    this.children = children
    this.n = children.length
    this.k = spec.dataBricks
    this.codec = createCodec(this.k, spec.redundancy)
    this.#timing = timing
    this.attemptTimeoutMs = timing.attemptTimeoutMs
    this.stragglerMs = writeStragglerMs
  }

  get name (): string { return this.spec.name }
  get bricks (): readonly BrickClient[] { return this.children.map(c => c.brick) }
  get #upCount (): number { return this.children.filter(c => c.brick.up).length }
  ready (): boolean { return this.#upCount >= this.k }
  whyNot (): string {
    return `${this.name}: ${this.#upCount}/${this.n} bricks up, needs ${this.k} (${this.children.filter(c => !c.brick.up).map(c => `${c.brick.label}: ${c.brick.lastError?.message ?? 'no answer'}`).join('; ')})`
  }

  async close (): Promise<void> {
    await Promise.allSettled([...this.#locks.values()].map(l => l.end()))
  }

  #ctx (inode: Inode, o: FopCtx): EcInode { return ownCtx<EcInode>(this, inode, o) }

  #inode (stat: GfxIattx, xdata: GfxDict, good: number[], size?: bigint): Inode {
    const ctx: EcInode = { good, ...(size !== undefined ? { size } : {}) }
    return { gfid: stat.ia_gfid, stat, xdata, layer: this, ctx }
  }

  #rememberSize (gfid: Buffer, size: bigint): void {
    const key = gfid.toString('hex')
    this.#sizes.delete(key)
    this.#sizes.set(key, size)
    if (this.#sizes.size > SIZE_CACHE) this.#sizes.delete(this.#sizes.keys().next().value!)
  }

  // ---- lock cycles ----

  /**
   * Run `fn` in the lock cycle of `gfid` (a running one, or a new one: lock + pre-op). A cycle
   * ends when its last user leaves: a file's at once, or after eager-lock-timeout while an fd of
   * ours has it open; a directory's after other-eager-lock-timeout (entry fops in a row share
   * one cycle, as ec's other-eager-lock does). Volume.close ends every cycle (close()).
   */
  async #withLock<R> (gfid: Buffer, regular: boolean, modify: Halves, dataFop: boolean, fn: (l: EcLock) => Promise<R>): Promise<R> {
    const key = gfid.toString('hex')
    let l = this.#locks.get(key)
    if (l === undefined || l.ended) {
      const fresh: EcLock & { ready?: Promise<void> } = new EcLock(this, gfid, regular, () => {
        if (this.#locks.get(key) === fresh) this.#locks.delete(key)
        if (fresh.regular && fresh.good.length > 0) this.#rememberSize(gfid, fresh.size)
      })
      this.#locks.set(key, fresh)
      fresh.ready = fresh.begin(modify, dataFop)
      l = fresh
    }
    const lock = l
    return await lock.use(async () => {
      await lock.ready
      if (dataFop) await lock.markDirty(modify)
      return await fn(lock)
    }, () => (!regular ? this.spec.otherEagerLockTimeoutMs : (this.#openFds.get(key) ?? 0) > 0 ? this.spec.eagerLockTimeoutMs : 0))
  }

  withDataLock<R> (gfid: Buffer, fn: (l: EcLock) => Promise<R>): Promise<R> {
    return this.#withLock(gfid, true, ALL, true, fn)
  }

  /** An entry fop: in the lock cycle of each parent (both of a rename), on their common good bricks. */
  async #entry<R> (parents: Inode[], syscall: string, o: FopCtx, fop: (c: ClientLayer, brick: number) => Promise<R>): Promise<Array<Outcome<R> & { ok: true }>> {
    const uniq = [...new Map(parents.map(p => [p.gfid.toString('hex'), p])).entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, p]) => p)
    const run = async (i: number, held: EcLock[]): Promise<Array<Outcome<R> & { ok: true }>> => {
      if (i < uniq.length) return await this.#withLock(uniq[i]!.gfid, false, ALL, false, l => run(i + 1, [...held, l]))
      const good = held.reduce<number[]>((g, l) => g.filter(b => l.good.includes(b)), [...Array(this.n).keys()])
      const out = await fanout(good, b => fop(this.children[b]!, b), held[0]!.straggler)
      let ok: Array<Outcome<R> & { ok: true }> = []
      for (const l of held) { ok = l.took(out, syscall); l.changed(ALL) }
      return ok
    }
    return await run(0, []).catch((err: unknown) => { throw this.#named(err, syscall, o) })
  }

  /** A metadata fop on `inode` in its own lock cycle, on its good bricks. */
  async #meta<R> (inode: Inode, syscall: string, o: FopCtx, fop: (c: ClientLayer) => Promise<R>): Promise<R> {
    const regular = isRegular(inode.stat.mode)
    return await this.#withLock(inode.gfid, regular, META, false, async l => {
      const ok = l.took(await fanout(l.good, b => fop(this.children[b]!), l.straggler), syscall)
      l.changed(META)
      return ok[0]!.value
    }).catch((err: unknown) => { throw this.#named(err, syscall, o) })
  }

  /** Give an error from inside a fan-out the caller's path and syscall when it has none. */
  #named (err: unknown, syscall: string, o: FopCtx): unknown {
    if (err instanceof GlusterError && o.path !== undefined && err.path === undefined) {
      Object.assign(err, { path: o.path, syscall: o.syscall ?? syscall })
    }
    return err
  }

  // ---- lookups ----

  async #lookup (args: { gfid: Buffer, pargfid: Buffer, bname: string }, o: LookupOpts): Promise<Inode> {
    const up = this.children.map((c, i) => (c.brick.up ? i : -1)).filter(i => i >= 0)
    if (up.length < this.k) throw enotconn(`${this.name}: ${up.length} of ${this.n} bricks up, ${this.k} needed`, { ...o, syscall: o.syscall ?? 'lookup' })
    // ec-generic.c:ec_manager_lookup asks every brick for the ec xattrs
    const xdata = xdataOf(o.xdata, { [EC_XATTR.size]: gfxUint(0), [EC_XATTR.version]: gfxUint(0), [EC_XATTR.dirty]: gfxUint(0) })
    const out = await fanout(up, async b => {
      const brick = this.children[b]!.brick
      const r = await brick.call(FopProgram.procs.LOOKUP, { ...args, flags: 0, xdata }, { timeoutMs: this.attemptTimeoutMs, ...(o.signal !== undefined ? { signal: o.signal } : {}) })
      return { brick: b, op_ret: r.op_ret, op_errno: r.op_errno, xdata: r.xdata, stat: r.prestat, postparent: r.poststat } satisfies LookupAnswer
    }, { need: this.k, ms: this.#timing.stragglerMs })
    const answers = out.filter(x => x.ok).map(x => x.value)
    if (answers.length === 0) {
      if (o.signal?.aborted === true) throw o.signal.reason
      throw needK(out, this.k, `${this.name} lookup`)
    }
    const res = combineLookup(answers, this.k, this.n)
    if (res.op_ret < 0) throw toGlusterError(res.op_errno, { syscall: o.syscall ?? 'lookup', ...(o.path !== undefined ? { path: o.path } : {}), brick: this.children[res.good[0]!]!.brick.label })
    const stat = res.stat!
    const first = answers.find(a => a.brick === res.good[0])!
    if (res.size !== undefined && isRegular(stat.mode)) this.#rememberSize(stat.ia_gfid, res.size)
    return this.#inode(stat, first.xdata, res.good, res.size)
  }

  lookup (parent: Inode, name: string, o: LookupOpts = {}): Promise<Inode> {
    return this.#lookup({ gfid: Buffer.alloc(16), pargfid: parent.gfid, bname: name }, o)
  }

  lookupGfid (gfid: Buffer, o: LookupOpts = {}): Promise<Inode> {
    return this.#lookup({ gfid, pargfid: Buffer.alloc(16), bname: '' }, o)
  }

  /** Bricks to read `gfid` from, in ec's order: from the read-policy's first brick on, cyclically. */
  #readOrder (gfid: Buffer, good: readonly number[]): number[] {
    const first = this.spec.readPolicy === 'gfid-hash' ? firstReadBrick(gfid, this.n) : (this.#rr++ % this.n)
    const out: number[] = []
    for (let j = 0; j < this.n; j++) {
      const b = (first + j) % this.n
      if (good.includes(b) && this.children[b]!.brick.up) out.push(b)
    }
    return out
  }

  #goodOf (inode: Inode, o: FopCtx): number[] {
    const l = this.#locks.get(inode.gfid.toString('hex'))
    return l !== undefined && !l.ended && l.good.length > 0 ? l.good : this.#ctx(inode, o).good
  }

  /**
   * READDIRP on one brick (ec-dir-read.c): offsets belong to a brick, so a listing that fails
   * restarts on the next one, skipping the names already given. A regular file's size is its
   * trusted.ec.size (ec_adjust_readdirp).
   */
  async * readdir (dir: Inode, o: FopCtx & { pageBytes?: number, xdata?: XdataKeys } = {}): AsyncGenerator<DirEntry[]> {
    const order = this.#readOrder(dir.gfid, this.#goodOf(dir, o))
    const given = new Set<string>()
    let last: unknown = enotconn(`${this.name}: no good brick is up`, { ...o, syscall: 'readdir' })
    for (const b of order) {
      try {
        for await (const page of this.children[b]!.readdir(dir, { ...o, xdata: { ...o.xdata, [EC_XATTR.size]: gfxUint(0) } })) {
          const fresh: DirEntry[] = []
          for (const e of page) {
            if (given.has(e.name)) continue
            given.add(e.name)
            const sz = e.dict?.get(EC_XATTR.size)
            if (isRegular(e.stat.mode) && sz !== undefined && sz.type === 6 && sz.value.length === 8) {
              e.stat = { ...e.stat, ia_size: sz.value.readBigUInt64BE(0) }
            }
            fresh.push(e)
          }
          if (fresh.length > 0) yield fresh
        }
        return
      } catch (err) {
        if (!(err instanceof GlusterError) || !['ENOTCONN', 'ETIMEDOUT', 'EIO', 'EBADFD', 'ESTALE'].includes(err.code)) throw err
        last = err
      }
    }
    throw last
  }

  // ---- reads ----

  /**
   * READ [fragOffset, +fragSize) of every fragment from k good bricks (anonymous fd), decoded:
   * the user bytes of those stripes (fewer at the end of the file). A brick that fails, or has
   * not answered after the hedge delay, is replaced by the next one (ec_dispatch_next).
   */
  async decodeRange (gfid: Buffer, fragOffset: number, fragSize: number, good: readonly number[], o: FopCtx & { into?: Buffer } = {}): Promise<Buffer> {
    const order = this.#readOrder(gfid, good)
    if (order.length < this.k) throw enotconn(`${this.name}: ${order.length} good bricks up for ${gfid.toString('hex')}, ${this.k} needed`, { ...o, syscall: o.syscall ?? 'read' })
    const got = new Map<number, Buffer>()
    const errors: GlusterError[] = []
    /** the buffers our fragment READs are read into: given back once every READ settled */
    const lent: Array<Buffer | undefined> = []
    const ac = new AbortController()
    const onAbort = (): void => ac.abort(o.signal?.reason)
    o.signal?.addEventListener('abort', onAbort, { once: true })
    let hedge: NodeJS.Timeout | undefined
    try {
      const frags = await new Promise<{ bricks: number[], data: Buffer[] }>((resolve, reject) => {
        let next = 0
        let running = 0
        /** resolves with k fragments of one length when there are; else the largest such group */
        const done = (): number => {
          const byLen = new Map<number, number[]>()
          for (const [b, d] of got) byLen.set(d.length, [...(byLen.get(d.length) ?? []), b])
          let most = 0
          for (const bricks of byLen.values()) {
            if (bricks.length >= this.k) {
              const use = bricks.slice(0, this.k)
              resolve({ bricks: use, data: use.map(b => got.get(b)!) })
              return bricks.length
            }
            most = Math.max(most, bricks.length)
          }
          return most
        }
        const launch = (): void => {
          if (next >= order.length) {
            if (running === 0) reject(errors.find(e => e.code !== 'ENOTCONN') ?? errors[0] ?? enotconn(`${this.name}: fewer than ${this.k} fragments agree`, o))
            return
          }
          const b = order[next++]!
          running++
          const brick = this.children[b]!.brick
          const into = this.#frags.take(fragSize)
          lent.push(into)
          brick.call(FopProgram.procs.READ, { gfid, fd: GF_ANON_FD, offset: BigInt(fragOffset), size: fragSize, flag: O_LARGEFILE, xdata: null },
            { timeoutMs: this.attemptTimeoutMs, signal: ac.signal, ...(into !== undefined ? { into } : {}) }).then(r => {
            if (r.op_ret < 0) throw toGlusterError(r.op_errno, { syscall: 'read', ...(o.path !== undefined ? { path: o.path } : {}), brick: brick.label })
            if (r.data.length % 512 !== 0) throw new GlusterError('EIO', `EIO: ${brick.label} returned ${r.data.length} fragment bytes, not a multiple of 512`, { errno: 5, brick: brick.label })
            got.set(b, r.data)
            running--
            // another brick only when the READs still out cannot make k agreeing fragments (this
            // one disagreed on the length): a fragment that merely came first is no reason to
            // read one more (that read all n fragments of every stripe, n/k times the bytes)
            const most = done()
            if (most < this.k && most + running < this.k) launch()
          }, (err: unknown) => {
            running--
            errors.push(err instanceof GlusterError ? err : new GlusterError('EIO', String(err)))
            if (ac.signal.aborted) { reject(o.signal?.reason ?? err); return }
            launch()
          })
        }
        for (let i = 0; i < this.k; i++) launch()
        const hedgeMs = this.#timing.hedgeAfterMs
        if (hedgeMs > 0) {
          const tick = (): void => { hedge = setTimeout(() => { if (got.size < this.k && next < order.length) { launch(); tick() } }, hedgeMs); hedge.unref() }
          tick()
        }
      }).finally(() => {
        // no more hedges once settled (a failed READ's timer would launch one into the void),
        // and the READs still out stop now (synchronously: none writes into `lent` after this)
        clearTimeout(hedge)
        ac.abort()
      })
      const len = frags.data[0]!.length
      // decoded straight into the caller's buffer when it has room for whole stripes
      const out = o.into !== undefined && o.into.length >= len * this.k ? o.into.subarray(0, len * this.k) : Buffer.allocUnsafe(len * this.k)
      if (len > 0) this.codec.decode(frags.data, frags.bricks, out)
      return out
    } finally {
      o.signal?.removeEventListener('abort', onAbort)
      for (const b of lent) this.#frags.give(b)
    }
  }

  /** The size to read against: our own cycle's, a newer one we wrote, or LOOKUP's. */
  #sizeOf (inode: Inode, o: FopCtx): number {
    const key = inode.gfid.toString('hex')
    const l = this.#locks.get(key)
    if (l !== undefined && !l.ended && l.good.length > 0) return Number(l.size)
    const s = this.#sizes.get(key) ?? this.#ctx(inode, o).size ?? inode.stat.ia_size
    return Number(s)
  }

  async read (inode: Inode, offset: number, size: number, o: FopCtx & { into?: Buffer } = {}): Promise<Buffer> {
    const plan = planRead(offset, size, this.#sizeOf(inode, o), this.k)
    if (plan.length === 0) return landInto(Buffer.alloc(0), o.into, () => '')
    const { into, ...ctx } = o
    const data = await this.decodeRange(inode.gfid, plan.fragOffset, plan.fragSize, this.#goodOf(inode, o), plan.head === 0 && into !== undefined ? { ...ctx, into } : ctx)
    const res = data.subarray(plan.head, Math.min(data.length, plan.head + plan.length))
    return landInto(res, o.into, () => `READ of ${size} bytes at ${offset} of '${o.path ?? inode.gfid.toString('hex')}'`)
  }

  /** A fop that one brick answers: the good bricks in read order until one does. */
  async #one<R> (inode: Inode, syscall: string, o: FopCtx, fop: (c: ClientLayer) => Promise<R>): Promise<R> {
    let last: unknown = enotconn(`${this.name}: no good brick is up`, { ...o, syscall })
    for (const b of this.#readOrder(inode.gfid, this.#goodOf(inode, o))) {
      try { return await fop(this.children[b]!) } catch (err) {
        if (!(err instanceof GlusterError) || !['ENOTCONN', 'ETIMEDOUT'].includes(err.code)) throw err
        last = err
      }
    }
    throw last
  }

  readlink (inode: Inode, o: FopCtx = {}): Promise<string> { return this.#one(inode, 'readlink', o, c => c.readlink(inode, o)) }
  access (inode: Inode, mask: number, o: FopCtx = {}): Promise<void> { return this.#one(inode, 'access', o, c => c.access(inode, mask, o)) }
  getxattr (inode: Inode, name: string | null, o: FopCtx = {}): Promise<GfxDict> { return this.#one(inode, name === null ? 'listxattr' : 'getxattr', o, c => c.getxattr(inode, name, o)) }

  /** Every brick; the smallest free space times k (ec-combine.c:ec_statvfs_combine). */
  async statfs (inode: Inode, o: FopCtx = {}): Promise<GfStatfs> {
    const ok = needK(await fanout(this.#ctx(inode, o).good, b => this.children[b]!.statfs(inode, o)), this.k, `${this.name} statfs`)
    const out = { ...ok[0]!.value }
    for (const key of ['blocks', 'bfree', 'bavail'] as const) {
      out[key] = ok.reduce((m, x) => (x.value[key] < m ? x.value[key] : m), out[key]) * BigInt(this.k)
    }
    return out
  }

  // ---- entries ----

  #created (ok: Array<Outcome<Inode> & { ok: true }>): Inode {
    const first = ok[0]!.value
    return this.#inode(first.stat, first.xdata, ok.map(x => x.brick).sort((a, b) => a - b), isRegular(first.stat.mode) ? 0n : undefined)
  }

  /** The xattrs a new regular file gets on every brick (ec-dir-write.c:ec_manager_create). */
  #fileXattrs (o: CreateOpts): XdataKeys {
    return {
      ...o.xdata,
      [EC_XATTR.config]: gfxBin(encodeEcConfig(ecConfigFor(this.n, this.spec.redundancy))),
      [EC_XATTR.size]: gfxBin(encodeEcSize(0n)),
      [EC_XATTR.version]: gfxBin(encodeEcPair({ data: 0n, meta: 0n })),
    }
  }

  async create (parent: Inode, name: string, flags: number, o: CreateOpts): Promise<{ inode: Inode, fd: DisperseFd }> {
    // O_APPEND and O_TRUNC stay with us: the bricks hold fragments (ec_manager_create)
    const bflags = flags & ~(O_APPEND | O_TRUNC)
    const ok = await this.#entry([parent], 'create', o, c => c.create(parent, name, bflags, { ...noSignal(o), xdata: this.#fileXattrs(o) }))
    const fds: Array<ClientFd | undefined> = this.children.map(() => undefined)
    for (const x of ok) fds[x.brick] = x.value.fd
    const inode = this.#created(ok.map(x => ({ brick: x.brick, ok: true, value: x.value.inode })))
    return { inode, fd: this.#fd(inode.gfid, o.path ?? name, 0, fds) }
  }

  async mknod (parent: Inode, name: string, rdev: bigint, o: CreateOpts): Promise<Inode> {
    const xd = isRegular(o.mode) ? this.#fileXattrs(o) : o.xdata
    return this.#created(await this.#entry([parent], 'mknod', o, c => c.mknod(parent, name, rdev, { ...noSignal(o), ...(xd !== undefined ? { xdata: xd } : {}) })))
  }

  async mkdir (parent: Inode, name: string, o: CreateOpts): Promise<Inode> {
    const xdata = { ...o.xdata, [EC_XATTR.version]: gfxBin(encodeEcPair({ data: 0n, meta: 0n })) }
    return this.#created(await this.#entry([parent], 'mkdir', o, c => c.mkdir(parent, name, { ...noSignal(o), xdata })))
  }

  async symlink (parent: Inode, name: string, target: string, o: CreateOpts): Promise<void> {
    await this.#entry([parent], 'symlink', o, c => c.symlink(parent, name, target, noSignal(o)))
  }

  async link (inode: Inode, parent: Inode, name: string, o: FopCtx = {}): Promise<void> {
    await this.#entry([parent], 'link', o, c => c.link(inode, parent, name, noSignal(o)))
  }

  async unlink (parent: Inode, name: string, inode: Inode, o: FopCtx & { xdata?: XdataKeys } = {}): Promise<GfxDict> {
    const ok = await this.#entry([parent], 'unlink', o, c => c.unlink(parent, name, inode, noSignal(o)))
    this.#sizes.delete(inode.gfid.toString('hex'))
    return ok[0]!.value
  }

  async rmdir (parent: Inode, name: string, inode: Inode, o: FopCtx = {}): Promise<void> {
    await this.#entry([parent], 'rmdir', o, c => c.rmdir(parent, name, inode, noSignal(o)))
  }

  async rename (from: Required<RenameSide>, to: RenameSide, o: FopCtx = {}): Promise<void> {
    await this.#entry([from.parent, to.parent], 'rename', o, c => c.rename(from, to, noSignal(o)))
  }

  // ---- inode changes ----

  setattr (inode: Inode, valid: number, stbuf: GfxIattx, o: FopCtx = {}): Promise<void> {
    return this.#meta(inode, 'setattr', o, c => c.setattr(inode, valid, stbuf, noSignal(o)))
  }

  setxattr (inode: Inode, dict: GfxDict, flags: number, o: FopCtx & { xdata?: XdataKeys } = {}): Promise<void> {
    for (const key of dict?.keys() ?? []) {
      if (key.startsWith('trusted.ec.')) throw new GlusterError('EPERM', `EPERM: ${key} belongs to the disperse translator, setxattr '${o.path ?? inode.gfid.toString('hex')}'`, { errno: 1, syscall: 'setxattr', ...(o.path !== undefined ? { path: o.path } : {}) })
    }
    return this.#meta(inode, 'setxattr', o, c => c.setxattr(inode, dict, flags, noSignal(o)))
  }

  removexattr (inode: Inode, name: string, o: FopCtx = {}): Promise<void> {
    return this.#meta(inode, 'removexattr', o, c => c.removexattr(inode, name, noSignal(o)))
  }

  async xattropGfid (gfid: Buffer, flags: number, dict: GfxDict, o: FopCtx & { xdata?: XdataKeys } = {}): Promise<GfxDict> {
    const inode: Inode = { gfid, stat: { ia_gfid: gfid, mode: S_IFREG } as GfxIattx, xdata: null, layer: this, ctx: { good: [...Array(this.n).keys()] } }
    return await this.#withLock(gfid, true, META, false, async l => {
      const ok = l.took(await fanout(l.good, b => this.children[b]!.xattrop(inode, flags, dict, noSignal(o))), 'xattrop')
      return ok[0]!.value
    })
  }

  xattrop (inode: Inode, flags: number, dict: GfxDict, o: FopCtx & { xdata?: XdataKeys } = {}): Promise<GfxDict> {
    return this.#meta(inode, 'xattrop', o, c => c.xattrop(inode, flags, dict, noSignal(o)))
  }

  async truncate (inode: Inode, len: number, o: FopCtx = {}, _out?: WriteOut): Promise<void> {
    await ecTruncate(this, inode.gfid, len, async (b, fragSize) => { await this.children[b]!.truncate(inode, fragSize, noSignal(o)) })
      .catch((err: unknown) => { throw this.#named(err, 'truncate', o) })
  }

  async syncGfid (gfid: Buffer, fdOf: BrickFdOf): Promise<void> {
    const l = this.#locks.get(gfid.toString('hex'))
    if (l !== undefined && !l.ended) {
      await this.withDataLock(gfid, async l => {
        await l.flush()
        l.took(await fanout(l.good, b => fdOf(b).sync()), 'fsync')
      })
      return
    }
    const up = this.children.map((c, b) => (c.brick.up ? b : -1)).filter(b => b >= 0)
    needK(await fanout(up, b => fdOf(b).sync()), this.k, `${this.name} fsync`)
  }

  // ---- fds ----

  /** An fd; an open one (not anonymous) keeps the inode's lock cycle eager until it closes. */
  #fd (gfid: Buffer, path: string, size: number, fds: Array<ClientFd | undefined>, counted = true): DisperseFd {
    const key = gfid.toString('hex')
    if (counted) this.#openFds.set(key, (this.#openFds.get(key) ?? 0) + 1)
    return new DisperseFd(this, gfid, path, size, fds, counted)
  }

  async fdClosed (fd: DisperseFd): Promise<void> {
    const key = fd.gfid.toString('hex')
    if (!fd.counted) return
    const left = (this.#openFds.get(key) ?? 1) - 1
    if (left > 0) { this.#openFds.set(key, left); return }
    this.#openFds.delete(key)
    const l = this.#locks.get(key)
    if (l !== undefined && !l.busy) await l.end()
  }

  async open (inode: Inode, flags: number, o: FopCtx = {}): Promise<DisperseFd> {
    const good = this.#ctx(inode, o).good
    const bflags = flags & ~(O_APPEND | O_TRUNC)
    const out = await fanout(good.filter(b => this.children[b]!.brick.up), b => this.children[b]!.open(inode, bflags, o))
    const ok = needK(out, this.k, `${this.name} open`)
    const fds: Array<ClientFd | undefined> = this.children.map(() => undefined)
    for (const x of ok) fds[x.brick] = x.value
    return this.#fd(inode.gfid, o.path ?? '', this.#sizeOf(inode, o), fds)
  }

  anonymous (inode: Inode, path: string): DisperseFd {
    return this.#fd(inode.gfid, path, this.#sizeOf(inode, {}), this.children.map(() => undefined), false)
  }

  /** A lock for the layers above: on every brick that is up, k needed. */
  async lock (target: LockTarget, domain: string, o: FopCtx = {}): Promise<() => Promise<void>> {
    const up = this.children.map((c, b) => (c.brick.up ? b : -1)).filter(b => b >= 0)
    const out = await fanout(up, b => this.children[b]!.lock(target, domain, o))
    const releases = out.filter(x => x.ok).map(x => x.value)
    try { needK(out, this.k, `${this.name} lock`) } catch (err) {
      await Promise.allSettled(releases.map(r => r()))
      throw err
    }
    return async () => { await Promise.allSettled(releases.map(r => r())) }
  }
}
