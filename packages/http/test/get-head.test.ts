// GET/HEAD over the embedded cluster with a real HTTP client (fetch = undici): headers,
// conditional requests, ranges, multipart bodies parsed back, small (quick-read) and streamed files.
import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { request } from 'undici'
import { serve, parseMultipart } from './helpers.js'

const big = randomBytes(3 * 1024 * 1024 + 17)
const small = Buffer.from('hello world\n')
const s = await serve(t, {
  '/small.txt': { data: small, mtime: new Date('2026-01-02T03:04:05Z') },
  '/big.bin': big,
  '/empty': '',
  '/style.css': 'body{}',
  '/data.json': '{}',
})

t.test('a small file: 200, type, length, validators, cache headers, body', async t => {
  const r = await fetch(s.url + '/small.txt')
  t.equal(r.status, 200)
  t.equal(r.headers.get('content-type'), 'text/plain; charset=utf-8')
  t.equal(r.headers.get('content-length'), String(small.length))
  t.equal(r.headers.get('last-modified'), 'Fri, 02 Jan 2026 03:04:05 GMT')
  t.match(r.headers.get('etag'), /^"[0-9a-f]{32}-/)
  t.equal(r.headers.get('accept-ranges'), 'bytes')
  t.equal(r.headers.get('cache-control'), 'public, max-age=0')
  t.equal(r.headers.get('vary'), 'Accept-Encoding')
  t.same(Buffer.from(await r.arrayBuffer()), small)
  t.equal((await fetch(s.url + '/style.css')).headers.get('content-type'), 'text/css; charset=utf-8')
  t.equal((await fetch(s.url + '/data.json')).headers.get('content-type'), 'application/json; charset=utf-8')
  t.equal((await fetch(s.url + '/empty')).headers.get('content-type'), 'application/octet-stream')
})

t.test('HEAD = GET minus the body, for 200, 206, 304 and 404', async t => {
  for (const [path, headers] of [['/small.txt', {}], ['/big.bin', {}], ['/big.bin', { range: 'bytes=5-10' }], ['/nope', {}]] as const) {
    const g = await request(s.url + path, { headers })
    await g.body.arrayBuffer()
    const h = await request(s.url + path, { method: 'HEAD', headers })
    t.equal(h.statusCode, g.statusCode, `${path} status`)
    const strip = (x: Record<string, unknown>): Record<string, unknown> => { const { date: _d, connection: _c, 'keep-alive': _k, ...rest } = x; return rest }
    t.same(strip(h.headers), strip(g.headers), `${path} headers`)
    t.equal((await h.body.arrayBuffer()).byteLength, 0)
  }
})

t.test('a big (streamed) file is byte-exact', async t => {
  const r = await fetch(s.url + '/big.bin')
  t.equal(r.status, 200)
  t.equal(r.headers.get('content-length'), String(big.length))
  const got = Buffer.from(await r.arrayBuffer())
  t.equal(createHash('sha256').update(got).digest('hex'), createHash('sha256').update(big).digest('hex'))
})

t.test('conditional: 304 on If-None-Match / If-Modified-Since, 412 on If-Match / If-Unmodified-Since', async t => {
  const etag = (await fetch(s.url + '/small.txt', { method: 'HEAD' })).headers.get('etag')!
  const r304 = await fetch(s.url + '/small.txt', { headers: { 'if-none-match': etag } })
  t.equal(r304.status, 304)
  t.equal(r304.headers.get('etag'), etag)
  t.equal((await r304.arrayBuffer()).byteLength, 0)
  t.equal((await fetch(s.url + '/small.txt', { headers: { 'if-modified-since': 'Fri, 02 Jan 2026 03:04:05 GMT' } })).status, 304)
  t.equal((await fetch(s.url + '/small.txt', { headers: { 'if-modified-since': 'Fri, 02 Jan 2026 03:04:04 GMT' } })).status, 200)
  t.equal((await fetch(s.url + '/small.txt', { headers: { 'if-match': '"x"' } })).status, 412)
  t.equal((await fetch(s.url + '/small.txt', { headers: { 'if-match': etag } })).status, 200)
  t.equal((await fetch(s.url + '/small.txt', { headers: { 'if-unmodified-since': 'Thu, 01 Jan 2026 00:00:00 GMT' } })).status, 412)
  const big304 = await fetch(s.url + '/big.bin', { headers: { 'if-none-match': (await fetch(s.url + '/big.bin', { method: 'HEAD' })).headers.get('etag')! } })
  t.equal(big304.status, 304)
})

t.test('single range 206, suffix, open-ended; 416 with Content-Range bytes */len', async t => {
  for (const [range, start, end] of [['bytes=0-99', 0, 99], ['bytes=1048570-2097160', 1048570, 2097160], ['bytes=-5', big.length - 5, big.length - 1], [`bytes=${big.length - 3}-`, big.length - 3, big.length - 1]] as const) {
    const r = await fetch(s.url + '/big.bin', { headers: { range } })
    t.equal(r.status, 206, range)
    t.equal(r.headers.get('content-range'), `bytes ${start}-${end}/${big.length}`)
    t.same(Buffer.from(await r.arrayBuffer()), big.subarray(start, end + 1), range)
  }
  const small206 = await fetch(s.url + '/small.txt', { headers: { range: 'bytes=6-10' } })
  t.equal(await small206.text(), 'world')
  const r416 = await fetch(s.url + '/big.bin', { headers: { range: `bytes=${big.length}-` } })
  t.equal(r416.status, 416)
  t.equal(r416.headers.get('content-range'), `bytes */${big.length}`)
  t.equal((await fetch(s.url + '/empty', { headers: { range: 'bytes=0-' } })).status, 416)
  t.equal((await fetch(s.url + '/big.bin', { headers: { range: 'bytes=zz' } })).status, 200, 'malformed Range is ignored')
})

t.test('If-Range', async t => {
  const etag = (await fetch(s.url + '/big.bin', { method: 'HEAD' })).headers.get('etag')!
  t.equal((await fetch(s.url + '/big.bin', { headers: { range: 'bytes=0-9', 'if-range': etag } })).status, 206)
  const stale = await fetch(s.url + '/big.bin', { headers: { range: 'bytes=0-9', 'if-range': '"stale"' } })
  t.equal(stale.status, 200)
  t.equal(stale.headers.get('content-length'), String(big.length))
  await stale.body?.cancel()
})

t.test('multipart/byteranges parsed back; coalesced; capped', async t => {
  for (const path of ['/big.bin', '/small.txt']) {
    const data = path === '/big.bin' ? big : small
    const ranges: Array<[number, number]> = path === '/big.bin' ? [[0, 9], [2_000_000, 2_100_000], [big.length - 4, big.length - 1]] : [[0, 1], [8, 9]]
    if (path === '/small.txt') {
      // 6 bytes apart: coalesced into one range, answered as a plain 206
      const one = await fetch(s.url + path, { headers: { range: 'bytes=0-1,8-9' } })
      t.equal(one.headers.get('content-range'), `bytes 0-9/${data.length}`)
      t.equal(await one.text(), 'hello worl')
      continue
    }
    const r = await fetch(s.url + path, { headers: { range: 'bytes=' + ranges.map(([a, b]) => `${a}-${b}`).join(',') } })
    t.equal(r.status, 206)
    const ct = r.headers.get('content-type')!
    t.match(ct, /^multipart\/byteranges; boundary=/)
    const body = Buffer.from(await r.arrayBuffer())
    t.equal(String(body.length), r.headers.get('content-length'), 'Content-Length is exact')
    const parts = parseMultipart(ct, body)
    {
      t.equal(parts.length, 3)
      parts.forEach((p, i) => {
        const [a, b] = ranges[i]!
        t.equal(p.headers['content-range'], `bytes ${a}-${b}/${data.length}`)
        t.equal(p.headers['content-type'], 'application/octet-stream')
        t.same(p.body, data.subarray(a, b + 1))
      })
    }
  }
  const many = Array.from({ length: 40 }, (_, i) => `${i * 50_000}-${i * 50_000 + 1}`).join(',')
  const capped = await fetch(s.url + '/big.bin', { headers: { range: `bytes=${many}` } })
  t.equal(capped.status, 200, '40 distant ranges > maxRanges 16: the whole file')
  await capped.body?.cancel()
  const tiny = Array.from({ length: 1000 }, (_, i) => `${i}-${i}`).join(',')
  const merged = await fetch(s.url + '/big.bin', { headers: { range: `bytes=${tiny}` } })
  t.equal(merged.status, 206)
  t.equal(merged.headers.get('content-range'), `bytes 0-999/${big.length}`, '1000 adjacent ranges coalesce into one')
  t.same(Buffer.from(await merged.arrayBuffer()), big.subarray(0, 1000))
})
