// GF(2^8) as GlusterFS's disperse translator defines it (gluster-disperse.md §2.1): field
// polynomial x^8+x^4+x^3+x^2+1 (0x11D, ec-method.h EC_GF_MOD), generator 2, tables built as
// ec-galois.c does. Scalar arithmetic only; the coding kernels work on bit-planes (bitslice.ts).

export const GF_POLY = 0x11d

/** EXP[i] = 2^i for i in 0..509 (doubled so that EXP[LOG a + LOG b] needs no modulo). */
const EXP = new Uint8Array(510)
/** LOG[a] for a in 1..255; LOG[0] is unused. */
const LOG = new Uint8Array(256)

{
  let x = 1
  for (let i = 0; i < 255; i++) {
    EXP[i] = x
    EXP[i + 255] = x
    LOG[x] = i
    x <<= 1
    if (x & 0x100) x ^= GF_POLY
  }
}

export function gfMul (a: number, b: number): number {
  if (a === 0 || b === 0) return 0
  return EXP[LOG[a]! + LOG[b]!]!
}

export function gfDiv (a: number, b: number): number {
  if (b === 0) throw new RangeError('GF(2^8) division by zero')
  if (a === 0) return 0
  return EXP[LOG[a]! + 255 - LOG[b]!]!
}

export function gfInv (a: number): number { return gfDiv(1, a) }

export function gfPow (a: number, e: number): number {
  if (e === 0) return 1
  if (a === 0) return 0
  return EXP[(LOG[a]! * e) % 255]!
}

/**
 * The GF(2)-linear map "multiply by c" on one element's 8 bits, as 8 row masks: bit a of
 * rows[b] is set when input bit a contributes to output bit b. Column a is c·2^a. This is what
 * lets a bit-sliced chunk be multiplied plane by plane (§2.3).
 */
export function gfBitMatrix (c: number): number[] {
  const rows = [0, 0, 0, 0, 0, 0, 0, 0]
  for (let a = 0; a < 8; a++) {
    const col = gfMul(c, 1 << a)
    for (let b = 0; b < 8; b++) if ((col >> b) & 1) rows[b]! |= 1 << a
  }
  return rows
}
