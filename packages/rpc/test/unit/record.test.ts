import v8 from 'node:v8'
import vm from 'node:vm'
import t from 'tap'
import {
  RecordDecoder, frameRecord, beginRecord, finishRecord, recordMark, XdrWriter,
  DEFAULT_MAX_RECORD_BYTES, LAST_FRAGMENT,
} from '@gluster-ts/rpc'
import { body, fragments, one, hexes } from '../support/record-bytes.js'

// gc() for the tests that check what the decoder keeps alive (the V8-documented way, as bench/ does)
v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

/** True when `a` and `b` share a byte of memory. */
function overlaps (a: Buffer, b: Buffer): boolean {
  return a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.length && b.byteOffset < a.byteOffset + a.length
}

function decodeAll (chunks: Buffer[], dec = new RecordDecoder()): Buffer[] {
  const got: Buffer[] = []
  for (const c of chunks) got.push(...dec.push(c))
  return got
}

t.test('frameRecord prepends one last-fragment header and passes chunks through', async t => {
  const a = Buffer.from('00000002', 'hex')
  const b = Buffer.from('0000000000000002', 'hex')
  const framed = frameRecord([a, b])
  t.equal(framed.length, 3)
  t.equal(framed[0]!.toString('hex'), '8000000c')
  t.equal(framed[1], a)
  t.equal(framed[2], b)
  t.throws(() => frameRecord([]), RangeError, 'a record is never empty')
  t.equal(recordMark(140), 0x8000008c, 'GETSPEC call of mount frame 22: 80 00 00 8c')
  t.throws(() => recordMark(0x80000000), RangeError)
})

t.test('beginRecord/finishRecord back-fill the mark without a separate header buffer', async t => {
  const w = new XdrWriter()
  beginRecord(w)
  w.u32(2).u32(0)
  const chunks = finishRecord(w)
  t.equal(chunks.length, 1)
  t.equal(chunks[0]!.toString('hex'), '800000080000000200000000')
  // with a large raw payload the payload stays its own chunk
  const big = Buffer.alloc(5000, 1)
  beginRecord(w)
  w.u32(7).raw(big)
  const c2 = finishRecord(w)
  t.equal(c2.length, 2)
  t.equal(c2[1], big)
  t.equal(c2[0]!.readUInt32BE(0), (LAST_FRAGMENT | 5004) >>> 0)
  w.u32(1)
  t.throws(() => beginRecord(w), /already holds/)
})

t.test('one record in one chunk is a subarray of that chunk (no copy)', async t => {
  const rec = body(40, 1)
  const chunk = one(rec)
  const [got, ...more] = new RecordDecoder().push(chunk)
  t.equal(more.length, 0)
  t.equal(got!.buffer, chunk.buffer)
  t.equal(got!.byteOffset, chunk.byteOffset + 4)
  t.equal(got!.toString('hex'), rec.toString('hex'))
})

t.test('several records in one chunk', async t => {
  const recs = [body(12, 1), body(1, 2), body(333, 3), body(4, 4)]
  const chunk = Buffer.concat(recs.map(one))
  const got = new RecordDecoder().push(chunk)
  t.same(hexes(got), hexes(recs))
  for (const g of got) t.equal(g.buffer, chunk.buffer, 'each is a view of the chunk')
})

// pg-protocol's split tests, at EVERY offset: single record, several records, multi-fragment
const streams: Array<[string, Buffer[], Buffer]> = (() => {
  const a = body(36, 1)
  const b = body(5, 2)
  const c = body(70, 3)
  const m = body(23, 4)
  return [
    ['one record', [a], one(a)],
    ['three records', [a, b, c], Buffer.concat([one(a), one(b), one(c)])],
    ['multi-fragment record between two plain ones', [a, m, b],
      Buffer.concat([one(a), fragments(m, [1, 10, 3, 9]), one(b)])],
    ['record of 1-byte fragments', [m], fragments(m, new Array<number>(23).fill(1))],
  ]
})()

