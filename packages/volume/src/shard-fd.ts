// Writing a sharded file (gluster-shard-tls-auth.md §1.7): a write is cut at block boundaries;
// block 0 goes through the base file's fd, block n ≥ 1 through an anonymous fd on
// `/.shard/<gfid>.<n>`, made (MKNOD) the first time it is written. Then the base file's size
// and block count go up by XATTROP ADD_ARRAY64 on `trusted.glusterfs.shard.file-size` ([Δsize,
// 0, Δblocks, 0]; Δblocks = what the written blocks' own block counts grew by), through the base
// fd, so under AFR it runs inside the file's eager-locked write transaction as FUSE's does.
//
// Size updates are serialised and merged: a write resolves once an XATTROP that includes its
// end has been applied; writes that complete while one is in flight share the next one. The
// size the bricks return is the one we keep (another client's growth included).
import { GlusterError, GfXattropFlags, gfxDictBin, type GfxDict } from '@gluster-ts/rpc'
import type { FopCtx, Inode, LayerFd, WriteOut, XdataKeys } from './layer.js'
import { FILE_SIZE_XATTR, decodeFileSize, fileSizeValue, pieces, type ShardAttrs } from './shard-format.js'
import type { ShardLayer } from './shard.js'

/** anonymous fds on blocks kept open at once (each holds AFR's eager lock on its block) */
const OPEN_BLOCKS = 8

export class ShardFd implements LayerFd {
  readonly gfid: Buffer
  readonly path: string
  readonly #layer: ShardLayer
  readonly #base: LayerFd
  readonly #inode: Inode
  readonly #attrs: ShardAttrs
  readonly #mode: number
  /** anonymous fds on blocks ≥ 1, in use order, with the writes using each */
  readonly #blocks = new Map<number, { fd: Promise<LayerFd>, users: number, retired: boolean }>()
  /** block fds being closed (evicted) */
  readonly #closing = new Set<Promise<void>>()
  /** size wanted by completed writes, and block count they added, not yet applied */
  #wantEnd = 0
  #wantBlocks = 0n
  #inflight: Promise<void> | undefined
  #queued: Promise<void> | undefined
  #closed = false

  constructor (layer: ShardLayer, inode: Inode, base: LayerFd, attrs: ShardAttrs) {
    this.#layer = layer
    this.#inode = inode
    this.gfid = inode.gfid
    this.path = base.path
    this.#base = base
    this.#attrs = attrs
    this.#wantEnd = attrs.size
    this.#mode = inode.stat.mode
  }

