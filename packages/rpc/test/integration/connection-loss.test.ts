import t from 'tap'
import { once } from 'node:events'
import { RpcClient } from '@gluster-ts/rpc'
import { startPair, rawServer, TestProgram } from './fixtures.js'

t.test('the server dropping the connection fails every pending call with EGLUSTER_CONNECTION_LOST', async t => {
  const { client } = await startPair(t)
  const pending = Array.from({ length: 5 }, () => client.call(TestProgram.procs.HANG, undefined))
  const closed = once(client, 'close')
  // KICK 4: the handler destroys its own connection
  const kicked = client.call(TestProgram.procs.KICK, { what: 4 })
  for (const p of [...pending, kicked]) {
    await t.rejects(p, { name: 'GlusterError', code: 'EGLUSTER_CONNECTION_LOST', peer: client.peer, message: new RegExp(`connection to ${client.peer} lost`) })
  }
  const [err] = await closed
  t.match(err, { code: 'EGLUSTER_CONNECTION_LOST' })
  t.ok(client.closed)
  await t.rejects(client.call(TestProgram.procs.ECHO, { n: 1, s: '' }), { code: 'EGLUSTER_CONNECTION_LOST' }, 'later calls fail the same way')
})

t.test('a peer that resets the connection: the cause is kept', async t => {
  const address = await rawServer(t, s => { s.once('data', () => { s.resetAndDestroy() }) })
  const client = await RpcClient.connect(address)
  t.teardown(() => { client.destroy() })
  await t.rejects(client.call(TestProgram.procs.ECHO, { n: 1, s: '' }), {
    code: 'EGLUSTER_CONNECTION_LOST', message: /ECONNRESET/, cause: { code: 'ECONNRESET' },
  })
})

t.test('a peer that closes mid-record', async t => {
  const address = await rawServer(t, s => { s.once('data', () => { s.end(Buffer.from('8000010000000002', 'hex')) }) })
  const client = await RpcClient.connect(address)
  t.teardown(() => { client.destroy() })
  await t.rejects(client.call(TestProgram.procs.ECHO, { n: 1, s: '' }), { code: 'EGLUSTER_CONNECTION_LOST' })
})

t.test('an RpcClient made from an already-destroyed socket is closed', async t => {
  const address = await rawServer(t, () => {})
  const c = await RpcClient.connect(address)
  c.socket.destroy()
  const fresh = new RpcClient(c.socket)
  await once(fresh, 'close')
  t.ok(fresh.closed)
  c.destroy()
})
