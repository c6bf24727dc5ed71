// The pure decision function: RFC 9110 §13.2.2 order, ranges, If-Range, coalescing.
import t from 'tap'
import { decide, coalesce, makeEtag, type Entity } from '../src/respond.js'

const mtimeMs = Date.UTC(2026, 0, 2, 3, 4, 5, 678)
const e: Entity = { size: 1000, mtimeMs, etag: makeEtag('00000000-0000-0000-0000-0000000000aa', 5n, 1000), type: 'text/plain', cacheControl: 'public, max-age=0', vary: true }
const lm = new Date(Math.floor(mtimeMs / 1000) * 1000).toUTCString()
const o = { maxRanges: 4 }

t.test('200 with every header', async t => {
  const d = decide('GET', {}, e, o)
  t.equal(d.status, 200)
  t.same(d.headers, { ETag: e.etag, 'Last-Modified': lm, 'Cache-Control': 'public, max-age=0', Vary: 'Accept-Encoding', 'Accept-Ranges': 'bytes', 'Content-Type': 'text/plain', 'Content-Length': '1000' })
  t.same(d.ranges, [{ start: 0, end: 999 }])
})

t.test('the ETag is strong and changes with gfid, mtime and size', async t => {
  const a = makeEtag('00000000-0000-0000-0000-0000000000aa', 5n, 1000)
  t.match(a, /^"[0-9a-f]{32}-[0-9a-z]+-[0-9a-z]+"$/)
  t.not(a, makeEtag('00000000-0000-0000-0000-0000000000ab', 5n, 1000))
  t.not(a, makeEtag('00000000-0000-0000-0000-0000000000aa', 6n, 1000))
  t.not(a, makeEtag('00000000-0000-0000-0000-0000000000aa', 5n, 1001))
})

t.test('preconditions: If-Match / If-Unmodified-Since → 412 before anything else', async t => {
  t.equal(decide('GET', { 'if-match': '"nope"' }, e, o).status, 412)
  t.equal(decide('GET', { 'if-match': `W/${e.etag}` }, e, o).status, 412, 'weak tags never match If-Match')
  t.equal(decide('GET', { 'if-match': `"x", ${e.etag}` }, e, o).status, 200)
  t.equal(decide('GET', { 'if-match': '*' }, e, o).status, 200)
  t.equal(decide('GET', { 'if-unmodified-since': new Date(mtimeMs - 5000).toUTCString() }, e, o).status, 412)
  t.equal(decide('GET', { 'if-unmodified-since': lm }, e, o).status, 200)
  t.equal(decide('GET', { 'if-match': e.etag, 'if-unmodified-since': new Date(0).toUTCString() }, e, o).status, 200, 'If-Unmodified-Since is ignored when If-Match is present')
  t.equal(decide('GET', { 'if-match': '"nope"', 'if-none-match': e.etag }, e, o).status, 412, '412 wins over 304')
})

t.test('If-None-Match / If-Modified-Since → 304 with validators, no body', async t => {
  const d = decide('GET', { 'if-none-match': e.etag }, e, o)
  t.equal(d.status, 304)
  t.same(d.ranges, [])
  t.equal(d.headers.ETag, e.etag)
  t.notOk('Content-Length' in d.headers)
  t.equal(decide('GET', { 'if-none-match': `W/${e.etag}` }, e, o).status, 304, 'weak comparison')
  t.equal(decide('GET', { 'if-none-match': '"other"' }, e, o).status, 200)
  t.equal(decide('GET', { 'if-modified-since': lm }, e, o).status, 304)
  t.equal(decide('GET', { 'if-modified-since': new Date(mtimeMs - 2000).toUTCString() }, e, o).status, 200)
  t.equal(decide('GET', { 'if-none-match': '"other"', 'if-modified-since': lm }, e, o).status, 200, 'If-Modified-Since ignored with If-None-Match')
})

t.test('single range → 206; unsatisfiable → 416 bytes */len; malformed → 200', async t => {
  const d = decide('GET', { range: 'bytes=10-19' }, e, o)
  t.equal(d.status, 206)
  t.equal(d.headers['Content-Range'], 'bytes 10-19/1000')
  t.equal(d.headers['Content-Length'], '10')
  t.same(d.ranges, [{ start: 10, end: 19 }])
  t.same(decide('GET', { range: 'bytes=-100' }, e, o).ranges, [{ start: 900, end: 999 }])
  t.same(decide('GET', { range: 'bytes=990-5000' }, e, o).ranges, [{ start: 990, end: 999 }])
  const u = decide('GET', { range: 'bytes=1000-' }, e, o)
  t.equal(u.status, 416)
  t.equal(u.headers['Content-Range'], 'bytes */1000')
  t.equal(decide('GET', { range: 'bytes=abc' }, e, o).status, 200)
  t.equal(decide('GET', { range: 'items=0-1' }, e, o).status, 200)
  t.equal(decide('HEAD', { range: 'bytes=10-19' }, e, o).status, 206, 'HEAD answers what GET would')
})

t.test('If-Range: a matching ETag or date keeps the range, anything else gives 200', async t => {
  t.equal(decide('GET', { range: 'bytes=0-9', 'if-range': e.etag }, e, o).status, 206)
  t.equal(decide('GET', { range: 'bytes=0-9', 'if-range': '"old"' }, e, o).status, 200)
  t.equal(decide('GET', { range: 'bytes=0-9', 'if-range': `W/${e.etag}` }, e, o).status, 200)
  t.equal(decide('GET', { range: 'bytes=0-9', 'if-range': lm }, e, o).status, 206)
  t.equal(decide('GET', { range: 'bytes=0-9', 'if-range': new Date(mtimeMs + 60_000).toUTCString() }, e, o).status, 200)
})

t.test('several ranges → multipart/byteranges with exact Content-Length; too many → 200', async t => {
  const d = decide('GET', { range: 'bytes=0-9,500-509' }, e, o)
  t.equal(d.status, 206)
  t.match(d.headers['Content-Type'], /^multipart\/byteranges; boundary=[0-9a-f]+$/)
  t.ok(d.multipart)
  const len = d.multipart!.heads.reduce((n, h) => n + h.length, 0) + d.multipart!.tail.length + 20
  t.equal(d.headers['Content-Length'], String(len))
  t.equal(decide('GET', { range: 'bytes=0-0,200-200,400-400,600-600,800-800' }, e, o).status, 200, '5 ranges > maxRanges 4')
})

t.test('coalesce merges overlapping and nearby ranges, keeps first-appearance order', async t => {
  t.same(coalesce([{ start: 500, end: 600 }, { start: 0, end: 10 }, { start: 5, end: 20 }]), [{ start: 500, end: 600 }, { start: 0, end: 20 }])
  t.same(coalesce([{ start: 0, end: 10 }, { start: 50, end: 60 }]), [{ start: 0, end: 60 }], 'gap under 80 bytes')
  t.same(coalesce([{ start: 0, end: 10 }, { start: 200, end: 210 }]), [{ start: 0, end: 10 }, { start: 200, end: 210 }])
  const many = Array.from({ length: 1000 }, (_, i) => ({ start: i, end: i }))
  t.same(coalesce(many), [{ start: 0, end: 999 }])
})