  /** the whole file's size as far as our writes and the bricks' last answer know */
  get size (): number { return Math.max(this.#attrs.size, this.#wantEnd) }
  get closed (): boolean { return this.#closed }

  #check (syscall: string): void {
    if (this.#closed) throw new GlusterError('EBADF', `EBADF: file handle for '${this.path}' is closed`, { path: this.path, syscall })
  }

  /**
   * Run `use` with block n's anonymous fd (made, and the block with it, on first write). The
   * least recently used fd beyond OPEN_BLOCKS is closed once nobody writes through it.
   */
  async #withBlock<T> (n: number, signal: AbortSignal | undefined, use: (fd: LayerFd) => Promise<T>): Promise<T> {
    let b = this.#blocks.get(n)
    if (b !== undefined) {
      this.#blocks.delete(n)
    } else {
      const fd = (async () => {
        const inode = await this.#layer.makeBlock(this.gfid, n, this.#mode, { path: this.path, syscall: 'write', ...(signal !== undefined ? { signal } : {}) })
        return this.#layer.child.anonymous(inode, `${this.path} (block ${n})`)
      })()
      b = { fd, users: 0, retired: false }
      fd.catch(() => { if (this.#blocks.get(n) === b) this.#blocks.delete(n) })
    }
    this.#blocks.set(n, b)
    if (this.#blocks.size > OPEN_BLOCKS) {
      const [old, ob] = this.#blocks.entries().next().value!
      this.#blocks.delete(old)
      ob.retired = true
      if (ob.users === 0) this.#retire(ob.fd)
    }
    b.users++
    try {
      return await use(await b.fd)
    } finally {
      b.users--
      if (b.retired && b.users === 0) this.#retire(b.fd)
    }
  }

  /**
   * A write into block n ≥ 1. A block removed since we looked it up (a truncate through another
   * handle or client) is looked up, or made, again: once.
   */
  async #writeBlock (n: number, part: Buffer, at: number, signal: AbortSignal | undefined, w: WriteOut): Promise<number> {
    try {
      return await this.#withBlock(n, signal, fd => fd.write(part, at, signal, w))
    } catch (e) {
      if (!(e instanceof GlusterError && (e.code === 'ENOENT' || e.code === 'ESTALE'))) throw e
      const b = this.#blocks.get(n)
      if (b !== undefined) { this.#blocks.delete(n); b.retired = true; if (b.users === 0) this.#retire(b.fd) }
      this.#layer.forgetBlocks(this.gfid, n)
      return await this.#withBlock(n, signal, fd => fd.write(part, at, signal, w))
    }
  }

  /** Close a block's fd in the background (its transaction ends: FSYNC, post-op, unlock). */
  #retire (fd: Promise<LayerFd>): void {
    const c: Promise<void> = fd.then(f => f.close(), () => {}).catch(() => {}).finally(() => { this.#closing.delete(c) })
    this.#closing.add(c)
  }

  async write (data: Buffer, pos: number, signal?: AbortSignal): Promise<number> {
    this.#check('write')
    if (data.length === 0) return 0
    const bs = this.#attrs.blockSize
    let dBlocks = 0n
    const done = await Promise.allSettled(pieces(pos, data.length, bs).map(async p => {
      const part = data.subarray(p.pos, p.pos + p.len)
      const w: WriteOut = {}
      const n = p.block === 0 ? await this.#base.write(part, p.at, signal, w) : await this.#writeBlock(p.block, part, p.at, signal, w)
      if (w.prestat !== undefined && w.poststat !== undefined) dBlocks += w.poststat.ia_blocks - w.prestat.ia_blocks
      if (n !== p.len) throw new GlusterError('EIO', `EIO: short write at ${pos + p.pos} of '${this.path}': ${n} of ${p.len} bytes`, { path: this.path, syscall: 'write', errno: 5 })
    }))
    // what went through is accounted even when a piece failed
    const failed = done.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    this.#wantBlocks += dBlocks
    if (failed === undefined) this.#wantEnd = Math.max(this.#wantEnd, pos + data.length)
    await this.#applySize()
    if (failed !== undefined) throw failed.reason
    return data.length
  }

  /** Resolves once the size and block count wanted so far are on the base file. */
  #applySize (): Promise<void> {
    if (this.#queued !== undefined) return this.#queued
    const q: Promise<void> = (async () => {
      await Promise.resolve() // #queued is set before anything is taken
      while (this.#inflight !== undefined) await this.#inflight.catch(() => {})
      // from here, later writes wait for the next update
      this.#queued = undefined
      const dSize = Math.max(0, this.#wantEnd - this.#attrs.size)
      const dBlocks = this.#wantBlocks
      if (dSize === 0 && dBlocks === 0n) return
      this.#wantBlocks = 0n
      const run = (async () => {
        try {
          const r = await this.#base.xattrop(GfXattropFlags.ADD_ARRAY64, new Map([[FILE_SIZE_XATTR, fileSizeValue(BigInt(dSize), dBlocks)]]), { path: this.path, syscall: 'write' })
          const v = decodeFileSize(gfxDictBin(r, FILE_SIZE_XATTR))
          this.#attrs.size = v !== undefined ? Number(v.size) : this.#attrs.size + dSize
          this.#attrs.blocks = v !== undefined ? v.blocks : this.#attrs.blocks + dBlocks
        } catch (e) {
          this.#wantBlocks += dBlocks // the next update carries it
          throw e
        }
      })()
      this.#inflight = run
      try { await run } finally { if (this.#inflight === run) this.#inflight = undefined }
    })()
    this.#queued = q
    return q
  }

  async truncate (len: number, signal?: AbortSignal, out?: WriteOut): Promise<void> {
    this.#check('ftruncate')
    await this.#settle()
    // the blocks' own transactions end first: blocks past the new end are about to go
    await this.#closeBlocks()
    const o: FopCtx = { path: this.path, syscall: 'ftruncate', ...(signal !== undefined ? { signal } : {}) }
    const fresh = this.#layer.attrsOf(await this.#layer.lookupGfid(this.gfid, o))
    if (fresh !== undefined) { this.#attrs.size = fresh.size; this.#attrs.blocks = fresh.blocks }
    await this.#layer.shrinkOrGrow(this.#layer.childOf(this.#inode), this.#attrs, len, o,
      w => this.#base.truncate(w.len, signal, w.out),
      (dSize, dBlocks) => this.#base.xattrop(GfXattropFlags.ADD_ARRAY64, new Map([[FILE_SIZE_XATTR, fileSizeValue(dSize, dBlocks)]]), o))
    this.#wantEnd = this.#attrs.size
    if (out !== undefined) out.poststat = { ...this.#inode.stat, ia_size: BigInt(this.#attrs.size), ia_blocks: this.#attrs.blocks }
  }

  async xattrop (flags: number, dict: GfxDict, o: FopCtx & { xdata?: XdataKeys } = {}): Promise<GfxDict> {
    this.#check('fxattrop')
    return await this.#base.xattrop(flags, dict, o)
  }

  /** The size updates in flight. */
  async #settle (): Promise<void> {
    while (this.#queued !== undefined || this.#inflight !== undefined) await (this.#queued ?? this.#inflight)!.catch(() => {})
  }

  async #closeBlocks (): Promise<void> {
    const all = [...this.#blocks.values()]
    this.#blocks.clear()
    for (const b of all) {
      b.retired = true
      if (b.users === 0) this.#retire(b.fd)
    }
    while (this.#closing.size > 0) await Promise.all([...this.#closing])
  }

  /** The size applied, then every block's and the base file's writes made durable (FSYNC), base first. */
  async sync (): Promise<void> {
    this.#check('fsync')
    await this.#applySize()
    await this.#base.sync()
    await Promise.all([...this.#blocks.values()].map(async b => { const f = await b.fd.catch(() => undefined); await f?.sync() }))
    await Promise.all([...this.#closing])
  }

  async close (): Promise<void> {
    if (this.#closed) return
    let err: unknown
    try { await this.#applySize() } catch (e) { err = e }
    this.#closed = true
    await this.#closeBlocks()
    try { await this.#base.close() } catch (e) { err ??= e }
    if (err !== undefined) throw err
  }
}
