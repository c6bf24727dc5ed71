/**
 * Small test programs and a client/server pair over loopback, shared by the integration tests.
 * The programs are ours (not GlusterFS's): they exercise the RPC layer only.
 */
import os from 'node:os'
import path from 'node:path'
import net from 'node:net'
import type { Test } from 'tap'
import { defineProgram, xdr, RpcServer, RpcClient, NO_REPLY, GlusterError } from '@gluster-ts/rpc'
import type { Handlers, RpcServerOptions, RpcConnectOptions, Codec } from '@gluster-ts/rpc'

const { struct, u32, i32, string, rest, xvoid } = xdr

export const TEST_PROG = 0x20000101

const CommonRsp = struct({ op_ret: i32, op_errno: i32 })
const EchoArgs = struct({ n: i32, s: string() })
const EchoRsp = struct({ op_ret: i32, op_errno: i32, n: i32, s: string() })
const ReadArgs = struct({ size: u32, fill: u32 })
const ReadRsp = struct({ op_ret: i32, op_errno: i32, data: rest })
const WriteArgs = struct({ size: u32, data: rest })
const DelayArgs = struct({ ms: u32, n: i32 })

export const TestProgram = defineProgram({
  name: 'Test',
  prog: TEST_PROG,
  vers: 2,
  procs: {
    ECHO: { num: 1, args: EchoArgs, res: EchoRsp },
    DELAY: { num: 2, args: DelayArgs, res: EchoRsp },
    HANG: { num: 3, args: xvoid, res: CommonRsp },
    THROW: { num: 4, args: xvoid, res: CommonRsp },
    READ: { num: 5, args: ReadArgs, res: ReadRsp },
    WRITE: { num: 6, args: WriteArgs, res: CommonRsp },
    FAIL: { num: 7, args: xvoid, res: CommonRsp },
    BADRES: { num: 8, args: xvoid, res: EchoRsp },
    NOHANDLER: { num: 9, args: xvoid, res: CommonRsp },
    GARBAGE: { num: 10, args: xvoid, res: CommonRsp },
    KICK: { num: 11, args: struct({ what: u32 }), res: CommonRsp },
  },
})

/** The same program at another version (the server knows version 2 and 3). */
export const TestProgramV3 = defineProgram({
  name: 'Test', prog: TEST_PROG, vers: 3, procs: { ECHO: { num: 1, args: EchoArgs, res: EchoRsp } },
})

/** Client-side views that provoke the server's RPC errors. */
export const WrongVersion = defineProgram({ name: 'Test', prog: TEST_PROG, vers: 7, procs: { ECHO: { num: 1, args: EchoArgs, res: EchoRsp } } })
export const UnknownProgram = defineProgram({ name: 'Nobody', prog: 0x20000999, vers: 1, procs: { ECHO: { num: 1, args: EchoArgs, res: EchoRsp } } })
export const Mangled = defineProgram({
  name: 'Test',
  prog: TEST_PROG,
  vers: 2,
  procs: {
    /** arguments cut short: the server can't decode them */
    ECHO_SHORT: { num: 1, args: struct({ n: i32 }), res: EchoRsp },
    /** a procedure number the program does not have */
    PROC99: { num: 99, args: xvoid, res: CommonRsp },
  },
})
export const Mangled2 = defineProgram({
  name: 'Test',
  prog: TEST_PROG,
  vers: 2,
  procs: {
    /** expects more than the server sends: the reply does not decode */
    ECHO_LONG: { num: 1, args: EchoArgs, res: struct({ op_ret: i32, op_errno: i32, n: i32, s: string(), extra: u32, more: u32 }) },
  },
})

