// cluster/distribute, read side (gluster-cluster.md §5): a name lives on the subvolume whose
// range of the parent's layout holds its hash; a miss there is looked up everywhere (always:
// correct, a little slower than lookup-optimize); a linkto file points at the real subvolume;
// directories exist on every subvolume and carry one range each. With one subvolume DHT is a
// pass-through. Listings read subvolumes one after another.
import {
  FopProgram, GlusterError, GfxDictType, gfxDictBin, gfxDictString, gfxUint, ROOT_GFID,
  type GfxDirplist, type GfxIattx, type GfxValue,
} from '@gluster-ts/rpc'
import { Replicate, type CallCtx, type ReplicaLookup } from './replicate.js'
import { DHT_LINKTO_XATTR, DHT_XATTR, decodeLayoutXattr, hashedSubvol, isLinkto, makeLayout, type Layout } from './dht-layout.js'
import type { DistributeSpec } from './graph.js'

/** DHT reports every directory of a distributed volume with this size and block count. */
const DHT_DIR_STAT_SIZE = 4096n
const DHT_DIR_STAT_BLOCKS = 8n

export interface Inode {
  gfid: Buffer
  stat: GfxIattx
  /** files: the subvolume holding the data */
  subvol: number
  /** files: the readable copies within that subvolume */
  readable: boolean[]
  /** directories: the lookup on each subvolume (undefined where it failed) */
  dirs?: Array<ReplicaLookup | undefined>
  layout?: Layout
  /** the chosen reply's xdata (glusterfs.content …) */
  lookup: ReplicaLookup
}

export interface RawEntry {
  name: string
  d_type: number
  stat: GfxIattx
}

const S_IFMT = 0o170000
const isDir = (s: GfxIattx): boolean => (s.mode & S_IFMT) === 0o040000

export class Distribute {
  readonly subvols: Replicate[]
  readonly name: string
  readonly rsyncRegex: RegExp | null
  readonly extraRegex: RegExp | null

  constructor (spec: DistributeSpec | undefined, subvols: Replicate[]) {
    this.subvols = subvols
    this.name = spec?.name ?? subvols[0]!.name
    const re = (s: string | null | undefined): RegExp | null => {
      if (s === null || s === undefined) return null
      try { return new RegExp(s) } catch { return null }
    }
    this.rsyncRegex = re(spec?.rsyncHashRegex)
    this.extraRegex = re(spec?.extraHashRegex)
  }

  get single (): boolean { return this.subvols.length === 1 }

