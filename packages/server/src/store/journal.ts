// A crash-safe key → record map kept in a directory: `snapshot.json` (replaced by atomic rename)
// plus `journal.log`, an append-only log of whole-record puts and deletes written with a
// synchronous write() before the caller answers anyone. A SIGKILL can only cut the last line;
// each line carries its length and CRC-32, so a torn or garbled tail is detected, dropped and
// truncated away on the next open. Replaying a put or delete twice gives the same state, so a
// crash between writing a snapshot and emptying the log is harmless.
import fs from 'node:fs'
import path from 'node:path'
import { crc32 } from 'node:zlib'

export interface JournalOptions {
  /** Compact (write a snapshot, empty the log) once the log holds this many records. Default 20000. */
  compactEvery?: number
  /** fsync the log after each append (survives power loss, not just SIGKILL). Default false. */
  fsync?: boolean
}

export interface JournalRecovery {
  /** records replayed from the log */
  replayed: number
  /** bytes of a torn or corrupt tail that were dropped */
  droppedBytes: number
}

const SNAPSHOT = 'snapshot.json'
const LOG = 'journal.log'

/**
 * One log line: `<crc32 hex8> <length> <json>\n`, the CRC over the JSON bytes. JSON values are
 * whatever the owner stores (the brick store keeps Buffers as base64 text).
 */
function encodeLine (entry: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(entry), 'utf8')
  const head = Buffer.from(`${crc32(body).toString(16).padStart(8, '0')} ${body.length} `, 'latin1')
  return Buffer.concat([head, body, Buffer.from('\n')])
}

type LogEntry<T> = { k: string, v: T } | { k: string, d: 1 }

export class Journal<T> {
  readonly dir: string
  readonly #map = new Map<string, T>()
  readonly #opts: Required<JournalOptions>
  #fd: number
  #records = 0
  #closed = false
  readonly recovery: JournalRecovery

  private constructor (dir: string, opts: JournalOptions) {
    this.dir = dir
    this.#opts = { compactEvery: opts.compactEvery ?? 20000, fsync: opts.fsync ?? false }
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    const snap = path.join(dir, SNAPSHOT)
    if (fs.existsSync(snap)) {
      const obj = JSON.parse(fs.readFileSync(snap, 'utf8')) as { records: Record<string, T> }
      for (const [k, v] of Object.entries(obj.records)) this.#map.set(k, v)
    }
    const logPath = path.join(dir, LOG)
    this.recovery = this.#replay(logPath)
    this.#fd = fs.openSync(logPath, 'a')
  }

  /** Open (creating when absent) the journal in `dir` and replay it. */
  static open<T> (dir: string, opts: JournalOptions = {}): Journal<T> {
    return new Journal<T>(dir, opts)
  }

  #replay (logPath: string): JournalRecovery {
    let buf: Buffer
    try {
      buf = fs.readFileSync(logPath)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { replayed: 0, droppedBytes: 0 }
      throw err
    }
    let p = 0
    let replayed = 0
    while (p < buf.length) {
      const entry = parseLine(buf, p)
      if (entry === undefined) break
      this.#apply(entry.value as LogEntry<T>)
      replayed++
      p = entry.next
    }
    const dropped = buf.length - p
    // cut the torn tail so that later appends start on a clean line
    if (dropped > 0) fs.truncateSync(logPath, p)
    this.#records = replayed
    return { replayed, droppedBytes: dropped }
  }

  #apply (e: LogEntry<T>): void {
    if ('d' in e) this.#map.delete(e.k)
    else this.#map.set(e.k, e.v)
  }

  get size (): number { return this.#map.size }
  get (key: string): T | undefined { return this.#map.get(key) }
  has (key: string): boolean { return this.#map.has(key) }
  entries (): IterableIterator<[string, T]> { return this.#map.entries() }

  /** Store `value` under `key`; durable (against process death) when this returns. */
  put (key: string, value: T): void {
    this.#append({ k: key, v: value })
    this.#map.set(key, value)
  }

  delete (key: string): void {
    if (!this.#map.has(key)) return
    this.#append({ k: key, d: 1 })
    this.#map.delete(key)
  }

  #append (e: LogEntry<T>): void {
    if (this.#closed) throw new Error(`journal ${this.dir} is closed`)
    const line = encodeLine(e)
    let off = 0
    while (off < line.length) off += fs.writeSync(this.#fd, line, off)
    if (this.#opts.fsync) fs.fsyncSync(this.#fd)
    if (++this.#records >= this.#opts.compactEvery) this.compact()
  }

  /** Write the whole map as a snapshot (tmp + fsync + rename + dir fsync), then empty the log. */
  compact (): void {
    const tmp = path.join(this.dir, `${SNAPSHOT}.tmp`)
    const fd = fs.openSync(tmp, 'w', 0o600)
    try {
      const data = Buffer.from(JSON.stringify({ version: 1, records: Object.fromEntries(this.#map) }), 'utf8')
      let off = 0
      while (off < data.length) off += fs.writeSync(fd, data, off)
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(tmp, path.join(this.dir, SNAPSHOT))
    fsyncDir(this.dir)
    fs.ftruncateSync(this.#fd, 0)
    this.#records = 0
  }

  close (): void {
    if (this.#closed) return
    this.#closed = true
    fs.closeSync(this.#fd)
  }
}

function fsyncDir (dir: string): void {
  let fd: number | undefined
  try {
    fd = fs.openSync(dir, 'r')
    fs.fsyncSync(fd)
  } catch {
    // some filesystems refuse fsync on a directory; the rename is still atomic
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
}

/** Parse the line at `p`, or undefined when it is torn (no newline) or corrupt (bad length/CRC/JSON). */
export function parseLine (buf: Buffer, p: number): { value: unknown, next: number } | undefined {
  const sp1 = buf.indexOf(0x20, p)
  if (sp1 !== p + 8) return undefined
  const sp2 = buf.indexOf(0x20, sp1 + 1)
  if (sp2 < 0 || sp2 - sp1 > 12) return undefined
  const len = Number(buf.toString('latin1', sp1 + 1, sp2))
  if (!Number.isSafeInteger(len) || len < 0) return undefined
  const start = sp2 + 1
  const end = start + len
  if (end >= buf.length || buf[end] !== 0x0a) return undefined
  const body = buf.subarray(start, end)
  const crc = Number.parseInt(buf.toString('latin1', p, p + 8), 16)
  if (crc !== crc32(body)) return undefined
  try {
    return { value: JSON.parse(body.toString('utf8')), next: end + 1 }
  } catch {
    return undefined
  }
}
