// The brick's files, reached only through file descriptors: nothing a client does can make the
// server act on a path that leads out of the brick directory.
//
// Node has no openat/fchmodat/…, but Linux gives their semantics through /proc/self/fd: a path
// `/proc/self/fd/<dirFd>/<name>` is resolved as `name` inside the directory that fd is open on
// (openat(dirFd, name)), whatever has been renamed since, and `/proc/self/fd/<fd>` alone is that
// very inode. So:
//   - a directory is reached by opening each component of the store's gfid chain from the brick
//     root with O_DIRECTORY|O_NOFOLLOW, relative to its parent's fd; those fds are cached per
//     directory gfid (least recently used closed first; pinned while an operation uses them);
//   - every other object is opened O_PATH|O_NOFOLLOW relative to its parent's fd and its type is
//     checked on that fd (fstat); a change is made on that fd (`/proc/self/fd/<fd>`: chmod,
//     chown, utimes act on exactly that inode, a symlink itself and never its target; a reopen
//     with O_RDWR gives a real fd to that inode, ELOOP for a symlink) or on (dirFd, name), which
//     never follows a final symlink (rename, link, unlink, rmdir, mkdir, symlink, lstat, readlink);
//   - names are never resolved through a path string that a rename can re-point between the check
//     and the use, and the server never follows a symlink a client made.
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import type { BigIntStats } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import { promisify } from 'node:util'
import { FopError } from './fop-error.js'
import { ROOT_KEY } from './brick-store.js'
import type { BrickStore } from './brick-store.js'
import type { Budget } from '../limits.js'

/** Linux O_PATH: an fd that names an inode without opening it for I/O (not in fs.constants). */
export const O_PATH = 0o10000000
const C = fs.constants
const DIR_FLAGS = C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW
const PATH_FLAGS = O_PATH | C.O_NOFOLLOW

const openFd = promisify(fs.open)
const closeFd = promisify(fs.close)
const fstatBig = (fd: number): Promise<BigIntStats> => new Promise((resolve, reject) => {
  fs.fstat(fd, { bigint: true }, (err, st) => { if (err !== null) reject(err); else resolve(st) })
})

/** `name` inside the directory `dirFd` is open on (no final symlink followed by the *at-style calls). */
export function at (dirFd: number, name: string): string { return `/proc/self/fd/${dirFd}/${name}` }
/** The inode `fd` is open on (O_PATH fds included). */
export function self (fd: number): string { return `/proc/self/fd/${fd}` }

interface DirEntry {
  key: string
  fd: number
  refs: number
  /** dropped from the cache (RMDIR, replaced, evicted): closed when the last user releases it */
  dropped: boolean
}

/** A directory fd pinned for one use: call release() when done (it stays cached). */
export interface DirRef { readonly key: string, readonly fd: number, release: () => void }

/**
 * An object by gfid, opened for one operation: `fd` is the directory fd for a directory, an
 * O_PATH fd otherwise; `st` is fstat of that fd; `parent`/`name` one of its links (the root has
 * none). release() closes what was opened.
 */
export interface ObjRef {
  readonly key: string
  readonly fd: number
  readonly st: BigIntStats
  readonly parent?: DirRef
  readonly name?: string
  release: () => Promise<void>
}

export interface BackendStats {
  /** directory fds open (cached + pinned) */
  dirFds: number
  /** O_PATH and anonymous fds open for operations in flight */
  opFds: number
}

export class Backend {
  readonly root: string
  readonly #store: BrickStore
  readonly #budget: Budget
  readonly #maxDirs: number
  /** directory gfid → open dir fd; Map order = least recently used first */
  readonly #dirs = new Map<string, DirEntry>()
  readonly #opening = new Map<string, Promise<DirEntry>>()
  #dirFds = 0
  #opFds = 0
  #closed = false

  constructor (root: string, store: BrickStore, budget: Budget, opts: { maxDirFds: number }) {
    this.root = root
    this.#store = store
    this.#budget = budget
    this.#maxDirs = Math.max(4, opts.maxDirFds)
    budget.take(1, 'ENFILE')
    let fd: number
    try {
      fd = fs.openSync(root, DIR_FLAGS)
    } catch (err) {
      budget.give(1)
      throw err
    }
    this.#dirFds++
    this.#dirs.set(ROOT_KEY, { key: ROOT_KEY, fd, refs: 1, dropped: false }) // the root stays open
  }

