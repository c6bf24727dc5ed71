// Commands that read contents: cat, tail, sum, volfile, bricks.
import { sha256 } from '../hash.js'
import { Transform } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { DumpProgram } from '@gluster-ts/rpc'
import { fetchVolfile, parseServers, type BrickClient, type Volume } from '@gluster-ts/volume'
import type { Session } from '../session.js'
import { EXIT } from '../errors.js'
import { hasLines, lastLines, type TailCount } from '../format.js'
import { formatLocation, type RemoteLocation } from '../url.js'
import { eachArg, endpointFor, report, toStdout } from './common.js'
import { notADirectory } from './inspect.js'

export async function cat (s: Session, targets: string[]): Promise<number> {
  return eachArg(s, 'cat', targets, async arg => {
    const loc = s.remote(arg, 'cat')
    const vol = await s.volume(loc)
    if (loc.trailingSlash && !(await vol.stat(loc.path, { signal: s.signal })).isDirectory()) throw notADirectory('cat', loc)
    // READs land in a few reused buffers, written to stdout as they come (memory stays flat)
    await vol.pipeTo(loc.path, s.io.stdout, { signal: s.signal })
  })
}

export interface TailOptions { lines: TailCount, bytes?: TailCount | undefined, follow: boolean, intervalMs: number }

/** Drops the bytes before the start of line `n` (1-based), then passes the rest through. */
function fromLine (n: number): Transform {
  let skip = Math.max(0, n - 1)
  return new Transform({
    transform (c: Buffer, _e, cb) {
      let i = 0
      while (skip > 0 && i < c.length) {
        const nl = c.indexOf(0x0a, i)
        if (nl < 0) { i = c.length; break }
        i = nl + 1
        skip--
      }
      cb(null, skip > 0 ? undefined : c.subarray(i))
    },
  })
}

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
      // -c N: the last N bytes; -c +N: from byte N on
      const from = o.bytes.fromStart ? Math.max(0, o.bytes.n - 1) : Math.max(0, size - o.bytes.n)
      if (from < size) await toStdout(s, vol.createReadStream(loc.path, { start: from, end: size - 1, signal: s.signal }))
    } else if (o.lines.fromStart) {
      // -n +N: from line N on, read forwards
      if (size > 0) await toStdout(s, vol.createReadStream(loc.path, { start: 0, end: size - 1, signal: s.signal }).pipe(fromLine(o.lines.n)))
    } else {
      // read backwards until the buffer holds n lines (or the whole file)
      let start = size
      let buf = Buffer.alloc(0)
      let chunk = 64 * 1024
      while (start > 0 && !hasLines(buf, o.lines.n)) {
        const from = Math.max(0, start - chunk)
        buf = Buffer.concat([await readRange(vol, loc.path, from, start, s.signal), buf])
        start = from
        chunk = Math.min(chunk * 2, 8 << 20)
      }
      s.out(lastLines(buf, o.lines.n))
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
    if (s.signal.aborted && o.follow) return EXIT.OK
    return report(s, 'tail', target, err)
  }
}

export async function sum (s: Session, targets: string[]): Promise<number> {
  const json: Array<Record<string, unknown>> = []
  const code = await eachArg(s, 'sum', targets, async arg => {
    const loc = s.loc(arg)
    const ep = await endpointFor(s, loc)
    const { hex, bytes } = await sha256(ep, loc.path)
    if (s.opts.json) json.push({ path: loc.path, ...(loc.kind === 'remote' ? { url: formatLocation(loc) } : {}), sha256: hex, bytes })
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

/** A volume's bricks in the order of their names (client-0, client-1, … client-10). */
export function sortedBricks (vol: Volume): BrickClient[] {
  return [...vol.bricks.values()].sort((a, b) => a.spec.name.localeCompare(b.spec.name, 'en', { numeric: true }))
}

export async function bricks (s: Session, target: string, o: { pingTimeoutMs: number }): Promise<number> {
  try {
    const loc = s.remote(target, 'bricks')
    const vol = await s.volume(loc)
    const list = sortedBricks(vol)
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
