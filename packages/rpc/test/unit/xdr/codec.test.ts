import t from 'tap'
import { XdrReader, XdrWriter, xdr } from '@gluster-ts/rpc'

t.test('primitives encode big-endian and decode back', async t => {
  const c = xdr.struct({ a: xdr.u32, b: xdr.i32, c: xdr.u64, d: xdr.i64, e: xdr.bool, s: xdr.string(), o: xdr.opaque() })
  const v = { a: 0xdeadbeef, b: -2, c: 2n ** 64n - 1n, d: -(2n ** 63n), e: true, s: 'abcde', o: Buffer.from([1, 2, 3]) }
  const buf = xdr.encode(c, v)
  t.equal(buf.toString('hex'),
    'deadbeef' + 'fffffffe' + 'ffffffffffffffff' + '8000000000000000' + '00000001' +
    '00000005' + '6162636465000000' + '00000003' + '01020300')
  t.same(xdr.decode(c, buf), v)
})

t.test('opaque reads are subarrays of the input, not copies', async t => {
  const buf = Buffer.from('0000000461626364', 'hex')
  const r = new XdrReader(buf)
  const o = r.opaque()
  t.equal(o.buffer, buf.buffer)
  t.equal(o.byteOffset, buf.byteOffset + 4)
})

t.test('truncated input throws EGLUSTER_PROTOCOL, never RangeError', async t => {
  const c = xdr.struct({ a: xdr.u32, s: xdr.string(), x: xdr.u64 })
  const full = xdr.encode(c, { a: 1, s: 'hello', x: 5n })
  for (let i = 0; i < full.length; i++) {
    t.throws(() => xdr.decode(c, full.subarray(0, i)), { name: 'GlusterError', code: 'EGLUSTER_PROTOCOL' })
  }
})

t.test('list and optional', async t => {
  const node = xdr.struct({ n: xdr.u32 })
  const c = xdr.struct({ l: xdr.list(node), o: xdr.optional(xdr.u32), p: xdr.optional(xdr.u32) })
  const v = { l: [{ n: 1 }, { n: 2 }], o: 7, p: null }
  const buf = xdr.encode(c, v)
  t.equal(buf.toString('hex'), '00000001' + '00000001' + '00000001' + '00000002' + '00000000' + '00000001' + '00000007' + '00000000')
  t.same(xdr.decode(c, buf), v)
})

t.test('writer never overwrites a buffer it handed out, and keeps large raw payloads as chunks', async t => {
  const w = new XdrWriter(16)
  w.u32(1).u32(2)
  const a = w.finish()
  w.u32(3).u32(4).u32(5).u32(6).u32(7)
  const b = w.finish()
  t.equal(a.toString('hex'), '0000000100000002')
  t.equal(b.toString('hex'), '0000000300000004000000050000000600000007')
  const big = Buffer.alloc(100000, 7)
  w.u32(9)
  const at = w.reserveU32()
  w.raw(big)
  t.throws(() => w.setU32(at, 1))
  const w2 = new XdrWriter()
  const at2 = w2.u32(9).reserveU32()
  w2.setU32(at2, 42)
  w2.raw(big)
  const chunks = w2.finishChunks()
  t.equal(chunks.length, 2)
  t.equal(chunks[1], big, 'payload passed through untouched')
  t.equal(chunks[0]!.toString('hex'), '000000090000002a')
})
