// What an attacker (or a conformance suite) sends to our glusterd and bricks to test
// authentication: raw SETVOLUME with chosen credentials and source address, foreign portmap
// SIGNIN/SIGNOUT, GETSPEC. Shared by auth.test.ts (startCluster) and
// test-interop/server-auth.test.ts (the built `gluster-ts cluster`, network namespaces, FUSE).
import type { Test } from 'tap'
import {
  RpcClient, HandshakeProgram, PortmapProgram, FopProgram, GLUSTER_FOP_PROGRAM, ROOT_GFID, flatDict, flatDictString,
  getSpec, portByBrick, glusterfsV3Cred,
} from '@gluster-ts/rpc'
import type { VolumeConfig } from '@gluster-ts/server'

/** Where the checks find a running cluster. */
export interface AuthTarget {
  /** glusterd, 'host:port' */
  volfileServer: string
  /** the volume as cluster.json holds it (username, password, bricks) */
  volume: VolumeConfig
  /** brick i's current port */
  brickPort: (i: number) => number
  /** glusterd's unix socket, when it has one */
  unixSocket?: string
}

export interface ProbeOptions {
  /** source address to bind (e.g. 127.0.0.2: on loopback, but not in the default auth.allow) */
  localAddress?: string
  /** bind a source port below 1024 (root) */
  privilegedPort?: boolean
}

/** A SETVOLUME reply as text, and what a STAT of the root on that connection got afterwards (its op_ret, or 'refused'). */
export interface SetVolumeReply { op_ret: number, op_errno: number, dict: Record<string, string>, stat: number | 'refused' }

const hostOf = (volfileServer: string): string => volfileServer.slice(0, volfileServer.lastIndexOf(':'))

function connectOpts (o: ProbeOptions): Parameters<typeof RpcClient.connect>[1] {
  return {
    timeoutMs: 10_000,
    ...(o.localAddress !== undefined ? { localAddress: o.localAddress } : {}),
    ...(o.privilegedPort === true ? { localPortBelow1024: true } : {}),
  }
}

/**
 * SETVOLUME on brick `i` with AUTH_NULL and exactly `keys` besides the required ones; the reply as
 * text. Then a STAT of the root on the same connection: served only when attached.
 */
export async function setVolumeRaw (target: AuthTarget, i: number, keys: Record<string, string>, o: ProbeOptions = {}): Promise<SetVolumeReply> {
  const c = await RpcClient.connect(`${hostOf(target.volfileServer)}:${target.brickPort(i)}`, connectOpts(o))
  try {
    const rsp = await c.call(HandshakeProgram.procs.SETVOLUME, {
      dict: flatDict({
        'remote-subvolume': target.volume.bricks[i]!.path, 'process-uuid': `CTX_ID:probe-${process.pid}-${Math.random()}`,
        'fops-version': String(GLUSTER_FOP_PROGRAM), 'volfile-key': target.volume.name, ...keys,
      }),
    })
    const dict: Record<string, string> = {}
    for (const k of rsp.dict.keys()) dict[k] = flatDictString(rsp.dict, k)!
    // the fop program needs a glusterfs credential; a connection that is not attached gets GARBAGE_ARGS
    const stat = await c.call(FopProgram.procs.STAT, { gfid: ROOT_GFID, xdata: null }, { cred: glusterfsV3Cred({ pid: 1 }) })
      .then(r => r.op_ret, (err: unknown) => { if ((err as { code?: string }).code === 'EGLUSTER_GARBAGE_ARGS') return 'refused' as const; throw err })
    return { op_ret: rsp.op_ret, op_errno: rsp.op_errno, dict, stat }
  } finally {
    c.destroy()
  }
}

/** Portmap SIGNIN or SIGNOUT of `brick` at `port`, as anyone who can reach glusterd could send it. */
export async function portmapRaw (target: AuthTarget, proc: 'SIGNIN' | 'SIGNOUT', brick: string, port: number, o: ProbeOptions = {}): Promise<{ op_ret: number, op_errno: number }> {
  const c = await RpcClient.connect(target.volfileServer, connectOpts(o))
  try {
    return proc === 'SIGNIN'
      ? await c.call(PortmapProgram.procs.SIGNIN, { brick, port, pid: 1 })
      : await c.call(PortmapProgram.procs.SIGNOUT, { brick, port, rdma_port: 0 })
  } finally {
    c.destroy()
  }
}

/** PORTBYBRICK of every brick of the volume. */
export async function portmap (target: AuthTarget): Promise<number[]> {
  const c = await RpcClient.connect(target.volfileServer, { timeoutMs: 10_000 })
  try {
    const out: number[] = []
    for (const b of target.volume.bricks) out.push(await portByBrick(c, b.path))
    return out
  } finally {
    c.destroy()
  }
}

