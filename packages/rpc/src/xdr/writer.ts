/**
 * XDR writer. Messages are written into a shared slab; finish() hands out the bytes written
 * since the last finish() and never writes into them again (a slice we handed out stays
 * intact). Large raw payloads (WRITE data, READ replies) are not copied: raw() keeps them as
 * separate chunks, so finish() returns a list of buffers to hand to the socket as they are.
 */
const SLAB_BYTES = 64 * 1024
/** Raw payloads at least this large are passed through as their own chunk instead of copied. */
const ZERO_COPY_BYTES = 2048
const ZERO = Buffer.alloc(4)
/**
 * Inputs up to this size are copied byte by byte: for short inputs a JS loop beats
 * TypedArray#set, whose call overhead dominates (bench/results/xdr.md, "Why").
 */
const SMALL_COPY_MAX = 32
/** Strings up to this many UTF-16 units try the ASCII charCodeAt loop in string(). */
const ASCII_LOOP_MAX = 64

/**
 * Numbers go through a DataView over the slab (big-endian is its default): setUint32 and
 * setBigUint64 are ~10× and ~6× faster than Buffer#writeUInt32BE / #writeBigUInt64BE, and
 * setBig(U)Int64 converts modulo 2^64 itself (the same bytes BigInt.asUintN/asIntN gave), and
 * throws TypeError for a non-bigint as before. The view must always cover the current #slab:
 * #room() rebuilds it whenever the slab is replaced.
 */
export class XdrWriter {
  #slab: Buffer
  #view: DataView
  #start = 0 // where the current message began in #slab
  #pos = 0
  #chunks: Buffer[] = []
  #chunkBytes = 0

  constructor (slabBytes = SLAB_BYTES) {
    this.#slab = Buffer.allocUnsafe(slabBytes)
    this.#view = viewOf(this.#slab)
  }

