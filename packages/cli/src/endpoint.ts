// One shape over a local directory tree and a volume, so cp, du and sum have one code path for
// local→remote, remote→local, remote→remote (and local→local).
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import { posix, join as joinLocal } from 'node:path'
import type { Readable, Writable } from 'node:stream'
import type { Volume } from '@gluster-ts/volume'

export type EntryType = 'file' | 'dir' | 'symlink' | 'other'

export interface Info {
  type: EntryType
  size: number
  mode: number
  atimeMs: number
  mtimeMs: number
}

/** This process's umask, read once (new local files get it; the CLI gives volumes the same). */
export const UMASK = process.umask()

export interface Endpoint {
  readonly remote: boolean
  /** bits a newly created file or directory loses */
  readonly umask: number
  join (dir: string, name: string): string
  basename (path: string): string
  dirname (path: string): string
  /** undefined when it does not exist */
  lstat (path: string): Promise<Info | undefined>
  stat (path: string): Promise<Info | undefined>
  /** names and attributes, in one listing (READDIRP on a volume) */
  list (path: string): Promise<Array<{ name: string, info: Info }>>
  readFile (path: string): Promise<Buffer>
  createReadStream (path: string, start?: number): Readable
  writeFile (path: string, data: Buffer, o: { mode: number, exclusive: boolean }): Promise<void>
  /** `start` given: write into the existing file from there (resume); else create/truncate */
  createWriteStream (path: string, o: { mode: number, start?: number, exclusive: boolean }): Writable
  /** create one directory; an existing directory is fine */
  mkdir (path: string, mode: number): Promise<void>
  readlink (path: string): Promise<string>
  symlink (target: string, path: string): Promise<void>
  chmod (path: string, mode: number): Promise<void>
  utimes (path: string, atimeMs: number, mtimeMs: number): Promise<void>
  /** replaces an existing file at `to` (sync renames its finished temporary file into place) */
  rename (from: string, to: string): Promise<void>
  unlink (path: string): Promise<void>
  rmdir (path: string): Promise<void>
}

const S_IFMT = 0o170000
function typeOf (mode: number): EntryType {
  switch (mode & S_IFMT) {
    case 0o100000: return 'file'
    case 0o040000: return 'dir'
    case 0o120000: return 'symlink'
    default: return 'other'
  }
}

function info (s: { mode: number, size: number, atimeMs: number, mtimeMs: number }): Info {
  return { type: typeOf(s.mode), size: s.size, mode: s.mode, atimeMs: s.atimeMs, mtimeMs: s.mtimeMs }
}

function missing (err: unknown): boolean {
  const c = (err as { code?: string } | null)?.code
  return c === 'ENOENT'
}

export class LocalEndpoint implements Endpoint {
  readonly remote = false
  readonly umask = UMASK
  join (dir: string, name: string): string { return joinLocal(dir, name) }
  basename (p: string): string { return posix.basename(p) }
  dirname (p: string): string { return posix.dirname(p) }
  async lstat (p: string): Promise<Info | undefined> {
    try { return info(await fsp.lstat(p)) } catch (err) { if (missing(err)) return undefined; throw err }
  }

  async stat (p: string): Promise<Info | undefined> {
    try { return info(await fsp.stat(p)) } catch (err) { if (missing(err)) return undefined; throw err }
  }

  async list (p: string): Promise<Array<{ name: string, info: Info }>> {
    const names = await fsp.readdir(p)
    return Promise.all(names.map(async name => ({ name, info: info(await fsp.lstat(joinLocal(p, name))) })))
  }

  readFile (p: string): Promise<Buffer> { return fsp.readFile(p) }
  createReadStream (p: string, start = 0): Readable { return fs.createReadStream(p, { start, highWaterMark: 1 << 20 }) }
  writeFile (p: string, data: Buffer, o: { mode: number, exclusive: boolean }): Promise<void> {
    return fsp.writeFile(p, data, { mode: o.mode, flag: o.exclusive ? 'wx' : 'w' })
  }

  createWriteStream (p: string, o: { mode: number, start?: number, exclusive: boolean }): Writable {
    return fs.createWriteStream(p, o.start !== undefined ? { flags: 'r+', start: o.start } : { flags: o.exclusive ? 'wx' : 'w', mode: o.mode })
  }

