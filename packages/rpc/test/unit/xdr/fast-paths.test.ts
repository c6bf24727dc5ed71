// The fast paths of the XDR codec (bench/results/xdr.md): DataView stores and loads, the ASCII
// string loop and its UTF-8 fallback, small-copy loops, and the gfx_dict key caches (encode:
// cached `opaque key<>` bytes; decode: a hashed table of decoded keys). Each test pins the
// bytes against an independent reference (Buffer's own writers) so a fast path can't drift.
import t from 'tap'
import { GfxDict, OpaqueAuthCodec, XdrReader, XdrWriter, gfxDict, gfxInt, gfxStr, gfxUint, xdr } from '@gluster-ts/rpc'

const U64_MAX = 2n ** 64n - 1n
const I64_MIN = -(2n ** 63n)
const I64_MAX = 2n ** 63n - 1n

/** The reference encoding of an XDR string: Buffer.byteLength + Buffer#write, zero padding. */
function refString (s: string): Buffer {
  const n = Buffer.byteLength(s, 'utf8')
  const b = Buffer.alloc(4 + n + ((4 - (n & 3)) & 3))
  b.writeUInt32BE(n, 0)
  b.write(s, 4, 'utf8')
  return b
}

/** A gfx_dict encoded by hand from its parts (the layout of dict.ts, no caches involved). */
function refDict (pairs: Array<[string, string]>): Buffer {
  const body = Buffer.concat(pairs.map(([k, v]) => {
    const type = Buffer.alloc(4)
    type.writeInt32BE(5, 0) // STR
    return Buffer.concat([refString(k + '\0'), type, refString(v + '\0')])
  }))
  const head = Buffer.alloc(12)
  head.writeUInt32BE(body.length, 0)
  head.writeInt32BE(pairs.length, 4)
  head.writeUInt32BE(pairs.length, 8)
  return Buffer.concat([head, body])
}

t.test('64-bit edge values: writer bytes and reader values', async t => {
  const w = new XdrWriter()
  w.u64(U64_MAX).u64(0n).i64(I64_MIN).i64(I64_MAX).i64(-1n).u64(2n ** 63n)
  const buf = w.finish()
  t.equal(buf.toString('hex'),
    'ffffffffffffffff' + '0000000000000000' + '8000000000000000' + '7fffffffffffffff' +
    'ffffffffffffffff' + '8000000000000000')
  const r = new XdrReader(buf)
  t.equal(r.u64(), U64_MAX)
  t.equal(r.u64(), 0n)
  t.equal(r.i64(), I64_MIN)
  t.equal(r.i64(), I64_MAX)
  t.equal(r.i64(), -1n)
  t.equal(r.u64(), 2n ** 63n)
  t.equal(r.remaining, 0)
  // the same bytes read with the other signedness
  const r2 = new XdrReader(buf)
  t.equal(r2.i64(), -1n, '2^64-1 as i64')
  r2.skip(8)
  t.equal(r2.u64(), 2n ** 63n, '-2^63 as u64')
})

t.test('64-bit stores wrap modulo 2^64 as BigInt.asUintN/asIntN did; non-bigints throw TypeError', async t => {
  const w = new XdrWriter()
  w.u64(-1n).u64(2n ** 64n).i64(2n ** 63n).i64(-(2n ** 63n) - 1n)
  t.equal(w.finish().toString('hex'),
    'ffffffffffffffff' + '0000000000000000' + '8000000000000000' + '7fffffffffffffff')
  t.throws(() => new XdrWriter().u64(1 as unknown as bigint), TypeError)
  t.throws(() => new XdrWriter().i64(1.5 as unknown as bigint), TypeError)
  t.throws(() => new XdrWriter().u64(undefined as unknown as bigint), TypeError)
})

t.test('32-bit edge values', async t => {
  const w = new XdrWriter()
  w.u32(0xffffffff).u32(0x80000000).i32(-1).i32(-(2 ** 31)).i32(2 ** 31 - 1).u32(0)
  const buf = w.finish()
  t.equal(buf.toString('hex'), 'ffffffff' + '80000000' + 'ffffffff' + '80000000' + '7fffffff' + '00000000')
  const r = new XdrReader(buf)
  t.equal(r.u32(), 0xffffffff)
  t.equal(r.u32(), 0x80000000)
  t.equal(r.i32(), -1)
  t.equal(r.i32(), -(2 ** 31))
  t.equal(r.i32(), 2 ** 31 - 1)
  t.equal(r.u32(), 0)
})

