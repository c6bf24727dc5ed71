// A crash-safe log of records kept in a directory: `snapshot.log` (the whole state, replaced by
// atomic rename) plus `journal.log`, an append-only log of the changes since, each written with
// a synchronous write() before the caller answers anyone. What a record means is up to the
// JournalState that owns the data: the journal only makes records durable and hands them back,
// in order, at the next open. A SIGKILL can only cut the last line; each line carries its length
// and CRC-32, so a torn or garbled tail is detected, dropped and truncated away on the next open.
// The owner's records must replay idempotently (each one assigns values, as "xattr a is now v"
// does): then a crash between writing a snapshot and emptying the log is harmless.
import fs from 'node:fs'
import path from 'node:path'
import { crc32 } from 'node:zlib'

export interface JournalOptions {
  /** Compact (write a snapshot, empty the log) once the log holds this many records. Default 20000. */
  compactEvery?: number
  /**
   * Compact once the log holds this many bytes, or as many as the last snapshot if that is
   * larger (so the cost of compacting stays proportional to the bytes logged). Default 64 MiB.
   */
  compactLogBytes?: number
  /** fsync the log after each append (survives power loss, not just SIGKILL). Default false. */
  fsync?: boolean
}

export interface JournalRecovery {
  /** records replayed from the log */
  replayed: number
  /** bytes of a torn or corrupt tail that were dropped */
  droppedBytes: number
}

/** One record: a JSON object whose meaning is the JournalState's. */
export type JournalRecord = Record<string, unknown>

/** The data a journal keeps durable. */
export interface JournalState {
  /** Apply one record: a snapshot line or a logged change, at open; a new change at commit(). */
  apply (record: JournalRecord): void
  /** The whole state as records that rebuild it when applied in order (a snapshot). */
  records (): Iterable<JournalRecord>
}

export const DEFAULT_COMPACT_EVERY = 20000
export const DEFAULT_COMPACT_LOG_BYTES = 64 * 1024 * 1024

const SNAPSHOT = 'snapshot.log'
/** the single-JSON-document snapshot of the first version: `{ version: 1, records: { k: v } }` */
const LEGACY_SNAPSHOT = 'snapshot.json'
const LOG = 'journal.log'
const CHUNK_BYTES = 1 << 20
/** longest `<crc> <length> ` head: 8 hex digits, a space, up to 12 digits, a space */
const MAX_HEAD_BYTES = 22

/**
 * One line: `<crc32 hex8> <length> <json>\n`, the CRC over the JSON bytes. JSON values are
 * whatever the owner stores (the brick store keeps Buffers as base64 text).
 */
export function encodeLine (record: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(record), 'utf8')
  const head = `${crc32(body).toString(16).padStart(8, '0')} ${body.length} `
  const out = Buffer.allocUnsafe(head.length + body.length + 1)
  out.write(head, 0, 'latin1')
  body.copy(out, head.length)
  out[out.length - 1] = 0x0a
  return out
}

/**
 * The line at `p` of `buf`: its value and where the next line starts; a number when `buf` ends
 * inside the line (how many more bytes it needs at least); undefined when it is corrupt (bad
 * head, length, CRC or JSON).
 */
function scanLine (buf: Buffer, p: number): { value: unknown, next: number } | number | undefined {
  const sp1 = p + 8
  if (buf.length <= sp1) return sp1 + 1 - buf.length
  if (buf[sp1] !== 0x20) return undefined
  const sp2 = buf.indexOf(0x20, sp1 + 1)
  if (sp2 < 0) return buf.length - p >= MAX_HEAD_BYTES ? undefined : 1
  if (sp2 - p > MAX_HEAD_BYTES - 1) return undefined
  const digits = buf.toString('latin1', sp1 + 1, sp2)
  if (!/^[0-9]+$/.test(digits)) return undefined
  const len = Number(digits)
  const start = sp2 + 1
  const end = start + len
  if (end >= buf.length) return end + 1 - buf.length
  if (buf[end] !== 0x0a) return undefined
  const hex = buf.toString('latin1', p, sp1)
  if (!/^[0-9a-f]{8}$/.test(hex)) return undefined
  const body = buf.subarray(start, end)
  if (Number.parseInt(hex, 16) !== crc32(body)) return undefined
  try {
    return { value: JSON.parse(body.toString('utf8')), next: end + 1 }
  } catch {
    return undefined
  }
}

