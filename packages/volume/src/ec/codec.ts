// createCodec(k, r): GlusterFS's disperse encode and decode (gluster-disperse.md §2) over whole
// stripes, into buffers the caller provides. Work is done a block of stripes at a time in a
// scratch memory small enough to stay in the CPU cache: the block is copied in, the kernel runs,
// the results are copied out.
import { GlusterError } from '@gluster-ts/rpc'
import { EC_CHUNK_BYTES, checkGeometry, decodingMatrix, encodingRow } from './matrix.js'
import type { Kernel, KernelFactory, KernelLayout } from './kernel.js'
import { jsKernel } from './js-kernel.js'
import { wasmKernel, wasmMemory, wasmSimdSupported } from './wasm-kernel.js'
import { compileMatrix } from './xor-program.js'

export type EcEngine = 'wasm-simd' | 'js'

export interface EcCodecOptions {
  /** 'auto' (default): WebAssembly SIMD where the runtime has it, else the portable kernel */
  engine?: 'auto' | EcEngine
}

export interface EcCodec {
  /** data bricks (fragments needed to decode) */
  readonly k: number
  /** redundancy */
  readonly r: number
  /** bricks: k + r */
  readonly n: number
  /** user bytes per stripe: 512·k */
  readonly stripeBytes: number
  readonly engine: EcEngine
  /**
   * Encode whole stripes: `data.length` must be a multiple of stripeBytes; fragment i (brick i,
   * volfile order) receives data.length / k bytes at its start. `fragments` has n buffers.
   */
  encode (data: Uint8Array, fragments: readonly Uint8Array[]): void
  /**
   * Rebuild the data from the fragments of k distinct bricks (`bricks[a]` is the 0-based brick
   * whose fragment bytes are `fragments[a]`; any order). All fragments have the same length, a
   * multiple of 512; `out` receives length · k bytes at its start.
   */
  decode (fragments: readonly Uint8Array[], bricks: readonly number[], out: Uint8Array): void
}

/** Scratch bytes (inputs + outputs of one block) a codec aims for: well inside L2. */
const BLOCK_TARGET_BYTES = 192 * 1024
/** Decoding kernels kept per codec (GlusterFS keeps a similar LRU of inverse matrices). */
const DECODE_CACHE = 32

export function createCodec (k: number, r: number, opts: EcCodecOptions = {}): EcCodec {
  checkGeometry(k, r)
  const want = opts.engine ?? 'auto'
  const simd = wasmSimdSupported()
  if (want === 'wasm-simd' && !simd) throw new GlusterError('EGLUSTER_UNSUPPORTED', 'this runtime has no WebAssembly SIMD; use engine "js" or "auto"')
  const engine: EcEngine = want === 'auto' ? (simd ? 'wasm-simd' : 'js') : want
  return new Codec(k, r, engine)
}

class Codec implements EcCodec {
  readonly k: number
  readonly r: number
  readonly n: number
  readonly stripeBytes: number
  readonly engine: EcEngine
  /** stripes per block */
  readonly #block: number
  /** where the block's fragment regions start (the data block is at 0) */
  readonly #fragBase: number
  readonly #regionBytes: number
  readonly #factory: KernelFactory
  readonly #encoder: Kernel
  readonly #decoders = new Map<string, Kernel>()

