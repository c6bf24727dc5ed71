// One protocol/client leaf: the connection to one brick (gluster-wire.md §9.1). Ask the brick
// host's glusterd for the port (PORTBYBRICK), connect, DUMP, SETVOLUME, then serve calls; PING
// every ping-timeout and drop the connection when a ping goes unanswered that long; reconnect
// with backoff. Separately, a brick that a caller found slow is "suspected": a short ping probe
// decides, and a brick that does not answer it is marked slow (AFR reads avoid it) until a probe
// is answered again.
import { EventEmitter } from 'node:events'
import { randomUUID } from 'node:crypto'
import {
  CallbackProgram, GlusterError, RpcClient, dump, glusterfsV2Cred, glusterfsV3Cred, isGlusterd, ping, portByBrick,
  servesFopV400, setVolume, type BoundProc, type CallOptions, type Gfs3CbkCacheInvalidationReq,
} from '@gluster-ts/rpc'
import type { ClientSpec } from './graph.js'
import { mdataCred } from './mdata.js'
import { brickConnectChannel, brickDisconnectChannel, type BrickConnectEvent, type BrickDisconnectEvent } from './diagnostics.js'

export type BrickState = 'idle' | 'connecting' | 'up' | 'down' | 'closed'

export interface BrickOptions {
  /** the volfile id (volume name) sent in SETVOLUME */
  volfileKey: string
  /** stable per Volume: the CTX_ID of process-uuid */
  ctxId?: string
  /** deadline of one connect + handshake attempt, ms (default 5000) */
  connectTimeoutMs?: number
  /** first reconnect delay, ms (default 200); doubles up to reconnectMaxMs */
  reconnectInitialMs?: number
  /** longest reconnect delay, ms (default 3000, GlusterFS's fixed retry interval) */
  reconnectMaxMs?: number
  /** override the volfile's ping-timeout, ms (0 disables the keep-alive ping) */
  pingTimeoutMs?: number
  /** deadline of a suspicion probe (PING), ms (default 1000) */
  probeTimeoutMs?: number
  /** pause between probes of a slow brick, ms (default 1000) */
  probeIntervalMs?: number
  /** bind a source port below 1024 (needs root) for bricks with server.allow-insecure off */
  privilegedPort?: boolean
  /** the volume id from an earlier SETVOLUME (the brick checks it) */
  volumeId?: string
  /** uid/gid/pid for the fop credential */
  uid?: number
  gid?: number
  groups?: number[]
}

export interface BrickEvents {
  state: [state: BrickState, err?: Error]
  slow: []
  responsive: []
  /** a CACHE_INVALIDATION upcall from the brick (features.cache-invalidation on; see upcall.ts) */
  upcall: [req: Gfs3CbkCacheInvalidationReq]
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> => new Promise(resolve => {
  if (signal.aborted) { resolve(); return }
  const onAbort = (): void => { clearTimeout(timer); resolve() }
  const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve() }, ms)
  signal.addEventListener('abort', onAbort, { once: true })
})

export class BrickClient extends EventEmitter<BrickEvents> {
  readonly spec: ClientSpec
  /** 'host:port:/brick/path' once the port is known, else 'host:/brick/path' */
  label: string
  #o: Required<Pick<BrickOptions, 'connectTimeoutMs' | 'reconnectInitialMs' | 'reconnectMaxMs' | 'probeTimeoutMs' | 'probeIntervalMs'>> & BrickOptions
  #state: BrickState = 'idle'
  #rpc: RpcClient | undefined
  #ctxId: string
  #reconnects = 0
  #nextXid = 2
  #life = new AbortController()
  #loop: Promise<void> | undefined
  #pingTimer: NodeJS.Timeout | undefined
  #slow = false
  #probing: Promise<void> | undefined
  #lastError: Error | undefined
  #upWaiters = new Set<() => void>()
  #lastFailures = 0
  /** bumped on every successful SETVOLUME: fds of an older generation are gone */
  generation = 0
  /** reads outstanding (for read-hash-mode 3) */
  inflight = 0
  /** a smoothed round trip of answered calls, ms */
  latencyMs = 0
  volumeId: string | undefined

