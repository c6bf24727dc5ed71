// Shared by every command: per-argument error reporting and stream plumbing.
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Session } from '../session.js'
import { EXIT, exitCodeFor, formatError } from '../errors.js'
import { LocalEndpoint, RemoteEndpoint, type Endpoint } from '../endpoint.js'
import type { Location } from '../url.js'

/** The local directory tree or the volume a location names, behind one interface. */
export async function endpointFor (s: Session, loc: Location): Promise<Endpoint> {
  return loc.kind === 'local' ? new LocalEndpoint() : new RemoteEndpoint(await s.volume(loc), s.signal)
}

/** Print the one-line error (and the stack with --debug); returns the exit status for it. */
export function report (s: Session, command: string, target: string | undefined, err: unknown): number {
  // whatever failed after stdout's reader left failed because of it: not an error of ours
  if (s.brokenPipe || isEpipe(err)) return EXIT.OK
  s.err(formatError(command, target, err) + '\n')
  if (s.opts.debug && err instanceof Error && err.stack !== undefined) s.err(err.stack + '\n')
  return exitCodeFor(err)
}

/** Run fn for each argument; a failure is reported and the next argument still runs (like cat, rm). */
export async function eachArg (s: Session, command: string, args: readonly string[], fn: (arg: string) => Promise<void>): Promise<number> {
  let code: number = EXIT.OK
  for (const a of args) {
    if (s.brokenPipe) return EXIT.OK
    if (s.signal.aborted) return EXIT.INTERRUPTED
    try {
      await fn(a)
    } catch (err) {
      code = report(s, command, a, err)
      if (s.brokenPipe) return EXIT.OK
      if (code === EXIT.INTERRUPTED) return code
    }
  }
  return code
}

export function isEpipe (err: unknown): boolean {
  return (err as { code?: string } | null)?.code === 'EPIPE'
}

/** Copy a stream to stdout without ending stdout (several files follow one another). */
export async function toStdout (s: Session, src: Readable): Promise<void> {
  await pipeline(src, s.io.stdout, { end: false, signal: s.signal })
}

/** At most `limit` holders at a time: `run(fn)` waits for a free place, then runs fn. */
export class Limiter {
  readonly #limit: number
  #active = 0
  readonly #waiting: Array<() => void> = []

  constructor (limit: number) { this.#limit = Math.max(1, limit) }

  async run<R> (fn: () => Promise<R>): Promise<R> {
    if (this.#active >= this.#limit) await new Promise<void>(resolve => { this.#waiting.push(resolve) })
    else this.#active++
    try {
      return await fn()
    } finally {
      const next = this.#waiting.shift()
      if (next !== undefined) next() // the place passes straight to the next waiter
      else this.#active--
    }
  }
}

/** Bounded concurrency: run fn over items with at most `limit` in flight; first error rejects after the rest settle. */
export async function pool<T> (items: AsyncIterable<T> | Iterable<T>, limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const running = new Set<Promise<void>>()
  let failed: { err: unknown } | undefined
  for await (const item of items) {
    if (failed !== undefined) break
    const p: Promise<void> = fn(item).catch((err: unknown) => { failed ??= { err } }).finally(() => { running.delete(p) })
    running.add(p)
    if (running.size >= limit) await Promise.race(running)
  }
  await Promise.all(running)
  if (failed !== undefined) throw failed.err
}
