// Stripe arithmetic and the trusted.ec.* values, against the 2+1 capture (fragment file sizes,
// the getfattr dumps, the brick READ/WRITE offsets of gluster-disperse.md §5.6, §5.7, §6).
import t from 'tap'
import {
  EC_XATTR, addArray64, assembleWrite, configMatches, createCodec, decodeEcConfig, decodeEcPair, decodeEcSize, ecConfigFor,
  encodeEcConfig, encodeEcPair, encodeEcSize, fragmentFileSize, isHealing, planRead, planTruncate, planWrite, postopXattrs,
  preopXattrs, writtenBytes,
} from '../../../src/ec/index.js'
import { capturedFiles, capturedFragment, capturedXattrs, fragmentHashes, pat } from './capture.js'

const files = capturedFiles()

t.test('fragment file sizes of every captured file', async t => {
  const hashes = fragmentHashes()
  for (const f of files) {
    const real = capturedFragment(0, f.name)
    const want = real?.length ?? (f.size === 1049576 ? 524800 : -1)
    t.equal(fragmentFileSize(f.size, 2), want, `${f.name}: ${want}`)
    t.ok(hashes.has(`brick1-${f.name}.bin`))
  }
})

t.test('trusted.ec.* of every captured file on every brick', async t => {
  const dumps = [0, 1, 2].map(capturedXattrs)
  const versions: Record<string, bigint> = { f0: 0n, f1025: 2n, f1049576: 20n }
  for (const f of files) {
    for (const [brick, dump] of dumps.entries()) {
      const x = dump.get(f.name)!
      t.ok(x !== undefined, `${f.name} on brick ${brick + 1}`)
      const config = decodeEcConfig(x.get(EC_XATTR.config)!)!
      t.same(config, ecConfigFor(3, 1))
      t.ok(configMatches(config, 3, 1))
      t.notOk(configMatches(config, 4, 2))
      t.equal(encodeEcConfig(config).toString('hex'), '0000080301000200')
      t.equal(decodeEcSize(x.get(EC_XATTR.size)!), BigInt(f.size), 'size = logical size')
      const v = decodeEcPair(x.get(EC_XATTR.version)!)
      const want = versions[f.name] ?? 1n
      t.same(v, { data: want, meta: want })
      t.ok(encodeEcPair(v).equals(x.get(EC_XATTR.version)!), 'version re-encodes to the stored bytes')
      if (f.name === 'f0') t.equal(x.get(EC_XATTR.dirty), undefined, 'f0 was never written: no dirty xattr')
      else t.same(decodeEcPair(x.get(EC_XATTR.dirty)!, EC_XATTR.dirty), { data: 0n, meta: 0n })
      t.notOk(isHealing(v))
    }
  }
})