  constructor (spec: ClientSpec, o: BrickOptions) {
    super()
    this.spec = spec
    this.label = `${spec.host}:${spec.brickPath}`
    this.#o = {
      connectTimeoutMs: 5000,
      reconnectInitialMs: 200,
      reconnectMaxMs: 3000,
      probeTimeoutMs: 1000,
      probeIntervalMs: 1000,
      ...o,
    }
    this.#ctxId = o.ctxId ?? randomUUID()
    this.volumeId = o.volumeId
  }

  get state (): BrickState { return this.#state }
  get up (): boolean { return this.#state === 'up' }
  /** up and not marked slow: what readers should use */
  get usable (): boolean { return this.#state === 'up' && !this.#slow }
  get slow (): boolean { return this.#slow }
  get lastError (): Error | undefined { return this.#lastError }
  /** connection attempts that failed or ended since the last success */
  failures = 0

  get pingTimeoutMs (): number { return this.#o.pingTimeoutMs ?? this.spec.pingTimeoutSec * 1000 }

  /** Start connecting (and keep reconnecting until close()). */
  start (): void {
    if (this.#loop !== undefined || this.#state === 'closed') return
    this.#loop = this.#run()
  }

  /** Resolve once up, or after `timeoutMs` (resolves false), or when the first attempt fails and `settle` is set. */
  whenUp (timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.up) return Promise.resolve(true)
    return new Promise(resolve => {
      const done = (v: boolean): void => {
        clearTimeout(timer)
        this.#upWaiters.delete(onUp)
        this.off('state', onState)
        signal?.removeEventListener('abort', onAbort)
        resolve(v)
      }
      const onUp = (): void => done(true)
      const onState = (s: BrickState): void => { if (s === 'closed') done(false) }
      const onAbort = (): void => done(false)
      const timer = setTimeout(() => done(false), timeoutMs)
      this.#upWaiters.add(onUp)
      this.on('state', onState)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  #setState (s: BrickState, err?: Error): void {
    if (this.#state === s) return
    this.#state = s
    this.emit('state', s, err)
    if (s === 'up') {
      for (const w of [...this.#upWaiters]) w()
    }
  }

  async #run (): Promise<void> {
    const signal = this.#life.signal
    let delay = this.#o.reconnectInitialMs
    while (!signal.aborted) {
      this.#setState('connecting')
      let rpc: RpcClient | undefined
      try {
        rpc = await this.#connectOnce(signal)
      } catch (err) {
        this.#lastError = err as Error
        this.failures++
        this.#setState('down', err as Error)
        await sleep(delay, signal)
        delay = Math.min(delay * 2, this.#o.reconnectMaxMs)
        continue
      }
      delay = this.#o.reconnectInitialMs
      this.#lastFailures = this.failures
      this.failures = 0
      this.#rpc = rpc
      rpc.onCall(CallbackProgram, { CACHE_INVALIDATION: req => { this.emit('upcall', req) } })
      this.generation++
      this.#reconnects++
      const lost = new Promise<Error | undefined>(resolve => rpc!.once('close', resolve))
      this.#armPing()
      this.#setState('up')
      if (brickConnectChannel.hasSubscribers) {
        brickConnectChannel.publish({ name: this.spec.name, brick: this.label, generation: this.generation, failures: this.#lastFailures } satisfies BrickConnectEvent)
      }
      const err = await lost
      this.#disarmPing()
      this.#nextXid = rpc.nextXid
      this.#rpc = undefined
      if (brickDisconnectChannel.hasSubscribers) {
        brickDisconnectChannel.publish({ name: this.spec.name, brick: this.label, generation: this.generation, error: signal.aborted ? undefined : err, closing: signal.aborted } satisfies BrickDisconnectEvent)
      }
      if (signal.aborted) break
      this.#lastError = err ?? new GlusterError('ENOTCONN', `brick ${this.label} disconnected`, { brick: this.label })
      this.#setState('down', this.#lastError)
      // a brick that was slow and then dropped gets a clean slate on reconnect
      if (this.#slow) { this.#slow = false; this.emit('responsive') }
      await sleep(delay, signal)
    }
  }

  async #connectOnce (signal: AbortSignal): Promise<RpcClient> {
    const t = AbortSignal.any([signal, AbortSignal.timeout(this.#o.connectTimeoutMs)])
    const cred2 = (): ReturnType<typeof glusterfsV2Cred> => glusterfsV2Cred({ pid: process.pid, uid: this.#o.uid ?? 0, gid: this.#o.gid ?? 0, groups: this.#o.groups ?? [] })
    const cred3 = (): ReturnType<typeof glusterfsV3Cred> => glusterfsV3Cred({ pid: process.pid, uid: this.#o.uid ?? 0, gid: this.#o.gid ?? 0, groups: this.#o.groups ?? [] })
    const timeoutMs = this.#o.connectTimeoutMs
    const bind = this.#o.privilegedPort === true ? { localPortBelow1024: true } : {}
    const host = this.spec.host.includes(':') ? `[${this.spec.host}]` : this.spec.host
    let port = this.spec.port
    if (port === undefined || port === 0) {
      const m = await RpcClient.connect(`${host}:24007`, { cred: cred2, timeoutMs, connectTimeoutMs: timeoutMs, signal: t, firstXid: this.#nextXid, ...bind })
      try {
        port = await portByBrick(m, this.spec.brickPath, { signal: t, timeoutMs })
      } finally {
        this.#nextXid = m.nextXid
        m.destroy()
      }
    }
    let c: RpcClient
    for (let hop = 0; ; hop++) {
      this.label = `${this.spec.host}:${port}:${this.spec.brickPath}`
      c = await RpcClient.connect(`${host}:${port}`, { cred: cred2, timeoutMs: 0, connectTimeoutMs: timeoutMs, signal: t, firstXid: this.#nextXid, peer: this.label, ...bind })
      let progs
      try {
        progs = await dump(c, { signal: t, timeoutMs }).catch((err: unknown) => { throw this.#portRefused(err) })
        // remote-port named a glusterd (as FUSE clients allow): ask it for the brick's port
        if (isGlusterd(progs) && hop === 0) {
          port = await portByBrick(c, this.spec.brickPath, { signal: t, timeoutMs })
          this.#nextXid = c.nextXid
          c.destroy()
          continue
        }
      } catch (err) {
        c.destroy()
        throw err
      }
      if (isGlusterd(progs) || !servesFopV400(progs)) {
        c.destroy()
        throw new GlusterError('EGLUSTER_PROG_UNAVAIL', `${this.label} does not serve the GlusterFS 4.x fop program (v400)`, { brick: this.label, peer: c.peer })
      }
      break
    }
    try {
      c.setCredential(cred3)
      const sv: Parameters<typeof setVolume>[1] = {
        signal: t,
        timeoutMs,
        remoteSubvolume: this.spec.brickPath,
        volfileKey: this.#o.volfileKey,
        clientName: this.spec.name,
        ctxId: this.#ctxId,
        reconnectCount: this.#reconnects,
        pingTimeoutSec: Math.round(this.pingTimeoutMs / 1000),
      }
      if (this.volumeId !== undefined) sv.volumeId = this.volumeId
      if (this.spec.username !== undefined) sv.username = this.spec.username
      if (this.spec.password !== undefined) sv.password = this.spec.password
      let r
      try {
        r = await setVolume(c, sv)
      } catch (err) {
        throw this.#setVolumeRefused(err)
      }
      if (!r.childUp) throw new GlusterError('ENOTCONN', `${this.label}: brick reports child_up 0 (its storage is not up)`, { brick: this.label })
      if (r.volumeId !== undefined) this.volumeId = r.volumeId
      return c
    } catch (err) {
      c.destroy()
      throw err
    }
  }

  /**
   * A brick answering MSG_DENIED/AUTH_ERROR to our first call (DUMP) refuses our source port: its
   * rpc-auth-allow-insecure is off (GlusterFS refuses every call from port >= 1024 then).
   */
  #portRefused (err: unknown): unknown {
    if (!(err instanceof GlusterError) || err.code !== 'EGLUSTER_AUTH' || this.#o.privilegedPort === true) return err
    return new GlusterError('EGLUSTER_PRIVILEGED_PORT',
      `brick ${this.label} refused our unprivileged source port (${err.message}); the volume has server.allow-insecure off: connect with privilegedPort: true as root`,
      { brick: this.label, syscall: 'DUMP' }, { cause: err })
  }

  /**
   * SETVOLUME answered EACCES: the brick's auth refused us. It does not say which rule (address,
   * credentials or source port), so the message names all three.
   */
  #setVolumeRefused (err: unknown): unknown {
    if (!(err instanceof GlusterError) || err.code !== 'EGLUSTER_AUTH') return err
    const port = this.#o.privilegedPort === true ? '' : ', or an unprivileged source port with server.allow-insecure off'
    return new GlusterError('EGLUSTER_AUTH',
      `brick ${this.label} refused the client at SETVOLUME (${err.message}): our address is refused by the volume's ` +
      `auth.allow/auth.reject and the volfile has no valid username/password, or the username/password is wrong${port}`,
      { brick: this.label, syscall: 'SETVOLUME', errno: 13 }, { cause: err })
  }

  // ---- keep-alive: one PING per ping-timeout; an unanswered one drops the connection ----

  #armPing (): void {
    const ms = this.pingTimeoutMs
    if (ms <= 0) return
    this.#pingTimer = setTimeout(() => {
      this.#pingTimer = undefined
      const rpc = this.#rpc
      if (rpc === undefined) return
      ping(rpc, { timeoutMs: ms }).then(rtt => {
        this.#observe(rtt)
        if (this.#rpc === rpc) this.#armPing()
      }, err => {
        if (this.#rpc !== rpc) return
        rpc.destroy(new GlusterError('ENOTCONN', `brick ${this.label} did not answer PING within ping-timeout ${ms} ms; disconnected`, { brick: this.label }, { cause: err }))
      })
    }, ms)
    this.#pingTimer.unref()
  }

  #disarmPing (): void {
    if (this.#pingTimer !== undefined) clearTimeout(this.#pingTimer)
    this.#pingTimer = undefined
  }

  #observe (rtt: number): void {
    this.latencyMs = this.latencyMs === 0 ? rtt : this.latencyMs * 0.8 + rtt * 0.2
  }

  // ---- suspicion: a caller saw this brick miss a deadline ----

  /** Probe the brick with a short PING; mark it slow while probes go unanswered. */
  suspect (): void {
    if (this.#probing !== undefined || this.#state !== 'up') return
    this.#probing = this.#probe().finally(() => { this.#probing = undefined })
  }

  async #probe (): Promise<void> {
    const signal = this.#life.signal
    while (!signal.aborted) {
      const rpc = this.#rpc
      if (rpc === undefined) return
      try {
        const rtt = await ping(rpc, { timeoutMs: this.#o.probeTimeoutMs, signal })
        this.#observe(rtt)
        if (this.#slow) {
          this.#slow = false
          this.emit('responsive')
        }
        return
      } catch {
        if (signal.aborted || this.#rpc !== rpc) return
        if (!this.#slow) {
          this.#slow = true
          this.emit('slow')
        }
      }
      await sleep(this.#o.probeIntervalMs, signal)
    }
  }

  /**
   * The credential of a lock transaction: AFR puts the transaction's lk-owner (8 bytes) in the
   * credential of its INODELK/ENTRYLK and of the XATTROPs under them; the brick matches the
   * unlock to the lock by (lk-owner, connection). Everything else goes with the default one.
   */
  lockCred (lkOwner?: Buffer): ReturnType<typeof glusterfsV3Cred> {
    return glusterfsV3Cred({ pid: process.pid, uid: this.#o.uid ?? 0, gid: this.#o.gid ?? 0, groups: this.#o.groups ?? [], ...(lkOwner !== undefined ? { lk_owner: lkOwner } : {}) })
  }

  /** Call a fop on this brick. Rejects ENOTCONN at once when the brick is not up. */
  call<A, R> (proc: BoundProc<A, R>, args: A, opts: CallOptions = {}): Promise<R> {
    const rpc = this.#rpc
    if (rpc === undefined || this.#state !== 'up') {
      return Promise.reject(new GlusterError('ENOTCONN', `brick ${this.label} is not connected (${this.#state})${this.#lastError !== undefined ? `: ${this.#lastError.message}` : ''}`,
        { brick: this.label, syscall: proc.name }, { cause: this.#lastError }))
    }
    const cred = mdataCred(proc.name, opts.cred, () => this.lockCred())
    if (cred !== opts.cred) opts = { ...opts, cred }
    const t0 = performance.now()
    return rpc.call(proc, args, opts).then(r => {
      this.#observe(performance.now() - t0)
      return r
    }, (err: unknown) => {
      if (err instanceof GlusterError && (err.code === 'EGLUSTER_CONNECTION_LOST' || err.code === 'EGLUSTER_CLOSED')) {
        throw new GlusterError('ENOTCONN', `${proc.name}: brick ${this.label} disconnected`, { brick: this.label, syscall: proc.name }, { cause: err })
      }
      if (err instanceof GlusterError && err.brick === undefined) err.brick = this.label
      throw err
    })
  }

  /** Stop reconnecting, let calls in flight finish (within timeoutMs), close the socket. */
  async close (opts: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#state === 'closed') return
    this.#life.abort()
    this.#disarmPing()
    const rpc = this.#rpc
    if (rpc !== undefined) await rpc.close({ timeoutMs: opts.timeoutMs ?? 5000 })
    await this.#loop
    await this.#probing
    this.#setState('closed')
  }
}