  #keys (extra?: Record<string, GfxValue>): Record<string, GfxValue> {
    if (this.single) return { ...extra }
    return { [DHT_XATTR]: gfxUint(16), [DHT_LINKTO_XATTR]: gfxUint(256), ...extra }
  }

  #fileInode (s: number, r: ReplicaLookup): Inode {
    return { gfid: r.stat.ia_gfid, stat: r.stat, subvol: s, readable: r.readable, lookup: r }
  }

  async #dirInode (gfid: Buffer | undefined, pargfid: Buffer | undefined, name: string | undefined, first: { s: number, r: ReplicaLookup } | undefined, extra: Record<string, GfxValue> | undefined, ctx: CallCtx): Promise<Inode> {
    const dirs: Array<ReplicaLookup | undefined> = new Array(this.subvols.length).fill(undefined)
    if (first !== undefined) dirs[first.s] = first.r
    let lastErr: unknown
    await Promise.all(this.subvols.map(async (sv, s) => {
      if (dirs[s] !== undefined) return
      try {
        dirs[s] = await sv.lookup({ ...(gfid !== undefined ? { gfid } : {}), ...(pargfid !== undefined ? { pargfid } : {}), ...(name !== undefined ? { name } : {}), extra: this.#keys(extra) }, ctx)
      } catch (err) { lastErr = err }
    }))
    const base = first?.r ?? dirs.find(d => d !== undefined)
    if (base === undefined) throw lastErr
    const layout = this.single ? undefined : makeLayout(dirs.map((d, s) => decodeLayoutXattr(gfxDictBin(d?.xdata ?? null, DHT_XATTR), s)))
    // merged directory attributes, as DHT's dht_iatt_merge: the latest times; over several
    // subvolumes, size 4096 and 8 blocks (DHT_DIR_STAT_SIZE/BLOCKS) whatever the bricks' own
    // directory sizes (checked against the FUSE mount of vol2: bricks 20480, FUSE 4096)
    let stat = this.single ? base.stat : { ...base.stat, ia_size: DHT_DIR_STAT_SIZE, ia_blocks: DHT_DIR_STAT_BLOCKS }
    for (const d of dirs) {
      if (d === undefined) continue
      const x = d.stat
      if (x.ia_mtime > stat.ia_mtime || (x.ia_mtime === stat.ia_mtime && x.ia_mtime_nsec > stat.ia_mtime_nsec)) stat = { ...stat, ia_mtime: x.ia_mtime, ia_mtime_nsec: x.ia_mtime_nsec }
      if (x.ia_ctime > stat.ia_ctime || (x.ia_ctime === stat.ia_ctime && x.ia_ctime_nsec > stat.ia_ctime_nsec)) stat = { ...stat, ia_ctime: x.ia_ctime, ia_ctime_nsec: x.ia_ctime_nsec }
      if (x.ia_atime > stat.ia_atime || (x.ia_atime === stat.ia_atime && x.ia_atime_nsec > stat.ia_atime_nsec)) stat = { ...stat, ia_atime: x.ia_atime, ia_atime_nsec: x.ia_atime_nsec }
    }
    const inode: Inode = { gfid: base.stat.ia_gfid, stat, subvol: dirs.indexOf(base), readable: base.readable, dirs, lookup: base }
    if (layout !== undefined) inode.layout = layout
    return inode
  }

  lookupRoot (ctx: CallCtx = {}): Promise<Inode> {
    return this.#dirInode(ROOT_GFID, undefined, undefined, undefined, undefined, { ...ctx, path: '/' })
  }

  /** Nameless lookup by gfid: everywhere (DHT does not know where a gfid lives). */
  async lookupGfid (gfid: Buffer, ctx: CallCtx = {}): Promise<Inode> {
    if (this.single) {
      const r = await this.subvols[0]!.lookup({ gfid }, ctx)
      return isDir(r.stat) ? { ...this.#fileInode(0, r), dirs: [r] } : this.#fileInode(0, r)
    }
    return await this.#everywhere({ gfid }, undefined, ctx)
  }

  async lookup (parent: Inode, name: string, ctx: CallCtx = {}, extra?: Record<string, GfxValue>): Promise<Inode> {
    if (this.single) {
      const r = await this.subvols[0]!.lookup({ pargfid: parent.gfid, name, extra: this.#keys(extra) }, ctx)
      return isDir(r.stat) ? { ...this.#fileInode(0, r), dirs: [r] } : this.#fileInode(0, r)
    }
    const layout = parent.layout
    const hashed = layout !== undefined && layout.complete ? hashedSubvol(layout, name, { rsyncRegex: this.rsyncRegex, extraRegex: this.extraRegex }) : -1
    if (hashed < 0) return await this.#everywhere({ pargfid: parent.gfid, name }, extra, ctx)
    let r: ReplicaLookup
    try {
      r = await this.subvols[hashed]!.lookup({ pargfid: parent.gfid, name, extra: this.#keys(extra) }, ctx)
    } catch (err) {
      if (err instanceof GlusterError && (err.code === 'ENOENT' || err.code === 'ESTALE' || err.code === 'ENOTCONN' || err.code === 'EGLUSTER_NO_QUORUM')) {
        return await this.#everywhere({ pargfid: parent.gfid, name }, extra, ctx)
      }
      throw err
    }
    if (isDir(r.stat)) return await this.#dirInode(undefined, parent.gfid, name, { s: hashed, r }, extra, ctx)
    const linkto = gfxDictString(r.xdata, DHT_LINKTO_XATTR)
    if (isLinkto(r.stat.mode, linkto)) {
      const target = this.subvols.findIndex(s => s.name === linkto)
      if (target >= 0) {
        try {
          const t = await this.subvols[target]!.lookup({ pargfid: parent.gfid, name, extra: this.#keys(extra) }, ctx)
          if (!isLinkto(t.stat.mode, gfxDictString(t.xdata, DHT_LINKTO_XATTR))) return this.#fileInode(target, t)
        } catch (err) {
          if (!(err instanceof GlusterError && err.code === 'ENOENT')) throw err
        }
      }
      return await this.#everywhere({ pargfid: parent.gfid, name }, extra, ctx)
    }
    return this.#fileInode(hashed, r)
  }

  async #everywhere (args: { pargfid?: Buffer, name?: string, gfid?: Buffer }, extra: Record<string, GfxValue> | undefined, ctx: CallCtx): Promise<Inode> {
    const res = await Promise.allSettled(this.subvols.map(sv => sv.lookup({ ...args, extra: this.#keys(extra) }, ctx)))
    let dir: { s: number, r: ReplicaLookup } | undefined
    let file: { s: number, r: ReplicaLookup } | undefined
    let firstErr: unknown
    let enoent: unknown
    res.forEach((x, s) => {
      if (x.status === 'rejected') {
        if (x.reason instanceof GlusterError && x.reason.code === 'ENOENT') enoent ??= x.reason
        else firstErr ??= x.reason
        return
      }
      const r = x.value
      if (isDir(r.stat)) dir ??= { s, r }
      else if (!isLinkto(r.stat.mode, gfxDictString(r.xdata, DHT_LINKTO_XATTR))) file ??= { s, r }
    })
    if (dir !== undefined) {
      const dirs: Array<ReplicaLookup | undefined> = res.map(x => (x.status === 'fulfilled' && isDir(x.value.stat) ? x.value : undefined))
      const layout = makeLayout(dirs.map((d, s) => decodeLayoutXattr(gfxDictBin(d?.xdata ?? null, DHT_XATTR), s)))
      return { gfid: dir.r.stat.ia_gfid, stat: dir.r.stat, subvol: dir.s, readable: dir.r.readable, dirs, layout, lookup: dir.r }
    }
    if (file !== undefined) return this.#fileInode(file.s, file.r)
    throw firstErr ?? enoent ?? new GlusterError('ENOENT', `ENOENT: lookup '${ctx.path ?? args.name ?? ''}'`, { syscall: 'lookup', ...(ctx.path !== undefined ? { path: ctx.path } : {}) })
  }

  /**
   * Entries of a directory, one page at a time: subvolume after subvolume; on each, one readable
   * copy (OPENDIR + READDIRP at that brick's offsets). If that brick fails mid-listing the
   * listing restarts on another copy, skipping the names already given.
   */
  async * list (dir: Inode, ctx: CallCtx & { pageBytes?: number } = {}): AsyncGenerator<RawEntry[]> {
    const dirsSeen = new Set<string>()
    const dirs = dir.dirs ?? [dir.lookup]
    for (let s = 0; s < this.subvols.length; s++) {
      const d = dirs[s]
      if (d === undefined) continue
      const sv = this.subvols[s]!
      const given = new Set<string>()
      const tried = new Set<number>()
      for (;;) {
        const child = sv.pickChild(dir.gfid, d.readable, true, tried)
        if (child < 0) throw new GlusterError('ENOTCONN', `readdir '${ctx.path ?? ''}': no readable copy left in ${sv.name}`, { syscall: 'readdir', ...(ctx.path !== undefined ? { path: ctx.path } : {}) })
        tried.add(child)
        let fd: bigint | undefined
        try {
          const od = await sv.callChild(child, FopProgram.procs.OPENDIR, { gfid: dir.gfid, xdata: null }, { ...ctx, syscall: 'opendir' })
          fd = od.fd
          let offset = 0n
          for (;;) {
            const xdata = this.single ? null : new Map([[DHT_LINKTO_XATTR, gfxUint(256)]])
            const r = await sv.callChild(child, FopProgram.procs.READDIRP, { gfid: dir.gfid, fd, offset, size: ctx.pageBytes ?? 131072, xdata }, { ...ctx, syscall: 'readdir' })
            if (r.reply.length === 0) break
            const page: RawEntry[] = []
            for (const e of r.reply) {
              offset = e.d_off
              if (e.name === '.' || e.name === '..' || given.has(e.name)) continue
              if (!this.#visible(e, dir, s, dirsSeen)) continue
              given.add(e.name)
              page.push({ name: e.name, d_type: e.d_type, stat: e.stat })
            }
            if (page.length > 0) yield page
            if (r.op_errno === 2) break // the brick says this page reached the end
          }
          sv.callChild(child, FopProgram.procs.RELEASEDIR, { gfid: dir.gfid, fd, xdata: null }, { syscall: 'releasedir' }).catch(() => {})
          break
        } catch (err) {
          if (fd !== undefined) sv.callChild(child, FopProgram.procs.RELEASEDIR, { gfid: dir.gfid, fd, xdata: null }, { syscall: 'releasedir' }).catch(() => {})
          if (err instanceof GlusterError && (err.code === 'ABORT_ERR' || err.code === 'ENOENT' || err.code === 'ENOTDIR' || err.code === 'EACCES')) throw err
          if ((err as { name?: string }).name === 'AbortError') throw err
          // another copy, from the start, skipping what was given
        }
      }
    }
  }

  #visible (e: GfxDirplist, dir: Inode, s: number, dirsSeen: Set<string>): boolean {
    if (this.single) return true
    const mode = e.stat.mode
    const linkto = e.dict?.get(DHT_LINKTO_XATTR)
    if ((mode & S_IFMT) === 0o100000 && (mode & 0o7777) === 0o1000 && linkto !== undefined && (linkto.type === GfxDictType.PTR || linkto.type === GfxDictType.STR || linkto.type === GfxDictType.STR_OLD)) return false
    if (e.d_type === 4 || (mode & S_IFMT) === 0o040000) {
      // a directory is on every subvolume: give it once (from its hashed one when we can tell)
      if (dirsSeen.has(e.name)) return false
      const layout = dir.layout
      const hashed = layout !== undefined && layout.complete ? hashedSubvol(layout, e.name, { rsyncRegex: this.rsyncRegex, extraRegex: this.extraRegex }) : -1
      if (hashed >= 0 && hashed !== s && dir.dirs?.[hashed] !== undefined && this.subvols[hashed]!.upCount > 0) return false
      dirsSeen.add(e.name)
    }
    return true
  }
}
