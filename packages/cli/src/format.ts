// Pure formatting and parsing helpers (unit-tested): sizes, modes, ls -l lines, stat output.
import { CliError } from './errors.js'

const S_IFMT = 0o170000
const TYPE_CHAR: Record<number, string> = {
  0o040000: 'd', 0o100000: '-', 0o120000: 'l', 0o020000: 'c', 0o060000: 'b', 0o010000: 'p', 0o140000: 's',
}
const TYPE_NAME: Record<number, string> = {
  0o040000: 'directory', 0o100000: 'file', 0o120000: 'symlink', 0o020000: 'char-device',
  0o060000: 'block-device', 0o010000: 'fifo', 0o140000: 'socket',
}

/** 'file', 'directory', 'symlink' … from st_mode */
export function typeName (mode: number): string {
  return TYPE_NAME[mode & S_IFMT] ?? 'unknown'
}

/** '-rw-r--r--', 'drwxrwxrwt', with setuid/setgid/sticky as ls shows them. */
export function modeString (mode: number): string {
  const t = TYPE_CHAR[mode & S_IFMT] ?? '?'
  const bits = 'rwxrwxrwx'.split('').map((c, i) => (mode & (0o400 >> i)) !== 0 ? c : '-')
  const special = (i: number, bit: number, on: string, off: string): void => {
    if ((mode & bit) !== 0) bits[i] = bits[i] === '-' ? off : on
  }
  special(2, 0o4000, 's', 'S')
  special(5, 0o2000, 's', 'S')
  special(8, 0o1000, 't', 'T')
  return t + bits.join('')
}

/** 0o644 → '0644' */
export function octalMode (mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0')
}

/** ls -h / du -h: 1023 → '1023', 1536 → '1.5K', 10 MiB → '10M' (powers of 1024, like GNU). */
export function humanSize (n: number): string {
  const units = ['', 'K', 'M', 'G', 'T', 'P', 'E']
  let v = n
  let u = 0
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++ }
  if (u === 0) return String(n)
  // GNU rounds up: one decimal below 10, none above
  const s = v < 10 ? (Math.ceil(v * 10) / 10).toFixed(1) : String(Math.ceil(v))
  return (s === '10.0' ? '10' : s) + units[u]!
}

