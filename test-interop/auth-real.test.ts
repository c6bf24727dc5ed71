// Our bricks' SETVOLUME answers beside a REAL GlusterFS 10.3 brick's (test-cluster/real, vol1),
// for the same requests: no credentials, the right ones, a wrong password, an unknown user, a
// username without a password; with the defaults of `gluster volume create` (auth.allow *), then
// with an auth.allow that leaves the client out, then with the client in auth.reject (`gluster
// volume set` on vol1, reset in teardown). Also what real glusterd does that we do not: it serves the plain
// volfile to this host (not one of its own addresses) and the trusted one over its unix socket,
// and it takes a portmap SIGNIN from anyone (ours refuses it).
import t from 'tap'
import fs from 'node:fs'
import { RpcClient, portByBrick } from '@gluster-ts/rpc'
import { startCluster } from '@gluster-ts/server'
import type { Cluster, StartClusterOptions, VolumeConfig } from '@gluster-ts/server'
import { loadRealCluster } from '../test-cluster/real/index.js'
import { setVolumeRaw, portmapRaw, fetchSpec, credentialLines } from '../packages/server/test/integration/auth-probe.js'
import type { AuthTarget, SetVolumeReply } from '../packages/server/test/integration/auth-probe.js'

const cluster = loadRealCluster()
if ('skip' in cluster) {
  t.test('SETVOLUME auth beside real GlusterFS', { skip: `real cluster not available: ${cluster.skip}` }, async () => {})
} else {
  t.test('SETVOLUME auth beside real GlusterFS', async t => {
    const node = cluster.node(1)
    const brick = cluster.brick(1)
    const info = Object.fromEntries(fs.readFileSync(`${node.glusterdVolfileDir}/vols/vol1/info`, 'utf8').split('\n')
      .filter(l => l.includes('=')).map(l => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
    const mgmt = await RpcClient.connect(`${node.ip}:24007`, { timeoutMs: 10_000 })
    const realPort = await portByBrick(mgmt, brick.path).finally(() => { mgmt.destroy() })
    const realVol: VolumeConfig = {
      name: 'vol1', id: info['volume-id']!, replica: 3, username: info.username!, password: info.password!,
      bricks: [{ host: node.ip, path: brick.path }],
    }
    const real: AuthTarget = { volfileServer: `${node.ip}:24007`, volume: realVol, brickPort: () => realPort }

    const dir = t.testdir()
    let ours: Cluster | undefined
    t.teardown(() => ours?.close())
    const restart = async (o: Partial<StartClusterOptions>): Promise<{ c: Cluster, target: AuthTarget }> => {
      await ours?.close()
      const c = ours = await startCluster({ dir, replica: 3, port: 0, ...o })
      return { c, target: { volfileServer: c.volfileServer, volume: c.volume, brickPort: i => c.brickPort(i)! } }
    }

    // what may differ: ids, pointers, the brick's process-uuid
    const shape = (r: SetVolumeReply, v: VolumeConfig): unknown => ({
      ...r,
      dict: Object.fromEntries(Object.entries(r.dict).map(([k, val]) =>
        [k, k === 'volume-id' ? (val === v.id ? '<volume-id>' : val) : k === 'transport-ptr' || k === 'process-uuid' ? '<varies>' : val])),
      keys: Object.keys(r.dict),
    })
    const cases: Array<[string, (v: VolumeConfig) => Record<string, string>]> = [
      ['no credentials', () => ({})],
      ['the right credentials', v => ({ username: v.username!, password: v.password! })],
      ['a wrong password', v => ({ username: v.username!, password: 'not-the-password' })],
      ['an unknown user', () => ({ username: 'somebody', password: 'x' })],
      ['a username without a password', v => ({ username: v.username! })],
    ]
    const compare = async (setting: string, mine: AuthTarget): Promise<void> => {
      for (const [name, keys] of cases) {
        const r = shape(await setVolumeRaw(real, 0, keys(realVol)), realVol)
        const m = shape(await setVolumeRaw(mine, 0, keys(mine.volume)), mine.volume)
        t.same(m, r, `${setting}, ${name}: our reply is the real brick's (${JSON.stringify(r)})`)
      }
    }
    /** `gluster volume set vol1 KEY VALUE`, then wait until the brick answers a probe as `refused` says */
    const gluster = (...args: string[]): Promise<unknown> => cluster.run(['gl', '1', ...args], 60_000)
    const settle = async (refused: boolean): Promise<void> => {
      const end = Date.now() + 30_000
      while ((await setVolumeRaw(real, 0, {})).op_ret === (refused ? 0 : -1)) {
        if (Date.now() > end) throw new Error('the real brick did not take the new auth options within 30 s')
        await new Promise(resolve => setTimeout(resolve, 300))
      }
    }

    await compare('auth.allow *', (await restart({ authAllow: '*' })).target)

    t.teardown(async () => {
      await gluster('volume', 'reset', 'vol1', 'auth.allow').catch(() => {})
      await gluster('volume', 'reset', 'vol1', 'auth.reject').catch(() => {})
    })
    // TEST-NET-3: nobody here
    await gluster('volume', 'set', 'vol1', 'auth.allow', '203.0.113.9')
    await settle(true)
    await compare('auth.allow without the client', (await restart({ authAllow: '203.0.113.9' })).target)
    // the client's own address: 10.88.<id>.1 to the real brick, 127.0.0.1 to ours
    await gluster('volume', 'set', 'vol1', 'auth.reject', cluster.info.network.hostIp)
    await compare('the client in auth.reject', (await restart({ authAllow: '203.0.113.9', authReject: '127.0.0.1' })).target)
    await gluster('volume', 'reset', 'vol1', 'auth.allow')
    await gluster('volume', 'reset', 'vol1', 'auth.reject')
    await settle(false)
    const mine = (await restart({ authAllow: '*' })).target

    // real glusterd: this host (10.88.<id>.1) is not one of its addresses, its unix socket is local
    t.same(credentialLines(await fetchSpec(real), realVol), { username: 0, password: 0 }, 'real glusterd: GETSPEC from another host → the plain volfile')
    t.same(credentialLines(await fetchSpec(real, { address: `unix:${node.glusterdSocket}` }), realVol), { username: 3, password: 3 },
      'real glusterd: GETSPEC over its unix socket → the trusted volfile')

    // real glusterd takes a SIGNIN from anyone (a name no brick uses; the entry goes with our connection)
    t.same(await portmapRaw(real, 'SIGNIN', '/gts-auth-probe/not-a-brick', 1), { op_ret: 0, op_errno: 0 }, 'real glusterd: a foreign SIGNIN is accepted')
    t.same(await portmapRaw(mine, 'SIGNIN', '/gts-auth-probe/not-a-brick', 1), { op_ret: -1, op_errno: 1 }, 'ours: refused (EPERM)')
  })
}
