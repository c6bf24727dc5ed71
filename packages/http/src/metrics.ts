// Prometheus metrics (prom-client), one registry per gateway. Brick events come from the
// volume's diagnostics channels (the library publishes, we subscribe).
import dc from 'node:diagnostics_channel'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import {
  CHANNEL_BRICK_CONNECT, CHANNEL_BRICK_DISCONNECT, CHANNEL_REPLICA_FAILOVER,
  type BrickDisconnectEvent, type ReplicaFailoverEvent,
} from '@gluster-ts/volume'

export class GatewayMetrics {
  readonly registry = new Registry()
  readonly requests: Counter<'mount' | 'method' | 'status'>
  readonly bytes: Counter<'mount'>
  readonly duration: Histogram<'mount' | 'method'>
  readonly inflight: Gauge
  readonly mountUp: Gauge<'mount' | 'volume'>
  readonly brickErrors: Counter<'brick'>
  readonly failovers: Counter<'from_brick' | 'to_brick' | 'reason'>
  readonly brickConnects: Counter<'brick'>
  readonly cacheHits: Counter<'mount'>
  readonly cacheMisses: Counter<'mount'>
  readonly invalidations: Counter<'mount'>
  readonly bodyErrors: Counter<'mount'>
  readonly #subs: Array<[string, (m: unknown) => void]> = []

  constructor (o: { defaultMetrics?: boolean, labels?: Record<string, string> } = {}) {
    const r = [this.registry]
    if (o.labels !== undefined) this.registry.setDefaultLabels(o.labels)
    this.requests = new Counter({ name: 'gluster_http_requests_total', help: 'HTTP requests answered', labelNames: ['mount', 'method', 'status'], registers: r })
    this.bytes = new Counter({ name: 'gluster_http_response_bytes_total', help: 'body bytes sent', labelNames: ['mount'], registers: r })
    this.duration = new Histogram({
      name: 'gluster_http_request_duration_seconds', help: 'time from request to the end of the response', labelNames: ['mount', 'method'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: r,
    })
    this.inflight = new Gauge({ name: 'gluster_http_requests_in_flight', help: 'requests being answered', registers: r })
    this.mountUp = new Gauge({ name: 'gluster_http_mount_up', help: '1 when the mount is connected to its volume', labelNames: ['mount', 'volume'], registers: r })
    this.brickErrors = new Counter({ name: 'gluster_brick_disconnects_total', help: 'brick connections lost (errors, missed pings)', labelNames: ['brick'], registers: r })
    this.brickConnects = new Counter({ name: 'gluster_brick_connects_total', help: 'brick connections established', labelNames: ['brick'], registers: r })
    this.failovers = new Counter({ name: 'gluster_replica_failovers_total', help: 'reads sent to another copy', labelNames: ['from_brick', 'to_brick', 'reason'], registers: r })
    this.cacheHits = new Counter({ name: 'gluster_http_cache_hits_total', help: 'metadata cache hits', labelNames: ['mount'], registers: r })
    this.cacheMisses = new Counter({ name: 'gluster_http_cache_misses_total', help: 'metadata cache misses', labelNames: ['mount'], registers: r })
    this.invalidations = new Counter({ name: 'gluster_http_cache_invalidations_total', help: 'GlusterFS cache-invalidation upcalls received', labelNames: ['mount'], registers: r })
    this.bodyErrors = new Counter({ name: 'gluster_http_body_errors_total', help: 'responses cut short by a read failure after the status was sent', labelNames: ['mount'], registers: r })
    if (o.defaultMetrics === true) collectDefaultMetrics({ register: this.registry })
    this.#on(CHANNEL_BRICK_DISCONNECT, m => {
      const e = m as BrickDisconnectEvent
      if (!e.closing) this.brickErrors.inc({ brick: e.brick })
    })
    this.#on(CHANNEL_BRICK_CONNECT, m => { this.brickConnects.inc({ brick: (m as { brick: string }).brick }) })
    this.#on(CHANNEL_REPLICA_FAILOVER, m => {
      const e = m as ReplicaFailoverEvent
      this.failovers.inc({ from_brick: e.fromBrick, to_brick: e.toBrick, reason: e.reason })
    })
  }

  #on (name: string, fn: (m: unknown) => void): void {
    dc.subscribe(name, fn)
    this.#subs.push([name, fn])
  }

  close (): void {
    for (const [name, fn] of this.#subs) dc.unsubscribe(name, fn)
    this.#subs.length = 0
  }
}
