// RecordDecoder's direct-read path (readBuffer()/commit(), what RpcClient.connect feeds from
// net.Socket's `onread`). `feed` models the kernel: each read copies at most `readSizes[i]` bytes
// of the stream into the buffer the decoder lent, then commits them.
import t from 'tap'
import { RecordDecoder, LAST_FRAGMENT, DEFAULT_EAGER_RECORD_BYTES, DEFAULT_READ_BUFFER_BYTES } from '@gluster-ts/rpc'
import { body, fragments, one, hexes } from '../support/record-bytes.js'


interface Fed { records: Buffer[], lent: Buffer[] }

/** Read `stream` through `dec` with reads of `readSizes` bytes (cycling; Infinity = as much as lent). */
function feed (dec: RecordDecoder, stream: Buffer, readSizes: number[] = [Infinity], into: Fed = { records: [], lent: [] }): Fed {
  let pos = 0
  let i = 0
  while (pos < stream.length) {
    const buf = dec.readBuffer()
    into.lent.push(buf)
    if (buf.length === 0) throw new Error('readBuffer() lent an empty buffer')
    const k = Math.min(buf.length, stream.length - pos, readSizes[i++ % readSizes.length]!)
    stream.copy(buf, 0, pos, pos + k)
    pos += k
    dec.commit(k, r => { into.records.push(r) })
  }
  return into
}

const a = body(36, 1)
const b = body(5, 2)
const c = body(70, 3)
const m = body(23, 4)
const big = body(300, 5)
const streams: Array<[string, Buffer[], Buffer]> = [
  ['one record', [a], one(a)],
  ['three records', [a, b, c], Buffer.concat([one(a), one(b), one(c)])],
  ['multi-fragment record between two plain ones', [a, m, b], Buffer.concat([one(a), fragments(m, [1, 10, 3, 9]), one(b)])],
  ['a large record between small ones', [b, big, a, big], Buffer.concat([one(b), one(big), one(a), one(big)])],
  ['record of 1-byte fragments', [m], fragments(m, new Array<number>(23).fill(1))],
]

// read buffers of 64 bytes put records over 16 bytes on the direct path; 4096 keeps most in the shared buffer
for (const readBufferBytes of [16, 64, 4096]) {
  for (const [name, recs, stream] of streams) {
    t.test(`readBufferBytes ${readBufferBytes}, ${name}: two reads split at every offset`, async t => {
      let bad = 0
      for (let i = 1; i <= stream.length; i++) {
        const got = feed(new RecordDecoder({ readBufferBytes }), stream, [i, Infinity]).records
        if (JSON.stringify(hexes(got)) !== JSON.stringify(hexes(recs))) { bad++; t.fail(`split at ${i}`) }
      }
      t.equal(bad, 0)
    })
    // every pair of offsets is quadratic: the long stream is covered by the property test instead
    if (stream.length <= 200) t.test(`readBufferBytes ${readBufferBytes}, ${name}: three reads split at every pair of offsets`, async t => {
      let bad = 0
      for (let i = 1; i <= stream.length; i++) {
        for (let j = 1; i + j <= stream.length; j++) {
          const got = feed(new RecordDecoder({ readBufferBytes }), stream, [i, j, Infinity]).records
          if (JSON.stringify(hexes(got)) !== JSON.stringify(hexes(recs))) bad++
        }
      }
      t.equal(bad, 0)
    })
    t.test(`readBufferBytes ${readBufferBytes}, ${name}: one byte per read`, async t => {
      const dec = new RecordDecoder({ readBufferBytes })
      t.same(hexes(feed(dec, stream, [1]).records), hexes(recs))
      t.ok(dec.idle)
      t.equal(dec.bufferedBytes, 0)
    })
  }
}

t.test('defaults', async t => {
  t.equal(DEFAULT_READ_BUFFER_BYTES, 64 * 1024)
  t.equal(DEFAULT_EAGER_RECORD_BYTES, 4 * 1024 * 1024)
  t.throws(() => new RecordDecoder({ readBufferBytes: 8 }), RangeError)
  t.throws(() => new RecordDecoder({ eagerRecordBytes: 0 }), RangeError)
})

