// The request handler: mounts by URL prefix, GET/HEAD over a volume with RFC 9110 semantics,
// health, readiness and metrics endpoints, and (opt-in) writes. Usable with node:http, Express,
// Fastify.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { posix } from 'node:path'
import mime from 'mime'
import Negotiator from 'negotiator'
import { GlusterError } from '@gluster-ts/rpc'
import type { Volume } from '@gluster-ts/volume'
import { resolveMount, type AccessLogEntry, type ErrorContext, type GatewayOptions, type MountOptions } from './options.js'
import { decodePath, dotfileStatus, encodePath, isDotfile, isHidden } from './path.js'
import { statusForError } from './status-map.js'
import { decide, makeEtag, type Decision } from './respond.js'
import type { Entry } from './entry.js'
import { listingFormat, listingQuery, renderListing, toListingEntries } from './listing.js'
import { GatewayMetrics } from './metrics.js'
import { handleWrite, WRITE_METHODS } from './writes.js'
import { FEW_DOWNLOADS, Mount, type MountHealth, type MountState } from './mount.js'
import { worst, type HealthStatus } from './health.js'
import { errorBody, PAGE_HEADERS } from './pages.js'

export type { MountHealth, MountState, HealthStatus }

export interface GatewayHealth {
  /** 'ok': every mount can serve reads with every brick up; 'degraded': every mount can serve reads, some brick is down; 'down': some mount cannot serve reads */
  status: HealthStatus
  mounts: MountHealth[]
}

/** 'starting' until every mount has connected once; 'stopping' once close() was called. */
export type Readiness = 'starting' | 'ready' | 'stopping'

export interface Gateway {
  /** (req, res) handler for node:http, Express (`app.use(gw.handler)`) and Fastify (`reply.hijack()` first) */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void
  /** stop taking requests (503), wait for those in flight (at most timeoutMs, default 10 s), close every volume */
  close (opts?: { timeoutMs?: number }): Promise<void>
  health (): GatewayHealth
  readiness (): Readiness
  readonly metrics: GatewayMetrics
  /** resolves once every mount made its first connection attempt (the ones that failed keep retrying) */
  readonly ready: Promise<void>
}

/** Per-request state. */
export interface Ctx {
  req: IncomingMessage
  res: ServerResponse
  mount: Mount
  vol: Volume
  /** decoded path inside the volume, '/a/b' (below the mount's subdir) */
  volPath: string
  /** decoded path below the mountpoint, '/a/b' (what the URL says) */
  urlPath: string
  trailingSlash: boolean
  query: string
  /** aborted when the client goes away (or the pre-status deadline passes: see timedOut) */
  signal: AbortSignal
  timedOut: () => boolean
  /** the access-log entry: body bytes are counted into it as they are handed to the socket */
  log: AccessLogEntry
}

class HttpError extends Error {
  readonly status: number
  readonly headers: Record<string, string>
  constructor (status: number, message: string, headers: Record<string, string> = {}) {
    super(message)
    this.status = status
    this.headers = headers
  }
}

const TEXTY = /^(text\/|application\/(javascript|json|xml|x-javascript|ld\+json|manifest\+json)|image\/svg\+xml)/

export function contentTypeOf (name: string): string {
  const t = mime.getType(name) ?? 'application/octet-stream'
  return TEXTY.test(t) ? `${t}; charset=utf-8` : t
}

/**
 * A status without a file: an HTML page for a browser, the status line as text for the rest
 * (pages.ts). The body's bytes go to the access log.
 */
function answer (req: IncomingMessage, res: ServerResponse, log: AccessLogEntry, status: number, headers: Record<string, string> = {}): void {
  const e = errorBody(status, req.headers)
  res.writeHead(status, { 'Content-Type': e.type, 'Content-Length': String(e.body.length), ...(e.html ? PAGE_HEADERS : { 'X-Content-Type-Options': 'nosniff' }), ...headers })
  if (req.method === 'HEAD') { res.end(); return }
  log.bytes += e.body.length
  res.end(e.body)
}

