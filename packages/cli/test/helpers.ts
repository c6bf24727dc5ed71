// A fake Io for running main() in process: captured stdout/stderr, a given stdin.
import { PassThrough, Readable, Writable } from 'node:stream'
import type { Io } from '../src/session.js'

export interface Captured { io: Io, out: () => string, err: () => string }

export function capture (o: { stdin?: string, env?: NodeJS.ProcessEnv, tty?: boolean, signal?: AbortSignal } = {}): Captured {
  let out = ''
  let err = ''
  const stdout = new Writable({ write (c: Buffer, _e, cb) { out += c.toString(); cb() } })
  const stderr = Object.assign(new Writable({ write (c: Buffer, _e, cb) { err += c.toString(); cb() } }), { isTTY: o.tty === true, columns: 100 })
  const stdin = o.stdin !== undefined ? Readable.from([Buffer.from(o.stdin)]) : new PassThrough()
  return {
    io: { stdin, stdout, stderr, env: o.env ?? {}, ...(o.signal !== undefined ? { signal: o.signal } : {}) },
    out: () => out,
    err: () => err,
  }
}
