// glusterd, the management side: GF-DUMP (listing the portmapper, which is how clients tell
// glusterd from a brick), the handshake program's GETSPEC and GET_VOLUME_INFO, the portmapper
// (PORTBYBRICK, BRICKBYPORT, SIGNIN, SIGNOUT), and FETCHSPEC callbacks to every client that
// fetched a volfile when a volume changes (gluster-wire.md §9.4, §9.5, §11.2).
// GETSPEC gives the trusted volfile (with the volume's credentials) only to callers on this host,
// as glusterd decides it (auth.ts isTrustedCaller). Bricks are registered in-process
// (registerBrick) by whoever started them: portmap SIGNIN/SIGNOUT over RPC, which real glusterd
// takes from anyone who can reach it, are refused with EPERM, so nobody can point clients at
// their own port or unregister a brick.
import {
  RpcServer, DumpProgram, HandshakeProgram, PortmapProgram, CallbackProgram,
  GLUSTER_DUMP_PROGRAM, GLUSTER_DUMP_VERSION, GLUSTER_HNDSK_PROGRAM, GLUSTER_HNDSK_VERSION,
  GLUSTER_PMAP_PROGRAM, GLUSTER_PMAP_VERSION, flatDict, flatDictString,
} from '@gluster-ts/rpc'
import type { ServerConnection } from '@gluster-ts/rpc'
import { clientVolfile, validateVolume } from './volfile.js'
import type { VolumeConfig } from './volfile.js'
import { authPeer, isTrustedCaller } from './auth.js'

export interface GlusterdOptions {
  volumes?: VolumeConfig[]
  /**
   * glusterd.vol's `rpc-auth-allow-insecure`: calls from TCP source ports >= 1024 are served
   * (default true, as Debian's glusterd.vol has no such option). false: they are answered
   * MSG_DENIED / AUTH_ERROR before any handler.
   */
  allowInsecure?: boolean
}

const MAX_KEY_BYTES = 255
const EPERM = 1

export class Glusterd {
  readonly rpc: RpcServer
  /** extra listeners (a unix socket next to TCP) */
  readonly #extra: RpcServer[] = []
  readonly #volumes = new Map<string, VolumeConfig>()
  /** brick path → port, registered by whoever started the brick (registerBrick) */
  readonly #ports = new Map<string, number>()
  /** connections that fetched a volfile, and which volume: they get FETCHSPEC */
  readonly #watchers = new Map<ServerConnection, string>()
  readonly #allowInsecure: boolean

  constructor (opts: GlusterdOptions = {}) {
    for (const v of opts.volumes ?? []) this.setVolume(v, { notify: false })
    this.#allowInsecure = opts.allowInsecure ?? true
    this.rpc = this.#makeServer()
  }

