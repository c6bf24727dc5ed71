import { protocolError } from '../errors.js'

/**
 * A cursor over one Buffer (RFC 4506 XDR, big-endian, 4-byte aligned). Opaque and string
 * reads return subarrays of the input, never copies, so a READ payload handed to a user is a
 * slice of the socket buffer. Every read is bounds-checked: running past `end` throws an
 * EGLUSTER_PROTOCOL GlusterError, never a RangeError.
 *
 * Speed notes (bench/results/xdr.md): 32-bit reads are byte arithmetic (no call, no
 * validation; ~3× faster than Buffer#readUInt32BE), 64-bit reads go through a DataView
 * (getBigUint64 is ~2× faster than Buffer#readBigUInt64BE, which builds the value from several
 * BigInts). The DataView is created on first use, so a reader that only walks 32-bit header
 * fields never pays for it.
 */
export class XdrReader {
  readonly buf: Buffer
  #view: DataView | undefined
  pos: number
  readonly end: number
  /**
   * The raw bytes that follow `buf` when a record was split (RecordDecoder's place()): rest()
   * returns them, read in place into a caller's buffer, instead of the end of `buf`.
   */
  tail: Buffer | undefined
  /** Where rest() was called (the offset of the raw bytes in `buf`), or -1. */
  restAt = -1

  constructor (buf: Buffer, start = 0, end = buf.length) {
    this.buf = buf
    this.pos = start
    this.end = end
  }

  get remaining (): number { return this.end - this.pos }

  /**
   * A big-endian-by-default DataView over `buf` (created on first use), for hand-written
   * fixed-size decoders such as gfx_iattx: offsets are those of `buf`, as returned by take().
   */
  get view (): DataView {
    const b = this.buf
    // byteOffset/byteLength: a pooled Buffer is a window on a larger, shared ArrayBuffer
    return this.#view ??= new DataView(b.buffer, b.byteOffset, b.byteLength)
  }

  #need (n: number, what: string): number {
    const p = this.pos
    if (n > this.end - p) throw truncated(what, n, p, this.end - p)
    this.pos = p + n
    return p
  }

  u32 (): number {
    const p = this.#need(4, 'u32')
    const b = this.buf
    // the top byte multiplied, not shifted: `<< 24` would make values >= 2^31 negative
    return b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!)
  }

  i32 (): number {
    const p = this.#need(4, 'i32')
    const b = this.buf
    return (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!
  }

  u64 (): bigint { return this.view.getBigUint64(this.#need(8, 'u64')) }
  i64 (): bigint { return this.view.getBigInt64(this.#need(8, 'i64')) }
  f64 (): number { return this.view.getFloat64(this.#need(8, 'double')) }

  bool (): boolean {
    const v = this.u32()
    if (v > 1) throw protocolError(`XDR: bool must be 0 or 1, got ${v} at offset ${this.pos - 4}`)
    return v === 1
  }

  /** opaque[n]: n bytes plus padding to 4, as a subarray. */
  fixed (n: number): Buffer {
    const padded = n + ((4 - (n & 3)) & 3) // not (n + 3) & ~3: that wraps to negative past 2^31
    const p = this.pos
    // checked here rather than by #need so that `opaque[${n}]` is built only when it throws
    if (padded > this.end - p) throw truncated(`opaque[${n}]`, padded, p, this.end - p)
    this.pos = p + padded
    return this.buf.subarray(p, p + n)
  }

  /** opaque<max>: u32 length, bytes, padding; a subarray. */
  opaque (max = 0xffffffff): Buffer {
    const at = this.pos
    const n = this.u32()
    if (n > max) throw protocolError(`XDR: opaque length ${n} exceeds its limit ${max} at offset ${at}`)
    return this.fixed(n)
  }

  /** string<max>: decoded as UTF-8 (GlusterFS names and paths are byte strings; UTF-8 in practice). */
  string (max = 0xffffffff): string {
    const b = this.opaque(max)
    return b.toString('utf8')
  }

  /** Everything up to `end`, as a subarray (raw READ/WRITE payloads), or the split-off tail. */
  rest (): Buffer {
    const p = this.pos
    this.restAt = p
    this.pos = this.end
    const t = this.tail
    if (t !== undefined) {
      if (p !== this.end) throw protocolError(`XDR: ${this.end - p} bytes between a split record's header and its tail at offset ${p}`)
      return t
    }
    return this.buf.subarray(p, this.end)
  }

  skip (n: number): void { this.#need(n, 'skipped bytes') }

  /**
   * Claim the next n bytes (no padding) and return their offset in `buf`, for hand-written
   * decoders of fixed-size structs that read `buf` directly after one bounds check.
   */
  take (n: number): number { return this.#need(n, 'fixed-size struct') }
}

function truncated (what: string, n: number, at: number, left: number): Error {
  return protocolError(`XDR: truncated ${what}: need ${n} bytes at offset ${at}, ${left} left`)
}
