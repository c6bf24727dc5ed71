// The graph a Volume runs, and switching it when the volfile changes: build the layers over brick
// connections (reusing the connections whose protocol/client options did not change), wait
// until every subvolume can serve, and on FETCHSPEC (glusterd: "the volume's volfiles changed",
// after `gluster volume set`) fetch the volfile again and switch to the new graph, closing the
// bricks it no longer uses once their calls in flight finished. The management connection is
// re-established with backoff through any known volfile server when it drops.
import { randomUUID } from 'node:crypto'
import { CallbackProgram, GlusterError, getSpec, type RpcClient } from '@gluster-ts/rpc'
import type { VolfileServer } from './servers.js'
import { fetchVolfile } from './bootstrap.js'
import { buildClientGraph, type ClientGraph, type ClientSpec, type XlatorOptions } from './graph.js'
import { BrickClient, type BrickOptions } from './brick.js'
import type { Layer } from './layer.js'
import { buildStack, type StackSettings } from './stack.js'
import { watchBrick, type InvalidateEvent, type ResyncEvent } from './upcall.js'

export interface Graph {
  /** the volfile text it was built from */
  text: string
  graph: ClientGraph
  bricks: Map<string, BrickClient>
  top: Layer
}

export interface GraphOptions {
  volume: string
  xlatorOptions?: XlatorOptions
  readHashMode?: number
  pingTimeoutMs?: number
  bootstrapTimeoutMs?: number
  connectTimeoutMs?: number
  bricksTimeoutMs?: number
  probeTimeoutMs?: number
  reconnectInitialMs?: number
  reconnectMaxMs?: number
  privilegedPort?: boolean
  uid?: number
  gid?: number
  groups?: number[]
}

export interface GraphEvents {
  invalidate (e: InvalidateEvent): void
  resync (e: ResyncEvent): void
  pathOf (gfid: string): string | undefined
  /** glusterd sent FETCHSPEC */
  fetchspec (): void
  /** the volume now runs `next` (its caches of the old graph's inodes must go) */
  switched (next: Graph): void
}

function brickKey (c: ClientSpec): string {
  return JSON.stringify([c.name, c.host, c.port ?? 0, c.brickPath, c.username ?? '', c.password ?? '', c.pingTimeoutSec])
}

export class VolumeGraph {
  #g!: Graph
  readonly #o: GraphOptions
  readonly #servers: VolfileServer[]
  readonly #settings: StackSettings
  readonly #ev: GraphEvents
  readonly #ctxId = randomUUID()
  readonly #life = new AbortController()
  #mgmt: RpcClient | undefined
  #refetching: Promise<void> | undefined
  #mgmtLoop: Promise<void> | undefined
  #closed = false

  constructor (o: GraphOptions, servers: VolfileServer[], settings: StackSettings, ev: GraphEvents) {
    this.#o = o
    this.#servers = servers
    this.#settings = settings
    this.#ev = ev
  }

