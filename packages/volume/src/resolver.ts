// Path resolution over the top of the graph, and the directory cache: a path is looked up name
// by name from the root, following symlinks in every component but the last (and in the last
// too when asked); directories resolved in the last `entryTimeoutMs` are reused, as FUSE's entry
// timeout does. The cache holds inodes of the graph in use; a graph switch clears it.
import { posix } from 'node:path'
import { GlusterError, ROOT_GFID } from '@gluster-ts/rpc'
import type { FopCtx, Inode, Layer, XdataKeys } from './layer.js'
import { gfidString } from './stats.js'

const S_IFMT = 0o170000
const MAX_SYMLINKS = 40

export interface Resolved { inode: Inode, path: string }

/** The canonical form of a path in the volume: absolute, normalised, no trailing slash. */
export function splitPath (path: string): { dir: string, name: string, full: string } {
  if (typeof path !== 'string') throw new TypeError('path must be a string')
  const full = posix.normalize('/' + path).replace(/\/+$/, '') || '/'
  return { dir: posix.dirname(full), name: posix.basename(full), full }
}

export function err (code: string, message: string, extra: Record<string, unknown>): GlusterError {
  return new GlusterError(code, `${code}: ${message}`, extra)
}

export class Resolver {
  readonly #top: () => Layer
  readonly #ttlMs: number
  readonly #dirs = new Map<string, { inode: Inode, at: number }>()

  constructor (top: () => Layer, entryTimeoutMs: number) {
    this.#top = top
    this.#ttlMs = entryTimeoutMs
  }

  #fresh (path: string): Inode | undefined {
    const hit = this.#dirs.get(path)
    return hit !== undefined && performance.now() - hit.at < this.#ttlMs && hit.inode.layer === this.#top() ? hit.inode : undefined
  }

  async root (signal?: AbortSignal): Promise<Inode> {
    const hit = this.#fresh('/')
    if (hit !== undefined) return hit
    const inode = await this.#top().lookupGfid(ROOT_GFID, { path: '/', ...(signal !== undefined ? { signal } : {}) })
    this.#dirs.set('/', { inode, at: performance.now() })
    return inode
  }

  /**
   * Resolve `path` from the root, following symlinks in every component but the last (and the
   * last too when `follow`). Returns the inode and the canonical path. `extra` keys go with the
   * last component's LOOKUP (their answers in `inode.xdata`).
   */
  async resolve (path: string, o: { follow: boolean, signal?: AbortSignal, extra?: XdataKeys }): Promise<Resolved> {
    if (typeof path !== 'string') throw new TypeError('path must be a string')
    let rest = posix.normalize('/' + path).split('/').filter(s => s !== '')
    let hops = 0
    restart: for (;;) {
      let cur = await this.root(o.signal)
      const done: string[] = []
      for (let i = 0; i < rest.length; i++) {
        const name = rest[i]!
        if (name === '..') { rest = [...done.slice(0, -1), ...rest.slice(i + 1)]; continue restart }
        const last = i === rest.length - 1
        const here = '/' + [...done, name].join('/')
        const inode = (last ? undefined : this.#fresh(here)) ??
          await this.#top().lookup(cur, name, { path: here, ...(o.signal !== undefined ? { signal: o.signal } : {}), ...(last && o.extra !== undefined ? { xdata: o.extra } : {}) })
        const type = inode.stat.mode & S_IFMT
        if (type === 0o120000 && (!last || o.follow)) {
          if (++hops > MAX_SYMLINKS) throw err('ELOOP', `too many symbolic links, '${path}'`, { path, syscall: 'lookup', errno: 40 })
          const target = await this.#top().readlink(inode, { path: here, ...(o.signal !== undefined ? { signal: o.signal } : {}) })
          rest = target.startsWith('/')
            ? [...target.split('/'), ...rest.slice(i + 1)].filter(s => s !== '' && s !== '.')
            : [...done, ...target.split('/'), ...rest.slice(i + 1)].filter(s => s !== '' && s !== '.')
          continue restart
        }
        if (!last && type !== 0o040000) throw err('ENOTDIR', `not a directory, '${here}'`, { path, syscall: 'lookup', errno: 20 })
        if (type === 0o040000) this.#dirs.set(here, { inode, at: performance.now() })
        done.push(name)
        cur = inode
      }
      return { inode: cur, path: '/' + done.join('/') }
    }
  }

  /** An inode of the graph in use: `inode` itself, or looked up again by gfid when it is from an older graph. */
  async current (inode: Inode, o: FopCtx = {}): Promise<Inode> {
    return inode.layer === this.#top() ? inode : await this.#top().lookupGfid(inode.gfid, o)
  }

  /** Forget cached directories at and under `path` ('/' forgets everything). */
  invalidate (path: string): void {
    const p = splitPath(path).full
    for (const k of [...this.#dirs.keys()]) if (p === '/' || k === p || k.startsWith(p + '/')) this.#dirs.delete(k)
  }

  clear (): void { this.#dirs.clear() }

  /** The path of a directory resolved recently, by gfid. */
  pathOf (gfid: string): string | undefined {
    for (const [p, s] of this.#dirs) if (gfidString(s.inode.gfid) === gfid) return p
    return undefined
  }
}
