// Mounts: the uWSGI plugin's syntax verbatim, the JSON config, longest prefix, and a mount whose
// cluster is down answering 503 (Retry-After) while the others serve, then recovering by itself.
import t from 'tap'
import net from 'node:net'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { startCluster } from '../../../test-cluster/ts-cluster.js'
import { parseMountSpec, loadGatewayConfig, createGateway } from '../src/index.js'
import { seed, serve, tmpDir } from './helpers.js'

t.test('parseMountSpec: the plugin syntax verbatim', async t => {
  t.same(parseMountSpec('mountpoint=/foo,volume=v2,server=a:0;b:0;c:0'), { mountpoint: '/foo', volume: 'v2', servers: ['a:24007', 'b:24007', 'c:24007'] })
  t.same(parseMountSpec('mountpoint=/x,volume=v,server=10.0.0.1:24008;/run/glusterd.socket').servers, ['10.0.0.1:24008', 'unix:/run/glusterd.socket'])
  t.same(parseMountSpec('mountpoint=/x,volume=v,server=[::1]:0').servers, ['[::1]:24007'])
  t.same(parseMountSpec('volume=v').servers, ['localhost:24007'], 'the plugin defaults to localhost')
  t.same(parseMountSpec('mountpoint=/x,volume=v,server=h:0,timeout=3,listing=1,dotfiles=deny,cache-ttl-ms=250,write-token=abcdefgh12'),
    { mountpoint: '/x', volume: 'v', servers: ['h:24007'], requestTimeoutMs: 3000, listing: true, dotfiles: 'deny', cacheTtlMs: 250, writes: { token: 'abcdefgh12' } })
  for (const bad of ['', 'mountpoint=/x', 'mountpoint=/x,volume=v,server=h:99999', 'volume=v,bogus=1', 'volume=v,volume=w', 'volume=v,listing=maybe', 'novalue', 'volume=v,server=h:x']) {
    t.throws(() => parseMountSpec(bad), TypeError, JSON.stringify(bad))
  }
})

t.test('loadGatewayConfig: JSON, mounts as objects or plugin strings; bad files refused', async t => {
  const f = join(tmpDir(t), 'gw.json')
  await writeFile(f, JSON.stringify({ host: '0.0.0.0', port: 8080, workers: 2, mounts: ['mountpoint=/a,volume=v,server=h:0', { mountpoint: '/b', volume: 'w', servers: 'x:1;y:2', listing: true }] }))
  const c = await loadGatewayConfig(f)
  t.equal(c.port, 8080)
  t.equal(c.workers, 2)
  t.same(c.mounts[0], { mountpoint: '/a', volume: 'v', servers: ['h:24007'] })
  t.same(c.mounts[1], { mountpoint: '/b', volume: 'w', servers: ['x:1', 'y:2'], listing: true })
  await writeFile(f, '{"mounts": []}')
  await t.rejects(loadGatewayConfig(f), TypeError)
  await writeFile(f, '{"mounts": [{"mountpoint": "x", "volume": "v", "servers": ["h"]}]}')
  await t.rejects(loadGatewayConfig(f), /mountpoint must start/)
  await writeFile(f, 'mounts: []')
  await t.rejects(loadGatewayConfig(f), /not JSON/)
})

t.test('longest prefix wins; paths outside every mount are 404', async t => {
  const s = await serve(t, { '/f.txt': 'root-vol' }, { mountpoint: '/data' })
  const c2 = await startCluster({ dir: tmpDir(t), replica: 1, port: 0, volume: 'other' })
  t.teardown(() => c2.close())
  seed(c2, { '/f.txt': 'inner-vol' })
  const gw = await createGateway({
    mounts: [
      { mountpoint: '/data', volume: s.cluster.volume.name, servers: [s.cluster.volfileServer] },
      { mountpoint: '/data/inner', volume: 'other', servers: [c2.volfileServer] },
    ],
  })
  t.teardown(() => gw.close())
  const server = http.createServer(gw.handler)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) }))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  t.equal(await (await fetch(url + '/data/f.txt')).text(), 'root-vol')
  t.equal(await (await fetch(url + '/data/inner/f.txt')).text(), 'inner-vol')
  t.equal((await fetch(url + '/datax/f.txt')).status, 404)
  t.equal((await fetch(url + '/f.txt')).status, 404)
  const r = await fetch(url + '/data/inner', { redirect: 'manual' })
  t.equal(r.status, 301)
  t.equal(r.headers.get('location'), '/data/inner/')
})

async function freePort (): Promise<number> {
  const s = net.createServer()
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
  const p = (s.address() as AddressInfo).port
  await new Promise<void>(resolve => s.close(() => resolve()))
  return p
}

t.test('a mount whose cluster is down answers 503 + Retry-After, the others serve, and it recovers', async t => {
  const s = await serve(t, { '/ok.txt': 'fine' })
  const port = await freePort()
  const errors: string[] = []
  const gw = await createGateway({
    reconnectInitialMs: 50,
    reconnectMaxMs: 200,
    onError: (e, c) => { errors.push(`${c.kind} ${c.mount}: ${(e as { code?: string }).code}`) },
    mounts: [
      { mountpoint: '/up', volume: s.cluster.volume.name, servers: [s.cluster.volfileServer] },
      { mountpoint: '/late', volume: 'late', servers: [`127.0.0.1:${port}`], retryAfterSec: 7, volumeOptions: { bootstrapTimeoutMs: 1000 } },
    ],
  })
  t.teardown(() => gw.close())
  const server = http.createServer(gw.handler)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) }))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const r = await fetch(url + '/late/x.txt')
  t.equal(r.status, 503)
  t.equal(r.headers.get('retry-after'), '7')
  t.equal(await (await fetch(url + '/up/ok.txt')).text(), 'fine')
  t.equal(gw.health().status, 'down')
  const hz = await fetch(url + '/healthz')
  t.equal(hz.status, 503)
  t.same(await hz.json(), { status: 'down' }, 'no details unless asked for')
  t.match(gw.health(), { mounts: [{ mountpoint: '/late', state: 'down', status: 'down', error: /./ }, { mountpoint: '/up', state: 'up', status: 'ok' }] })
  t.match(errors[0], /^connect \/late: EGLUSTER_NOVOLFILE/)

  const late = await startCluster({ dir: tmpDir(t), replica: 1, port, volume: 'late' })
  t.teardown(() => late.close())
  seed(late, { '/x.txt': 'recovered' })
  // the retry runs in the background: poll (bounded) until the mount is up
  for (let i = 0; i < 200 && gw.health().mounts.find(m => m.mountpoint === '/late')?.state !== 'up'; i++) await new Promise(resolve => setTimeout(resolve, 50))
  t.equal(await (await fetch(url + '/late/x.txt')).text(), 'recovered')
  t.equal(gw.health().status, 'ok')
})
