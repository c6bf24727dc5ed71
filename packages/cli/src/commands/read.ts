// Commands that only read: cat, ls, stat, tail, du, sum, volfile, bricks.
import { createHash } from 'node:crypto'
import { posix } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { DumpProgram } from '@gluster-ts/rpc'
import { fetchVolfile, parseServers, type Stats, type Volume } from '@gluster-ts/volume'
import type { Session } from '../session.js'
import { EXIT } from '../errors.js'
import { byteOrder, hasLines, humanSize, lastLines, longListing, modeString, octalMode, statTime, typeName, type LongEntry } from '../format.js'
import { LocalEndpoint, RemoteEndpoint, type Endpoint } from '../endpoint.js'
import type { Location, RemoteLocation } from '../url.js'
import { eachArg, isEpipe, report, toStdout } from './common.js'

async function endpointFor (s: Session, loc: Location): Promise<Endpoint> {
  return loc.kind === 'local' ? new LocalEndpoint() : new RemoteEndpoint(await s.volume(loc), s.signal)
}

export async function cat (s: Session, targets: string[]): Promise<number> {
  return eachArg(s, 'cat', targets, async arg => {
    const loc = s.remote(arg, 'cat')
    const vol = await s.volume(loc)
    // READs land in a few reused buffers, written to stdout as they come (memory stays flat)
    await vol.pipeTo(loc.path, s.io.stdout, { signal: s.signal })
  })
}

function statJson (path: string, st: Stats, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    path,
    type: typeName(st.mode),
    size: st.size,
    mode: octalMode(st.mode),
    nlink: st.nlink,
    uid: st.uid,
    gid: st.gid,
    blocks: st.blocks,
    blksize: st.blksize,
    ino: st.ino,
    atime: st.atime.toISOString(),
    mtime: st.mtime.toISOString(),
    ctime: st.ctime.toISOString(),
    gfid: st.gfid,
    ...extra,
  }
}

export interface LsOptions { long: boolean, all: boolean, human: boolean, recursive: boolean }

export async function ls (s: Session, targets: string[], o: LsOptions): Promise<number> {
  const json: Array<Record<string, unknown>> = []
  const now = Date.now()
  let first = true
  const code = await eachArg(s, 'ls', targets, async arg => {
    const loc = s.remote(arg, 'ls')
    const vol = await s.volume(loc)
    const st = await vol.stat(loc.path, { signal: s.signal })
    const print = async (dir: string, header: string | undefined, entries: Array<{ name: string, st: Stats }>): Promise<void> => {
      const withTargets = await Promise.all(entries.map(async e => ({
        ...e,
        target: e.st.isSymbolicLink() ? await vol.readlink(posix.join(dir, e.name), { signal: s.signal }).catch(() => '?') : undefined,
      })))
      if (s.opts.json) {
        for (const e of withTargets) {
          json.push(statJson(posix.join(dir, e.name), e.st, { name: e.name, ...(e.target !== undefined ? { target: e.target } : {}) }))
        }
        return
      }
      if (header !== undefined) s.out(`${first ? '' : '\n'}${header}:\n`)
      first = false
      if (o.long) {
        const rows: LongEntry[] = withTargets.map(e => ({ name: e.name, mode: e.st.mode, nlink: e.st.nlink, uid: e.st.uid, gid: e.st.gid, size: e.st.size, mtimeMs: e.st.mtimeMs, target: e.target }))
        if (header !== undefined || targets.length > 1) s.out(`total ${withTargets.reduce((n, e) => n + Math.ceil(e.st.blocks / 2), 0)}\n`)
        for (const line of longListing(rows, { human: o.human, nowMs: now })) s.out(line + '\n')
      } else {
        for (const e of withTargets) s.out(e.name + '\n')
      }
    }
    if (!st.isDirectory()) {
      await print(posix.dirname(loc.path), undefined, [{ name: posix.basename(loc.path), st: await vol.lstat(loc.path, { signal: s.signal }) }])
      return
    }
    const walk = async (dir: string, label: string): Promise<void> => {
      const ents = (await vol.readdir(dir, { withFileTypes: true, stats: true, signal: s.signal }))
        .filter(e => e.name !== '.' && e.name !== '..' && (o.all || !e.name.startsWith('.')))
        .sort((a, b) => byteOrder(a.name, b.name))
      const list = await Promise.all(ents.map(async e => ({ name: e.name, st: e.stats ?? await vol.lstat(posix.join(dir, e.name), { signal: s.signal }) })))
      await print(dir, o.recursive || targets.length > 1 ? label : undefined, list)
      if (o.recursive) {
        for (const e of list) if (e.st.isDirectory()) await walk(posix.join(dir, e.name), `${label.replace(/\/$/, '')}/${e.name}`)
      }
    }
    await walk(loc.path, arg)
  })
  if (s.opts.json) s.json(json)
  return code
}

