// decode(any k of encode(x)) == x for random geometries GlusterFS allows and random data, and
// both kernels equal an element-by-element model of the code.
import t from 'tap'
import fc from 'fast-check'
import { createCodec, EC_CHUNK_BYTES, type EcEngine } from '../../../src/ec/index.js'
import { wasmSimdSupported } from '../../../src/ec/wasm-kernel.js'
import { slowEncode } from './reference.js'

const engines: EcEngine[] = wasmSimdSupported() ? ['wasm-simd', 'js'] : ['js']

/** k in 2..16, 1 ≤ r < k (ec.c:ec_parse_options), a random k-subset of the n bricks, 1-3 stripes. */
const caseArb = fc.integer({ min: 2, max: 16 }).chain(k => fc.integer({ min: 1, max: k - 1 }).chain(r => fc.record({
  k: fc.constant(k),
  r: fc.constant(r),
  stripes: fc.integer({ min: 1, max: 3 }),
  seed: fc.integer(),
  subset: fc.shuffledSubarray([...Array(k + r).keys()], { minLength: k, maxLength: k }),
})))

function randomData (len: number, seed: number): Buffer {
  const b = Buffer.alloc(len)
  let x = seed >>> 0 || 1
  for (let i = 0; i < len; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; b[i] = x & 255 }
  return b
}

for (const engine of engines) {
  t.test(`${engine}: decode(any k of encode(x)) == x`, async t => {
    fc.assert(fc.property(caseArb, ({ k, r, stripes, seed, subset }) => {
      const codec = createCodec(k, r, { engine })
      const data = randomData(stripes * codec.stripeBytes, seed)
      const frags = Array.from({ length: k + r }, () => Buffer.alloc(stripes * EC_CHUNK_BYTES))
      codec.encode(data, frags)
      const out = Buffer.alloc(data.length)
      codec.decode(subset.map(b => frags[b]!), subset, out)
      return out.equals(data)
    }), { numRuns: 40 })
  })

  t.test(`${engine}: encode equals the element-by-element model`, async t => {
    fc.assert(fc.property(caseArb, ({ k, r, seed }) => {
      const codec = createCodec(k, r, { engine })
      const data = randomData(codec.stripeBytes, seed)
      const frags = Array.from({ length: k + r }, () => Buffer.alloc(EC_CHUNK_BYTES))
      codec.encode(data, frags)
      const want = slowEncode(data, k, k + r)
      return frags.every((f, i) => f.equals(want[i]!))
    }), { numRuns: 15 })
  })

  t.test(`${engine}: many stripes cross the codec's block boundaries`, async t => {
    for (const [k, r] of [[2, 1], [4, 2], [8, 4], [16, 15]] as const) {
      const codec = createCodec(k, r, { engine })
      const stripes = 203 // more than one block for every geometry, and not a multiple of it
      const data = randomData(stripes * codec.stripeBytes, k * 100 + r)
      const frags = Array.from({ length: k + r }, () => Buffer.alloc(stripes * EC_CHUNK_BYTES + 7).fill(0xaa))
      codec.encode(data, frags)
      t.ok(frags.every(f => f.subarray(stripes * EC_CHUNK_BYTES).every(b => b === 0xaa)), `${k}+${r}: nothing written past the fragments`)
      const bricks = [...Array(k + r).keys()].slice(r) // the last k: every row needs the full matrix
      const out = Buffer.alloc(data.length)
      codec.decode(bricks.map(b => frags[b]!.subarray(0, stripes * EC_CHUNK_BYTES)), bricks, out)
      t.ok(out.equals(data), `${k}+${r}: round trip of ${stripes} stripes`)
    }
  })
}

t.test('the two kernels agree byte for byte', async t => {
  if (!wasmSimdSupported()) { t.pass('no WebAssembly SIMD here: one kernel only'); return }
  for (const [k, r] of [[3, 2], [8, 3], [12, 4]] as const) {
    const a = createCodec(k, r, { engine: 'wasm-simd' })
    const b = createCodec(k, r, { engine: 'js' })
    const data = randomData(5 * a.stripeBytes, 77 + k)
    const fa = Array.from({ length: k + r }, () => Buffer.alloc(5 * EC_CHUNK_BYTES))
    const fb = Array.from({ length: k + r }, () => Buffer.alloc(5 * EC_CHUNK_BYTES))
    a.encode(data, fa)
    b.encode(data, fb)
    t.ok(fa.every((f, i) => f.equals(fb[i]!)), `${k}+${r}`)
  }
})

t.test('bad arguments are typed errors', async t => {
  t.throws(() => createCodec(2, 2), { code: 'EINVAL' })
  const c = createCodec(4, 2)
  const frags = Array.from({ length: 6 }, () => Buffer.alloc(512))
  t.throws(() => c.encode(Buffer.alloc(100), frags), { code: 'EINVAL' }, 'not whole stripes')
  t.throws(() => c.encode(Buffer.alloc(2048), frags.slice(1)), { code: 'EINVAL' }, 'too few fragment buffers')
  t.throws(() => c.encode(Buffer.alloc(4096), frags), { code: 'EINVAL' }, 'fragment buffers too small')
  const four = frags.slice(0, 4)
  t.throws(() => c.decode(four, [0, 1, 2], Buffer.alloc(2048)), { code: 'EINVAL' }, 'k brick numbers needed')
  t.throws(() => c.decode(four, [0, 1, 1, 2], Buffer.alloc(2048)), { code: 'EINVAL' }, 'duplicate brick')
  t.throws(() => c.decode(four, [0, 1, 2, 6], Buffer.alloc(2048)), { code: 'EINVAL' }, 'brick out of range')
  t.throws(() => c.decode([...four.slice(0, 3), Buffer.alloc(1024)], [0, 1, 2, 3], Buffer.alloc(4096)), { code: 'EIO' }, 'unequal fragments')
  t.throws(() => c.decode(four.map(f => f.subarray(0, 100)), [0, 1, 2, 3], Buffer.alloc(4096)), { code: 'EIO' }, 'not whole chunks')
  t.throws(() => c.decode(four, [0, 1, 2, 3], Buffer.alloc(2047)), { code: 'EINVAL' }, 'output too small')
  c.decode(four.map(f => f.subarray(0, 0)), [3, 2, 1, 0], Buffer.alloc(0))
  t.pass('zero-length fragments decode to nothing')
})
