// What one run of the command shares: its streams, its global flags, the volumes it connected
// to (one Volume per servers+volume, reused by every argument), SIGINT, --trace and the progress bar.
// `batch` and `shell` run many command lines in one process: each line gets its own Session over
// the invocation's Connections, so the whole invocation keeps one Volume per servers+volume.
import { posix } from 'node:path'
import type { Readable, Writable } from 'node:stream'
import cliProgress from 'cli-progress'
import { trace, type TraceEvent } from '@gluster-ts/rpc'
import { Volume, type VolumeOptions, type VolumeTlsOptions } from '@gluster-ts/volume'
import { bytesText } from './format.js'
import { UMASK } from './endpoint.js'
import { isUrl, parseLocation, volumeKey, type Location, type RemoteLocation } from './url.js'
import { CliError } from './errors.js'

/** The process's streams and environment (tests pass their own). */
export interface Io {
  stdin: Readable
  stdout: Writable & { isTTY?: boolean }
  stderr: Writable & { isTTY?: boolean, columns?: number }
  env: NodeJS.ProcessEnv
  /** SIGINT/SIGTERM abort this */
  signal?: AbortSignal
}

export interface GlobalOptions {
  servers?: string[] | undefined
  json: boolean
  debug: boolean
  trace: boolean
  progress: boolean
  /** connect (volfile + bricks) deadline, ms */
  timeoutMs: number
  /** --tls-* / GLUSTER_TS_TLS_* (tls-flags.ts) */
  tls?: VolumeTlsOptions | undefined
}

/**
 * The Volumes of one invocation, one per servers+volume (and TLS settings), shared by every
 * argument and, in `batch` and `shell`, by every command line.
 */
export class Connections {
  readonly #volumes = new Map<string, { p: Promise<Volume>, failed: boolean }>()

  get (key: string, connect: () => Promise<Volume>): Promise<Volume> {
    let e = this.#volumes.get(key)
    if (e === undefined) {
      const entry = { p: connect(), failed: false }
      entry.p.catch(() => { entry.failed = true })
      this.#volumes.set(key, entry)
      e = entry
    }
    return e.p
  }

