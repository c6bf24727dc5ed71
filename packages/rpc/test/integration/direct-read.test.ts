// RpcClient.connect reads the socket with `onread` (RecordDecoder readBuffer/commit): replies that
// arrive in any pieces, large ones read in place, hostile headers bounded, plain sockets unchanged.
import t from 'tap'
import { once } from 'node:events'
import net from 'node:net'
import { setImmediate as tick } from 'node:timers/promises'
import { RpcClient, RecordDecoder, encodeReplyRecord, XdrWriter, NULL_AUTH } from '@gluster-ts/rpc'
import { rawServer, startPair, TestProgram, payload } from './fixtures.js'

/** Scripted peer: answers each READ call (any xid) with a reply of `size` bytes, written in `piece`-byte writes. */
function readPeer (piece: number) {
  return (s: net.Socket): void => {
    const dec = new RecordDecoder()
    let writing = Promise.resolve() // one reply after the other: pieces of two replies never interleave
    s.on('data', c => {
      for (const r of dec.push(c)) {
        const xid = r.readUInt32BE(0)
        const args = r.subarray(r.length - 8)
        const size = args.readUInt32BE(0)
        const fill = args.readUInt32BE(4)
        const bytes = Buffer.concat(encodeReplyRecord(new XdrWriter(), { xid, mtype: 1, reply_stat: 0, verf: NULL_AUTH, accept_stat: 0 },
          TestProgram.procs.READ.res, { op_ret: size, op_errno: 0, data: payload(size, fill) }))
        writing = writing.then(async () => {
          for (let at = 0; at < bytes.length && !s.destroyed; at += piece) {
            s.write(bytes.subarray(at, at + piece))
            await tick()
          }
        })
      }
    })
  }
}

t.test('replies written in odd pieces (1 byte, 7 bytes, 1000 bytes, 64 KiB + 3) decode intact', async t => {
  for (const piece of [1, 7, 1000, 65539]) {
    const address = await rawServer(t, readPeer(piece))
    const client = await RpcClient.connect(address)
    t.teardown(() => { client.destroy() })
    // one write per tick: keep the small pieces to small replies
    const sizes = piece === 1 ? [3, 300] : piece === 7 ? [3, 300, 5000] : piece === 1000 ? [3, 5000, 200_000] : [3, 5000, 200_000, 1_100_000]
    const got = await Promise.all(sizes.map((size, i) => client.call(TestProgram.procs.READ, { size, fill: i + 1 })))
    got.forEach((r, i) => {
      t.equal(r.op_ret, sizes[i], `piece ${piece}: READ ${sizes[i]}`)
      t.ok(r.data.equals(payload(sizes[i]!, i + 1)), `piece ${piece}: READ ${sizes[i]} payload`)
    })
  }
})

t.test('a payload above eagerRecordBytes (6 MiB) grows in place and arrives whole', async t => {
  const { client } = await startPair(t)
  const size = 6 * 1024 * 1024
  const r = await client.call(TestProgram.procs.READ, { size, fill: 0x33 })
  t.equal(r.data.length, size)
  t.ok(r.data.equals(payload(size, 0x33)))
})

t.test('a hostile header (a 60 MiB record, then silence) allocates at most eagerRecordBytes and aborts cleanly', async t => {
  let headerSent!: () => void
  const sent = new Promise<void>(resolve => { headerSent = resolve })
  const address = await rawServer(t, s => {
    s.once('data', () => {
      const h = Buffer.alloc(16)
      h.writeUInt32BE((0x80000000 | (60 * 1024 * 1024)) >>> 0, 0)
      s.write(h, () => { headerSent() })
    })
  })
  const client = await RpcClient.connect(address)
  t.teardown(() => { client.destroy() })
  const before = process.memoryUsage().arrayBuffers
  const ac = new AbortController()
  const call = client.call(TestProgram.procs.ECHO, { n: 1, s: 'x' }, { signal: ac.signal })
  await sent
  // let the client read what was sent
  for (let i = 0; i < 20 && client.socket.bytesRead < 16; i++) await tick()
  t.equal(client.socket.bytesRead, 16)
  const grew = process.memoryUsage().arrayBuffers - before
  t.ok(grew < 6 * 1024 * 1024, `array buffers grew by ${grew} bytes for a 60 MiB header`)
  ac.abort()
  await t.rejects(call, { name: 'AbortError' })
})

t.test('a record over maxRecordBytes read in place is refused at its header', async t => {
  const address = await rawServer(t, s => { s.once('data', () => { s.write(Buffer.from('80100000', 'hex')) }) })
  const client = await RpcClient.connect(address, { maxRecordBytes: 4096 })
  t.teardown(() => { client.destroy() })
  const closed = once(client, 'close')
  await t.rejects(client.call(TestProgram.procs.ECHO, { n: 1, s: '' }), { code: 'EGLUSTER_RECORD_TOO_LARGE', message: /maxRecordBytes 4096/ })
  const [err] = await closed
  t.match(err, { code: 'EGLUSTER_RECORD_TOO_LARGE' })
})

