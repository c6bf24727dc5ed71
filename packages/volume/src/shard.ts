// features/shard as a layer (gluster-shard-tls-auth.md §1; xlators/features/shard/src/shard.c
// read for the protocol, not copied). A sharded file is its base file (block 0) plus
// `/.shard/<gfid>.<n>` for the blocks written so far; the base file's xattrs hold the block size
// and the logical size. This layer reports whole-file sizes, reads block by block (a missing
// block reads as zeros), writes block by block (shard-fd.ts), truncates by removing and cutting
// blocks, and on unlink/rename-over leaves a marker under `/.shard/.remove_me` whose blocks are
// then deleted in the background (shard-delete.ts), as GlusterFS's shard translator does.
//
// Where GlusterFS 10.3 is wrong we are not: a truncate to an exact multiple of the block size
// keeps the last remaining block (GlusterFS cuts it to 0 bytes), and reading a hole creates no
// empty block files (GlusterFS MKNODs every missing block it reads).
import {
  GlusterError, GfXattropFlags, ROOT_GFID, gfxDictBin, gfxDictUint, gfxInt, gfxUint, gfxUuid,
  type GfStatfs, type GfxDict, type GfxIattx,
} from '@gluster-ts/rpc'
import type { BrickClient } from './brick.js'
import type { ShardSpec } from './graph.js'
import {
  newGfid, ownCtx, withSize,
  type CreateOpts, type DirEntry, type FopCtx, type Inode, type Layer, type LayerFd, type LockTarget, type LookupOpts, type RenameSide, type WriteOut, type XdataKeys,
} from './layer.js'
import {
  BLOCK_SIZE_XATTR, FILE_SIZE_XATTR, REMOVE_ME_DIR, REMOVE_ME_GFID, SHARD_DIR, SHARD_ROOT_GFID, SHARD_XATTR_PREFIX, blockSizeValue, decodeFileSize, fileSizeValue,
  pieces, shardAttrs, shardName, type ShardAttrs,
} from './shard-format.js'
import { ShardFd } from './shard-fd.js'
import { ShardDeleter } from './shard-delete.js'

const S_IFMT = 0o170000
const S_IFREG = 0o100000

/** What shard keeps per inode: the layer below's inode, and for a sharded file its attributes. */
export interface ShardInode {
  child: Inode
  /** undefined: not a sharded regular file (everything goes straight through) */
  attrs?: ShardAttrs
}

export interface ShardSettings {
  /** how long a missing block is believed missing, ms */
  entryTimeoutMs: number
  /** delete removed files' blocks in this process (default true); false leaves it to other clients */
  deleteBlocks?: boolean
}

interface Cached { inode: Inode | undefined, at: number }

/**
 * How long /.shard and /.shard/.remove_me are trusted: they never go away, only their DHT layout
 * can change (a rebalance), and a brick refusing a placement makes DHT look the parent up again.
 */
const INTERNAL_DIR_TTL_MS = 60_000

function eperm (what: string, o: FopCtx): GlusterError {
  return new GlusterError('EPERM', `EPERM: operation not permitted, ${what}${o.path !== undefined ? ` '${o.path}'` : ''} (shard's own attributes and /.shard are internal)`,
    { errno: 1, syscall: o.syscall ?? what, ...(o.path !== undefined ? { path: o.path } : {}) })
}

const missing = (e: unknown): boolean => e instanceof GlusterError && (e.code === 'ENOENT' || e.code === 'ESTALE')

export class ShardLayer implements Layer {
  readonly type = 'features/shard'
  readonly name: string
  readonly child: Layer
  readonly children: readonly Layer[]
  /** block size of files created now */
  readonly blockSize: number
  readonly deletionRate: number
  readonly #s: ShardSettings
  readonly #lru: number
  /** block inodes by `<gfid hex>.<n>`, in use order (a Map keeps insertion order) */
  readonly #blocks = new Map<string, Cached>()
  readonly #resolving = new Map<string, Promise<Inode | undefined>>()
  readonly #dirs = new Map<string, Cached>()
  /** the background deletion of removed files' blocks */
  readonly deleter: ShardDeleter

