import t from 'tap'
import net from 'node:net'
import { once } from 'node:events'
import { RecordDecoder, encodeCallRecord, XdrWriter } from '@gluster-ts/rpc'
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
  const { address } = await startPair(t, {
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
  // now read everything: every call is answered, in order, with its own payload
  const dec = new RecordDecoder()
  const replies: Buffer[] = []
  s.on('data', c => { replies.push(...dec.push(c)) })
  s.resume()
  while (replies.length < N) await turn()
  t.equal(started, N)
  t.same(replies.map(r => r.readUInt32BE(0)), Array.from({ length: N }, (_, i) => i + 1))
  t.ok(replies.every((r, i) => r.length === 32 + size && r[32] === (i & 0xff) && r[r.length - 1] === (i & 0xff)))
})

t.test('maxInflightPerConnection bounds running handlers; maxQueuedPerConnection pauses reading', async t => {
  let running = 0
  let most = 0
  const { client, server } = await startPair(t, {
    server: { maxInflightPerConnection: 3, maxQueuedPerConnection: 4 },
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
  while (conn.queued === 0 && conn.inflight === 0) await turn()
  sawPaused = conn.socket.isPaused()
  const results = await Promise.all(calls)
  t.same(results.map(r => r.n), Array.from({ length: 40 }, (_, i) => i))
  t.equal(most, 3, 'never more than 3 handlers at once')
  t.ok(sawPaused, 'reading paused while the queue was full')
  t.notOk(conn.socket.isPaused(), 'and resumed')
  t.equal(conn.queued, 0)
})