  get current (): Graph { return this.#g }
  get servers (): VolfileServer[] { return this.#servers }

  /** Build the first graph from `spec`; then follow the volume's volfile over `mgmt`. */
  async start (spec: string, mgmt: RpcClient, signal?: AbortSignal): Promise<void> {
    this.#g = await this.#make(spec, undefined, signal)
    this.#adoptMgmt(mgmt)
  }

  async #make (text: string, old: Graph | undefined, signal?: AbortSignal): Promise<Graph> {
    const overrides: XlatorOptions = { ...this.#o.xlatorOptions }
    if (this.#o.readHashMode !== undefined) overrides['*'] = { ...overrides['*'], 'read-hash-mode': String(this.#o.readHashMode) }
    const graph = buildClientGraph(text, overrides)
    const o = this.#o
    const bo: BrickOptions = {
      volfileKey: o.volume,
      ctxId: this.#ctxId,
      connectTimeoutMs: o.connectTimeoutMs ?? 5000,
      ...(o.pingTimeoutMs !== undefined ? { pingTimeoutMs: o.pingTimeoutMs } : {}),
      ...(o.probeTimeoutMs !== undefined ? { probeTimeoutMs: o.probeTimeoutMs } : {}),
      ...(o.reconnectInitialMs !== undefined ? { reconnectInitialMs: o.reconnectInitialMs } : {}),
      ...(o.reconnectMaxMs !== undefined ? { reconnectMaxMs: o.reconnectMaxMs } : {}),
      ...(o.privilegedPort === true ? { privilegedPort: true } : {}),
      ...(o.uid !== undefined ? { uid: o.uid } : {}),
      ...(o.gid !== undefined ? { gid: o.gid } : {}),
      ...(o.groups !== undefined ? { groups: o.groups } : {}),
      ...(graph.volumeId !== undefined ? { volumeId: graph.volumeId } : {}),
    }
    const reuse = new Map<string, BrickClient>()
    if (old !== undefined) for (const b of old.bricks.values()) reuse.set(brickKey(b.spec), b)
    const bricks = new Map<string, BrickClient>()
    for (const c of graph.clients) {
      const b = reuse.get(brickKey(c)) ?? new BrickClient(c, bo)
      bricks.set(c.name, b)
      watchBrick(b, this.#ev)
      b.start()
    }
    const dropNew = (): void => { for (const b of bricks.values()) if (old === undefined || old.bricks.get(b.spec.name) !== b) void b.close() }
    let top: Layer
    try {
      top = buildStack(graph, bricks, this.#settings)
      await this.#waitForBricks(top, bricks, signal)
    } catch (e) {
      dropNew()
      throw e
    }
    return { text, graph, bricks, top }
  }

  /** Until every brick is up, or every subvolume can serve and every brick has had its first try. */
  async #waitForBricks (top: Layer, bricks: Map<string, BrickClient>, signal?: AbortSignal): Promise<void> {
    const timeoutMs = this.#o.bricksTimeoutMs ?? this.#o.connectTimeoutMs ?? 5000
    const all = [...bricks.values()]
    const ready = (): boolean => {
      if (all.every(b => b.up)) return true
      const tried = all.every(b => b.up || b.failures > 0)
      // a brick that refused us will refuse again: like the FUSE client on AUTH_FAILED, give up
      return tried && (top.ready() || all.some(b => !b.up && refusedUs(b.lastError)))
    }
    if (!ready()) {
      await new Promise<void>(resolve => {
        const done = (): void => {
          clearTimeout(timer)
          signal?.removeEventListener('abort', done)
          for (const b of all) b.off('state', check)
          resolve()
        }
        const check = (): void => { if (ready()) done() }
        const timer = setTimeout(done, timeoutMs)
        signal?.addEventListener('abort', done, { once: true })
        for (const b of all) b.on('state', check)
      })
    }
    if (signal?.aborted === true) throw signal.reason
    if (!top.ready()) {
      // refused by the bricks' auth: say so with their code and name the first brick that refused
      const refused = all.find(b => !b.up && refusedUs(b.lastError))
      if (refused !== undefined) {
        const e = refused.lastError as GlusterError
        throw new GlusterError(e.code, `volume ${this.#o.volume}: bricks refused the client: ${top.whyNot()}`, { syscall: 'connect', path: this.#o.volume, brick: refused.label }, { cause: e })
      }
      throw new GlusterError('EGLUSTER_NO_QUORUM', `volume ${this.#o.volume}: not enough bricks within ${timeoutMs} ms: ${top.whyNot()}`, { syscall: 'connect', path: this.#o.volume })
    }
  }

  // ---- FETCHSPEC ----

  #adoptMgmt (c: RpcClient): void {
    this.#mgmt = c
    c.onCall(CallbackProgram, { FETCHSPEC: () => { void this.refetch().catch(() => {}); this.#ev.fetchspec() } })
    c.once('close', () => {
      if (this.#closed || this.#mgmt !== c) return
      this.#mgmt = undefined
      this.#mgmtLoop ??= this.#reconnectMgmt().finally(() => { this.#mgmtLoop = undefined })
    })
  }

  async #reconnectMgmt (): Promise<void> {
    let delay = this.#o.reconnectInitialMs ?? 200
    const signal = this.#life.signal
    while (!signal.aborted) {
      await new Promise<void>(resolve => {
        const t = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve() }, delay)
        const onAbort = (): void => { clearTimeout(t); resolve() }
        signal.addEventListener('abort', onAbort, { once: true })
      })
      if (signal.aborted) return
      try {
        const b = await fetchVolfile(this.#servers, { volume: this.#o.volume, signal, timeoutMs: this.#o.bootstrapTimeoutMs ?? 5000 })
        if (signal.aborted) { b.client.destroy(); return }
        this.#adoptMgmt(b.client)
        await this.#switchTo(b.spec)
        return
      } catch {
        delay = Math.min(delay * 2, this.#o.reconnectMaxMs ?? 3000)
      }
    }
  }

  /** Fetch the volfile again; when it changed, build the new graph and switch to it. */
  refetch (o: { signal?: AbortSignal } = {}): Promise<void> {
    this.#refetching ??= (async () => {
      const c = this.#mgmt
      if (c === undefined || c.closed) return
      const r = await getSpec(c, this.#o.volume, { timeoutMs: this.#o.bootstrapTimeoutMs ?? 5000, ...(o.signal !== undefined ? { signal: o.signal } : {}) })
      await this.#switchTo(r.spec)
    })().finally(() => { this.#refetching = undefined })
    return this.#refetching
  }

  async #switchTo (text: string): Promise<void> {
    if (this.#closed || text === this.#g.text) return
    const old = this.#g
    const next = await this.#make(text, old, this.#life.signal)
    if (this.#closed) { for (const b of next.bricks.values()) void b.close(); return }
    this.#g = next
    this.#ev.switched(next)
    // the old top's background work, then the bricks the new graph dropped (close() lets their
    // calls in flight finish first)
    const kept = new Set(next.bricks.values())
    void (async () => {
      await old.top.close?.().catch(() => {})
      for (const b of old.bricks.values()) if (!kept.has(b)) void b.close()
    })()
  }

  /** Stop following the volfile, finish the top's background work, close every connection. */
  async close (o: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#life.abort()
    await this.#refetching?.catch(() => {})
    await this.#mgmtLoop
    await this.#g.top.close?.({ ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}) }).catch(() => {})
    const m = this.#mgmt
    this.#mgmt = undefined
    await Promise.all([
      ...[...this.#g.bricks.values()].map(b => b.close({ timeoutMs: 1000 })),
      m?.close({ timeoutMs: 1000 }),
    ])
  }
}

/** A brick's auth said no (SETVOLUME EACCES, or our source port refused). */
function refusedUs (err: Error | undefined): boolean {
  return err instanceof GlusterError && (err.code === 'EGLUSTER_AUTH' || err.code === 'EGLUSTER_PRIVILEGED_PORT')
}