/** Parse the line at `p`, or undefined when it is torn (no newline) or corrupt (bad length/CRC/JSON). */
export function parseLine (buf: Buffer, p: number): { value: unknown, next: number } | undefined {
  const r = scanLine(buf, p)
  return typeof r === 'object' ? r : undefined
}

/**
 * Read the lines of `file` in chunks (a log or snapshot may be far larger than one buffer should
 * be), calling `onValue` for each good one. Stops at the end or at the first torn or corrupt
 * line; returns the offset where the good lines end and the file's size.
 */
function readLines (file: string, onValue: (value: unknown) => void): { good: number, size: number } {
  const fd = fs.openSync(file, 'r')
  try {
    const size = fs.fstatSync(fd).size
    let buf = Buffer.alloc(0)
    let base = 0 // file offset of buf[0]
    let p = 0
    for (;;) {
      const r = scanLine(buf, p)
      if (typeof r === 'object') {
        onValue(r.value)
        p = r.next
        continue
      }
      const readAt = base + buf.length
      if (r === undefined || readAt >= size) return { good: base + p, size }
      // keep the unread part, read at least what this line still needs
      const want = Math.min(Math.max(r, CHUNK_BYTES), size - readAt)
      const next = Buffer.allocUnsafe(buf.length - p + want)
      buf.copy(next, 0, p)
      const got = fs.readSync(fd, next, buf.length - p, want, readAt)
      base += p
      buf = next.subarray(0, buf.length - p + got)
      p = 0
      if (got === 0) return { good: base, size }
    }
  } finally {
    fs.closeSync(fd)
  }
}

