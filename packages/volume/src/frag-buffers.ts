// Reused buffers for the fragment READs of a disperse layer. A disperse READ of 1 MiB is k
// fragment READs of 1/k MiB each; without a buffer of ours, the RPC layer allocates one per
// reply, and a 1 GiB copy leaves 1 GiB (more with hedges) of garbage that V8 returns to the OS
// only in large batches: pipeTo, whose ring keeps the decoded bytes in reused buffers, still
// peaked near 190 MiB on disp42. The fragments are read into these instead (rpc's `into`) and
// given back once decoded.

/** Bytes of free buffers kept for the next READs (a few windows of 4+2 fragments of 256 KiB). */
export const FRAG_FREE_BYTES = 16 << 20
/** Smaller fragments are not worth a buffer of their own: rpc's own allocation is cheap there. */
export const FRAG_MIN_BYTES = 16 << 10

export class FragmentBuffers {
  /** size of every buffer kept: the largest fragment asked for so far */
  #cap = 0
  #free: Buffer[] = []
  readonly #maxFree: number

  constructor (maxFreeBytes = FRAG_FREE_BYTES) { this.#maxFree = maxFreeBytes }

  /** Buffers free for reuse (for tests). */
  get freeCount (): number { return this.#free.length }

  /** A buffer of `size` bytes to READ a fragment into, or undefined when too small to matter. */
  take (size: number): Buffer | undefined {
    if (size < FRAG_MIN_BYTES) return undefined
    if (size > this.#cap) {
      // a larger READ size than before: the smaller buffers would not hold it
      this.#cap = size
      this.#free.length = 0
    }
    return (this.#free.pop() ?? Buffer.allocUnsafeSlow(this.#cap)).subarray(0, size)
  }

  /** Give back a buffer from take(): nothing may read or write it any more. */
  give (b: Buffer | undefined): void {
    if (b === undefined || b.buffer.byteLength !== this.#cap || b.byteOffset !== 0) return
    if ((this.#free.length + 1) * this.#cap > this.#maxFree) return
    this.#free.push(Buffer.from(b.buffer, 0, this.#cap))
  }
}
