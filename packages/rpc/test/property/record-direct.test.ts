// fast-check over RecordDecoder's direct-read path (readBuffer()/commit()): any records, any
// fragmentation, any read sizes, any buffer sizing → the same records, untouched afterwards;
// junk → records or a typed error, with allocation bounded by the options, never a hang.
import t from 'tap'
import fc from 'fast-check'
import { RecordDecoder, GlusterError } from '@gluster-ts/rpc'
import { fragments } from '../support/record-bytes.js'

const encode = (rec: Buffer, sizes: number[]): Buffer => fragments(rec, sizes, true)

/** The kernel: read sizes cycle (0 means "all the decoder lent"). Returns records and the largest buffer lent. */
function feed (dec: RecordDecoder, stream: Buffer, reads: number[]): { records: Buffer[], maxLent: number } {
  const records: Buffer[] = []
  let maxLent = 0
  let pos = 0
  let i = 0
  while (pos < stream.length) {
    const buf = dec.readBuffer()
    if (buf.length === 0) throw new Error('empty read buffer')
    maxLent = Math.max(maxLent, buf.buffer.byteLength)
    const want = reads.length === 0 ? 0 : reads[i++ % reads.length]!
    const k = Math.min(buf.length, stream.length - pos, want === 0 ? Infinity : want)
    stream.copy(buf, 0, pos, pos + k)
    pos += k
    dec.commit(k, r => { records.push(r) })
  }
  return { records, maxLent }
}

const record = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 300 }),
  fc.integer({ min: 1, max: 20_000 }).map(n => { const a = new Uint8Array(n); for (let i = 0; i < n; i++) a[i] = (n + i * 13) & 0xff; return a }),
).map(a => Buffer.from(a))

t.test('any records, fragmentation, read sizes and buffer sizes: the same records, never overwritten', async t => {
  fc.assert(fc.property(
    fc.array(fc.tuple(record, fc.oneof(fc.constant([] as number[]), fc.array(fc.integer({ min: 1, max: 5000 }), { maxLength: 4 }))), { minLength: 1, maxLength: 8 }),
    fc.array(fc.integer({ min: 0, max: 9000 }), { maxLength: 10 }),
    fc.integer({ min: 16, max: 70_000 }),
    fc.integer({ min: 1, max: 30_000 }),
    (recs, reads, readBufferBytes, eagerRecordBytes) => {
      const stream = Buffer.concat(recs.map(([r, sizes]) => encode(r, sizes)))
      const dec = new RecordDecoder({ readBufferBytes, eagerRecordBytes })
      const { records } = feed(dec, stream, reads)
      const snapshot = records.map(r => Buffer.from(r))
      // more traffic through the same decoder must not change what was handed out
      feed(dec, stream, [...reads].reverse())
      if (records.length !== recs.length || !dec.idle || dec.bufferedBytes !== 0) return false
      return records.every((g, i) => g.equals(recs[i]![0]) && g.equals(snapshot[i]!))
    }), { numRuns: 300 })
  t.pass()
})

t.test('random bytes: records or a GlusterError, bounded buffers, never a hang', async t => {
  fc.assert(fc.property(
    fc.uint8Array({ maxLength: 3000 }),
    fc.array(fc.integer({ min: 0, max: 500 }), { maxLength: 8 }),
    fc.integer({ min: 1, max: 1 << 20 }),
    fc.integer({ min: 16, max: 4096 }),
    fc.integer({ min: 1, max: 8192 }),
    (bytes, reads, max, readBufferBytes, eagerRecordBytes) => {
      const dec = new RecordDecoder({ maxRecordBytes: max, readBufferBytes, eagerRecordBytes })
      let got: { records: Buffer[], maxLent: number }
      try {
        got = feed(dec, Buffer.from(bytes), reads)
      } catch (err) {
        if (!(err instanceof GlusterError)) return false
        if (err.code !== 'EGLUSTER_PROTOCOL' && err.code !== 'EGLUSTER_RECORD_TOO_LARGE') return false
        try { dec.readBuffer(); return false } catch (again) { return again === err }
      }
      const total = got.records.reduce((s, r) => s + r.length, 0)
      // never more than the larger of: the read buffer (plus room for one small record),
      // eagerRecordBytes, or twice the bytes received
      const bound = Math.max(readBufferBytes + (readBufferBytes >> 2) + 4, eagerRecordBytes, 2 * bytes.length)
      return total <= bytes.length && dec.bufferedBytes <= max + 4 && got.maxLent <= bound
    }), { numRuns: 1000 })
  t.pass()
})

