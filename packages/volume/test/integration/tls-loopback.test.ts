// Our volume client against our server with TLS (issue 14 item 2): the bricks serve TLS and the
// volfile says client.ssl on; auth.ssl-allow decides by the client certificate's CN; with
// management TLS glusterd speaks TLS too. Every refusal is a typed EGLUSTER_TLS, quickly.
import t from 'tap'
import { join } from 'node:path'
import { GlusterError } from '@gluster-ts/rpc'
import { startCluster } from '../../../../test-cluster/ts-cluster.js'
import type { Cluster } from '../../../../test-cluster/ts-cluster.js'
import { tlsFixturePath, type TlsFixture } from '../../../../test-cluster/tls-fixtures.js'
import { Volume } from '../../src/index.js'

const serverTls = { certFile: tlsFixturePath('server'), keyFile: tlsFixturePath('server', 'key'), caFile: tlsFixturePath('ca'), allow: 'gts-test-client' }
const clientTls = (who: TlsFixture, management = false): NonNullable<Parameters<typeof Volume.connect>[0]['tls']> =>
  ({ certFile: tlsFixturePath(who), keyFile: tlsFixturePath(who, 'key'), caFile: tlsFixturePath('ca'), management, secureAccessFile: '/nonexistent', env: {} })

async function refused (c: Cluster, who: TlsFixture, management = false): Promise<GlusterError> {
  const err = await Volume.connect({ servers: c.volfileServer, volume: c.volume.name, connectTimeoutMs: 10_000, bricksTimeoutMs: 20_000, tls: clientTls(who, management) })
    .then(v => { void v.close(); return undefined }, (e: unknown) => e)
  if (!(err instanceof GlusterError)) throw new Error(`expected a refusal, got ${String(err)}`)
  return err
}

t.test('I/O TLS, management plaintext: reads and writes; the CN decides; the volfile says so', async t => {
  const c = await startCluster({ dir: join(t.testdir(), 'c'), replica: 3, port: 0, tls: serverTls })
  t.teardown(() => c.close())
  const spec = c.glusterd.getSpec(c.volume.name)!.spec
  t.equal(spec.match(/option transport\.socket\.ssl-enabled on/g)?.length, 3, 'every protocol/client has TLS on')
  t.not(c.glusterd.portmapPort, c.port, 'the portmapper clients reach with TLS has a port of its own')
  t.match(spec, `option remote-port ${c.glusterd.portmapPort}`)
  const vol = await Volume.connect({ servers: c.volfileServer, volume: c.volume.name, tls: clientTls('client') })
  t.teardown(() => vol.close())
  for (const b of vol.bricks.values()) t.ok(b.up, `${b.label} up over TLS`)
  await vol.writeFile('/tls.txt', 'over TLS')
  t.equal((await vol.readFile('/tls.txt')).toString(), 'over TLS')
  for (const b of c.bricks) t.ok([...b!.rpc.connections].every(conn => conn.tlsName === 'gts-test-client'), 'the bricks saw our CN')

  const outsider = await refused(c, 'outsider')
  t.equal(outsider.code, 'EGLUSTER_TLS', outsider.message)
  t.equal(outsider.tlsReason, 'cn-not-allowed')
  const stranger = await refused(c, 'stranger')
  t.equal(stranger.code, 'EGLUSTER_TLS', stranger.message)
  // the TLS portmapper refuses it first (PORTBYBRICK): closed after the handshake, without an alert
  t.equal(stranger.tlsReason, 'closed')
  t.ok(c.bricks.every(b => [...b!.rpc.connections].every(conn => conn.tlsName === 'gts-test-client')), 'no brick serves the stranger')
})

t.test('management TLS: glusterd speaks TLS only; a client without management TLS is refused', async t => {
  const c = await startCluster({ dir: join(t.testdir(), 'c'), replica: 3, port: 0, tls: { ...serverTls, management: true } })
  t.teardown(() => c.close())
  t.equal(c.glusterd.portmapPort, c.port)
  const vol = await Volume.connect({ servers: c.volfileServer, volume: c.volume.name, tls: clientTls('client', true) })
  t.teardown(() => vol.close())
  t.equal(vol.managementTls, true)
  await vol.writeFile('/m.txt', 'management TLS')
  t.equal((await vol.readFile('/m.txt')).toString(), 'management TLS')
  const plain = await refused(c, 'client', false)
  t.equal(plain.code, 'EGLUSTER_TLS', plain.message)
  t.equal(plain.tlsReason, 'tls-required')
  t.equal(c.glusterd.rpc.connections.size, 1, 'only the TLS client is served')
})

t.test('without tls the cluster is plaintext as before', async t => {
  const c = await startCluster({ dir: join(t.testdir(), 'c'), replica: 1, port: 0 })
  t.teardown(() => c.close())
  t.match(c.glusterd.getSpec(c.volume.name)!.spec, 'option transport.socket.ssl-enabled off')
  t.equal(c.glusterd.portmapPort, c.port)
})
