// Shared by the FUSE suites on our server: start `gluster-ts-cluster` from source as a CHILD
// process (never mount from the process that serves the bricks), mount/unmount the real client.
import { execFile, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import os from 'node:os'
import type { Test } from 'tap'
import type { VolumeConfig } from '@gluster-ts/server'

const exec = promisify(execFile)

export function fuseSkipReason (): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (FUSE mount)'
  if (!fs.existsSync('/dev/fuse')) return 'no /dev/fuse'
  for (const bin of ['/usr/sbin/glusterfs', '/sbin/glusterfs']) if (fs.existsSync(bin)) return undefined
  return 'no glusterfs FUSE client installed'
}

export async function sh (cmd: string, args: string[], opts: { timeoutMs?: number, cwd?: string } = {}): Promise<string> {
  const { stdout } = await exec(cmd, args, { timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024, cwd: opts.cwd, killSignal: 'SIGKILL' })
  return stdout
}

export async function waitFor (what: string, ms: number, check: () => Promise<boolean> | boolean): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}

export async function isMounted (mnt: string): Promise<boolean> {
  const mounts = await fs.promises.readFile('/proc/self/mounts', 'utf8')
  return mounts.split('\n').some(l => l.split(' ')[1] === mnt)
}

export interface ChildCluster {
  proc: ChildProcess
  host: string
  port: number
  volume: VolumeConfig
  /** brick index → pid (with --brick-processes), updated as bricks restart */
  brickPids: Map<number, number>
  /** brick index → port, updated as bricks restart */
  brickPorts: Map<number, number>
  /** everything the CLI printed */
  output: () => string
  close: () => Promise<void>
}

export async function mount (c: ChildCluster, mnt: string, log: string): Promise<void> {
  await sh('glusterfs', [
    `--volfile-server=${c.host}`, `--volfile-server-port=${c.port}`, `--volfile-id=${c.volume.name}`,
    `--log-file=${log}`, mnt,
  ], { timeoutMs: 30_000 })
  await waitFor(`mount of ${mnt}`, 20_000, () => isMounted(mnt))
  await sh('stat', [mnt], { timeoutMs: 20_000 })
}

/**
 * Mount with TLS: `glusterfs` reads its identity from the directory compiled into it (10.3:
 * /usr/lib/ssl), so it runs in a mount namespace of its own where `identityDir` (glusterfs.pem,
 * .key, .ca) is bound over that directory; the mount point is a shared bind, so the mount shows
 * here too. `secureMgmt`: the volfile comes over TLS as well (--secure-mgmt=yes). Resolves once
 * mounted; rejects when glusterfs fails or the mount does not appear within 20 s.
 */
export async function tlsMount (c: ChildCluster, mnt: string, log: string, o: { identityDir: string, sslDir: string, secureMgmt: boolean }): Promise<void> {
  if (!(await isMounted(mnt))) await sh('mount', ['--bind', mnt, mnt])
  await sh('mount', ['--make-shared', mnt])
  // in the new namespace the mount holding sslDir turns private first, so the bind stays there
  await sh('unshare', ['--mount', '--propagation', 'unchanged', 'sh', '-ec',
    'src=$1 dst=$2; shift 2; mount --make-private "$(findmnt -n -o TARGET -T "$dst")"; mount --bind "$src" "$dst"; exec "$@"',
    'fuse-tls', o.identityDir, o.sslDir,
    'glusterfs', `--secure-mgmt=${o.secureMgmt ? 'yes' : 'no'}`, `--volfile-server=${c.host}`, `--volfile-server-port=${c.port}`,
    `--volfile-id=${c.volume.name}`, `--log-file=${log}`, mnt], { timeoutMs: 30_000 })
  await waitFor(`TLS mount of ${mnt}`, 20_000, async () => (await fs.promises.readFile('/proc/self/mounts', 'utf8')).includes(` ${mnt} fuse.glusterfs `))
  await sh('stat', [mnt], { timeoutMs: 20_000 })
}

