// A mount: a volume under a URL prefix, its connection (retried with backoff until it comes up),
// its lookup cache (following GlusterFS upcalls when the bricks send them) and its download buffers.
import { ReadBufferPool, Volume, type InvalidateEvent } from '@gluster-ts/volume'
import type { ErrorContext, ResolvedMount } from './options.js'
import { EntryCache } from './entry.js'
import type { GatewayMetrics } from './metrics.js'
import { volumeStatus, type HealthStatus } from './health.js'

export type MountState = 'connecting' | 'up' | 'down' | 'closed'

export interface MountHealth {
  mountpoint: string
  volume: string
  /** can it serve reads now: 'ok' (every brick up), 'degraded' (yes, some brick down), 'down' (no) */
  status: HealthStatus
  /** its connection to the volume */
  state: MountState
  error?: string
  /** true while the cache follows GlusterFS cache-invalidation upcalls (then its TTL is upcallCacheTtlMs) */
  upcalls: boolean
  bricks: Array<{ name: string, brick: string, state: string }>
}

/** What a mount needs of its gateway. */
export interface MountHost {
  readonly metrics: GatewayMetrics
  readonly reconnectInitialMs: number
  readonly reconnectMaxMs: number
  reportError (err: Error, ctx: ErrorContext): void
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
export const FEW_DOWNLOADS = 4

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
  /** connected at least once (readiness) */
  everUp = false
  readonly #gw: MountHost
  readonly #life = new AbortController()
  #timer: NodeJS.Timeout | undefined
  #regrace: NodeJS.Timeout | undefined
  #recheck: NodeJS.Timeout | undefined
  #delay: number

  constructor (o: ResolvedMount, gw: MountHost) {
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
      this.everUp = true
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
    const status = this.state === 'up' && this.vol !== undefined ? volumeStatus(this.vol) : 'down'
    const h: MountHealth = { mountpoint: this.o.mountpoint, volume: this.o.volume, status, state: this.state, upcalls: this.upcalls, bricks: [] }
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
