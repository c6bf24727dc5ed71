// The request handler: mounts by URL prefix, GET/HEAD over a volume with RFC 9110 semantics,
// health and metrics endpoints, and (opt-in) writes. Usable with node:http, Express, Fastify.
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http'
import { posix } from 'node:path'
import mime from 'mime'
import Negotiator from 'negotiator'
import { GlusterError } from '@gluster-ts/rpc'
import { ReadBufferPool, Volume, type InvalidateEvent } from '@gluster-ts/volume'
import {
  resolveMount, type AccessLogEntry, type ErrorContext, type GatewayOptions, type MountOptions, type ResolvedMount,
} from './options.js'
import { decodePath, dotfileStatus, encodePath, isHidden } from './path.js'
import { statusForError } from './status-map.js'
import { decide, makeEtag, type Decision } from './respond.js'
import { EntryCache, type Entry } from './entry.js'
import { listingFormat, renderListing, toListingEntries } from './listing.js'
import { GatewayMetrics } from './metrics.js'
import { handleWrite, WRITE_METHODS } from './writes.js'

export type MountState = 'connecting' | 'up' | 'down' | 'closed'

export interface MountHealth {
  mountpoint: string
  volume: string
  state: MountState
  error?: string
  /** true while the cache follows GlusterFS cache-invalidation upcalls (then its TTL is upcallCacheTtlMs) */
  upcalls: boolean
  bricks: Array<{ name: string, brick: string, state: string }>
}

export interface GatewayHealth {
  /** 'ok': every mount up with every brick up; 'degraded': all mounts up, some brick not; 'down': a mount is not connected */
  status: 'ok' | 'degraded' | 'down'
  mounts: MountHealth[]
}

export interface Gateway {
  /** (req, res) handler for node:http, Express (`app.use(gw.handler)`) and Fastify (`reply.hijack()` first) */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void
  /** stop taking requests (503), wait for those in flight (at most timeoutMs, default 10 s), close every volume */
  close (opts?: { timeoutMs?: number }): Promise<void>
  health (): GatewayHealth
  readonly metrics: GatewayMetrics
  /** resolves once every mount made its first connection attempt (the ones that failed keep retrying) */
  readonly ready: Promise<void>
}

/**
 * READ size and READs in flight per download. The volume's own default (1 MiB × 4) is tuned for
 * one fast reader; a gateway serves many, and 4 MiB in flight per download put 50 downloads of
 * a 1 GiB file at 187 MiB RSS (bench/http). 256 KiB × 4 keeps 1 MiB in flight per download.
 * Hedging after 1 s rather than 300 ms: with 16 downloads on a busy host, READs often take over
 * 300 ms and every one of them was sent twice (828 hedges in 12 s, 22 vs 37 MB/s without).
 */
const GATEWAY_VOLUME_DEFAULTS = { readChunkBytes: 256 * 1024, readWindow: 4, hedgeAfterMs: 1000 } as const

/**
 * After upcalls are found on, the cache is emptied again this much later (the bricks may still be
 * reconfiguring); after a FETCHSPEC, the bricks' volfiles are read again this much later too.
 */
const UPCALL_GRACE_MS = 2000

/** READ size of a download while few run, and how few (see Mount.buffers). */
const LARGE_READ_BYTES = 1 << 20
const FEW_DOWNLOADS = 4

/** A mount: its options, its volume once connected, its cache. */
export class Mount {
  readonly o: ResolvedMount
  vol: Volume | undefined
  state: MountState = 'connecting'
  lastError: Error | undefined
  readonly cache: EntryCache
  /**
   * The READ buffers this mount's downloads share (pipeTo), half of streamBufferBytes each: 1 MiB
   * READs while at most FEW_DOWNLOADS downloads run (a lone download goes fastest with large
   * READs), readChunkBytes (256 KiB) READs beyond that, so many downloads stay in bounded memory.
   */
  readonly buffers: { large: ReadBufferPool, small: ReadBufferPool }
  /** downloads streaming now */
  downloads = 0
  /** the bricks send cache-invalidation upcalls and the cache follows them */
  upcalls = false
  readonly #gw: GatewayImpl
  readonly #life = new AbortController()
  #timer: NodeJS.Timeout | undefined
  #regrace: NodeJS.Timeout | undefined
  #recheck: NodeJS.Timeout | undefined
  #delay: number

