// startCluster({ brickProcesses: true }): each brick in its own process, registered with glusterd's
// portmapper; a SIGKILLed brick is forgotten by the portmapper, a restarted one is registered anew.
import t from 'tap'
import { RpcClient, FopProgram, glusterfsV3Cred, portByBrick, setVolume, ROOT_GFID } from '@gluster-ts/rpc'
import { startCluster } from '@gluster-ts/server'

t.test('brick processes: registered, SIGKILL, restart on a new port', async t => {
  const c = await startCluster({ dir: t.testdir(), replica: 3, port: 0, brickProcesses: true })
  t.teardown(() => c.close())
  const mgmt = await RpcClient.connect(c.volfileServer, { cred: glusterfsV3Cred({ pid: 1 }) })
  t.teardown(() => { mgmt.destroy() })
  const pids = c.volume.bricks.map((_, i) => c.brickPid(i))
  t.equal(new Set(pids).size, 3, 'three processes')
  t.notOk(pids.includes(process.pid), 'none is this process')
  for (let i = 0; i < 3; i++) t.equal(await portByBrick(mgmt, c.volume.bricks[i]!.path), c.brickPort(i), `brick ${i} signed in with its port`)

  const stat = async (i: number): Promise<number> => {
    const port = await portByBrick(mgmt, c.volume.bricks[i]!.path)
    const cl = await RpcClient.connect(`127.0.0.1:${port}`, { cred: glusterfsV3Cred({ pid: 1 }) })
    try {
      await setVolume(cl, { remoteSubvolume: c.volume.bricks[i]!.path, volfileKey: 'vol1', clientName: `vol1-client-${i}` })
      return (await cl.call(FopProgram.procs.STAT, { gfid: ROOT_GFID, xdata: null })).op_ret
    } finally { cl.destroy() }
  }
  t.equal(await stat(1), 0, 'brick 1 serves')

  const oldPort = c.brickPort(1)
  process.kill(pids[1]!, 'SIGKILL')
  const t0 = Date.now()
  while (c.brickPid(1) !== undefined && Date.now() - t0 < 10_000) await new Promise(resolve => setTimeout(resolve, 50))
  t.equal(c.brickPid(1), undefined, 'the cluster saw the brick die')
  await t.rejects(portByBrick(mgmt, c.volume.bricks[1]!.path), 'the portmapper forgot the killed brick')
  t.same(await c.startStoppedBricks(), [1], 'only the dead brick is restarted')
  t.not(c.brickPid(1), pids[1], 'in a new process')
  t.equal(await portByBrick(mgmt, c.volume.bricks[1]!.path), c.brickPort(1), `signed in again (port ${oldPort} → ${c.brickPort(1)})`)
  t.equal(await stat(1), 0, 'the restarted brick serves')
  await c.stopBrick(2)
  await t.rejects(portByBrick(mgmt, c.volume.bricks[2]!.path), 'a stopped brick signed out')
})
