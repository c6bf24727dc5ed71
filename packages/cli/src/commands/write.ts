// Commands that change a volume: put, rm, mkdir, mv, truncate, touch.
import fs from 'node:fs'
import { posix } from 'node:path'
import { Transform, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Session } from '../session.js'
import { CliError, EXIT } from '../errors.js'
import { volumeKey } from '../url.js'
import { UMASK } from '../endpoint.js'
import { applySizeChange, type SizeChange } from '../format.js'
import { eachArg, report } from './common.js'

function code (err: unknown): string | undefined { return (err as { code?: string } | null)?.code }

export interface PutOptions { append: boolean, noClobber: boolean, parents: boolean, mode?: number | undefined }

/** put [FILE|-] URL: stdin (or FILE) into a file on the volume. */
export async function put (s: Session, args: string[], o: PutOptions): Promise<number> {
  const target = args[args.length - 1]!
  try {
    if (args.length > 2) throw new CliError('EUSAGE', 'put takes [FILE] URL (use cp for several files)')
    const from = args.length === 2 ? args[0]! : '-'
    const loc = s.remote(target, 'put')
    if (o.append && o.noClobber) throw new CliError('EUSAGE', '--append and --no-clobber exclude each other')
    const vol = await s.volume(loc)
    if (o.parents) await vol.mkdir(posix.dirname(loc.path), { recursive: true, signal: s.signal })
    let src: Readable = s.io.stdin
    let total = 0
    if (from !== '-') {
      total = (await fs.promises.stat(from)).size
      src = fs.createReadStream(from, { highWaterMark: 1 << 20 })
    }
    // stdin (a pipe): bytes and rate, its size is not known
    const bar = s.progress(from !== '-' ? total : undefined, 'put')
    const count = new Transform({ transform (c: Buffer, _e, cb) { bar.add(c.length); cb(null, c) } })
    try {
      await pipeline(src, count, vol.createWriteStream(loc.path, {
        flags: o.append ? 'a' : o.noClobber ? 'wx' : 'w',
        ...(o.mode !== undefined ? { mode: o.mode } : {}),
        signal: s.signal,
      }), { signal: s.signal })
    } finally {
      bar.stop()
    }
    return EXIT.OK
  } catch (err) {
    return report(s, 'put', target, err)
  }
}

export async function rm (s: Session, targets: string[], o: { recursive: boolean, force: boolean, preserveRoot: boolean }): Promise<number> {
  return eachArg(s, 'rm', targets, async arg => {
    const loc = s.remote(arg, 'rm')
    if (loc.path === '/' && o.preserveRoot) throw new CliError('EUSAGE', `refusing to remove the volume root '${arg}' (--no-preserve-root to do it anyway)`)
    const vol = await s.volume(loc)
    if (!o.recursive) {
      const st = await vol.lstat(loc.path, { signal: s.signal }).catch((err: unknown) => {
        if (o.force && code(err) === 'ENOENT') return undefined
        throw err
      })
      if (st === undefined) return
      if (st.isDirectory()) throw new CliError('EISDIR', `EISDIR: is a directory, rm '${loc.path}' (use -r)`, { path: loc.path })
    }
    await vol.rm(loc.path, { recursive: o.recursive, force: o.force, signal: s.signal })
  })
}

/**
 * mkdir [-p] [-m MODE]: as GNU mkdir, -m is the mode of the directory named, set exactly (as
 * chmod would, whatever the umask); with -p the parents it creates get the usual 0777 less the
 * umask (plus u+wx, so that the next level can be made).
 */
