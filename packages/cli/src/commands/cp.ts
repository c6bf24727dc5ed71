// cp SRC... DST between local paths and volumes, either way (and volume to volume).
// -r walks the tree: directories are created as the walk reaches them, files are copied by a pool
// of `jobs` transfers in flight (files over WHOLE_FILE_BYTES stream, at most STREAMS of them at
// once: each has its own window of WRITEs or READs in flight); -p sets mode and times
// (directories last, deepest first, since creating entries changes a directory's mtime) and
// copies user.* xattrs; --resume skips files already at full size and continues shorter ones
// from their length.
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Session, Progress } from '../session.js'
import { CliError, EXIT } from '../errors.js'
import type { Endpoint, Info } from '../endpoint.js'
import type { Location } from '../url.js'
import { endpointFor, Limiter, pool, report } from './common.js'
import { copyXattrs, type XattrCopier } from '../xattrs.js'
import { NO_FILTER, type Filter } from '../filter.js'
import { sha256 } from '../hash.js'

export interface CpOptions {
  recursive: boolean
  preserve: boolean
  resume: boolean
  noClobber: boolean
  jobs: number
  verbose: boolean
  /** with resume: verify what is already there by sha256 */
  checksum?: boolean
  /** --include/--exclude/--filter, tested on paths relative to each source tree */
  filter?: Filter
}

/** Files up to this size are read and written whole (one READ/LOOKUP and one WRITE), not streamed. */
const WHOLE_FILE_BYTES = 1 << 20
/** Streamed (larger) files copied at the same time, whatever --jobs says: each holds a window of I/O. */
const STREAMS = 4

interface Job { sp: string, dp: string, info: Info }
interface Stats {
  files: number
  dirs: number
  symlinks: number
  bytes: number
  skipped: number
  /** --resume --checksum: files whose copied part differed from the source (copied again whole) */
  mismatched: number
  /** destination files being written now: partial if the copy stops (Ctrl-C) */
  writing: Set<string>
}

