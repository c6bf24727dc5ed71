// A node:cluster worker forked by the gateway's primary (workers.ts): options from the
// environment, the gateway in this process, 'listening' reported to the primary. The primary
// decides about reloads and shutdown: a terminal's SIGHUP or Ctrl-C reaches every process of the
// group, and the worker leaves them to the primary instead of dying mid-download. It drains and
// exits on the primary's 'shutdown', on SIGTERM (systemd may signal every process of the unit),
// and when the primary is gone (the IPC channel closes).
import cluster from 'node:cluster'
import { createLogger } from './log.js'
import { startInProcess } from './server.js'
import { WORKER_ENV, type FromWorker, type WireOptions } from './workers.js'

async function runWorker (): Promise<void> {
  const raw = process.env[WORKER_ENV]
  if (raw === undefined) throw new Error(`${WORKER_ENV} is not set`)
  const o = JSON.parse(raw) as WireOptions
  const logger = await createLogger({ ...(o.logLevel !== undefined ? { level: o.logLevel } : {}), base: { worker: cluster.worker?.id } })
  process.on('SIGHUP', () => { logger.debug('SIGHUP: the primary reloads') })
  process.on('SIGINT', () => { logger.debug('SIGINT: the primary shuts down') })
  const s = await startInProcess(o, logger)
  let stopping = false
  const stop = (why: string): void => {
    if (stopping) return
    stopping = true
    logger.info({ why }, 'draining requests in flight')
    // close() stops accepting at once (before its first await): tell the primary, which then
    // knows new connections go elsewhere
    const closed = s.close()
    if (process.connected) process.send?.({ type: 'draining' } satisfies FromWorker)
    void closed.then(() => process.exit(0), () => process.exit(1))
  }
  // the primary went away (crash, SIGKILL): the IPC pipe breaks; drain and exit instead of
  // dying on EPIPE when the next connection is handed over
  cluster.worker?.on('error', () => { stop('primary gone') })
  process.on('disconnect', () => { stop('primary gone') })
  process.on('message', (m: unknown) => { if ((m as { type?: unknown } | null)?.type === 'shutdown') stop('primary asked') })
  process.on('SIGTERM', () => { stop('SIGTERM') })
  process.send?.({ type: 'listening', url: s.url } satisfies FromWorker)
}

runWorker().catch((err: unknown) => {
  process.stderr.write(`gluster-ts gateway worker: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
