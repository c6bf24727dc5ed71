// What an operator relies on: /healthz says whether reads can be served (and keeps brick paths to
// itself unless asked), /readyz says whether start-up is over, dotfiles stay private, responses
// say nosniff and run volume HTML in a sandbox, the access log and the byte counter count what
// was sent, a mount can serve a directory of its volume, and a plugin server entry that can never
// connect is refused.
import t from 'tap'
import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { createHash, randomBytes } from 'node:crypto'
import { request } from 'undici'
import { startCluster } from '../../../test-cluster/ts-cluster.js'
import { createGateway, parseMountSpec, type AccessLogEntry } from '../src/index.js'
import { seed, serve, tmpDir } from './helpers.js'

const until = async (what: string, check: () => boolean): Promise<void> => {
  for (let i = 0; i < 400 && !check(); i++) await new Promise(resolve => setTimeout(resolve, 25))
  if (!check()) throw new Error(`timed out waiting for ${what}`)
}

t.test('/healthz: 200 only while every mount can serve reads; the body names no brick unless asked', async t => {
  const s = await serve(t, { '/f.txt': 'x' }, { cacheTtlMs: 0 })
  const hz = async (): Promise<{ status: number, body: unknown, text: string }> => {
    const r = await fetch(s.url + '/healthz')
    const text = await r.text()
    return { status: r.status, body: JSON.parse(text), text }
  }
  t.same(await hz(), { status: 200, body: { status: 'ok' }, text: '{"status":"ok"}' })
  await s.cluster.stopBrick(2)
  await until('brick 2 seen down', () => s.gateway.health().status !== 'ok')
  t.match(await hz(), { status: 200, body: { status: 'degraded' } }, 'one of three down: reads still work')
  t.equal((await fetch(s.url + '/f.txt')).status, 200)
  await s.cluster.stopBrick(1)
  await until('brick 1 seen down', () => s.gateway.health().mounts[0]!.bricks.filter(b => b.state === 'up').length === 1)
  t.equal((await fetch(s.url + '/f.txt')).status, 503, 'two of three down: no quorum for a read')
  t.match(await hz(), { status: 503, body: { status: 'down' } }, 'and /healthz agrees')
  await s.cluster.stopBrick(0)
  await until('every brick seen down', () => s.gateway.health().mounts[0]!.bricks.every(b => b.state !== 'up'))
  const all = await hz()
  t.match(all, { status: 503, body: { status: 'down' } }, 'every brick down: 503 (a load balancer drops the node)')
  t.notMatch(all.text, /brick|127\.0\.0\.1|\/b\d/, 'no brick names, addresses or paths')
  t.equal(s.gateway.health().mounts[0]!.status, 'down', 'gateway.health() has the details')
})

t.test('/healthz with healthDetails: mounts, bricks, states', async t => {
  const s = await serve(t, { '/f.txt': 'x' }, {}, { healthDetails: true })
  const body = await (await fetch(s.url + '/healthz')).json() as { status: string, mounts: Array<{ status: string, bricks: unknown[] }> }
  t.match(body, { status: 'ok', mounts: [{ mountpoint: '/', status: 'ok', state: 'up' }] })
  t.equal(body.mounts[0]!.bricks.length, 3)
})

t.test('/healthz of a distributed volume: every replica set must serve', async t => {
  const c = await startCluster({ dir: tmpDir(t), replica: 1, distribute: 2, port: 0 })
  t.teardown(() => c.close())
  const gw = await createGateway({ mounts: [{ mountpoint: '/', volume: c.volume.name, servers: [c.volfileServer] }] })
  t.teardown(() => gw.close({ timeoutMs: 1000 }))
  t.equal(gw.health().status, 'ok')
  await c.stopBrick(1)
  await until('brick 1 seen down', () => gw.health().status !== 'ok')
  t.equal(gw.health().status, 'down', 'half the files cannot be read')
})

t.test('/readyz: 503 until every mount has connected once, 200 after, 503 while closing', async t => {
  // a port nothing listens on yet: the mount's first attempt fails and it retries
  const probe = net.createServer()
  await new Promise<void>(resolve => probe.listen(0, '127.0.0.1', resolve))
  const port = (probe.address() as AddressInfo).port
  await new Promise<void>(resolve => probe.close(() => resolve()))
  const gw = await createGateway({ mounts: [{ mountpoint: '/', volume: 'late', servers: [`127.0.0.1:${port}`] }], reconnectInitialMs: 100, reconnectMaxMs: 200 })
  let closed = false
  t.teardown(() => closed ? undefined : gw.close({ timeoutMs: 1000 }))
  const server = http.createServer(gw.handler)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) }))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const rz = async (): Promise<[number, unknown]> => { const r = await fetch(url + '/readyz'); return [r.status, await r.json()] }
  t.same(await rz(), [503, { status: 'starting' }])
  const c = await startCluster({ dir: tmpDir(t), replica: 1, port, volume: 'late' })
  t.teardown(() => c.close())
  await until('the mount to connect', () => gw.readiness() === 'ready')
  t.same(await rz(), [200, { status: 'ready' }])
  const closing = gw.close({ timeoutMs: 1000 })
  closed = true
  t.equal(gw.readiness(), 'stopping')
  await closing
})