for (const [name, recs, stream] of streams) {
  t.test(`split in two at every offset: ${name}`, async t => {
    for (let i = 0; i <= stream.length; i++) {
      const got = decodeAll([stream.subarray(0, i), stream.subarray(i)])
      t.same(hexes(got), hexes(recs), `split at ${i}`)
    }
  })
  t.test(`split in three at every pair of offsets: ${name}`, async t => {
    let bad = 0
    for (let i = 0; i <= stream.length; i++) {
      for (let j = i; j <= stream.length; j++) {
        const got = decodeAll([stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)])
        if (JSON.stringify(hexes(got)) !== JSON.stringify(hexes(recs))) bad++
      }
    }
    t.equal(bad, 0)
  })
  t.test(`one byte at a time: ${name}`, async t => {
    const chunks: Buffer[] = []
    for (let i = 0; i < stream.length; i++) chunks.push(stream.subarray(i, i + 1))
    const dec = new RecordDecoder()
    t.same(hexes(decodeAll(chunks, dec)), hexes(recs))
    t.ok(dec.idle)
    t.equal(dec.bufferedBytes, 0)
  })
}

t.test('a record spanning chunks is concatenated once, into a fresh buffer', async t => {
  const rec = body(1000, 9)
  const stream = one(rec)
  const c1 = Buffer.from(stream.subarray(0, 300))
  const c2 = Buffer.from(stream.subarray(300, 700))
  const c3 = Buffer.from(stream.subarray(700))
  const dec = new RecordDecoder()
  t.same(dec.push(c1), [])
  t.equal(dec.bufferedBytes, 296)
  t.notOk(dec.idle)
  t.same(dec.push(c2), [])
  const [got] = dec.push(c3)
  t.equal(got!.toString('hex'), rec.toString('hex'))
  t.equal(got!.length, 1000)
  // a fresh buffer: it shares no byte with the chunks (they may come from the same Buffer pool slab)
  for (const c of [c1, c2, c3]) t.notOk(overlaps(got!, c))
})

t.test('an unfinished record holds the bytes received, not views pinning every chunk they came in', async t => {
  const refs: Array<WeakRef<ArrayBuffer>> = []
  // (chunks are made in functions of their own, so that no variable of this test keeps one alive)
  // a 1 MiB record declared, then 3000 one-byte chunks, each with a backing store of its own (as
  // a peer trickling one byte per TCP segment produces): the decoder must copy them, not keep
  // 3000 views (a Buffer object and a backing store for each byte)
  const trickle = new RecordDecoder()
  trickle.push(Buffer.from('80100000', 'hex'))
  const feedBytes = (): void => {
    for (let i = 0; i < 3000; i++) {
      const c = Buffer.allocUnsafeSlow(1)
      c[0] = i & 0xff
      refs.push(new WeakRef(c.buffer))
      trickle.push(c)
    }
  }
  feedBytes()
  t.equal(trickle.bufferedBytes, 3000, 'bufferedBytes = the record bytes received')
  // a big record starting at the end of a chunk full of small records
  const big = new RecordDecoder()
  const feedChunk = (): number => {
    const small = Buffer.concat(Array.from({ length: 600 }, (_, i) => one(body(100, i))))
    const chunk = Buffer.allocUnsafeSlow(small.length + 4 + 5000)
    small.copy(chunk)
    chunk.writeUInt32BE(recordMark(1_000_000), small.length)
    chunk.fill(7, small.length + 4)
    refs.push(new WeakRef(chunk.buffer))
    return big.push(chunk).length
  }
  t.equal(feedChunk(), 600)
  t.equal(big.bufferedBytes, 5000)
  await new Promise(resolve => setImmediate(resolve)) // WeakRefs made in this job stay alive until it ends
  gc()
  t.equal(refs.filter(r => r.deref() !== undefined).length, 0, 'no chunk is kept alive by the unfinished records')
  // and the records come out right
  const [rec] = big.push(Buffer.alloc(1_000_000 - 5000, 7))
  t.equal(rec!.length, 1_000_000)
  t.ok(rec!.every(b => b === 7))
  const [rec2] = trickle.push(Buffer.alloc(0x100000 - 3000, 1))
  t.equal(rec2!.length, 0x100000)
  t.ok(rec2!.subarray(0, 3000).equals(Buffer.from(Array.from({ length: 3000 }, (_, i) => i & 0xff))))
})

