// VolumeWriteStream over a fake file: small chunks gathered into WRITEs of chunkBytes, at most
// `window` WRITEs in flight, write() returns false (backpressure) while the window is full,
// 'finish' only after every WRITE was acknowledged and the file closed, errors surface.
import t from 'tap'
import { VolumeWriteStream } from '../../src/write-stream.js'
import type { WritableFile } from '../../src/write-file.js'

const flush = async (): Promise<void> => { for (let i = 0; i < 20; i++) await new Promise(resolve => setImmediate(resolve)) }

class FakeFile {
  path = '/f'
  size = 0
  closed = false
  writes: Array<{ pos: number, data: Buffer, done: (n?: number, err?: Error) => void }> = []
  write (data: Buffer, pos: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.writes.push({ pos, data, done: (n, err) => (err !== undefined ? reject(err) : resolve(n ?? data.length)) })
    })
  }

  async close (): Promise<void> { this.closed = true }
  async sync (): Promise<void> {}
}

function stream (f: FakeFile, o: { chunkBytes?: number, window?: number, start?: number } = {}): VolumeWriteStream {
  return new VolumeWriteStream({ open: async () => f as unknown as WritableFile, owns: true }, { chunkBytes: o.chunkBytes ?? 10, window: o.window ?? 2, highWaterMark: 5, ...(o.start !== undefined ? { start: o.start } : {}) })
}

t.test('gathers, keeps `window` WRITEs in flight, holds back when full', async t => {
  const f = new FakeFile()
  const ws = stream(f)
  let finished = false
  ws.on('finish', () => { finished = true })
  await flush()
  t.equal(ws.write(Buffer.alloc(4, 1)), true, 'room')
  ws.write(Buffer.alloc(8, 2))
  ws.write(Buffer.alloc(10, 3))
  ws.write(Buffer.alloc(10, 4))
  await flush()
  t.equal(f.writes.length, 2, 'two WRITEs in flight (window 2)')
  t.same(f.writes.map(w => [w.pos, w.data.length]), [[0, 10], [10, 10]], 'gathered into 10-byte WRITEs at running offsets')
  t.same([...f.writes[0]!.data], [1, 1, 1, 1, 2, 2, 2, 2, 2, 2])
  t.equal(ws.write(Buffer.alloc(1)), false, 'backpressure while the window is full')
  f.writes[0]!.done()
  await flush()
  t.equal(f.writes.length, 3, 'a third WRITE once one was acknowledged')
  ws.end()
  await flush()
  t.notOk(finished, 'no finish while WRITEs are unacknowledged')
  for (const w of f.writes.slice(1)) w.done()
  await flush()
  for (const w of f.writes.slice(3)) w.done()
  await flush()
  t.ok(finished, 'finish after every acknowledgement')
  t.ok(f.closed, 'and after close')
  t.equal(ws.bytesWritten, 33)
  t.same(f.writes.at(-1)!.pos, 30, 'the tail goes last')
})

t.test('a failed WRITE fails the stream and closes the file', async t => {
  const f = new FakeFile()
  const ws = stream(f, { window: 1 })
  const err = new Promise<Error>(resolve => ws.on('error', resolve))
  ws.write(Buffer.alloc(25))
  await flush()
  f.writes[0]!.done(undefined, Object.assign(new Error('EGLUSTER_NO_QUORUM: nope'), { code: 'EGLUSTER_NO_QUORUM' }))
  t.match(await err, { code: 'EGLUSTER_NO_QUORUM' })
  await flush()
  t.ok(f.closed)
})

t.test('a short WRITE is an error, not silent truncation', async t => {
  const f = new FakeFile()
  const ws = stream(f, { window: 4 })
  const err = new Promise<Error>(resolve => ws.on('error', resolve))
  ws.end(Buffer.alloc(10))
  await flush()
  f.writes[0]!.done(7)
  t.match(await err, { code: 'EIO', message: /short write/ })
})

t.test('start offset', async t => {
  const f = new FakeFile()
  const ws = stream(f, { start: 100 })
  ws.end(Buffer.alloc(3))
  await flush()
  t.equal(f.writes[0]!.pos, 100)
  f.writes[0]!.done()
  await new Promise(resolve => ws.on('finish', resolve))
})
