// The pure part: given a request's method and headers and what we know of the file, decide the
// status, the headers and which byte ranges to send (RFC 9110 §13.2.2 order, as pillarjs/send).
// No I/O here; gateway.ts writes what this returns.
import type { IncomingHttpHeaders } from 'node:http'
import { randomBytes } from 'node:crypto'
import fresh from 'fresh'
import rangeParser from 'range-parser'

export interface Entity {
  size: number
  mtimeMs: number
  /** strong ETag, quoted */
  etag: string
  /** Content-Type */
  type: string
  /** 'br' | 'gzip' when a precompressed sibling is sent */
  encoding?: string
  cacheControl: string
  /** send Vary: Accept-Encoding (precompressed siblings are considered) */
  vary: boolean
}

export interface ByteRange { start: number, end: number }

export interface Decision {
  status: 200 | 206 | 304 | 412 | 416
  headers: Record<string, string>
  /** byte ranges to send, in order (empty: no body) */
  ranges: ByteRange[]
  /** set for multipart/byteranges: the part headers (before each range) and the closing delimiter */
  multipart?: { heads: Buffer[], tail: Buffer }
}

/** A strong ETag from what identifies a version of a file: its gfid, mtime (ns) and size. */
export function makeEtag (gfid: string, mtimeNs: bigint, size: number): string {
  return `"${gfid.replace(/-/g, '')}-${mtimeNs.toString(36)}-${size.toString(36)}"`
}

function httpDateMs (v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  const t = Date.parse(v)
  return Number.isNaN(t) ? undefined : t
}

function etagList (v: string): string[] {
  return v.split(',').map(s => s.trim()).filter(s => s !== '')
}

/** RFC 9110 §13.1.1: If-Match uses the strong comparison (weak tags never match). */
function ifMatchPasses (header: string, etag: string): boolean {
  const list = etagList(header)
  return list.includes('*') || list.includes(etag)
}

/** If-Range: an entity tag (strong match) or an HTTP date equal to Last-Modified. */
function ifRangePasses (header: string | undefined, etag: string, lastModifiedSec: number): boolean {
  if (header === undefined) return true
  const v = header.trim()
  if (v.startsWith('"') || v.startsWith('W/')) return v === etag
  const t = httpDateMs(v)
  return t !== undefined && Math.floor(t / 1000) === lastModifiedSec
}

export interface DecideOptions {
  /** ranges allowed in one multipart answer (after coalescing); more gives 200 */
  maxRanges: number
}

export function decide (method: string, h: IncomingHttpHeaders, e: Entity, o: DecideOptions): Decision {
  const lmSec = Math.floor(e.mtimeMs / 1000)
  const lastModified = new Date(lmSec * 1000).toUTCString()
  const base: Record<string, string> = { ETag: e.etag, 'Last-Modified': lastModified }
  if (e.cacheControl !== '') base['Cache-Control'] = e.cacheControl
  if (e.vary) base.Vary = 'Accept-Encoding'

  // 1. If-Match, else If-Unmodified-Since → 412
  const im = h['if-match']
  if (im !== undefined) {
    if (!ifMatchPasses(im, e.etag)) return { status: 412, headers: { 'Content-Length': '0' }, ranges: [] }
  } else {
    const ius = httpDateMs(h['if-unmodified-since'])
    if (ius !== undefined && lmSec * 1000 > ius) return { status: 412, headers: { 'Content-Length': '0' }, ranges: [] }
  }
  // 2. If-None-Match, else If-Modified-Since → 304. Only these two headers go to `fresh`: a
  // request's Cache-Control: no-cache is addressed to caches (RFC 9111 §5.2.1.4), and fetch()
  // sends it with every conditional request; an origin server still answers 304.
  const inm = h['if-none-match']
  const ims = h['if-modified-since']
  if ((inm !== undefined || ims !== undefined) &&
      fresh({ ...(inm !== undefined ? { 'if-none-match': inm } : {}), ...(ims !== undefined ? { 'if-modified-since': ims } : {}) },
        { etag: e.etag, 'last-modified': lastModified })) {
    return { status: 304, headers: base, ranges: [] }
  }

  const headers: Record<string, string> = { ...base, 'Accept-Ranges': 'bytes', 'Content-Type': e.type }
  if (e.encoding !== undefined) headers['Content-Encoding'] = e.encoding
  const whole = (): Decision => {
    headers['Content-Length'] = String(e.size)
    return { status: 200, headers, ranges: e.size > 0 ? [{ start: 0, end: e.size - 1 }] : [] }
  }

  // 3. Range (GET, and HEAD so that HEAD answers exactly what GET would), subject to If-Range
  const rh = h.range
  if (rh === undefined || (method !== 'GET' && method !== 'HEAD') || !ifRangePasses(typeof h['if-range'] === 'string' ? h['if-range'] : undefined, e.etag, lmSec)) return whole()
  const parsed = rangeParser(e.size, rh, { combine: true })
  if (parsed === -2) return whole() // malformed: ignore the header (RFC 9110 §14.2)
  if (parsed === -1) {
    return { status: 416, headers: { ...base, 'Accept-Ranges': 'bytes', 'Content-Range': `bytes */${e.size}`, 'Content-Length': '0' }, ranges: [] }
  }
  if (parsed.type !== 'bytes') return whole()
  const ranges = coalesce(parsed.map(r => ({ start: r.start, end: r.end })))
  if (ranges.length > o.maxRanges) return whole()
  if (ranges.length === 1) {
    const r = ranges[0]!
    headers['Content-Range'] = `bytes ${r.start}-${r.end}/${e.size}`
    headers['Content-Length'] = String(r.end - r.start + 1)
    return { status: 206, headers, ranges }
  }
  const boundary = randomBytes(12).toString('hex')
  const heads = ranges.map(r => Buffer.from(
    `\r\n--${boundary}\r\nContent-Type: ${e.type}\r\nContent-Range: bytes ${r.start}-${r.end}/${e.size}\r\n\r\n`, 'latin1'))
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1')
  let len = tail.length
  for (let i = 0; i < ranges.length; i++) len += heads[i]!.length + ranges[i]!.end - ranges[i]!.start + 1
  headers['Content-Type'] = `multipart/byteranges; boundary=${boundary}`
  headers['Content-Length'] = String(len)
  return { status: 206, headers, ranges, multipart: { heads, tail } }
}

/**
 * Merge ranges that overlap or lie within 80 bytes of each other (a part header costs about
 * that much), keeping the order of first appearance: many tiny ranges cannot multiply the
 * work or the answer (RFC 9110 §14.3 allows the server to coalesce).
 */
export function coalesce (ranges: ByteRange[], gap = 80): ByteRange[] {
  const sorted = ranges.map((r, i) => ({ ...r, i })).sort((a, b) => a.start - b.start)
  const out: Array<ByteRange & { i: number }> = []
  for (const r of sorted) {
    const last = out[out.length - 1]
    if (last !== undefined && r.start <= last.end + 1 + gap) {
      last.end = Math.max(last.end, r.end)
      last.i = Math.min(last.i, r.i)
    } else {
      out.push({ ...r })
    }
  }
  return out.sort((a, b) => a.i - b.i).map(r => ({ start: r.start, end: r.end }))
}
