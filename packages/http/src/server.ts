// The standalone server: node:http around the gateway, one pino logger (log.ts) for requests and
// for what the server does, and node:cluster workers (workers.ts) so every core serves (uWSGI's
// processes). workers=1 serves from this process. reload() swaps in a new configuration without
// dropping a request: new requests go to the new gateway (or workers), those in flight finish on
// the old one, which then closes.
import cluster from 'node:cluster'
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { availableParallelism } from 'node:os'
import { createGateway, type Gateway } from './gateway.js'
import type { GatewayServerOptions } from './options.js'
import { createLogger, type Logger } from './log.js'
import { startPrimary } from './workers.js'

export interface GatewayServer {
  /** http://host:port (changes when a reload changes host or port) */
  readonly url: string
  /** the gateway (in-process mode only; undefined with workers) */
  readonly gateway: Gateway | undefined
  /** where the server logs (pino, JSON on stdout) */
  readonly logger: Logger
  /**
   * Serve `o` from now on (default: the options it runs with, which restarts the gateway or the
   * workers afresh). Resolves once the new configuration serves; requests in flight finish on the
   * old one (at most shutdownTimeoutMs). Rejects, and the old configuration keeps serving, when
   * the new one cannot start. In-process (workers 1), the process cannot grow workers: a
   * reload asking for more is served in process, with a warning.
   */
  reload (o?: GatewayServerOptions): Promise<void>
  /** stop listening, drain requests in flight (shutdownTimeoutMs), close the volumes (and the workers) */
  close (): Promise<void>
}

export function hostForUrl (host: string): string {
  return host.includes(':') ? `[${host}]` : host
}

/** One line per request at level info, and the gateway's failures as warnings. */
export function gatewayCallbacks (o: GatewayServerOptions, logger: Logger): Pick<GatewayServerOptions, 'onRequest' | 'onError'> {
  return {
    onRequest: e => {
      o.onRequest?.(e)
      if (o.accessLog !== false) logger.info({ method: e.method, url: e.url, status: e.status, bytes: e.bytes, ms: Math.round(e.ms * 10) / 10, mount: e.mount, remote: e.remote, aborted: e.aborted }, 'request')
    },
    onError: (err, c) => {
      o.onError?.(err, c)
      logger.warn({ err, ...c }, c.kind === 'body' ? 'response cut short' : c.kind === 'connect' ? 'mount not connected, retrying' : 'request failed')
    },
  }
}

/** The gateway of one process (this one, or a worker). */
export async function gatewayFor (o: GatewayServerOptions, logger: Logger): Promise<Gateway> {
  return await createGateway({
    ...o,
    ...gatewayCallbacks(o, logger),
    metricsLabels: cluster.isWorker ? { worker: String(cluster.worker?.id ?? 0) } : {},
    defaultMetrics: true,
  })
}

/**
 * A node:http server whose handler can be swapped (reload), and that shuts down as nginx's old
 * workers do: it stops accepting, every response from then on carries `Connection: close`, idle
 * keep-alive connections are closed as they become idle, and once the connections are gone (or
 * the deadline passes) the gateway closes. A client never gets a 503 for a request it sent on a
 * connection it had: it gets its answer, then reconnects (to the new workers).
 */
class Listener {
  readonly server: Server
  readonly url: string
  handler: Gateway['handler']
  readonly #sockets = new Set<Socket>()
  #draining = false
  #drained: (() => void) | undefined

  private constructor (server: Server, url: string, handler: Gateway['handler']) {
    this.server = server
    this.url = url
    this.handler = handler
    server.on('connection', (s: Socket) => {
      this.#sockets.add(s)
      s.once('close', () => {
        this.#sockets.delete(s)
        if (this.#sockets.size === 0) this.#drained?.()
      })
    })
  }

  #serve (req: IncomingMessage, res: ServerResponse): void {
    if (this.#draining) {
      res.setHeader('Connection', 'close')
      // a response that began before the drain kept its connection alive: close it once idle
      res.once('finish', () => { setImmediate(() => { this.server.closeIdleConnections() }) })
    }
    this.handler(req, res)
  }

  static async listen (o: GatewayServerOptions, handler: Gateway['handler']): Promise<Listener> {
    let self: Listener | undefined
    const server = http.createServer({ keepAliveTimeout: 5000, headersTimeout: 30_000, requestTimeout: 0 }, (req, res) => { self!.#serve(req, res) })
    server.maxHeadersCount = 200
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      // malformed requests, header floods (431), idle sockets: answer when possible, never crash
      if (socket.writable && err.code !== 'ECONNRESET') {
        const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400
        socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
      } else {
        socket.destroy()
      }
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(o.port ?? 8080, o.host ?? '127.0.0.1', () => { server.off('error', reject); resolve() })
    })
    const a = server.address() as AddressInfo
    self = new Listener(server, `http://${hostForUrl(o.host ?? '127.0.0.1')}:${a.port}`, handler)
    return self
  }

