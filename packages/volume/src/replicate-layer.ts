// cluster/replicate as a layer: reads through the AFR read engine (replicate.ts: LOOKUP on every
// brick, readable copies, failover, hedging), every change in an AFR transaction (afr-txn.ts:
// locks, changelog, quorum) whose fop is wound to each child through its protocol/client layer,
// and files open for writing as AFR fds with an eager lock (write-file.ts). A pure distribute
// volume's bare brick is not this layer: it is the protocol/client layer itself.
import { GlusterError, GfOpenFlags, type GfStatfs, type GfxDict, type GfxIattx } from '@gluster-ts/rpc'
import type { BrickClient } from './brick.js'
import { ClientLayer, type ClientFd } from './client-layer.js'
import { Replicate, type ReplicaLookup } from './replicate.js'
import { AfrTxn, type ChangelogTarget, type Lockee, type TxnType, type WriteTiming } from './afr-txn.js'
import { WritableFile, type BrickFd } from './write-file.js'
import {
  landInto, ownCtx,
  type CreateOpts, type DirEntry, type FopCtx, type Inode, type Layer, type LockTarget, type LookupOpts, type RenameSide, type WriteOut, type XdataKeys,
} from './layer.js'

const S_IFMT = 0o170000
const S_IFDIR = 0o040000
const O_LARGEFILE = 0o100000

/** What AFR keeps per inode: which copies are good. */
interface AfrInode { readable: boolean[] }

export interface WriteSettings {
  timing: WriteTiming
  /** AFR post-op-delay-secs, ms */
  postOpDelayMs: number
  /** FSYNC before the post-op (AFR ensure-durability) */
  ensureDurability: boolean
}

function enotconn (syscall: string, path: string | undefined, why: string): GlusterError {
  return new GlusterError('ENOTCONN', `ENOTCONN: ${why}${path !== undefined ? `, ${syscall} '${path}'` : ''}`, { syscall, errno: 107, ...(path !== undefined ? { path } : {}) })
}

export class ReplicateLayer implements Layer {
  readonly type = 'cluster/replicate'
  /** the read engine (and the spec, the brick connections, the timing) */
  readonly afr: Replicate
  /** one protocol/client layer per child, the transactions' fops go through them */
  readonly children: readonly ClientLayer[]
  readonly #w: WriteSettings
  readonly #byBrick: Map<BrickClient, ClientLayer>

  constructor (afr: Replicate, w: WriteSettings) {
    this.afr = afr
    this.#w = w
    this.children = afr.children.map(b => new ClientLayer(b, { attemptTimeoutMs: afr.timing.attemptTimeoutMs }))
    this.#byBrick = new Map(this.children.map(c => [c.brick, c]))
  }

  get name (): string { return this.afr.name }
  get bricks (): readonly BrickClient[] { return this.afr.children }
  get #need (): number { return Math.max(1, this.afr.spec.quorumCount) }
  ready (): boolean { return this.afr.upCount >= this.#need }
  whyNot (): string {
    const a = this.afr
    return `${a.name}: ${a.upCount}/${a.children.length} up, needs ${this.#need} (${a.children.filter(c => !c.up).map(c => `${c.label}: ${c.lastError?.message ?? 'no answer'}`).join('; ')})`
  }

  #inode (r: ReplicaLookup): Inode {
    return { gfid: r.stat.ia_gfid, stat: r.stat, xdata: r.xdata, layer: this, ctx: { readable: r.readable } satisfies AfrInode }
  }

  #client (b: BrickClient): ClientLayer { return this.#byBrick.get(b)! }