export async function cp (s: Session, args: string[], o: CpOptions): Promise<number> {
  const dstArg = args[args.length - 1]!
  const srcArgs = args.slice(0, -1)
  const t0 = performance.now()
  const stats: Stats = { files: 0, dirs: 0, symlinks: 0, bytes: 0, skipped: 0, mismatched: 0, writing: new Set() }
  let dstLoc: Location
  let dst: Endpoint
  let dstInfo: Info | undefined
  try {
    if (srcArgs.length === 0) throw new CliError('EUSAGE', 'cp needs SRC... DST')
    dstLoc = s.loc(dstArg)
    dst = await endpointFor(s, dstLoc)
    dstInfo = await dst.stat(dstLoc.path)
    if (srcArgs.length > 1 && dstInfo?.type !== 'dir') {
      throw new CliError(dstInfo === undefined ? 'ENOENT' : 'ENOTDIR', `${dstInfo === undefined ? 'ENOENT' : 'ENOTDIR'}: target '${dstArg}' is not a directory`, { path: dstLoc.path })
    }
  } catch (err) {
    return report(s, 'cp', dstArg, err)
  }
  const bar = s.progress(0, 'cp')
  let code: number = EXIT.OK
  try {
    for (const srcArg of srcArgs) {
      if (s.signal.aborted) { code = EXIT.INTERRUPTED; break }
      try {
        const srcLoc = s.loc(srcArg)
        const src = await endpointFor(s, srcLoc)
        const info = await src.lstat(srcLoc.path)
        if (info === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, stat '${srcLoc.path}'`), { code: 'ENOENT', path: srcLoc.path })
        const into = dstInfo?.type === 'dir' || (dstLoc.kind === 'remote' && dstLoc.trailingSlash)
        const dp = into ? dst.join(dstLoc.path, src.basename(srcLoc.path) || (srcLoc.kind === 'remote' ? srcLoc.volume : 'root')) : dstLoc.path
        if (info.type === 'dir' && !o.recursive) throw new CliError('EISDIR', `EISDIR: -r not given; omitting directory '${srcArg}'`, { path: srcLoc.path })
        const xc = o.preserve ? await copyXattrs(src, srcLoc.path, dst, s.signal) : undefined
        await copyTree(s, src, srcLoc.path, dst, dp, info, o, stats, bar, xc)
        await xc?.finish()
      } catch (err) {
        code = report(s, 'cp', srcArg, err)
        if (code === EXIT.INTERRUPTED) break
      }
    }
  } finally {
    bar.stop()
  }
  const { writing, ...counts } = stats
  if (s.signal.aborted && !s.brokenPipe && writing.size > 0) {
    // what rsync --partial users expect: the partial files stay, and --resume continues them
    const names = [...writing]
    const list = names.slice(0, 3).join(', ') + (names.length > 3 ? ', …' : '')
    s.err(`gluster-ts cp: interrupted: ${names.length} file${names.length > 1 ? 's' : ''} partly copied (${list}); ` +
      `run the same command with --resume to finish ${names.length > 1 ? 'them' : 'it'}\n`)
  }
  if (s.opts.json) s.json({ ...counts, seconds: Number(((performance.now() - t0) / 1000).toFixed(3)), ok: code === EXIT.OK })
  return code
}

async function copyTree (s: Session, src: Endpoint, sp: string, dst: Endpoint, dp: string, info: Info,
  o: CpOptions, stats: Stats, bar: Progress, xc: XattrCopier | undefined): Promise<void> {
  if (info.type !== 'dir') {
    bar.grow(info.size)
    await copyOne(s, src, { sp, dp, info }, dst, o, stats, bar, xc, new Limiter(STREAMS))
    return
  }
  const dirs: Job[] = []
  const filter = o.filter ?? NO_FILTER
  const under = (rel: string, name: string): string => rel === '' ? name : `${rel}/${name}`
  async function * walk (sp: string, dp: string, info: Info, rel = ''): AsyncGenerator<Job> {
    if (s.signal.aborted) throw s.signal.reason ?? Object.assign(new Error('aborted'), { code: 'ABORT_ERR' })
    // owner rwx while we fill it; -p sets the real mode at the end
    await dst.mkdir(dp, (info.mode & 0o7777) | 0o700)
    stats.dirs++
    if (o.verbose) s.err(`${dp}/\n`)
    dirs.push({ sp, dp, info })
    const children = (await src.list(sp)).filter(c => c.info.type === 'dir' ? filter.dir(under(rel, c.name)) : filter.file(under(rel, c.name)))
    for (const c of children) bar.grow(c.info.type === 'file' ? c.info.size : 0)
    for (const c of children) if (c.info.type !== 'dir') yield { sp: src.join(sp, c.name), dp: dst.join(dp, c.name), info: c.info }
    for (const c of children) if (c.info.type === 'dir') yield * walk(src.join(sp, c.name), dst.join(dp, c.name), c.info, under(rel, c.name))
  }
  const streams = new Limiter(STREAMS)
  await pool(walk(sp, dp, info), Math.max(1, o.jobs), job => copyOne(s, src, job, dst, o, stats, bar, xc, streams))
  if (o.preserve) {
    for (const d of dirs.reverse()) {
      await xc?.apply(d.sp, d.dp)
      await dst.chmod(d.dp, d.info.mode)
      await dst.utimes(d.dp, d.info.atimeMs, d.info.mtimeMs)
    }
  } else {
    // without -p, undo the temporary owner rwx where the source did not have it
    for (const d of dirs) if ((d.info.mode & 0o700) !== 0o700) await dst.chmod(d.dp, d.info.mode)
  }
}

async function copyOne (s: Session, src: Endpoint, job: Job, dst: Endpoint, o: CpOptions, stats: Stats, bar: Progress,
  xc: XattrCopier | undefined, streams: Limiter): Promise<void> {
  const { sp, dp, info } = job
  if (info.type === 'symlink') {
    const target = await src.readlink(sp)
    const have = await dst.lstat(dp)
    if (have !== undefined) {
      if (o.resume && have.type === 'symlink' && await dst.readlink(dp) === target) { stats.skipped++; return }
      throw Object.assign(new Error(`EEXIST: file already exists, symlink '${dp}'`), { code: 'EEXIST', path: dp })
    }
    await dst.symlink(target, dp)
    stats.symlinks++
    return
  }
  if (info.type !== 'file') {
    s.err(`gluster-ts cp: ${sp}: skipping (not a regular file, directory or symlink)\n`)
    stats.skipped++
    return
  }
  let start = 0
  if (o.resume || o.noClobber) {
    const have = await dst.lstat(dp)
    if (have !== undefined) {
      if (o.noClobber) {
        stats.skipped++
        bar.add(info.size)
        return
      }
      // --checksum: the part already there must be the source's first bytes, else it starts over
      const same = have.type === 'file' && have.size <= info.size && (o.checksum !== true || await samePrefix(src, sp, dst, dp, have.size))
      if (same && have.size === info.size) {
        stats.skipped++
        bar.add(info.size)
        if (o.preserve) await preserve(dst, dp, info, xc, sp, false)
        return
      }
      if (same && have.size < info.size) start = have.size
      if (!same && have.type === 'file' && o.checksum === true) stats.mismatched++
    }
  }
  const mode = info.mode & 0o7777
  // create exclusively first: a file we created has its mode already (less the umask), so -p
  // needs no chmod for it; only an existing file is overwritten (and chmod-ed)
  let created = start === 0
  const stream = async (exclusive: boolean): Promise<void> => {
    let sent = 0
    const count = new Transform({
      transform (c: Buffer, _e, cb) {
        bar.add(c.length)
        sent += c.length
        cb(null, c)
      },
    })
    await pipeline(src.createReadStream(sp, start), count,
      dst.createWriteStream(dp, { mode, exclusive, ...(start > 0 ? { start } : {}) }), { signal: s.signal })
    stats.bytes += sent
  }
  const write = async (exclusive: boolean): Promise<void> => {
    if (start === 0 && info.size <= WHOLE_FILE_BYTES) {
      const data = await src.readFile(sp)
      await dst.writeFile(dp, data, { mode, exclusive })
      bar.add(data.length)
      stats.bytes += data.length
    } else {
      await streams.run(() => stream(exclusive))
    }
  }
  stats.writing.add(dp)
  try {
    if (start > 0) {
      bar.add(start)
      await write(false)
    } else {
      try {
        await write(true)
      } catch (err) {
        if (o.noClobber || (err as { code?: string }).code !== 'EEXIST') throw err
        created = false
        await write(false)
      }
    }
    stats.writing.delete(dp)
  } catch (err) {
    // only an interrupted copy leaves dp listed as partial
    if (!s.signal.aborted) stats.writing.delete(dp)
    throw err
  }
  stats.files++
  if (o.verbose) s.err(`${dp}\n`)
  if (o.preserve) await preserve(dst, dp, info, xc, sp, created)
}

async function samePrefix (src: Endpoint, sp: string, dst: Endpoint, dp: string, length: number): Promise<boolean> {
  const [a, b] = await Promise.all([sha256(src, sp, length), sha256(dst, dp, length)])
  return a.bytes === length && a.hex === b.hex
}

async function preserve (dst: Endpoint, dp: string, info: Info, xc: XattrCopier | undefined, sp: string, created: boolean): Promise<void> {
  await xc?.apply(sp, dp)
  if (!created || (info.mode & 0o7777 & ~dst.umask) !== (info.mode & 0o7777)) await dst.chmod(dp, info.mode)
  await dst.utimes(dp, info.atimeMs, info.mtimeMs)
}
