// pipeTo and FileHandle.read against an embedded gluster-ts cluster (replica 3 over real TCP):
// READ payloads land in the caller's buffers, a ring of buffers is reused, backpressure holds,
// and errors, aborts and a destination closing early end the copy without a stray write.
import t from 'tap'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { startCluster } from '../../../../test-cluster/ts-cluster.js'
import { Volume } from '../../src/index.js'

const MiB = 1 << 20

/** A Writable that keeps a copy of what it gets, notes each chunk's buffer, and can be slowed. */
class Sink extends Writable {
  parts: Buffer[] = []
  buffers = new Set<ArrayBufferLike>()
  chunkSizes: number[] = []
  constructor (readonly delayMs = 0, hwm = 16 * 1024) { super({ highWaterMark: hwm }) }
  override _write (chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.parts.push(Buffer.from(chunk))
    this.buffers.add(chunk.buffer)
    this.chunkSizes.push(chunk.length)
    if (this.delayMs > 0) setTimeout(cb, this.delayMs)
    else cb()
  }

  get data (): Buffer { return Buffer.concat(this.parts) }
}

t.test('pipeTo and read-into on a replica-3 volume', async t => {
  const dir = t.testdir()
  const c = await startCluster({ dir: join(dir, 'cluster'), replica: 3, port: 0 })
  t.teardown(() => c.close())
  const chunk = 256 * 1024
  const vol = await Volume.connect({ servers: c.volfileServer, volume: c.volume.name, readChunkBytes: chunk, readWindow: 3 })
  t.teardown(() => vol.close())
  const body = randomBytes(5 * MiB + 12345)
  await vol.writeFile('/big.bin', body)
  await vol.writeFile('/small.txt', 'hello')

  await t.test('the whole file, in order, through at most window + 2 reused buffers', async t => {
    const sink = new Sink()
    const n = await vol.pipeTo('/big.bin', sink)
    t.equal(n, body.length)
    t.ok(sink.data.equals(body), 'same bytes')
    t.ok(sink.buffers.size <= 5, `${sink.buffers.size} distinct buffers for ${sink.parts.length} chunks`)
    t.ok(sink.parts.length >= 20, 'chunks of readChunkBytes')
  })

  await t.test('a range, and a range past the end of the file', async t => {
    const sink = new Sink()
    t.equal(await vol.pipeTo('/big.bin', sink, { start: 1000, end: 3 * MiB + 7 }), 3 * MiB + 7 - 1000 + 1)
    t.ok(sink.data.equals(body.subarray(1000, 3 * MiB + 8)))
    const tail = new Sink()
    t.equal(await vol.pipeTo('/big.bin', tail, { start: body.length - 10, end: body.length + MiB }), 10)
    t.ok(tail.data.equals(body.subarray(body.length - 10)))
    const none = new Sink()
    t.equal(await vol.pipeTo('/big.bin', none, { start: body.length + 5 }), 0)
    t.equal(await vol.pipeTo('/small.txt', none), 5)
    t.equal(none.data.toString(), 'hello')
  })

  await t.test('a slow destination: backpressure bounds the buffers, the data stays right', async t => {
    const sink = new Sink(2, 1024)
    await vol.pipeTo('/big.bin', sink, { end: 2 * MiB - 1 })
    t.ok(sink.data.equals(body.subarray(0, 2 * MiB)))
    t.ok(sink.buffers.size <= 5, `${sink.buffers.size} buffers`)
  })

  await t.test('a destination that fails, one that closes early, an abort, a directory, a missing file', async t => {
    let calls = 0
    const failing = new Writable({ write (_c, _e, cb) { if (++calls === 3) cb(new Error('disk full')); else cb() } })
    failing.on('error', () => {})
    await t.rejects(vol.pipeTo('/big.bin', failing), { message: 'disk full' })
    const closing = new Writable({ write (_c, _e, cb) { setImmediate(() => { closing.destroy() }); cb() } })
    await t.rejects(vol.pipeTo('/big.bin', closing), { code: 'EPIPE' })
    const ac = new AbortController()
    const slow = new Sink(5)
    const p = vol.pipeTo('/big.bin', slow, { signal: ac.signal })
    setTimeout(() => { ac.abort() }, 20)
    await t.rejects(p, { name: 'AbortError' })
    await vol.mkdir('/d')
    await t.rejects(vol.pipeTo('/d', new Sink()), { code: 'EISDIR' })
    await t.rejects(vol.pipeTo('/nope', new Sink()), { code: 'ENOENT' })
  })

  await t.test('FileHandle.read fills the caller\'s buffer at the offset asked, nothing outside it', async t => {
    const fh = await vol.open('/big.bin')
    t.teardown(() => fh.close())
    const buf = Buffer.alloc(3 * MiB, 0xee)
    const { bytesRead } = await fh.read(buf, 100, 2 * MiB + 5, 777)
    t.equal(bytesRead, 2 * MiB + 5)
    t.ok(buf.subarray(100, 100 + bytesRead).equals(body.subarray(777, 777 + bytesRead)))
    t.ok(buf.subarray(0, 100).every(b => b === 0xee) && buf.subarray(100 + bytesRead).every(b => b === 0xee), 'untouched around it')
    // the same buffer again, at the end of the file: a short read
    const r = await fh.read(buf, 0, MiB, body.length - 3)
    t.equal(r.bytesRead, 3)
    t.ok(buf.subarray(0, 3).equals(body.subarray(body.length - 3)))
    await t.rejects(fh.read(buf, 0, buf.length + 1, 0), RangeError)
    const fh2 = await vol.open('/big.bin')
    t.teardown(() => fh2.close())
    const sink = new Sink()
    t.equal(await fh2.pipeTo(sink, { start: 5 }), body.length - 5)
    t.ok(sink.data.equals(body.subarray(5)))
  })

  await t.test('no buffer of an aborted copy is written after it rejects', async t => {
    // the abort lands while READs are out; afterwards, overwrite every chunk buffer we saw with
    // a sentinel and check nothing changes it once the READs that were out have had time to land
    const seen: Buffer[] = []
    const grab = new Writable({
      highWaterMark: 1,
      write (c: Buffer, _e, cb) { seen.push(Buffer.from(c.buffer, c.byteOffset, chunk)); setTimeout(cb, 3) },
    })
    const ac = new AbortController()
    const p = vol.pipeTo('/big.bin', grab, { signal: ac.signal })
    setTimeout(() => { ac.abort() }, 10)
    await t.rejects(p, { name: 'AbortError' })
    for (const b of seen) b.fill(0x5a)
    await sleep(100)
    t.ok(seen.every(b => b.every(x => x === 0x5a)), `${seen.length} buffers untouched after the abort`)
  })
})

