/**
 * Hostile and scripted peers for the RpcServer limit tests: raw TCP sockets that send exactly the
 * bytes a test wants (a record header and part of its body, calls that are never read …).
 */
import net from 'node:net'
import { once } from 'node:events'
import type { Test } from 'tap'
import { XdrWriter, encodeCallRecord, recordMark } from '@gluster-ts/rpc'
import { TestProgram } from './fixtures.js'

export const turn = (): Promise<void> => new Promise(resolve => setImmediate(resolve))

/**
 * Wait (event-loop turns, not timers: fake clocks don't stop it) until `ok()`; fails the test
 * with `what` after `turns` turns.
 */
export async function waitFor (t: Test, what: string, ok: () => boolean, turns = 50_000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (ok()) return
    await turn()
  }
  t.fail(`timed out waiting for: ${what}`)
  throw new Error(`timed out waiting for: ${what}`)
}

/**
 * A raw TCP connection to `address`, destroyed at teardown. It reads what the server sends into
 * `received` (so that it sees the server's FIN), unless `read` is false: a peer that never reads.
 */
export async function rawConnect (t: Test, address: string, opts: { localAddress?: string, read?: boolean } = {}): Promise<RawPeer> {
  const [host, port] = address.split(':') as [string, string]
  const s = net.connect({ host, port: Number(port), ...(opts.localAddress !== undefined ? { localAddress: opts.localAddress } : {}) })
  s.on('error', () => {})
  t.teardown(() => { s.destroy() })
  const peer = new RawPeer(s, opts.read ?? true)
  await once(s, 'connect')
  return peer
}

export class RawPeer {
  readonly socket: net.Socket
  readonly received: Buffer[] = []
  #closed = false
  readonly closedP: Promise<void>

  constructor (socket: net.Socket, read: boolean) {
    this.socket = socket
    this.closedP = new Promise(resolve => { socket.once('close', () => { this.#closed = true; resolve() }) })
    if (read) socket.on('data', (c: Buffer) => { this.received.push(c) })
  }

  /** Bytes received so far. */
  get receivedBytes (): number { return this.received.reduce((n, c) => n + c.length, 0) }

  /** True once the server closed (or reset) the connection. */
  get closed (): boolean { return this.#closed }

  write (b: Buffer): Promise<void> {
    return new Promise(resolve => { this.socket.write(b, () => { resolve() }) })
  }
}

const w = new XdrWriter()

/** One framed ECHO call (record mark included). */
export function echoRecord (xid: number, s = ''): Buffer {
  return Buffer.concat(encodeCallRecord(w, { xid, prog: TestProgram.prog, vers: TestProgram.vers, proc: TestProgram.procs.ECHO.num }, TestProgram.procs.ECHO.args, { n: xid, s }))
}

/** One framed call of TestProgram's `proc` with `args` (record mark included). */
export function callRecord<K extends keyof typeof TestProgram.procs> (xid: number, proc: K, args: Parameters<typeof TestProgram.procs[K]['args']['encode']>[1]): Buffer {
  const p = TestProgram.procs[proc]
  return Buffer.concat(encodeCallRecord(w, { xid, prog: TestProgram.prog, vers: TestProgram.vers, proc: p.num }, p.args as never, args as never))
}

/** The record mark of a one-fragment record declaring `n` bytes, then `body` (its first bytes). */
export function recordStart (n: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(4)
  h.writeUInt32BE(recordMark(n))
  return Buffer.concat([h, body])
}