t.test('xattr values: edge cases as ec-helpers.c reads them', async t => {
  t.same(decodeEcPair(Buffer.from('0000000000000007', 'hex')), { data: 7n, meta: 7n }, 'a 3.6-style 8-byte version counts for both halves')
  t.throws(() => decodeEcPair(Buffer.alloc(24)), { code: 'EINVAL' })
  t.throws(() => decodeEcPair(Buffer.alloc(0)), { code: 'EINVAL' })
  t.throws(() => decodeEcSize(Buffer.alloc(16)), { code: 'EINVAL' })
  t.equal(decodeEcConfig(Buffer.alloc(8)), null, 'all-zero config = absent')
  t.throws(() => decodeEcConfig(Buffer.from('0100080301000200', 'hex')), { code: 'EINVAL' }, 'config version 1 unsupported')
  t.throws(() => decodeEcConfig(Buffer.alloc(4)), { code: 'EINVAL' })
  t.throws(() => encodeEcConfig({ ...ecConfigFor(3, 1), bricks: 256 }), { code: 'EINVAL' })
  t.equal(encodeEcConfig(ecConfigFor(6, 2)).toString('hex'), '0000080602000200')
  t.equal(encodeEcPair({ data: -1n, meta: 0n }).toString('hex'), 'ffffffffffffffff0000000000000000', '−1 as sent to clear dirty')
  t.ok(isHealing({ data: (1n << 62n) | 5n, meta: 5n }))
  // ADD_ARRAY64 as the brick applies it: §5.6 version 9 + 11 = 20 (0x14); dirty 1 − 1 = 0; f1025 size 1025 + 3000
  t.same(decodeEcPair(addArray64(encodeEcPair({ data: 9n, meta: 9n }), encodeEcPair({ data: 11n, meta: 11n }))), { data: 20n, meta: 20n })
  t.same(decodeEcPair(addArray64(encodeEcPair({ data: 1n, meta: 1n }), encodeEcPair({ data: -1n, meta: -1n }))), { data: 0n, meta: 0n })
  t.equal(decodeEcSize(addArray64(encodeEcSize(1025n), encodeEcSize(3000n))), 0xfb9n)
  t.equal(decodeEcSize(addArray64(undefined, encodeEcSize(5n))), 5n, 'missing = 0')
  t.equal(decodeEcSize(addArray64(encodeEcSize(100n), encodeEcSize(-40n))), 60n, 'negative size delta on shrink')
  t.throws(() => addArray64(undefined, Buffer.alloc(3)), { code: 'EINVAL' })
  // the pre-op of §5.7 step 4 and the post-ops of steps 7 and 9
  const pre = preopXattrs({ regularFile: true, dirty: { data: true, meta: true } })
  t.same([...pre.keys()].sort(), [EC_XATTR.config, EC_XATTR.dirty, EC_XATTR.size, EC_XATTR.version].sort())
  t.equal(pre.get(EC_XATTR.dirty)!.toString('hex'), '00000000000000010000000000000001')
  t.ok(pre.get(EC_XATTR.version)!.equals(Buffer.alloc(16)) && pre.get(EC_XATTR.config)!.equals(Buffer.alloc(8)))
  t.same([...preopXattrs({ regularFile: false }).keys()], [EC_XATTR.version], 'a directory probes its version only')
  const post = postopXattrs({ version: { data: 1n, meta: 1n }, sizeDelta: 3000n })
  t.equal(post.get(EC_XATTR.size)!.toString('hex'), '0000000000000bb8')
  t.equal(post.has(EC_XATTR.dirty), false)
  t.same([...postopXattrs({ version: { data: 0n, meta: 0n }, sizeDelta: 0n, dirty: { data: -1n, meta: -1n } }).keys()], [EC_XATTR.dirty])
  t.equal(postopXattrs({}).size, 0, 'nothing to send')
})

t.test('reads: brick offsets and sizes of the captured READs (§6)', async t => {
  // the FUSE client read 4096 bytes at 0 of f1 / f4096 (brick READ 2048) and ~69632 of f65539 (34816)
  t.same(planRead(0, 4096, 1, 2), { fragOffset: 0, fragSize: 2048, head: 0, length: 1 })
  t.same(planRead(0, 4096, 4096, 2), { fragOffset: 0, fragSize: 2048, head: 0, length: 4096 })
  t.same(planRead(0, 69632, 65539, 2), { fragOffset: 0, fragSize: 34816, head: 0, length: 65539 })
  t.same(planRead(1500, 100, 65539, 2), { fragOffset: 512, fragSize: 512, head: 476, length: 100 })
  t.same(planRead(5000, 100, 4096, 2), { fragOffset: 2048, fragSize: 512, head: 904, length: 0 }, 'past EOF: nothing returned')
  t.same(planRead(3000, 2000, 8192, 4), { fragOffset: 512, fragSize: 1024, head: 952, length: 2000 }, 'crosses a 4+2 stripe boundary')
  t.throws(() => planRead(-1, 1, 1, 2), { code: 'EINVAL' })
  t.throws(() => planRead(0.5, 1, 1, 2), { code: 'EINVAL' })
})

