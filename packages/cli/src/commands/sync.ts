// sync SRC DST: make the tree DST like the tree SRC, one way (local→volume, volume→local,
// volume→volume), as `rclone sync`/`rsync -a` users expect. Three phases:
//   plan: walk both trees together (filters applied); a file is copied when DST lacks it and
//         updated when the size differs, or the mtime differs in whole milliseconds (the Volume
//         API's Stats carry milliseconds, Node's fs more: the precision both keep), or, with --checksum, when
//         the sha256 differs; a symlink when its target differs;
//   copy: each file is written to `.gts-sync-<random>.partial` beside its destination, given the
//         source's times, then renamed into place: an interrupted run never leaves a partial file
//         under the real name, and the next run sweeps the leftovers of earlier ones;
//   delete (--delete): DST entries SRC lacks, only when every copy succeeded;
//   then the directories whose entries changed get the source directory's times (as rsync -a).
// --dry-run prints the plan and changes nothing; --json prints one object per action.
import { randomBytes } from 'node:crypto'
import { resolve as resolveLocal } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Transform, type Readable } from 'node:stream'
import type { Session, Progress } from '../session.js'
import { CliError, EXIT } from '../errors.js'
import type { Endpoint, Info } from '../endpoint.js'
import { volumeKey, type Location } from '../url.js'
import type { Filter } from '../filter.js'
import { TokenBucket } from '../bwlimit.js'
import { withRetry } from '../retry.js'
import { sha256 } from '../hash.js'
import { endpointFor, Limiter, pool, report } from './common.js'

export interface SyncOptions {
  checksum: boolean
  delete: boolean
  dryRun: boolean
  filter: Filter
  /** bytes/s over all transfers; 0: no limit */
  bwlimit: number
  retries: number
  transfers: number
  verbose: boolean
}

export type SyncAction = 'copy' | 'update' | 'delete' | 'mkdir'

interface Step {
  action: SyncAction
  /** relative to the roots, '/'-separated; '.' is the destination root */
  rel: string
  bytes: number
  /** the source entry (copy, update, mkdir) or the destination entry (delete) */
  info: Info
}

/** Temporary files of this command: `.gts-sync-` 12 hex digits `.partial` (swept on every run). */
export const PARTIAL = /^\.gts-sync-[0-9a-f]{12}\.partial$/
const partialName = (): string => `.gts-sync-${randomBytes(6).toString('hex')}.partial`

/** Files up to this size are read and written whole, larger ones streamed (as cp does). */
const WHOLE_FILE_BYTES = 1 << 20
/** directory listings in flight while planning */
const LISTINGS = 8

const join = (rel: string, name: string): string => rel === '.' ? name : `${rel}/${name}`
const enoent = (path: string): Error => Object.assign(new Error(`ENOENT: no such file or directory, stat '${path}'`), { code: 'ENOENT', path })

function aborted (s: Session): Error {
  return (s.signal.reason as Error | undefined) ?? Object.assign(new Error('aborted'), { code: 'ABORT_ERR' })
}

/** One tree's side: where it is, and how to reach a relative path in it. */
class Side {
  constructor (readonly ep: Endpoint, readonly root: string) {}
  path (rel: string): string { return rel === '.' ? this.root : this.ep.join(this.root, rel) }
}

/** sync refuses to copy a tree into itself (or its parent into it): the walk would never end. */
function overlapping (a: Location, b: Location): boolean {
  if (a.kind !== b.kind) return false
  if (a.kind === 'remote' && b.kind === 'remote' && volumeKey(a) !== volumeKey(b)) return false
  const norm = (p: string): string => (a.kind === 'local' ? resolveLocal(p) : p).replace(/\/+$/, '') + '/'
  const x = norm(a.path)
  const y = norm(b.path)
  return x.startsWith(y) || y.startsWith(x)
}