/** Buffers lines and writes them in large chunks (a snapshot of a big brick is one pass). */
class LineWriter {
  readonly #fd: number
  #parts: Buffer[] = []
  #pending = 0
  bytes = 0
  constructor (fd: number) { this.#fd = fd }
  line (record: unknown): void {
    const b = encodeLine(record)
    this.#parts.push(b)
    this.#pending += b.length
    if (this.#pending >= CHUNK_BYTES) this.flush()
  }

  flush (): void {
    if (this.#pending === 0) return
    writeAll(this.#fd, Buffer.concat(this.#parts, this.#pending))
    this.bytes += this.#pending
    this.#parts = []
    this.#pending = 0
  }
}

function writeAll (fd: number, data: Buffer): void {
  let off = 0
  while (off < data.length) off += fs.writeSync(fd, data, off)
}

export class Journal {
  readonly dir: string
  readonly recovery: JournalRecovery
  readonly #state: JournalState
  readonly #opts: Required<JournalOptions>
  readonly #fd: number
  /** records and bytes in the log */
  #records = 0
  #logBytes = 0
  #snapshotBytes = 0
  /** when the log is next due for compaction (moved on when a compaction fails) */
  #dueRecords: number
  #dueBytes = 0
  #closed = false
  #compactionError: unknown

  private constructor (dir: string, state: JournalState, opts: JournalOptions) {
    this.dir = dir
    this.#state = state
    this.#opts = {
      compactEvery: opts.compactEvery ?? DEFAULT_COMPACT_EVERY,
      compactLogBytes: opts.compactLogBytes ?? DEFAULT_COMPACT_LOG_BYTES,
      fsync: opts.fsync ?? false,
    }
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    this.#loadSnapshot()
    const logPath = path.join(dir, LOG)
    this.recovery = this.#replay(logPath)
    this.#fd = fs.openSync(logPath, 'a', 0o600)
    this.#dueRecords = this.#opts.compactEvery
    this.#setDueBytes(0)
  }

  #setDueBytes (from: number): void {
    this.#dueBytes = from + Math.max(this.#opts.compactLogBytes, this.#snapshotBytes)
  }

  /** Open (creating when absent) the journal in `dir` and replay it into `state`. */
  static open (dir: string, state: JournalState, opts: JournalOptions = {}): Journal {
    return new Journal(dir, state, opts)
  }

  /** records in the log since the last snapshot */
  get logRecords (): number { return this.#records }
  /** the last automatic compaction's failure, if it failed (the log still holds everything) */
  get compactionError (): unknown { return this.#compactionError }

  #loadSnapshot (): void {
    const snap = path.join(this.dir, SNAPSHOT)
    if (fs.existsSync(snap)) {
      // written whole (tmp + fsync + rename), so anything short of perfect is damage: refuse it
      // rather than start with part of the brick's metadata
      let header: unknown
      let end: unknown
      let n = 0
      const { good, size } = readLines(snap, v => {
        if (header === undefined) { header = v; return }
        if (end !== undefined) throw new Error(`snapshot ${snap}: records after the end line`)
        const r = v as JournalRecord
        if (typeof r === 'object' && r !== null && 'end' in r && !('k' in r)) { end = r.end; return }
        this.#state.apply(r)
        n++
      })
      if (good !== size || (header as { snapshot?: unknown } | undefined)?.snapshot !== 2 || end !== n) {
        throw new Error(`snapshot ${snap} is damaged (${good} of ${size} bytes readable, ${n} records, end line ${JSON.stringify(end)})`)
      }
      this.#snapshotBytes = size
      return
    }
    const legacy = path.join(this.dir, LEGACY_SNAPSHOT)
    if (fs.existsSync(legacy)) {
      const obj = JSON.parse(fs.readFileSync(legacy, 'utf8')) as { records: Record<string, unknown> }
      // each record of a version-1 snapshot was a whole value: replay it as the put it was
      for (const [k, v] of Object.entries(obj.records)) this.#state.apply({ k, v })
      this.#snapshotBytes = fs.statSync(legacy).size
    }
  }

  #replay (logPath: string): JournalRecovery {
    if (!fs.existsSync(logPath)) return { replayed: 0, droppedBytes: 0 }
    let replayed = 0
    const { good, size } = readLines(logPath, v => {
      this.#state.apply(v as JournalRecord)
      replayed++
    })
    // cut the torn tail so that later appends start on a clean line
    if (good < size) fs.truncateSync(logPath, good)
    this.#records = replayed
    this.#logBytes = good
    return { replayed, droppedBytes: size - good }
  }

  /**
   * Log `record`, then apply it to the state. Durable against process death when this returns
   * (against power loss too with `fsync`). If the write fails (disk full), the log is cut back
   * to where it was and nothing is applied: the caller's change did not happen.
   */
  commit (record: JournalRecord): void {
    if (this.#closed) throw new Error(`journal ${this.dir} is closed`)
    const line = encodeLine(record)
    try {
      writeAll(this.#fd, line)
      if (this.#opts.fsync) fs.fdatasyncSync(this.#fd)
    } catch (err) {
      // a half-written line would end every later replay at this point
      try { fs.ftruncateSync(this.#fd, this.#logBytes) } catch {}
      throw err
    }
    this.#logBytes += line.length
    this.#records++
    this.#state.apply(record)
    if (this.#records >= this.#dueRecords || this.#logBytes >= this.#dueBytes) {
      try {
        this.compact()
        this.#compactionError = undefined
      } catch (err) {
        // the record is logged and applied; try again after as many records/bytes once more
        this.#compactionError = err
        this.#dueRecords = this.#records + this.#opts.compactEvery
        this.#setDueBytes(this.#logBytes)
      }
    }
  }

  /** Write the whole state as a snapshot (tmp + fsync + rename + dir fsync), then empty the log. */
  compact (): void {
    if (this.#closed) throw new Error(`journal ${this.dir} is closed`)
    const tmp = path.join(this.dir, `${SNAPSHOT}.tmp`)
    const fd = fs.openSync(tmp, 'w', 0o600)
    let bytes: number
    try {
      const w = new LineWriter(fd)
      w.line({ snapshot: 2 })
      let n = 0
      for (const r of this.#state.records()) {
        w.line(r)
        n++
      }
      w.line({ end: n })
      w.flush()
      fs.fsyncSync(fd)
      bytes = w.bytes
    } catch (err) {
      fs.closeSync(fd)
      fs.rmSync(tmp, { force: true })
      throw err
    }
    fs.closeSync(fd)
    fs.renameSync(tmp, path.join(this.dir, SNAPSHOT))
    fsyncDir(this.dir)
    fs.ftruncateSync(this.#fd, 0)
    this.#records = 0
    this.#logBytes = 0
    this.#snapshotBytes = bytes
    this.#dueRecords = this.#opts.compactEvery
    this.#setDueBytes(0)
    // the new snapshot supersedes a version-1 one (and is read first if this is not reached)
    fs.rmSync(path.join(this.dir, LEGACY_SNAPSHOT), { force: true })
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