/** GETSPEC of the volume from `address` (glusterd's TCP address by default, or 'unix:/path'). */
export async function fetchSpec (target: AuthTarget, o: ProbeOptions & { address?: string } = {}): Promise<string> {
  const c = await RpcClient.connect(o.address ?? target.volfileServer, connectOpts(o))
  try {
    return (await getSpec(c, target.volume.name)).spec
  } finally {
    c.destroy()
  }
}

/** How many protocol/client sections of `spec` carry the volume's username and password. */
export function credentialLines (spec: string, v: VolumeConfig): { username: number, password: number } {
  const count = (re: RegExp): number => spec.match(re)?.length ?? 0
  return {
    username: count(new RegExp(`^    option username ${v.username!}$`, 'gm')),
    password: count(new RegExp(`^    option password ${v.password!}$`, 'gm')),
  }
}

/**
 * The acceptance checks every cluster with the embedded defaults must pass (auth.allow
 * 127.0.0.1,::1; allow-insecure on), from this host: calls from `allowed` (default: bound to
 * 127.0.0.1) pass the address rules, calls from `outsider` (default 127.0.0.2) do not.
 */
export async function authChecks (t: Test, target: AuthTarget, o: { allowed?: ProbeOptions, outsider?: ProbeOptions } = {}): Promise<void> {
  const v = target.volume
  t.ok(v.username !== undefined && v.password !== undefined, 'the volume has credentials in cluster.json')
  const user = v.username ?? 'no-username'
  const pass = v.password ?? 'no-password'
  const REFUSED = { op_ret: -1, op_errno: 13, dict: { ERROR: 'Authentication failed', 'volume-id': v.id, child_up: '1' }, stat: 'refused' }
  const outsider = o.outsider ?? { localAddress: '127.0.0.2' }
  const allowed = o.allowed ?? { localAddress: '127.0.0.1' }

  const before = await portmap(target)
  t.same(before, v.bricks.map((_, i) => target.brickPort(i)), 'the portmapper knows every brick')
  t.same(await portmapRaw(target, 'SIGNIN', v.bricks[0]!.path, 1), { op_ret: -1, op_errno: 1 }, 'a foreign SIGNIN of a brick: EPERM')
  t.same(await portmapRaw(target, 'SIGNIN', '/a/new/brick', 1), { op_ret: -1, op_errno: 1 }, 'a foreign SIGNIN of a new name: EPERM')
  t.same(await portmapRaw(target, 'SIGNOUT', v.bricks[1]!.path, before[1]!), { op_ret: -1, op_errno: 1 }, 'a foreign SIGNOUT: EPERM')
  t.same(await portmapRaw(target, 'SIGNOUT', v.bricks[2]!.path, 0), { op_ret: -1, op_errno: 1 }, 'a foreign SIGNOUT with port 0: EPERM')
  t.same(await portmap(target), before, 'the portmapper is unchanged')

  const anon = await setVolumeRaw(target, 0, {}, outsider)
  t.same(anon, REFUSED, 'AUTH_NULL, no credentials, from an address not in auth.allow: EACCES "Authentication failed" (nothing else in the dict), not attached')
  t.same(await setVolumeRaw(target, 1, { username: user, password: 'not-the-password' }, allowed), REFUSED,
    'the right username with a wrong password: refused, even from an allowed address')
  t.same(await setVolumeRaw(target, 0, { username: 'somebody', password: pass }, outsider), REFUSED,
    'an unknown username from an address not allowed: refused')
  t.same(await setVolumeRaw(target, 2, { username: user }, outsider), REFUSED, 'a username without a password: refused')
  const ok = await setVolumeRaw(target, 0, { username: user, password: pass }, outsider)
  t.match(ok, { op_ret: 0, stat: 0, dict: { ERROR: 'Success', 'volume-id': v.id } }, 'the right credentials: accepted from any address, and served')
  t.match(await setVolumeRaw(target, 1, {}, allowed), { op_ret: 0, stat: 0 }, 'no credentials from an allowed address (127.0.0.1): accepted, as real bricks do')
  t.match(await setVolumeRaw(target, 1, { username: 'somebody', password: 'x' }, allowed), { op_ret: 0 },
    'an unknown username from an allowed address: login does not care, so accepted (as login.so)')

  const local = await fetchSpec(target, allowed)
  t.same(credentialLines(local, v), { username: v.bricks.length, password: v.bricks.length }, 'GETSPEC from 127.0.0.1: the trusted volfile')
  t.same(credentialLines(await fetchSpec(target, outsider), v), { username: v.bricks.length, password: v.bricks.length },
    'GETSPEC from 127.0.0.2 (loopback, so local): the trusted volfile')
  if (target.unixSocket !== undefined) {
    t.same(credentialLines(await fetchSpec(target, { address: `unix:${target.unixSocket}` }), v), { username: v.bricks.length, password: v.bricks.length },
      'GETSPEC over the unix socket: the trusted volfile')
  }
}