t.test('reader on a pooled Buffer (non-zero byteOffset in a shared ArrayBuffer)', async t => {
  const bytes = Buffer.from('00'.repeat(5) + 'ffffffffffffffff' + '8000000000000000' + 'deadbeef', 'hex')
  const pooled = Buffer.from(bytes) // small Buffer.from copies land in the shared pool
  const slice = pooled.subarray(5)
  t.not(slice.byteOffset, 0)
  const r = new XdrReader(slice)
  t.equal(r.u64(), U64_MAX)
  t.equal(r.i64(), I64_MIN)
  t.equal(r.u32(), 0xdeadbeef)
  // a reader with a start and end inside buf
  const r2 = new XdrReader(slice, 8, 16)
  t.equal(r2.i64(), I64_MIN)
  t.throws(() => r2.u32(), { code: 'EGLUSTER_PROTOCOL' })
})

t.test('strings: ASCII up to 64 units, longer, and non-ASCII take the same bytes as Buffer#write', async t => {
  const cases = [
    '', 'a', 'ab', 'abc', 'abcd', 'x'.repeat(63), 'x'.repeat(64), 'x'.repeat(65), 'y'.repeat(200),
    'trusted.glusterfs.dht', '\x7f\x00\x01', 'café', 'é', 'a'.repeat(63) + 'é', 'é' + 'a'.repeat(70),
    'ключ', '日本語のキー', '🙂', 'a🙂b', 'x'.repeat(64) + '日本', '\ud800', // a lone surrogate becomes U+FFFD
  ]
  for (const s of cases) {
    const w = new XdrWriter()
    w.string(s)
    const buf = w.finish()
    t.equal(buf.toString('hex'), refString(s).toString('hex'), `string ${JSON.stringify(s)}`)
    if (!s.includes('\ud800')) t.equal(new XdrReader(buf).string(), s)
  }
})

t.test('a non-ASCII string that falls back after the ASCII loop started leaves earlier bytes intact', async t => {
  const w = new XdrWriter(24)
  w.string('abcd')
  const a = w.finish()
  w.string('abcdefgh' + 'é') // the loop writes 8 bytes, bails out, then the slab grows
  w.string('z'.repeat(30))
  const b = w.finish()
  t.equal(a.toString('hex'), refString('abcd').toString('hex'))
  t.equal(b.toString('hex'), Buffer.concat([refString('abcdefghé'), refString('z'.repeat(30))]).toString('hex'))
})

t.test('fixed(): short and long inputs, zero-fill when n > length, truncation when n < length', async t => {
  const src = Buffer.from(Array.from({ length: 40 }, (_, i) => i + 1))
  for (const len of [0, 1, 3, 4, 5, 31, 32, 33, 40]) {
    const b = src.subarray(0, len)
    const w = new XdrWriter(8) // small: every call grows the slab
    w.u32(0xaaaaaaaa).fixed(b).u32(0xbbbbbbbb)
    const out = w.finish()
    const pad = (4 - (len & 3)) & 3
    t.equal(out.toString('hex'), 'aaaaaaaa' + b.toString('hex') + '00'.repeat(pad) + 'bbbbbbbb', `fixed(${len} bytes)`)
  }
  t.equal(new XdrWriter().fixed(Buffer.from([1, 2]), 6).finish().toString('hex'), '0102000000000000')
  t.equal(new XdrWriter().fixed(Buffer.from([1, 2, 3, 4, 5]), 3).finish().toString('hex'), '01020300')
  t.equal(new XdrWriter().fixed(Buffer.alloc(0), 100).finish().toString('hex'), '00'.repeat(100))
  t.equal(new XdrWriter().opaque(src).finish().toString('hex'), '00000028' + src.toString('hex'))
})

t.test('writer: a slab that grows in the middle of a message keeps numbers, reserved words and handed-out bytes right', async t => {
  const w = new XdrWriter(16)
  w.u64(1n)
  const first = w.finish()
  const at = w.reserveU32()
  for (let i = 0; i < 40; i++) w.u64(BigInt(i) << 32n).u32(i).i64(-BigInt(i)).f64(i / 2)
  w.setU32(at, 0xcafebabe)
  const msg = w.finish()
  t.equal(first.toString('hex'), '0000000000000001', 'the first message is untouched')
  const r = new XdrReader(msg)
  t.equal(r.u32(), 0xcafebabe)
  for (let i = 0; i < 40; i++) {
    t.equal(r.u64(), BigInt(i) << 32n)
    t.equal(r.u32(), i)
    t.equal(r.i64(), -BigInt(i))
    t.equal(r.f64(), i / 2)
  }
  t.equal(r.remaining, 0)
})