t.test('copies sharing a ReadBufferPool stay within its cap, and each one moves', async t => {
  const { ReadBufferPool } = await import('../../src/index.js')
  const dir = t.testdir()
  const c = await startCluster({ dir: join(dir, 'cluster'), replica: 3, port: 0 })
  t.teardown(() => c.close())
  const vol = await Volume.connect({ servers: c.volfileServer, volume: c.volume.name })
  t.teardown(() => vol.close())
  const body = randomBytes(3 * MiB + 333)
  await vol.writeFile('/f.bin', body)
  const pool = new ReadBufferPool(128 * 1024, 512 * 1024) // four buffers for eight copies
  let peak = 0
  const sinks = Array.from({ length: 8 }, () => new Sink(1, 1024))
  const timer = setInterval(() => { peak = Math.max(peak, pool.allocatedBytes) }, 1)
  const got = await Promise.all(sinks.map((s, i) => vol.pipeTo('/f.bin', s, { pool, window: 8, start: i * 1000 })))
  clearInterval(timer)
  got.forEach((n, i) => { t.equal(n, body.length - i * 1000) })
  t.ok(sinks.every((s, i) => s.data.equals(body.subarray(i * 1000))), 'every copy right')
  // at most the cap, plus one forced buffer for each copy that held none
  t.ok(peak <= 512 * 1024 + 8 * 128 * 1024, `peak ${peak} bytes of buffers`)
  t.ok(pool.allocatedBytes <= 512 * 1024, `${pool.allocatedBytes} bytes kept after the copies`)
  // no buffer per chunk: a copy keeps one that came back for its next READ instead of handing it
  // to a pool over its cap (dropped) and allocating another (192 chunks here)
  const distinct = new Set(sinks.flatMap(s => [...s.buffers]))
  const chunks = sinks.reduce((n, s) => n + s.parts.length, 0)
  t.ok(distinct.size <= 24, `${distinct.size} distinct buffers for ${chunks} chunks`)
  // a failing destination gives its buffers back: the pool is whole for the next copies
  const failing = new Writable({ write (_c, _e, cb) { cb(new Error('nope')) } })
  failing.on('error', () => {})
  await t.rejects(vol.pipeTo('/f.bin', failing, { pool }), { message: 'nope' })
  const after = new Sink()
  await vol.pipeTo('/f.bin', after, { pool, window: 8 })
  t.ok(after.data.equals(body))
  t.ok(pool.allocatedBytes <= 512 * 1024)
})
