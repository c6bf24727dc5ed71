// Shared by the integration tests that talk to a brick the way GlusterFS clients do: an embedded
// cluster, a connection attached to one of its bricks (SETVOLUME), a file created with a gfid.
import type { Test } from 'tap'
import { RpcClient, FopProgram, portByBrick, setVolume, glusterfsV3Cred, gfxDict, gfxUuid, ROOT_GFID } from '@gluster-ts/rpc'
import { startCluster, newGfid } from '@gluster-ts/server'
import type { Cluster } from '@gluster-ts/server'

/** An embedded cluster in the test's directory, closed at teardown. */
export async function cluster (t: Test, replica = 1): Promise<Cluster> {
  const c = await startCluster({ dir: t.testdir(), replica, port: 0 })
  t.teardown(() => c.close())
  return c
}

/** What attach() needs of a running cluster: startCluster()'s Cluster, or what the built CLI printed. */
export interface AttachTarget {
  volfileServer: string
  volume: { name: string, bricks: ReadonlyArray<{ path: string }> }
}

/** A client attached (SETVOLUME) to brick `i`. */
export async function attach (t: Test, c: AttachTarget, i = 0): Promise<RpcClient> {
  const mgmt = await RpcClient.connect(c.volfileServer, { cred: glusterfsV3Cred({ pid: 1 }) })
  const port = await portByBrick(mgmt, c.volume.bricks[i]!.path)
  mgmt.destroy()
  const client = await RpcClient.connect(`127.0.0.1:${port}`, { cred: glusterfsV3Cred({ pid: 4242 }) })
  t.teardown(() => { client.destroy() })
  await setVolume(client, { remoteSubvolume: c.volume.bricks[i]!.path, volfileKey: c.volume.name, clientName: `${c.volume.name}-client-${i}` })
  return client
}

/** CREATE `name` (O_RDWR) with a new gfid: the gfid and the open fd. */
export async function createFile (b: RpcClient, name: string, parent = ROOT_GFID): Promise<{ gfid: Buffer, fd: bigint }> {
  const gfid = newGfid()
  const r = await b.call(FopProgram.procs.CREATE, { pargfid: parent, flags: 0o2 | 0o100, mode: 0o100644, umask: 0, bname: name, xdata: gfxDict({ 'gfid-req': gfxUuid(gfid) }) })
  if (r.op_ret !== 0) throw new Error(`CREATE ${name}: errno ${r.op_errno}`)
  return { gfid, fd: r.fd }
}
