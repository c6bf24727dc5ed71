// Issue 13 item 2 through the BUILT `gluster-ts cluster` (packages/cli, after `pnpm build`), a
// network namespace of our own (a client at a non-local address), and the real FUSE client:
//   - the acceptance checks of auth-probe.ts (SETVOLUME refusals, foreign SIGNIN/SIGNOUT, GETSPEC);
//   - from the namespace glusterd serves the plain volfile (no credentials), as real glusterd does
//     for a peer that is not an address of its host, and the bricks apply the address rules;
//   - FUSE mounts with the trusted volfile (our address is not in auth.allow: only the credentials
//     get it in); FUSE with a wrong password and FUSE from a refused address are shut down by
//     the client itself ("Server authentication failed"), no mount, no hang;
//   - --auth-allow opens the volume to the namespace (FUSE and our volume client with the plain
//     volfile), --auth-reject closes it even to the right credentials, --allow-insecure off
//     refuses unprivileged source ports.
// Namespace gts-auth-<GTS_REAL_ID>, veth gtsa<id>h (10.99.<id>.1/24) / gtsa<id>n (10.99.<id>.2/24),
// removed in teardown even when a check fails.
import t from 'tap'
import type { Test } from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { RpcClient, dump } from '@gluster-ts/rpc'
import { clientVolfile } from '@gluster-ts/server'
import type { VolumeConfig } from '@gluster-ts/server'
import { binMissing, gtsSpawn, until } from './cli-helpers.js'
import { fuseSkipReason, sh, waitFor, isMounted, umount } from './server-fuse-helpers.js'
import { authChecks, setVolumeRaw, fetchSpec, credentialLines } from '../packages/server/test/integration/auth-probe.js'
import type { AuthTarget, SetVolumeReply } from '../packages/server/test/integration/auth-probe.js'

const exec = promisify(execFile)
t.setTimeout(600_000)

const ID = Number(process.env.GTS_REAL_ID ?? '0') % 250
const NS = `gts-auth-${ID}`
const HOST_IF = `gtsa${ID}h`
const NS_IF = `gtsa${ID}n`
const HOST_IP = `10.99.${ID}.1`
const NS_IP = `10.99.${ID}.2`

function skipReason (): string | undefined {
  const fuse = fuseSkipReason()
  if (fuse !== undefined) return fuse
  if (!fs.existsSync('/usr/bin/nsenter') || !['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip'].some(p => fs.existsSync(p))) return 'needs ip and nsenter'
  return binMissing()
}

const ip = (...args: string[]): Promise<string> => sh('ip', args, { timeoutMs: 20_000 })

async function netnsDown (): Promise<void> {
  await ip('netns', 'del', NS).catch(() => {})
  await ip('link', 'del', HOST_IF).catch(() => {})
}

async function netnsUp (t: Test): Promise<void> {
  await netnsDown() // a namespace of ours left by a killed run
  t.teardown(netnsDown)
  await ip('netns', 'add', NS)
  await ip('link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', NS_IF)
  await ip('link', 'set', NS_IF, 'netns', NS)
  await ip('addr', 'add', `${HOST_IP}/24`, 'dev', HOST_IF)
  await ip('link', 'set', HOST_IF, 'up')
  await ip('-n', NS, 'addr', 'add', `${NS_IP}/24`, 'dev', NS_IF)
  await ip('-n', NS, 'link', 'set', NS_IF, 'up')
  await ip('-n', NS, 'link', 'set', 'lo', 'up')
}

/** Run `cmd` in the namespace's network (mounts stay in ours: nsenter --net only). */
async function inNs (cmd: string, args: string[], timeoutMs = 60_000): Promise<{ stdout: string, stderr: string }> {
  return exec('nsenter', [`--net=/var/run/netns/${NS}`, cmd, ...args], { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 })
}