  #ctx (o: FopCtx): { signal?: AbortSignal, path?: string } {
    return { ...(o.signal !== undefined ? { signal: o.signal } : {}), ...(o.path !== undefined ? { path: o.path } : {}) }
  }

  // ---- reads ----

  async lookup (parent: Inode, name: string, o: LookupOpts = {}): Promise<Inode> {
    return this.#inode(await this.afr.lookup({ pargfid: parent.gfid, name, ...(o.xdata !== undefined ? { extra: o.xdata } : {}) }, this.#ctx(o)))
  }

  async lookupGfid (gfid: Buffer, o: LookupOpts = {}): Promise<Inode> {
    return this.#inode(await this.afr.lookup({ gfid, ...(o.xdata !== undefined ? { extra: o.xdata } : {}) }, this.#ctx(o)))
  }

  /**
   * READDIRP on one readable copy; if that brick fails mid-listing, the listing restarts on
   * another copy, skipping the names already given.
   */
  async * readdir (dir: Inode, o: FopCtx & { pageBytes?: number, xdata?: XdataKeys } = {}): AsyncGenerator<DirEntry[]> {
    const readable = ownCtx<AfrInode>(this, dir, o).readable
    const given = new Set<string>()
    const tried = new Set<number>()
    for (;;) {
      const child = this.afr.pickChild(dir.gfid, readable, true, tried)
      if (child < 0) throw enotconn('readdir', o.path, `no readable copy left in ${this.name}`)
      tried.add(child)
      try {
        for await (const page of this.children[child]!.readdir(dir, o)) {
          const fresh = page.filter(e => !given.has(e.name))
          for (const e of fresh) given.add(e.name)
          if (fresh.length > 0) yield fresh
        }
        return
      } catch (err) {
        if (err instanceof GlusterError && (err.code === 'ABORT_ERR' || err.code === 'ENOENT' || err.code === 'ENOTDIR' || err.code === 'EACCES')) throw err
        if ((err as { name?: string }).name === 'AbortError') throw err
        // another copy, from the start, skipping what was given
      }
    }
  }

  #readOp<R> (syscall: string, inode: Inode, o: FopCtx, call: (c: ClientLayer, signal: AbortSignal) => Promise<R>): Promise<R> {
    const readable = ownCtx<AfrInode>(this, inode, o).readable
    const isDir = (inode.stat.mode & S_IFMT) === S_IFDIR
    return this.afr.readOp(syscall, inode.gfid, readable, (b, signal) => call(this.#client(b), signal), { ...this.#ctx(o), isDir }).then(r => r.res)
  }

  readlink (inode: Inode, o: FopCtx = {}): Promise<string> {
    return this.#readOp('readlink', inode, o, (c, signal) => c.readlink(inode, { ...o, signal }))
  }

  access (inode: Inode, mask: number, o: FopCtx = {}): Promise<void> {
    return this.#readOp('access', inode, o, (c, signal) => c.access(inode, mask, { ...o, signal }))
  }

  statfs (inode: Inode, o: FopCtx = {}): Promise<GfStatfs> {
    return this.#readOp('statfs', inode, o, (c, signal) => c.statfs(inode, { ...o, signal }))
  }

  getxattr (inode: Inode, name: string | null, o: FopCtx = {}): Promise<GfxDict> {
    return this.#readOp(name === null ? 'listxattr' : 'getxattr', inode, o, (c, signal) => c.getxattr(inode, name, { ...o, signal }))
  }

  /** READ through the anonymous fd of a good copy (failover, hedging; `into` when it runs alone). */
  async read (inode: Inode, offset: number, size: number, o: FopCtx & { into?: Buffer } = {}): Promise<Buffer> {
    const readable = ownCtx<AfrInode>(this, inode, o).readable
    const { res } = await this.afr.read(inode.gfid, offset, size, readable, { ...this.#ctx(o), ...(o.into !== undefined ? { into: o.into } : {}) })
    return landInto(res.data, o.into, () => `READ of ${size} bytes at ${offset} of '${o.path ?? inode.gfid.toString('hex')}'`)
  }

  // ---- transactions ----

  #txnOpts (syscall: string, o: FopCtx, domain?: string): ConstructorParameters<typeof AfrTxn>[4] {
    return { timing: this.#w.timing, syscall: o.syscall ?? syscall, ...(o.path !== undefined ? { path: o.path } : {}), ...(o.signal !== undefined ? { signal: o.signal } : {}), ...(domain !== undefined ? { domain } : {}) }
  }

  /**
   * The context of a fop inside a transaction: no signal (a write that has taken its locks
   * finishes its transaction; the transaction checks the signal between its steps).
   */
  #inTxn<O extends FopCtx> (o: O): Omit<O, 'signal'> {
    const { signal: _s, ...rest } = o
    return rest
  }

  /** An entry transaction: lock (parent, name) for each name, the fop on every child, changelog on the parents. */
  async #entry<R> (syscall: string, names: Array<{ parent: Buffer, name: string }>, o: FopCtx, call: (c: ClientLayer) => Promise<R>,
    x: { created?: { gfid: Buffer, isDir: boolean }, wholeDir?: Buffer[] } = {}): Promise<Map<number, R>> {
    const lockees: Lockee[] = names.map(n => ({ kind: 'entry', gfid: n.parent, name: n.name }))
    for (const g of x.wholeDir ?? []) lockees.push({ kind: 'entry', gfid: g, name: null })
    const targets: ChangelogTarget[] = names.map(n => ({ gfid: n.parent, name: n.name }))
    return await AfrTxn.run(this.afr, 'entry', lockees, targets, this.#txnOpts(syscall, o), async t => {
      if (x.created !== undefined) t.created(x.created.gfid, x.created.isDir)
      return await t.fop((i) => call(this.children[i]!))
    })
  }

  /** A data or metadata transaction on one inode. */
  async #inodeTxn<R> (type: TxnType, syscall: string, inode: Inode, o: FopCtx, call: (c: ClientLayer) => Promise<R>): Promise<Map<number, R>> {
    const gfid = inode.gfid
    return await AfrTxn.run(this.afr, type, [{ kind: 'inode', gfid }], [{ gfid }], this.#txnOpts(syscall, o), t => t.fop(i => call(this.children[i]!), { metadata: type === 'metadata' }))
  }

  #file (gfid: Buffer, path: string, fds: Array<BrickFd | undefined>, size: number, flags: number): WritableFile {
    return new WritableFile({
      sv: this.afr, gfid, path, fds, size, flags, timing: this.#w.timing, postOpDelayMs: this.#w.postOpDelayMs, ensureDurability: this.#w.ensureDurability,
    })
  }

  #created (replies: Map<number, Inode>): Inode {
    // the new object is good where its fop went through
    const first = replies.values().next().value!
    const readable = this.afr.children.map((_, i) => replies.has(i))
    return { gfid: first.gfid, stat: first.stat, xdata: first.xdata, layer: this, ctx: { readable } satisfies AfrInode }
  }

  async create (parent: Inode, name: string, flags: number, o: CreateOpts): Promise<{ inode: Inode, fd: WritableFile }> {
    const replies = await this.#entry('create', [{ parent: parent.gfid, name }], o, c => c.create(parent, name, flags, { ...this.#inTxn(o), syscall: o.syscall ?? 'create' }), { created: { gfid: o.gfid, isDir: false } })
    const fds: Array<BrickFd | undefined> = this.afr.children.map(() => undefined)
    const inodes = new Map<number, Inode>()
    for (const [i, r] of replies) { fds[i] = r.fd satisfies ClientFd; inodes.set(i, r.inode) }
    const inode = this.#created(inodes)
    return { inode, fd: this.#file(o.gfid, o.path ?? name, fds, 0, flags | O_LARGEFILE) }
  }

  async mknod (parent: Inode, name: string, rdev: bigint, o: CreateOpts): Promise<Inode> {
    return this.#created(await this.#entry('mknod', [{ parent: parent.gfid, name }], o, c => c.mknod(parent, name, rdev, this.#inTxn(o)), { created: { gfid: o.gfid, isDir: false } }))
  }

  async mkdir (parent: Inode, name: string, o: CreateOpts): Promise<Inode> {
    return this.#created(await this.#entry('mkdir', [{ parent: parent.gfid, name }], o, c => c.mkdir(parent, name, this.#inTxn(o)), { created: { gfid: o.gfid, isDir: true } }))
  }

  async symlink (parent: Inode, name: string, target: string, o: CreateOpts): Promise<void> {
    await this.#entry('symlink', [{ parent: parent.gfid, name }], o, c => c.symlink(parent, name, target, this.#inTxn(o)), { created: { gfid: o.gfid, isDir: false } })
  }

  async link (inode: Inode, parent: Inode, name: string, o: FopCtx = {}): Promise<void> {
    await this.#entry('link', [{ parent: parent.gfid, name }], o, c => c.link(inode, parent, name, this.#inTxn(o)))
  }

  async unlink (parent: Inode, name: string, inode: Inode, o: FopCtx & { xdata?: XdataKeys } = {}): Promise<GfxDict> {
    const r = await this.#entry('unlink', [{ parent: parent.gfid, name }], o, c => c.unlink(parent, name, inode, this.#inTxn(o)))
    return r.values().next().value!
  }

  async rmdir (parent: Inode, name: string, inode: Inode, o: FopCtx = {}): Promise<void> {
    await this.#entry('rmdir', [{ parent: parent.gfid, name }], o, c => c.rmdir(parent, name, inode, this.#inTxn(o)), { wholeDir: [inode.gfid] })
  }

  async rename (from: Required<RenameSide>, to: RenameSide, o: FopCtx = {}): Promise<void> {
    const names = [{ parent: from.parent.gfid, name: from.name }, { parent: to.parent.gfid, name: to.name }]
    const victimDir = to.inode !== undefined && (to.inode.stat.mode & S_IFMT) === S_IFDIR
    await this.#entry('rename', names, o, c => c.rename(from, to, this.#inTxn(o)), victimDir ? { wholeDir: [to.inode!.gfid] } : {})
  }

  async truncate (inode: Inode, len: number, o: FopCtx = {}, out?: WriteOut): Promise<void> {
    const r = await this.#inodeTxn('data', 'truncate', inode, o, async c => {
      const w: WriteOut = {}
      await c.truncate(inode, len, this.#inTxn(o), w)
      return w
    })
    if (out !== undefined) Object.assign(out, r.values().next().value!)
  }

  async setattr (inode: Inode, valid: number, stbuf: GfxIattx, o: FopCtx = {}): Promise<void> {
    await this.#inodeTxn('metadata', 'setattr', inode, o, c => c.setattr(inode, valid, stbuf, this.#inTxn(o)))
  }

  async setxattr (inode: Inode, dict: GfxDict, flags: number, o: FopCtx & { xdata?: XdataKeys } = {}): Promise<void> {
    await this.#inodeTxn('metadata', 'setxattr', inode, o, c => c.setxattr(inode, dict, flags, this.#inTxn(o)))
  }

  async removexattr (inode: Inode, name: string, o: FopCtx = {}): Promise<void> {
    await this.#inodeTxn('metadata', 'removexattr', inode, o, c => c.removexattr(inode, name, this.#inTxn(o)))
  }

  async xattrop (inode: Inode, flags: number, dict: GfxDict, o: FopCtx & { xdata?: XdataKeys } = {}): Promise<GfxDict> {
    const r = await this.#inodeTxn('metadata', 'xattrop', inode, o, c => c.xattrop(inode, flags, dict, this.#inTxn(o)))
    return r.values().next().value!
  }

  // ---- fds ----

  /** OPEN on every connected brick of the set (a brick where it fails is left out of the writes, and blamed). */
  async open (inode: Inode, flags: number, o: FopCtx = {}): Promise<WritableFile> {
    const fds: Array<BrickFd | undefined> = this.afr.children.map(() => undefined)
    await Promise.all(this.children.map(async (c, i) => {
      if (!c.brick.up) return
      try { fds[i] = await c.open(inode, flags, o) } catch { /* left out */ }
    }))
    if (fds.every(f => f === undefined) && this.afr.upCount === 0) throw enotconn(o.syscall ?? 'open', o.path, `no brick of ${this.name} is connected`)
    return this.#file(inode.gfid, o.path ?? '', fds, Number(inode.stat.ia_size), flags | O_LARGEFILE)
  }

  anonymous (inode: Inode, path: string): WritableFile {
    return this.#file(inode.gfid, path, this.afr.children.map(() => undefined), Number(inode.stat.ia_size), GfOpenFlags.RDWR)
  }

  /**
   * A lock in `domain` on every child, as AFR takes its own (non-blocking on all at once, then
   * blocking in child order on contention), held until the release. Quorum is needed.
   */
  async lock (target: LockTarget, domain: string, o: FopCtx = {}): Promise<() => Promise<void>> {
    const lockee: Lockee = target.kind === 'inode' ? { kind: 'inode', gfid: target.inode.gfid } : { kind: 'entry', gfid: target.parent.gfid, name: target.name }
    const t = new AfrTxn(this.afr, target.kind === 'inode' ? 'data' : 'entry', [lockee], [], this.#txnOpts('lock', o, domain))
    await t.begin()
    return () => t.finish()
  }
}