t.test('a 1 MiB READ-sized record over 64 KiB reads: the kernel fills the Buffer handed out, no reassembly', async t => {
  const rec = body((1 << 20) + 200, 7)
  const small = body(40, 8)
  const stream = Buffer.concat([one(small), one(rec), one(small), one(rec)])
  const dec = new RecordDecoder()
  const fed = feed(dec, stream, [65536])
  t.same(fed.records.map(r => r.length), [40, rec.length, 40, rec.length])
  t.ok(fed.records[1]!.equals(rec) && fed.records[3]!.equals(rec))
  for (const i of [1, 3]) {
    const r = fed.records[i]!
    const into = fed.lent.filter(l => l.buffer === r.buffer)
    const direct = into.reduce((s, l) => s + l.length, 0)
    t.ok(direct > rec.length - 65536, `record ${i}: ${direct} of its ${rec.length} bytes were read in place`)
    t.equal(r.byteOffset, 0)
    t.equal(r.buffer.byteLength, rec.length, 'its buffer is exactly the record')
  }
  // the read that follows a large record is short: it carries the next header, little else to copy
  const afterFirst = fed.lent.findIndex(l => l.buffer === fed.records[1]!.buffer)
  const next = fed.lent.slice(afterFirst).find(l => l.buffer !== fed.records[1]!.buffer)!
  t.ok(next.length <= 4096, `read after a large record is ${next.length} bytes`)
  t.ok(dec.idle)
})

t.test('the buffer lent for a large record is exactly what is left of it (no read past its end)', async t => {
  const dec = new RecordDecoder({ readBufferBytes: 256 })
  const rec = body(1000, 3)
  const stream = Buffer.concat([one(rec), one(body(10, 4))])
  const got: Buffer[] = []
  const first = dec.readBuffer()
  stream.copy(first, 0, 0, 100)
  dec.commit(100, r => { got.push(r) })
  const second = dec.readBuffer()
  t.equal(second.length, 1004 - 100, 'the rest of the record')
  stream.copy(second, 0, 100, 1004)
  dec.commit(second.length, r => { got.push(r) })
  t.equal(got.length, 1)
  t.equal(got[0]!.buffer, second.buffer, 'the record is the buffer the socket filled')
  t.ok(got[0]!.equals(rec))
  feed(dec, stream.subarray(1004), [Infinity], { records: got, lent: [] })
  t.same(hexes(got), hexes([rec, body(10, 4)]))
})

t.test('never writes into a buffer it handed out', async t => {
  for (const readBufferBytes of [16, 64, 1024]) {
    const dec = new RecordDecoder({ readBufferBytes })
    const recs = [body(10, 1), body(50, 2), body(10, 3), body(500, 4), body(3, 5)]
    const stream = Buffer.concat(recs.map(one))
    const fed = feed(dec, stream, [2, 18, 20, 7, 300])
    const snapshot = hexes(fed.records)
    for (let i = 0; i < 50; i++) feed(dec, one(body(1 + (i * 37) % 700, 100 + i)), [5 + i], fed)
    t.same(hexes(fed.records.slice(0, recs.length)), snapshot, `readBufferBytes ${readBufferBytes}: records handed out are unchanged`)
  }
})

t.test('small records share the read buffer and are subarrays of it (one read, many records)', async t => {
  const recs = [body(40, 1), body(44, 2), body(40, 3)]
  const fed = feed(new RecordDecoder(), Buffer.concat(recs.map(one)))
  t.equal(fed.lent.length, 1)
  for (const r of fed.records) t.equal(r.buffer, fed.lent[0]!.buffer)
  t.same(hexes(fed.records), hexes(recs))
})

t.test('a read buffer nobody saw is reused', async t => {
  // large records only: each header read is copied to the record's buffer, so the shared
  // read buffer is never handed out and never replaced
  const dec = new RecordDecoder({ readBufferBytes: 64 })
  const recs = [body(200, 1), body(300, 2), body(250, 3)]
  const fed = feed(dec, Buffer.concat(recs.map(one)), [8, Infinity])
  const shared = new Set(fed.lent.filter(l => !fed.records.some(r => r.buffer === l.buffer)).map(l => l.buffer))
  t.equal(shared.size, 1)
  t.same(hexes(fed.records), hexes(recs))
})

