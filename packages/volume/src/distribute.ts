// cluster/distribute (gluster-cluster.md §5) as a layer over its subvolumes (replicate sets,
// bare bricks, disperse sets: any Layer).
//
// Reads: a name lives on the subvolume whose range of the parent's layout holds its hash; a miss
// there is looked up everywhere (always: correct, a little slower than lookup-optimize); a linkto
// file points at the real subvolume; directories exist on every subvolume and carry one range
// each. Listings read subvolumes one after another. With one subvolume DHT is a pass-through.
//
// Writes (§5.6): a new name goes to its hashed subvolume; on several subvolumes CREATE and the
// hashed MKDIR also carry the parent's layout slice under `glusterfs.preop.parent.key`, so a brick
// refuses the create when the parent's layout changed under us (then we look the parent up again
// and retry once), as DHT does. mkdir makes the directory on the hashed subvolume first under
// DHT's entry lock, then everywhere else, then gives each subvolume its range. A renamed file
// keeps its data where it is and gets a linkto on its new name's hashed subvolume.
import {
  GlusterError, GfxDictType, ROOT_GFID, gfxBin, gfxDictBin, gfxDictString, gfxStr, gfxUint,
  type GfStatfs, type GfxDict, type GfxIattx,
} from '@gluster-ts/rpc'
import type { BrickClient } from './brick.js'
import { DHT_LINKTO_XATTR, DHT_XATTR, decodeLayoutXattr, encodeLayoutXattr, hashedSubvol, isLinkto, makeLayout, newDirectoryLayout, type Layout } from './dht-layout.js'
import type { DistributeSpec } from './graph.js'
import {
  ownCtx, withSize,
  type CreateOpts, type DirEntry, type FopCtx, type Inode, type Layer, type LayerFd, type LockTarget, type LookupOpts, type RenameSide, type WriteOut, type XdataKeys,
} from './layer.js'

/** DHT reports every directory of a distributed volume with this size and block count. */
const DHT_DIR_STAT_SIZE = 4096n
const DHT_DIR_STAT_BLOCKS = 8n
const S_IFMT = 0o170000
const S_IFREG = 0o100000

/** What DHT keeps per inode. */
interface DhtInode {
  /** files: the subvolume holding the data; directories: the one whose answer was taken */
  subvol: number
  /** that subvolume's inode */
  child: Inode
  /** directories: the inode on each subvolume (undefined where the lookup failed) */
  dirs?: Array<Inode | undefined>
  layout?: Layout
}

const isDir = (s: GfxIattx): boolean => (s.mode & S_IFMT) === 0o040000

function err (code: string, message: string, extra: Record<string, unknown>): GlusterError {
  return new GlusterError(code, `${code}: ${message}`, extra)
}

const gone = (e: unknown): void => { if (!(e instanceof GlusterError && e.code === 'ENOENT')) throw e }

function dirname (path: string): string {
  const i = path.lastIndexOf('/')
  return i <= 0 ? '/' : path.slice(0, i)
}

export class DistributeLayer implements Layer {
  readonly type = 'cluster/distribute'
  readonly name: string
  readonly children: readonly Layer[]
  readonly rsyncRegex: RegExp | null
  readonly extraRegex: RegExp | null

  constructor (spec: DistributeSpec, children: Layer[]) {
    this.children = children
    this.name = spec.name
    const re = (s: string | null | undefined): RegExp | null => {
      if (s === null || s === undefined) return null
      try { return new RegExp(s) } catch { return null }
    }
    this.rsyncRegex = re(spec.rsyncHashRegex)
    this.extraRegex = re(spec.extraHashRegex)
  }

  get single (): boolean { return this.children.length === 1 }
  get bricks (): readonly BrickClient[] { return this.children.flatMap(c => c.bricks) }
  ready (): boolean { return this.children.every(c => c.ready()) }
  whyNot (): string { return this.children.filter(c => !c.ready()).map(c => c.whyNot()).join('; ') }