export async function stat (s: Session, targets: string[], o: { follow: boolean }): Promise<number> {
  const json: Array<Record<string, unknown>> = []
  const code = await eachArg(s, 'stat', targets, async arg => {
    const loc = s.remote(arg, 'stat')
    const vol = await s.volume(loc)
    const st = o.follow ? await vol.stat(loc.path, { signal: s.signal }) : await vol.lstat(loc.path, { signal: s.signal })
    const target = st.isSymbolicLink() ? await vol.readlink(loc.path, { signal: s.signal }) : undefined
    if (s.opts.json) {
      json.push(statJson(loc.path, st, { url: arg, ...(target !== undefined ? { target } : {}) }))
      return
    }
    s.out(`  File: ${arg}${target !== undefined ? ` -> ${target}` : ''}\n` +
      `  Size: ${st.size}\tBlocks: ${st.blocks}\tIO Block: ${st.blksize}\t${typeName(st.mode)}\n` +
      `Inode: ${st.ino}\tLinks: ${st.nlink}\tGFID: ${st.gfid}\n` +
      `Access: (${octalMode(st.mode)}/${modeString(st.mode)})\tUid: ${st.uid}\tGid: ${st.gid}\n` +
      `Access: ${statTime(st.atimeMs)}\n` +
      `Modify: ${statTime(st.mtimeMs, st.mtimeNs)}\n` +
      `Change: ${statTime(st.ctimeMs, st.ctimeNs)}\n`)
  })
  if (s.opts.json) s.json(json)
  return code
}

export interface TailOptions { lines: number, bytes?: number | undefined, follow: boolean, intervalMs: number }

async function readRange (vol: Volume, path: string, start: number, end: number, signal: AbortSignal): Promise<Buffer> {
  if (end <= start) return Buffer.alloc(0)
  const parts: Buffer[] = []
  for await (const c of vol.createReadStream(path, { start, end: end - 1, signal })) parts.push(c as Buffer)
  return Buffer.concat(parts)
}

export async function tail (s: Session, target: string, o: TailOptions): Promise<number> {
  try {
    const loc = s.remote(target, 'tail')
    const vol = await s.volume(loc)
    const st = await vol.stat(loc.path, { signal: s.signal })
    const size = st.size
    let pos = size
    if (o.bytes !== undefined) {
      const from = Math.max(0, size - o.bytes)
      if (from < size) await toStdout(s, vol.createReadStream(loc.path, { start: from, end: size - 1, signal: s.signal }))
    } else {
      // read backwards until the buffer holds n lines (or the whole file)
      let start = size
      let buf = Buffer.alloc(0)
      let chunk = 64 * 1024
      while (start > 0 && !hasLines(buf, o.lines)) {
        const from = Math.max(0, start - chunk)
        buf = Buffer.concat([await readRange(vol, loc.path, from, start, s.signal), buf])
        start = from
        chunk = Math.min(chunk * 2, 8 << 20)
      }
      s.out(lastLines(buf, o.lines))
    }
    if (!o.follow) return EXIT.OK
    while (!s.signal.aborted) {
      try {
        await sleep(o.intervalMs, undefined, { signal: s.signal })
      } catch {
        break
      }
      const now = await vol.stat(loc.path, { signal: s.signal }).catch((err: unknown) => {
        if (s.signal.aborted) return undefined
        throw err
      })
      if (now === undefined) break
      if (now.size < pos) {
        s.err(`gluster-ts tail: ${target}: file truncated\n`)
        pos = 0
      }
      if (now.size > pos) {
        await toStdout(s, vol.createReadStream(loc.path, { start: pos, end: now.size - 1, signal: s.signal }))
        pos = now.size
      }
    }
    return EXIT.OK
  } catch (err) {
    if (isEpipe(err)) return EXIT.OK
    if (s.signal.aborted && o.follow) return EXIT.OK
    return report(s, 'tail', target, err)
  }
}

export interface DuOptions { summarize: boolean, human: boolean, maxDepth?: number | undefined }

