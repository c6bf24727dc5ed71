// The standalone server: node:http around the gateway, an access log with pino on stdout, and
// node:cluster workers so every core serves (uWSGI's processes). workers=1 runs in this process.
import cluster, { type Worker } from 'node:cluster'
import http, { type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { availableParallelism } from 'node:os'
import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import pino, { type Logger } from 'pino'
import { createGateway, type Gateway } from './gateway.js'
import type { GatewayServerOptions } from './options.js'

export interface GatewayServer {
  /** http://host:port */
  readonly url: string
  /** the gateway (in-process mode only; undefined with workers) */
  readonly gateway: Gateway | undefined
  /** stop listening, drain requests in flight (shutdownTimeoutMs), close the volumes (and the workers) */
  close (): Promise<void>
}

/** What crosses the process boundary to a worker (functions cannot). */
type WireOptions = Omit<GatewayServerOptions, 'onRequest' | 'onError'>

export const WORKER_ENV = 'GLUSTER_TS_GATEWAY_OPTIONS'

function hostForUrl (host: string): string {
  return host.includes(':') ? `[${host}]` : host
}

function makeLogger (o: GatewayServerOptions): Logger | undefined {
  return o.accessLog === false ? undefined : pino({ base: { pid: process.pid } }, pino.destination({ dest: 1, sync: false }))
}

/** One process: gateway + node:http server. */
async function startInProcess (o: GatewayServerOptions, logger: Logger | undefined): Promise<GatewayServer & { server: Server }> {
  const gateway = await createGateway({
    ...o,
    metricsLabels: cluster.isWorker ? { worker: String(cluster.worker?.id ?? 0) } : {},
    defaultMetrics: true,
    onRequest: e => {
      o.onRequest?.(e)
      logger?.info({ method: e.method, url: e.url, status: e.status, bytes: e.bytes, ms: Math.round(e.ms * 10) / 10, mount: e.mount, remote: e.remote, aborted: e.aborted }, 'request')
    },
    onError: (err, c) => {
      o.onError?.(err, c)
      logger?.warn({ err, ...c }, c.kind === 'body' ? 'response cut short' : c.kind === 'connect' ? 'mount not connected, retrying' : 'request failed')
    },
  })
  const server = http.createServer({ keepAliveTimeout: 5000, headersTimeout: 30_000, requestTimeout: 0 }, gateway.handler)
  server.maxHeadersCount = 200
  const sockets = new Set<Socket>()
  server.on('connection', (s: Socket) => { sockets.add(s); s.once('close', () => sockets.delete(s)) })
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // malformed requests, header floods (431), idle sockets: answer when possible, never crash
    if (socket.writable && err.code !== 'ECONNRESET') {
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
    } else {
      socket.destroy()
    }
  })
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(o.port ?? 8080, o.host ?? '127.0.0.1', () => { server.off('error', reject); resolve() })
    })
  } catch (e) {
    await gateway.close({ timeoutMs: 0 })
    throw e
  }
  const a = server.address() as AddressInfo
  const url = `http://${hostForUrl(o.host ?? '127.0.0.1')}:${a.port}`
  let closing: Promise<void> | undefined
  return {
    url,
    gateway,
    server,
    close: () => {
      closing ??= (async () => {
        const timeoutMs = o.shutdownTimeoutMs ?? 10_000
        const stopped = new Promise<void>(resolve => server.close(() => resolve()))
        server.closeIdleConnections()
        await gateway.close({ timeoutMs })
        server.closeAllConnections()
        for (const s of sockets) s.destroy()
        await stopped
        logger?.flush()
      })()
      return closing
    },
  }
}