/** A JSON body (health, readiness), never cached. */
function jsonAnswer (req: IncomingMessage, res: ServerResponse, log: AccessLogEntry, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value))
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(body.length), 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' })
  if (req.method === 'HEAD') { res.end(); return }
  log.bytes += body.length
  res.end(body)
}

/**
 * Types a browser renders as a document, where a script could run: served with a sandbox CSP
 * (MountOptions.sandbox). Not PDF: Chromium refuses to show a PDF in a sandboxed document.
 */
const DOCUMENT_TYPES = /^(text\/html|application\/xhtml\+xml|image\/svg\+xml|text\/xml|application\/xml|application\/[\w.+-]+\+xml)\b/
const SANDBOX_CSP = 'sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads'

function isNotFound (e: unknown): boolean {
  const c = (e as { code?: unknown } | null)?.code
  return c === 'ENOENT' || c === 'ENOTDIR'
}

class GatewayImpl implements Gateway {
  readonly mounts: Mount[]
  readonly metrics: GatewayMetrics
  readonly reconnectInitialMs: number
  readonly reconnectMaxMs: number
  readonly ready: Promise<void>
  readonly #o: GatewayOptions
  readonly #healthPath: string | false
  readonly #readyPath: string | false
  readonly #metricsPath: string | false
  readonly #maxUrl: number
  #closing = false
  #inflight = 0
  #idle: Array<() => void> = []

  constructor (o: GatewayOptions, metrics: GatewayMetrics) {
    this.#o = o
    this.metrics = metrics
    this.reconnectInitialMs = o.reconnectInitialMs ?? 1000
    this.reconnectMaxMs = o.reconnectMaxMs ?? 30_000
    this.#healthPath = o.healthPath ?? '/healthz'
    this.#readyPath = o.readyPath ?? '/readyz'
    this.#metricsPath = o.metricsPath ?? '/metrics'
    this.#maxUrl = o.maxUrlBytes ?? 8192
    if (!Array.isArray(o.mounts) || o.mounts.length === 0) throw new TypeError('at least one mount is required')
    const resolved = o.mounts.map(resolveMount)
    const seen = new Set<string>()
    for (const m of resolved) {
      if (seen.has(m.mountpoint)) throw new TypeError(`two mounts at ${m.mountpoint}`)
      seen.add(m.mountpoint)
    }
    // longest prefix first
    this.mounts = resolved.sort((a, b) => b.mountpoint.length - a.mountpoint.length).map(m => new Mount(m, this))
    this.ready = Promise.all(this.mounts.map(m => m.connect())).then(() => {})
  }