t.test('place(): split records arrive as head + tail in the caller\'s buffer, nothing written past them; unplace() drops one cleanly', async t => {
  const stats = { placed: 0, dropped: 0 }
  fc.assert(fc.property(
    fc.array(fc.tuple(record, fc.integer({ min: 1, max: 64 }), fc.boolean(), fc.integer({ min: 0, max: 40 })), { minLength: 1, maxLength: 8 }),
    fc.array(fc.integer({ min: 0, max: 9000 }), { maxLength: 10 }),
    fc.integer({ min: 64, max: 20_000 }),
    (recs, reads, readBufferBytes) => {
      const stream = Buffer.concat(recs.map(([r]) => encode(r, [])))
      // each record gets its own caller buffer with slack filled with a sentinel
      const intos = recs.map(([r, , , slack]) => Buffer.alloc(r.length + slack, 0xee))
      let next = 0 // records delivered or abandoned so far = the index of the one being read
      const placedAt = new Map<number, number>() // record index → headBytes
      const abandon = new Set<number>()
      const dec = new RecordDecoder({
        readBufferBytes,
        place: (head, total) => {
          const i = next
          if (recs[i]![0].length !== total) throw new Error(`place() for record ${i}: total ${total}`)
          const [, want, drop] = recs[i]!
          const headBytes = Math.min(want, head.length)
          if (headBytes < 1) return undefined
          placedAt.set(i, headBytes)
          if (drop) abandon.add(i)
          stats.placed++
          return { headBytes, into: intos[i]! }
        },
      })
      const got: Array<{ record: Buffer, tail?: Buffer }> = []
      let pos = 0
      let k = 0
      while (pos < stream.length) {
        const buf = dec.readBuffer()
        const want = reads.length === 0 ? 0 : reads[k++ % reads.length]!
        const n = Math.min(buf.length, stream.length - pos, want === 0 ? Infinity : want)
        stream.copy(buf, 0, pos, pos + n)
        pos += n
        dec.commit(n, (record, tail) => { got.push(tail === undefined ? { record } : { record, tail }); next++ })
        // abandon a placed record as soon as it is being read
        if (dec.placing && abandon.has(next)) { abandon.delete(next); dec.unplace(); intos[next]!.fill(0xee); next++; stats.dropped++ }
      }
      if (!dec.idle) return false
      // every record not abandoned arrives, in order, whole
      const expected = recs.map(([r], i) => ({ r, i })).filter(({ i }) => !(placedAt.has(i) && recs[i]![2]))
      if (got.length !== expected.length) return false
      return got.every((g, j) => {
        const { r, i } = expected[j]!
        const whole = g.tail === undefined ? g.record : Buffer.concat([g.record, g.tail])
        if (!whole.equals(r)) return false
        const into = intos[i]!
        if (g.tail !== undefined) {
          if (g.tail.buffer !== into.buffer || g.tail.byteOffset !== into.byteOffset) return false
          // nothing past the record's end in the caller's buffer
          if (!into.subarray(g.tail.length).every(b => b === 0xee)) return false
        }
        return true
      }) && intos.every((into, i) => !(placedAt.has(i) && recs[i]![2]) || into.every(b => b === 0xee))
    }), { numRuns: 300 })
  t.ok(stats.placed > 100 && stats.dropped > 20, `records placed ${stats.placed}, abandoned ${stats.dropped}`)
})
