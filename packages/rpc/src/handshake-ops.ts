// The handshake steps every GlusterFS client performs (gluster-wire.md §9.1), as small functions
// over an RpcClient: GETSPEC, DUMP, PORTBYBRICK, SETVOLUME, GET_VOLUME_INFO. Each turns a
// failure reply (op_ret -1) into a GlusterError that carries the server's own words and names
// the peer. The volume package builds its bootstrap and brick connections on these.
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { GlusterError, toGlusterError, type ErrorExtra } from './errors.js'
import { errnoName } from './errno.js'
import { flatDict, flatDictString, type FlatDict } from './dict.js'
import type { CallOptions, RpcClient } from './client.js'
import { DumpProgram, GF_DUMP_GFS_ID, type GfProgDetail } from './programs/dump.js'
import { HandshakeProgram, GfGetspecFlags } from './programs/handshake.js'
import { PortmapProgram, GLUSTER_PMAP_PROGRAM, GLUSTER_PMAP_VERSION } from './programs/portmap.js'
import { GLUSTER_FOP_PROGRAM, GLUSTER_FOP_VERSION } from './programs/fop.js'

/** The op-version a GlusterFS 10 client announces (GETSPEC max-op-version, SETVOLUME opversion). */
export const GLUSTER_OP_VERSION = 100000
/** What we say in SETVOLUME's client-version (the GlusterFS release whose wire we speak). */
export const GLUSTER_CLIENT_VERSION = '10.3'

function failure (rsp: { op_ret: number, op_errno: number }, serverMessage: string | undefined, extra: ErrorExtra): GlusterError {
  const e = rsp.op_errno > 0
    ? toGlusterError(rsp.op_errno, extra)
    : new GlusterError('EGLUSTER_ERRNO', `${extra.syscall ?? 'call'} failed (op_ret ${rsp.op_ret}, op_errno ${rsp.op_errno})`, { ...extra, errno: rsp.op_errno })
  if (serverMessage !== undefined && serverMessage !== '') {
    e.message += `: server said "${serverMessage}"`
    ;(e as GlusterError & { serverMessage?: string }).serverMessage = serverMessage
  }
  return e
}

export interface GetSpecResult {
  /** the volfile text */
  spec: string
  /** other volfile servers glusterd named in `cluster.brick-vol-servers` ('host:port') */
  servers: string[]
  xdata: FlatDict
}

/** GETSPEC: fetch the client volfile for `key` (a volume name, or another volfile id). */
export async function getSpec (client: RpcClient, key: string, opts: CallOptions & { flags?: number, opVersion?: number } = {}): Promise<GetSpecResult> {
  const rsp = await client.call(HandshakeProgram.procs.GETSPEC, {
    flags: opts.flags ?? GfGetspecFlags.SERVERS_LIST,
    key,
    xdata: flatDict({ 'min-op-version': '1', 'max-op-version': String(opts.opVersion ?? GLUSTER_OP_VERSION) }),
  }, opts)
  if (rsp.op_ret < 0) {
    throw failure(rsp, rsp.spec, { syscall: 'GETSPEC', path: key, peer: client.peer })
  }
  const list = flatDictString(rsp.xdata, 'cluster.brick-vol-servers') ?? ''
  return { spec: rsp.spec, servers: list.split(' ').filter(s => s !== ''), xdata: rsp.xdata }
}

/** DUMP: the programs the peer serves, in its order. */
export async function dump (client: RpcClient, opts: CallOptions = {}): Promise<GfProgDetail[]> {
  const rsp = await client.call(DumpProgram.procs.DUMP, { gfs_id: GF_DUMP_GFS_ID }, opts)
  if (rsp.op_ret < 0) throw failure(rsp, undefined, { syscall: 'DUMP', peer: client.peer })
  return rsp.prog
}

const serves = (progs: readonly GfProgDetail[], prog: number, vers: number): boolean =>
  progs.some(p => p.prognum === BigInt(prog) && p.progver === BigInt(vers))

/** A DUMP list that includes the portmapper is glusterd's (how GlusterFS clients tell). */
export const isGlusterd = (progs: readonly GfProgDetail[]): boolean => serves(progs, GLUSTER_PMAP_PROGRAM, GLUSTER_PMAP_VERSION)
/** Whether a brick serves the 4.x fop program (version 400). */
export const servesFopV400 = (progs: readonly GfProgDetail[]): boolean => serves(progs, GLUSTER_FOP_PROGRAM, GLUSTER_FOP_VERSION)

/** PING (GF-DUMP proc 2); resolves with the round trip in ms. */
export async function ping (client: RpcClient, opts: CallOptions = {}): Promise<number> {
  const t0 = performance.now()
  await client.call(DumpProgram.procs.PING, undefined, opts)
  return performance.now() - t0
}