/** A callback program the server calls on the client (one-way, like GlusterFS's 52743234). */
export const TestCallbacks = defineProgram({
  name: 'Test Callback',
  prog: 0x20000102,
  vers: 1,
  procs: {
    FETCHSPEC: { num: 1, args: xvoid, res: xvoid, oneway: true },
    NOTE: { num: 2, args: struct({ text: string() }), res: xvoid, oneway: true },
    UNKNOWN: { num: 3, args: xvoid, res: xvoid, oneway: true },
  },
})

/** Raw codec helper for tests that hand-build records. */
export const rawBytes: Codec<Buffer> = rest

export function payload (size: number, fill: number): Buffer {
  return Buffer.alloc(size, fill & 0xff)
}

export const testHandlers: Handlers<typeof TestProgram> = {
  ECHO: ({ n, s }) => ({ op_ret: 0, op_errno: 0, n, s }),
  DELAY: async ({ ms, n }, ctx) => {
    await new Promise(resolve => setTimeout(resolve, ms))
    return { op_ret: 0, op_errno: 0, n, s: `xid ${ctx.xid}` }
  },
  HANG: () => NO_REPLY,
  THROW: () => { throw new Error('handler blew up') },
  READ: ({ size, fill }) => ({ op_ret: size, op_errno: 0, data: payload(size, fill) }),
  WRITE: ({ size, data }) => ({ op_ret: data.length === size ? size : -1, op_errno: data.length === size ? 0 : 22 }),
  FAIL: () => ({ op_ret: -1, op_errno: 2 }),
  BADRES: () => ({ op_ret: 0, op_errno: 0, n: 1 } as unknown as { op_ret: number, op_errno: number, n: number, s: string }),
  GARBAGE: () => { throw new GlusterError('EGLUSTER_GARBAGE_ARGS', 'fop before SETVOLUME') },
  KICK: ({ what }, ctx) => {
    if (what === 1) ctx.connection.send(TestCallbacks.procs.FETCHSPEC, undefined)
    if (what === 2) ctx.connection.send(TestCallbacks.procs.NOTE, { text: 'hello from the server' })
    if (what === 3) ctx.connection.send(TestCallbacks.procs.UNKNOWN, undefined)
    if (what === 4) ctx.connection.destroy()
    return { op_ret: 0, op_errno: 0 }
  },
}

export function tmpSocketPath (tag: string): string {
  return path.join(os.tmpdir(), `gluster-ts-${tag}-${process.pid}-${Math.random().toString(36).slice(2)}.sock`)
}

export interface Pair { server: RpcServer, client: RpcClient, address: string }

/** An RpcServer serving TestProgram (v2 and v3) and an RpcClient connected to it; both closed in teardown. */
export async function startPair (t: Test, opts: {
  unix?: boolean
  server?: RpcServerOptions
  client?: RpcConnectOptions
  handlers?: Handlers<typeof TestProgram>
} = {}): Promise<Pair> {
  const server = new RpcServer(opts.server)
  server.register(TestProgram, opts.handlers ?? testHandlers)
  server.register(TestProgramV3, { ECHO: ({ n, s }) => ({ op_ret: 0, op_errno: 0, n, s: `v3 ${s}` }) })
  const address = opts.unix === true ? await server.listen(tmpSocketPath('pair')) : await server.listen(0, '127.0.0.1')
  const client = await RpcClient.connect(address, opts.client)
  t.teardown(async () => {
    client.destroy()
    await server.close({ timeoutMs: 100 })
  })
  return { server, client, address }
}

/** A raw TCP server on 127.0.0.1 that runs `onSocket` for each connection (a scripted peer). */
export async function rawServer (t: Test, onSocket: (s: net.Socket) => void): Promise<string> {
  const sockets = new Set<net.Socket>()
  const srv = net.createServer(s => {
    sockets.add(s)
    s.on('error', () => {})
    s.on('close', () => sockets.delete(s))
    onSocket(s)
  })
  await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => {
    for (const s of sockets) s.destroy()
    srv.close(() => { resolve() })
  }))
  return `127.0.0.1:${(srv.address() as net.AddressInfo).port}`
}