export async function sync (s: Session, srcArg: string, dstArg: string, o: SyncOptions): Promise<number> {
  const t0 = performance.now()
  const retry = <T>(fn: () => Promise<T>): Promise<T> => withRetry(fn, {
    retries: o.retries,
    signal: s.signal,
    onRetry: (err, n, ms) => {
      s.err(`gluster-ts sync: ${(err as Error).message ?? String(err)}; try ${n + 1} of ${o.retries + 1} in ${ms / 1000} s\n`)
      // the next try connects again (a connect that failed is otherwise kept for the whole command)
      s.connections.forgetFailed()
    },
  })
  let src: Side
  let dst: Side
  let dstExists: boolean
  /** the source's directories, for their times at the end */
  const srcDirs = new Map<string, Info>()
  try {
    const srcLoc = s.loc(srcArg)
    const dstLoc = s.loc(dstArg)
    if (overlapping(srcLoc, dstLoc)) throw new CliError('EINVAL', `EINVAL: '${srcArg}' and '${dstArg}' overlap: one is inside the other`)
    src = new Side(await retry(() => endpointFor(s, srcLoc)), srcLoc.path)
    const top = await retry(() => src.ep.stat(src.root))
    if (top === undefined) throw enoent(src.root)
    if (top.type !== 'dir') throw new CliError('ENOTDIR', `ENOTDIR: source '${srcArg}' is not a directory (cp copies one file)`, { path: src.root })
    srcDirs.set('.', top)
    dst = new Side(await retry(() => endpointFor(s, dstLoc)), dstLoc.path)
    const d = await retry(() => dst.ep.stat(dst.root))
    if (d !== undefined && d.type !== 'dir') throw new CliError('ENOTDIR', `ENOTDIR: destination '${dstArg}' is not a directory`, { path: dst.root })
    dstExists = d !== undefined
  } catch (err) {
    return report(s, 'sync', undefined, err)
  }

  // ---- plan
  const copies: Step[] = []
  const deletes: Step[] = []
  const leftovers: string[] = []
  const toHash: Array<{ step: Step, dstInfo: Info }> = []
  let unchanged = 0
  let errors = 0
  /** the exit status of the first failure */
  let failed: number = EXIT.OK
  const fail = (rel: string, err: unknown): void => {
    errors++
    const code = report(s, 'sync', rel, err)
    if (failed === EXIT.OK) failed = code
    if (code === EXIT.INTERRUPTED) throw err
  }
  const listings = new Limiter(LISTINGS)
  const list = (side: Side, rel: string): Promise<Map<string, Info>> => listings.run(() => retry(async () => {
    if (s.signal.aborted) throw aborted(s)
    return new Map((await side.ep.list(side.path(rel))).map(e => [e.name, e.info]))
  }))

  /** everything under an extra destination directory that --delete may remove; true if all of it */
  async function extra (rel: string, info: Info): Promise<boolean> {
    if (!o.filter.dir(rel)) return false
    let all = true
    for (const [name, i] of await list(dst, rel)) {
      const r = join(rel, name)
      if (PARTIAL.test(name)) { leftovers.push(r); continue }
      if (i.type === 'dir') all = await extra(r, i) && all
      else if (o.filter.file(r)) deletes.push({ action: 'delete', rel: r, bytes: i.size, info: i })
      else all = false
    }
    if (all) deletes.push({ action: 'delete', rel, bytes: 0, info })
    return all
  }

  async function walk (rel: string, hasDst: boolean): Promise<void> {
    const [from, to] = await Promise.all([list(src, rel), hasDst ? list(dst, rel) : Promise.resolve(new Map<string, Info>())])
    const subdirs: Array<Promise<void>> = []
    for (const [name, i] of from) {
      const r = join(rel, name)
      const have = to.get(name)
      if (PARTIAL.test(name)) continue // another sync's unfinished file: never a source
      if (i.type === 'dir') {
        if (!o.filter.dir(r)) continue
        if (have !== undefined && have.type !== 'dir') {
          fail(r, new CliError('EEXIST', `EEXIST: a directory in the source, a ${have.type} in the destination (remove it, then sync again)`, { path: dst.path(r) }))
          continue
        }
        if (have === undefined) copies.push({ action: 'mkdir', rel: r, bytes: 0, info: i })
        srcDirs.set(r, i)
        subdirs.push(walk(r, have !== undefined).catch(err => { fail(r, err) }))
        continue
      }
      if (i.type === 'other' || !o.filter.file(r)) continue
      if (have?.type === 'dir') {
        fail(r, new CliError('EISDIR', `EISDIR: a ${i.type} in the source, a directory in the destination (remove it, then sync again)`, { path: dst.path(r) }))
        continue
      }
      const step: Step = { action: have === undefined ? 'copy' : 'update', rel: r, bytes: i.type === 'file' ? i.size : 0, info: i }
      if (have === undefined) copies.push(step)
      else if (i.type === 'symlink' || have.type === 'symlink') {
        if (i.type === have.type && await retry(async () => await src.ep.readlink(src.path(r)) === await dst.ep.readlink(dst.path(r)))) unchanged++
        else copies.push(step)
      } else if (i.size !== have.size) copies.push(step)
      else if (o.checksum) toHash.push({ step, dstInfo: have })
      else if (Math.floor(i.mtimeMs) !== Math.floor(have.mtimeMs)) copies.push(step)
      else unchanged++
    }
    for (const [name, i] of to) {
      if (from.has(name)) continue
      const r = join(rel, name)
      if (PARTIAL.test(name)) { leftovers.push(r); continue }
      if (!o.delete) continue
      if (i.type === 'dir') await extra(r, i)
      else if (o.filter.file(r)) deletes.push({ action: 'delete', rel: r, bytes: i.size, info: i })
    }
    await Promise.all(subdirs)
  }

  try {
    if (!dstExists) copies.push({ action: 'mkdir', rel: '.', bytes: 0, info: { type: 'dir', size: 0, mode: 0o40755, atimeMs: 0, mtimeMs: 0 } })
    await walk('.', dstExists)
    // same size, --checksum: read both sides
    await pool(toHash, Math.max(1, o.transfers), async ({ step }) => {
      try {
        const [a, b] = await retry(() => Promise.all([sha256(src.ep, src.path(step.rel)), sha256(dst.ep, dst.path(step.rel))]))
        if (a.hex !== b.hex) copies.push(step)
        else unchanged++
      } catch (err) { fail(step.rel, err) }
    })
  } catch (err) {
    return report(s, 'sync', undefined, err)
  }
  // deepest paths last for mkdir (parents first), and a stable order for the printed plan
  copies.sort((a, b) => (a.action === 'mkdir' ? 0 : 1) - (b.action === 'mkdir' ? 0 : 1) || depth(a.rel) - depth(b.rel) || (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0))

  // files first, then directories deepest first (each after what it held)
  const isDir = (d: Step): number => d.info.type === 'dir' ? 1 : 0
  deletes.sort((a, b) => isDir(a) - isDir(b) || (isDir(a) === 1 ? depth(b.rel) - depth(a.rel) : 0) || (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0))
  const print = (st: Step): void => {
    if (s.opts.json) s.out(JSON.stringify({ path: st.rel, action: st.action, bytes: st.bytes }) + '\n')
    else if (o.dryRun || o.verbose) s.out(`${st.action.padEnd(6)} ${st.rel}${st.info.type === 'dir' ? '/' : ''}${st.bytes > 0 ? ` (${st.bytes} bytes)` : ''}\n`)
  }
  const counts = { copy: 0, update: 0, delete: 0, mkdir: 0 }
  let bytes = 0
  const summary = (ok: boolean): void => {
    const secs = Number(((performance.now() - t0) / 1000).toFixed(3))
    const line = { ...counts, unchanged, bytes, errors, swept: o.dryRun ? 0 : leftovers.length, seconds: secs, dryRun: o.dryRun, ok }
    if (s.opts.json) s.out(JSON.stringify({ summary: line }) + '\n')
    else if (o.verbose || o.dryRun) {
      s.err(`gluster-ts sync: ${o.dryRun ? 'would transfer' : 'transferred'} ${counts.copy + counts.update} files (${bytes} bytes: ${counts.copy} new, ${counts.update} changed), ` +
        `${counts.mkdir} directories made, ${counts.delete} deleted, ${unchanged} unchanged, ${errors} errors, ${secs} s\n`)
    }
  }

  if (o.dryRun) {
    for (const st of copies) { print(st); counts[st.action]++; bytes += st.action === 'mkdir' ? 0 : st.bytes }
    if (o.delete && errors === 0) for (const st of deletes) { print(st); counts.delete++ }
    summary(errors === 0)
    return failed
  }

  // ---- copy
  const bucket = o.bwlimit > 0 ? new TokenBucket(o.bwlimit) : undefined
  const files = copies.filter(c => c.action !== 'mkdir')
  const bar = s.progress(files.reduce((n, c) => n + c.bytes, 0), 'sync')
  let done = 0
  bar.files(0, files.length)
  const dirModes: Step[] = []
  let code: number = EXIT.OK
  /** destination directories whose entries changed: they get the source's times at the end, as rsync -a does */
  const touched = new Set<string>()
  const touch = (rel: string): void => { touched.add(rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '.') }
  try {
    for (const rel of leftovers) { touch(rel); await dst.ep.unlink(dst.path(rel)).catch(() => {}) } // earlier runs' partial files
    for (const st of copies) {
      if (st.action !== 'mkdir') continue
      if (s.signal.aborted) throw aborted(s)
      try {
        await retry(() => st.rel === '.' ? mkdirs(dst.ep, dst.root) : dst.ep.mkdir(dst.path(st.rel), (st.info.mode & 0o7777) | 0o700))
        counts.mkdir++
        touched.add(st.rel)
        if (st.rel !== '.') touch(st.rel)
        print(st)
        if (st.rel !== '.' && (st.info.mode & 0o700) !== 0o700) dirModes.push(st)
      } catch (err) { fail(st.rel, err) }
    }
    await pool(files, Math.max(1, o.transfers), async st => {
      if (s.signal.aborted) throw aborted(s)
      try {
        const n = await retry(() => transfer(src, dst, st, bar, bucket, s.signal))
        counts[st.action]++
        bytes += n
        touch(st.rel)
        print(st)
      } catch (err) {
        if (s.signal.aborted) throw err
        fail(st.rel, err)
      } finally {
        bar.files(++done, files.length)
      }
    })
    for (const st of dirModes) await retry(() => dst.ep.chmod(dst.path(st.rel), st.info.mode)).catch(err => { fail(st.rel, err) })
  } catch (err) {
    code = report(s, 'sync', undefined, err)
  } finally {
    bar.stop()
  }

  // ---- delete: only after a copy phase without a single failure
  if (code === EXIT.OK && o.delete && deletes.length > 0) {
    if (errors > 0) {
      s.err(`gluster-ts sync: not deleting ${deletes.length} entr${deletes.length > 1 ? 'ies' : 'y'}: ${errors} error${errors > 1 ? 's' : ''} before\n`)
    } else {
      try {
        // files (in parallel) before the directories that held them (in plan order: deepest first)
        await pool(deletes.filter(d => d.info.type !== 'dir'), Math.max(1, o.transfers), async st => {
          try {
            await retry(() => dst.ep.unlink(dst.path(st.rel)))
            touch(st.rel)
            counts.delete++
            print(st)
          } catch (err) { if (s.signal.aborted) throw err; fail(st.rel, err) }
        })
        for (const st of deletes) {
          if (st.info.type !== 'dir') continue
          if (s.signal.aborted) throw aborted(s)
          try {
            await retry(() => dst.ep.rmdir(dst.path(st.rel)))
            touched.delete(st.rel)
            touch(st.rel)
            counts.delete++
            print(st)
          } catch (err) { fail(st.rel, err) }
        }
      } catch (err) {
        code = report(s, 'sync', undefined, err)
      }
    }
  }
  if (code === EXIT.OK) {
    // deepest first: setting a directory's times does not change its parent's
    for (const rel of [...touched].sort((a, b) => depth(b) - depth(a))) {
      const i = srcDirs.get(rel)
      if (i === undefined || s.signal.aborted) continue
      await retry(() => dst.ep.utimes(dst.path(rel), i.atimeMs, i.mtimeMs)).catch(err => { fail(rel, err) })
    }
  }
  summary(code === EXIT.OK && errors === 0)
  return code !== EXIT.OK ? code : failed
}