export async function mkdir (s: Session, targets: string[], o: { parents: boolean, mode?: number | undefined }): Promise<number> {
  return eachArg(s, 'mkdir', targets, async arg => {
    const loc = s.remote(arg, 'mkdir')
    const vol = await s.volume(loc)
    const signal = s.signal
    if (o.parents) {
      const parent = posix.dirname(loc.path)
      if (parent !== loc.path) await vol.mkdir(parent, { recursive: true, mode: 0o777 & ~UMASK | 0o300, signal })
      const exists = await vol.stat(loc.path, { signal }).then(st => st.isDirectory(), (err: unknown) => { if (code(err) === 'ENOENT') return false; throw err })
      if (exists) return
    }
    try {
      await vol.mkdir(loc.path, { ...(o.mode !== undefined ? { mode: o.mode } : {}), signal })
    } catch (err) {
      // -p: another client made it meanwhile
      if (o.parents && code(err) === 'EEXIST' && (await vol.stat(loc.path, { signal })).isDirectory()) return
      throw err
    }
    if (o.mode !== undefined && (o.mode & ~UMASK) !== o.mode) await vol.chmod(loc.path, o.mode, { signal })
  })
}

/** mv SRC... DST within one volume (RENAME); DST an existing directory: into it. */
export async function mv (s: Session, args: string[], o: { noClobber: boolean }): Promise<number> {
  const dstArg = args[args.length - 1]!
  const srcs = args.slice(0, -1)
  let dst
  try {
    if (srcs.length === 0) throw new CliError('EUSAGE', 'mv needs SRC... DST')
    dst = s.remote(dstArg, 'mv')
  } catch (err) {
    return report(s, 'mv', dstArg, err)
  }
  const d = dst
  let dstIsDir = false
  try {
    const vol = await s.volume(d)
    dstIsDir = (await vol.stat(d.path, { signal: s.signal }).catch(() => undefined))?.isDirectory() === true
    if (srcs.length > 1 && !dstIsDir) throw new CliError('ENOTDIR', `ENOTDIR: target '${dstArg}' is not a directory`, { path: d.path })
  } catch (err) {
    return report(s, 'mv', dstArg, err)
  }
  return eachArg(s, 'mv', srcs, async arg => {
    const src = s.remote(arg, 'mv')
    if (volumeKey(src) !== volumeKey(d)) throw new CliError('EXDEV', `EXDEV: '${arg}' and '${dstArg}' are on different volumes (use cp, then rm)`)
    const vol = await s.volume(src)
    const to = dstIsDir ? posix.join(d.path, posix.basename(src.path)) : d.path
    // -n: an existing destination is left alone, quietly (coreutils; cp -n does the same)
    if (o.noClobber && await vol.lstat(to, { signal: s.signal }).then(() => true, (err: unknown) => { if (code(err) === 'ENOENT') return false; throw err })) return
    await vol.rename(src.path, to, { signal: s.signal })
  })
}

/** truncate -s SIZE: absolute, or relative to each file's size (+N -N <N >N /N %N, as coreutils). */
export async function truncate (s: Session, targets: string[], o: { size: SizeChange, noCreate: boolean }): Promise<number> {
  return eachArg(s, 'truncate', targets, async arg => {
    const loc = s.remote(arg, 'truncate')
    const vol = await s.volume(loc)
    const signal = s.signal
    let size = 0
    try {
      size = (await vol.stat(loc.path, { signal })).size
    } catch (err) {
      if (code(err) !== 'ENOENT') throw err
      if (o.noCreate) return
      // a missing file is created and counts as empty
      await vol.writeFile(loc.path, '', { flag: 'wx', signal }).catch((e: unknown) => { if (code(e) !== 'EEXIST') throw e })
    }
    const want = applySizeChange(o.size, size)
    if (want !== size || o.size.op === '=') await vol.truncate(loc.path, want, { signal })
  })
}

export async function touch (s: Session, targets: string[], o: { noCreate: boolean, date?: Date | undefined }): Promise<number> {
  return eachArg(s, 'touch', targets, async arg => {
    const loc = s.remote(arg, 'touch')
    const vol = await s.volume(loc)
    const exists = await vol.lstat(loc.path, { signal: s.signal }).then(() => true, (err: unknown) => {
      if (code(err) === 'ENOENT') return false
      throw err
    })
    if (!exists) {
      if (o.noCreate) return
      await vol.writeFile(loc.path, '', { flag: 'wx', signal: s.signal }).catch((err: unknown) => { if (code(err) !== 'EEXIST') throw err })
    }
    const t = (o.date ?? new Date()).getTime() / 1000
    await vol.utimes(loc.path, t, t, { signal: s.signal })
  })
}