  constructor (o: ResolvedMount, gw: GatewayImpl) {
    const chunk = o.volumeOptions?.readChunkBytes ?? GATEWAY_VOLUME_DEFAULTS.readChunkBytes
    const half = Math.floor(o.streamBufferBytes / 2)
    this.buffers = {
      large: new ReadBufferPool(LARGE_READ_BYTES, Math.max(LARGE_READ_BYTES, half)),
      small: new ReadBufferPool(chunk, Math.max(chunk, half)),
    }
    this.o = o
    this.#gw = gw
    this.#delay = gw.reconnectInitialMs
    this.cache = new EntryCache({ ttlMs: o.cacheTtlMs, maxEntries: o.cacheMaxEntries, maxBytes: o.cacheMaxBytes })
  }

  async connect (): Promise<void> {
    if (this.#life.signal.aborted) return
    try {
      const vol = await Volume.connect({ ...GATEWAY_VOLUME_DEFAULTS, ...this.o.volumeOptions, servers: this.o.servers, volume: this.o.volume, signal: this.#life.signal })
      if (this.#life.signal.aborted) { await vol.close({ timeoutMs: 1000 }); return }
      await this.#followUpcalls(vol)
      if (this.#life.signal.aborted) { await vol.close({ timeoutMs: 1000 }); return }
      this.vol = vol
      this.state = 'up'
      this.lastError = undefined
      this.#gw.metrics.mountUp.set({ mount: this.o.mountpoint, volume: this.o.volume }, 1)
    } catch (e) {
      if (this.#life.signal.aborted) return
      this.state = 'down'
      this.lastError = e as Error
      this.#gw.metrics.mountUp.set({ mount: this.o.mountpoint, volume: this.o.volume }, 0)
      this.#gw.reportError(e as Error, { kind: 'connect', mount: this.o.mountpoint })
      const d = this.#delay
      this.#delay = Math.min(this.#delay * 2, this.#gw.reconnectMaxMs)
      this.#timer = setTimeout(() => { this.#timer = undefined; void this.connect() }, d)
      this.#timer.unref()
    }
  }

  /**
   * With upcalls 'auto' and a cache: listen first (nothing is missed), then ask the bricks'
   * volfiles whether features.cache-invalidation is on; only then trust entries for the long TTL.
   * Asked again on every FETCHSPEC (`gluster volume set`). A brick that reconnects has lost its
   * registrations: the cache starts over.
   */
  async #followUpcalls (vol: Volume): Promise<void> {
    if (this.o.upcalls === 'off' || this.o.cacheTtlMs <= 0) return
    const mount = { mount: this.o.mountpoint }
    vol.on('invalidate', (e: InvalidateEvent) => {
      this.#gw.metrics.invalidations.inc(mount)
      this.cache.invalidate(e)
    })
    vol.on('resync', () => { this.cache.clear() })
    vol.on('fetchspec', () => {
      if (this.#life.signal.aborted) return
      void this.#detectUpcalls(vol)
      // the peers' glusterds commit a `volume set` one after the other: look once more later
      if (this.#recheck !== undefined) clearTimeout(this.#recheck)
      this.#recheck = setTimeout(() => { this.#recheck = undefined; void this.#detectUpcalls(vol) }, UPCALL_GRACE_MS)
      this.#recheck.unref()
    })
    await this.#detectUpcalls(vol)
  }

  async #detectUpcalls (vol: Volume): Promise<void> {
    const on = await vol.cacheInvalidation({ signal: this.#life.signal, timeoutMs: this.o.volumeOptions?.bootstrapTimeoutMs ?? 5000 }).catch(() => false)
    if (this.#life.signal.aborted || on === this.upcalls) return
    this.upcalls = on
    this.cache.ttlMs = on ? this.o.upcallCacheTtlMs : this.o.cacheTtlMs
    if (!on) return
    // entries looked up while the bricks were not watching are not registered for upcalls; the
    // bricks reconfigure on the same FETCHSPEC as we do, so once more a little later
    this.cache.clear()
    if (this.#regrace !== undefined) clearTimeout(this.#regrace)
    this.#regrace = setTimeout(() => { this.#regrace = undefined; this.cache.clear() }, UPCALL_GRACE_MS)
    this.#regrace.unref()
  }

  health (): MountHealth {
    const h: MountHealth = { mountpoint: this.o.mountpoint, volume: this.o.volume, state: this.state, upcalls: this.upcalls, bricks: [] }
    if (this.lastError !== undefined && this.state !== 'up') h.error = this.lastError.message
    if (this.vol !== undefined) {
      for (const [name, b] of this.vol.bricks) h.bricks.push({ name, brick: b.label, state: b.slow ? 'slow' : b.state })
    }
    return h
  }

  async close (): Promise<void> {
    this.#life.abort()
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    for (const x of [this.#timer, this.#regrace, this.#recheck]) if (x !== undefined) clearTimeout(x)
    this.#timer = this.#regrace = this.#recheck = undefined
    this.state = 'closed'
    const v = this.vol
    this.vol = undefined
    this.cache.clear()
    await v?.close({ timeoutMs: 2000 })
  }
}

/** Per-request state. */
export interface Ctx {
  req: IncomingMessage
  res: ServerResponse
  mount: Mount
  vol: Volume
  /** decoded path inside the volume, '/a/b' */
  volPath: string
  trailingSlash: boolean
  query: string
  /** aborted when the client goes away (or the pre-status deadline passes: see timedOut) */
  signal: AbortSignal
  timedOut: () => boolean
  bytes: number
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

function plain (res: ServerResponse, status: number, headers: Record<string, string> = {}, head = false): void {
  const body = Buffer.from(`${status} ${STATUS_CODES[status] ?? ''}\n`)
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(body.length), 'X-Content-Type-Options': 'nosniff', ...headers })
  res.end(head ? undefined : body)
}

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
    const status = mounts.some(m => m.state !== 'up') ? 'down' : mounts.some(m => m.bricks.some(b => b.state !== 'up')) ? 'degraded' : 'ok'
    return { status, mounts }
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
      if (!res.headersSent) plain(res, 500)
      else res.destroy(err instanceof Error ? err : undefined)
    })
  }

  async #handle (req: IncomingMessage, res: ServerResponse, log: AccessLogEntry): Promise<void> {
    const method = req.method ?? ''
    if (this.#closing) { plain(res, 503, { Connection: 'close', 'Retry-After': '1' }, method === 'HEAD'); return }
    let url = req.url ?? ''
    if (Buffer.byteLength(url) > this.#maxUrl) { plain(res, 414, {}, method === 'HEAD'); return }
    const abs = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(url) // absolute-form (a proxy request)
    if (abs !== null) url = url.slice(abs[0].length) || '/'
    if (!url.startsWith('/')) { plain(res, 400, {}, method === 'HEAD'); return }
    const q = url.indexOf('?')
    const rawPath = q < 0 ? url : url.slice(0, q)
    const query = q < 0 ? '' : url.slice(q)

    if (this.#healthPath !== false && rawPath === this.#healthPath && (method === 'GET' || method === 'HEAD')) {
      const h = this.health()
      const body = Buffer.from(JSON.stringify(h))
      res.writeHead(h.status === 'down' ? 503 : 200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(body.length), 'Cache-Control': 'no-store' })
      res.end(method === 'HEAD' ? undefined : body)
      return
    }
    if (this.#metricsPath !== false && rawPath === this.#metricsPath && (method === 'GET' || method === 'HEAD')) {
      const body = Buffer.from(await this.metrics.registry.metrics())
      res.writeHead(200, { 'Content-Type': this.metrics.registry.contentType, 'Content-Length': String(body.length), 'Cache-Control': 'no-store' })
      res.end(method === 'HEAD' ? undefined : body)
      return
    }

    const mount = this.mounts.find(m => m.o.mountpoint === '/' || rawPath === m.o.mountpoint || rawPath.startsWith(m.o.mountpoint + '/'))
    if (mount === undefined) { plain(res, 404, {}, method === 'HEAD'); return }
    log.mount = mount.o.mountpoint
    const rest = mount.o.mountpoint === '/' ? rawPath : rawPath.slice(mount.o.mountpoint.length)
    const writable = mount.o.writes !== undefined
    const allow = writable ? 'GET, HEAD, OPTIONS, PUT, DELETE, MKCOL' : 'GET, HEAD, OPTIONS'
    if (method === 'OPTIONS') { res.writeHead(204, { Allow: allow }); res.end(); return }
    const isWrite = writable && WRITE_METHODS.has(method)
    if (method !== 'GET' && method !== 'HEAD' && !isWrite) { plain(res, 405, { Allow: allow }); return }
    const head = method === 'HEAD'

    const p = decodePath(rest)
    if (!p.ok) { plain(res, p.status, {}, head); return }
    const dot = dotfileStatus(p.segments, mount.o.hidden, mount.o.dotfiles)
    if (dot !== undefined) { plain(res, dot, {}, head); return }
    if (rest === '' && !isWrite) {
      // '/foo' for the mount '/foo': the mount is a directory
      plain(res, 301, { Location: mount.o.mountpoint + '/' + query }, head)
      return
    }
    const vol = mount.vol
    if (mount.state !== 'up' || vol === undefined) {
      plain(res, 503, { 'Retry-After': String(mount.o.retryAfterSec) }, head)
      return
    }

    // the client going away aborts the work; the deadline covers everything before the status line
    const ac = new AbortController()
    let timedOut = false
    const onClose = (): void => { if (!res.writableFinished) ac.abort(new GlusterError('ABORT_ERR', 'client went away')) }
    res.once('close', onClose)
    const timer = setTimeout(() => { timedOut = true; ac.abort(new GlusterError('EGLUSTER_TIMEOUT', `request deadline of ${mount.o.requestTimeoutMs} ms passed`)) }, mount.o.requestTimeoutMs)
    const ctx: Ctx = { req, res, mount, vol, volPath: '/' + p.segments.join('/'), trailingSlash: p.trailingSlash, query, signal: ac.signal, timedOut: () => timedOut, bytes: 0 }
    const stopTimer = (): void => { clearTimeout(timer) }
    try {
      if (isWrite) await handleWrite(ctx, method, stopTimer)
      else await this.#read(ctx, head, stopTimer)
    } catch (err) {
      if (res.headersSent) {
        this.#bodyFailure(ctx, err)
      } else if (err instanceof HttpError) {
        plain(res, err.status, err.headers, head)
      } else if (timedOut) {
        plain(res, 504, {}, head)
      } else if (ac.signal.aborted || res.destroyed) {
        res.destroy()
      } else {
        const m = statusForError(err)
        if (m.status >= 500) this.reportError(err as Error, { kind: 'request', mount: mount.o.mountpoint, url: req.url ?? '' })
        plain(res, m.status, m.retry ? { 'Retry-After': String(mount.o.retryAfterSec) } : {}, head)
      }
    } finally {
      clearTimeout(timer)
      res.off('close', onClose)
      log.bytes = ctx.bytes
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
        throw new HttpError(301, 'directory', { Location: (ctx.mount.o.mountpoint === '/' ? '' : ctx.mount.o.mountpoint) + encodePath(ctx.volPath) + '/' + ctx.query })
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
    const fmt = listingFormat(ctx.req.headers)
    if (fmt === undefined) throw new HttpError(406, 'listing is HTML or JSON')
    const o = ctx.mount.o
    const ents = await ctx.vol.readdir(ctx.volPath, { withFileTypes: true, stats: true, signal: ctx.signal })
    const visible = ents.filter(d => !isHidden(d.name, o.hidden) && !(o.dotfiles !== 'allow' && d.name.startsWith('.')))
    const { type, body } = renderListing(fmt, o.mountpoint.replace(/\/$/, '') + (ctx.volPath === '/' ? '/' : ctx.volPath + '/'), toListingEntries(visible))
    const headers: Record<string, string> = { 'Content-Type': type, 'Content-Length': String(body.length), Vary: 'Accept' }
    if (o.cacheControl !== '') headers['Cache-Control'] = o.cacheControl
    ctx.res.writeHead(200, headers)
    if (!head) ctx.bytes += body.length
    ctx.res.end(head ? undefined : body)
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
    const d = decide(ctx.req.method ?? 'GET', ctx.req.headers, {
      size: st.size,
      mtimeMs: st.mtimeMs,
      etag: makeEtag(st.gfid, st.mtimeNs, st.size),
      type: contentTypeOf(posix.basename(path)),
      ...(encoding !== undefined ? { encoding } : {}),
      cacheControl: o.cacheControl,
      vary: o.precompressed,
    }, { maxRanges: o.maxRanges })
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
      ctx.bytes += body.length
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
        let before = ctx.bytes
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
              ctx.bytes += partHead.length
              before += partHead.length
            }
          },
          onProgress: n => { ctx.bytes = before + n },
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
  ctx.bytes += chunk.length
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