export async function du (s: Session, targets: string[], o: DuOptions): Promise<number> {
  const json: Array<Record<string, unknown>> = []
  const fmt = (n: number): string => o.human ? humanSize(n) : String(n)
  const code = await eachArg(s, 'du', targets, async arg => {
    const loc = s.loc(arg)
    const ep = await endpointFor(s, loc)
    const top = await ep.lstat(loc.path)
    if (top === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, stat '${loc.path}'`), { code: 'ENOENT', path: loc.path })
    const label = (rel: string): string => rel === '' ? arg : `${arg.replace(/\/$/, '')}/${rel}`
    let files = 0
    let dirs = 0
    const walk = async (path: string, rel: string, depth: number): Promise<number> => {
      dirs++
      let total = 0
      for (const e of await ep.list(path)) {
        if (s.signal.aborted) throw Object.assign(new Error('aborted'), { code: 'ABORT_ERR' })
        if (e.info.type === 'dir') total += await walk(ep.join(path, e.name), rel === '' ? e.name : `${rel}/${e.name}`, depth + 1)
        else { files++; total += e.info.size }
      }
      if (!o.summarize && (o.maxDepth === undefined || depth <= o.maxDepth)) {
        if (s.opts.json) json.push({ path: label(rel), bytes: total })
        else s.out(`${fmt(total)}\t${label(rel)}\n`)
      }
      return total
    }
    const total = top.type === 'dir' ? await walk(loc.path, '', 0) : (files++, top.size)
    if (s.opts.json) {
      if (o.summarize || top.type !== 'dir') json.push({ path: arg, bytes: total, files, dirs })
      else json[json.length - 1] = { ...json[json.length - 1], files, dirs }
    } else if (o.summarize || top.type !== 'dir') s.out(`${fmt(total)}\t${arg}\n`)
  })
  if (s.opts.json) s.json(json)
  return code
}

export async function sum (s: Session, targets: string[]): Promise<number> {
  const json: Array<Record<string, unknown>> = []
  const code = await eachArg(s, 'sum', targets, async arg => {
    const loc = s.loc(arg)
    const ep = await endpointFor(s, loc)
    const h = createHash('sha256')
    let bytes = 0
    for await (const c of ep.createReadStream(loc.path)) {
      h.update(c as Buffer)
      bytes += (c as Buffer).length
    }
    const hex = h.digest('hex')
    if (s.opts.json) json.push({ path: arg, sha256: hex, bytes })
    else s.out(`${hex}  ${arg}\n`)
  })
  if (s.opts.json) s.json(json)
  return code
}

export async function volfile (s: Session, target: string): Promise<number> {
  let loc: RemoteLocation | undefined
  try {
    loc = s.remote(target, 'volfile')
    const b = await fetchVolfile(parseServers(loc.servers), { volume: loc.volume, signal: s.signal, timeoutMs: s.opts.timeoutMs })
    await b.client.close({ timeoutMs: 1000 })
    if (s.opts.json) s.json({ volume: loc.volume, server: b.server.label, servers: b.learned.map(x => x.label), volfile: b.spec })
    else s.out(b.spec.endsWith('\n') ? b.spec : b.spec + '\n')
    return EXIT.OK
  } catch (err) {
    return report(s, 'volfile', target, err)
  }
}

export async function bricks (s: Session, target: string, o: { pingTimeoutMs: number }): Promise<number> {
  try {
    const loc = s.remote(target, 'bricks')
    const vol = await s.volume(loc)
    const list = [...vol.bricks.values()].sort((a, b) => a.spec.name.localeCompare(b.spec.name, 'en', { numeric: true }))
    const rows = await Promise.all(list.map(async b => {
      let latencyMs: number | null = null
      let error: string | undefined
      if (b.state === 'up') {
        const t0 = performance.now()
        try {
          await b.call(DumpProgram.procs.PING, undefined, { timeoutMs: o.pingTimeoutMs, signal: s.signal })
          latencyMs = performance.now() - t0
        } catch (err) {
          error = (err as { code?: string }).code ?? String(err)
        }
      } else {
        error = b.lastError?.message
      }
      const state = b.state === 'up' && error !== undefined ? 'unresponsive' : b.slow ? 'slow' : b.state
      return { name: b.spec.name, brick: b.label, host: b.spec.host, path: b.spec.brickPath, state, latencyMs, ...(error !== undefined ? { error } : {}) }
    }))
    if (s.opts.json) {
      s.json({ volume: loc.volume, bricks: rows })
    } else {
      const w = [Math.max(...rows.map(r => r.name.length)), Math.max(...rows.map(r => r.brick.length)), Math.max(...rows.map(r => r.state.length))]
      for (const r of rows) {
        s.out(`${r.name.padEnd(w[0]!)}  ${r.brick.padEnd(w[1]!)}  ${r.state.padEnd(w[2]!)}  ${r.latencyMs !== null ? `${r.latencyMs.toFixed(2)} ms` : '-'}${r.error !== undefined ? `  ${r.error}` : ''}\n`)
      }
    }
    return rows.every(r => r.state === 'up') ? EXIT.OK : EXIT.UNAVAILABLE
  } catch (err) {
    return report(s, 'bricks', target, err)
  }
}
