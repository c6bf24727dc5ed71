// @gluster-ts/http against the REAL GlusterFS 10 cluster (test-cluster/real): files written through
// the FUSE mount, served by the gateway, checked with a real HTTP client (undici): every status and
// header, multipart bodies parsed back, HEAD = GET minus body, a 1 GiB download sha256-correct with
// flat memory, a Range-resumed download, a brick SIGKILLed mid-download, every brick down → 503
// (never a short 200), and bad input (traversal, NUL, invalid UTF-8, header floods, 10,000 idle
// connections) that leaves the gateway serving.
import t from 'tap'
import net from 'node:net'
import { spawn } from 'node:child_process'
import { createCipheriv, createHash, randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import { brotliCompressSync } from 'node:zlib'
import { superFastHash } from '@gluster-ts/volume/internals'
import { startGatewayServer, parseMountSpec } from '@gluster-ts/http'
import { loadRealCluster } from '../test-cluster/real/index.js'
import { rawGet, parseMultipart } from '../packages/http/test/helpers.js'

const cluster = loadRealCluster()
if ('skip' in cluster) {
  t.test('http gateway against the real cluster', { skip: `real cluster not available: ${cluster.skip}` }, async () => {})
} else {
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
  const top = `gts-http-${process.pid}`
  const serverSpec = cluster.nodes.map(n => `${n.ip}:0`).join(';')
  const mnt1 = await cluster.mount('vol1')
  const mnt2 = await cluster.mount('vol2')
  t.teardown(async () => {
    await rm(join(mnt1, top), { recursive: true, force: true })
    await rm(join(mnt2, top), { recursive: true, force: true })
  })

  /** `bytes` of AES-CTR keystream (fast, reproducible, incompressible), with its sha256. */
  function keystream (bytes: number, seed: string): { stream: Readable, sha: Promise<string> } {
    const c = createCipheriv('aes-128-ctr', createHash('md5').update(seed).digest(), Buffer.alloc(16))
    const h = createHash('sha256')
    const zero = Buffer.alloc(1 << 20)
    let left = bytes
    let done: (s: string) => void = () => {}
    const digest = new Promise<string>(resolve => { done = resolve })
    const stream = new Readable({
      read () {
        if (left === 0) { done(h.digest('hex')); this.push(null); return }
        const n = Math.min(left, zero.length)
        const out = c.update(zero.subarray(0, n))
        left -= n
        h.update(out)
        this.push(out)
      },
    })
    return { stream, sha: digest }
  }

  const files = new Map<string, Buffer>([
    ['small.txt', Buffer.from('hello gluster http\n')],
    ['4k.bin', randomBytes(4096)],
    ['mib1.bin', randomBytes(1 << 20)],
    ['mib10.bin', randomBytes(10 << 20)],
    ['site/index.html', Buffer.from('<h1>site</h1>\n')],
    ['site/app.js', Buffer.from('console.log(1)\n'.repeat(100))],
    ['with space/été.txt', Buffer.from('utf-8\n')],
    ['.hidden/x', Buffer.from('dot\n')],
  ])
  await mkdir(join(mnt1, top), { recursive: true })
  for (const [p, d] of files) {
    await mkdir(join(mnt1, top, p, '..'), { recursive: true })
    await writeFile(join(mnt1, top, p), d)
  }
  await writeFile(join(mnt1, top, 'site/app.js.br'), brotliCompressSync(files.get('site/app.js')!))
  await mkdir(join(mnt2, top), { recursive: true })
  await writeFile(join(mnt2, top, 'v2.txt'), 'on vol2\n')

  const bodyErrors: string[] = []
  const writeToken = randomBytes(12).toString('hex')
  // the standalone server, in this process (workers 1): node:http, its clientError handling, the gateway
  const srv = await startGatewayServer({
    mounts: [
      { ...parseMountSpec(`mountpoint=/v1,volume=vol1,server=${serverSpec}`), listing: true },
      parseMountSpec(`mountpoint=/v2,volume=vol2,server=${serverSpec},write-token=${writeToken}`),
    ],
    host: '127.0.0.1',
    port: 0,
    workers: 1,
    accessLog: false,
    onError: (e, c) => { if (c.kind === 'body') bodyErrors.push(String((e as { code?: string }).code)) },
  })
  t.teardown(() => srv.close())
  const url = srv.url
  const port = Number(new URL(url).port)
  const base = `${url}/v1/${top}`

  interface Res {
    statusCode: number
    headers: Record<string, string>
    body: {
      arrayBuffer: () => Promise<ArrayBuffer>
      text: () => Promise<string>
      json: () => Promise<unknown>
      dump: () => Promise<void>
      [Symbol.asyncIterator]: () => AsyncIterator<Uint8Array>
    }
  }
  /** Node's fetch (undici) shaped like undici.request; identity coding unless asked, redirects not followed. */
  async function request (u: string, o: { method?: string, headers?: Record<string, string> } = {}): Promise<Res> {
    const r = await fetch(u, { method: o.method ?? 'GET', headers: { 'accept-encoding': 'identity', ...o.headers }, redirect: 'manual' })
    const empty = (async function * () {})()
    return {
      statusCode: r.status,
      headers: Object.fromEntries(r.headers),
      body: {
        arrayBuffer: async () => await r.arrayBuffer(),
        text: async () => await r.text(),
        json: async () => await r.json() as unknown,
        dump: async () => { await r.body?.cancel() },
        [Symbol.asyncIterator]: () => r.body !== null ? (r.body as unknown as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]() : empty,
      },
    }
  }

  /** One request on a new connection, request target sent as is. */
  const raw = async (target: string, extra = ''): Promise<{ status: number, head: string, body: Buffer }> => await rawGet(url, target, extra)

  t.test('every file comes back byte-exact with the right headers (vol1 replica 3, vol2 2 x 3)', async t => {
    for (const [p, d] of files) {
      if (p.startsWith('.')) continue
      const r = await request(`${base}/${p.split('/').map(encodeURIComponent).join('/')}`)
      t.equal(r.statusCode, 200, p)
      t.equal(r.headers['content-length'], String(d.length))
      t.match(r.headers.etag, /^"[0-9a-f]{32}-/)
      t.ok(r.headers['last-modified'])
      t.equal(r.headers['accept-ranges'], 'bytes')
      t.equal(sha(Buffer.from(await r.body.arrayBuffer())), sha(d), `${p} sha256`)
    }
    t.equal((await (await request(`${url}/v2/${top}/v2.txt`)).body.text()), 'on vol2\n')
  })

  t.test('statuses: 301, index.html, listing, 304, 412, 206, 416, 404, 400, 405, 414', async t => {
    const r301 = await request(`${base}/site`)
    t.equal(r301.statusCode, 301)
    t.equal(r301.headers.location, `/v1/${top}/site/`)
    await r301.body.dump()
    t.equal(await (await request(`${base}/site/`)).body.text(), '<h1>site</h1>\n')
    const list = await (await request(`${base}/`, { headers: { accept: 'application/json' } })).body.json() as Array<{ name: string }>
    t.ok(list.some(e => e.name === 'mib10.bin'))
    const etag = (await request(`${base}/mib1.bin`, { method: 'HEAD' })).headers.etag as string
    t.equal((await request(`${base}/mib1.bin`, { headers: { 'if-none-match': etag } })).statusCode, 304)
    t.equal((await request(`${base}/mib1.bin`, { headers: { 'if-match': '"old"' } })).statusCode, 412)
    const lm = (await request(`${base}/small.txt`, { method: 'HEAD' })).headers['last-modified'] as string
    t.equal((await request(`${base}/small.txt`, { headers: { 'if-modified-since': lm } })).statusCode, 304)
    const r206 = await request(`${base}/mib10.bin`, { headers: { range: 'bytes=1000000-1000099' } })
    t.equal(r206.statusCode, 206)
    t.equal(r206.headers['content-range'], `bytes 1000000-1000099/${10 << 20}`)
    t.same(Buffer.from(await r206.body.arrayBuffer()), files.get('mib10.bin')!.subarray(1000000, 1000100))
    const r416 = await request(`${base}/small.txt`, { headers: { range: 'bytes=999-' } })
    t.equal(r416.statusCode, 416)
    t.equal(r416.headers['content-range'], `bytes */${files.get('small.txt')!.length}`)
    await r416.body.dump()
    t.equal((await request(`${base}/nope`)).statusCode, 404)
    t.equal((await request(`${url}/elsewhere`)).statusCode, 404)
    t.equal((await request(`${base}/.hidden/x`)).statusCode, 404, 'ordinary dotfiles: ignored by default')
    t.equal((await raw('/v1/.glusterfs/')).status, 404, 'GlusterFS internals hidden')
    t.equal((await raw('/v1/.trashcan/')).status, 404)
    const r405 = await request(`${base}/small.txt`, { method: 'DELETE' })
    t.equal(r405.statusCode, 405)
    t.equal(r405.headers.allow, 'GET, HEAD, OPTIONS')
    t.equal((await raw('/v1/' + 'a/'.repeat(5000))).status, 414)
    const br = await request(`${base}/site/app.js`, { headers: { 'accept-encoding': 'br' } })
    t.equal(br.headers['content-encoding'], 'br')
    t.equal(br.headers.vary, 'Accept-Encoding')
    await br.body.dump()
  })

  t.test('multipart/byteranges parsed back; HEAD = GET minus body', async t => {
    const data = files.get('mib10.bin')!
    const ranges: Array<[number, number]> = [[0, 99], [5_000_000, 5_100_000], [data.length - 10, data.length - 1]]
    const r = await request(`${base}/mib10.bin`, { headers: { range: 'bytes=' + ranges.map(([a, b]) => `${a}-${b}`).join(',') } })
    t.equal(r.statusCode, 206)
    const ct = r.headers['content-type'] as string
    const body = Buffer.from(await r.body.arrayBuffer())
    t.equal(String(body.length), r.headers['content-length'])
    const parts = parseMultipart(ct, body)
    t.equal(parts.length, 3)
    parts.forEach((p, i) => {
      const [a, b] = ranges[i]!
      t.equal(p.headers['content-range'], `bytes ${a}-${b}/${data.length}`)
      t.same(p.body, data.subarray(a, b + 1), `part ${i}`)
    })
    for (const [p, headers] of [['small.txt', {}], ['mib10.bin', {}], ['mib10.bin', { range: 'bytes=5-9' }], ['nope', {}], ['site', {}]] as const) {
      const g = await request(`${base}/${p}`, { headers })
      await g.body.dump()
      const h = await request(`${base}/${p}`, { method: 'HEAD', headers })
      t.equal(h.statusCode, g.statusCode, `${p} status`)
      const strip = (x: Record<string, unknown>): Record<string, unknown> => { const { date: _d, connection: _c, 'keep-alive': _k, ...rest } = x; return rest }
      t.same(strip(h.headers), strip(g.headers), `${p} HEAD headers = GET headers`)
      t.equal((await h.body.arrayBuffer()).byteLength, 0)
    }
  })

  t.test('1 GiB: sha256-correct, gateway memory flat; a Range-resumed download is correct', async t => {
    const size = 1 << 30
    const name = `${top}-1g.bin`
    const ks = keystream(size, name)
    await pipeline(ks.stream, createWriteStream(join(mnt1, name)))
    const want = await ks.sha
    t.teardown(() => rm(join(mnt1, name), { force: true }))
    const rss0 = process.memoryUsage().rss
    let peak = rss0
    const h = createHash('sha256')
    let n = 0
    const r = await request(`${url}/v1/${name}`)
    t.equal(r.statusCode, 200)
    const t0 = performance.now()
    for await (const c of r.body) {
      h.update(c)
      n += c.length
      if ((n & 0x3ffffff) < c.length) peak = Math.max(peak, process.memoryUsage().rss)
    }
    const ms = performance.now() - t0
    t.equal(n, size)
    t.equal(h.digest('hex'), want, '1 GiB sha256')
    t.comment(`1 GiB in ${(ms / 1000).toFixed(1)} s (${(size / 1048576 / (ms / 1000)).toFixed(0)} MiB/s), RSS ${(rss0 / 1048576).toFixed(0)} → peak ${(peak / 1048576).toFixed(0)} MiB (client and gateway in one process)`)
    t.ok(peak - rss0 < 200 * 1048576, 'memory stays flat while 1 GiB streams')

    // resume: stop after ~300 MiB, then ask for the rest with Range + If-Range
    const first = await request(`${url}/v1/${name}`)
    const etag = first.headers.etag as string
    const h2 = createHash('sha256')
    let got = 0
    for await (const c of first.body) {
      h2.update(c)
      got += c.length
      if (got >= 300 << 20) break
    }
    const rest = await request(`${url}/v1/${name}`, { headers: { range: `bytes=${got}-`, 'if-range': etag } })
    t.equal(rest.statusCode, 206)
    t.equal(rest.headers['content-range'], `bytes ${got}-${size - 1}/${size}`)
    for await (const c of rest.body) { h2.update(c); got += c.length }
    t.equal(got, size)
    t.equal(h2.digest('hex'), want, 'resumed download sha256')
  })

  t.test('a brick SIGKILLed mid-download: the download completes with the right bytes', async t => {
    const data = randomBytes(100 << 20)
    const name = `${top}-100m.bin`
    await writeFile(join(mnt1, name), data)
    t.teardown(() => rm(join(mnt1, name), { force: true }))
    let killed: number | undefined
    t.teardown(async () => { if (killed !== undefined) await cluster.startBrick('vol1') })
    const etag = (await request(`${url}/v1/${name}`, { method: 'HEAD' })).headers.etag as string
    const gfid = etag.slice(1, 33)
    const r = await request(`${url}/v1/${name}`)
    t.equal(r.statusCode, 200)
    const h = createHash('sha256')
    let n = 0
    for await (const c of r.body) {
      h.update(c)
      n += c.length
      if (killed === undefined && n >= 20 << 20) {
        const idx = superFastHash(Buffer.from(gfid, 'hex')) % 3 + 1 // the copy read-hash-mode 1 reads
        killed = await cluster.killBrick(idx, 'vol1')
        t.comment(`SIGKILLed vol1 brick ${idx} (pid ${killed}) at ${n} bytes`)
      }
    }
    t.equal(n, data.length)
    t.equal(h.digest('hex'), sha(data), 'sha256 after the kill')
    await cluster.startBrick('vol1')
    killed = undefined
  })

  t.test('every brick of vol1 down: 503 + Retry-After, never a 200 with a short body; vol2 keeps serving', async t => {
    const name = `${top}-after.bin`
    await writeFile(join(mnt1, name), randomBytes(3 << 20))
    // the FUSE client reconnects to restarted bricks a few seconds after we do: retry (bounded)
    t.teardown(async () => {
      for (let i = 0; ; i++) {
        try { await rm(join(mnt1, name), { force: true }); return } catch (e) { if (i >= 60) throw e }
        await new Promise(resolve => setTimeout(resolve, 500))
      }
    })
    const killed: number[] = []
    t.teardown(async () => { if (killed.length > 0) await cluster.startBrick('vol1') })
    for (const i of [1, 2, 3]) killed.push(await cluster.killBrick(i, 'vol1'))
    for (const p of [name, 'nope-never-looked-up']) {
      let status = 0
      // the bricks' deaths reach the client within a moment (socket reset): bounded retries
      for (let i = 0; i < 40; i++) {
        const r = await request(`${url}/v1/${p}`)
        await r.body.dump().catch(() => {})
        status = r.statusCode
        if (status === 503) { t.equal(r.headers['retry-after'], '5'); break }
        t.not(status, 200, 'never a 200')
        await new Promise(resolve => setTimeout(resolve, 250))
      }
      t.equal(status, 503, `${p}: 503`)
    }
    t.equal(await (await request(`${url}/v2/${top}/v2.txt`)).body.text(), 'on vol2\n', 'vol2 unaffected')
    // a mount that cannot serve reads: /healthz says so, and a load balancer takes the node out
    const hz = await request(`${url}/healthz`)
    t.equal(hz.statusCode, 503)
    t.same(await hz.body.json(), { status: 'down' }, 'no brick named without healthDetails')
    await cluster.startBrick('vol1')
    killed.length = 0
    for (let i = 0; i < 80; i++) {
      const r = await request(`${url}/v1/${name}`)
      await r.body.dump().catch(() => {})
      if (r.statusCode === 200) break
      await new Promise(resolve => setTimeout(resolve, 250))
    }
    t.equal((await request(`${url}/v1/${name}`, { method: 'HEAD' })).statusCode, 200, 'serves again once the bricks are back')
  })

  t.test('bad input keeps the gateway serving and never escapes the mount', async t => {
    const cases: Array<[string, number]> = [
      ['/v1/../etc/passwd', 400], ['/v1/%2e%2e/%2e%2e/etc/passwd', 400], ['/v1/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd', 404],
      ['/v1/..%2f..%2fetc/passwd', 404], ['/v1/..\\..\\etc\\passwd', 400], ['/v1/%5c..%5c..%5cetc', 400],
      ['/v1/small.txt%00.html', 400], ['/v1/%C0%AE%C0%AE/etc', 400], ['/v1/%ff', 400], ['/v1/%', 400],
      ['/v1/' + 'n'.repeat(300), 404], ['/v1/' + top + '/' + '%C3%A9'.repeat(200), 404], ['/v1/' + top + '/' + 'é', 400], ['/v2/../v1/x', 400],
    ]
    for (const [target, status] of cases) t.equal((await raw(target)).status, status, target.slice(0, 50))
    // header floods: too many headers, one huge header, a huge request line
    const many = Array.from({ length: 3000 }, (_, i) => `X-H${i}: v`).join('\r\n') + '\r\n'
    t.match((await raw(`/v1/${top}/small.txt`, many)).status, /^(200|400|431)$/, 'many headers: answered, no crash')
    t.equal((await raw(`/v1/${top}/small.txt`, `X-Big: ${'a'.repeat(100_000)}\r\n`)).status, 431)
    t.equal((await request(`${base}/small.txt`)).statusCode, 200, 'still serving')

    // 10,000 idle connections, held by a child process (this one's fd limit, 20,000 here and not
    // raisable without CAP_SYS_RESOURCE, would otherwise hold both ends of every connection)
    const holder = spawn(process.execPath, ['-e', `
      const net = require('node:net'); const socks = []; let n = 0
      const open = () => { const s = net.connect(${port}, '127.0.0.1', () => { if (++n === 10000) process.stdout.write('ready ' + n + '\\n'); else if (n % 500 === 0) batch() }); s.on('error', e => { process.stdout.write('error ' + e.code + '\\n') }); socks.push(s) }
      const batch = () => { for (let i = 0; i < 500; i++) open() }
      batch()
      process.stdin.on('data', () => { const open = socks.filter(s => s.readyState === 'open').length; process.stdout.write('open ' + open + '\\n') })
      process.stdin.on('end', () => process.exit(0))`], { stdio: ['pipe', 'pipe', 'inherit'] })
    t.teardown(() => { if (holder.exitCode === null) holder.kill('SIGKILL') })
    let out = ''
    holder.stdout!.on('data', (d: Buffer) => { out += d.toString() })
    for (let i = 0; i < 600 && !/ready|error/.test(out); i++) await new Promise(resolve => setTimeout(resolve, 100))
    t.match(out, /ready 10000/, '10,000 connections opened')
    const r = await raw(`/v1/${top}/4k.bin`)
    t.equal(r.status, 200, 'a request on a new connection is answered with 10,000 idle connections open')
    t.equal(sha(r.body), sha(files.get('4k.bin')!))
    holder.stdin!.write('count\n')
    for (let i = 0; i < 100 && !/open \d+/.test(out); i++) await new Promise(resolve => setTimeout(resolve, 100))
    t.match(out, /open 10000/, 'the idle connections are still open')
    holder.stdin!.end()
    await new Promise(resolve => holder.once('exit', resolve))
  })

  t.test('writes (vol2, token): PUT lands on the volume (seen through FUSE), DELETE removes it', async t => {
    const data = randomBytes(5 << 20)
    const path = `/v2/${top}/put.bin`
    const denied = await fetch(url + path, { method: 'PUT', body: data })
    t.equal(denied.status, 401)
    const put = await fetch(url + path, { method: 'PUT', body: data, headers: { authorization: `Bearer ${writeToken}` } })
    t.equal(put.status, 201)
    const { readFile } = await import('node:fs/promises')
    t.equal(sha(await readFile(join(mnt2, top, 'put.bin'))), sha(data), 'the FUSE mount reads what was PUT')
    const got = await request(url + path)
    t.equal(sha(Buffer.from(await got.body.arrayBuffer())), sha(data))
    const del = await fetch(url + path, { method: 'DELETE', headers: { authorization: `Bearer ${writeToken}` } })
    t.equal(del.status, 204)
    t.equal((await request(url + path)).statusCode, 404)
  })

  t.test('no mid-body failure went unreported', async t => {
    t.comment(`body errors reported: ${bodyErrors.join(', ') || 'none'}`)
    t.pass()
  })
}