t.test('a socket not opened by RpcClient.connect is read through data events, as before', async t => {
  const address = await rawServer(t, readPeer(4096))
  const [host, port] = address.split(':')
  const socket = net.connect({ host: host!, port: Number(port) })
  await once(socket, 'connect')
  const client = new RpcClient(socket)
  t.teardown(() => { client.destroy() })
  const r = await client.call(TestProgram.procs.READ, { size: 300_000, fill: 9 })
  t.ok(r.data.equals(payload(300_000, 9)))
})

t.test('into: a large READ reply is read straight into the caller\'s buffer; a reply too big for it is decoded as usual', async t => {
  const { client } = await startPair(t)
  const into = Buffer.alloc(1_100_000, 0xee)
  const r = await client.call(TestProgram.procs.READ, { size: 1_048_576, fill: 7 }, { into })
  t.equal(r.data.buffer, into.buffer, 'data is a view of the caller\'s buffer')
  t.equal(r.data.byteOffset, into.byteOffset, '…from its first byte')
  t.ok(r.data.equals(payload(1_048_576, 7)))
  t.ok(into.subarray(1_048_576).every(b => b === 0xee), 'nothing written past the reply')
  // the same buffer again: the next reply overwrites it in place
  const r2 = await client.call(TestProgram.procs.READ, { size: 500_000, fill: 9 }, { into })
  t.equal(r2.data.buffer, into.buffer)
  t.ok(r2.data.equals(payload(500_000, 9)))
  const small = Buffer.alloc(1000)
  const r3 = await client.call(TestProgram.procs.READ, { size: 300_000, fill: 3 }, { into: small })
  t.not(r3.data.buffer, small.buffer, 'a reply longer than `into` gets its own buffer')
  t.ok(r3.data.equals(payload(300_000, 3)))
  t.ok(small.every(b => b === 0), '`into` untouched')
  const r4 = await client.call(TestProgram.procs.READ, { size: 100, fill: 3 }, { into })
  t.ok(r4.data.equals(payload(100, 3)), 'a small reply decodes as usual')
})

t.test('into: a call aborted or timed out while its reply is being read never writes into the buffer afterwards', async t => {
  for (const how of ['abort', 'timeout'] as const) {
    let release!: () => void
    const gate = new Promise<void>(resolve => { release = resolve })
    let finished!: () => void
    const done = new Promise<void>(resolve => { finished = resolve })
    const address = await rawServer(t, s => {
      const dec = new RecordDecoder()
      s.on('data', c => {
        for (const r of dec.push(c)) {
          const xid = r.readUInt32BE(0)
          const args = r.subarray(r.length - 8)
          const size = args.readUInt32BE(0)
          const bytes = Buffer.concat(encodeReplyRecord(new XdrWriter(), { xid, mtype: 1, reply_stat: 0, verf: NULL_AUTH, accept_stat: 0 },
            TestProgram.procs.READ.res, { op_ret: size, op_errno: 0, data: payload(size, args.readUInt32BE(4)) }))
          if (size < 1000) { s.write(bytes); continue }
          // the first 200 KiB now, the rest once the test says so
          s.write(bytes.subarray(0, 200_000))
          void gate.then(() => { s.write(bytes.subarray(200_000), () => { finished() }) })
        }
      })
    })
    const client = await RpcClient.connect(address)
    t.teardown(() => { client.destroy() })
    const into = Buffer.alloc(1_048_576, 0xee)
    const ac = new AbortController()
    const call = client.call(TestProgram.procs.READ, { size: 1_048_576, fill: 5 }, how === 'abort' ? { into, signal: ac.signal } : { into, timeoutMs: 300 })
    for (let i = 0; i < 200 && client.socket.bytesRead < 200_000; i++) await new Promise(resolve => setTimeout(resolve, 5))
    t.equal(client.socket.bytesRead, 200_000, `${how}: part of the reply was read`)
    t.notOk(into.every(b => b === 0xee), `${how}: …into the caller's buffer`)
    if (how === 'abort') ac.abort()
    await t.rejects(call, how === 'abort' ? { name: 'AbortError' } : { code: 'EGLUSTER_TIMEOUT' })
    into.fill(0xee) // the caller reuses its buffer
    release()
    await done
    // the next reply proves the rest of the abandoned one was read (and thrown away)
    const r = await client.call(TestProgram.procs.READ, { size: 100, fill: 6 })
    t.ok(r.data.equals(payload(100, 6)), `${how}: the connection stays in step`)
    t.ok(into.every(b => b === 0xee), `${how}: nothing written into the buffer after the call settled`)
    t.equal(client.stats.unknownXidReplies, 0, `${how}: the abandoned reply is dropped, not decoded`)
    client.destroy()
  }
})
