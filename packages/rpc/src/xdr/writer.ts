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

export class XdrWriter {
  #slab: Buffer
  #start = 0 // where the current message began in #slab
  #pos = 0
  #chunks: Buffer[] = []
  #chunkBytes = 0

  constructor (slabBytes = SLAB_BYTES) {
    this.#slab = Buffer.allocUnsafe(slabBytes)
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
    this.#start = 0
    this.#pos = used
  }

  u32 (v: number): this {
    this.#room(4)
    this.#slab.writeUInt32BE(v >>> 0, this.#pos)
    this.#pos += 4
    return this
  }

  i32 (v: number): this {
    this.#room(4)
    this.#slab.writeInt32BE(v | 0, this.#pos)
    this.#pos += 4
    return this
  }

  u64 (v: bigint): this {
    this.#room(8)
    this.#slab.writeBigUInt64BE(BigInt.asUintN(64, v), this.#pos)
    this.#pos += 8
    return this
  }

  i64 (v: bigint): this {
    this.#room(8)
    this.#slab.writeBigInt64BE(BigInt.asIntN(64, v), this.#pos)
    this.#pos += 8
    return this
  }

  f64 (v: number): this {
    this.#room(8)
    this.#slab.writeDoubleBE(v, this.#pos)
    this.#pos += 8
    return this
  }

  bool (v: boolean): this { return this.u32(v ? 1 : 0) }

  /** opaque[n]: exactly n bytes (shorter input is zero-filled) plus padding. */
  fixed (b: Uint8Array, n = b.length): this {
    const padded = n + ((4 - (n & 3)) & 3) // not (n + 3) & ~3: that wraps to negative past 2^31
    this.#room(padded)
    const s = this.#slab
    const p = this.#pos
    const len = Math.min(n, b.length)
    s.set(len === b.length ? b : b.subarray(0, len), p)
    if (padded > len) s.fill(0, p + len, p + padded)
    this.#pos = p + padded
    return this
  }

  opaque (b: Uint8Array): this {
    this.u32(b.length)
    return this.fixed(b)
  }

  string (s: string): this {
    const n = Buffer.byteLength(s, 'utf8')
    this.u32(n)
    const padded = n + ((4 - (n & 3)) & 3) // not (n + 3) & ~3: that wraps to negative past 2^31
    this.#room(padded)
    const p = this.#pos
    this.#slab.write(s, p, n, 'utf8')
    if (padded > n) this.#slab.fill(0, p + n, p + padded)
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
    this.#slab.writeUInt32BE(0, this.#pos)
    this.#pos += 4
    return at
  }

  /** Fill a u32 reserved at `offset` (an offset from the start of the current message). */
  setU32 (offset: number, v: number): void {
    // The reserved word is in the slab part written after the last cut.
    const slabOffset = offset - this.#chunkBytes + this.#start
    if (slabOffset < this.#start) throw new Error('XdrWriter.setU32: offset precedes a raw chunk')
    this.#slab.writeUInt32BE(v >>> 0, slabOffset)
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