/** One auth-netns-probe.ts probe from 10.99.<id>.2. */
async function probe<R> (p: Record<string, unknown>): Promise<R> {
  const { stdout } = await inNs(process.execPath, ['--import', 'tsx', '--conditions=gluster-ts-source', path.resolve('test-interop/auth-netns-probe.ts'), JSON.stringify(p)])
  return JSON.parse(stdout.trim().split('\n').pop()!) as R
}

interface Built { target: AuthTarget, volume: VolumeConfig, port: number, stop: () => Promise<number | null> }

/** `gluster-ts cluster` (built) on HOST_IP with `args`; stopped with SIGINT in teardown. */
async function builtCluster (t: Test, dir: string, args: string[]): Promise<Built> {
  for (let attempt = 0; ; attempt++) {
    const c = gtsSpawn(['cluster', '--dir', dir, '--port', '0', '--host', HOST_IP, '--replica', '3', '--volume', 'vol1', ...args])
    let stopped: Promise<number | null> | undefined
    const stop = (): Promise<number | null> => {
      if (stopped === undefined) {
        if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGINT')
        const timer = setTimeout(() => { c.proc.kill('SIGKILL') }, 15_000)
        stopped = c.exited.finally(() => { clearTimeout(timer) })
      }
      return stopped
    }
    t.teardown(stop)
    await until('cluster ready', 120_000, () => /^ready$/m.test(c.stdout()) || c.proc.exitCode !== null)
    if (c.proc.exitCode !== null) throw new Error(`gluster-ts cluster exited ${c.proc.exitCode}: ${c.stderr()}`)
    const out = c.stdout()
    const port = Number(/^volfile-server \S+:(\d+)$/m.exec(out)![1])
    // the FUSE client's own source ports count down from 49151: keep glusterd out of their way
    if (port >= 49100 && port <= 49151 && attempt < 10) { await stop(); continue }
    const ports = new Map<number, number>()
    for (const m of out.matchAll(/^brick (\d+) \S+ port (\d+)/gm)) ports.set(Number(m[1]), Number(m[2]))
    const volume = (JSON.parse(fs.readFileSync(path.join(dir, 'cluster.json'), 'utf8')) as { volumes: VolumeConfig[] }).volumes[0]!
    return { target: { volfileServer: `${HOST_IP}:${port}`, volume, brickPort: i => ports.get(i)! }, volume, port, stop }
  }
}

const wire = (b: Built): Record<string, unknown> => ({ volfileServer: b.target.volfileServer, volume: b.volume, brickPorts: b.volume.bricks.map((_, i) => b.target.brickPort(i)) })

/** Start glusterfs (argv), then wait until it is mounted, or until its process is gone. */
async function fuse (args: string[], o: { mnt: string, log: string, pidFile: string, netns?: boolean }): Promise<{ mounted: boolean, log: string }> {
  const all = [...args, `--log-file=${o.log}`, `--pid-file=${o.pidFile}`, o.mnt]
  if (o.netns === true) await inNs('glusterfs', all, 30_000)
  else await sh('glusterfs', all, { timeoutMs: 30_000 })
  const alive = (): boolean => {
    const pid = Number(fs.existsSync(o.pidFile) ? fs.readFileSync(o.pidFile, 'utf8').trim() : '0')
    if (pid <= 0) return false
    try { process.kill(pid, 0); return true } catch { return false }
  }
  await waitFor('the mount, or the client to exit', 30_000, async () => (await isMounted(o.mnt)) || !alive())
  const mounted = await isMounted(o.mnt)
  return { mounted, log: fs.existsSync(o.log) ? fs.readFileSync(o.log, 'utf8') : '' }
}

const reason = skipReason()

