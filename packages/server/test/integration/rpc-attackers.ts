// Shared by the RPC-limit attack tests (in-process cluster and the built `gluster-ts cluster`): a
// well-behaved client pair (glusterd + one brick, from 127.0.0.2 so that per-address caps hit by
// attackers on 127.0.0.1 are not its own), and raw attacking sockets.
import net from 'node:net'
import { once } from 'node:events'
import type { Test } from 'tap'
import {
  RpcClient, FopProgram, glusterfsV3Cred, getSpec, portByBrick, setVolume, gfxDict, gfxUuid, recordMark, ROOT_GFID,
} from '@gluster-ts/rpc'
import { newGfid } from '@gluster-ts/server'

export const MiB = 1024 * 1024
export const LEGIT_ADDRESS = '127.0.0.2'
export const turn = (): Promise<void> => new Promise(resolve => setImmediate(resolve))

/** Wait (event-loop turns) until `ok()`, at most `ms` of wall time; fails the test otherwise. */
export async function waitFor (t: Test, what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) {
      t.fail(`timed out waiting for: ${what}`)
      throw new Error(`timed out waiting for: ${what}`)
    }
    await turn()
  }
}

export interface Legit {
  mgmt: RpcClient
  brick: RpcClient
  /** LOOKUP and READ the test file on the brick, GETSPEC and PORTBYBRICK on glusterd; throws if any fails */
  served (): Promise<void>
}

/** A client of glusterd and one attached to brick `brickPath` (port `brickPort`), with a file to read. */
export async function legitClients (t: Test, volfileServer: string, volume: string, brickPath: string, brickPort: number): Promise<Legit> {
  const mgmt = await RpcClient.connect(volfileServer, { cred: glusterfsV3Cred({ pid: 1 }), localAddress: LEGIT_ADDRESS })
  const brick = await RpcClient.connect(`127.0.0.1:${brickPort}`, { cred: glusterfsV3Cred({ pid: 4242 }), localAddress: LEGIT_ADDRESS })
  t.teardown(() => { mgmt.destroy(); brick.destroy() })
  await setVolume(brick, { remoteSubvolume: brickPath, volfileKey: volume, clientName: `${volume}-client-0` })
  const name = `legit-${process.pid}-${Math.random().toString(36).slice(2)}`
  const gfid = newGfid()
  const cr = await brick.call(FopProgram.procs.CREATE, { pargfid: ROOT_GFID, flags: 0o2 | 0o100, mode: 0o100644, umask: 0, bname: name, xdata: gfxDict({ 'gfid-req': gfxUuid(gfid) }) })
  if (cr.op_ret !== 0) throw new Error(`CREATE: errno ${cr.op_errno}`)
  const data = Buffer.alloc(100_000, 0x5a)
  const wr = await brick.call(FopProgram.procs.WRITE, { gfid, fd: cr.fd, offset: 0n, size: data.length, flag: 0, xdata: null, data })
  if (wr.op_ret !== data.length) throw new Error(`WRITE: errno ${wr.op_errno}`)
  const served = async (): Promise<void> => {
    const look = await brick.call(FopProgram.procs.LOOKUP, { gfid: Buffer.alloc(16), pargfid: ROOT_GFID, flags: 0, bname: name, xdata: null })
    if (look.op_ret !== 0 || !look.prestat.ia_gfid.equals(gfid)) throw new Error(`LOOKUP: errno ${look.op_errno}`)
    const rd = await brick.call(FopProgram.procs.READ, { gfid, fd: cr.fd, offset: 0n, size: data.length, flag: 0, xdata: null })
    if (rd.op_ret !== data.length || !rd.data.equals(data)) throw new Error(`READ: op_ret ${rd.op_ret} errno ${rd.op_errno}`)
    if ((await getSpec(mgmt, volume)).spec.length === 0) throw new Error('GETSPEC: empty volfile')
    if (await portByBrick(mgmt, brickPath) !== brickPort) throw new Error('PORTBYBRICK: wrong port')
  }
  await served()
  return { mgmt, brick, served }
}

/** A raw connection from 127.0.0.1, destroyed at teardown; it reads (and drops) what it gets. */
export async function raw (t: Test, port: number): Promise<{ s: net.Socket, closed: () => boolean }> {
  const s = net.connect({ host: '127.0.0.1', port })
  s.on('error', () => {})
  s.resume()
  let closed = false
  s.once('close', () => { closed = true })
  t.teardown(() => { s.destroy() })
  await once(s, 'connect')
  return { s, closed: () => closed }
}

/** The record mark of a one-fragment record of `declared` bytes, then `body`. */
export function recordStart (declared: number, body: Buffer): Buffer {
  const h = Buffer.alloc(4)
  h.writeUInt32BE(recordMark(declared))
  return Buffer.concat([h, body])
}

/** A client attached (SETVOLUME) to the brick from 127.0.0.1 that pipelines `n` STATs of the root. */
export async function statFlood (t: Test, volume: string, brickPath: string, brickPort: number, n: number): Promise<{ client: RpcClient, done: Promise<number> }> {
  const client = await RpcClient.connect(`127.0.0.1:${brickPort}`, { cred: glusterfsV3Cred({ pid: 666 }) })
  t.teardown(() => { client.destroy() })
  await setVolume(client, { remoteSubvolume: brickPath, volfileKey: volume, clientName: `${volume}-client-0` })
  const calls = Array.from({ length: n }, () => client.call(FopProgram.procs.STAT, { gfid: ROOT_GFID, xdata: null }, { timeoutMs: 600_000 }))
  const done = Promise.all(calls).then(rs => rs.filter(r => r.op_ret === 0).length)
  return { client, done }
}