t.test('hostile headers: bounded allocation, typed errors, no hang', async t => {
  // a header for a record at the cap, then nothing: we lend at most eagerRecordBytes
  const dec = new RecordDecoder()
  const hdr = Buffer.alloc(8)
  hdr.writeUInt32BE((LAST_FRAGMENT | (64 * 1024 * 1024)) >>> 0, 0)
  const buf = dec.readBuffer()
  hdr.copy(buf)
  dec.commit(8, () => t.fail('no record'))
  t.ok(dec.readBuffer().length <= DEFAULT_EAGER_RECORD_BYTES, 'lent buffer is at most eagerRecordBytes')
  // a record above eagerRecordBytes grows as its bytes arrive, never above twice what arrived
  const small = new RecordDecoder({ readBufferBytes: 64, eagerRecordBytes: 100 })
  const rec = body(5000, 9)
  const fed = feed(small, one(rec), [50])
  t.ok(fed.records[0]!.equals(rec))
  let seenBytes = 0
  for (const l of fed.lent) {
    seenBytes += Math.min(l.length, 50)
    t.ok(l.buffer.byteLength <= Math.max(100, 2 * seenBytes, 64 + 2048), `buffer of ${l.buffer.byteLength} after ${seenBytes} bytes`)
  }
  // above the cap: refused at the header
  const capped = new RecordDecoder({ maxRecordBytes: 100 })
  t.throws(() => feed(capped, Buffer.from('80000065', 'hex')), { name: 'GlusterError', code: 'EGLUSTER_RECORD_TOO_LARGE' })
  t.throws(() => capped.readBuffer(), { code: 'EGLUSTER_RECORD_TOO_LARGE' }, 'dead after the error')
  t.throws(() => feed(new RecordDecoder(), Buffer.from('ffffffff', 'hex')), { code: 'EGLUSTER_RECORD_TOO_LARGE' })
  // cumulative over fragments
  t.throws(() => feed(new RecordDecoder({ maxRecordBytes: 100 }), fragments(body(120, 2), [60, 60])), { code: 'EGLUSTER_RECORD_TOO_LARGE' })
  for (const z of ['80000000', '00000000', '0000000161' + '80000000']) {
    t.throws(() => feed(new RecordDecoder(), Buffer.from(z, 'hex'), [1]), { code: 'EGLUSTER_PROTOCOL', message: /zero-length/ })
  }
})

t.test('misuse is refused', async t => {
  const d1 = new RecordDecoder()
  t.throws(() => d1.commit(1, () => {}), /before readBuffer/)
  const len = d1.readBuffer().length
  t.throws(() => d1.commit(len + 1, () => {}), RangeError)
  t.throws(() => d1.push(Buffer.alloc(4)), /push\(\) on a decoder used with readBuffer/)
  const d2 = new RecordDecoder()
  d2.push(Buffer.alloc(0))
  t.throws(() => d2.readBuffer(), /readBuffer\(\) on a decoder used with push/)
})

t.test('a consumer that throws kills the decoder', async t => {
  const dec = new RecordDecoder()
  const boom = new Error('boom')
  const buf = dec.readBuffer()
  one(body(8, 1)).copy(buf)
  t.throws(() => { dec.commit(12, () => { throw boom }) }, boom)
  t.ok(dec.error)
  t.throws(() => dec.readBuffer(), { code: 'EGLUSTER_PROTOCOL' })
})

t.test('place() sees the header even when the record mark comes in a read of its own (a TLS record of its own)', async t => {
  // a 1 MiB record whose first 200 bytes are the "header" place() needs
  const rec = body(1 << 20, 7)
  const stream = one(rec)
  const into = Buffer.alloc(1 << 20)
  const heads: number[] = []
  const dec = new RecordDecoder({
    place: (head) => {
      heads.push(head.length)
      return head.length >= 200 ? { headBytes: 200, into } : undefined
    },
  })
  // GlusterFS over TLS: mark (4 bytes), then the header, then the payload in 16 KiB records
  let got: { record: Buffer, tail?: Buffer } | undefined
  let pos = 0
  for (const n of [4, 300, ...new Array<number>(70).fill(16384)]) {
    if (pos >= stream.length) break
    const buf = dec.readBuffer()
    const k = Math.min(n, buf.length, stream.length - pos)
    stream.copy(buf, 0, pos, pos + k)
    pos += k
    dec.commit(k, (record, tail) => { got = tail === undefined ? { record } : { record, tail } })
  }
  t.equal(pos, stream.length)
  t.same(heads, [0, 300], 'asked with the mark alone (nothing), then again with the header')
  t.ok(got?.tail !== undefined, 'split into head + tail')
  t.equal(got!.tail!.buffer, into.buffer, 'the payload was read into the caller\'s buffer')
  t.ok(Buffer.concat([got!.record, got!.tail!]).equals(rec))
  // and a record nobody places gets its own buffer once PLACE_PEEK_BYTES (1 KiB) of it are here
  const dec2 = new RecordDecoder({ place: () => undefined })
  const f = feed(dec2, stream, [4, 300, 800, 16384])
  t.equal(f.records.length, 1)
  t.ok(f.records[0]!.equals(rec))
})
