// The gateway server's log: pino JSON lines on stdout, one logger for everything (requests,
// listening, reloads, worker restarts, shutdown), with a level. On a terminal, pino-pretty
// formats the lines when it is installed (it is not a dependency: production logs stay JSON).
import pino, { type Logger } from 'pino'
import type { LogLevel } from './options.js'

export type { Logger }

export interface LoggerOptions {
  level?: LogLevel
  /** 'auto' (default): pretty when stdout is a terminal and pino-pretty can be loaded */
  pretty?: boolean | 'auto'
  /** fields on every line (pid is always there) */
  base?: Record<string, unknown>
}

/** pino-pretty's stream, or undefined when it is not installed. */
async function prettyStream (): Promise<NodeJS.WritableStream | undefined> {
  const name = 'pino-pretty' // a variable: not a dependency, so nothing for the compiler to resolve
  try {
    const mod = await import(name) as { default?: (o: Record<string, unknown>) => NodeJS.WritableStream }
    return mod.default?.({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
  } catch {
    return undefined
  }
}

export async function createLogger (o: LoggerOptions = {}): Promise<Logger> {
  const opts = { level: o.level ?? 'info', base: { pid: process.pid, ...o.base } }
  const wantPretty = o.pretty === true || (o.pretty !== false && process.stdout.isTTY === true)
  const pretty = wantPretty ? await prettyStream() : undefined
  return pretty !== undefined ? pino(opts, pretty) : pino(opts, pino.destination({ dest: 1, sync: false }))
}
