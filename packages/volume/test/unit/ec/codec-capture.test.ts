// Acceptance (issue 16): every fragment a real GlusterFS 10.3 `disperse 3 redundancy 1` volume
// stored comes out of our encoder byte for byte, and every input decodes from every pair of
// captured fragments. Both kernels.
import t from 'tap'
import { createCodec, EC_CHUNK_BYTES, type EcEngine } from '../../../src/ec/index.js'
import { wasmSimdSupported } from '../../../src/ec/wasm-kernel.js'
import { capturedFiles, capturedFragment, fragmentHashes, haveShared, inputHashes, sha256 } from './capture.js'

const engines: EcEngine[] = wasmSimdSupported() ? ['wasm-simd', 'js'] : ['js']
const files = capturedFiles()
const hashes = fragmentHashes()

t.test('the inputs are the files the capture wrote (sha256s.txt)', async t => {
  const want = inputHashes()
  for (const f of files) {
    const key = f.name === 'f1049576' ? 'exp-1049576.bin' : f.name === 'f1025' ? 'exp-1025.bin' : `src-${f.size}.bin`
    t.equal(sha256(f.content), want.get(key), `${f.name} (${key})`)
  }
})

for (const engine of engines) {
  t.test(`${engine}: encode reproduces every captured fragment`, async t => {
    const codec = createCodec(2, 1, { engine })
    t.equal(codec.engine, engine)
    for (const f of files) {
      const padded = Buffer.alloc(Math.ceil(f.size / codec.stripeBytes) * codec.stripeBytes)
      f.content.copy(padded)
      const frags = [0, 1, 2].map(() => Buffer.alloc(padded.length / 2))
      codec.encode(padded, frags)
      for (let i = 0; i < 3; i++) {
        const name = `brick${i + 1}-${f.name}.bin`
        t.equal(frags[i]!.length, Math.ceil(f.size / 1024) * 512, `${name}: fragment file size ⌈size/S⌉·512`)
        t.equal(sha256(frags[i]!), hashes.get(name), `${name}: sha256 as captured`)
        const real = capturedFragment(i, f.name)
        if (real !== undefined) t.ok(frags[i]!.equals(real), `${name}: bytes as captured`)
      }
    }
    if (!haveShared) t.comment('../shared/captures absent: f1049576 compared by sha256 only')
  })

  t.test(`${engine}: every file decodes from every pair of captured fragments`, async t => {
    const codec = createCodec(2, 1, { engine })
    for (const f of files) {
      const frags = [0, 1, 2].map(i => capturedFragment(i, f.name))
      if (frags.some(x => x === undefined)) {
        t.comment(`${f.name}: real fragments not available here; decoding our (hash-checked) re-encoding`)
        const padded = Buffer.alloc(Math.ceil(f.size / codec.stripeBytes) * codec.stripeBytes)
        f.content.copy(padded)
        const mine = [0, 1, 2].map(() => Buffer.alloc(padded.length / 2))
        codec.encode(padded, mine)
        mine.forEach((m, i) => { frags[i] = m })
      }
      for (const pair of [[0, 1], [0, 2], [1, 2], [2, 0], [1, 0]]) {
        const len = frags[0]!.length
        const out = Buffer.alloc(len * 2)
        codec.decode(pair.map(i => frags[i]!), pair, out)
        t.ok(out.subarray(0, f.size).equals(f.content), `${f.name} from bricks ${pair.map(i => i + 1).join('+')}`)
        t.ok(out.subarray(f.size).every(b => b === 0), `${f.name}: bytes past EOF in the last stripe are zero`)
      }
    }
  })
}

t.test('worked example of gluster-disperse.md §2.6 (f1024, first bytes)', async t => {
  const f1024 = files.find(f => f.name === 'f1024')!
  const frags = [0, 1, 2].map(() => Buffer.alloc(512))
  createCodec(2, 1).encode(f1024.content, frags)
  t.equal(frags[0]!.subarray(0, 8).toString('hex'), '0e327236f632723e')
  t.equal(frags[1]!.subarray(0, 8).toString('hex'), '494bc9cf494bc9c7')
  t.equal(frags[2]!.subarray(0, 8).toString('hex'), '4954f79235d0731e')
  // brick 1's row is all ones: the byte-wise XOR of the k chunks
  const xor = Buffer.alloc(EC_CHUNK_BYTES)
  for (let i = 0; i < EC_CHUNK_BYTES; i++) xor[i] = f1024.content[i]! ^ f1024.content[512 + i]!
  t.ok(frags[0]!.equals(xor))
})