t.test('writes: the captured overwrite and append, and what they encode', async t => {
  const codec = createCodec(2, 1)
  // §5.6: dd of 100 bytes at 700 into f1049576 → READ stripe 0 (frag 0, 512), WRITE frag 0 size 512
  const before = pat(1049576, 0)
  const dd = planWrite(700, 100, 1049576, 2)
  t.same({ ...dd, readTail: dd.readTail }, {
    stripeOffset: 0, head: 700, tail: 224, stripes: 1, bufferBytes: 1024, fragOffset: 0, fragSize: 512,
    readHead: { offset: 0, fragOffset: 0 }, readTail: null, newSize: 1049576,
  })
  const stripe = assembleWrite(dd, pat(100, 99), before.subarray(0, 1024))
  const frags = [0, 1, 2].map(() => Buffer.alloc(512))
  codec.encode(stripe, frags)
  const real = [0, 1, 2].map(i => capturedFragment(i, 'f1049576'))
  if (real[0] !== undefined) t.ok(frags.every((f, i) => f.equals(real[i]!.subarray(0, 512))), 'stripe 0 re-encoded = the bricks\' first 512 bytes')
  t.ok(stripe.subarray(700, 800).equals(pat(100, 99)) && stripe.subarray(0, 700).equals(before.subarray(0, 700)) && stripe.subarray(800).equals(before.subarray(800, 1024)))
  t.equal(writtenBytes(dd, 512, 2), 100)

  // §5.7: append 3000 bytes to f1025 → READ frag 512 (stripe 1), WRITE frag 512 size 1536, tail 71
  const app = planWrite(1025, 3000, 1025, 2)
  t.same(app, {
    stripeOffset: 1024, head: 1, tail: 71, stripes: 3, bufferBytes: 3072, fragOffset: 512, fragSize: 1536,
    readHead: { offset: 1024, fragOffset: 512 }, readTail: null, newSize: 4025,
  })
  const f1025 = files.find(f => f.name === 'f1025')!
  const buf = assembleWrite(app, pat(3000, 5), pat(1025, 0).subarray(1024))
  const out = [0, 1, 2].map(() => Buffer.alloc(1536))
  codec.encode(buf, out)
  for (let i = 0; i < 3; i++) t.ok(out[i]!.equals(capturedFragment(i, 'f1025')!.subarray(512)), `brick ${i + 1}: the appended stripes as stored`)
  t.ok(buf.subarray(3001).every(b => b === 0) && f1025.size === 4025, 'bytes past the new EOF are zero')
})

t.test('write plans around stripe boundaries (4+2, S = 2048)', async t => {
  const p = planWrite(2048, 4096, 10000, 4)
  t.same([p.head, p.tail, p.stripes, p.readHead, p.readTail, p.fragOffset, p.fragSize], [0, 0, 2, null, null, 512, 1024], 'whole stripes: no reads')
  const q = planWrite(100, 5000, 10000, 4)
  t.same([q.head, q.tail, q.stripes, q.readHead?.offset, q.readTail?.offset], [100, 1044, 3, 0, 4096], 'head and tail reads')
  const r = planWrite(100, 50, 120, 4)
  t.same([r.readHead?.offset, r.readTail, r.newSize], [0, null, 150], 'one stripe: the head read serves both ends')
  const headStripe = Buffer.alloc(120, 7) // the file's 120 bytes
  const buf = assembleWrite(r, Buffer.alloc(50, 9), headStripe)
  t.ok(buf.subarray(0, 100).every(b => b === 7) && buf.subarray(100, 150).every(b => b === 9) && buf.subarray(150).every(b => b === 0))
  const s = planWrite(3000, 10, 2048, 4)
  t.same([s.readHead, s.readTail], [null, null], 'writing past EOF: zeros, no reads')
  const u = planWrite(0, 10, 5000, 4)
  t.same([u.readHead, u.readTail?.offset], [null, 0], 'head 0 and a tail inside the file: read the tail stripe')
  const tail = Buffer.alloc(2048, 3)
  const ub = assembleWrite(u, Buffer.alloc(10, 1), null, tail)
  t.ok(ub.subarray(0, 10).every(b => b === 1) && ub.subarray(10).every(b => b === 3))
  t.throws(() => assembleWrite(u, Buffer.alloc(11)), { code: 'EINVAL' })
  t.same(planWrite(0, 0, 0, 4), { stripeOffset: 0, head: 0, tail: 0, stripes: 0, bufferBytes: 0, fragOffset: 0, fragSize: 0, readHead: null, readTail: null, newSize: 0 })
})

t.test('truncate: bricks cut at the stripe above, a shrink zero-fills the rest of its stripe', async t => {
  t.same(planTruncate(1025, 4025, 2), { fragSize: 1024, zeroFill: { offset: 1025, length: 1023 } })
  t.same(planTruncate(2048, 4025, 2), { fragSize: 1024, zeroFill: null }, 'on a stripe boundary')
  t.same(planTruncate(5000, 4025, 2), { fragSize: 2560, zeroFill: null }, 'growing: a hole')
  t.same(planTruncate(0, 4025, 2), { fragSize: 0, zeroFill: null })
})