  constructor (spec: ShardSpec, child: Layer, s: ShardSettings) {
    this.name = spec.name
    this.child = child
    this.children = [child]
    this.blockSize = spec.blockSize
    this.deletionRate = spec.deletionRate
    this.#s = s
    this.#lru = spec.lruLimit
    this.deleter = new ShardDeleter(this, s.deleteBlocks !== false)
  }

  get bricks (): readonly BrickClient[] { return this.child.bricks }
  ready (): boolean { return this.child.ready() }
  whyNot (): string { return this.child.whyNot() }

  /** Wait for (at most `timeoutMs`), then stop, the background deletion. */
  async close (o: { timeoutMs?: number } = {}): Promise<void> { await this.deleter.close(o.timeoutMs ?? 10_000) }

  /** The keys every lookup and listing asks for. */
  keys (extra?: XdataKeys): XdataKeys {
    return { ...extra, [FILE_SIZE_XATTR]: gfxUint(32), [BLOCK_SIZE_XATTR]: gfxUint(0) }
  }

  #ctx (inode: Inode, o: FopCtx = {}): ShardInode { return ownCtx<ShardInode>(this, inode, o) }
  #down (inode: Inode, o: FopCtx = {}): Inode { return this.#ctx(inode, o).child }

  /** Our inode over the layer below's: whole-file size and blocks for a sharded file. */
  wrap (child: Inode, attrs?: ShardAttrs): Inode {
    const a = attrs ?? ((child.stat.mode & S_IFMT) === S_IFREG ? shardAttrs(child.xdata) : undefined)
    const stat = a !== undefined ? withSize(child.stat, BigInt(a.size), a.blocks) : child.stat
    return { gfid: child.gfid, stat, xdata: child.xdata, layer: this, ctx: { child, ...(a !== undefined ? { attrs: a } : {}) } satisfies ShardInode }
  }

