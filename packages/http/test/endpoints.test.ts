// /healthz, /metrics, precompressed siblings, methods (405/OPTIONS), the access-log callback,
// the small-file cache and graceful close.
import t from 'tap'
import { gzipSync, brotliCompressSync } from 'node:zlib'
import { request } from 'undici'
import { serve } from './helpers.js'
import type { AccessLogEntry } from '../src/index.js'

t.test('/healthz reports each mount and brick (healthDetails); /metrics is Prometheus text', async t => {
  const s = await serve(t, { '/a': 'a' }, {}, { healthDetails: true })
  const h = await fetch(s.url + '/healthz')
  t.equal(h.status, 200)
  t.equal(h.headers.get('cache-control'), 'no-store')
  const body = await h.json() as { status: string, mounts: Array<{ bricks: Array<{ state: string }> }> }
  t.equal(body.status, 'ok')
  t.equal(body.mounts[0]!.bricks.length, 3)
  t.ok(body.mounts[0]!.bricks.every(b => b.state === 'up'))
  await fetch(s.url + '/a')
  await fetch(s.url + '/missing')
  const m = await (await fetch(s.url + '/metrics')).text()
  t.match(m, /gluster_http_requests_total\{mount="\/",method="GET",status="200"\} [1-9]/)
  t.match(m, /gluster_http_requests_total\{mount="\/",method="GET",status="404"\} 1/)
  t.match(m, /gluster_http_request_duration_seconds_bucket/)
  t.match(m, /gluster_http_mount_up\{mount="\/",volume="vol1"\} 1/)
  t.match(m, /gluster_brick_connects_total/)
  await s.cluster.stopBrick(2)
  for (let i = 0; i < 100 && s.gateway.health().status === 'ok'; i++) await new Promise(resolve => setTimeout(resolve, 20))
  t.equal(s.gateway.health().status, 'degraded')
  t.match(await (await fetch(s.url + '/metrics')).text(), /gluster_brick_disconnects_total\{brick="[^"]+b2"\} 1/)
})

t.test('precompressed .br/.gz siblings by Accept-Encoding, with Vary', async t => {
  const text = 'body { color: red }\n'.repeat(50)
  const s = await serve(t, { '/app.css': text, '/app.css.gz': gzipSync(text), '/app.css.br': brotliCompressSync(text), '/plain.css': text })
  const br = await request(s.url + '/app.css', { headers: { 'accept-encoding': 'gzip, br' } })
  t.equal(br.headers['content-encoding'], 'br')
  t.equal(br.headers['content-type'], 'text/css; charset=utf-8')
  t.equal(br.headers.vary, 'Accept-Encoding')
  t.same(Buffer.from(await br.body.arrayBuffer()), brotliCompressSync(text))
  const gz = await request(s.url + '/app.css', { headers: { 'accept-encoding': 'gzip' } })
  t.equal(gz.headers['content-encoding'], 'gzip')
  await gz.body.arrayBuffer()
  const id = await request(s.url + '/app.css', { headers: { 'accept-encoding': 'identity' } })
  t.equal(id.headers['content-encoding'], undefined)
  t.equal(await id.body.text(), text)
  const none = await request(s.url + '/plain.css', { headers: { 'accept-encoding': 'gzip, br' } })
  t.equal(none.headers['content-encoding'], undefined, 'no sibling: identity')
  t.equal(none.headers.vary, 'Accept-Encoding')
  await none.body.arrayBuffer()
  t.not(br.headers.etag, id.headers.etag, 'each representation has its own ETag')
})

t.test('methods: OPTIONS 204 with Allow; others 405 with Allow', async t => {
  const s = await serve(t, { '/a': 'a' })
  const o = await fetch(s.url + '/a', { method: 'OPTIONS' })
  t.equal(o.status, 204)
  t.equal(o.headers.get('allow'), 'GET, HEAD, OPTIONS')
  for (const m of ['POST', 'PUT', 'DELETE', 'PATCH', 'MKCOL']) {
    const r = await request(s.url + '/a', { method: m, body: m === 'POST' || m === 'PUT' ? 'x' : null })
    t.equal(r.statusCode, 405, m)
    t.equal(r.headers.allow, 'GET, HEAD, OPTIONS')
    await r.body.arrayBuffer()
  }
})

t.test('access-log callback: one entry per request with status, bytes, mount', async t => {
  const log: AccessLogEntry[] = []
  const s = await serve(t, { '/a.txt': 'abc' }, {}, { onRequest: e => log.push(e) })
  await (await fetch(s.url + '/a.txt')).text()
  await (await fetch(s.url + '/nope')).text()
  for (let i = 0; i < 50 && log.length < 2; i++) await new Promise(resolve => setTimeout(resolve, 10))
  t.match(log, [{ method: 'GET', url: '/a.txt', status: 200, bytes: 3, mount: '/' }, { method: 'GET', url: '/nope', status: 404 }])
  t.notOk(log[0]!.aborted)
})

t.test('the metadata cache: a second request within the TTL needs no brick round trip', async t => {
  const s = await serve(t, { '/c.txt': 'cached' }, { cacheTtlMs: 60_000 })
  t.equal(await (await fetch(s.url + '/c.txt')).text(), 'cached')
  await Promise.all([s.cluster.stopBrick(0), s.cluster.stopBrick(1), s.cluster.stopBrick(2)])
  t.equal(await (await fetch(s.url + '/c.txt')).text(), 'cached', 'served from the cache with every brick down')
  const m = await (await fetch(s.url + '/metrics')).text()
  t.match(m, /gluster_http_cache_hits_total\{mount="\/"\} [1-9]/)
})

t.test('close() drains: the request in flight completes, new ones get 503', async t => {
  const big = Buffer.alloc(4 * 1024 * 1024, 7)
  const s = await serve(t, { '/big': big }, { volumeOptions: { readChunkBytes: 65536, readWindow: 1 } })
  const r = await request(s.url + '/big')
  const it = r.body[Symbol.asyncIterator]()
  const first = await it.next()
  const closing = s.gateway.close({ timeoutMs: 10_000 })
  const again = await fetch(s.url + '/big')
  t.equal(again.status, 503)
  t.equal(again.headers.get('connection'), 'close')
  let got = (first.value as Buffer).length
  for (let n = await it.next(); n.done !== true; n = await it.next()) got += (n.value as Buffer).length
  t.equal(got, big.length, 'the download in flight completed')
  await closing
})
