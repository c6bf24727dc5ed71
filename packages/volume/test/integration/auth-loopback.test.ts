// Our volume client against our server with authentication on: it takes username/password from
// the (trusted) volfile and sends them in SETVOLUME, so a volume whose auth.allow does not list
// our address still serves it; a wrong password is a typed EGLUSTER_AUTH naming the brick.
import t from 'tap'
import { join } from 'node:path'
import { GlusterError } from '@gluster-ts/rpc'
import { startCluster } from '../../../../test-cluster/ts-cluster.js'
import { Volume } from '../../src/index.js'

t.test('auth.allow without our address: the trusted volfile\'s credentials get us in', async t => {
  // 198.51.100.7 (TEST-NET-2) is nobody here: only the credentials can make SETVOLUME pass
  const c = await startCluster({ dir: join(t.testdir(), 'c'), replica: 3, port: 0, authAllow: '198.51.100.7' })
  t.teardown(() => c.close())
  const vol = await Volume.connect({ servers: c.volfileServer, volume: c.volume.name })
  t.teardown(() => vol.close())
  await vol.writeFile('/hello.txt', 'hi')
  t.equal((await vol.readFile('/hello.txt')).toString(), 'hi', 'reads and writes')
})

t.test('a wrong password: EGLUSTER_AUTH naming the brick, without waiting out the connect deadline', async t => {
  const c = await startCluster({ dir: join(t.testdir(), 'c'), replica: 3, port: 0, authAllow: '198.51.100.7' })
  t.teardown(() => c.close())
  const err = await Volume.connect({
    servers: c.volfileServer, volume: c.volume.name, connectTimeoutMs: 60_000,
    xlatorOptions: { 'vol1-client-*': { password: 'not-the-password' } },
  }).then(() => undefined, (e: unknown) => e)
  t.ok(err instanceof GlusterError, 'a GlusterError')
  const e = err as GlusterError
  t.equal(e.code, 'EGLUSTER_AUTH')
  t.match(e.brick, /^127\.0\.0\.1:\d+:.*\/bricks\/vol1\/b\d$/, 'naming the brick (host:port:path)')
  t.match(e.message, /refused the client at SETVOLUME/)
  t.match(e.message, /Authentication failed/, 'with the brick\'s own words')
  const cause = e.cause as GlusterError
  t.equal(cause.code, 'EGLUSTER_AUTH', 'the cause is the brick client\'s error')
  t.equal(cause.errno, 13)
  t.equal(cause.brick, e.brick)
})

t.test('a wrong password, address allowed: still refused (a wrong password is a REJECT)', async t => {
  const c = await startCluster({ dir: join(t.testdir(), 'c'), replica: 1, port: 0 })
  t.teardown(() => c.close())
  await t.rejects(Volume.connect({
    servers: c.volfileServer, volume: c.volume.name,
    xlatorOptions: { 'vol1-client-*': { password: 'not-the-password' } },
  }), { code: 'EGLUSTER_AUTH' })
})
