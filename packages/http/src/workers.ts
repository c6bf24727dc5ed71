// The primary process of a gateway with node:cluster workers (uWSGI's master): it forks the
// workers, which share the port, replaces one that dies, and on reload starts a new generation
// with the new options and lets the old one drain (nginx's graceful reload). Every event is a log
// line. The workers themselves run worker-main.ts.
import cluster, { type Worker } from 'node:cluster'
import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Gateway } from './gateway.js'
import type { GatewayServerOptions } from './options.js'
import type { Logger } from './log.js'
import type { GatewayServer } from './server.js'

/** What crosses the process boundary to a worker (functions cannot). */
export type WireOptions = Omit<GatewayServerOptions, 'onRequest' | 'onError'>

export const WORKER_ENV = 'GLUSTER_TS_GATEWAY_OPTIONS'

/** Messages between the primary and a worker. */
export type ToWorker = { type: 'shutdown' }
/** 'draining': it stopped accepting connections (sent after its server.close(), so the primary has already taken it out of the round robin) */
export type FromWorker = { type: 'listening', url: string } | { type: 'draining' }

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

/** A worker that dies while serving is replaced, at most this many times (a crash loop ends). */
const MAX_RESTARTS = 100

interface Generation { workers: Set<Worker>, o: GatewayServerOptions }

class Primary implements GatewayServer {
  readonly logger: Logger
  readonly gateway: Gateway | undefined = undefined
  url = ''
  #current: Generation
  #closing: Promise<void> | undefined
  #restarts = 0
  /** workers told to drain and exit (their exit is expected) */
  readonly #retiring = new Set<Worker>()
  readonly #exited = new WeakMap<Worker, Promise<void>>()

  constructor (o: GatewayServerOptions, logger: Logger) {
    this.logger = logger
    this.#current = { workers: new Set(), o }
    const exec = fileURLToPath(new URL(`./worker-main${extname(fileURLToPath(import.meta.url))}`, import.meta.url))
    cluster.setupPrimary({ exec, execArgv: workerExecArgv(process.execArgv, process.env.NODE_OPTIONS) })
  }

  /** Fork one worker of generation g; resolves with its URL once it listens. */
  #fork (g: Generation): Promise<string> {
    const { onRequest: _r, onError: _e, ...wire } = g.o
    const w = cluster.fork({ [WORKER_ENV]: JSON.stringify({ ...wire, workers: 1 } satisfies WireOptions) })
    g.workers.add(w)
    this.#exited.set(w, new Promise(resolve => { w.once('exit', () => { resolve() }) }))
    return new Promise((resolve, reject) => {
      const onMsg = (m: unknown): void => {
        const msg = m as Partial<FromWorker>
        if (msg.type === 'listening' && typeof msg.url === 'string') { w.off('message', onMsg); resolve(msg.url) }
      }
      w.on('message', onMsg)
      w.once('exit', (code, signal) => {
        g.workers.delete(w)
        reject(new Error(`gateway worker exited with ${signal ?? `code ${code}`} before listening`))
        if (this.#retiring.delete(w)) {
          this.logger.info({ worker: w.id, workerPid: w.process.pid }, 'worker drained and stopped')
          return
        }
        if (this.#closing !== undefined || g !== this.#current) return
        // a worker that died while serving is replaced
        if (this.#restarts++ < MAX_RESTARTS) {
          this.logger.warn({ worker: w.id, workerPid: w.process.pid, code, signal }, 'worker exited; starting another')
          this.#fork(g).catch((err: unknown) => { this.logger.error({ err }, 'a replacement worker did not start') })
        } else {
          this.logger.error({ worker: w.id, workerPid: w.process.pid, code, signal, restarts: MAX_RESTARTS }, 'worker exited; not replaced (too many restarts)')
        }
      })
    })
  }

  /** Start a generation of `n` workers; on failure none of them is left running. */
  async #startGeneration (o: GatewayServerOptions): Promise<Generation> {
    const g: Generation = { workers: new Set(), o }
    try {
      const urls = await Promise.all(Array.from({ length: o.workers ?? 1 }, () => this.#fork(g)))
      this.url = urls[0]!
      return g
    } catch (e) {
      await this.#stop([...g.workers], 'SIGKILL').exited
      throw e
    }
  }

  /**
   * Ask workers to drain and exit (SIGKILL after timeoutMs), or kill them now. `accepting` settles
   * once none of them takes new connections any more, `exited` once they are gone.
   */
  #stop (workers: Worker[], how: 'drain' | 'SIGKILL', timeoutMs = 0): { accepting: Promise<void>, exited: Promise<void> } {
    const each = workers.map(w => {
      this.#retiring.add(w)
      const exited = this.#exited.get(w)!
      const accepting = new Promise<void>(resolve => {
        const onMsg = (m: unknown): void => { if ((m as Partial<FromWorker>).type === 'draining') { w.off('message', onMsg); resolve() } }
        w.on('message', onMsg)
        void exited.then(() => { w.off('message', onMsg); resolve() })
      })
      const t = setTimeout(() => { w.kill('SIGKILL') }, timeoutMs)
      void exited.then(() => { clearTimeout(t) })
      if (how === 'SIGKILL') w.kill('SIGKILL')
      else if (w.isConnected()) w.send({ type: 'shutdown' } satisfies ToWorker)
      else w.kill('SIGTERM')
      return { accepting, exited }
    })
    return { accepting: Promise.all(each.map(x => x.accepting)).then(() => {}), exited: Promise.all(each.map(x => x.exited)).then(() => {}) }
  }

  async start (): Promise<void> {
    this.#current = await this.#startGeneration(this.#current.o)
  }

  async reload (next: GatewayServerOptions = this.#current.o): Promise<void> {
    if (this.#closing !== undefined) throw new Error('the server is closing')
    if (next.logLevel !== undefined) this.logger.level = next.logLevel
    const o = { ...next, workers: next.workers ?? this.#current.o.workers }
    const g = await this.#startGeneration(o)
    const old = this.#current
    this.#current = g
    // new connections go to the new workers once the old ones stopped accepting; what they
    // serve now finishes (at most shutdownTimeoutMs)
    await this.#stop([...old.workers], 'drain', (old.o.shutdownTimeoutMs ?? 10_000) + 2000).accepting
    this.logger.info({ url: this.url, workers: g.workers.size, draining: old.workers.size }, 'reloaded: new workers serve, the old ones drain')
  }

  close (): Promise<void> {
    this.#closing ??= (async () => {
      const all = [...this.#current.workers, ...this.#retiring]
      await this.#stop(all, 'drain', (this.#current.o.shutdownTimeoutMs ?? 10_000) + 2000).exited
      await new Promise<void>(resolve => { this.logger.flush(() => { resolve() }) })
    })()
    return this.#closing
  }
}

/** The primary of a gateway with `o.workers` (> 1) workers; resolves once they all listen. */
export async function startPrimary (o: GatewayServerOptions, logger: Logger): Promise<Primary> {
  const p = new Primary(o, logger)
  await p.start()
  return p
}