  /** The layer below's inode under one of ours. */
  childOf (inode: Inode): Inode { return this.#ctx(inode).child }

  /** The shard attributes of one of our inodes (undefined: not sharded). */
  attrsOf (inode: Inode): ShardAttrs | undefined { return this.#ctx(inode).attrs }

  // ---- the internal directories and the blocks ----

  /** A directory of the layer below, looked up (and made, with `make`) once and kept entryTimeoutMs. */
  async #internalDir (key: string, parent: () => Promise<Inode | undefined>, name: string, gfid: Buffer, make: boolean, o: FopCtx): Promise<Inode | undefined> {
    const hit = this.#dirs.get(key)
    if (hit?.inode !== undefined && performance.now() - hit.at < INTERNAL_DIR_TTL_MS) return hit.inode
    const p = await parent()
    if (p === undefined) return undefined
    const look = (): Promise<Inode> => this.child.lookup(p, name, { ...o, xdata: { 'gfid-req': gfxUuid(gfid) } })
    let inode: Inode
    try {
      inode = await look()
    } catch (e) {
      if (!make || !missing(e)) { if (missing(e)) return undefined; throw e }
      try {
        await this.child.mkdir(p, name, { ...o, syscall: o.syscall ?? 'mkdir', path: key, mode: 0o755, gfid, xdata: { 'glusterfs-internal-fop': gfxInt(1) } })
      } catch (e2) {
        if (!(e2 instanceof GlusterError && e2.code === 'EEXIST')) throw e2
      }
      // looked up again: the layers below learn its final layout
      inode = await look()
    }
    this.#dirs.set(key, { inode, at: performance.now() })
    return inode
  }

  /** `/.shard` in the layer below (undefined when it does not exist and `make` is false). */
  dotShard (make: boolean, o: FopCtx = {}): Promise<Inode | undefined> {
    return this.#internalDir('/.shard', async () => await this.child.lookupGfid(ROOT_GFID, o), SHARD_DIR, SHARD_ROOT_GFID, make, o)
  }

  /** `/.shard/.remove_me` in the layer below. */
  removeMe (make: boolean, o: FopCtx = {}): Promise<Inode | undefined> {
    return this.#internalDir('/.shard/.remove_me', () => this.dotShard(make, o), REMOVE_ME_DIR, REMOVE_ME_GFID, make, o)
  }

  /** Forget the internal directories (after ESTALE/ENOENT on them). */
  forgetDirs (): void { this.#dirs.clear() }

  #touch (key: string, c: Cached): void {
    this.#blocks.delete(key)
    this.#blocks.set(key, c)
    if (this.#blocks.size > this.#lru) this.#blocks.delete(this.#blocks.keys().next().value!)
  }

  /** Forget the cached blocks of a file from block `from` on. */
  forgetBlocks (gfid: Buffer, from = 1): void {
    const hex = gfid.toString('hex')
    for (const k of [...this.#blocks.keys()]) {
      const dot = k.lastIndexOf('.')
      if (k.slice(0, dot) === hex && Number(k.slice(dot + 1)) >= from) this.#blocks.delete(k)
    }
  }

  /**
   * Block n (≥ 1) of the file `gfid` in the layer below, or undefined when it does not exist (a
   * hole). Concurrent asks for one block share one LOOKUP; a missing block is believed missing
   * for entryTimeoutMs.
   */
  async block (gfid: Buffer, n: number, o: FopCtx = {}): Promise<Inode | undefined> {
    const key = `${gfid.toString('hex')}.${n}`
    const hit = this.#blocks.get(key)
    if (hit !== undefined && (hit.inode !== undefined || performance.now() - hit.at < this.#s.entryTimeoutMs)) {
      this.#touch(key, hit)
      return hit.inode
    }
    let p = this.#resolving.get(key)
    if (p === undefined) {
      p = (async () => {
        const dot = await this.dotShard(false, o)
        let inode: Inode | undefined
        if (dot !== undefined) {
          try {
            inode = await this.child.lookup(dot, shardName(gfid, n), { ...o, path: `/.shard/${shardName(gfid, n)}` })
          } catch (e) {
            if (!missing(e)) throw e
          }
        }
        this.#touch(key, { inode, at: performance.now() })
        return inode
      })().finally(() => { this.#resolving.delete(key) })
      this.#resolving.set(key, p)
    }
    return await p
  }

  /**
   * Block n of `gfid`, made when it does not exist: MKNOD in /.shard with the base file's mode
   * and a fresh gfid (as GlusterFS makes them); a block another writer made first is looked up.
   */
  async makeBlock (gfid: Buffer, n: number, mode: number, o: FopCtx = {}): Promise<Inode> {
    const have = await this.block(gfid, n, o)
    if (have !== undefined) return have
    const key = `${gfid.toString('hex')}.${n}`
    const name = shardName(gfid, n)
    const dot = (await this.dotShard(true, o))!
    let inode: Inode
    try {
      inode = await this.child.mknod(dot, name, 0n, { ...o, path: `/.shard/${name}`, mode: S_IFREG | (mode & 0o7777), gfid: newGfid() })
    } catch (e) {
      if (!(e instanceof GlusterError && e.code === 'EEXIST')) throw e
      this.#blocks.delete(key)
      inode = (await this.block(gfid, n, o))!
      if (inode === undefined) throw e
    }
    this.#touch(key, { inode, at: performance.now() })
    return inode
  }

  // ---- lookups and listings ----

  async lookup (parent: Inode, name: string, o: LookupOpts = {}): Promise<Inode> {
    if ((parent.gfid.equals(ROOT_GFID) && name === SHARD_DIR) || parent.gfid.equals(SHARD_ROOT_GFID)) throw eperm('lookup', o)
    return this.wrap(await this.child.lookup(this.#down(parent, o), name, { ...o, xdata: this.keys(o.xdata) }))
  }

  async lookupGfid (gfid: Buffer, o: LookupOpts = {}): Promise<Inode> {
    return this.wrap(await this.child.lookupGfid(gfid, { ...o, xdata: this.keys(o.xdata) }))
  }

  /** Entries with whole-file sizes; `/.shard` hidden in the root. */
  async * readdir (dir: Inode, o: FopCtx & { pageBytes?: number, xdata?: XdataKeys } = {}): AsyncGenerator<DirEntry[]> {
    const root = dir.gfid.equals(ROOT_GFID)
    for await (const page of this.child.readdir(this.#down(dir, o), { ...o, xdata: this.keys(o.xdata) })) {
      const out: DirEntry[] = []
      for (const e of page) {
        if (root && e.name === SHARD_DIR) continue
        const a = (e.stat.mode & S_IFMT) === S_IFREG ? shardAttrs(e.dict) : undefined
        out.push(a !== undefined ? { ...e, stat: withSize(e.stat, BigInt(a.size), a.blocks) } : e)
      }
      if (out.length > 0) yield out
    }
  }

  // ---- entries ----

  /** The xattrs a new regular file is created with: the block size, and size 0. */
  #newFileKeys (o: CreateOpts): CreateOpts {
    return { ...o, xdata: { ...o.xdata, [BLOCK_SIZE_XATTR]: blockSizeValue(this.blockSize), [FILE_SIZE_XATTR]: fileSizeValue(0n, 0n) } }
  }

  async create (parent: Inode, name: string, flags: number, o: CreateOpts): Promise<{ inode: Inode, fd: LayerFd }> {
    const r = await this.child.create(this.#down(parent, o), name, flags, this.#newFileKeys(o))
    const attrs: ShardAttrs = { blockSize: this.blockSize, size: 0, blocks: 0n }
    const inode = this.wrap(r.inode, attrs)
    return { inode, fd: new ShardFd(this, inode, r.fd, attrs) }
  }

  async mknod (parent: Inode, name: string, rdev: bigint, o: CreateOpts): Promise<Inode> {
    const regular = (o.mode & S_IFMT) === S_IFREG || (o.mode & S_IFMT) === 0
    const r = await this.child.mknod(this.#down(parent, o), name, rdev, regular ? this.#newFileKeys(o) : o)
    return this.wrap(r, regular ? { blockSize: this.blockSize, size: 0, blocks: 0n } : undefined)
  }

  async mkdir (parent: Inode, name: string, o: CreateOpts): Promise<Inode> { return this.wrap(await this.child.mkdir(this.#down(parent, o), name, o)) }
  symlink (parent: Inode, name: string, target: string, o: CreateOpts): Promise<void> { return this.child.symlink(this.#down(parent, o), name, target, o) }
  link (inode: Inode, parent: Inode, name: string, o: FopCtx = {}): Promise<void> { return this.child.link(this.#down(inode, o), this.#down(parent, o), name, o) }
  rmdir (parent: Inode, name: string, inode: Inode, o: FopCtx = {}): Promise<void> { return this.child.rmdir(this.#down(parent, o), name, this.#down(inode, o), o) }

  /** A sharded file with no other link leaves a marker, and its blocks are deleted in the background. */
  async unlink (parent: Inode, name: string, inode: Inode, o: FopCtx & { xdata?: XdataKeys } = {}): Promise<GfxDict> {
    const x = this.#ctx(inode, o)
    if (x.attrs === undefined) return await this.child.unlink(this.#down(parent, o), name, x.child, o)
    let r: GfxDict = null
    await this.deleter.replace(x.child, x.attrs.blockSize, o, async () => { r = await this.child.unlink(this.#down(parent, o), name, x.child, o) })
    return r
  }

  /** Renaming over a sharded file removes it as unlink does. */
  async rename (from: Required<RenameSide>, to: RenameSide, o: FopCtx = {}): Promise<void> {
    const down = { parent: this.#down(from.parent, o), name: from.name, inode: this.#down(from.inode, o) }
    const victim = to.inode !== undefined ? this.#ctx(to.inode, o) : undefined
    const dst: RenameSide = { parent: this.#down(to.parent, o), name: to.name, ...(victim !== undefined ? { inode: victim.child } : {}) }
    if (victim?.attrs === undefined || victim.child.gfid.equals(from.inode.gfid)) { await this.child.rename(down, dst, o); return }
    await this.deleter.replace(victim.child, victim.attrs.blockSize, o, () => this.child.rename(down, dst, o))
  }

  // ---- inodes ----

  readlink (inode: Inode, o: FopCtx = {}): Promise<string> { return this.child.readlink(this.#down(inode, o), o) }
  access (inode: Inode, mask: number, o: FopCtx = {}): Promise<void> { return this.child.access(this.#down(inode, o), mask, o) }
  statfs (inode: Inode, o: FopCtx = {}): Promise<GfStatfs> { return this.child.statfs(this.#down(inode, o), o) }
  setattr (inode: Inode, valid: number, stbuf: GfxIattx, o: FopCtx = {}): Promise<void> { return this.child.setattr(this.#down(inode, o), valid, stbuf, o) }
  xattrop (inode: Inode, flags: number, dict: GfxDict, o: FopCtx & { xdata?: XdataKeys } = {}): Promise<GfxDict> { return this.child.xattrop(this.#down(inode, o), flags, dict, o) }
  lock (target: LockTarget, domain: string, o: FopCtx = {}): Promise<() => Promise<void>> {
    return this.child.lock(target.kind === 'inode' ? { kind: 'inode', inode: this.#down(target.inode, o) } : { kind: 'entry', parent: this.#down(target.parent, o), name: target.name }, domain, o)
  }

  /** Shard's own attributes are not the file's: ENODATA when asked for, left out of listings. */
  async getxattr (inode: Inode, name: string | null, o: FopCtx = {}): Promise<GfxDict> {
    if (name?.startsWith(SHARD_XATTR_PREFIX) === true) throw new GlusterError('ENODATA', `ENODATA: no such attribute '${name}'`, { errno: 61, syscall: 'getxattr', ...(o.path !== undefined ? { path: o.path } : {}) })
    const d = await this.child.getxattr(this.#down(inode, o), name, o)
    if (name !== null || d === null) return d
    return new Map([...d].filter(([k]) => !k.startsWith(SHARD_XATTR_PREFIX)))
  }

  async setxattr (inode: Inode, dict: GfxDict, flags: number, o: FopCtx & { xdata?: XdataKeys } = {}): Promise<void> {
    if ([...(dict ?? new Map()).keys()].some(k => k.startsWith(SHARD_XATTR_PREFIX))) throw eperm('setxattr', o)
    await this.child.setxattr(this.#down(inode, o), dict, flags, o)
  }

  async removexattr (inode: Inode, name: string, o: FopCtx = {}): Promise<void> {
    if (name.startsWith(SHARD_XATTR_PREFIX)) throw eperm('removexattr', o)
    await this.child.removexattr(this.#down(inode, o), name, o)
  }

  // ---- data ----

  /**
   * READ of the whole file's bytes: block by block, in parallel, straight into `into` when
   * given; a block that does not exist, or ends early, reads as zeros. The next block is looked
   * up ahead, so a stream does not wait for a LOOKUP at each block boundary.
   */
  async read (inode: Inode, offset: number, size: number, o: FopCtx & { into?: Buffer } = {}): Promise<Buffer> {
    const x = this.#ctx(inode, o)
    if (x.attrs === undefined) return await this.child.read(x.child, offset, size, o)
    const { blockSize: bs, size: fileSize } = x.attrs
    const len = Math.max(0, Math.min(size, fileSize - offset))
    if (len === 0) return o.into?.subarray(0, 0) ?? Buffer.alloc(0)
    const ps = pieces(offset, len, bs)
    const last = ps[ps.length - 1]!.block
    if ((last + 1) * bs < fileSize) void this.block(inode.gfid, last + 1, { ...(o.signal !== undefined ? { signal: o.signal } : {}) }).catch(() => {})
    const into = o.into
    if (ps.length === 1 && into === undefined) {
      // one block, no buffer given: the RPC's own slice, zero-filled only when short
      const d = await this.#readBlock(x, ps[0]!.block, ps[0]!.at, len, undefined, o)
      if (d.length === len) return d
      const full = Buffer.alloc(len)
      d.copy(full)
      return full
    }
    const target = into ?? Buffer.allocUnsafe(len)
    await Promise.all(ps.map(async p => {
      const dst = target.subarray(p.pos, p.pos + p.len)
      const d = await this.#readBlock(x, p.block, p.at, p.len, dst, o)
      dst.fill(0, d.length)
    }))
    return target.subarray(0, len)
  }

  /** One block's part; with `dst`, landed there. A missing block: empty. */
  async #readBlock (x: ShardInode, n: number, at: number, len: number, dst: Buffer | undefined, o: FopCtx): Promise<Buffer> {
    const ro = { ...o, ...(dst !== undefined ? { into: dst } : {}) }
    if (n === 0) return await this.child.read(x.child, at, len, ro)
    const gfid = x.child.gfid
    for (let attempt = 0; ; attempt++) {
      const b = await this.block(gfid, n, o)
      if (b === undefined) return Buffer.alloc(0)
      try {
        return await this.child.read(b, at, len, { ...ro, path: `${o.path ?? ''} (block ${n})` })
      } catch (e) {
        // a block removed (truncate, unlink) since we looked it up: look again, once
        if (attempt > 0 || !missing(e)) throw e
        this.forgetBlocks(gfid, n)
      }
    }
  }

  /** OPEN: writes go block by block through the returned fd (shard-fd.ts). */
  async open (inode: Inode, flags: number, o: FopCtx = {}): Promise<LayerFd> {
    const x = this.#ctx(inode, o)
    const fd = await this.child.open(x.child, flags, o)
    return x.attrs === undefined ? fd : new ShardFd(this, inode, fd, { ...x.attrs })
  }

  anonymous (inode: Inode, path: string): LayerFd {
    const x = this.#ctx(inode)
    const fd = this.child.anonymous(x.child, path)
    return x.attrs === undefined ? fd : new ShardFd(this, inode, fd, { ...x.attrs })
  }

  /** truncate(2) of a whole file (see `shrinkOrGrow`). */
  async truncate (inode: Inode, len: number, o: FopCtx = {}, out?: WriteOut): Promise<void> {
    const x = this.#ctx(inode, o)
    if (x.attrs === undefined) { await this.child.truncate(x.child, len, o, out); return }
    const fresh = this.#ctx(await this.lookupGfid(inode.gfid, o))
    const attrs = fresh.attrs ?? x.attrs
    await this.shrinkOrGrow(fresh.child, attrs, len, o,
      w => this.child.truncate(fresh.child, w.len, o, w.out),
      (dSize, dBlocks) => this.child.xattrop(fresh.child, GfXattropFlags.ADD_ARRAY64, new Map([[FILE_SIZE_XATTR, fileSizeValue(dSize, dBlocks)]]), o))
  }

  /**
   * Truncate a sharded file from `attrs.size` to `len`. Growing touches no block: only the size
   * goes up. Shrinking removes the blocks past the new end (counting their blocks), cuts the
   * block that now holds the last byte to what it keeps of the file, and lowers the size.
   * GlusterFS 10.3 cuts that block to `len mod blockSize` bytes, which for `len` a multiple of
   * the block size is 0: the file's last block is lost (shard.c shard_truncate_last_shard).
   * Here it keeps `len − first·blockSize` bytes, a whole block in that case. `attrs` is updated.
   */
  async shrinkOrGrow (base: Inode, attrs: ShardAttrs, len: number, o: FopCtx,
    cutBase: (w: { len: number, out: WriteOut }) => Promise<void>,
    addSize: (dSize: bigint, dBlocks: bigint) => Promise<GfxDict>): Promise<void> {
    const old = attrs.size
    if (len === old) return
    const bs = attrs.blockSize
    let dBlocks = 0n
    if (len < old) {
      const first = len === 0 ? 0 : Math.floor((len - 1) / bs)
      const last = Math.floor((old - 1) / bs)
      // blocks believed missing may exist by now (another client): look at each again
      this.forgetBlocks(base.gfid, first)
      const dot = last > first ? await this.dotShard(false, o) : undefined
      if (dot !== undefined) {
        await Promise.all(Array.from({ length: last - first }, (_, k) => first + 1 + k).map(async n => {
          const b = await this.block(base.gfid, n, o)
          if (b === undefined) return
          try {
            const rx = await this.child.unlink(dot, shardName(base.gfid, n), b, { ...o, syscall: o.syscall ?? 'truncate', xdata: { 'gf_get_file_block_count': gfxUint(64) } })
            dBlocks -= gfxDictUint(rx, 'gf_get_file_block_count') ?? 0n
          } catch (e) {
            if (!missing(e)) throw e
          }
        }))
        this.forgetBlocks(base.gfid, first + 1)
      }
      const keep = len - first * bs
      const out: WriteOut = {}
      if (first === 0) {
        await cutBase({ len: keep, out })
      } else {
        const b = await this.block(base.gfid, first, o)
        if (b !== undefined) await this.child.truncate(b, keep, { ...o, syscall: o.syscall ?? 'truncate' }, out)
      }
      if (out.prestat !== undefined && out.poststat !== undefined) dBlocks += out.poststat.ia_blocks - out.prestat.ia_blocks
    }
    const r = await addSize(BigInt(len - old), dBlocks)
    const v = decodeFileSize(gfxDictBin(r, FILE_SIZE_XATTR))
    attrs.size = v !== undefined ? Number(v.size) : len
    attrs.blocks = v !== undefined ? v.blocks : attrs.blocks + dBlocks
  }
}