  #makeServer (): RpcServer {
    const rpc = new RpcServer({ allowInsecure: this.#allowInsecure })
    rpc.register(DumpProgram, {
      DUMP: () => ({
        gfs_id: 0n, op_ret: 0, op_errno: 0,
        prog: [
          { progname: 'GF-DUMP', prognum: BigInt(GLUSTER_DUMP_PROGRAM), progver: BigInt(GLUSTER_DUMP_VERSION) },
          { progname: 'Gluster Portmap', prognum: BigInt(GLUSTER_PMAP_PROGRAM), progver: BigInt(GLUSTER_PMAP_VERSION) },
          { progname: 'Gluster Handshake', prognum: BigInt(GLUSTER_HNDSK_PROGRAM), progver: BigInt(GLUSTER_HNDSK_VERSION) },
        ],
      }),
      PING: () => ({ op_ret: 0, op_errno: 0, xdata: new Map() }),
    })
    rpc.register(HandshakeProgram, {
      GETSPEC: (args, ctx) => {
        const r = this.getSpec(args.key, { trusted: isTrustedCaller(authPeer(ctx.connection.socket)) })
        if (r === undefined) return { op_ret: -1, op_errno: 2, spec: '', xdata: new Map() }
        this.#watch(ctx.connection, r.volume)
        const spec = r.spec
        return { op_ret: Buffer.byteLength(spec), op_errno: 0, spec, xdata: new Map() }
      },
      GET_VOLUME_INFO: args => {
        const name = flatDictString(args.dict, 'volname')
        const flags = flatDictString(args.dict, 'flags')
        const v = name !== undefined ? this.#volumes.get(name) : undefined
        if (v === undefined || flags === undefined) return { op_ret: -1, op_errno: 22, op_errstr: 'volume not found', dict: new Map() }
        if ((Number(flags) & 1) === 0) return { op_ret: 0, op_errno: 0, op_errstr: '', dict: new Map() }
        return { op_ret: 0, op_errno: 0, op_errstr: '', dict: flatDict({ volume_id: v.id }) }
      },
    })
    rpc.register(PortmapProgram, {
      PORTBYBRICK: args => {
        const port = this.#portOf(args.brick)
        return port === undefined ? { op_ret: -1, op_errno: 0, status: 0, port: 0 } : { op_ret: 0, op_errno: 0, status: 0, port }
      },
      BRICKBYPORT: args => {
        for (const [brick, port] of this.#ports) if (port === args.port) return { op_ret: 0, op_errno: 0, status: 0, brick }
        return { op_ret: -1, op_errno: 0, status: 0, brick: '' }
      },
      // our bricks are registered by the process that started them (registerBrick)
      SIGNIN: () => ({ op_ret: -1, op_errno: EPERM }),
      SIGNOUT: () => ({ op_ret: -1, op_errno: EPERM }),
    })
    return rpc
  }

  /** Listen on TCP (port 0 = any). Resolves with the address. */
  listen (port = 24007, host = '127.0.0.1'): Promise<string> { return this.rpc.listen(port, host) }

  /** Also serve on a unix socket. */
  async listenUnix (socketPath: string): Promise<string> {
    const s = this.#makeServer()
    this.#extra.push(s)
    return s.listen(socketPath)
  }

  get port (): number | undefined { return this.rpc.port }
  get address (): string | undefined { return this.rpc.address }
  get volumes (): ReadonlyMap<string, VolumeConfig> { return this.#volumes }

  /**
   * The volfile for a GETSPEC key: "vol1", "/vol1" or "vol1.tcp-fuse"-like keys (the name up
   * to the first '.'). Undefined for unknown volumes. `trusted`: the trusted volfile (with the
   * volume's username/password), which GETSPEC gives to callers on this host only.
   */
  getSpec (key: string, opts: { trusted?: boolean } = {}): { volume: string, spec: string } | undefined {
    if (Buffer.byteLength(key) >= MAX_KEY_BYTES) return undefined
    const name = key.replace(/^\/+/, '').split('.')[0] ?? ''
    const v = this.#volumes.get(name)
    if (v === undefined) return undefined
    const port = this.rpc.port
    return { volume: name, spec: clientVolfile(v, { ...(port !== undefined ? { glusterdPort: port } : {}), trusted: opts.trusted === true }) }
  }

  /** Add or replace a volume; clients that fetched its volfile get FETCHSPEC (unless notify false). */
  setVolume (v: VolumeConfig, opts: { notify?: boolean } = {}): void {
    validateVolume(v)
    this.#volumes.set(v.name, v)
    if (opts.notify !== false) this.notifyVolfileChanged(v.name)
  }

  /** Set a client-side option of a volume (e.g. ping-timeout) and tell the clients. */
  setVolumeOption (name: string, key: string, value: string): void {
    const v = this.#volumes.get(name)
    if (v === undefined) throw new Error(`no volume ${name}`)
    this.setVolume({ ...v, options: { ...v.options, [key]: value } })
  }

  /** Record where a brick listens (what SIGNIN does for real glusterd; only the brick's starter may call it). */
  registerBrick (brickPath: string, port: number): void { this.#ports.set(brickPath, port) }
  /** Forget a brick's port (only if it is still `port`, when given). */
  unregisterBrick (brickPath: string, port?: number): void {
    if (port === undefined || this.#ports.get(brickPath) === port) this.#ports.delete(brickPath)
  }

  #portOf (brick: string): number | undefined {
    const p = this.#ports.get(brick)
    if (p !== undefined) return p
    // a multiplexed registration holds several space-separated names
    for (const [names, port] of this.#ports) if (names.split(' ').includes(brick)) return port
    return undefined
  }

  #watch (conn: ServerConnection, volume: string): void {
    if (!this.#watchers.has(conn)) conn.once('close', () => { this.#watchers.delete(conn) })
    this.#watchers.set(conn, volume)
  }

  /** Send FETCHSPEC (callback program proc 1, no payload, never answered) to the volume's clients. */
  notifyVolfileChanged (volume?: string): number {
    let n = 0
    for (const [conn, vol] of this.#watchers) {
      if (volume !== undefined && vol !== volume) continue
      try {
        conn.send(CallbackProgram.procs.FETCHSPEC, undefined)
        n++
      } catch {
        this.#watchers.delete(conn)
      }
    }
    return n
  }

  async close (): Promise<void> {
    await Promise.all([this.rpc, ...this.#extra].map(s => s.close({ timeoutMs: 2000 })))
  }

  async [Symbol.asyncDispose] (): Promise<void> { await this.close() }
}
