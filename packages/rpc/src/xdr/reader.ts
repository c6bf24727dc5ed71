import { protocolError } from '../errors.js'

/**
 * A cursor over one Buffer (RFC 4506 XDR, big-endian, 4-byte aligned). Opaque and string
 * reads return subarrays of the input, never copies, so a READ payload handed to a user is a
 * slice of the socket buffer. Every read is bounds-checked: running past `end` throws an
 * EGLUSTER_PROTOCOL GlusterError, never a RangeError.
 */
export class XdrReader {
  readonly buf: Buffer
  pos: number
  readonly end: number

  constructor (buf: Buffer, start = 0, end = buf.length) {
    this.buf = buf
    this.pos = start
    this.end = end
  }

  get remaining (): number { return this.end - this.pos }

  #need (n: number, what: string): number {
    const p = this.pos
    if (n > this.end - p) {
      throw protocolError(`XDR: truncated ${what}: need ${n} bytes at offset ${p}, ${this.end - p} left`)
    }
    this.pos = p + n
    return p
  }

  u32 (): number { return this.buf.readUInt32BE(this.#need(4, 'u32')) }
  i32 (): number { return this.buf.readInt32BE(this.#need(4, 'i32')) }
  u64 (): bigint { return this.buf.readBigUInt64BE(this.#need(8, 'u64')) }
  i64 (): bigint { return this.buf.readBigInt64BE(this.#need(8, 'i64')) }
  f64 (): number { return this.buf.readDoubleBE(this.#need(8, 'double')) }

  bool (): boolean {
    const v = this.u32()
    if (v > 1) throw protocolError(`XDR: bool must be 0 or 1, got ${v} at offset ${this.pos - 4}`)
    return v === 1
  }

  /** opaque[n]: n bytes plus padding to 4, as a subarray. */
  fixed (n: number): Buffer {
    const padded = n + ((4 - (n & 3)) & 3) // not (n + 3) & ~3: that wraps to negative past 2^31
    const p = this.#need(padded, `opaque[${n}]`)
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

  /** Everything up to `end`, as a subarray (raw READ/WRITE payloads). */
  rest (): Buffer {
    const p = this.pos
    this.pos = this.end
    return this.buf.subarray(p, this.end)
  }

  skip (n: number): void { this.#need(n, 'skipped bytes') }

  /**
   * Claim the next n bytes (no padding) and return their offset in `buf`, for hand-written
   * decoders of fixed-size structs that read `buf` directly after one bounds check.
   */
  take (n: number): number { return this.#need(n, 'fixed-size struct') }
}