  /** Stop accepting, let the connections finish (at most timeoutMs), close the gateway, then what is left. */
  async shutdown (gw: Gateway, timeoutMs: number): Promise<void> {
    this.#draining = true
    const t0 = performance.now()
    const stopped = new Promise<void>(resolve => this.server.close(() => resolve()))
    this.server.closeIdleConnections()
    if (this.#sockets.size > 0) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        new Promise<void>(resolve => { this.#drained = resolve }),
        new Promise<void>(resolve => { timer = setTimeout(resolve, timeoutMs) }),
      ])
      clearTimeout(timer)
    }
    await gw.close({ timeoutMs: Math.max(0, timeoutMs - (performance.now() - t0)) })
    this.server.closeAllConnections()
    for (const s of this.#sockets) s.destroy()
    await stopped
  }
}

/** workers 1: the gateway in this process. */
class InProcessServer implements GatewayServer {
  readonly logger: Logger
  #o: GatewayServerOptions
  #gw: Gateway
  #listener: Listener
  /** old gateways (and listeners) still draining after a reload */
  readonly #retiring = new Set<Promise<void>>()
  #closing: Promise<void> | undefined

  private constructor (o: GatewayServerOptions, logger: Logger, gw: Gateway, listener: Listener) {
    this.#o = o
    this.logger = logger
    this.#gw = gw
    this.#listener = listener
  }

  static async start (o: GatewayServerOptions, logger: Logger): Promise<InProcessServer> {
    const gw = await gatewayFor(o, logger)
    let listener: Listener
    try {
      listener = await Listener.listen(o, gw.handler)
    } catch (e) {
      await gw.close({ timeoutMs: 0 })
      throw e
    }
    return new InProcessServer(o, logger, gw, listener)
  }

  get url (): string { return this.#listener.url }
  get gateway (): Gateway { return this.#gw }

  #retire (p: Promise<void>): void {
    const tracked = p.catch((err: unknown) => { this.logger.warn({ err }, 'closing the previous configuration failed') }).finally(() => { this.#retiring.delete(tracked) })
    this.#retiring.add(tracked)
  }

  async reload (next: GatewayServerOptions = this.#o): Promise<void> {
    if (this.#closing !== undefined) throw new Error('the server is closing')
    if ((next.workers ?? 1) > 1) this.logger.warn({ workers: next.workers }, 'this gateway serves in one process (started with workers 1): start it again to run workers')
    if (next.logLevel !== undefined) this.logger.level = next.logLevel
    const gw = await gatewayFor(next, this.logger)
    const old = this.#gw
    const timeoutMs = this.#o.shutdownTimeoutMs ?? 10_000
    const moved = (next.host ?? '127.0.0.1') !== (this.#o.host ?? '127.0.0.1') || (next.port ?? 8080) !== (this.#o.port ?? 8080)
    if (moved) {
      let listener: Listener
      try {
        listener = await Listener.listen(next, gw.handler)
      } catch (e) {
        await gw.close({ timeoutMs: 0 })
        throw e
      }
      const oldListener = this.#listener
      this.#listener = listener
      this.#retire(oldListener.shutdown(old, timeoutMs))
    } else {
      // the same socket: requests from now on (keep-alive ones too) reach the new gateway
      this.#listener.handler = gw.handler
      this.#retire(old.close({ timeoutMs }))
    }
    this.#gw = gw
    this.#o = next
    this.logger.info({ url: this.url, mounts: mountsOf(next) }, 'reloaded')
  }

  close (): Promise<void> {
    this.#closing ??= (async () => {
      const timeoutMs = this.#o.shutdownTimeoutMs ?? 10_000
      await this.#listener.shutdown(this.#gw, timeoutMs)
      await Promise.all(this.#retiring)
      await new Promise<void>(resolve => { this.logger.flush(() => { resolve() }) })
    })()
    return this.#closing
  }
}

/** The gateway server in this process (a worker's, or workers 1). */
export async function startInProcess (o: GatewayServerOptions, logger: Logger): Promise<GatewayServer> {
  return await InProcessServer.start(o, logger)
}

export function mountsOf (o: GatewayServerOptions): string[] {
  return o.mounts.map(m => `${m.mountpoint} → ${m.volume}${m.subdir !== undefined && m.subdir !== '/' ? m.subdir : ''}`)
}

/**
 * Start the gateway server. `workers` (default: one per core) > 1 forks node:cluster workers
 * that share the port; 1 serves from this process. Logs 'listening' once it serves.
 */
export async function startGatewayServer (o: GatewayServerOptions, logger?: Logger): Promise<GatewayServer> {
  const workers = o.workers ?? availableParallelism()
  if (!Number.isInteger(workers) || workers < 1) throw new TypeError(`workers must be a positive integer, got ${workers}`)
  const log = logger ?? await createLogger({ ...(o.logLevel !== undefined ? { level: o.logLevel } : {}) })
  const s = workers === 1 || cluster.isWorker ? await startInProcess(o, log) : await startPrimary({ ...o, workers }, log)
  log.info({ url: s.url, workers, mounts: mountsOf(o) }, 'listening')
  return s
}
