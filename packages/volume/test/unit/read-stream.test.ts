import t from 'tap'
import { randomBytes } from 'node:crypto'
import { VolumeReadStream, type ReadSource } from '../../src/read-stream.js'

function source (data: Buffer, o: { delay?: () => number, failAt?: number } = {}): ReadSource & { inflight: number, max: number, calls: number } {
  const s = {
    inflight: 0,
    max: 0,
    calls: 0,
    open: async () => ({ size: data.length }),
    read: (offset: number, size: number): Promise<Buffer> => {
      s.calls++
      s.inflight++
      s.max = Math.max(s.max, s.inflight)
      return new Promise((resolve, reject) => setTimeout(() => {
        s.inflight--
        if (o.failAt !== undefined && offset >= o.failAt) reject(Object.assign(new Error('EIO: boom'), { code: 'EIO' }))
        else resolve(data.subarray(offset, offset + size))
      }, o.delay?.() ?? 0))
    },
  }
  return s
}

t.test('whole file in order, at most `window` READs in flight, slices handed on', async t => {
  const data = randomBytes(1_000_003)
  const src = source(data, { delay: () => Math.floor(Math.random() * 3) })
  const parts: Buffer[] = []
  // 'data' events hand on each pushed chunk as it is; an async iterator would call read(), which
  // concatenates whatever is buffered (a copy) when the consumer falls behind
  const rs = new VolumeReadStream(src, { chunkBytes: 65536, window: 3 })
  rs.on('data', (c: Buffer) => { parts.push(c) })
  await new Promise((resolve, reject) => { rs.on('end', resolve); rs.on('error', reject) })
  t.ok(Buffer.concat(parts).equals(data))
  t.ok(src.max <= 3, `max in flight ${src.max}`)
  t.equal(src.calls, Math.ceil(data.length / 65536))
  t.equal(parts[0]!.buffer, data.buffer, 'no copy: chunks are slices of what READ returned')
})

t.test('ranges: start and inclusive end', async t => {
  const data = randomBytes(100_000)
  const parts: Buffer[] = []
  for await (const c of new VolumeReadStream(source(data), { start: 10, end: 70_009, chunkBytes: 4096 })) parts.push(c)
  t.ok(Buffer.concat(parts).equals(data.subarray(10, 70_010)))
  const none: Buffer[] = []
  for await (const c of new VolumeReadStream(source(data), { start: 5, end: 4 })) none.push(c)
  t.equal(none.length, 0)
  t.throws(() => new VolumeReadStream(source(data), { start: -1 }), RangeError)
})

t.test('back-pressure: a paused consumer stops new READs', async t => {
  const data = randomBytes(1 << 20)
  const src = source(data)
  const s = new VolumeReadStream(src, { chunkBytes: 16384, window: 2, highWaterMark: 16384 })
  s.once('data', () => s.pause())
  await new Promise(resolve => setTimeout(resolve, 50))
  t.ok(src.calls < 8, `only ${src.calls} READs while paused`)
  s.destroy()
})

t.test('a READ error destroys the stream with it; a short READ ends it', async t => {
  const data = randomBytes(50_000)
  await t.rejects((async () => { for await (const _ of new VolumeReadStream(source(data, { failAt: 20_000 }), { chunkBytes: 10_000 })) void _ })(), { code: 'EIO' })
  const shrunk: ReadSource = { open: async () => ({ size: 50_000 }), read: async (o, n) => data.subarray(o, Math.min(o + n, 25_000)) }
  const parts: Buffer[] = []
  for await (const c of new VolumeReadStream(shrunk, { chunkBytes: 10_000 })) parts.push(c)
  t.equal(Buffer.concat(parts).length, 25_000)
})
