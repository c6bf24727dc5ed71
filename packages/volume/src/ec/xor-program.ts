// A GF(2^8) coefficient matrix turned into a list of XORs between 64-byte bit-planes.
//
// In GlusterFS's layout a 512-byte chunk is 8 bit-planes (gluster-disperse.md §2.3), so
// "chunk × constant" is a fixed GF(2)-linear map of planes and a whole encode or decode is a
// straight-line program of plane XORs. Each output chunk is evaluated as ec-code-c.c does
// (ec_code_c_prepare / ec_code_c_interleaved): Horner over its non-zero coefficients,
// acc = acc·(c_prev/c_j) ⊕ in_j, then one final ·c_last. For the encoding rows
// [v^(k-1), …, v, 1] every ratio is v itself, a small constant with a sparse bit matrix. Each
// multiplication by a constant uses a shared-subexpression XOR network found once per constant
// (greedy pair elimination, Paar 1997), so the programs stay short for decoding matrices too.
//
// Both kernels (the WebAssembly one and the portable one) execute these programs.
import { gfBitMatrix, gfDiv } from './gf256.js'

export interface XorProgram {
  /** input chunks; register r < 8·inputs is plane r & 7 of input chunk r >> 3 */
  inputs: number
  /** output chunks */
  outputs: number
  /** two source registers per op; op t defines register 8·inputs + t */
  ops: Int32Array
  /** per output plane (8·o + b): the register holding it, or -1 for an all-zero plane */
  out: Int32Array
}

interface MulNetwork {
  /** pairs of local signals: 0..7 are the input planes, 8 + t is op t */
  ops: number[]
  /** local signal of each output plane */
  out: number[]
}

const networks = new Map<number, MulNetwork>()

/** The XOR network of "multiply a bit-sliced chunk by c" (c ≠ 0, 1). */
function mulNetwork (c: number): MulNetwork {
  const cached = networks.get(c)
  if (cached !== undefined) return cached
  const rows: number[][] = gfBitMatrix(c).map(mask => {
    const s: number[] = []
    for (let a = 0; a < 8; a++) if ((mask >> a) & 1) s.push(a)
    return s
  })
  const ops: number[] = []
  let next = 8
  // Greedy: make the pair of signals that most output rows share into a new signal, until no
  // pair is shared by two rows.
  for (;;) {
    let best = 1
    let bx = -1
    let by = -1
    for (let x = 0; x < next; x++) {
      for (let y = x + 1; y < next; y++) {
        let n = 0
        for (const r of rows) if (r.includes(x) && r.includes(y)) n++
        if (n > best) { best = n; bx = x; by = y }
      }
    }
    if (bx < 0) break
    ops.push(bx, by)
    for (const r of rows) {
      if (r.includes(bx) && r.includes(by)) {
        r.splice(r.indexOf(bx), 1)
        r.splice(r.indexOf(by), 1)
        r.push(next)
      }
    }
    next++
  }
  const out: number[] = []
  for (const r of rows) {
    let acc = r[0]! // never empty: c ≠ 0 makes the bit matrix invertible
    for (let i = 1; i < r.length; i++) { ops.push(acc, r[i]!); acc = next++ }
    out.push(acc)
  }
  const net = { ops, out }
  networks.set(c, net)
  return net
}

class Builder {
  readonly ops: number[] = []
  #next: number
  constructor (firstTemp: number) { this.#next = firstTemp }
  xor (a: number, b: number): number { this.ops.push(a, b); return this.#next++ }

  /** acc·c (8 plane registers in, 8 out) */
  mul (acc: readonly number[], c: number): number[] {
    if (c === 1) return [...acc]
    const net = mulNetwork(c)
    const local: number[] = [...acc]
    for (let i = 0; i < net.ops.length; i += 2) local.push(this.xor(local[net.ops[i]!]!, local[net.ops[i + 1]!]!))
    return net.out.map(s => local[s]!)
  }
}

const planesOf = (chunk: number): number[] => [0, 1, 2, 3, 4, 5, 6, 7].map(b => chunk * 8 + b)

/** The program computing out_o = ⊕_i coeffs[o][i] · in_i for every output chunk o. */
export function compileMatrix (coeffs: readonly (readonly number[])[]): XorProgram {
  const outputs = coeffs.length
  const inputs = coeffs[0]?.length ?? 0
  const b = new Builder(inputs * 8)
  const out = new Int32Array(outputs * 8).fill(-1)
  coeffs.forEach((row, o) => {
    if (row.length !== inputs) throw new RangeError('coefficient matrix is not rectangular')
    let acc: number[] | null = null
    let last = 0
    row.forEach((c, i) => {
      if (c === 0) return
      if (acc === null) {
        acc = planesOf(i)
      } else {
        const addend = planesOf(i)
        acc = b.mul(acc, gfDiv(last, c)).map((reg, p) => b.xor(reg, addend[p]!))
      }
      last = c
    })
    if (acc !== null) b.mul(acc, last).forEach((reg, p) => { out[o * 8 + p] = reg })
  })
  return { inputs, outputs, ops: Int32Array.from(b.ops), out }
}