/** Bytes for a progress bar or a summary: '1.5 MiB', '512 B'. */
export function bytesText (n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let u = 0
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++ }
  return u === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[u]!}`
}

/**
 * Sizes as truncate -s, tail -c and --chunk take them: '100', '4K', '1M', '2G' (powers of 1024),
 * '1KB', '1MB' (powers of 1000), 'KiB'/'MiB' spelled out too.
 */
export function parseSize (text: string, what = 'size'): number {
  const m = /^(\d+)\s*([kmgtp]?)(i?b?)$/i.exec(text.trim())
  if (m === null) throw new CliError('EUSAGE', `invalid ${what} '${text}' (a number, optionally with K, M, G, T: 4K, 1M, 1MB)`)
  const n = Number(m[1])
  const unit = m[2]!.toLowerCase()
  const si = m[3]!.toLowerCase() === 'b' && unit !== ''
  const base = si ? 1000 : 1024
  const exp = unit === '' ? 0 : 'kmgtp'.indexOf(unit) + 1
  const v = n * base ** exp
  if (!Number.isSafeInteger(v)) throw new CliError('EUSAGE', `${what} '${text}' is too large`)
  return v
}

/** tail -n / -c: 'N' or '-N' count from the end, '+N' starts at item N (1-based), as in coreutils. */
export interface TailCount { fromStart: boolean, n: number }

export function parseTailCount (text: string, what: string): TailCount {
  const m = /^([+-]?)(.+)$/.exec(text.trim())
  let n: number
  try {
    n = parseSize(m?.[2] ?? '', what)
  } catch {
    throw new CliError('EUSAGE', `invalid ${what} '${text}' (N: the last N, +N: from the Nth on; 4K, 1M…)`)
  }
  return { fromStart: m![1] === '+', n }
}

/** truncate -s: an absolute size, or relative to the current one (coreutils' +, -, <, >, /, %). */
export interface SizeChange { op: '=' | '+' | '-' | '<' | '>' | '/' | '%', n: number }

export function parseSizeChange (text: string): SizeChange {
  const m = /^([+\-<>/%]?)\s*(.*)$/.exec(text.trim())!
  const op = (m[1] === '' ? '=' : m[1]) as SizeChange['op']
  let n: number
  try {
    n = parseSize(m[2]!, '--size')
  } catch {
    throw new CliError('EUSAGE', `invalid size '${text}' (N, +N, -N, <N, >N, /N, %N; K, M, G…: 4K, 1M, 1MB)`)
  }
  if ((op === '/' || op === '%') && n === 0) throw new CliError('EUSAGE', `invalid size '${text}': division by zero`)
  return { op, n }
}

/** The new size a SizeChange gives a file of `size` bytes (at least 0). */
export function applySizeChange (c: SizeChange, size: number): number {
  switch (c.op) {
    case '=': return c.n
    case '+': return size + c.n
    case '-': return Math.max(0, size - c.n)
    case '<': return Math.min(size, c.n)
    case '>': return Math.max(size, c.n)
    case '/': return Math.floor(size / c.n) * c.n
    case '%': return Math.ceil(size / c.n) * c.n
  }
}

/** Octal mode as chmod/mkdir -m take it ('755', '0644'). */
export function parseMode (text: string): number {
  if (!/^[0-7]{1,4}$/.test(text)) throw new CliError('EUSAGE', `invalid mode '${text}' (octal, like 755 or 0644)`)
  return parseInt(text, 8)
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** ls -l's date column: 'Nov 25 13:17' within six months of now, else 'Nov 25  2025' (UTC). */
export function lsDate (ms: number, nowMs: number): string {
  const d = new Date(ms)
  const head = `${MONTHS[d.getUTCMonth()]!} ${String(d.getUTCDate()).padStart(2, ' ')}`
  const sixMonths = 182.5 * 24 * 3600 * 1000
  if (Math.abs(nowMs - ms) < sixMonths) {
    return `${head} ${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`
  }
  return `${head}  ${d.getUTCFullYear()}`
}

export interface LongEntry {
  name: string
  mode: number
  nlink: number
  uid: number
  gid: number
  size: number
  mtimeMs: number
  target?: string | undefined
}

/** ls -l lines, columns aligned across the listing (uid/gid numeric: no NSS for remote owners). */
export function longListing (entries: readonly LongEntry[], o: { human: boolean, nowMs: number }): string[] {
  const size = (e: LongEntry): string => o.human ? humanSize(e.size) : String(e.size)
  const w = {
    nlink: Math.max(0, ...entries.map(e => String(e.nlink).length)),
    uid: Math.max(0, ...entries.map(e => String(e.uid).length)),
    gid: Math.max(0, ...entries.map(e => String(e.gid).length)),
    size: Math.max(0, ...entries.map(e => size(e).length)),
  }
  return entries.map(e =>
    `${modeString(e.mode)} ${String(e.nlink).padStart(w.nlink)} ${String(e.uid).padEnd(w.uid)} ${String(e.gid).padEnd(w.gid)} ` +
    `${size(e).padStart(w.size)} ${lsDate(e.mtimeMs, o.nowMs)} ${e.name}${e.target !== undefined ? ` -> ${e.target}` : ''}`)
}

/** ns since the epoch as ISO 8601 with all nine fraction digits: '2026-11-25T13:17:27.123456789Z'. */
export function isoTime (ns: bigint): string {
  const sec = ns / 1_000_000_000n - (ns % 1_000_000_000n < 0n ? 1n : 0n)
  const frac = ns - sec * 1_000_000_000n
  return new Date(Number(sec) * 1000).toISOString().replace(/\.\d+Z$/, `.${String(frac).padStart(9, '0')}Z`)
}

/** The same instant as stat(1) prints it: '2026-11-25 13:17:27.123456789 +0000'. */
export function statTime (ns: bigint): string {
  return isoTime(ns).replace('T', ' ').replace('Z', ' +0000')
}

/**
 * The inode number exactly. Stats.ino is a double, and GlusterFS's are 64-bit: the big-endian u64
 * of gfid bytes 8..15 (gfid_to_ino in libglusterfs; our server does the same). The gfid gives it
 * back whole when it agrees with what the brick sent.
 */
export function exactIno (st: { ino: number, gfid: string }): bigint {
  const hex = st.gfid.replace(/-/g, '')
  if (/^[0-9a-f]{32}$/i.test(hex)) {
    const fromGfid = BigInt('0x' + hex.slice(16))
    if (Number(fromGfid) === st.ino) return fromGfid
  }
  return BigInt(st.ino)
}

/** Compare names as `LC_ALL=C ls` sorts them (byte order). */
export function byteOrder (a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}

/** Split text into lines keeping the last `n` (tail -n); `text` is the end of a file. */
export function lastLines (buf: Buffer, n: number): Buffer {
  if (n <= 0) return buf.subarray(buf.length)
  let end = buf.length
  // a final newline ends the last line, it does not start an empty one
  if (end > 0 && buf[end - 1] === 0x0a) end--
  let count = 0
  for (let i = end - 1; i >= 0; i--) {
    if (buf[i] === 0x0a) {
      count++
      if (count === n) return buf.subarray(i + 1)
    }
  }
  return buf
}

/** Does `buf` (the end of a file) hold at least n complete lines before its start? */
export function hasLines (buf: Buffer, n: number): boolean {
  let end = buf.length
  if (end > 0 && buf[end - 1] === 0x0a) end--
  let count = 0
  for (let i = end - 1; i >= 0; i--) if (buf[i] === 0x0a && ++count >= n) return true
  return false
}
