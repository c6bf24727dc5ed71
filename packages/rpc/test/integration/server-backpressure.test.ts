import t from 'tap'
import net from 'node:net'
import { once } from 'node:events'
import FakeTimers from '@sinonjs/fake-timers'
import { RecordDecoder, RecordBudget, encodeCallRecord, XdrWriter } from '@gluster-ts/rpc'
import type { ServerConnection } from '@gluster-ts/rpc'
import { startPair, testHandlers, TestProgram, payload } from './fixtures.js'

const turn = (): Promise<void> => new Promise(resolve => setImmediate(resolve))

/** Wait until `value()` has not changed for `quiet` event-loop turns (I/O has settled). */
async function settle (value: () => number, quiet = 50): Promise<number> {
  let last = value()
  let still = 0
  while (still < quiet) {
    await turn()
    const v = value()
    if (v === last) still++
    else { last = v; still = 0 }
  }
  return last
}

t.test('a peer that does not read: the server stops starting handlers until the socket drains', async t => {
  let started = 0
  const { address, server } = await startPair(t, {
    handlers: { ...testHandlers, READ: ({ size, fill }) => { started++; return { op_ret: size, op_errno: 0, data: payload(size, fill) } } },
  })
  const [host, port] = address.split(':') as [string, string]
  const s = net.connect({ host, port: Number(port) })
  t.teardown(() => { s.destroy() })
  await once(s, 'connect')
  s.pause() // never read: replies pile up in the server's socket
  const N = 64
  const size = 1024 * 1024
  const w = new XdrWriter()
  for (let i = 0; i < N; i++) {
    s.write(Buffer.concat(encodeCallRecord(w, { xid: i + 1, prog: TestProgram.prog, vers: TestProgram.vers, proc: TestProgram.procs.READ.num }, TestProgram.procs.READ.args, { size, fill: i })))
  }
  const held = await settle(() => started)
  t.ok(held < N, `handlers held back while the peer does not read (${held} of ${N} started)`)
  t.ok(held >= 1)
  const conn = [...server.connections].find(c => c.socket.remotePort === s.localPort)!
  t.ok(conn.socket.writableNeedDrain, 'the server waits for drain')
  t.ok(conn.readingPaused, 'and does not read that peer meanwhile (its calls stay in TCP, not in our memory)')
  // now read everything: every call is answered, in order, with its own payload
  const dec = new RecordDecoder()
  const replies: Buffer[] = []
  s.on('data', c => { replies.push(...dec.push(c)) })
  s.resume()
  while (replies.length < N) await turn()
  t.equal(started, N)
  t.notOk(conn.readingPaused, 'reading again once the replies were read')
  t.same(replies.map(r => r.readUInt32BE(0)), Array.from({ length: N }, (_, i) => i + 1))
  t.ok(replies.every((r, i) => r.length === 32 + size && r[32] === (i & 0xff) && r[r.length - 1] === (i & 0xff)))
})

t.test('maxInflightPerConnection bounds running handlers; reading pauses while that many run', async t => {
  let running = 0
  let most = 0
  const { client, server } = await startPair(t, {
    server: { maxInflightPerConnection: 3 },
    handlers: {
      ...testHandlers,
      DELAY: async ({ n }) => {
        running++
        most = Math.max(most, running)
        await turn()
        await turn()
        running--
        return { op_ret: 0, op_errno: 0, n, s: '' }
      },
    },
  })
  const conn = [...server.connections][0]!
  let sawPaused = false
  const calls = Array.from({ length: 40 }, (_, i) => client.call(TestProgram.procs.DELAY, { ms: 0, n: i }))
  const results = Promise.all(calls)
  let done = false
  void results.finally(() => { done = true })
  while (!done) {
    if (conn.readingPaused) sawPaused = true
    t.ok(!conn.readingPaused || conn.inflight === 3 || conn.queued > 0, 'paused only while the limit is reached or calls wait')
    await turn()
  }
  t.same((await results).map(r => r.n), Array.from({ length: 40 }, (_, i) => i))
  t.equal(most, 3, 'never more than 3 handlers at once')
  t.ok(sawPaused, 'reading paused while 3 ran')
  t.notOk(conn.readingPaused, 'and resumed')
  t.notOk(conn.socket.isPaused())
  t.equal(conn.queued, 0)
  t.equal(server.stats.callsInFlight, 0)
})

t.test('a peer that leaves our replies unread for stallTimeoutMs is closed; one that reads, however slowly, is not', async t => {
  const clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
  t.teardown(() => { clock.uninstall() })
  const { address, server } = await startPair(t, { server: { recordBudget: new RecordBudget() } })
  const size = 1024 * 1024
  const w = new XdrWriter()
  const flood = async (): Promise<{ s: net.Socket, conn: ServerConnection, replies: () => number }> => {
    const [host, port] = address.split(':') as [string, string]
    const s = net.connect({ host, port: Number(port) })
    s.on('error', () => {})
    t.teardown(() => { s.destroy() })
    await once(s, 'connect')
    const dec = new RecordDecoder()
    let replies = 0
    s.on('data', c => { replies += dec.push(c).length })
    s.pause()
    for (let i = 0; i < 64; i++) {
      s.write(Buffer.concat(encodeCallRecord(w, { xid: i + 1, prog: TestProgram.prog, vers: TestProgram.vers, proc: TestProgram.procs.READ.num }, TestProgram.procs.READ.args, { size, fill: i })))
    }
    let conn: ServerConnection | undefined
    while ((conn = [...server.connections].find(c => c.socket.remotePort === s.localPort)) === undefined || !conn.socket.writableNeedDrain) await turn()
    return { s, conn, replies: () => replies }
  }
  const stuck = await flood()
  const slow = await flood()
  clock.tick(30_000)
  // the slow one reads a few MiB: some of our writes complete
  const before = slow.s.bytesRead
  slow.s.resume()
  while (slow.s.bytesRead < before + 8 * 1024 * 1024) await turn()
  slow.s.pause()
  await settle(() => slow.s.bytesRead)
  clock.tick(12_000)
  while (!stuck.conn.closed) await turn() // (a peer that does not read would not see the reset)
  t.equal(server.stats.closed.replyStalled, 1, 'the peer that read nothing for 42 s was closed')
  t.notOk(slow.conn.closed, 'the one that read 12 s ago was not')
  t.equal(stuck.conn.closed, true)
  // the slow one reads everything in the end
  slow.s.resume()
  while (slow.replies() < 64) await turn()
  t.equal(server.stats.closed.replyStalled, 1)
})