  reportError (err: Error, ctx: ErrorContext): void {
    try { this.#o.onError?.(err, ctx) } catch { /* a logger's failure is not ours to crash on */ }
  }

  health (): GatewayHealth {
    const mounts = this.mounts.map(m => m.health())
    return { status: worst(mounts.map(m => m.status)), mounts }
  }

  readiness (): Readiness {
    return this.#closing ? 'stopping' : this.mounts.every(m => m.everUp) ? 'ready' : 'starting'
  }

  async close (opts: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#closing) return
    this.#closing = true
    if (this.#inflight > 0) {
      let t: NodeJS.Timeout | undefined
      await Promise.race([
        new Promise<void>(resolve => { this.#idle.push(resolve) }),
        new Promise<void>(resolve => { t = setTimeout(resolve, opts.timeoutMs ?? 10_000) }),
      ])
      clearTimeout(t)
    }
    await Promise.all(this.mounts.map(m => m.close()))
    this.metrics.close()
  }

  readonly handler = (req: IncomingMessage, res: ServerResponse): void => {
    const t0 = performance.now()
    this.#inflight++
    this.metrics.inflight.inc()
    const log: AccessLogEntry = { method: req.method ?? '', url: req.url ?? '', status: 0, bytes: 0, ms: 0 }
    if (req.socket.remoteAddress !== undefined) log.remote = req.socket.remoteAddress
    let done = false
    const finish = (): void => {
      if (done) return
      done = true
      this.#inflight--
      this.metrics.inflight.dec()
      log.status = res.statusCode
      log.ms = performance.now() - t0
      if (!res.writableFinished) log.aborted = true
      const mount = log.mount ?? ''
      this.metrics.requests.inc({ mount, method: log.method, status: String(log.status) })
      this.metrics.duration.observe({ mount, method: log.method }, log.ms / 1000)
      if (log.bytes > 0) this.metrics.bytes.inc({ mount }, log.bytes)
      try { this.#o.onRequest?.(log) } catch { /* ignore logger failures */ }
      if (this.#inflight === 0) for (const f of this.#idle.splice(0)) f()
    }
    res.once('close', finish)
    this.#handle(req, res, log).catch((err: unknown) => {
      this.reportError(err instanceof Error ? err : new Error(String(err)), { kind: 'request', url: log.url })
      if (!res.headersSent) answer(req, res, log, 500)
      else res.destroy(err instanceof Error ? err : undefined)
    })
  }

  async #handle (req: IncomingMessage, res: ServerResponse, log: AccessLogEntry): Promise<void> {
    const method = req.method ?? ''
    if (this.#closing) { answer(req, res, log, 503, { Connection: 'close', 'Retry-After': '1' }); return }
    let url = req.url ?? ''
    if (Buffer.byteLength(url) > this.#maxUrl) { answer(req, res, log, 414); return }
    const abs = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(url) // absolute-form (a proxy request)
    if (abs !== null) url = url.slice(abs[0].length) || '/'
    if (!url.startsWith('/')) { answer(req, res, log, 400); return }
    const q = url.indexOf('?')
    const rawPath = q < 0 ? url : url.slice(0, q)
    const query = q < 0 ? '' : url.slice(q)

    const probe = method === 'GET' || method === 'HEAD'
    if (probe && this.#healthPath !== false && rawPath === this.#healthPath) {
      // 200 only when every mount can serve reads (a load balancer keeps the node), else 503;
      // which mounts and bricks only when the operator asked for it (brick paths are internal)
      const h = this.health()
      jsonAnswer(req, res, log, h.status === 'down' ? 503 : 200, this.#o.healthDetails === true ? h : { status: h.status })
      return
    }
    if (probe && this.#readyPath !== false && rawPath === this.#readyPath) {
      const r = this.readiness()
      jsonAnswer(req, res, log, r === 'ready' ? 200 : 503, { status: r })
      return
    }
    if (probe && this.#metricsPath !== false && rawPath === this.#metricsPath) {
      const body = Buffer.from(await this.metrics.registry.metrics())
      res.writeHead(200, { 'Content-Type': this.metrics.registry.contentType, 'Content-Length': String(body.length), 'Cache-Control': 'no-store' })
      if (method === 'HEAD') { res.end(); return }
      log.bytes += body.length
      res.end(body)
      return
    }

    const mount = this.mounts.find(m => m.o.mountpoint === '/' || rawPath === m.o.mountpoint || rawPath.startsWith(m.o.mountpoint + '/'))
    if (mount === undefined) { answer(req, res, log, 404); return }
    log.mount = mount.o.mountpoint
    const rest = mount.o.mountpoint === '/' ? rawPath : rawPath.slice(mount.o.mountpoint.length)
    const writable = mount.o.writes !== undefined
    const allow = writable ? 'GET, HEAD, OPTIONS, PUT, DELETE, MKCOL' : 'GET, HEAD, OPTIONS'
    if (method === 'OPTIONS') { res.writeHead(204, { Allow: allow }); res.end(); return }
    const isWrite = writable && WRITE_METHODS.has(method)
    if (method !== 'GET' && method !== 'HEAD' && !isWrite) { answer(req, res, log, 405, { Allow: allow }); return }
    const head = method === 'HEAD'

    const p = decodePath(rest)
    if (!p.ok) { answer(req, res, log, p.status); return }
    const dot = dotfileStatus(p.segments, mount.o.hidden, mount.o.dotfiles)
    if (dot !== undefined) { answer(req, res, log, dot); return }
    if (rest === '' && !isWrite) {
      // '/foo' for the mount '/foo': the mount is a directory
      answer(req, res, log, 301, { Location: mount.o.mountpoint + '/' + query })
      return
    }
    const vol = mount.vol
    if (mount.state !== 'up' || vol === undefined) {
      answer(req, res, log, 503, { 'Retry-After': String(mount.o.retryAfterSec) })
      return
    }

    // the client going away aborts the work; the deadline covers everything before the status line
    const ac = new AbortController()
    let timedOut = false
    const onClose = (): void => { if (!res.writableFinished) ac.abort(new GlusterError('ABORT_ERR', 'client went away')) }
    res.once('close', onClose)
    const timer = setTimeout(() => { timedOut = true; ac.abort(new GlusterError('EGLUSTER_TIMEOUT', `request deadline of ${mount.o.requestTimeoutMs} ms passed`)) }, mount.o.requestTimeoutMs)
    const urlPath = '/' + p.segments.join('/')
    const volPath = mount.o.subdir === '/' ? urlPath : posix.join(mount.o.subdir, urlPath)
    const ctx: Ctx = { req, res, mount, vol, volPath, urlPath, trailingSlash: p.trailingSlash, query, signal: ac.signal, timedOut: () => timedOut, log }
    const stopTimer = (): void => { clearTimeout(timer) }
    try {
      if (isWrite) await handleWrite(ctx, method, stopTimer)
      else await this.#read(ctx, head, stopTimer)
    } catch (err) {
      if (res.headersSent) {
        this.#bodyFailure(ctx, err)
      } else if (err instanceof HttpError) {
        answer(req, res, log, err.status, err.headers)
      } else if (timedOut) {
        answer(req, res, log, 504)
      } else if (ac.signal.aborted || res.destroyed) {
        res.destroy()
      } else {
        const m = statusForError(err)
        if (m.status >= 500) this.reportError(err as Error, { kind: 'request', mount: mount.o.mountpoint, url: req.url ?? '' })
        answer(req, res, log, m.status, m.retry ? { 'Retry-After': String(mount.o.retryAfterSec) } : {})
      }
    } finally {
      clearTimeout(timer)
      res.off('close', onClose)
    }
  }

  #bodyFailure (ctx: Ctx, err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err))
    if (!ctx.res.destroyed) {
      this.metrics.bodyErrors.inc({ mount: ctx.mount.o.mountpoint })
      this.reportError(e, { kind: 'body', mount: ctx.mount.o.mountpoint, url: ctx.req.url ?? '' })
    }
    // never a truncated 200: the client sees the connection break, not a short body
    ctx.res.destroy(e)
  }

  async #entry (ctx: Ctx, path: string): Promise<{ entry: Entry, cached: boolean }> {
    const m = ctx.mount
    const hit = m.cache.get(path)
    if (hit !== undefined) {
      this.metrics.cacheHits.inc({ mount: m.o.mountpoint })
      if (hit.error !== undefined) throw hit.error
      return { entry: hit.entry!, cached: true }
    }
    this.metrics.cacheMisses.inc({ mount: m.o.mountpoint })
    const since = m.cache.generation
    try {
      const entry = await ctx.vol.lookup(path, { contentBytes: m.o.smallFileBytes, signal: ctx.signal })
      m.cache.setEntry(path, entry, since)
      return { entry, cached: false }
    } catch (e) {
      if (isNotFound(e)) m.cache.setError(path, e, since)
      throw e
    }
  }

  async #tryEntry (ctx: Ctx, path: string): Promise<Entry | undefined> {
    try {
      return (await this.#entry(ctx, path)).entry
    } catch (e) {
      if (isNotFound(e)) return undefined
      throw e
    }
  }

  async #read (ctx: Ctx, head: boolean, stopTimer: () => void): Promise<void> {
    try {
      await this.#readOnce(ctx, head, stopTimer)
    } catch (e) {
      // a cached inode that is gone (the file was replaced or removed through another client
      // within the TTL): its READ fails with ESTALE/ENOENT; look it up afresh, once
      const x = e as { code?: unknown, syscall?: unknown }
      if (ctx.res.headersSent || ctx.signal.aborted || !(x.code === 'ESTALE' || (x.code === 'ENOENT' && x.syscall === 'read'))) throw e
      ctx.mount.cache.clear()
      await this.#readOnce(ctx, head, stopTimer)
    }
  }

  async #readOnce (ctx: Ctx, head: boolean, stopTimer: () => void): Promise<void> {
    const { entry } = await this.#entry(ctx, ctx.volPath)
    const st = entry.stats
    if (st.isDirectory()) {
      if (!ctx.trailingSlash) {
        throw new HttpError(301, 'directory', { Location: (ctx.mount.o.mountpoint === '/' ? '' : ctx.mount.o.mountpoint) + encodePath(ctx.urlPath) + '/' + ctx.query })
      }
      for (const name of ctx.mount.o.index) {
        const ip = posix.join(ctx.volPath, name)
        const ie = await this.#tryEntry(ctx, ip)
        if (ie?.stats.isFile() === true) { await this.#file(ctx, ip, ie, head, stopTimer); return }
      }
      if (ctx.mount.o.listing) { await this.#listing(ctx, head); return }
      throw new HttpError(404, 'directory without index')
    }
    if (ctx.trailingSlash) throw new HttpError(404, 'not a directory')
    if (!st.isFile()) throw new HttpError(403, 'not a regular file')
    await this.#file(ctx, ctx.volPath, entry, head, stopTimer)
  }

  async #listing (ctx: Ctx, head: boolean): Promise<void> {
    const q = listingQuery(ctx.query)
    const fmt = q.format ?? listingFormat(ctx.req.headers)
    if (fmt === undefined) throw new HttpError(406, 'listing is HTML or JSON')
    const o = ctx.mount.o
    const ents = await ctx.vol.readdir(ctx.volPath, { withFileTypes: true, stats: true, signal: ctx.signal })
    const visible = ents.filter(d => d.name !== '.' && d.name !== '..' && !isHidden(d.name, o.hidden) && !(o.dotfiles !== 'allow' && isDotfile(d.name)))
    const rootPath = o.mountpoint === '/' ? '/' : o.mountpoint + '/'
    const { type, body } = renderListing(fmt, {
      urlPath: rootPath + (ctx.urlPath === '/' ? '' : ctx.urlPath.slice(1) + '/'),
      rootPath,
      entries: toListingEntries(visible),
      sort: q.sort,
    })
    const headers: Record<string, string> = { 'Content-Type': type, 'Content-Length': String(body.length), Vary: 'Accept', ...(fmt === 'html' ? PAGE_HEADERS : { 'X-Content-Type-Options': 'nosniff' }) }
    if (o.cacheControl !== '') headers['Cache-Control'] = o.cacheControl
    ctx.res.writeHead(200, headers)
    if (head) { ctx.res.end(); return }
    ctx.log.bytes += body.length
    ctx.res.end(body)
  }

  async #file (ctx: Ctx, path: string, entry: Entry, head: boolean, stopTimer: () => void): Promise<void> {
    const o = ctx.mount.o
    let chosen = entry
    let encoding: string | undefined
    const ae = ctx.req.headers['accept-encoding']
    if (o.precompressed && ae !== undefined && !/\.(br|gz)$/.test(path)) {
      // every coding the client accepts (q > 0), tried in our order: brotli is smaller
      const ok = new Negotiator({ headers: ctx.req.headers }).encodings(['br', 'gzip'])
      for (const enc of ['br', 'gzip']) {
        if (!ok.includes(enc)) continue
        const sib = await this.#tryEntry(ctx, path + (enc === 'br' ? '.br' : '.gz'))
        if (sib?.stats.isFile() === true) { chosen = sib; encoding = enc; break }
      }
    }
    const st = chosen.stats
    const type = contentTypeOf(posix.basename(path))
    const d = decide(ctx.req.method ?? 'GET', ctx.req.headers, {
      size: st.size,
      mtimeMs: st.mtimeMs,
      etag: makeEtag(st.gfid, st.mtimeNs, st.size),
      type,
      ...(encoding !== undefined ? { encoding } : {}),
      cacheControl: o.cacheControl,
      vary: o.precompressed,
    }, { maxRanges: o.maxRanges })
    // never let a browser guess a type we did not send; run what it renders as a document in an
    // origin of its own, not the gateway's (listings, /healthz, /metrics)
    d.headers['X-Content-Type-Options'] = 'nosniff'
    if (o.sandbox && DOCUMENT_TYPES.test(type)) d.headers['Content-Security-Policy'] = SANDBOX_CSP
    if (head || d.ranges.length === 0) {
      stopTimer()
      ctx.res.writeHead(d.status, d.headers)
      ctx.res.end()
      return
    }
    if (chosen.content !== undefined) {
      stopTimer()
      const c = chosen.content
      const parts: Buffer[] = []
      d.ranges.forEach((r, i) => {
        if (d.multipart !== undefined) parts.push(d.multipart.heads[i]!)
        parts.push(c.subarray(r.start, r.end + 1))
      })
      if (d.multipart !== undefined) parts.push(d.multipart.tail)
      const body = parts.length === 1 ? parts[0]! : Buffer.concat(parts)
      ctx.res.writeHead(d.status, d.headers)
      ctx.log.bytes += body.length
      ctx.res.end(body)
      return
    }
    await this.#stream(ctx, chosen, d, stopTimer)
  }

  /**
   * Stream the ranges. The status line goes out only once the first READ came back, so a file
   * whose copies are all unreachable gets a 503, not a 200 with no body; after that a failure
   * destroys the connection.
   */
  async #stream (ctx: Ctx, entry: Entry, d: Decision, stopTimer: () => void): Promise<void> {
    const res = ctx.res
    const fh = entry.open()
    const m = ctx.mount
    const few = ++m.downloads <= FEW_DOWNLOADS
    const pool = few ? m.buffers.large : m.buffers.small
    const window = few ? Math.max(1, Math.ceil(m.o.streamWindow / 2)) : m.o.streamWindow
    try {
      for (let i = 0; i < d.ranges.length; i++) {
        const r = d.ranges[i]!
        const partHead = d.multipart?.heads[i]
        let before = ctx.log.bytes
        // READs land in a small ring of buffers reused as the socket takes them (memory stays
        // flat however many clients download); the status line goes out with the first chunk
        const got = await fh.pipeTo(res, {
          start: r.start,
          end: r.end,
          signal: ctx.signal,
          pool,
          window,
          onStart: () => {
            if (!res.headersSent) {
              stopTimer()
              res.writeHead(d.status, d.headers)
            }
            if (partHead !== undefined) {
              res.write(partHead)
              ctx.log.bytes += partHead.length
              before += partHead.length
            }
          },
          onProgress: n => { ctx.log.bytes = before + n },
        })
        if (got !== r.end - r.start + 1) {
          throw new GlusterError('EIO', `'${entry.path}' is shorter than when it was looked up (${r.start + got} of ${r.end + 1} bytes)`, { path: entry.path })
        }
      }
      if (d.multipart !== undefined) await write(ctx, d.multipart.tail)
      await new Promise<void>((resolve) => { res.end(resolve) })
    } finally {
      m.downloads--
      await fh.close()
    }
  }
}