  #keys (extra?: XdataKeys): XdataKeys {
    if (this.single) return { ...extra }
    return { [DHT_XATTR]: gfxUint(16), [DHT_LINKTO_XATTR]: gfxUint(256), ...extra }
  }

  #lookupOpts (o: LookupOpts): LookupOpts {
    return { ...o, xdata: this.#keys(o.xdata) }
  }

  #fileInode (s: number, child: Inode): Inode {
    return { gfid: child.gfid, stat: child.stat, xdata: child.xdata, layer: this, ctx: { subvol: s, child } satisfies DhtInode }
  }

  #ctx (inode: Inode, o: FopCtx = {}): DhtInode { return ownCtx<DhtInode>(this, inode, o) }

  /** The subvolume holding a file (or the directory copy DHT took the answer from). */
  #cached (inode: Inode, o: FopCtx = {}): { c: Layer, child: Inode, s: number } {
    const x = this.#ctx(inode, o)
    return { c: this.children[x.subvol]!, child: x.child, s: x.subvol }
  }

  /** A directory's inode on subvolume s (any copy where it is missing there: entry fops need its gfid only). */
  #dirAt (dir: Inode, s: number): Inode {
    const x = this.#ctx(dir)
    return x.dirs?.[s] ?? x.child
  }

  #dirInode (dirs: Array<Inode | undefined>, first: number): Inode {
    const base = dirs[first]!
    const layout = this.single ? undefined : makeLayout(dirs.map((d, s) => decodeLayoutXattr(gfxDictBin(d?.xdata ?? null, DHT_XATTR), s)))
    // merged directory attributes, as DHT's dht_iatt_merge: the latest times; over several
    // subvolumes, size 4096 and 8 blocks (DHT_DIR_STAT_SIZE/BLOCKS) whatever the bricks' own
    // directory sizes (checked against the FUSE mount of vol2: bricks 20480, FUSE 4096)
    let stat = this.single ? base.stat : withSize(base.stat, DHT_DIR_STAT_SIZE, DHT_DIR_STAT_BLOCKS)
    for (const d of dirs) {
      if (d === undefined) continue
      const x = d.stat
      if (x.ia_mtime > stat.ia_mtime || (x.ia_mtime === stat.ia_mtime && x.ia_mtime_nsec > stat.ia_mtime_nsec)) stat = { ...stat, ia_mtime: x.ia_mtime, ia_mtime_nsec: x.ia_mtime_nsec }
      if (x.ia_ctime > stat.ia_ctime || (x.ia_ctime === stat.ia_ctime && x.ia_ctime_nsec > stat.ia_ctime_nsec)) stat = { ...stat, ia_ctime: x.ia_ctime, ia_ctime_nsec: x.ia_ctime_nsec }
      if (x.ia_atime > stat.ia_atime || (x.ia_atime === stat.ia_atime && x.ia_atime_nsec > stat.ia_atime_nsec)) stat = { ...stat, ia_atime: x.ia_atime, ia_atime_nsec: x.ia_atime_nsec }
    }
    const ctx: DhtInode = { subvol: first, child: base, dirs, ...(layout !== undefined ? { layout } : {}) }
    // the merged layout is also on the inode itself, for diagnostics and tests
    const inode: Inode & { layout?: Layout } = { gfid: base.gfid, stat, xdata: base.xdata, layer: this, ctx, ...(layout !== undefined ? { layout } : {}) }
    return inode
  }

  /** A directory looked up on every subvolume (the one already answered is reused). */
  async #dirEverywhere (lookup: (c: Layer) => Promise<Inode>, first: { s: number, inode: Inode } | undefined): Promise<Inode> {
    const dirs: Array<Inode | undefined> = new Array(this.children.length).fill(undefined)
    if (first !== undefined) dirs[first.s] = first.inode
    let lastErr: unknown
    await Promise.all(this.children.map(async (c, s) => {
      if (dirs[s] !== undefined) return
      try { dirs[s] = await lookup(c) } catch (e) { lastErr = e }
    }))
    const at = first?.s ?? dirs.findIndex(d => d !== undefined)
    if (at < 0) throw lastErr
    return this.#dirInode(dirs, at)
  }

  #wrap (s: number, child: Inode): Inode {
    return isDir(child.stat) ? this.#dirInode(this.children.map((_, k) => (k === s ? child : undefined)), s) : this.#fileInode(s, child)
  }

  // ---- lookups ----

  /** Nameless lookup by gfid: everywhere (DHT does not know where a gfid lives); the root on every subvolume. */
  async lookupGfid (gfid: Buffer, o: LookupOpts = {}): Promise<Inode> {
    const lo = this.#lookupOpts(o)
    if (gfid.equals(ROOT_GFID)) return await this.#dirEverywhere(c => c.lookupGfid(gfid, lo), undefined)
    if (this.single) return this.#wrap(0, await this.children[0]!.lookupGfid(gfid, lo))
    return await this.#everywhere(c => c.lookupGfid(gfid, lo), o)
  }

  async lookup (parent: Inode, name: string, o: LookupOpts = {}): Promise<Inode> {
    const lo = this.#lookupOpts(o)
    if (this.single) return this.#wrap(0, await this.children[0]!.lookup(this.#dirAt(parent, 0), name, lo))
    const at = (c: Layer, s: number): Promise<Inode> => c.lookup(this.#dirAt(parent, s), name, lo)
    const hashed = this.#hashedOrNone(parent, name)
    if (hashed < 0) return await this.#everywhere(at, o)
    let r: Inode
    try {
      r = await at(this.children[hashed]!, hashed)
    } catch (e) {
      if (e instanceof GlusterError && (e.code === 'ENOENT' || e.code === 'ESTALE' || e.code === 'ENOTCONN' || e.code === 'EGLUSTER_NO_QUORUM')) return await this.#everywhere(at, o)
      throw e
    }
    if (isDir(r.stat)) return await this.#dirEverywhere(c => at(c, this.children.indexOf(c)), { s: hashed, inode: r })
    const linkto = gfxDictString(r.xdata, DHT_LINKTO_XATTR)
    if (isLinkto(r.stat.mode, linkto)) {
      const target = this.children.findIndex(s => s.name === linkto)
      if (target >= 0) {
        try {
          const t = await at(this.children[target]!, target)
          if (!isLinkto(t.stat.mode, gfxDictString(t.xdata, DHT_LINKTO_XATTR))) return this.#fileInode(target, t)
        } catch (e) { gone(e) }
      }
      return await this.#everywhere(at, o)
    }
    return this.#fileInode(hashed, r)
  }

  async #everywhere (lookup: (c: Layer, s: number) => Promise<Inode>, o: FopCtx): Promise<Inode> {
    const res = await Promise.allSettled(this.children.map((c, s) => lookup(c, s)))
    let dir: number | undefined
    let file: { s: number, inode: Inode } | undefined
    let firstErr: unknown
    let enoent: unknown
    res.forEach((x, s) => {
      if (x.status === 'rejected') {
        if (x.reason instanceof GlusterError && x.reason.code === 'ENOENT') enoent ??= x.reason
        else firstErr ??= x.reason
        return
      }
      const r = x.value
      if (isDir(r.stat)) dir ??= s
      else if (!isLinkto(r.stat.mode, gfxDictString(r.xdata, DHT_LINKTO_XATTR))) file ??= { s, inode: r }
    })
    if (dir !== undefined) return this.#dirInode(res.map(x => (x.status === 'fulfilled' && isDir(x.value.stat) ? x.value : undefined)), dir)
    if (file !== undefined) return this.#fileInode(file.s, file.inode)
    throw firstErr ?? enoent ?? new GlusterError('ENOENT', `ENOENT: lookup '${o.path ?? ''}'`, { syscall: 'lookup', ...(o.path !== undefined ? { path: o.path } : {}) })
  }

  /**
   * Entries of a directory, one page at a time: subvolume after subvolume, DHT's link files
   * hidden, each directory given once.
   */
  async * readdir (dir: Inode, o: FopCtx & { pageBytes?: number, xdata?: XdataKeys } = {}): AsyncGenerator<DirEntry[]> {
    const x = this.#ctx(dir, o)
    const dirs = x.dirs ?? [x.child]
    const dirsSeen = new Set<string>()
    const ro = this.single ? o : { ...o, xdata: { ...o.xdata, [DHT_LINKTO_XATTR]: gfxUint(256) } }
    for (let s = 0; s < this.children.length; s++) {
      const d = dirs[s]
      if (d === undefined) continue
      for await (const page of this.children[s]!.readdir(d, ro)) {
        const out = this.single ? page : page.filter(e => this.#visible(e, x, s, dirsSeen))
        if (out.length > 0) yield out
      }
    }
  }

  #visible (e: DirEntry, dir: DhtInode, s: number, dirsSeen: Set<string>): boolean {
    const mode = e.stat.mode
    const linkto = e.dict?.get(DHT_LINKTO_XATTR)
    if ((mode & S_IFMT) === S_IFREG && (mode & 0o7777) === 0o1000 && linkto !== undefined && (linkto.type === GfxDictType.PTR || linkto.type === GfxDictType.STR || linkto.type === GfxDictType.STR_OLD)) return false
    if (e.d_type === 4 || (mode & S_IFMT) === 0o040000) {
      // a directory is on every subvolume: give it once (from its hashed one when we can tell)
      if (dirsSeen.has(e.name)) return false
      const layout = dir.layout
      const hashed = layout !== undefined && layout.complete ? hashedSubvol(layout, e.name, { rsyncRegex: this.rsyncRegex, extraRegex: this.extraRegex }) : -1
      if (hashed >= 0 && hashed !== s && dir.dirs?.[hashed] !== undefined && this.children[hashed]!.bricks.some(b => b.up)) return false
      dirsSeen.add(e.name)
    }
    return true
  }

  // ---- inode fops on the subvolume holding the file ----

  readlink (inode: Inode, o: FopCtx = {}): Promise<string> { const { c, child } = this.#cached(inode, o); return c.readlink(child, o) }
  access (inode: Inode, mask: number, o: FopCtx = {}): Promise<void> { const { c, child } = this.#cached(inode, o); return c.access(child, mask, o) }
  getxattr (inode: Inode, name: string | null, o: FopCtx = {}): Promise<GfxDict> { const { c, child } = this.#cached(inode, o); return c.getxattr(child, name, o) }
  read (inode: Inode, offset: number, size: number, o: FopCtx & { into?: Buffer } = {}): Promise<Buffer> { const { c, child } = this.#cached(inode, o); return c.read(child, offset, size, o) }
  truncate (inode: Inode, len: number, o: FopCtx = {}, out?: WriteOut): Promise<void> { const { c, child } = this.#cached(inode, o); return c.truncate(child, len, o, out) }
  xattrop (inode: Inode, flags: number, dict: GfxDict, o: FopCtx & { xdata?: XdataKeys } = {}): Promise<GfxDict> { const { c, child } = this.#cached(inode, o); return c.xattrop(child, flags, dict, o) }
  open (inode: Inode, flags: number, o: FopCtx = {}): Promise<LayerFd> { const { c, child } = this.#cached(inode, o); return c.open(child, flags, o) }
  anonymous (inode: Inode, path: string): LayerFd { const { c, child } = this.#cached(inode); return c.anonymous(child, path) }

  /** Summed over the subvolumes (in units of the first one's fragment size), as DHT's statfs. */
  async statfs (inode: Inode, o: FopCtx = {}): Promise<GfStatfs> {
    const x = this.#ctx(inode, o)
    const all = await Promise.all(this.children.map(async (c, s) => {
      const at = x.dirs?.[s] ?? (s === x.subvol ? x.child : await c.lookupGfid(ROOT_GFID, o))
      return await c.statfs(at, o)
    }))
    const f = all[0]!
    const sum = (k: 'blocks' | 'bfree' | 'bavail'): bigint => all.reduce((n, v) => n + v[k] * v.frsize / f.frsize, 0n)
    return { ...f, blocks: sum('blocks'), bfree: sum('bfree'), bavail: sum('bavail'), files: all.reduce((n, v) => n + v.files, 0n), ffree: all.reduce((n, v) => n + v.ffree, 0n) }
  }

  /** Metadata of a directory goes to every subvolume it is on (its hashed one first), of a file to its own. */
  async #metadata (inode: Inode, o: FopCtx, fop: (c: Layer, at: Inode) => Promise<void>): Promise<void> {
    const x = this.#ctx(inode, o)
    if (!isDir(inode.stat) || this.single) { await fop(this.children[x.subvol]!, x.child); return }
    const mds = o.path === '/' ? 0 : x.subvol
    const all = this.children.map((_, s) => s).filter(s => x.dirs?.[s] !== undefined)
    for (const s of [...all.filter(s => s === mds), ...all.filter(s => s !== mds)]) await fop(this.children[s]!, x.dirs![s]!)
  }

  setattr (inode: Inode, valid: number, stbuf: GfxIattx, o: FopCtx = {}): Promise<void> { return this.#metadata(inode, o, (c, at) => c.setattr(at, valid, stbuf, o)) }
  setxattr (inode: Inode, dict: GfxDict, flags: number, o: FopCtx & { xdata?: XdataKeys } = {}): Promise<void> { return this.#metadata(inode, o, (c, at) => c.setxattr(at, dict, flags, o)) }
  removexattr (inode: Inode, name: string, o: FopCtx = {}): Promise<void> { return this.#metadata(inode, o, (c, at) => c.removexattr(at, name, o)) }

  async lock (target: LockTarget, domain: string, o: FopCtx = {}): Promise<() => Promise<void>> {
    if (target.kind === 'inode') { const { c, child } = this.#cached(target.inode, o); return await c.lock({ kind: 'inode', inode: child }, domain, o) }
    if (target.name === null || this.single) return await this.children[0]!.lock({ kind: 'entry', parent: this.#dirAt(target.parent, 0), name: target.name }, domain, o)
    const p = await this.#current(target.parent, o)
    const s = this.hashed(p, target.name, o.path ?? target.name)
    return await this.children[s]!.lock({ kind: 'entry', parent: this.#dirAt(p, s), name: target.name }, domain, o)
  }

  // ---- placement ----

  #hashedOrNone (parent: Inode, name: string): number {
    const layout = this.#ctx(parent).layout
    return layout !== undefined && layout.complete ? hashedSubvol(layout, name, { rsyncRegex: this.rsyncRegex, extraRegex: this.extraRegex }) : -1
  }

  /**
   * The parent as it is now when the inode we were given has no complete layout. Our inode may
   * be older than the layout: the caller's directory cache (resolver.ts) keeps a directory for
   * its entry timeout, and #placeable may have written the layout since (the first name made in
   * a fresh volume's root); or one subvolume missed the LOOKUP that made it (#dirEverywhere keeps
   * the copies that answered). DHT refreshes a layout that does not cover the ring in its own
   * lookup (dht-common.c: dht_lookup_dir_cbk, dht_layout_normalize) before it trusts it.
   */
  async #current (parent: Inode, o: FopCtx): Promise<Inode> {
    const layout = this.#ctx(parent, o).layout
    if (this.single || (layout !== undefined && layout.complete)) return parent
    return await this.lookupGfid(parent.gfid, { ...o, ...(o.path !== undefined ? { path: dirname(o.path) } : {}) })
  }

  /** The subvolume a new name goes to (the parent's layout), as DHT's hashed subvolume. */
  hashed (parent: Inode, name: string, path: string): number {
    if (this.single) return 0
    const s = this.#hashedOrNone(parent, name)
    if (s < 0) throw err('EIO', `the layout of the parent of '${path}' has holes (run a rebalance fix-layout); cannot place the name`, { path, syscall: 'create', errno: 5 })
    return s
  }

  /** The parent's layout slice on subvol s, for the brick's preop check (several subvolumes only). */
  #preopKeys (parent: Inode, s: number): XdataKeys {
    if (this.single) return {}
    const slice = gfxDictBin(this.#ctx(parent).dirs?.[s]?.xdata ?? null, DHT_XATTR)
    if (slice === undefined) return {}
    return { 'glusterfs.preop.parent.key': gfxStr(DHT_XATTR), [DHT_XATTR]: gfxBin(slice) }
  }

  #preopFailed (e: unknown): boolean {
    // the brick refused: the parent's layout changed since we looked it up (EIO + glusterfs.preop.check.failed)
    return e instanceof GlusterError && e.code === 'EIO' && !this.single
  }

  /**
   * A directory with no layout on any subvolume (a fresh volume's root on our own server, a
   * directory made by a pure-replicate client before an add-brick) gets one, as DHT's
   * directory self-heal gives it: the ranges of a new directory, commit hash 1. A layout with
   * only some ranges is left alone (that is rebalance's work): placing names in it fails EIO.
   */
  async #placeable (dir: Inode, path: string, o: FopCtx): Promise<Inode> {
    const x = this.#ctx(dir, o)
    if (this.single || (x.layout !== undefined && x.layout.complete)) return dir
    if ((x.layout?.ranges.length ?? 0) > 0 || x.dirs === undefined || x.dirs.some(d => d === undefined)) return dir
    const layout = newDirectoryLayout(path, this.children.length, 1)
    await Promise.all(layout.ranges.map(r => this.children[r.subvol]!.setxattr(x.dirs![r.subvol]!, new Map([[DHT_XATTR, gfxBin(encodeLayoutXattr(r))]]), 0,
      { ...o, syscall: 'setxattr', path, xdata: { 'glusterfs-internal-fop': gfxStr('yes') } })))
    return await this.lookupGfid(dir.gfid, o)
  }

  /** Place a new name and run `make` there; once more with the parent looked up again when the brick saw a newer layout. */
  async #place<T> (parent: Inode, name: string, o: FopCtx, make: (s: number, at: Inode, preop: XdataKeys) => Promise<T>): Promise<T> {
    const parentPath = dirname(o.path ?? '/')
    let p = await this.#placeable(await this.#current(parent, o), parentPath, o)
    for (let attempt = 0; ; attempt++) {
      const s = this.hashed(p, name, o.path ?? name)
      try {
        return await make(s, this.#dirAt(p, s), this.#preopKeys(p, s))
      } catch (e) {
        if (attempt > 0 || !this.#preopFailed(e)) throw e
        p = await this.lookupGfid(p.gfid, o)
      }
    }
  }

  async create (parent: Inode, name: string, flags: number, o: CreateOpts): Promise<{ inode: Inode, fd: LayerFd }> {
    return await this.#place(parent, name, o, async (s, at, preop) => {
      const r = await this.children[s]!.create(at, name, flags, { ...o, xdata: { ...o.xdata, ...preop } })
      return { inode: this.#fileInode(s, r.inode), fd: r.fd }
    })
  }

  /**
   * MKNOD on the hashed subvolume, without the parent's layout slice: DHT sends it with CREATE
   * and MKDIR only (FUSE's MKNODs of shard blocks carry `gfid-req` alone), and a brick would
   * store it, and stop storing the request's other keys at `glusterfs.preop.parent.key`.
   */
  async mknod (parent: Inode, name: string, rdev: bigint, o: CreateOpts): Promise<Inode> {
    return await this.#place(parent, name, o, async (s, at) => this.#fileInode(s, await this.children[s]!.mknod(at, name, rdev, o)))
  }

  async symlink (parent: Inode, name: string, target: string, o: CreateOpts): Promise<void> {
    await this.#place(parent, name, o, (s, at) => this.children[s]!.symlink(at, name, target, o))
  }

  async mkdir (parent: Inode, name: string, o: CreateOpts): Promise<Inode> {
    const path = o.path ?? name
    if (this.single) {
      // pass-through DHT still gives the new directory its (whole) layout in the MKDIR xdata
      return this.#wrap(0, await this.children[0]!.mkdir(this.#dirAt(parent, 0), name, { ...o, xdata: { ...o.xdata, [DHT_XATTR]: gfxBin(encodeLayoutXattr({ commitHash: 0, start: 0, stop: 0xffffffff })) } }))
    }
    // several subvolumes (§5.6): the hashed one first (with the parent-layout check and the MDS
    // key) under DHT's entry lock, so two clients making the same name agree on one gfid; then
    // every other one, then each its range of the new layout
    const made = await this.#place(parent, name, o, async (hashed, at, preop) => {
      const release = await this.children[hashed]!.lock({ kind: 'entry', parent: at, name }, 'dht.entry.sync', { ...o, syscall: 'mkdir' })
      try {
        const first = await this.children[hashed]!.mkdir(at, name, { ...o, xdata: { ...o.xdata, ...preop, 'trusted.glusterfs.dht.mds': gfxBin(Buffer.alloc(4)) } })
        return { hashed, first }
      } finally {
        await release()
      }
    })
    const dirs: Array<Inode | undefined> = this.children.map((_, s) => (s === made.hashed ? made.first : undefined))
    await Promise.all(this.children.map(async (c, s) => {
      if (s === made.hashed) return
      dirs[s] = await c.mkdir(this.#dirAt(parent, s), name, { ...o, xdata: { ...o.xdata } })
    }))
    const layout = newDirectoryLayout(path, this.children.length, 0)
    await Promise.all(layout.ranges.map(r => this.children[r.subvol]!.setxattr(dirs[r.subvol]!, new Map([[DHT_XATTR, gfxBin(encodeLayoutXattr(r))]]), 0,
      { ...o, syscall: 'mkdir', xdata: { 'glusterfs-internal-fop': gfxStr('yes') } })))
    // the MKDIR replies predate the layout: the new inode carries the ranges just written, as a
    // LOOKUP would report them (an inode without them would make its names unplaceable)
    const withRange = (d: Inode, s: number): Inode => {
      const r = layout.ranges.find(x => x.subvol === s)
      return r === undefined ? d : { ...d, xdata: new Map([...(d.xdata ?? []), [DHT_XATTR, gfxBin(encodeLayoutXattr(r))]]) }
    }
    return this.#dirInode(dirs.map((d, s) => (d === undefined ? d : withRange(d, s))), made.hashed)
  }

  async rmdir (parent: Inode, name: string, inode: Inode, o: FopCtx = {}): Promise<void> {
    const x = this.#ctx(inode, o)
    if (this.single) { await this.children[0]!.rmdir(this.#dirAt(parent, 0), name, x.child, o); return }
    for await (const page of this.readdir(inode, o)) {
      if (page.length > 0) throw err('ENOTEMPTY', `directory not empty, rmdir '${o.path ?? name}'`, { ...(o.path !== undefined ? { path: o.path } : {}), syscall: 'rmdir', errno: 39 })
    }
    // every subvolume but the hashed (MDS) one, then the hashed one; with no hashed one (the
    // parent's layout still has holes after a fresh look) every subvolume at once, as DHT's
    // rmdir does rather than fail (dht-common.c: dht_rmdir_do, dht_rmdir_lock_cbk)
    const p = await this.#current(parent, o)
    const hashed = this.#hashedOrNone(p, name)
    const rm = (s: number): Promise<void> => this.children[s]!.rmdir(this.#dirAt(p, s), name, x.dirs?.[s] ?? x.child, o)
    if (hashed >= 0) {
      await Promise.all(this.children.map((_, s) => s).filter(s => s !== hashed).map(s => rm(s).catch(gone)))
      await rm(hashed)
      return
    }
    const res = await Promise.allSettled(this.children.map((_, s) => rm(s)))
    const failed = res.flatMap(r => (r.status === 'rejected' ? [r.reason as unknown] : []))
    const bad = failed.find(e => !(e instanceof GlusterError && e.code === 'ENOENT'))
    if (bad !== undefined) throw bad
    if (failed.length === res.length) throw failed[0] // gone from every subvolume already
  }

  async unlink (parent: Inode, name: string, inode: Inode, o: FopCtx & { xdata?: XdataKeys } = {}): Promise<GfxDict> {
    const { c, child, s } = this.#cached(inode, o)
    const r = await c.unlink(this.#dirAt(parent, s), name, child, o)
    if (!this.single) {
      // a linkto left on the hashed subvolume goes too; with no hashed subvolume (the parent's
      // layout has holes) there is none to find, and the unlink stands, as in DHT's unlink_cbk
      const { xdata: _x, ...plain } = o
      // (the unlink is done: a parent we cannot look up again only means no clean-up)
      const p = await this.#current(parent, plain).catch(() => parent)
      const hashed = this.#hashedOrNone(p, name)
      if (hashed >= 0 && hashed !== s) await this.children[hashed]!.unlink(this.#dirAt(p, hashed), name, child, plain).catch(gone)
    }
    return r
  }

  /** A DHT link file (mode ---------T, linkto xattr) for `name` on subvol s pointing at `target`. */
  async #linkto (s: number, parent: Inode, name: string, gfid: Buffer, target: number, o: FopCtx): Promise<void> {
    await this.children[s]!.mknod(this.#dirAt(parent, s), name, 0n, {
      ...o, mode: S_IFREG | 0o1000, gfid, xdata: { 'glusterfs-internal-fop': gfxStr('yes'), [DHT_LINKTO_XATTR]: gfxStr(this.children[target]!.name) },
    })
  }

  async link (inode: Inode, parent: Inode, name: string, o: FopCtx = {}): Promise<void> {
    const { c, child, s } = this.#cached(inode, o)
    const p = await this.#current(parent, o)
    const hashed = this.hashed(p, name, o.path ?? name)
    await c.link(child, this.#dirAt(p, s), name, o)
    if (hashed !== s) await this.#linkto(hashed, p, name, inode.gfid, s, o)
  }

  async rename (source: Required<RenameSide>, target: RenameSide, o: FopCtx = {}): Promise<void> {
    const src = this.#ctx(source.inode, o)
    const dst = target.inode !== undefined ? this.#ctx(target.inode, o) : undefined
    // both parents with a layout as it is now (see #current); `o.path` is the source's
    const { path: _p, ...noPath } = o
    const from = { ...source, parent: await this.#current(source.parent, o) }
    const to = { ...target, parent: target.parent === source.parent ? from.parent : await this.#current(target.parent, noPath) }
    const ren = (s: number): Promise<void> => this.children[s]!.rename(
      { parent: this.#dirAt(from.parent, s), name: from.name, inode: src.dirs?.[s] ?? src.child },
      { parent: this.#dirAt(to.parent, s), name: to.name, ...(dst !== undefined ? { inode: dst.dirs?.[s] ?? dst.child } : {}) }, o)
    if (this.single) { await ren(0); return }
    if (isDir(from.inode.stat)) {
      // a directory is on every subvolume: the destination's hashed one first, then the rest
      const first = this.hashed(to.parent, to.name, to.name)
      await ren(first)
      await Promise.all(this.children.map((_, s) => s).filter(s => s !== first).map(s => ren(s).catch(gone)))
      return
    }
    // a file: the data stays on its subvolume under the new name; a linkto names it on the new
    // name's hashed subvolume when that is another one; stale linkto and replaced data go
    const cached = src.subvol
    const srcHashed = this.hashed(from.parent, from.name, from.name)
    const dstHashed = this.hashed(to.parent, to.name, to.name)
    const unlinkAt = (s: number, side: RenameSide, victim: Inode): Promise<void> =>
      this.children[s]!.unlink(this.#dirAt(side.parent, s), side.name, victim, { ...o, syscall: 'rename' }).then(() => {}, gone)
    if (dst !== undefined && dst.subvol !== cached) await unlinkAt(dst.subvol, to, dst.child) // the replaced file's data, elsewhere
    if (dstHashed !== cached) {
      if (dst !== undefined && dst.subvol !== dstHashed) await unlinkAt(dstHashed, to, dst.child)
      await this.#linkto(dstHashed, to.parent, to.name, from.inode.gfid, cached, { ...o, syscall: 'rename' }).catch(e => {
        if (!(e instanceof GlusterError && e.code === 'EEXIST')) throw e
      })
    }
    await ren(cached)
    if (srcHashed !== cached) await unlinkAt(srcHashed, from, src.child)
  }
}