function depth (rel: string): number {
  let n = 0
  for (const c of rel) if (c === '/') n++
  return rel === '.' ? -1 : n
}

/** mkdir -p: the destination root and any missing parents */
async function mkdirs (ep: Endpoint, path: string): Promise<void> {
  const parent = ep.dirname(path)
  if (parent !== path && await ep.stat(parent) === undefined) await mkdirs(ep, parent)
  await ep.mkdir(path, 0o777)
}

/** Copy one file or symlink through a temporary name; resolves with the bytes written. */
async function transfer (src: Side, dst: Side, st: Step, bar: Progress, bucket: TokenBucket | undefined, signal: AbortSignal): Promise<number> {
  const sp = src.path(st.rel)
  const dp = dst.path(st.rel)
  const tmp = dst.ep.join(dst.ep.dirname(dp), partialName())
  let sent = 0
  try {
    if (st.info.type === 'symlink') {
      await dst.ep.symlink(await src.ep.readlink(sp), tmp)
    } else {
      const mode = st.info.mode & 0o7777
      if (st.info.size <= WHOLE_FILE_BYTES) {
        const data = await src.ep.readFile(sp)
        await bucket?.take(data.length, signal)
        await dst.ep.writeFile(tmp, data, { mode, exclusive: true })
        sent = data.length
        bar.add(sent)
      } else {
        const count = new Transform({ transform (c: Buffer, _e, cb) { sent += c.length; bar.add(c.length); cb(null, c) } })
        const stages: Array<Readable | Transform> = [src.ep.createReadStream(sp), count]
        if (bucket !== undefined) stages.push(bucket.stream(signal))
        await pipeline([...stages, dst.ep.createWriteStream(tmp, { mode, exclusive: true })], { signal })
      }
      // the source's times, so that the next run finds it unchanged
      await dst.ep.utimes(tmp, st.info.atimeMs, st.info.mtimeMs)
    }
    await dst.ep.rename(tmp, dp)
  } catch (err) {
    bar.add(-sent)
    // a retry or the next run starts over; if this fails too, the next run sweeps it
    if (!signal.aborted) await dst.ep.unlink(tmp).catch(() => {})
    throw err
  }
  return sent
}
