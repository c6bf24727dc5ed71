import t from 'tap'
import fc from 'fast-check'
import { RecordDecoder, GlusterError } from '@gluster-ts/rpc'
import { fragments } from '../support/record-bytes.js'

const encode = (rec: Buffer, sizes: number[]): Buffer => fragments(rec, sizes, true)

/** Cut `buf` at the given (sorted, deduplicated) offsets. */
function cut (buf: Buffer, offsets: number[]): Buffer[] {
  const at = [...new Set(offsets.map(o => o % (buf.length + 1)))].sort((a, b) => a - b)
  const out: Buffer[] = []
  let prev = 0
  for (const o of at) { out.push(buf.subarray(prev, o)); prev = o }
  out.push(buf.subarray(prev))
  return out
}

const record = fc.uint8Array({ minLength: 1, maxLength: 300 }).map(a => Buffer.from(a))

t.test('any records, any fragmentation, any split: the same records come out', async t => {
  fc.assert(fc.property(
    fc.array(fc.tuple(record, fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 6 })), { minLength: 1, maxLength: 8 }),
    fc.array(fc.nat(), { maxLength: 12 }),
    (recs, offsets) => {
      const stream = Buffer.concat(recs.map(([r, sizes]) => encode(r, sizes)))
      const dec = new RecordDecoder()
      const got: Buffer[] = []
      for (const c of cut(stream, offsets)) got.push(...dec.push(c))
      if (got.length !== recs.length) return false
      if (!dec.idle) return false
      return got.every((g, i) => g.equals(recs[i]![0]))
    }), { numRuns: 500 })
  t.pass()
})

t.test('random bytes: records or a GlusterError, never another throw, never a hang', async t => {
  fc.assert(fc.property(
    fc.uint8Array({ maxLength: 2000 }),
    fc.array(fc.nat(), { maxLength: 8 }),
    fc.integer({ min: 1, max: 4096 }),
    (bytes, offsets, max) => {
      const dec = new RecordDecoder({ maxRecordBytes: max })
      let total = 0
      try {
        for (const c of cut(Buffer.from(bytes), offsets)) for (const r of dec.push(c)) total += r.length
      } catch (err) {
        if (!(err instanceof GlusterError)) return false
        if (err.code !== 'EGLUSTER_PROTOCOL' && err.code !== 'EGLUSTER_RECORD_TOO_LARGE') return false
        // dead afterwards
        try { dec.push(Buffer.from([1, 2, 3, 4])); return false } catch (again) { return again === err }
      }
      // bytes out never exceed bytes in, and what is buffered is bounded by the cap
      return total <= bytes.length && dec.bufferedBytes <= max + 4
    }), { numRuns: 1000 })
  t.pass()
})
