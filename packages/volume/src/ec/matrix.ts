// The disperse code's matrices (gluster-disperse.md §2.2, §2.5): a non-systematic Vandermonde
// matrix, brick i evaluating at v = i + 1 with row [v^(k-1), …, v, 1]
// (ec-method.c:ec_method_setup, ec_method_matrix_normal), and the inverse of any k of its rows.
import { GlusterError } from '@gluster-ts/rpc'
import { gfDiv, gfMul, gfPow } from './gf256.js'

/** ec-method.h EC_METHOD_MAX_FRAGMENTS: the largest k a disperse volume may have. */
export const EC_MAX_FRAGMENTS = 16
/** Bytes of one fragment chunk per stripe (EC_METHOD_CHUNK_SIZE: 8 bit-planes of 64 bytes). */
export const EC_CHUNK_BYTES = 512

/**
 * Reject what ec.c:ec_parse_options rejects: k = n − r, 1 ≤ r < k, k ≤ 16 (so n ≤ 31).
 * Every public entry point that takes a geometry calls this.
 */
export function checkGeometry (k: number, r: number): void {
  if (!Number.isInteger(k) || !Number.isInteger(r) || r < 1 || r >= k || k > EC_MAX_FRAGMENTS) {
    throw new GlusterError('EINVAL', `invalid disperse geometry ${k}+${r}: GlusterFS needs 1 <= redundancy < data bricks <= ${EC_MAX_FRAGMENTS}`)
  }
}

/** Row `brick` (0-based) of the n×k encoding matrix. */
export function encodingRow (brick: number, k: number): number[] {
  const v = brick + 1
  const row: number[] = []
  for (let j = 0; j < k; j++) row.push(gfPow(v, k - 1 - j))
  return row
}

/**
 * Inverse of a square matrix over GF(2^8) by Gauss-Jordan elimination. GlusterFS uses a
 * closed-form Vandermonde inverse (ec_method_matrix_inverse); the inverse is unique, so the
 * result is the same matrix. Throws EINVAL on a singular matrix (never for distinct bricks).
 */
export function invertMatrix (m: readonly (readonly number[])[]): number[][] {
  const size = m.length
  const a = m.map(row => [...row])
  const inv: number[][] = m.map((_, i) => m.map((__, j) => (i === j ? 1 : 0)))
  for (let col = 0; col < size; col++) {
    let pivot = col
    while (pivot < size && a[pivot]![col] === 0) pivot++
    if (pivot === size) throw new GlusterError('EINVAL', 'disperse decoding matrix is singular')
    if (pivot !== col) {
      [a[pivot], a[col]] = [a[col]!, a[pivot]!];
      [inv[pivot], inv[col]] = [inv[col]!, inv[pivot]!]
    }
    const rowA = a[col]!
    const rowI = inv[col]!
    const scale = gfDiv(1, rowA[col]!)
    for (let j = 0; j < size; j++) { rowA[j] = gfMul(rowA[j]!, scale); rowI[j] = gfMul(rowI[j]!, scale) }
    for (let i = 0; i < size; i++) {
      const f = a[i]![col]!
      if (i === col || f === 0) continue
      const ra = a[i]!
      const ri = inv[i]!
      for (let j = 0; j < size; j++) { ra[j]! ^= gfMul(f, rowA[j]!); ri[j]! ^= gfMul(f, rowI[j]!) }
    }
  }
  return inv
}

/**
 * The k×k matrix that turns the fragments of `bricks` (in that order) back into the k data
 * chunks of a stripe: D_j = ⊕_a M[j][a] · F_{bricks[a]} (§2.5).
 */
export function decodingMatrix (bricks: readonly number[], k: number): number[][] {
  return invertMatrix(bricks.map(b => encodingRow(b, k)))
}