t.test('dotfiles are private by default: /.env and /.git/config 404, left out of listings; .well-known served', async t => {
  const s = await serve(t, { '/.env': 'SECRET=1', '/.git/config': '[core]', '/.well-known/security.txt': 'Contact: x', '/pub.txt': 'p' }, { listing: true })
  t.equal((await fetch(s.url + '/.env')).status, 404)
  t.equal((await fetch(s.url + '/.git/config')).status, 404)
  t.equal((await fetch(s.url + '/.well-known/security.txt')).status, 200)
  const list = await (await fetch(s.url + '/?format=json')).json() as Array<{ name: string }>
  t.same(list.map(e => e.name), ['.well-known', 'pub.txt'])
  const allow = await serve(t, { '/.env': 'SECRET=1' }, { dotfiles: 'allow' })
  t.equal((await fetch(allow.url + '/.env')).status, 200, 'dotfiles: allow serves them')
})

t.test('files: X-Content-Type-Options nosniff; HTML, SVG and XML run in a sandbox of their own', async t => {
  const svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
  const s = await serve(t, { '/p.html': '<script>fetch("/healthz")</script>', '/i.svg': svg, '/t.txt': 'text', '/d.pdf': '%PDF-1.4', '/big.bin': randomBytes(200_000) })
  for (const p of ['/p.html', '/i.svg', '/t.txt', '/d.pdf', '/big.bin']) {
    const r = await request(s.url + p, { headers: p === '/big.bin' ? { range: 'bytes=0-9' } : {} })
    await r.body.dump()
    t.equal(r.headers['x-content-type-options'], 'nosniff', p)
    const sandboxed = p === '/p.html' || p === '/i.svg'
    t.equal(typeof r.headers['content-security-policy'] === 'string' && /^sandbox( |$)/.test(r.headers['content-security-policy']), sandboxed, `${p}: sandbox ${sandboxed}`)
    t.notMatch(String(r.headers['content-security-policy']), /allow-same-origin/, `${p}: never the gateway's origin`)
  }
  const off = await serve(t, { '/p.html': '<p>site</p>' }, { sandbox: false })
  const r = await request(off.url + '/p.html')
  await r.body.dump()
  t.equal(r.headers['content-security-policy'], undefined, 'sandbox: false (a site that needs its origin)')
  t.equal(r.headers['x-content-type-options'], 'nosniff')
})

t.test('the access log and gluster_http_response_bytes_total count what was sent, streamed or not', async t => {
  const log: AccessLogEntry[] = []
  const big = randomBytes(20 << 20)
  // a copy of each entry as the callback gets it: what a logger writes at that moment
  const s = await serve(t, { '/big.bin': big, '/d/': '' }, {}, { onRequest: e => log.push({ ...e }) })
  const metric = async (): Promise<number> => {
    const m = /^gluster_http_response_bytes_total\{mount="\/"\} (\d+)/m.exec(await (await fetch(s.url + '/metrics')).text())
    return m === null ? 0 : Number(m[1])
  }
  const before = await metric()
  const r = await fetch(s.url + '/big.bin')
  const got = Buffer.from(await r.arrayBuffer())
  t.equal(createHash('sha256').update(got).digest('hex'), createHash('sha256').update(big).digest('hex'))
  await until('the log entry', () => log.some(e => e.url === '/big.bin'))
  t.equal(log.find(e => e.url === '/big.bin')!.bytes, big.length, 'the access log: 20 MiB')
  t.equal(await metric() - before, big.length, 'the counter (mount "/"): 20 MiB')
  const redirect = await request(s.url + '/d')
  const rb = await redirect.body.text()
  t.equal(redirect.statusCode, 301)
  const hz = await request(s.url + '/healthz')
  const hb = await hz.body.text()
  await until('the log entries', () => log.some(e => e.url === '/d') && log.some(e => e.url === '/healthz'))
  t.equal(log.find(e => e.url === '/d')!.bytes, Buffer.byteLength(rb), '301: its body')
  t.equal(log.find(e => e.url === '/healthz')!.bytes, Buffer.byteLength(hb), '/healthz: its body')
  t.ok(Buffer.byteLength(rb) > 0 && Buffer.byteLength(hb) > 0)
})

t.test('a mount can serve a directory of its volume (subdir, as nginx alias)', async t => {
  const s = await serve(t, { '/site/index.html': '<h1>site</h1>', '/site/a/b.txt': 'b', '/private.txt': 'no' }, { subdir: '/site', listing: true })
  t.equal(await (await fetch(s.url + '/a/b.txt')).text(), 'b')
  t.equal(await (await fetch(s.url + '/')).text(), '<h1>site</h1>')
  t.equal((await fetch(s.url + '/private.txt')).status, 404, 'nothing above the subdir')
  const r = await request(s.url + '/a')
  await r.body.dump()
  t.equal(r.headers.location, '/a/', 'redirects name the URL path, not the volume path')
})

t.test('plugin server entries: a host without a port is refused (it would be a relative socket path)', async t => {
  t.throws(() => parseMountSpec('mountpoint=/f,volume=v,server=gl1'), /server entry "gl1" has no port.*write gl1:0/)
  t.throws(() => parseMountSpec('mountpoint=/f,volume=v,server=a:0;gl2'), /"gl2"/)
  t.same(parseMountSpec('volume=v,server=/run/glusterd.socket').servers, ['unix:/run/glusterd.socket'], 'an absolute socket path is fine')
})
