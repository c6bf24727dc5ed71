// The loop of `batch` (and of `shell` when its input is not a terminal): one command per line,
// run in order over the invocation's volumes; the first failure stops it (its status, and the
// line named), or with --keep-going every line runs and the last failure's status is the result.
import { PassThrough, type Readable } from 'node:stream'
import { createInterface, type Interface } from 'node:readline'
import type { Session } from '../session.js'
import type { RemoteLocation } from '../url.js'
import { EXIT } from '../errors.js'
import { splitWords } from '../words.js'
import { report } from './common.js'

/**
 * Run one command line (its words, as `main` takes them) inside the current invocation: with its
 * volumes and global flags; `cwd` for shell's relative paths, `signal` to cancel just this line,
 * `stdin` what the command reads as its standard input.
 */
export type Dispatch = (argv: string[], o: { cwd?: RemoteLocation | undefined, signal?: AbortSignal | undefined, stdin?: Readable | undefined }) => Promise<number>

export interface LinesOptions {
  /** the command that runs them, for messages: 'batch', 'shell' */
  command: string
  /** where the lines come from, for messages: a file name, or '-' */
  source: string
  keepGoing: boolean
}

/** What a line did: its exit status, and whether it ends the loop (`exit`). */
export interface LineResult { code: number, exit?: boolean }

/** An empty standard input for commands whose invocation reads its own commands from stdin. */
export function noInput (): Readable {
  const p = new PassThrough()
  p.end()
  return p
}

/** The lines of a stream, '\n' or '\r\n' ended (close() it when done). */
export function linesOf (input: Readable): Interface {
  return createInterface({ input, crlfDelay: Infinity, terminal: false })
}

/**
 * Run each line through `exec`. A line ending in a backslash goes on on the next one. Returns the
 * status: 0, the first failure's (it stops there), or with keepGoing the last failure's.
 */
export async function runLines (s: Session, lines: AsyncIterable<string>, o: LinesOptions,
  exec: (words: string[], lineNo: number) => Promise<LineResult>): Promise<number> {
  let last: number = EXIT.OK
  const failed: number[] = []
  let pending = ''
  let startLine = 0
  let n = 0
  const where = (line: number): string => `${o.source === '-' ? 'stdin' : o.source}:${line}`
  for await (const raw of lines) {
    n++
    if (pending === '') startLine = n
    const text = pending + raw
    if (/(^|[^\\])(\\\\)*\\$/.test(raw)) {
      // backslash-newline: the command goes on on the next line
      pending = text + '\n'
      continue
    }
    pending = ''
    let words: string[]
    let r: LineResult
    try {
      words = splitWords(text)
    } catch (err) {
      r = { code: report(s, o.command, where(startLine), err) }
      words = []
      if (!o.keepGoing) return r.code
      last = r.code
      failed.push(startLine)
      continue
    }
    if (words.length === 0) continue
    r = await exec(words, startLine)
    s.connections.forgetFailed()
    if (s.brokenPipe) return EXIT.OK
    if (r.exit === true) return r.code
    if (r.code === EXIT.INTERRUPTED || s.signal.aborted) {
      // Ctrl-C (SIGINT, SIGTERM) stops the whole batch, even a `tail -f` that ends well on it
      s.err(`gluster-ts ${o.command}: ${where(startLine)}: interrupted\n`)
      return EXIT.INTERRUPTED
    }
    if (r.code === EXIT.OK) continue
    last = r.code
    failed.push(startLine)
    s.err(`gluster-ts ${o.command}: ${where(startLine)}: '${words.join(' ')}' failed with status ${r.code}${o.keepGoing ? '' : '; stopping (--keep-going runs the rest)'}\n`)
    if (!o.keepGoing) return r.code
  }
  if (pending !== '') {
    const code = report(s, o.command, where(startLine), Object.assign(new Error('EUSAGE: a backslash at the end of the last line'), { code: 'EUSAGE' }))
    return o.keepGoing && last !== EXIT.OK ? last : code
  }
  if (failed.length > 0) s.err(`gluster-ts ${o.command}: ${failed.length} command${failed.length > 1 ? 's' : ''} failed (line${failed.length > 1 ? 's' : ''} ${failed.join(', ')})\n`)
  return last
}