  async mkdir (p: string, mode: number): Promise<void> {
    try {
      await fsp.mkdir(p, { mode })
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST' || (await this.stat(p))?.type !== 'dir') throw err
    }
  }

  readlink (p: string): Promise<string> { return fsp.readlink(p) }
  symlink (target: string, p: string): Promise<void> { return fsp.symlink(target, p) }
  chmod (p: string, mode: number): Promise<void> { return fsp.chmod(p, mode & 0o7777) }
  utimes (p: string, atimeMs: number, mtimeMs: number): Promise<void> {
    // seconds as a double: 1795616677.191 is stored as …190999999 ns and would read back one ms
    // early; a microsecond more keeps the millisecond the volume gave us
    return fsp.utimes(p, (atimeMs + 0.001) / 1000, (mtimeMs + 0.001) / 1000)
  }

  rename (from: string, to: string): Promise<void> { return fsp.rename(from, to) }
  unlink (p: string): Promise<void> { return fsp.unlink(p) }
  rmdir (p: string): Promise<void> { return fsp.rmdir(p) }
}

export class RemoteEndpoint implements Endpoint {
  readonly remote = true
  readonly umask = UMASK
  readonly vol: Volume
  readonly #signal: AbortSignal

  constructor (vol: Volume, signal: AbortSignal) {
    this.vol = vol
    this.#signal = signal
  }

  join (dir: string, name: string): string { return posix.join(dir, name) }
  basename (p: string): string { return posix.basename(p) }
  dirname (p: string): string { return posix.dirname(p) }
  async lstat (p: string): Promise<Info | undefined> {
    try { return info(await this.vol.lstat(p, { signal: this.#signal })) } catch (err) { if (missing(err)) return undefined; throw err }
  }

  async stat (p: string): Promise<Info | undefined> {
    try { return info(await this.vol.stat(p, { signal: this.#signal })) } catch (err) { if (missing(err)) return undefined; throw err }
  }

  async list (p: string): Promise<Array<{ name: string, info: Info }>> {
    const ents = await this.vol.readdir(p, { withFileTypes: true, stats: true, signal: this.#signal })
    const out: Array<{ name: string, info: Info }> = []
    for (const e of ents) {
      if (e.name === '.' || e.name === '..') continue
      const st = e.stats ?? await this.vol.lstat(posix.join(p, e.name), { signal: this.#signal })
      out.push({ name: e.name, info: info(st) })
    }
    return out
  }

  readFile (p: string): Promise<Buffer> { return this.vol.readFile(p, { signal: this.#signal }) }
  createReadStream (p: string, start = 0): Readable { return this.vol.createReadStream(p, { start, signal: this.#signal }) }
  writeFile (p: string, data: Buffer, o: { mode: number, exclusive: boolean }): Promise<void> {
    return this.vol.writeFile(p, data, { flag: o.exclusive ? 'wx' : 'w', mode: o.mode & 0o7777, signal: this.#signal })
  }

  createWriteStream (p: string, o: { mode: number, start?: number, exclusive: boolean }): Writable {
    return this.vol.createWriteStream(p, o.start !== undefined
      ? { flags: 'r+', start: o.start, signal: this.#signal }
      : { flags: o.exclusive ? 'wx' : 'w', mode: o.mode & 0o7777, signal: this.#signal })
  }

  async mkdir (p: string, mode: number): Promise<void> {
    try {
      await this.vol.mkdir(p, { mode: mode & 0o7777, signal: this.#signal })
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST' || (await this.stat(p))?.type !== 'dir') throw err
    }
  }

  readlink (p: string): Promise<string> { return this.vol.readlink(p, { signal: this.#signal }) }
  symlink (target: string, p: string): Promise<void> { return this.vol.symlink(target, p, { signal: this.#signal }) }
  chmod (p: string, mode: number): Promise<void> { return this.vol.chmod(p, mode & 0o7777, { signal: this.#signal }) }
  utimes (p: string, atimeMs: number, mtimeMs: number): Promise<void> {
    return this.vol.utimes(p, atimeMs / 1000, mtimeMs / 1000, { signal: this.#signal })
  }

  rename (from: string, to: string): Promise<void> { return this.vol.rename(from, to, { signal: this.#signal }) }
  unlink (p: string): Promise<void> { return this.vol.unlink(p, { signal: this.#signal }) }
  rmdir (p: string): Promise<void> { return this.vol.rmdir(p, { signal: this.#signal }) }
}
