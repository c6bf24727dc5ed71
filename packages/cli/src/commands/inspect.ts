// Commands that describe what is there: ls, stat, du. In --json, every entry names its `path`
// (in the volume, or the local path) and, on a volume, its canonical `url`; inode numbers are
// exact (strings: 64 bits do not fit a JSON number) and times keep their nanoseconds.
import { posix } from 'node:path'
import type { Stats } from '@gluster-ts/volume'
import type { Session } from '../session.js'
import { CliError } from '../errors.js'
import { byteOrder, exactIno, humanSize, isoTime, longListing, modeString, octalMode, statTime, typeName, type LongEntry } from '../format.js'
import { formatLocation, type Location, type RemoteLocation } from '../url.js'
import { eachArg, endpointFor } from './common.js'
import { NO_FILTER, type Filter } from '../filter.js'

/** `path` and, on a volume, `url`: how every JSON entry names what it describes. */
function named (loc: Location, path: string): { path: string, url?: string } {
  return loc.kind === 'remote' ? { path, url: formatLocation(loc, path) } : { path }
}

function statJson (loc: RemoteLocation, path: string, st: Stats, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...named(loc, path),
    ...extra,
    type: typeName(st.mode),
    size: st.size,
    mode: octalMode(st.mode),
    nlink: st.nlink,
    uid: st.uid,
    gid: st.gid,
    blocks: st.blocks,
    blksize: st.blksize,
    ino: exactIno(st).toString(),
    atime: isoTime(st.atimeNs),
    mtime: isoTime(st.mtimeNs),
    ctime: isoTime(st.ctimeNs),
    gfid: st.gfid,
  }
}

/** `ls file/`, `stat file/`: a trailing slash asks for a directory (POSIX path resolution). */
export function notADirectory (command: string, loc: RemoteLocation): CliError {
  return new CliError('ENOTDIR', `ENOTDIR: not a directory, ${command} '${loc.path}/'`, { path: loc.path })
}

export interface LsOptions { long: boolean, all: boolean, human: boolean, recursive: boolean, filter?: Filter | undefined }

export async function ls (s: Session, targets: string[], o: LsOptions): Promise<number> {
  const json: Array<Record<string, unknown>> = []
  const now = Date.now()
  let first = true
  const code = await eachArg(s, 'ls', targets, async arg => {
    const loc = s.remote(arg, 'ls')
    const vol = await s.volume(loc)
    const st = await vol.stat(loc.path, { signal: s.signal })
    if (loc.trailingSlash && !st.isDirectory()) throw notADirectory('ls', loc)
    const print = async (dir: string, header: string | undefined, entries: Array<{ name: string, st: Stats }>, isDir: boolean): Promise<void> => {
      const withTargets = await Promise.all(entries.map(async e => ({
        ...e,
        target: e.st.isSymbolicLink() ? await vol.readlink(posix.join(dir, e.name), { signal: s.signal }).catch(() => '?') : undefined,
      })))
      if (s.opts.json) {
        for (const e of withTargets) {
          json.push(statJson(loc, posix.join(dir, e.name), e.st, { name: e.name, ...(e.target !== undefined ? { target: e.target } : {}) }))
        }
        return
      }
      if (header !== undefined) s.out(`${first ? '' : '\n'}${header}:\n`)
      first = false
      if (o.long) {
        const rows: LongEntry[] = withTargets.map(e => ({ name: e.name, mode: e.st.mode, nlink: e.st.nlink, uid: e.st.uid, gid: e.st.gid, size: e.st.size, mtimeMs: e.st.mtimeMs, target: e.target }))
        if (isDir) {
          // GNU ls: the listed entries' blocks in 1 KiB units, each rounded up
          const kib = withTargets.reduce((n, e) => n + Math.ceil(e.st.blocks / 2), 0)
          s.out(`total ${o.human ? humanSize(kib * 1024) : kib}\n`)
        }
        for (const line of longListing(rows, { human: o.human, nowMs: now })) s.out(line + '\n')
      } else {
        for (const e of withTargets) s.out(e.name + '\n')
      }
    }
    if (!st.isDirectory()) {
      await print(posix.dirname(loc.path), undefined, [{ name: posix.basename(loc.path), st: await vol.lstat(loc.path, { signal: s.signal }) }], false)
      return
    }
    // filters test paths relative to the listed directory
    const filter = o.filter ?? NO_FILTER
    const walk = async (dir: string, label: string, rel: string): Promise<void> => {
      const ents = (await vol.readdir(dir, { withFileTypes: true, stats: true, signal: s.signal }))
        .filter(e => e.name !== '.' && e.name !== '..' && (o.all || !e.name.startsWith('.')))
        .sort((a, b) => byteOrder(a.name, b.name))
      const all = await Promise.all(ents.map(async e => ({ name: e.name, st: e.stats ?? await vol.lstat(posix.join(dir, e.name), { signal: s.signal }) })))
      const under = (name: string): string => rel === '' ? name : `${rel}/${name}`
      const list = all.filter(e => e.st.isDirectory() ? filter.dir(under(e.name)) : filter.file(under(e.name)))
      await print(dir, o.recursive || targets.length > 1 ? label : undefined, list, true)
      if (o.recursive) {
        for (const e of list) if (e.st.isDirectory()) await walk(posix.join(dir, e.name), `${label.replace(/\/$/, '')}/${e.name}`, under(e.name))
      }
    }
    await walk(loc.path, arg, '')
  })
  if (s.opts.json) s.json(json)
  return code
}