/** res.write with back-pressure; rejects when the client went away. */
async function write (ctx: Ctx, chunk: Buffer): Promise<void> {
  const res = ctx.res
  if (res.destroyed) throw new GlusterError('ABORT_ERR', 'client went away')
  ctx.log.bytes += chunk.length
  if (res.write(chunk)) return
  await new Promise<void>((resolve, reject) => {
    const ok = (): void => { cleanup(); resolve() }
    const gone = (): void => { cleanup(); reject(new GlusterError('ABORT_ERR', 'client went away')) }
    const cleanup = (): void => { res.off('drain', ok); res.off('close', gone) }
    res.once('drain', ok)
    res.once('close', gone)
  })
}

export async function createGateway (opts: GatewayOptions & { metricsLabels?: Record<string, string>, defaultMetrics?: boolean }): Promise<Gateway> {
  const metrics = new GatewayMetrics({
    ...(opts.metricsLabels !== undefined ? { labels: opts.metricsLabels } : {}),
    ...(opts.defaultMetrics !== undefined ? { defaultMetrics: opts.defaultMetrics } : {}),
  })
  let gw: GatewayImpl
  try {
    gw = new GatewayImpl(opts, metrics)
  } catch (e) {
    metrics.close()
    throw e
  }
  await gw.ready
  return gw
}

export type { MountOptions }
export { HttpError }
