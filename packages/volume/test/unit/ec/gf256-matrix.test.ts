// The field, the matrices and the geometry limits (gluster-disperse.md §1, §2.1, §2.2, §2.5).
import t from 'tap'
import {
  checkGeometry, decodingMatrix, encodingRow, gfBitMatrix, gfDiv, gfInv, gfMul, gfPow, invertMatrix,
} from '../../../src/ec/index.js'
import { slowMul, slowPow } from './reference.js'

t.test('GF(2^8) mod 0x11D: the sheet\'s checks and a bit-by-bit multiply for all pairs', async t => {
  t.equal(gfMul(2, 0x80), 0x1d)
  t.equal(gfMul(3, 3), 5)
  t.equal(gfInv(2), 0x8e)
  t.equal(gfInv(3), 0xf4)
  let bad = 0
  for (let a = 0; a < 256; a++) {
    for (let b = 0; b < 256; b++) {
      if (gfMul(a, b) !== slowMul(a, b)) bad++
      if (b !== 0 && gfMul(gfDiv(a, b), b) !== a) bad++
    }
  }
  t.equal(bad, 0, 'mul and div agree with the carry-less product for all 65536 pairs')
  t.equal(gfPow(7, 0), 1)
  t.equal(gfPow(0, 3), 0)
  t.equal(gfPow(3, 5), slowPow(3, 5))
  t.throws(() => gfDiv(1, 0), RangeError)
})

t.test('the bit matrix of c multiplies every element by c', async t => {
  let bad = 0
  for (let c = 0; c < 256; c++) {
    const rows = gfBitMatrix(c)
    for (let x = 0; x < 256; x++) {
      let y = 0
      for (let b = 0; b < 8; b++) {
        let bit = 0
        for (let a = 0; a < 8; a++) bit ^= ((rows[b]! >> a) & 1) & ((x >> a) & 1)
        y |= bit << b
      }
      if (y !== gfMul(c, x)) bad++
    }
  }
  t.equal(bad, 0)
  // ec-code-c.c gf8_muladd_02: b0' = b7, b2' = b1 ^ b7, b3' = b2 ^ b7, b4' = b3 ^ b7
  t.same(gfBitMatrix(2), [0x80, 0x01, 0x82, 0x84, 0x88, 0x10, 0x20, 0x40])
})

t.test('encoding rows are [v^(k-1) … v 1] with v = brick + 1', async t => {
  t.same([0, 1, 2].map(i => encodingRow(i, 2)), [[1, 1], [2, 1], [3, 1]])
  t.same(encodingRow(3, 4), [gfMul(gfMul(4, 4), 4), gfMul(4, 4), 4, 1])
  for (let k = 2; k <= 16; k++) t.ok(encodingRow(0, k).every(c => c === 1), `brick 1 of a ${k}-data volume stores the XOR`)
})

t.test('2+1 decoding matrices as verified against the capture (§2.5)', async t => {
  t.same(decodingMatrix([0, 1], 2), [[0xf4, 0xf4], [0xf5, 0xf4]])
  t.same(decodingMatrix([0, 2], 2), [[0x8e, 0x8e], [0x8f, 0x8e]])
  t.same(decodingMatrix([1, 2], 2), [[1, 1], [3, 2]])
})

t.test('any k of the n rows invert (checked up to 16+15 on sampled subsets)', async t => {
  let checked = 0
  for (const [k, r] of [[2, 1], [3, 2], [4, 2], [8, 3], [8, 4], [10, 6], [16, 4], [16, 15]] as const) {
    const n = k + r
    for (let trial = 0; trial < 12; trial++) {
      const bricks = [...Array(n).keys()].sort(() => Math.random() - 0.5).slice(0, k)
      const a = bricks.map(b => encodingRow(b, k))
      const inv = decodingMatrix(bricks, k)
      for (let i = 0; i < k; i++) {
        for (let j = 0; j < k; j++) {
          let s = 0
          for (let x = 0; x < k; x++) s ^= gfMul(inv[i]![x]!, a[x]![j]!)
          if (s !== (i === j ? 1 : 0)) t.fail(`${k}+${r} bricks ${bricks}: (A⁻¹A)[${i}][${j}] = ${s}`)
        }
      }
      checked++
    }
  }
  t.equal(checked, 96)
  t.throws(() => invertMatrix([[1, 1], [1, 1]]), { code: 'EINVAL' })
})

t.test('geometry: what ec.c:ec_parse_options accepts', async t => {
  const ok: Array<[number, number]> = [[2, 1], [4, 2], [8, 3], [8, 4], [16, 15], [16, 1], [3, 2]]
  for (const [k, r] of ok) t.doesNotThrow(() => checkGeometry(k, r), `${k}+${r}`)
  const bad: Array<[number, number]> = [[1, 1], [2, 2], [4, 4], [3, 0], [17, 1], [2, -1], [2.5, 1], [Number.NaN, 1], [4, 1.5]]
  for (const [k, r] of bad) t.throws(() => checkGeometry(k, r), { code: 'EINVAL' }, `${k}+${r} rejected`)
})