  constructor (k: number, r: number, engine: EcEngine) {
    this.k = k
    this.r = r
    this.n = k + r
    this.stripeBytes = k * EC_CHUNK_BYTES
    this.engine = engine
    this.#block = Math.max(1, Math.min(64, Math.floor(BLOCK_TARGET_BYTES / ((this.k + this.n) * EC_CHUNK_BYTES))))
    this.#fragBase = this.#block * this.stripeBytes
    this.#regionBytes = this.#fragBase + this.n * this.#block * EC_CHUNK_BYTES
    if (engine === 'wasm-simd') {
      const memory = wasmMemory(this.#regionBytes)
      this.#factory = (program, layout) => wasmKernel(program, layout, memory)
    } else {
      this.#factory = (program, layout, regionBytes) => jsKernel(program, layout, regionBytes)
    }
    const rows = Array.from({ length: this.n }, (_, i) => encodingRow(i, k))
    this.#encoder = this.#factory(compileMatrix(rows), this.#layout('encode'), this.#regionBytes)
  }

  /** Encoding reads the data block and writes the brick regions; decoding the other way. */
  #layout (dir: 'encode' | 'decode'): KernelLayout {
    const data = { base: 0, stripe: this.stripeBytes, chunk: EC_CHUNK_BYTES }
    const frags = { base: this.#fragBase, stripe: EC_CHUNK_BYTES, chunk: this.#block * EC_CHUNK_BYTES }
    const [i, o] = dir === 'encode' ? [data, frags] : [frags, data]
    return { inBase: i.base, inStripe: i.stripe, inChunk: i.chunk, outBase: o.base, outStripe: o.stripe, outChunk: o.chunk }
  }

  encode (data: Uint8Array, fragments: readonly Uint8Array[]): void {
    const { stripeBytes: S, n } = this
    if (data.length % S !== 0) throw new GlusterError('EINVAL', `disperse encode: ${data.length} bytes is not a whole number of ${S}-byte stripes`)
    if (fragments.length !== n) throw new GlusterError('EINVAL', `disperse encode: ${fragments.length} fragment buffers for ${n} bricks`)
    const stripes = data.length / S
    for (const f of fragments) {
      if (f.length < stripes * EC_CHUNK_BYTES) throw new GlusterError('EINVAL', `disperse encode: a fragment buffer of ${f.length} bytes cannot hold ${stripes * EC_CHUNK_BYTES}`)
    }
    const kernel = this.#encoder
    const mem = kernel.memory
    const region = this.#block * EC_CHUNK_BYTES
    for (let s0 = 0; s0 < stripes; s0 += this.#block) {
      const cnt = Math.min(this.#block, stripes - s0)
      mem.set(data.subarray(s0 * S, (s0 + cnt) * S), 0)
      kernel.run(cnt)
      for (let i = 0; i < n; i++) {
        const at = this.#fragBase + i * region
        fragments[i]!.set(mem.subarray(at, at + cnt * EC_CHUNK_BYTES), s0 * EC_CHUNK_BYTES)
      }
    }
  }

  decode (fragments: readonly Uint8Array[], bricks: readonly number[], out: Uint8Array): void {
    const { k, n } = this
    if (fragments.length !== k || bricks.length !== k) throw new GlusterError('EINVAL', `disperse decode needs exactly ${k} fragments and brick numbers, got ${fragments.length} and ${bricks.length}`)
    const seen = new Set<number>()
    for (const b of bricks) {
      if (!Number.isInteger(b) || b < 0 || b >= n || seen.has(b)) throw new GlusterError('EINVAL', `disperse decode: bricks [${bricks.join(', ')}] are not ${k} distinct bricks of 0..${n - 1}`)
      seen.add(b)
    }
    const len = fragments[0]!.length
    if (len % EC_CHUNK_BYTES !== 0 || fragments.some(f => f.length !== len)) {
      throw new GlusterError('EIO', `disperse decode: fragment lengths [${fragments.map(f => f.length).join(', ')}] are not one multiple of ${EC_CHUNK_BYTES}`)
    }
    if (out.length < len * k) throw new GlusterError('EINVAL', `disperse decode: output of ${out.length} bytes cannot hold ${len * k}`)
    // one kernel per brick set, fragments taken in ascending brick order as GlusterFS does
    const order = [...bricks.keys()].sort((a, b) => bricks[a]! - bricks[b]!)
    const kernel = this.#decoder(order.map(a => bricks[a]!))
    const mem = kernel.memory
    const region = this.#block * EC_CHUNK_BYTES
    const stripes = len / EC_CHUNK_BYTES
    const S = this.stripeBytes
    for (let s0 = 0; s0 < stripes; s0 += this.#block) {
      const cnt = Math.min(this.#block, stripes - s0)
      for (let a = 0; a < k; a++) {
        mem.set(fragments[order[a]!]!.subarray(s0 * EC_CHUNK_BYTES, (s0 + cnt) * EC_CHUNK_BYTES), this.#fragBase + a * region)
      }
      kernel.run(cnt)
      out.set(mem.subarray(0, cnt * S), s0 * S)
    }
  }

  #decoder (sorted: number[]): Kernel {
    const key = sorted.join(',')
    let kernel = this.#decoders.get(key)
    if (kernel !== undefined) {
      this.#decoders.delete(key) // most recently used goes last
    } else {
      kernel = this.#factory(compileMatrix(decodingMatrix(sorted, this.k)), this.#layout('decode'), this.#regionBytes)
      if (this.#decoders.size >= DECODE_CACHE) this.#decoders.delete(this.#decoders.keys().next().value!)
    }
    this.#decoders.set(key, kernel)
    return kernel
  }
}
