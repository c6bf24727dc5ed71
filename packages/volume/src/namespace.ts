// The write side of the Volume API by path: resolve the parent (or the object), check what
// POSIX says must hold (EEXIST, EISDIR, ENOTDIR, a rename into itself …), then one fop on the
// top of the graph, which places it (DHT), runs it in transactions (AFR) and splits it into
// blocks (shard). New objects get a gfid we generate, sent as `gfid-req` to every brick, so every
// replica holds the same trusted.gfid.
import { GlusterError, newGfxIattx, type GfxDict, type GfxIattx } from '@gluster-ts/rpc'
import { newGfid, type FopCtx, type Inode, type Layer, type LayerFd } from './layer.js'
import { err, splitPath, type Resolver } from './resolver.js'
import { openFlags } from './write-file.js'

const S_IFMT = 0o170000
const S_IFDIR = 0o040000
const S_IFREG = 0o100000
const S_IFLNK = 0o120000

export interface Ctx { signal?: AbortSignal }

const isDir = (mode: number): boolean => (mode & S_IFMT) === S_IFDIR

export interface Opened {
  file: LayerFd
  gfid: Buffer
  /** the canonical path */
  full: string
  created: boolean
}

export class Namespace {
  readonly #r: Resolver
  readonly #top: () => Layer
  readonly #umask: number

  constructor (r: Resolver, top: () => Layer, umask: number) {
    this.#r = r
    this.#top = top
    this.#umask = umask
  }

