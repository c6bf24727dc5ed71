// Connections an RpcServer serves at once, in all and per peer address: past either cap a new
// connection is closed as it arrives, and the ones being served keep working.
import t from 'tap'
import { RpcServer, RpcClient, RecordBudget, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS_PER_PEER } from '@gluster-ts/rpc'
import { TestProgram, testHandlers } from './fixtures.js'
import { rawConnect, waitFor, echoRecord } from './raw-peer.js'
import type { RawPeer } from './raw-peer.js'

t.test('maxConnectionsPerPeer and maxConnections', async t => {
  t.equal(DEFAULT_MAX_CONNECTIONS, 1024)
  t.equal(DEFAULT_MAX_CONNECTIONS_PER_PEER, 256)
  const server = new RpcServer({ maxConnections: 5, maxConnectionsPerPeer: 3, recordBudget: new RecordBudget() })
  server.register(TestProgram, testHandlers)
  const address = await server.listen(0, '127.0.0.1')
  t.teardown(() => server.close({ timeoutMs: 100 }))
  const served: RawPeer[] = []
  for (let i = 0; i < 3; i++) served.push(await rawConnect(t, address))
  await waitFor(t, '3 served', () => server.connections.size === 3)
  // a fourth from 127.0.0.1: closed as it arrives
  const fourth = await rawConnect(t, address)
  await fourth.closedP
  t.equal(server.stats.closed.peerFull, 1)
  // other peer addresses (all of 127/8 is loopback) are served up to maxConnections
  const client2 = await RpcClient.connect(address, { localAddress: '127.0.0.2' })
  t.teardown(() => { client2.destroy() })
  served.push(await rawConnect(t, address, { localAddress: '127.0.0.3' }))
  await waitFor(t, '5 served', () => server.connections.size === 5)
  const sixth = await rawConnect(t, address, { localAddress: '127.0.0.4' })
  await sixth.closedP
  t.equal(server.stats.closed.serverFull, 1)
  t.equal(server.stats.connections, 5, 'refused connections are not counted as served')
  // those served keep working
  t.equal((await client2.call(TestProgram.procs.ECHO, { n: 7, s: '' })).n, 7)
  await served[0]!.write(echoRecord(9))
  await waitFor(t, 'reply', () => served[0]!.receivedBytes > 0)
  t.equal(Buffer.concat(served[0]!.received).readUInt32BE(4), 9)
  // one from 127.0.0.1 goes: another from there is served again
  served[1]!.socket.destroy()
  await waitFor(t, '4 served', () => server.connections.size === 4)
  const again = await rawConnect(t, address)
  await waitFor(t, '5 served again', () => server.connections.size === 5)
  t.notOk(again.closed)
  await again.write(echoRecord(11))
  await waitFor(t, 'reply', () => again.receivedBytes > 0)
  t.equal(server.stats.closed.peerFull, 1)
  t.equal(server.stats.closed.serverFull, 1)
})