t.test('the built `gluster-ts cluster` with auth on, clients here and in another network namespace', { skip: reason ?? false }, async t => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'gts-auth-'))
  t.teardown(() => { if (process.env.GTS_KEEP === undefined) fs.rmSync(base, { recursive: true, force: true }) })
  await netnsUp(t)
  const mnts: string[] = []
  const mnt = (name: string): string => { const m = path.join(base, name); fs.mkdirSync(m); mnts.push(m); return m }
  t.teardown(async () => { for (const m of mnts) await umount(m).catch(() => {}) })
  const fuseOpts = (name: string): { mnt: string, log: string, pidFile: string } =>
    ({ mnt: mnt(name), log: path.join(base, `${name}.log`), pidFile: path.join(base, `${name}.pid`) })

  // ---- defaults (auth.allow 127.0.0.1,::1), one process per brick ----
  const a = await builtCluster(t, path.join(base, 'a'), ['--brick-processes'])
  const v = a.volume
  await t.test('the acceptance checks from this host', async t => {
    await authChecks(t, a.target, { allowed: { localAddress: '127.0.0.1' }, outsider: { localAddress: '127.0.0.2' } })
  })
  t.same(credentialLines(await fetchSpec(a.target), v), { username: 3, password: 3 }, `GETSPEC from ${HOST_IP} (an address of this host): trusted`)
  const plain = await probe<{ spec: string }>({ op: 'getspec', target: wire(a) })
  t.same(credentialLines(plain.spec, v), { username: 0, password: 0 }, `GETSPEC from ${NS_IP} (not local): the plain volfile`)
  t.notMatch(plain.spec, v.password!, 'no password anywhere in it')
  t.equal(plain.spec, clientVolfile(v, { glusterdPort: a.port }), 'exactly the plain volfile')
  t.same(await probe<SetVolumeReply>({ op: 'setvolume', target: wire(a), brick: 0, keys: {} }), refusal(v),
    `SETVOLUME from ${NS_IP} without credentials: refused (not in auth.allow)`)
  t.match(await probe<SetVolumeReply>({ op: 'setvolume', target: wire(a), brick: 1, keys: { username: v.username!, password: v.password! } }),
    { op_ret: 0, stat: 0 }, `SETVOLUME from ${NS_IP} with the credentials: accepted`)
  t.match(await probe({ op: 'volume', servers: a.target.volfileServer, volume: 'vol1' }), { error: { code: 'EGLUSTER_AUTH', brick: new RegExp(`^${HOST_IP.replaceAll('.', '\\.')}:\\d+:`) } },
    `our volume client from ${NS_IP} (plain volfile, address not allowed): EGLUSTER_AUTH naming the brick`)

  const m1 = fuseOpts('m1')
  const ok = await fuse([`--volfile-server=${HOST_IP}`, `--volfile-server-port=${a.port}`, '--volfile-id=vol1'], m1)
  t.ok(ok.mounted, `FUSE from this host mounts (trusted volfile: ${HOST_IP} is not in auth.allow, the credentials let it in)`)
  t.match(ok.log, new RegExp(`option username ${v.username!}`), 'the client logged the trusted volfile it fetched')
  await fs.promises.writeFile(path.join(m1.mnt, 'hello.txt'), 'through FUSE')
  t.equal(await fs.promises.readFile(path.join(m1.mnt, 'hello.txt'), 'utf8'), 'through FUSE', 'and reads and writes')
  await umount(m1.mnt)

  const wrong = path.join(base, 'wrong.vol')
  fs.writeFileSync(wrong, clientVolfile({ ...v, password: 'not-the-password' }, { glusterdPort: a.port, trusted: true }))
  const bad = await fuse(['-f', wrong], fuseOpts('m2'))
  t.notOk(bad.mounted, 'FUSE with a wrong password (glusterfs -f): no mount')
  t.match(bad.log, /SETVOLUME on remote-host failed \[\{remote-error=Authentication failed\}, \{errno=13\}/, 'the brick said "Authentication failed", EACCES')
  t.match(bad.log, /Server authentication failed\. Shutting down\./, 'and the client shut itself down')

  const far = await fuse([`--volfile-server=${HOST_IP}`, `--volfile-server-port=${a.port}`, '--volfile-id=vol1'], { ...fuseOpts('m3'), netns: true })
  t.notOk(far.mounted, `FUSE from ${NS_IP} (plain volfile, address not allowed): no mount`)
  t.notMatch(far.log, /option username/, 'it got the plain volfile')
  t.match(far.log, /Server authentication failed\. Shutting down\./)
  t.equal(await a.stop(), 0, '`gluster-ts cluster` stops cleanly')

  // ---- --auth-allow opens the volume to the namespace's subnet ----
  const b = await builtCluster(t, path.join(base, 'b'), ['--auth-allow', `10.99.${ID}.0/24`])
  const m4 = fuseOpts('m4')
  const open = await fuse([`--volfile-server=${HOST_IP}`, `--volfile-server-port=${b.port}`, '--volfile-id=vol1'], { ...m4, netns: true })
  t.ok(open.mounted, `FUSE from ${NS_IP} mounts with the plain volfile when --auth-allow lists its network`)
  t.notMatch(open.log, /option username/, 'with the plain volfile')
  await fs.promises.writeFile(path.join(m4.mnt, 'far.txt'), 'from the namespace')
  t.equal(await fs.promises.readFile(path.join(m4.mnt, 'far.txt'), 'utf8'), 'from the namespace')
  await umount(m4.mnt)
  t.match(await probe({ op: 'volume', servers: b.target.volfileServer, volume: 'vol1' }), { read: /^written from \d+$/ },
    `our volume client from ${NS_IP} with the plain volfile: accepted by address`)
  t.equal(await b.stop(), 0)

  // ---- --auth-reject closes it, even to the right credentials ----
  const c = await builtCluster(t, path.join(base, 'c'), ['--auth-allow', '*', '--auth-reject', NS_IP])
  t.same(await probe<SetVolumeReply>({ op: 'setvolume', target: wire(c), brick: 0, keys: { username: c.volume.username!, password: c.volume.password! } }), refusal(c.volume),
    `SETVOLUME from ${NS_IP} with the right credentials: refused by auth.reject`)
  const rejected = await fuse([`--volfile-server=${HOST_IP}`, `--volfile-server-port=${c.port}`, '--volfile-id=vol1'], { ...fuseOpts('m5'), netns: true })
  t.notOk(rejected.mounted, `FUSE from ${NS_IP}, in auth.reject: no mount`)
  t.match(rejected.log, /Server authentication failed\. Shutting down\./)
  const here = await fuse([`--volfile-server=${HOST_IP}`, `--volfile-server-port=${c.port}`, '--volfile-id=vol1'], fuseOpts('m6'))
  t.ok(here.mounted, 'FUSE from this host still mounts (* allows it)')
  await umount(path.join(base, 'm6'))
  t.equal(await c.stop(), 0)

  // ---- --allow-insecure off: only privileged source ports ----
  const d = await builtCluster(t, path.join(base, 'd'), ['--allow-insecure', 'off'])
  const insecure = await RpcClient.connect(`${HOST_IP}:${d.port}`, { timeoutMs: 10_000 })
  t.teardown(() => { insecure.destroy() })
  await t.rejects(dump(insecure), { code: 'EGLUSTER_AUTH', message: /AUTH_REJECTEDCRED/ }, 'glusterd: a call from a port >= 1024 is MSG_DENIED/AUTH_ERROR')
  t.match(await setVolumeRaw(d.target, 0, { username: d.volume.username!, password: d.volume.password! }, { privilegedPort: true }), { op_ret: 0, stat: 0 },
    'a brick serves a privileged port')
  await t.rejects(setVolumeRaw(d.target, 0, { username: d.volume.username!, password: d.volume.password! }), { code: 'EGLUSTER_AUTH' },
    'and refuses an unprivileged one before SETVOLUME')
  t.equal(await d.stop(), 0)
})

/** What a brick answers a refused SETVOLUME (server-handshake.c), then a STAT on that connection. */
function refusal (v: VolumeConfig): SetVolumeReply {
  return { op_ret: -1, op_errno: 13, dict: { ERROR: 'Authentication failed', 'volume-id': v.id, child_up: '1' }, stat: 'refused' }
}