/** Unmount everything at `mnt` (a TLS mount stacks the FUSE mount on a bind of mnt: both go). */
export async function umount (mnt: string): Promise<void> {
  for (let i = 0; i < 3 && await isMounted(mnt); i++) {
    await sh('umount', [mnt], { timeoutMs: 20_000 }).catch(() => sh('umount', ['-l', mnt], { timeoutMs: 20_000 })).catch(() => {})
  }
  await waitFor(`unmount of ${mnt}`, 20_000, async () => !(await isMounted(mnt))).catch(() => {})
}

const CLI = path.resolve('packages/server/src/cli-main.ts')

async function startOnce (dir: string, args: string[]): Promise<ChildCluster> {
  const proc = spawn(process.execPath, ['--import', 'tsx', '--conditions=gluster-ts-source', CLI, '--dir', dir, '--port', '0', ...args],
    { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  const brickPids = new Map<number, number>()
  const brickPorts = new Map<number, number>()
  proc.stdout!.on('data', (d: Buffer) => {
    out += d.toString()
    for (const m of out.matchAll(/^brick (\d+) \S+ port (\d+)(?: pid (\d+))?$/gm)) {
      brickPorts.set(Number(m[1]), Number(m[2]))
      if (m[3] !== undefined) brickPids.set(Number(m[1]), Number(m[3]))
    }
  })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`cluster did not start: ${out}`)) }, 60_000)
    const onData = (): void => { if (/^ready$/m.test(out)) { clearTimeout(timer); proc.stdout!.off('data', onData); resolve() } }
    proc.stdout!.on('data', onData)
    proc.once('exit', code => { clearTimeout(timer); reject(new Error(`cluster exited with ${code}: ${out}`)) })
  })
  const addr = /volfile-server (\S+)/.exec(out)![1]!
  const [host, port] = [addr.slice(0, addr.lastIndexOf(':')), Number(addr.slice(addr.lastIndexOf(':') + 1))]
  const name = /^volume (\S+)$/m.exec(out)![1]!
  const volume = (JSON.parse(fs.readFileSync(path.join(dir, 'cluster.json'), 'utf8')) as { volumes: VolumeConfig[] }).volumes.find(v => v.name === name)!
  const close = async (): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return
    const exited = new Promise(resolve => proc.once('exit', resolve))
    proc.kill('SIGTERM')
    const timer = setTimeout(() => { proc.kill('SIGKILL') }, 15_000)
    await exited
    clearTimeout(timer)
  }
  return { proc, host, port, volume, brickPids, brickPorts, output: () => out, close }
}

/** Start the CLI (extra flags in `args`) on a glusterd port outside 49100-49151. */
export async function startChildCluster (dir: string, args: string[]): Promise<ChildCluster> {
  for (let i = 0; i < 20; i++) {
    const c = await startOnce(dir, args)
    if (c.port < 49100 || c.port > 49151) return c
    await c.close()
  }
  throw new Error('no usable port')
}

/** A tree of a few thousand files from this repo's node_modules (or the repo's packages when absent). */
export function pickTree (): string {
  const pnpm = path.resolve('node_modules/.pnpm')
  if (fs.existsSync(pnpm)) {
    const es = fs.readdirSync(pnpm).find(d => d.startsWith('es-toolkit@'))
    if (es !== undefined) return path.join(pnpm, es)
  }
  return path.resolve('packages')
}

/**
 * Start the CLI with `args` in a temp dir, mount its volume, run `fn`; unmount, stop and remove
 * everything at the test's end (GTS_KEEP=1 keeps the dir).
 */
export async function withVolume (t: Test, args: string[], fn: (c: ChildCluster, mnt: string) => Promise<void>, prefix = 'gts-voltype-'): Promise<void> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  const mnt = path.join(base, 'mnt')
  fs.mkdirSync(mnt)
  const c = await startChildCluster(path.join(base, 'cluster'), args)
  t.teardown(async () => {
    await umount(mnt).catch(() => {})
    await c.close()
    if (process.env.GTS_KEEP === undefined) fs.rmSync(base, { recursive: true, force: true })
  })
  await mount(c, mnt, path.join(base, 'fuse.log'))
  await fn(c, mnt)
}