export async function stat (s: Session, targets: string[], o: { follow: boolean }): Promise<number> {
  const json: Array<Record<string, unknown>> = []
  const code = await eachArg(s, 'stat', targets, async arg => {
    const loc = s.remote(arg, 'stat')
    const vol = await s.volume(loc)
    const st = o.follow || loc.trailingSlash ? await vol.stat(loc.path, { signal: s.signal }) : await vol.lstat(loc.path, { signal: s.signal })
    if (loc.trailingSlash && !st.isDirectory()) throw notADirectory('stat', loc)
    const target = st.isSymbolicLink() ? await vol.readlink(loc.path, { signal: s.signal }) : undefined
    if (s.opts.json) {
      json.push(statJson(loc, loc.path, st, target !== undefined ? { target } : {}))
      return
    }
    s.out(`  File: ${arg}${target !== undefined ? ` -> ${target}` : ''}\n` +
      `  Size: ${st.size}\tBlocks: ${st.blocks}\tIO Block: ${st.blksize}\t${typeName(st.mode)}\n` +
      `Inode: ${exactIno(st)}\tLinks: ${st.nlink}\tGFID: ${st.gfid}\n` +
      `Access: (${octalMode(st.mode)}/${modeString(st.mode)})\tUid: ${st.uid}\tGid: ${st.gid}\n` +
      `Access: ${statTime(st.atimeNs)}\n` +
      `Modify: ${statTime(st.mtimeNs)}\n` +
      `Change: ${statTime(st.ctimeNs)}\n`)
  })
  if (s.opts.json) s.json(json)
  return code
}

export interface DuOptions { summarize: boolean, human: boolean, maxDepth?: number | undefined, filter?: Filter | undefined }

/**
 * Apparent sizes, as `du --apparent-size -b`: a directory counts its own size (st_size) with its
 * contents'. Each printed directory (and each --json entry) has its own totals.
 */
export async function du (s: Session, targets: string[], o: DuOptions): Promise<number> {
  const json: Array<Record<string, unknown>> = []
  const fmt = (n: number): string => o.human ? humanSize(n) : String(n)
  const code = await eachArg(s, 'du', targets, async arg => {
    const loc = s.loc(arg)
    const ep = await endpointFor(s, loc)
    const top = await ep.lstat(loc.path)
    if (top === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, stat '${loc.path}'`), { code: 'ENOENT', path: loc.path })
    const label = (rel: string): string => rel === '' ? arg : `${arg.replace(/\/$/, '')}/${rel}`
    const filter = o.filter ?? NO_FILTER
    interface Sum { bytes: number, files: number, dirs: number }
    const emit = (path: string, rel: string, t: Sum): void => {
      if (s.opts.json) json.push({ ...named(loc, path), bytes: t.bytes, files: t.files, dirs: t.dirs })
      else s.out(`${fmt(t.bytes)}\t${label(rel)}\n`)
    }
    const walk = async (path: string, rel: string, depth: number, own: number): Promise<Sum> => {
      const t: Sum = { bytes: own, files: 0, dirs: 1 }
      for (const e of await ep.list(path)) {
        if (s.signal.aborted) throw s.signal.reason ?? Object.assign(new Error('aborted'), { code: 'ABORT_ERR' })
        const r = rel === '' ? e.name : `${rel}/${e.name}`
        if (!(e.info.type === 'dir' ? filter.dir(r) : filter.file(r))) continue
        if (e.info.type === 'dir') {
          const sub = await walk(ep.join(path, e.name), rel === '' ? e.name : `${rel}/${e.name}`, depth + 1, e.info.size)
          t.bytes += sub.bytes
          t.files += sub.files
          t.dirs += sub.dirs
        } else {
          t.files++
          t.bytes += e.info.size
        }
      }
      if (!o.summarize && (o.maxDepth === undefined || depth <= o.maxDepth) && depth > 0) emit(path, rel, t)
      return t
    }
    const total = top.type === 'dir' ? await walk(loc.path, '', 0, top.size) : { bytes: top.size, files: 1, dirs: 0 }
    emit(loc.path, '', total)
  })
  if (s.opts.json) s.json(json)
  return code
}
