// The write side of the Volume API: entry fops (create, mkdir, unlink, rmdir, rename, link,
// symlink), inode fops (truncate, setattr, setxattr, removexattr) and opening files for writing,
// each placed by DHT (gluster-cluster.md §5.6) and run in AFR transactions (afr-txn.ts).
//
// New objects get a gfid we generate, sent as `gfid-req` to every brick of the set (the same
// on all, so every replica holds the same trusted.gfid). On several subvolumes, CREATE and the
// hashed MKDIR also carry the parent's layout slice under `glusterfs.preop.parent.key`, so a
// brick refuses the create when the parent's layout changed under us (then we look it up again
// and retry once), as DHT does.
import { posix } from 'node:path'
import { randomUUID } from 'node:crypto'
import {
  FopProgram, GlusterError, GfXattrFlags, gfxBin, gfxDictBin, gfxStr, gfxUuid,
  newGfxIattx, type GfxDict, type GfxValue,
} from '@gluster-ts/rpc'
import type { Distribute, Inode } from './distribute.js'
import type { Replicate } from './replicate.js'
import { AfrTxn, type ChangelogTarget, type Lockee, type TxnType, type WriteTiming } from './afr-txn.js'
import { DHT_LINKTO_XATTR, DHT_XATTR, encodeLayoutXattr, hashedSubvol, newDirectoryLayout } from './dht-layout.js'
import { WritableFile, openFlags, type BrickFd } from './write-file.js'

const S_IFMT = 0o170000
const S_IFDIR = 0o040000
const S_IFREG = 0o100000
const O_LARGEFILE = 0o100000

/** What the writer needs from the Volume. */
export interface WriteHost {
  resolve (path: string, o: { follow: boolean, signal?: AbortSignal }): Promise<{ inode: Inode, path: string }>
  dht (): Distribute
  /** forget cached directories at and under `path` */
  invalidate (path: string): void
  timing: WriteTiming
  umask: number
  postOpDelayMs: number
  ensureDurability: boolean
}

export interface Ctx { signal?: AbortSignal }

function uuidBytes (): Buffer { return Buffer.from(randomUUID().replaceAll('-', ''), 'hex') }

function err (code: string, message: string, extra: Record<string, unknown>): GlusterError {
  return new GlusterError(code, `${code}: ${message}`, extra)
}

export function splitPath (path: string): { dir: string, name: string, full: string } {
  if (typeof path !== 'string') throw new TypeError('path must be a string')
  const full = posix.normalize('/' + path).replace(/\/+$/, '') || '/'
  return { dir: posix.dirname(full), name: posix.basename(full), full }
}

const isDir = (mode: number): boolean => (mode & S_IFMT) === S_IFDIR

export class Writer {
  readonly #h: WriteHost
  constructor (host: WriteHost) { this.#h = host }

  get #dht (): Distribute { return this.#h.dht() }

  #txnOpts (syscall: string, path: string, ctx: Ctx, extra: Partial<{ fd: (i: number) => bigint | undefined, domain: string }> = {}): ConstructorParameters<typeof AfrTxn>[4] {
    return { timing: this.#h.timing, syscall, path, ...(ctx.signal !== undefined ? { signal: ctx.signal } : {}), ...extra }
  }

  async #parent (path: string, ctx: Ctx, syscall: string): Promise<{ parent: Inode, name: string, full: string, dir: string }> {
    const { dir, name, full } = splitPath(path)
    if (full === '/') throw err('EEXIST', `file already exists, ${syscall} '/'`, { path, syscall, errno: 17 })
    const r = await this.#h.resolve(dir, { follow: true, ...ctx })
    if (!isDir(r.inode.stat.mode)) throw err('ENOTDIR', `not a directory, ${syscall} '${path}'`, { path, syscall, errno: 20 })
    const parent = await this.#withLayout(r.inode, r.path, ctx)
    return { parent, name, full: r.path === '/' ? `/${name}` : `${r.path}/${name}`, dir: r.path }
  }