/** A worker process: options from the environment, report the URL, stop on 'shutdown'. */
export async function runWorker (): Promise<void> {
  const raw = process.env[WORKER_ENV]
  if (raw === undefined) throw new Error(`${WORKER_ENV} is not set`)
  const o = JSON.parse(raw) as WireOptions
  const logger = makeLogger(o)
  const s = await startInProcess(o, logger)
  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    void s.close().then(() => process.exit(0), () => process.exit(1))
  }
  // the primary went away (crash, SIGKILL): the IPC pipe breaks; drain and exit instead of
  // dying on EPIPE when the next connection is handed over
  cluster.worker?.on('error', () => { stop() })
  process.on('disconnect', stop)
  process.on('message', (m: unknown) => { if ((m as { type?: unknown } | null)?.type === 'shutdown') stop() })
  process.on('SIGTERM', stop)
  process.send?.({ type: 'listening', url: s.url })
}

/**
 * V8's young generation (`--max-semi-space-size`, MiB) for the gateway's workers. Left to itself it
 * grows to 2 x 16 MiB under a download's steady allocation; 4 MiB semi-spaces cost nothing
 * measurable in throughput (bench/http) and keep each worker about 25 MiB smaller.
 */
export const WORKER_SEMI_SPACE_MIB = 4

/** `execArgv` plus the worker semi-space cap, unless it or NODE_OPTIONS already sets one. */
export function workerExecArgv (execArgv: readonly string[], nodeOptions = ''): string[] {
  const set = (a: string): boolean => /^--max[-_]semi[-_]space[-_]size(=|$)/.test(a)
  if (execArgv.some(set) || nodeOptions.split(/\s+/).some(set)) return [...execArgv]
  return [...execArgv, `--max-semi-space-size=${WORKER_SEMI_SPACE_MIB}`]
}

/**
 * Start the gateway server. `workers` (default: one per core) > 1 forks node:cluster workers
 * that share the port; 1 serves from this process.
 */
export async function startGatewayServer (o: GatewayServerOptions): Promise<GatewayServer> {
  const workers = o.workers ?? availableParallelism()
  if (!Number.isInteger(workers) || workers < 1) throw new TypeError(`workers must be a positive integer, got ${workers}`)
  if (workers === 1 || cluster.isWorker) return await startInProcess(o, makeLogger(o))

  const { onRequest: _r, onError: _e, ...wire } = o
  const exec = fileURLToPath(new URL(`./worker-main${extname(fileURLToPath(import.meta.url))}`, import.meta.url))
  cluster.setupPrimary({ exec, execArgv: workerExecArgv(process.execArgv, process.env.NODE_OPTIONS) })
  const env = { [WORKER_ENV]: JSON.stringify({ ...wire, workers: 1 }) }
  const live = new Set<Worker>()
  let closing = false
  let restarts = 0
  const fork = (): Promise<string> => new Promise((resolve, reject) => {
    const w = cluster.fork(env)
    live.add(w)
    const onMsg = (m: unknown): void => {
      const msg = m as { type?: unknown, url?: unknown }
      if (msg.type === 'listening' && typeof msg.url === 'string') { w.off('message', onMsg); resolve(msg.url) }
    }
    w.on('message', onMsg)
    w.once('exit', (code) => {
      live.delete(w)
      reject(new Error(`gateway worker exited with code ${code} before listening`))
      // a worker that died while serving is replaced (at most 100 times, so a crash loop ends)
      if (!closing && restarts++ < 100) fork().catch(() => {})
    })
  })
  let url: string
  try {
    const urls = await Promise.all(Array.from({ length: workers }, fork))
    url = urls[0]!
  } catch (e) {
    closing = true
    for (const w of live) w.kill()
    throw e
  }
  return {
    url,
    gateway: undefined,
    close: async () => {
      closing = true
      const timeoutMs = (o.shutdownTimeoutMs ?? 10_000) + 2000
      await Promise.all([...live].map(w => new Promise<void>(resolve => {
        const t = setTimeout(() => { w.kill('SIGKILL') }, timeoutMs)
        w.once('exit', () => { clearTimeout(t); resolve() })
        if (w.isConnected()) w.send({ type: 'shutdown' })
        else w.kill()
      })))
    },
  }
}
