// Issue 13 item 2 against startCluster(): SETVOLUME refused without the address or the
// credentials, foreign portmap SIGNIN/SIGNOUT refused, the trusted volfile for local callers,
// source-port rules, and cluster.json files from before volumes had credentials.
// (The built `gluster-ts cluster` with one process per brick, other network namespaces and the
// FUSE client: test-interop/server-auth.test.ts; brick processes started from source under tap
// take a minute each on a loaded box, so they are not started here.)
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { RpcClient, dump, portByBrick, glusterfsV3Cred } from '@gluster-ts/rpc'
import { startCluster, clientVolfile } from '@gluster-ts/server'
import type { Cluster, StartClusterOptions, VolumeConfig } from '@gluster-ts/server'
import { authChecks, setVolumeRaw, fetchSpec, credentialLines } from './auth-probe.js'
import type { AuthTarget } from './auth-probe.js'

let sockSeq = 0

async function cluster (t: import('tap').Test, o: Partial<StartClusterOptions> = {}): Promise<{ c: Cluster, target: AuthTarget }> {
  const sock = path.join(os.tmpdir(), `gts-auth-${process.pid}-${++sockSeq}.sock`)
  const c = await startCluster({ dir: t.testdir(), replica: 3, port: 0, unixSocket: sock, ...o })
  t.teardown(() => c.close())
  return { c, target: { volfileServer: c.volfileServer, volume: c.volume, brickPort: i => c.brickPort(i)!, unixSocket: sock } }
}

t.test('startCluster: the acceptance checks', async t => {
  const { target } = await cluster(t)
  await authChecks(t, target)
})

t.test('authAllow / authReject open and close the volume for this run', async t => {
  const dir = t.testdir()
  const outsider = { localAddress: '127.0.0.2' }
  {
    const { c, target } = await cluster(t, { dir, authAllow: '127.0.0.0/8' })
    t.equal(c.volume.options?.['auth.allow'], '127.0.0.0/8')
    t.match(await setVolumeRaw(target, 0, {}, outsider), { op_ret: 0, stat: 0 }, 'a network opens the volume to 127.0.0.2')
    await c.close()
  }
  {
    const { c, target } = await cluster(t, { dir, authAllow: '*', authReject: '127.0.0.2' })
    const v = c.volume
    t.match(await setVolumeRaw(target, 0, {}), { op_ret: 0 }, '* with 127.0.0.2 rejected: 127.0.0.1 is served')
    t.match(await setVolumeRaw(target, 0, { username: v.username!, password: v.password! }, outsider), { op_ret: -1, op_errno: 13 },
      'a rejected address is refused even with the right credentials')
    await c.close()
  }
  {
    const { c, target } = await cluster(t, { dir })
    t.equal(c.volume.options?.['auth.allow'], '127.0.0.1,::1', 'options are not saved: the next run is loopback only again')
    t.match(await setVolumeRaw(target, 0, {}, outsider), { op_ret: -1, op_errno: 13 })
  }
  const saved = JSON.parse(fs.readFileSync(path.join(dir, 'cluster.json'), 'utf8')) as { volumes: VolumeConfig[] }
  t.equal(saved.volumes[0]!.options, undefined, 'cluster.json keeps no run options')
  t.equal(fs.statSync(path.join(dir, 'cluster.json')).mode & 0o077, 0, 'cluster.json (it holds the password) is private to its owner')
  await t.rejects(startCluster({ dir, port: 0, authAllow: '10.0.0.0/99' }), /auth\.allow: bad network/, 'a bad list is refused at start')
})