t.test('never writes into a buffer it handed out or was given', async t => {
  const dec = new RecordDecoder()
  const recs = [body(10, 1), body(50, 2), body(10, 3)]
  const stream = Buffer.concat(recs.map(one))
  const copy = Buffer.from(stream)
  const out: Buffer[] = []
  // header split across chunks and record split across chunks, then more data afterwards
  for (const [a, b] of [[0, 2], [2, 20], [20, 40], [40, stream.length]] as const) out.push(...dec.push(stream.subarray(a, b)))
  const snapshot = hexes(out)
  for (let i = 0; i < 50; i++) dec.push(one(body(64, 100 + i)))
  t.same(hexes(out), snapshot, 'records handed out are unchanged by later input')
  t.ok(stream.equals(copy), 'input chunks are unchanged')
})

t.test('the callback form delivers records in order', async t => {
  const recs = [body(8, 1), body(9, 2)]
  const got: Buffer[] = []
  const r = new RecordDecoder().push(Buffer.concat(recs.map(one)), rec => { got.push(rec) })
  t.equal(r, undefined)
  t.same(hexes(got), hexes(recs))
})

t.test('a consumer that throws kills the decoder', async t => {
  const dec = new RecordDecoder()
  const boom = new Error('boom')
  t.throws(() => { dec.push(one(body(8, 1)), () => { throw boom }) }, boom)
  t.ok(dec.error)
  t.throws(() => dec.push(one(body(8, 1))), { code: 'EGLUSTER_PROTOCOL' })
})

t.test('zero-length fragments are protocol errors', async t => {
  for (const hdr of ['80000000', '00000000']) {
    const dec = new RecordDecoder()
    t.throws(() => dec.push(Buffer.from(hdr, 'hex')), { name: 'GlusterError', code: 'EGLUSTER_PROTOCOL', message: /zero-length/ })
  }
  // a zero-length last fragment after a non-empty one
  const dec = new RecordDecoder()
  t.throws(() => dec.push(Buffer.from('00000001' + '61' + '80000000', 'hex')), { code: 'EGLUSTER_PROTOCOL' })
})

t.test('records larger than maxRecordBytes are refused before their body arrives', async t => {
  t.equal(DEFAULT_MAX_RECORD_BYTES, 64 * 1024 * 1024)
  t.equal(new RecordDecoder().maxRecordBytes, DEFAULT_MAX_RECORD_BYTES)
  const dec = new RecordDecoder({ maxRecordBytes: 100 })
  t.same(hexes(dec.push(one(body(100, 1)))), hexes([body(100, 1)]), 'exactly the limit is fine')
  t.throws(() => dec.push(Buffer.from('80000065', 'hex')), { name: 'GlusterError', code: 'EGLUSTER_RECORD_TOO_LARGE' })
  // cumulative over fragments
  const dec2 = new RecordDecoder({ maxRecordBytes: 100 })
  const frag = fragments(body(120, 2), [60, 60])
  t.throws(() => dec2.push(frag), { code: 'EGLUSTER_RECORD_TOO_LARGE' })
  // the largest length word GlusterFS could send
  t.throws(() => new RecordDecoder().push(Buffer.from('ffffffff', 'hex')), { code: 'EGLUSTER_RECORD_TOO_LARGE' })
  t.throws(() => new RecordDecoder({ maxRecordBytes: 0 }), RangeError)
})

t.test('after an error the decoder is dead', async t => {
  const dec = new RecordDecoder()
  let first: unknown
  try { dec.push(Buffer.from('80000000', 'hex')) } catch (err) { first = err }
  t.ok(first)
  t.equal(dec.error, first)
  try {
    dec.push(one(body(4, 1)))
    t.fail('should throw')
  } catch (err) {
    t.equal(err, first, 'the same error again')
  }
})

t.test('empty chunks are harmless', async t => {
  const dec = new RecordDecoder()
  t.same(dec.push(Buffer.alloc(0)), [])
  t.ok(dec.idle)
})