  /**
   * Forget the connects that failed, so that the next command line tries again (a server that was
   * down when one line ran may be up for the next). Within one line a failure is kept: `cat a b`
   * with no server waits for the deadline once, not once per argument.
   */
  forgetFailed (): void {
    for (const [k, e] of this.#volumes) if (e.failed) this.#volumes.delete(k)
  }

  async close (): Promise<void> {
    const vols = [...this.#volumes.values()]
    this.#volumes.clear()
    await Promise.all(vols.map(async e => {
      const v = await e.p.catch(() => undefined)
      await v?.close({ timeoutMs: 2000 })
    }))
  }
}

/** What a command line run by `batch` or `shell` takes from the invocation around it. */
export interface Nested {
  connections: Connections
  /** `shell`: relative paths name files on this volume, under this directory */
  cwd?: RemoteLocation | undefined
}

export class Session {
  readonly io: Io
  readonly opts: GlobalOptions
  /** aborted by SIGINT/SIGTERM (io.signal) and when stdout's reader goes away */
  readonly signal: AbortSignal
  readonly connections: Connections
  /** set by `shell`: see loc() */
  readonly cwd: RemoteLocation | undefined
  readonly #ownConnections: boolean
  #stopTrace: (() => void) | undefined
  #pipe = new AbortController()
  readonly #onOutError = (err: unknown): void => {
    // `gluster-ts ls | head -1`: the reader left. Stop the work and say nothing (the shell's
    // pipeline goes on); a later write fails the same way and lands here too
    const code = (err as { code?: unknown } | null)?.code
    if (code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED') {
      if (!this.#pipe.signal.aborted) this.#pipe.abort(Object.assign(new Error('stdout closed'), { code: 'EPIPE' }))
      return
    }
    this.io.stderr.write(`gluster-ts: stdout: ${(err as Error)?.message ?? String(err)}\n`)
    if (!this.#pipe.signal.aborted) this.#pipe.abort(err)
  }

  constructor (io: Io, opts: GlobalOptions, nested?: Nested) {
    this.io = io
    this.opts = opts
    this.connections = nested?.connections ?? new Connections()
    this.#ownConnections = nested === undefined
    this.cwd = nested?.cwd
    this.signal = io.signal !== undefined ? AbortSignal.any([io.signal, this.#pipe.signal]) : this.#pipe.signal
    io.stdout.on('error', this.#onOutError)
    if (opts.trace) this.#stopTrace = trace(e => { this.io.stderr.write(traceLine(e)) })
  }

  /** stdout's reader went away (EPIPE): the run ends quietly with status 0 */
  get brokenPipe (): boolean { return this.#pipe.signal.aborted && (this.#pipe.signal.reason as { code?: unknown } | undefined)?.code === 'EPIPE' }

  /**
   * What an argument names. In `shell` (a current directory is set) a path that is not a URL names
   * a file on the shell's volume, relative to the current directory (or to the volume's root when
   * it starts with '/'), and `file:PATH` names the local PATH; elsewhere a path is local.
   */
  loc (arg: string): Location {
    const cwd = this.cwd
    if (cwd !== undefined && !isUrl(arg)) {
      if (arg.startsWith('file:')) {
        const path = arg.slice(arg.startsWith('file://') ? 7 : 5)
        if (path === '') throw new CliError('EUSAGE', `'${arg}' names no local path`)
        return { kind: 'local', input: arg, path }
      }
      if (arg === '') throw new CliError('EUSAGE', 'empty path')
      if (arg.includes('\0')) throw new CliError('EUSAGE', `'${arg}': NUL in path`)
      const path = posix.resolve(cwd.path, arg)
      return { ...cwd, input: arg, path, trailingSlash: arg.endsWith('/') && path !== '/' }
    }
    return parseLocation(arg, { ...(this.opts.servers !== undefined ? { servers: this.opts.servers } : {}) })
  }

  remote (arg: string, what = 'this command'): RemoteLocation {
    const l = this.loc(arg)
    if (l.kind !== 'remote') throw new CliError('EUSAGE', `${what} takes a gluster:// URL, not the local path '${arg}'`)
    return l
  }

  /** The Volume for this location, connected once per run and shared. */
  volume (loc: RemoteLocation): Promise<Volume> {
    // TLS settings are part of the key: a line of a batch may name other certificates
    const key = `${volumeKey(loc)} ${JSON.stringify(this.opts.tls ?? null)}`
    return this.connections.get(key, () => {
      const o: VolumeOptions = {
        servers: loc.servers,
        volume: loc.volume,
        signal: this.signal,
        bootstrapTimeoutMs: this.opts.timeoutMs,
        connectTimeoutMs: this.opts.timeoutMs,
        // new files and directories get modes as local ones would (cp, put, mkdir)
        umask: UMASK,
        ...(this.opts.tls !== undefined ? { tls: this.opts.tls } : {}),
      }
      return connectSoon(o, this.opts.timeoutMs)
    })
  }

  out (s: string | Uint8Array): void { if (!this.#pipe.signal.aborted) this.io.stdout.write(s) }
  err (s: string): void { this.io.stderr.write(s) }
  json (v: unknown): void { this.out(JSON.stringify(v, null, 2) + '\n') }

  /**
   * A progress bar on stderr when it is a terminal and neither --json nor --no-progress; else a
   * no-op. `total` undefined: a stream of unknown size (a pipe), shown as bytes and rate only.
   */
  progress (total: number | undefined, label: string): Progress {
    if (!this.opts.progress || this.opts.json || this.io.stderr.isTTY !== true) return NO_PROGRESS
    return new BarProgress(this.io.stderr, total, label)
  }

  /** Close the volumes (unless they are the invocation's, lent to this command line) and stop tracing. */
  async close (): Promise<void> {
    // a command line of batch/shell: the invocation's own Session keeps listening on stdout (a
    // late EPIPE must not become an uncaught 'error'), and keeps the volumes for the next line
    if (this.#ownConnections) await this.connections.close()
    else this.io.stdout.off('error', this.#onOutError)
    this.#stopTrace?.()
  }
}

/**
 * Volume.connect waits for every brick until bricksTimeoutMs unless one failed outright; a hung
 * (SIGSTOPped) brick would hold every command that long. A command goes on as soon as a quorum
 * answered and the others had BRICK_GRACE_MS; only when even a quorum is missing by then does it
 * try again for the rest of --timeout.
 */
const BRICK_GRACE_MS = 2000

async function connectSoon (o: VolumeOptions, timeoutMs: number): Promise<Volume> {
  const t0 = Date.now()
  try {
    return await Volume.connect({ ...o, bricksTimeoutMs: Math.min(timeoutMs, BRICK_GRACE_MS) })
  } catch (err) {
    const left = timeoutMs - (Date.now() - t0)
    if ((err as { code?: string }).code !== 'EGLUSTER_NO_QUORUM' || left <= 0) throw err
    return await Volume.connect({ ...o, bricksTimeoutMs: left, bootstrapTimeoutMs: left })
  }
}

export interface Progress {
  add (bytes: number): void
  /** more work found (cp -r walks while it copies) */
  grow (bytes: number): void
  /** files done of files to do (sync): shown beside the bytes */
  files (done: number, total: number): void
  stop (): void
}

export const NO_PROGRESS: Progress = { add () {}, grow () {}, files () {}, stop () {} }

class BarProgress implements Progress {
  #bar: cliProgress.SingleBar
  #value = 0
  #total: number
  #t0 = Date.now()
  #files = ''

  constructor (stream: Writable, total: number | undefined, label: string) {
    this.#total = total ?? 0
    const known = total !== undefined
    const self = this
    this.#bar = new cliProgress.SingleBar({
      stream: stream as unknown as NodeJS.WritableStream,
      hideCursor: true,
      clearOnComplete: true,
      fps: 5,
      format (_o, p): string {
        const secs = Math.max(0.001, (Date.now() - self.#t0) / 1000)
        const rate = p.value / secs
        if (!known) return `${label} ${bytesText(p.value)} ${bytesText(rate)}/s`
        const eta = rate > 0 && p.total > p.value ? Math.round((p.total - p.value) / rate) : 0
        const width = 24
        const filled = p.total > 0 ? Math.min(width, Math.round(width * p.value / p.total)) : 0
        return `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}]${self.#files} ${bytesText(p.value)}/${bytesText(p.total)} ${bytesText(rate)}/s ETA ${eta}s`
      },
    })
    this.#bar.start(this.#total, 0)
  }

  add (bytes: number): void { this.#value += bytes; this.#bar.update(this.#value) }
  grow (bytes: number): void { this.#total += bytes; this.#bar.setTotal(this.#total) }
  files (done: number, total: number): void { this.#files = ` ${done}/${total} files`; this.#bar.update(this.#value) }
  stop (): void { this.#bar.stop() }
}

/** One --trace line per RPC call start and end, on stderr. */
export function traceLine (e: TraceEvent): string {
  if (e.type === 'call:start') {
    const c = e.event
    return `trace → ${c.peer} ${c.program} ${c.procedure} xid=${c.xid}\n`
  }
  if (e.type === 'call:end') {
    const c = e.event
    const status = c.status === 'ok'
      ? (c.op_ret !== undefined && c.op_ret < 0 ? `op_ret=${c.op_ret} op_errno=${c.op_errno ?? 0}` : 'ok')
      : `error ${(c.error as { code?: string } | undefined)?.code ?? String(c.error)}`
    return `trace ← ${c.peer} ${c.program} ${c.procedure} xid=${c.xid} ${status} ${(c.latencyMs ?? 0).toFixed(2)} ms\n`
  }
  if (e.type === 'callback') return `trace ⇠ ${e.event.peer} callback ${e.event.program ?? e.event.prog} ${e.event.procedure ?? e.event.proc} ${e.event.status}\n`
  return `trace server ${e.event.peer} ${e.event.program ?? e.event.prog} ${e.event.procedure ?? e.event.proc} ${e.event.status}\n`
}