t.test('gfx_dict: non-ASCII keys and values, and keys past the cache bounds', async t => {
  const pairs: Array<[string, string]> = [
    ['trusted.glusterfs.dht', 'plain'],
    ['user.café', 'crème brûlée'],
    ['user.ключ', 'значение'],
    ['user.日本語', '値'.repeat(40)],
    ['user.emoji.🙂', '🙂🙃'],
    ['k'.repeat(200), 'a key longer than the 128-byte cache limit'],
    ['é'.repeat(70), 'a key of 70 units but 140 UTF-8 bytes'],
    ['x'.repeat(127), 'exactly 128 bytes with its NUL'],
    ['v', 'v'.repeat(100)],
  ]
  const ref = refDict(pairs)
  const d = gfxDict(Object.fromEntries(pairs))
  for (let round = 0; round < 3; round++) { // round 0 fills the caches, rounds 1 and 2 hit them
    const enc = xdr.encode(GfxDict, d)
    t.equal(enc.toString('hex'), ref.toString('hex'), `encode, round ${round}`)
    const dec = xdr.decode(GfxDict, enc)
    t.strictSame([...dec!.entries()], pairs.map(([k, v]) => [k, gfxStr(v)]), `decode, round ${round}`)
  }
})

t.test('gfx_dict decode: keys that share a hash slot (same length and sampled bytes) stay distinct', async t => {
  // The slot hash samples the length (NUL excluded), first, middle, middle+1, second-to-last
  // and last bytes; for 11-byte keys that is indexes 0, 5, 6, 9 and 10. These differ only at
  // index 1, so they always land in the same slot, and only the full byte compare tells them apart.
  const a = 'aXcdefghijk'
  const b = 'aYcdefghijk'
  const both = xdr.encode(GfxDict, new Map([[a, gfxInt(1)], [b, gfxUint(2)]]))
  for (let round = 0; round < 3; round++) {
    const dec = xdr.decode(GfxDict, both)!
    t.strictSame([...dec.keys()], [a, b], `both keys, in order, round ${round}`)
    t.strictSame(dec.get(a), gfxInt(1))
    t.strictSame(dec.get(b), gfxUint(2))
  }
  // alternating single-key dicts: every decode evicts the other key from the shared slot
  const onlyA = xdr.encode(GfxDict, new Map([[a, gfxStr('A')]]))
  const onlyB = xdr.encode(GfxDict, new Map([[b, gfxStr('B')]]))
  for (let i = 0; i < 4; i++) {
    t.strictSame([...xdr.decode(GfxDict, i % 2 === 0 ? onlyA : onlyB)!.keys()], [i % 2 === 0 ? a : b])
  }
  // same length, same sampled bytes, one of them non-ASCII in the unsampled part
  const c = 'a\u00e9defghijk' // 'é' is 2 UTF-8 bytes: 11 bytes, like a, same sampled bytes
  const enc = xdr.encode(GfxDict, new Map([[a, gfxInt(1)], [c, gfxInt(3)]]))
  t.strictSame([...xdr.decode(GfxDict, enc)!.keys()], [a, c])
})

t.test('gfx_dict decode: a cached key is not tied to the record it came from', async t => {
  const enc = xdr.encode(GfxDict, gfxDict({ 'some.key': 'v' }))
  const copy = Buffer.from(enc)
  t.strictSame([...xdr.decode(GfxDict, copy)!.keys()], ['some.key'])
  copy.fill(0x41, 16, 24) // overwrite the key bytes ("some.key" -> "AAAAAAAA")
  t.strictSame([...xdr.decode(GfxDict, copy)!.keys()], ['AAAAAAAA'])
  t.strictSame([...xdr.decode(GfxDict, enc)!.keys()], ['some.key'])
})

t.test('opaque_auth: an empty body decodes to one shared, frozen, empty Buffer; others stay views', async t => {
  const a = xdr.decode(OpaqueAuthCodec, Buffer.from('00000000' + '00000000', 'hex'))
  const b = xdr.decode(OpaqueAuthCodec, Buffer.from('00000001' + '00000000', 'hex'))
  t.equal(a.body.length, 0)
  t.equal(a.body, b.body, 'the same Buffer')
  t.ok(Object.isFrozen(a.body))
  t.equal(b.flavor, 1)
  t.equal(xdr.encode(OpaqueAuthCodec, b).toString('hex'), '00000001' + '00000000')
  const rec = Buffer.from('00000001' + '00000004' + 'deadbeef', 'hex')
  const c = xdr.decode(OpaqueAuthCodec, rec)
  t.equal(c.body.toString('hex'), 'deadbeef')
  t.equal(c.body.buffer, rec.buffer, 'a non-empty body is still a view of the record')
  t.throws(() => xdr.decode(OpaqueAuthCodec, Buffer.from('00000000' + '000000', 'hex')), { code: 'EGLUSTER_PROTOCOL' })
})