  get stats (): BackendStats { return { dirFds: this.#dirFds, opFds: this.#opFds } }

  /** The fd of the brick root (open for the backend's lifetime). */
  get rootFd (): number { return this.#dirs.get(ROOT_KEY)!.fd }

  /** The directory `key`, opened along the store's gfid chain from the root (cached). */
  async dir (key: string): Promise<DirRef> {
    const e = await this.#dirEntry(key, 0)
    return this.#pin(e)
  }

  #pin (e: DirEntry): DirRef {
    e.refs++
    if (!e.dropped && this.#dirs.get(e.key) === e) { this.#dirs.delete(e.key); this.#dirs.set(e.key, e) }
    let released = false
    return {
      key: e.key,
      fd: e.fd,
      release: () => {
        if (released) return
        released = true
        e.refs--
        if (e.dropped && e.refs === 0) this.#close(e)
      },
    }
  }

  async #dirEntry (key: string, depth: number): Promise<DirEntry> {
    if (this.#closed) throw new FopError('ESTALE', 'brick closed')
    const cached = this.#dirs.get(key)
    if (cached !== undefined) return cached
    const pending = this.#opening.get(key)
    if (pending !== undefined) return pending
    if (depth > 4096) throw new FopError('ELOOP', `gfid ${key}: parent chain too deep`)
    const link = this.#link(key)
    const t = this.#store.type(key)
    if (t !== 'd') throw new FopError('ENOTDIR', `gfid ${key} is not a directory`)
    const p = (async (): Promise<DirEntry> => {
      const parent = this.#pin(await this.#dirEntry(link[0], depth + 1))
      try {
        const fd = await this.#open(at(parent.fd, link[1]), DIR_FLAGS, 'dir')
        const e: DirEntry = { key, fd, refs: 0, dropped: false }
        this.#dirs.set(key, e)
        this.#trim()
        return e
      } catch (err) {
        throw missing(err, key)
      } finally {
        parent.release()
      }
    })()
    this.#opening.set(key, p)
    try { return await p } finally { this.#opening.delete(key) }
  }

  /** The first link of `key` (ESTALE: unknown gfid; ENOENT: no name left). */
  #link (key: string): readonly [string, string] {
    if (!this.#store.has(key)) throw new FopError('ESTALE', `gfid ${key} is not on this brick`)
    const link = this.#store.links(key)[0]
    if (link === undefined) throw new FopError('ENOENT', `gfid ${key} has no name left`)
    return link
  }

  /** Close least recently used unpinned directory fds beyond the cache size. */
  #trim (): void {
    if (this.#dirs.size <= this.#maxDirs) return
    for (const e of this.#dirs.values()) {
      if (this.#dirs.size <= this.#maxDirs) break
      if (e.refs > 0 || e.key === ROOT_KEY) continue
      this.#dirs.delete(e.key)
      this.#close(e)
    }
  }

  /** Make room in the process fd budget by closing cached directory fds nobody uses. */
  #shed (): boolean {
    for (const e of this.#dirs.values()) {
      if (e.refs > 0 || e.key === ROOT_KEY) continue
      this.#dirs.delete(e.key)
      this.#close(e)
      return true
    }
    return false
  }

  #close (e: DirEntry): void {
    this.#dirFds--
    this.#budget.give(1)
    fs.close(e.fd, () => {})
  }

  /** Forget the cached fd of a directory that was removed or replaced (closed once unused). */
  forget (key: string): void {
    const e = this.#dirs.get(key)
    if (e === undefined || key === ROOT_KEY) return
    this.#dirs.delete(key)
    e.dropped = true
    if (e.refs === 0) this.#close(e)
  }

  /** open(2) charged to the process fd budget (cached directory fds are shed first when it is full). */
  async #open (p: string, flags: number, kind: 'dir' | 'op'): Promise<number> {
    while (!this.#budget.fits(1) && this.#shed()) {}
    this.#budget.take(1, 'ENFILE')
    try {
      const fd = await openFd(p, flags)
      if (kind === 'dir') this.#dirFds++
      else this.#opFds++
      return fd
    } catch (err) {
      this.#budget.give(1)
      throw err
    }
  }

  async #closeOp (fd: number): Promise<void> {
    this.#opFds--
    this.#budget.give(1)
    await closeFd(fd).catch(() => {})
  }

  /**
   * An object by gfid: its directory fd (directories) or an O_PATH|O_NOFOLLOW fd opened in its
   * parent directory, and fstat of that fd. Unknown gfid → ESTALE; name gone → ESTALE.
   */
  async object (key: string): Promise<ObjRef> {
    if (this.#store.type(key) === 'd' || key === ROOT_KEY) {
      const d = await this.dir(key)
      try {
        const st = await fstatBig(d.fd)
        const link = key === ROOT_KEY ? undefined : this.#store.links(key)[0]
        return { key, fd: d.fd, st, ...(link !== undefined ? { name: link[1] } : {}), release: async () => { d.release() } }
      } catch (err) {
        d.release()
        throw err
      }
    }
    const link = this.#link(key)
    const parent = await this.dir(link[0])
    try {
      const o = await this.openAt(parent, link[1], key)
      return { ...o, release: async () => { parent.release(); await o.release() } }
    } catch (err) {
      parent.release()
      throw missing(err, key)
    }
  }

  /**
   * `name` in directory `dir`, opened O_PATH|O_NOFOLLOW and fstat'd (a symlink is the link
   * itself). The caller releases it; `dir` stays the caller's.
   */
  async openAt (dir: DirRef, name: string, key = ''): Promise<ObjRef> {
    const fd = await this.#open(at(dir.fd, name), PATH_FLAGS, 'op')
    try {
      const st = await fstatBig(fd)
      return { key, fd, st, parent: dir, name, release: () => this.#closeOp(fd) }
    } catch (err) {
      await this.#closeOp(fd)
      throw err
    }
  }

  /** The first `size` bytes of a regular file (quick-read's glusterfs.content), read through its fd. */
  async read (obj: ObjRef, size: number): Promise<Buffer> {
    const fh = await this.reopen(obj, C.O_RDONLY)
    try {
      const buf = Buffer.allocUnsafe(size)
      let n = 0
      while (n < size) {
        const r = await fh.read(buf, n, size - n, n)
        if (r.bytesRead === 0) break
        n += r.bytesRead
      }
      return buf.subarray(0, n)
    } finally {
      await this.closeFile(fh)
    }
  }

  /** lstat of an object by gfid without keeping anything open (STAT, LOOKUP, READDIRP entries). */
  async lstat (key: string): Promise<BigIntStats> {
    if (this.#store.type(key) === 'd' || key === ROOT_KEY) {
      const d = await this.dir(key)
      try { return await fstatBig(d.fd) } finally { d.release() }
    }
    const link = this.#link(key)
    const parent = await this.dir(link[0])
    try {
      return await fsp.lstat(at(parent.fd, link[1]), { bigint: true })
    } catch (err) {
      throw missing(err, key)
    } finally {
      parent.release()
    }
  }

  /**
   * A real fd for I/O on a regular file, reopened through its O_PATH fd (so it is that very
   * inode; a symlink gives ELOOP, and nothing that is not a regular file is ever opened: devices
   * and fifos are not, as posix_open refuses block and character devices). `flags` never
   * includes O_CREAT.
   */
  async reopen (obj: ObjRef, flags: number): Promise<FileHandle> {
    if (obj.st.isDirectory()) throw new FopError('EISDIR')
    if (obj.st.isSymbolicLink()) throw new FopError('ELOOP')
    if (!obj.st.isFile()) throw new FopError('EINVAL', 'not a regular file on the backend')
    // no O_NOFOLLOW here: /proc/self/fd/N is itself a (magic) link, and it leads to that inode only
    return this.#openIo(self(obj.fd), flags & ~(C.O_CREAT | C.O_NOFOLLOW))
  }

  /**
   * open(2) of `name` in a directory for I/O (CREATE: O_CREAT|O_EXCL), never through a final
   * symlink; charged to the process fd budget, closeFile() gives it back.
   */
  async openFile (dir: DirRef, name: string, flags: number, mode?: number): Promise<FileHandle> {
    return this.#openIo(at(dir.fd, name), flags | C.O_NOFOLLOW, mode)
  }

  async #openIo (p: string, flags: number, mode?: number): Promise<FileHandle> {
    while (!this.#budget.fits(1) && this.#shed()) {}
    this.#budget.take(1, 'ENFILE')
    try {
      return await fsp.open(p, flags, mode)
    } catch (err) {
      this.#budget.give(1)
      throw err
    }
  }

  async closeFile (fh: FileHandle): Promise<void> {
    this.#budget.give(1)
    await fh.close().catch(() => {})
  }

  close (): void {
    this.#closed = true
    for (const e of this.#dirs.values()) {
      if (e.key !== ROOT_KEY && e.refs > 0) { e.dropped = true; continue }
      this.#close(e)
    }
    this.#dirs.clear()
  }
}

/** A name the store knows but the backend lost (removed behind our back) is a stale handle. */
function missing (err: unknown, key: string): unknown {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return new FopError('ESTALE', `gfid ${key}: its backend entry is gone or changed type`)
  return err
}