  #ctx (ctx: Ctx, path: string, syscall: string): FopCtx {
    return { path, syscall, ...(ctx.signal !== undefined ? { signal: ctx.signal } : {}) }
  }

  async #parent (path: string, ctx: Ctx, syscall: string): Promise<{ parent: Inode, name: string, full: string }> {
    const { dir, name, full } = splitPath(path)
    if (full === '/') throw err('EEXIST', `file already exists, ${syscall} '/'`, { path, syscall, errno: 17 })
    const r = await this.#r.resolve(dir, { follow: true, ...ctx })
    if (!isDir(r.inode.stat.mode)) throw err('ENOTDIR', `not a directory, ${syscall} '${path}'`, { path, syscall, errno: 20 })
    return { parent: r.inode, name, full: r.path === '/' ? `/${name}` : `${r.path}/${name}` }
  }

  /** Open for writing (and create when the flags say so; 'w' truncates an existing file). */
  async open (path: string, flags: string, mode: number | undefined, ctx: Ctx): Promise<Opened> {
    const f = openFlags(flags)
    for (let attempt = 0; ; attempt++) {
      let existing: { inode: Inode, path: string } | undefined
      if (!f.excl || !f.create) {
        try {
          existing = await this.#r.resolve(path, { follow: true, ...ctx })
        } catch (e) {
          if (!(e instanceof GlusterError && e.code === 'ENOENT') || !f.create) throw e
        }
      }
      if (existing !== undefined) {
        if (f.excl) throw err('EEXIST', `file already exists, open '${path}'`, { path, syscall: 'open', errno: 17 })
        if (isDir(existing.inode.stat.mode)) throw err('EISDIR', `illegal operation on a directory, open '${path}'`, { path, syscall: 'open', errno: 21 })
        const file = await this.#top().open(existing.inode, f.gf, this.#ctx(ctx, existing.path, 'open'))
        if (f.trunc && Number(existing.inode.stat.ia_size) > 0) {
          try { await file.truncate(0, ctx.signal) } catch (e) { await file.close().catch(() => {}); throw e }
          await file.sync().catch(async e => { await file.close().catch(() => {}); throw e })
        }
        return { file, gfid: existing.inode.gfid, full: existing.path, created: false }
      }
      try {
        const { parent, name, full } = await this.#parent(path, ctx, 'open')
        const perm = (mode ?? 0o666) & ~this.#umask & 0o7777
        const gfid = newGfid()
        const r = await this.#top().create(parent, name, f.gf, { ...this.#ctx(ctx, full, 'open'), mode: S_IFREG | perm, gfid })
        return { file: r.fd, gfid, full, created: true }
      } catch (e) {
        // lost a race with another creator: open theirs (flag 'w'/'a'), once
        if (e instanceof GlusterError && e.code === 'EEXIST' && !f.excl && attempt === 0) continue
        throw e
      }
    }
  }

  async mkdir (path: string, mode: number | undefined, ctx: Ctx): Promise<void> {
    const { parent, name, full } = await this.#parent(path, ctx, 'mkdir')
    await this.#top().mkdir(parent, name, { ...this.#ctx(ctx, full, 'mkdir'), mode: (mode ?? 0o777) & ~this.#umask & 0o7777, gfid: newGfid() })
  }

  async rmdir (path: string, ctx: Ctx): Promise<void> {
    const { parent, name, full } = await this.#parent(path, ctx, 'rmdir')
    const r = await this.#r.resolve(full, { follow: false, ...ctx })
    if (!isDir(r.inode.stat.mode)) throw err('ENOTDIR', `not a directory, rmdir '${path}'`, { path, syscall: 'rmdir', errno: 20 })
    this.#r.invalidate(full)
    await this.#top().rmdir(parent, name, r.inode, this.#ctx(ctx, full, 'rmdir'))
    this.#r.invalidate(full)
  }

  async unlink (path: string, ctx: Ctx): Promise<void> {
    const { parent, name, full } = await this.#parent(path, ctx, 'unlink')
    const r = await this.#r.resolve(full, { follow: false, ...ctx })
    if (isDir(r.inode.stat.mode)) throw err('EISDIR', `illegal operation on a directory, unlink '${path}'`, { path, syscall: 'unlink', errno: 21 })
    await this.#top().unlink(parent, name, r.inode, this.#ctx(ctx, full, 'unlink'))
  }

  async rename (from: string, to: string, ctx: Ctx): Promise<void> {
    const a = await this.#parent(from, ctx, 'rename')
    const z = await this.#parent(to, ctx, 'rename')
    if (a.full === z.full) return
    if (z.full.startsWith(a.full + '/')) throw err('EINVAL', `cannot move '${from}' into itself ('${to}')`, { path: from, syscall: 'rename', errno: 22 })
    const src = await this.#r.resolve(a.full, { follow: false, ...ctx })
    let dst: Inode | undefined
    try { dst = (await this.#r.resolve(z.full, { follow: false, ...ctx })).inode } catch (e) { if (!(e instanceof GlusterError && e.code === 'ENOENT')) throw e }
    if (dst !== undefined && dst.gfid.equals(src.inode.gfid)) return
    const srcDir = isDir(src.inode.stat.mode)
    if (dst !== undefined) {
      if (srcDir && !isDir(dst.stat.mode)) throw err('ENOTDIR', `not a directory, rename '${from}' -> '${to}'`, { path: to, syscall: 'rename', errno: 20 })
      if (!srcDir && isDir(dst.stat.mode)) throw err('EISDIR', `illegal operation on a directory, rename '${from}' -> '${to}'`, { path: to, syscall: 'rename', errno: 21 })
    }
    this.#r.invalidate(a.full)
    this.#r.invalidate(z.full)
    await this.#top().rename({ parent: a.parent, name: a.name, inode: src.inode }, { parent: z.parent, name: z.name, ...(dst !== undefined ? { inode: dst } : {}) }, this.#ctx(ctx, a.full, 'rename'))
    this.#r.invalidate(a.full)
    this.#r.invalidate(z.full)
  }

  async link (existing: string, newPath: string, ctx: Ctx): Promise<void> {
    const src = await this.#r.resolve(existing, { follow: false, ...ctx })
    if (isDir(src.inode.stat.mode)) throw err('EPERM', `operation not permitted, link '${existing}' -> '${newPath}'`, { path: existing, syscall: 'link', errno: 1 })
    const { parent, name, full } = await this.#parent(newPath, ctx, 'link')
    await this.#top().link(src.inode, parent, name, this.#ctx(ctx, full, 'link'))
  }

  async symlink (target: string, path: string, ctx: Ctx): Promise<void> {
    const { parent, name, full } = await this.#parent(path, ctx, 'symlink')
    await this.#top().symlink(parent, name, target, { ...this.#ctx(ctx, full, 'symlink'), mode: S_IFLNK | 0o777, gfid: newGfid() })
  }

  async truncate (path: string, len: number, ctx: Ctx): Promise<void> {
    const r = await this.#r.resolve(path, { follow: true, ...ctx })
    if (isDir(r.inode.stat.mode)) throw err('EISDIR', `illegal operation on a directory, truncate '${path}'`, { path, syscall: 'truncate', errno: 21 })
    await this.#top().truncate(r.inode, len, this.#ctx(ctx, r.path, 'truncate'))
  }

  /** SETATTR of `valid` fields (on every subvolume a directory is on). */
  async setattr (path: string, follow: boolean, valid: number, fields: Partial<GfxIattx>, syscall: string, ctx: Ctx): Promise<void> {
    const r = await this.#r.resolve(path, { follow, ...ctx })
    await this.#top().setattr(r.inode, valid, newGfxIattx(fields), this.#ctx(ctx, r.path, syscall))
  }

  async setxattr (path: string, dict: GfxDict, flags: number, ctx: Ctx): Promise<void> {
    const r = await this.#r.resolve(path, { follow: true, ...ctx })
    await this.#top().setxattr(r.inode, dict, flags, this.#ctx(ctx, r.path, 'setxattr'))
  }

  async removexattr (path: string, name: string, ctx: Ctx): Promise<void> {
    const r = await this.#r.resolve(path, { follow: true, ...ctx })
    await this.#top().removexattr(r.inode, name, this.#ctx(ctx, r.path, 'removexattr'))
  }
}