  /** Bytes written since the last finish(). */
  get length (): number { return this.#chunkBytes + this.#pos - this.#start }

  #room (n: number): void {
    if (this.#pos + n <= this.#slab.length) return
    // Move the bytes of the current message to a new slab that has room (grows by 1.5x or more).
    const used = this.#pos - this.#start
    const size = Math.max(SLAB_BYTES, Math.ceil((used + n) * 1.5))
    const next = Buffer.allocUnsafe(size)
    this.#slab.copy(next, 0, this.#start, this.#pos)
    this.#slab = next
    this.#view = viewOf(next)
    this.#start = 0
    this.#pos = used
  }

  u32 (v: number): this {
    this.#room(4)
    this.#view.setUint32(this.#pos, v >>> 0)
    this.#pos += 4
    return this
  }

  i32 (v: number): this {
    this.#room(4)
    this.#view.setInt32(this.#pos, v | 0)
    this.#pos += 4
    return this
  }

  u64 (v: bigint): this {
    this.#room(8)
    this.#view.setBigUint64(this.#pos, v)
    this.#pos += 8
    return this
  }

  i64 (v: bigint): this {
    this.#room(8)
    this.#view.setBigInt64(this.#pos, v)
    this.#pos += 8
    return this
  }

  f64 (v: number): this {
    this.#room(8)
    this.#view.setFloat64(this.#pos, v)
    this.#pos += 8
    return this
  }

  bool (v: boolean): this { return this.u32(v ? 1 : 0) }

  /** opaque[n]: exactly n bytes (shorter input is zero-filled) plus padding. */
  fixed (b: Uint8Array, n = b.length): this {
    const padded = n + ((4 - (n & 3)) & 3) // not (n + 3) & ~3: that wraps to negative past 2^31
    this.#room(padded)
    const s = this.#slab
    let p = this.#pos
    const end = p + padded
    const len = Math.min(n, b.length)
    if (len <= SMALL_COPY_MAX) {
      for (let i = 0; i < len; i++) s[p + i] = b[i]!
    } else {
      s.set(len === b.length ? b : b.subarray(0, len), p)
    }
    // zero-fill (n > b.length) and padding: usually 0 to 3 bytes, where a loop beats Buffer#fill
    p += len
    if (end - p > SMALL_COPY_MAX) s.fill(0, p, end)
    else for (; p < end; p++) s[p] = 0
    this.#pos = end
    return this
  }

  opaque (b: Uint8Array): this {
    this.u32(b.length)
    return this.fixed(b)
  }

  string (str: string): this {
    const units = str.length
    if (units <= ASCII_LOOP_MAX) {
      // Short ASCII strings (names, dict keys and values): copy char codes directly, skipping
      // Buffer.byteLength and Buffer#write (C++ calls). The loop writes only past #pos, into
      // bytes not yet handed out, so bailing out at the first non-ASCII unit is harmless: the
      // general path below overwrites them.
      this.#room(4 + units + 3)
      const s = this.#slab
      const start = this.#pos
      let p = start + 4
      let i = 0
      for (; i < units; i++) {
        const c = str.charCodeAt(i)
        if (c > 0x7f) break
        s[p++] = c
      }
      if (i === units) {
        this.#view.setUint32(start, units)
        while (((p - start) & 3) !== 0) s[p++] = 0
        this.#pos = p
        return this
      }
    }
    const n = Buffer.byteLength(str, 'utf8')
    this.u32(n)
    const padded = n + ((4 - (n & 3)) & 3) // not (n + 3) & ~3: that wraps to negative past 2^31
    this.#room(padded)
    const s = this.#slab
    const p = this.#pos
    s.write(str, p, n, 'utf8')
    for (let q = p + n; q < p + padded; q++) s[q] = 0
    this.#pos = p + padded
    return this
  }

  /** Raw bytes, no length word, no padding (READ reply data, WRITE request data). */
  raw (b: Buffer): this {
    if (b.length < ZERO_COPY_BYTES) {
      this.#room(b.length)
      this.#slab.set(b, this.#pos)
      this.#pos += b.length
      return this
    }
    this.#cut()
    this.#chunks.push(b)
    this.#chunkBytes += b.length
    return this
  }

  /** Reserve a u32 to fill in later (lengths known only after the body is written). */
  reserveU32 (): number {
    this.#room(4)
    const at = this.length
    this.#view.setUint32(this.#pos, 0)
    this.#pos += 4
    return at
  }

  /** Fill a u32 reserved at `offset` (an offset from the start of the current message). */
  setU32 (offset: number, v: number): void {
    // The reserved word is in the slab part written after the last cut.
    const slabOffset = offset - this.#chunkBytes + this.#start
    if (slabOffset < this.#start) throw new Error('XdrWriter.setU32: offset precedes a raw chunk')
    this.#view.setUint32(slabOffset, v >>> 0)
  }

  /** Zero padding after a raw payload, when a format needs it. */
  pad (n: number): this { return this.fixed(ZERO, ((4 - (n & 3)) & 3)) }

  #cut (): void {
    if (this.#pos > this.#start) {
      const part = this.#slab.subarray(this.#start, this.#pos)
      this.#chunks.push(part)
      this.#chunkBytes += part.length
      this.#start = this.#pos
    }
  }

  /** The message as a list of chunks; the writer starts a new message. */
  finishChunks (): Buffer[] {
    this.#cut()
    const out = this.#chunks
    this.#chunks = []
    this.#chunkBytes = 0
    return out
  }

  /** The message as one Buffer (concatenates only when raw chunks were added). */
  finish (): Buffer {
    const chunks = this.finishChunks()
    if (chunks.length === 1) return chunks[0]!
    return Buffer.concat(chunks)
  }
}

/** A DataView over exactly `b`'s bytes (pooled Buffers share a larger ArrayBuffer). */
function viewOf (b: Buffer): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength)
}