t.test('a cluster.json without credentials gets them once, and they are kept', async t => {
  const dir = t.testdir()
  const file = path.join(dir, 'cluster.json')
  const first = await startCluster({ dir, replica: 1, port: 0 })
  const id = first.volume.id
  await first.close()
  const conf = JSON.parse(fs.readFileSync(file, 'utf8')) as { volumes: Array<VolumeConfig & Record<string, unknown>> }
  delete conf.volumes[0]!.username
  delete conf.volumes[0]!.password
  fs.writeFileSync(file, JSON.stringify(conf))
  const second = await startCluster({ dir, replica: 1, port: 0 })
  t.teardown(() => second.close())
  t.equal(second.volume.id, id, 'the same volume')
  t.match(second.volume, { username: /^[0-9a-f-]{36}$/, password: /^[0-9a-f-]{36}$/ }, 'new credentials, two UUIDs')
  const saved = (JSON.parse(fs.readFileSync(file, 'utf8')) as { volumes: VolumeConfig[] }).volumes[0]!
  t.same([saved.username, saved.password], [second.volume.username, second.volume.password], 'saved in cluster.json')
  const target: AuthTarget = { volfileServer: second.volfileServer, volume: second.volume, brickPort: i => second.brickPort(i)! }
  t.same(credentialLines(await fetchSpec(target), second.volume), { username: 1, password: 1 }, 'and served in the trusted volfile')
  await second.close()
  const third = await startCluster({ dir, replica: 1, port: 0 })
  t.teardown(() => third.close())
  t.same([third.volume.username, third.volume.password], [saved.username, saved.password], 'the next start keeps them')
})

t.test('glusterd.getSpec: the plain volfile never has credentials, the trusted one has them on every client', async t => {
  const { c } = await cluster(t, { replica: 2, distribute: 2 })
  const plain = c.glusterd.getSpec('vol1')!.spec
  const trusted = c.glusterd.getSpec('vol1', { trusted: true })!.spec
  t.same(credentialLines(plain, c.volume), { username: 0, password: 0 })
  t.notMatch(plain, c.volume.password!)
  t.same(credentialLines(trusted, c.volume), { username: 4, password: 4 })
  t.equal(trusted.replace(/^ {4}option (username|password) .*\n/gm, ''), plain, 'the only difference is those lines')
  const noCreds: VolumeConfig = { ...c.volume }
  delete noCreds.username
  delete noCreds.password
  t.equal(clientVolfile(noCreds, { trusted: true }), clientVolfile(noCreds), 'a volume without credentials has no trusted volfile (build_volfile_path)')
})

const root = process.getuid?.() === 0
t.test('allowInsecure false: unprivileged source ports are refused by bricks and glusterd', { skip: root ? false : 'needs root to bind ports below 1024' }, async t => {
  const { c, target } = await cluster(t, { allowInsecure: false })
  // the RPC layer refuses every call, DUMP first, before any handler (rpcsvc.c)
  const brick = await RpcClient.connect(`127.0.0.1:${c.brickPort(0)!}`, { timeoutMs: 10_000 })
  t.teardown(() => { brick.destroy() })
  await t.rejects(dump(brick), { code: 'EGLUSTER_AUTH', message: /AUTH_ERROR \(AUTH_REJECTEDCRED\)/ }, 'brick: DUMP from a port >= 1024 is MSG_DENIED/AUTH_ERROR')
  const mgmt = await RpcClient.connect(c.volfileServer, { timeoutMs: 10_000 })
  t.teardown(() => { mgmt.destroy() })
  await t.rejects(portByBrick(mgmt, c.volume.bricks[0]!.path), { code: 'EGLUSTER_AUTH' }, 'glusterd too')
  const priv = await RpcClient.connect(c.volfileServer, { timeoutMs: 10_000, localPortBelow1024: true, cred: glusterfsV3Cred({ pid: 1 }) })
  t.teardown(() => { priv.destroy() })
  t.equal(await portByBrick(priv, c.volume.bricks[0]!.path), c.brickPort(0), 'glusterd serves a privileged port')
  t.match(await setVolumeRaw(target, 0, {}, { privilegedPort: true }), { op_ret: 0, stat: 0 }, 'a brick serves a privileged port')
  t.same(credentialLines(await fetchSpec(target, { address: `unix:${target.unixSocket!}` }), c.volume), { username: 3, password: 3 },
    'unix-socket peers have no port to check')
})