/** PORTBYBRICK: the TCP port of the brick exported at `brickPath`. Unknown brick: ENOENT. */
export async function portByBrick (client: RpcClient, brickPath: string, opts: CallOptions = {}): Promise<number> {
  const rsp = await client.call(PortmapProgram.procs.PORTBYBRICK, { brick: brickPath }, opts)
  if (rsp.op_ret < 0 || rsp.port <= 0) {
    // glusterd answers an unknown brick with op_ret -1 and op_errno 0
    throw new GlusterError('ENOENT', `ENOENT: glusterd ${client.peer} knows no brick '${brickPath}' (PORTBYBRICK op_ret ${rsp.op_ret})`,
      { syscall: 'PORTBYBRICK', path: brickPath, peer: client.peer, ...(rsp.op_errno > 0 ? { errno: rsp.op_errno } : {}) })
  }
  return rsp.port
}

export interface SetVolumeOptions extends CallOptions {
  /** the brick path (the volfile's `remote-subvolume`) */
  remoteSubvolume: string
  /** the volfile id the client mounted ("vol1") */
  volfileKey: string
  /** the protocol/client xlator's name ("vol1-client-0"), used in process-uuid */
  clientName?: string
  /** stable per client process; a fresh one is made when absent */
  ctxId?: string
  /** incremented on every reconnect so the brick sees a new client */
  reconnectCount?: number
  pingTimeoutSec?: number
  /** the volume id learned from an earlier SETVOLUME reply (the brick checks it) */
  volumeId?: string
  /** auth.login credentials from a trusted volfile */
  username?: string
  password?: string
  processName?: string
  /** further keys to send */
  extra?: Record<string, string>
}

export interface SetVolumeResult {
  volumeId: string | undefined
  /** false when the brick said child_up = 0 (its storage is not up) */
  childUp: boolean
  dict: FlatDict
}

/** The process-uuid GlusterFS clients send: unique per client graph and connection. */
export function processUuid (o: { ctxId: string, clientName: string, reconnectCount: number }): string {
  return `CTX_ID:${o.ctxId}-GRAPH_ID:0-PID:${process.pid}-HOST:${hostname()}-PC_NAME:${o.clientName}-RECON_NO:-${o.reconnectCount}`
}

/** SETVOLUME: attach this connection to a brick. Failure carries the brick's ERROR text. */
export async function setVolume (client: RpcClient, o: SetVolumeOptions): Promise<SetVolumeResult> {
  const keys: Record<string, string> = {
    'remote-subvolume': o.remoteSubvolume,
    'process-uuid': processUuid({ ctxId: o.ctxId ?? randomUUID(), clientName: o.clientName ?? `${o.volfileKey}-client`, reconnectCount: o.reconnectCount ?? 0 }),
    'fops-version': String(GLUSTER_FOP_PROGRAM),
    opversion: String(GLUSTER_OP_VERSION),
    'clnt-lk-version': '1',
    'volfile-checksum': '0',
    'volfile-key': o.volfileKey,
    'client-version': GLUSTER_CLIENT_VERSION,
    'ping-timeout': String(o.pingTimeoutSec ?? 42),
    'transport-type': 'socket',
    'process-name': o.processName ?? 'gluster-ts',
    ...(o.volumeId !== undefined ? { 'volume-id': o.volumeId } : {}),
    ...(o.username !== undefined ? { username: o.username } : {}),
    ...(o.password !== undefined ? { password: o.password } : {}),
    ...o.extra,
  }
  const rsp = await client.call(HandshakeProgram.procs.SETVOLUME, { dict: flatDict(keys) }, o)
  const serverMessage = flatDictString(rsp.dict, 'ERROR')
  if (rsp.op_ret < 0) {
    const e = failure(rsp, serverMessage, { syscall: 'SETVOLUME', path: o.remoteSubvolume, peer: client.peer, brick: `${client.peer}:${o.remoteSubvolume}` })
    if (rsp.op_errno === 13) {
      const auth = new GlusterError('EGLUSTER_AUTH', e.message, { syscall: 'SETVOLUME', errno: 13, peer: client.peer, brick: e.brick }, { cause: e })
      throw auth
    }
    throw e
  }
  return { volumeId: flatDictString(rsp.dict, 'volume-id'), childUp: flatDictString(rsp.dict, 'child_up') !== '0', dict: rsp.dict }
}

/** GET_VOLUME_INFO: the volume's UUID (what glfs_get_volumeid asks glusterd). */
export async function getVolumeId (client: RpcClient, volume: string, opts: CallOptions = {}): Promise<string> {
  const rsp = await client.call(HandshakeProgram.procs.GET_VOLUME_INFO, { dict: flatDict({ volname: volume, flags: '1' }) }, opts)
  if (rsp.op_ret < 0) throw failure(rsp, rsp.op_errstr, { syscall: 'GET_VOLUME_INFO', path: volume, peer: client.peer })
  const id = flatDictString(rsp.dict, 'volume_id')
  if (id === undefined) throw new GlusterError('EGLUSTER_PROTOCOL', `GET_VOLUME_INFO reply from ${client.peer} has no volume_id`, { peer: client.peer })
  return id
}