  /**
   * A directory with no layout on any subvolume (a fresh volume's root on our own server, a
   * directory made by a pure-replicate client before an add-brick) gets one, as DHT's
   * directory self-heal gives it: the ranges of a new directory, commit hash 1. A layout with
   * only some ranges is left alone (that is rebalance's work): placing names in it fails EIO.
   */
  async #withLayout (dir: Inode, path: string, ctx: Ctx): Promise<Inode> {
    const d = this.#dht
    if (d.single || (dir.layout !== undefined && dir.layout.complete)) return dir
    if ((dir.layout?.ranges.length ?? 0) > 0 || dir.dirs === undefined || dir.dirs.some(x => x === undefined)) return dir
    const layout = newDirectoryLayout(path, d.subvols.length, 1)
    await Promise.all(layout.ranges.map(r => this.inode(r.subvol, 'metadata', dir.gfid, 'setxattr', path, ctx, (i, b, timeoutMs) =>
      b.call(FopProgram.procs.SETXATTR, {
        gfid: dir.gfid, flags: 0, dict: new Map([[DHT_XATTR, gfxBin(encodeLayoutXattr(r))]]), xdata: new Map([['glusterfs-internal-fop', gfxStr('yes')]]),
      }, { timeoutMs }))))
    this.#h.invalidate(path)
    const again = await this.#h.resolve(path, { follow: true, ...ctx })
    return again.inode
  }

  /** The subvolume a new name goes to (the parent's layout), as DHT's hashed subvolume. */
  hashed (parent: Inode, name: string, path: string): number {
    const d = this.#dht
    if (d.single) return 0
    const layout = parent.layout
    const s = layout !== undefined && layout.complete ? hashedSubvol(layout, name, { rsyncRegex: d.rsyncRegex, extraRegex: d.extraRegex }) : -1
    if (s < 0) throw err('EIO', `the layout of the parent of '${path}' has holes (run a rebalance fix-layout); cannot place the name`, { path, syscall: 'create', errno: 5 })
    return s
  }

  /** The parent's layout slice on subvol s, for the brick's preop check (several subvolumes only). */
  #preopKeys (parent: Inode, s: number): Record<string, GfxValue> {
    if (this.#dht.single) return {}
    const slice = gfxDictBin(parent.dirs?.[s]?.xdata ?? null, DHT_XATTR)
    if (slice === undefined) return {}
    return { 'glusterfs.preop.parent.key': gfxStr(DHT_XATTR), [DHT_XATTR]: gfxBin(slice) }
  }

  /** An entry transaction on replica set s: lock (parent, name), fop, changelog on the parent. */
  async entry<R extends { op_ret: number, op_errno: number }> (
    s: number, syscall: string, path: string, names: Array<{ parent: Buffer, name: string }>, ctx: Ctx,
    call: (i: number, b: Replicate['children'][number], timeoutMs: number) => Promise<R>,
    o: { created?: { gfid: Buffer, isDir: boolean }, wholeDir?: Buffer[], domain?: string } = {},
  ): Promise<Map<number, R>> {
    const sv = this.#dht.subvols[s]!
    const lockees: Lockee[] = names.map(n => ({ kind: 'entry', gfid: n.parent, name: n.name }))
    for (const g of o.wholeDir ?? []) lockees.push({ kind: 'entry', gfid: g, name: null })
    const targets: ChangelogTarget[] = names.map(n => ({ gfid: n.parent, name: n.name }))
    return await AfrTxn.run(sv, 'entry', lockees, targets, this.#txnOpts(syscall, path, ctx), async t => {
      if (o.created !== undefined) t.created(o.created.gfid, o.created.isDir)
      return await t.fop(call)
    })
  }

  /** A metadata or data transaction on one inode of replica set s. */
  async inode<R extends { op_ret: number, op_errno: number }> (
    s: number, type: TxnType, gfid: Buffer, syscall: string, path: string, ctx: Ctx,
    call: (i: number, b: Replicate['children'][number], timeoutMs: number) => Promise<R>,
  ): Promise<Map<number, R>> {
    const sv = this.#dht.subvols[s]!
    return await AfrTxn.run(sv, type, [{ kind: 'inode', gfid }], [{ gfid }], this.#txnOpts(syscall, path, ctx), t => t.fop(call))
  }

  /** The subvolumes an inode fop must reach: a directory is on all (hashed first), a file on its own. */
  #inodeSubvols (inode: Inode, hashedFirst: number): number[] {
    if (!isDir(inode.stat.mode) || this.#dht.single) return [inode.subvol]
    const all = this.#dht.subvols.map((_, s) => s).filter(s => inode.dirs?.[s] !== undefined)
    return [...all.filter(s => s === hashedFirst), ...all.filter(s => s !== hashedFirst)]
  }

  #mdsOf (inode: Inode, path: string): number {
    if (this.#dht.single || path === '/') return 0
    return inode.subvol
  }

  // ---- files ----

  /**
   * Open for writing (and create when the flags say so). Returns the open file and its inode
   * data for the FileHandle.
   */
  async open (path: string, flags: string, mode: number | undefined, ctx: Ctx): Promise<{ file: WritableFile, gfid: Buffer, full: string, subvol: number, created: boolean, stat: Inode['stat'] }> {
    const f = openFlags(flags)
    for (let attempt = 0; ; attempt++) {
      let existing: { inode: Inode, path: string } | undefined
      if (!f.excl || !f.create) {
        try {
          existing = await this.#h.resolve(path, { follow: true, ...ctx })
        } catch (e) {
          if (!(e instanceof GlusterError && e.code === 'ENOENT') || !f.create) throw e
        }
      }
      if (existing !== undefined) {
        if (f.excl) throw err('EEXIST', `file already exists, open '${path}'`, { path, syscall: 'open', errno: 17 })
        if (isDir(existing.inode.stat.mode)) throw err('EISDIR', `illegal operation on a directory, open '${path}'`, { path, syscall: 'open', errno: 21 })
        const file = await this.#openExisting(existing.inode, existing.path, f.gf, ctx)
        if (f.trunc && Number(existing.inode.stat.ia_size) > 0) {
          try { await file.truncate(0, ctx.signal) } catch (e) { await file.close().catch(() => {}); throw e }
          await file.sync().catch(async e => { await file.close().catch(() => {}); throw e })
        }
        return { file, gfid: existing.inode.gfid, full: existing.path, subvol: existing.inode.subvol, created: false, stat: existing.inode.stat }
      }
      try {
        return await this.#create(path, f.gf, mode, ctx)
      } catch (e) {
        // lost a race with another creator: open theirs (flag 'w'/'a'), once
        if (e instanceof GlusterError && e.code === 'EEXIST' && !f.excl && attempt === 0) continue
        throw e
      }
    }
  }

  #file (sv: Replicate, gfid: Buffer, path: string, fds: Array<BrickFd | undefined>, size: number, gf: number): WritableFile {
    return new WritableFile({
      sv, gfid, path, fds, size, flags: gf | O_LARGEFILE, timing: this.#h.timing, postOpDelayMs: this.#h.postOpDelayMs, ensureDurability: this.#h.ensureDurability,
    })
  }

  async #openExisting (inode: Inode, path: string, gf: number, ctx: Ctx): Promise<WritableFile> {
    const sv = this.#dht.subvols[inode.subvol]!
    const fds: Array<BrickFd | undefined> = sv.children.map(() => undefined)
    await Promise.all(sv.children.map(async (b, i) => {
      if (!b.up) return
      const gen = b.generation
      try {
        const r = await b.call(FopProgram.procs.OPEN, { gfid: inode.gfid, flags: gf, xdata: null }, { timeoutMs: this.#h.timing.attemptTimeoutMs, ...(ctx.signal !== undefined ? { signal: ctx.signal } : {}) })
        if (r.op_ret >= 0) fds[i] = { fd: r.fd, generation: gen }
      } catch { /* that brick is left out of the writes, and blamed */ }
    }))
    const opened = fds.filter(x => x !== undefined).length
    if (opened === 0) {
      const up = sv.children.filter(b => b.up).length
      if (up === 0) throw err('ENOTCONN', `no brick of ${sv.name} is connected, open '${path}'`, { path, syscall: 'open', errno: 107 })
    }
    return this.#file(sv, inode.gfid, path, fds, Number(inode.stat.ia_size), gf)
  }

  async #create (path: string, gf: number, mode: number | undefined, ctx: Ctx, retried = false): Promise<{ file: WritableFile, gfid: Buffer, full: string, subvol: number, created: boolean, stat: Inode['stat'] }> {
    const { parent, name, full } = await this.#parent(path, ctx, 'open')
    const s = this.hashed(parent, name, full)
    const sv = this.#dht.subvols[s]!
    const gfid = uuidBytes()
    const perm = (mode ?? 0o666) & ~this.#h.umask & 0o7777
    const xdata = new Map<string, GfxValue>([['gfid-req', gfxUuid(gfid)], ...Object.entries(this.#preopKeys(parent, s))])
    const gens = sv.children.map(b => b.generation)
    let replies
    try {
      replies = await this.entry(s, 'open', full, [{ parent: parent.gfid, name }], ctx, (i, b, timeoutMs) =>
        b.call(FopProgram.procs.CREATE, { pargfid: parent.gfid, flags: 0o100 | 0o200 | gf, mode: S_IFREG | perm, umask: 0, bname: name, xdata }, { timeoutMs }),
      { created: { gfid, isDir: false } })
    } catch (e) {
      if (!retried && this.#preopFailed(e)) {
        this.#h.invalidate(posix.dirname(full))
        return await this.#create(path, gf, mode, ctx, true)
      }
      throw e
    }
    const fds: Array<BrickFd | undefined> = sv.children.map(() => undefined)
    let stat: Inode['stat'] | undefined
    for (const [i, r] of replies) { fds[i] = { fd: r.fd, generation: gens[i]! }; stat ??= r.stat }
    return { file: this.#file(sv, gfid, full, fds, 0, gf), gfid, full, subvol: s, created: true, stat: stat! }
  }

  #preopFailed (e: unknown): boolean {
    // the brick refused: the parent's layout changed since we looked it up (EIO + glusterfs.preop.check.failed)
    return e instanceof GlusterError && e.code === 'EIO' && !this.#dht.single
  }

  // ---- directories ----

  async mkdir (path: string, mode: number | undefined, ctx: Ctx, retried = false): Promise<void> {
    const { parent, name, full } = await this.#parent(path, ctx, 'mkdir')
    const d = this.#dht
    const gfid = uuidBytes()
    const perm = (mode ?? 0o777) & ~this.#h.umask & 0o7777
    const mkdirOn = (s: number, xd: Map<string, GfxValue>): Promise<unknown> => this.entry(s, 'mkdir', full, [{ parent: parent.gfid, name }], ctx, (i, b, timeoutMs) =>
      b.call(FopProgram.procs.MKDIR, { pargfid: parent.gfid, mode: perm, umask: 0, bname: name, xdata: xd }, { timeoutMs }), { created: { gfid, isDir: true } })
    if (d.single) {
      // pass-through DHT still gives the new directory its (whole) layout in the MKDIR xdata
      await mkdirOn(0, new Map<string, GfxValue>([['gfid-req', gfxUuid(gfid)], [DHT_XATTR, gfxBin(encodeLayoutXattr({ commitHash: 0, start: 0, stop: 0xffffffff }))]]))
      return
    }
    // several subvolumes (§5.6): the hashed one first (with the parent-layout check and the MDS
    // key) under DHT's locks, then every other one, then each its range of the new layout
    const hashed = this.hashed(parent, name, full)
    const hsv = d.subvols[hashed]!
    const dhtLocks = async <T>(body: () => Promise<T>): Promise<T> => {
      // DHT's entry lock on the hashed subvolume, so two clients making the same name agree on one gfid
      return await AfrTxn.run(hsv, 'entry', [{ kind: 'entry', gfid: parent.gfid, name }], [], this.#txnOpts('mkdir', full, ctx, { domain: 'dht.entry.sync' }), async () => await body())
    }
    try {
      await dhtLocks(() => mkdirOn(hashed, new Map<string, GfxValue>([
        ['gfid-req', gfxUuid(gfid)], ...Object.entries(this.#preopKeys(parent, hashed)), ['trusted.glusterfs.dht.mds', gfxBin(Buffer.alloc(4))],
      ])))
    } catch (e) {
      if (!retried && this.#preopFailed(e)) {
        this.#h.invalidate(posix.dirname(full))
        await this.mkdir(path, mode, ctx, true)
        return
      }
      throw e
    }
    const others = d.subvols.map((_, s) => s).filter(s => s !== hashed)
    await Promise.all(others.map(s => mkdirOn(s, new Map<string, GfxValue>([['gfid-req', gfxUuid(gfid)]]))))
    const layout = newDirectoryLayout(full, d.subvols.length, 0)
    await Promise.all(layout.ranges.map(r => this.inode(r.subvol, 'metadata', gfid, 'mkdir', full, ctx, (i, b, timeoutMs) =>
      b.call(FopProgram.procs.SETXATTR, {
        gfid, flags: 0, dict: new Map([[DHT_XATTR, gfxBin(encodeLayoutXattr(r))]]), xdata: new Map([['glusterfs-internal-fop', gfxStr('yes')]]),
      }, { timeoutMs }))))
  }

  async rmdir (path: string, ctx: Ctx, list: (path: string) => Promise<string[]>): Promise<void> {
    const { parent, name, full } = await this.#parent(path, ctx, 'rmdir')
    const r = await this.#h.resolve(full, { follow: false, ...ctx })
    if (!isDir(r.inode.stat.mode)) throw err('ENOTDIR', `not a directory, rmdir '${path}'`, { path, syscall: 'rmdir', errno: 20 })
    const d = this.#dht
    if (!d.single && (await list(full)).length > 0) throw err('ENOTEMPTY', `directory not empty, rmdir '${path}'`, { path, syscall: 'rmdir', errno: 39 })
    const rm = (s: number): Promise<unknown> => this.entry(s, 'rmdir', full, [{ parent: parent.gfid, name }], ctx, (i, b, timeoutMs) =>
      b.call(FopProgram.procs.RMDIR, { pargfid: parent.gfid, xflags: 0, bname: name, xdata: null }, { timeoutMs }), { wholeDir: [r.inode.gfid] })
    this.#h.invalidate(full)
    if (d.single) { await rm(0); return }
    // every subvolume but the hashed (MDS) one, then the hashed one
    const hashed = this.hashed(parent, name, full)
    const ignoreGone = (e: unknown): void => { if (!(e instanceof GlusterError && e.code === 'ENOENT')) throw e }
    await Promise.all(d.subvols.map((_, s) => s).filter(s => s !== hashed).map(s => rm(s).catch(ignoreGone)))
    await rm(hashed)
    this.#h.invalidate(full)
  }

  // ---- names ----

  async unlink (path: string, ctx: Ctx): Promise<void> {
    const { parent, name, full } = await this.#parent(path, ctx, 'unlink')
    const r = await this.#h.resolve(full, { follow: false, ...ctx })
    if (isDir(r.inode.stat.mode)) throw err('EISDIR', `illegal operation on a directory, unlink '${path}'`, { path, syscall: 'unlink', errno: 21 })
    const un = (s: number): Promise<unknown> => this.entry(s, 'unlink', full, [{ parent: parent.gfid, name }], ctx, (i, b, timeoutMs) =>
      b.call(FopProgram.procs.UNLINK, { pargfid: parent.gfid, bname: name, xflags: 0, xdata: null }, { timeoutMs }))
    await un(r.inode.subvol)
    if (!this.#dht.single) {
      // a linkto left on the hashed subvolume goes too
      const hashed = this.hashed(parent, name, full)
      if (hashed !== r.inode.subvol) await un(hashed).catch(e => { if (!(e instanceof GlusterError && e.code === 'ENOENT')) throw e })
    }
  }

  /** A DHT link file (mode ---------T, linkto xattr) for `name` on subvol s pointing at `target`. */
  async #linkto (s: number, parent: Buffer, name: string, gfid: Buffer, target: number, full: string, ctx: Ctx): Promise<void> {
    const d = this.#dht
    await this.entry(s, 'rename', full, [{ parent, name }], ctx, (i, b, timeoutMs) =>
      b.call(FopProgram.procs.MKNOD, {
        pargfid: parent, dev: 0n, mode: S_IFREG | 0o1000, umask: 0, bname: name,
        xdata: new Map<string, GfxValue>([['gfid-req', gfxUuid(gfid)], ['glusterfs-internal-fop', gfxStr('yes')], [DHT_LINKTO_XATTR, gfxStr(d.subvols[target]!.name)]]),
      }, { timeoutMs }), { created: { gfid, isDir: false } })
  }

  async rename (from: string, to: string, ctx: Ctx): Promise<void> {
    const a = await this.#parent(from, ctx, 'rename')
    const z = await this.#parent(to, ctx, 'rename')
    if (a.full === z.full) return
    if (z.full.startsWith(a.full + '/')) throw err('EINVAL', `cannot move '${from}' into itself ('${to}')`, { path: from, syscall: 'rename', errno: 22 })
    const src = await this.#h.resolve(a.full, { follow: false, ...ctx })
    let dst: Inode | undefined
    try { dst = (await this.#h.resolve(z.full, { follow: false, ...ctx })).inode } catch (e) { if (!(e instanceof GlusterError && e.code === 'ENOENT')) throw e }
    if (dst !== undefined && dst.gfid.equals(src.inode.gfid)) return
    const srcDir = isDir(src.inode.stat.mode)
    if (dst !== undefined) {
      if (srcDir && !isDir(dst.stat.mode)) throw err('ENOTDIR', `not a directory, rename '${from}' -> '${to}'`, { path: to, syscall: 'rename', errno: 20 })
      if (!srcDir && isDir(dst.stat.mode)) throw err('EISDIR', `illegal operation on a directory, rename '${from}' -> '${to}'`, { path: to, syscall: 'rename', errno: 21 })
    }
    const names = [{ parent: a.parent.gfid, name: a.name }, { parent: z.parent.gfid, name: z.name }]
    const ren = (s: number): Promise<unknown> => this.entry(s, 'rename', a.full, names, ctx, (i, b, timeoutMs) =>
      b.call(FopProgram.procs.RENAME, { oldgfid: a.parent.gfid, newgfid: z.parent.gfid, oldbname: a.name, newbname: z.name, xdata: null }, { timeoutMs }),
    { ...(dst !== undefined && isDir(dst.stat.mode) ? { wholeDir: [dst.gfid] } : {}) })
    this.#h.invalidate(a.full)
    this.#h.invalidate(z.full)
    const d = this.#dht
    if (d.single) { await ren(0); return }
    const gone = (e: unknown): void => { if (!(e instanceof GlusterError && e.code === 'ENOENT')) throw e }
    if (srcDir) {
      // a directory is on every subvolume: the destination's hashed one first, then the rest
      const first = this.hashed(z.parent, z.name, z.full)
      await ren(first)
      await Promise.all(d.subvols.map((_, s) => s).filter(s => s !== first).map(s => ren(s).catch(gone)))
      this.#h.invalidate(a.full)
      this.#h.invalidate(z.full)
      return
    }
    // a file: the data stays on its subvolume under the new name; a linkto names it on the new
    // name's hashed subvolume when that is another one; stale linkto and replaced data go
    const cached = src.inode.subvol
    const srcHashed = this.hashed(a.parent, a.name, a.full)
    const dstHashed = this.hashed(z.parent, z.name, z.full)
    if (dst !== undefined && dst.subvol !== cached) {
      // the file being replaced lives elsewhere: remove its data (and its name's linkto below)
      await this.entry(dst.subvol, 'rename', z.full, [{ parent: z.parent.gfid, name: z.name }], ctx, (i, b, timeoutMs) =>
        b.call(FopProgram.procs.UNLINK, { pargfid: z.parent.gfid, bname: z.name, xflags: 0, xdata: null }, { timeoutMs })).catch(gone)
    }
    if (dstHashed !== cached) {
      if (dst !== undefined && dst.subvol !== dstHashed) {
        await this.entry(dstHashed, 'rename', z.full, [{ parent: z.parent.gfid, name: z.name }], ctx, (i, b, timeoutMs) =>
          b.call(FopProgram.procs.UNLINK, { pargfid: z.parent.gfid, bname: z.name, xflags: 0, xdata: null }, { timeoutMs })).catch(gone)
      }
      await this.#linkto(dstHashed, z.parent.gfid, z.name, src.inode.gfid, cached, z.full, ctx).catch(e => {
        if (!(e instanceof GlusterError && e.code === 'EEXIST')) throw e
      })
    }
    await ren(cached)
    if (srcHashed !== cached) {
      await this.entry(srcHashed, 'rename', a.full, [{ parent: a.parent.gfid, name: a.name }], ctx, (i, b, timeoutMs) =>
        b.call(FopProgram.procs.UNLINK, { pargfid: a.parent.gfid, bname: a.name, xflags: 0, xdata: null }, { timeoutMs })).catch(gone)
    }
  }

  async link (existing: string, newPath: string, ctx: Ctx): Promise<void> {
    const src = await this.#h.resolve(existing, { follow: false, ...ctx })
    if (isDir(src.inode.stat.mode)) throw err('EPERM', `operation not permitted, link '${existing}' -> '${newPath}'`, { path: existing, syscall: 'link', errno: 1 })
    const { parent, name, full } = await this.#parent(newPath, ctx, 'link')
    const cached = src.inode.subvol
    await this.entry(cached, 'link', full, [{ parent: parent.gfid, name }], ctx, (i, b, timeoutMs) =>
      b.call(FopProgram.procs.LINK, { oldgfid: src.inode.gfid, newgfid: parent.gfid, newbname: name, xdata: null }, { timeoutMs }))
    const hashed = this.hashed(parent, name, full)
    if (hashed !== cached) await this.#linkto(hashed, parent.gfid, name, src.inode.gfid, cached, full, ctx)
  }

  async symlink (target: string, path: string, ctx: Ctx): Promise<void> {
    const { parent, name, full } = await this.#parent(path, ctx, 'symlink')
    const s = this.hashed(parent, name, full)
    const gfid = uuidBytes()
    await this.entry(s, 'symlink', full, [{ parent: parent.gfid, name }], ctx, (i, b, timeoutMs) =>
      b.call(FopProgram.procs.SYMLINK, { pargfid: parent.gfid, bname: name, umask: 0, linkname: target, xdata: new Map([['gfid-req', gfxUuid(gfid)]]) }, { timeoutMs }),
    { created: { gfid, isDir: false } })
  }

  // ---- inodes ----

  async truncate (path: string, len: number, ctx: Ctx): Promise<void> {
    const r = await this.#h.resolve(path, { follow: true, ...ctx })
    if (isDir(r.inode.stat.mode)) throw err('EISDIR', `illegal operation on a directory, truncate '${path}'`, { path, syscall: 'truncate', errno: 21 })
    await this.inode(r.inode.subvol, 'data', r.inode.gfid, 'truncate', r.path, ctx, (i, b, timeoutMs) =>
      b.call(FopProgram.procs.TRUNCATE, { gfid: r.inode.gfid, offset: BigInt(len), xdata: null }, { timeoutMs }))
  }

  /** SETATTR of `valid` fields, in a metadata transaction on every subvolume the inode is on. */
  async setattr (path: string, follow: boolean, valid: number, fields: Parameters<typeof newGfxIattx>[0], syscall: string, ctx: Ctx): Promise<void> {
    const r = await this.#h.resolve(path, { follow, ...ctx })
    const stbuf = newGfxIattx(fields)
    for (const s of this.#inodeSubvols(r.inode, this.#mdsOf(r.inode, r.path))) {
      await this.inode(s, 'metadata', r.inode.gfid, syscall, r.path, ctx, (i, b, timeoutMs) =>
        b.call(FopProgram.procs.SETATTR, { gfid: r.inode.gfid, stbuf, valid, xdata: null }, { timeoutMs }))
    }
  }

  async setxattr (path: string, name: string, value: Buffer, flags: 'create' | 'replace' | undefined, ctx: Ctx): Promise<void> {
    const r = await this.#h.resolve(path, { follow: true, ...ctx })
    const dict: GfxDict = new Map([[name, gfxBin(value)]])
    const f = flags === 'create' ? GfXattrFlags.CREATE : flags === 'replace' ? GfXattrFlags.REPLACE : 0
    for (const s of this.#inodeSubvols(r.inode, this.#mdsOf(r.inode, r.path))) {
      await this.inode(s, 'metadata', r.inode.gfid, 'setxattr', r.path, ctx, (i, b, timeoutMs) =>
        b.call(FopProgram.procs.SETXATTR, { gfid: r.inode.gfid, flags: f, dict, xdata: null }, { timeoutMs }))
    }
  }

  async removexattr (path: string, name: string, ctx: Ctx): Promise<void> {
    const r = await this.#h.resolve(path, { follow: true, ...ctx })
    for (const s of this.#inodeSubvols(r.inode, this.#mdsOf(r.inode, r.path))) {
      await this.inode(s, 'metadata', r.inode.gfid, 'removexattr', r.path, ctx, (i, b, timeoutMs) =>
        b.call(FopProgram.procs.REMOVEXATTR, { gfid: r.inode.gfid, name, xdata: null }, { timeoutMs }))
    }
  }
}

