// Our server (packages/server) against real GlusterFS 10, both through the same REAL FUSE client,
// in one run (style.md §8; issue 6 acceptance: within 2× of real GlusterFS).
//
//   ours: `gluster-ts-cluster --replica 3 --brick-processes` from source in a child process
//         (glusterd + 3 brick processes, data under /tmp, on the same disk as the real bricks)
//   real: vol1 (replica 3) of the real cluster (test-cluster/real, GTS_REAL_ID), 3 glusterfsd in
//         network namespaces on this host
//
//   (a) sequential write: `dd if=/dev/zero bs=1M count=1024 conv=fsync` to a new file
//   (b) sequential read: `dd bs=1M of=/dev/null` of that file, cold: `sync; echo 3 >
//       /proc/sys/vm/drop_caches` first (drops the client's and the bricks' page caches; without
//       it the volume is remounted: client cold, bricks warm, and the report says so)
//   (c) 1000 × 4 KiB creates: fs.writeFile of new files, one after another, in one directory
//
// Each round runs ours and then real on each workload; figures are medians over rounds, and the
// ratio is ours / real (rates: > 1 = we are faster). RSS: VmRSS summed over our cluster process
// and its 3 brick processes (and over the real glusterd + 3 glusterfsd of vol1, for scale),
// sampled every 100 ms during our runs (peak) and after them.
//
//   pnpm bench:server                       # BENCH_SERVER_ROUNDS=3
//   GTS_REAL_ID=4 BENCH_SERVER_ROUNDS=1 pnpm bench:server
//   BENCH_SERVER_BASELINE=/tmp/gts-base pnpm bench:server   # and another commit's server, same rounds
//   BENCH_SERVER_MIB=256 …                 # a smaller sequential file (default 1024 MiB)
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, mkdirSync } from 'node:fs'
import { writeFile, rm, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { RealCluster } from '../test-cluster/real/index.js'
import { realClusterOrExit, run } from './lib/shell.js'
import { loadavg, printMachine, printTable, fmtNum, fmtRatio, median, type Row } from './lib/report.js'

/**
 * BENCH_SERVER_BASELINE=DIR: a source tree of another commit with its node_modules (e.g. `git
 * worktree add /tmp/gts-base 8e97236 && cd /tmp/gts-base && pnpm install --offline`), run the same
 * way beside ours in the same rounds: a regression check that does not depend on the box's load.
 */
const BASELINE = process.env.BENCH_SERVER_BASELINE
const ROUNDS = Math.max(1, Math.min(5, Number(process.env.BENCH_SERVER_ROUNDS ?? 3)))
/** BENCH_SERVER_MIB: the sequential file's size (default 1024 MiB) */
const BIG_MIB = Math.max(16, Number(process.env.BENCH_SERVER_MIB ?? 1024))
const SMALL_N = 1000
const SMALL = Buffer.alloc(4096, 0x61)
const MB = 1e6

const real: RealCluster = realClusterOrExit('server')

async function sh (cmd: string, args: string[], timeoutMs = 300_000): Promise<string> {
  const { stdout, stderr } = await run(cmd, args, timeoutMs)
  return stdout + stderr
}

function rssOf (pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m === null ? 0 : Number(m[1]) * 1024
  } catch { return 0 }
}

interface Target {
  name: 'ours' | 'baseline' | 'real'
  mnt: string
  /** remount, for when drop_caches is refused */
  remount: () => Promise<void>
}

// ---- our cluster(s), each a child process ----
const base = mkdtempSync(join(tmpdir(), 'gts-bench-server-'))

interface Ours {
  name: 'ours' | 'baseline'
  mnt: string
  proc: ChildProcess
  pids: () => number[]
  mount: () => Promise<void>
  stop: () => Promise<void>
}

/** `cli-main.ts` of the source tree `root` (its own node_modules) as `--replica 3 --brick-processes`, ready. */
async function startOurs (name: Ours['name'], root: string): Promise<Ours> {
  const home = join(base, name)
  const mnt = join(home, 'mnt')
  mkdirSync(mnt, { recursive: true })
  const proc = spawn(process.execPath, ['--import', 'tsx', '--conditions=gluster-ts-source', join(root, 'packages/server/src/cli-main.ts'),
    '--dir', join(home, 'cluster'), '--port', '0', '--replica', '3', '--volume', 'vol1', '--brick-processes'],
  { stdio: ['ignore', 'pipe', 'inherit'], cwd: root })
  let out = ''
  proc.stdout!.on('data', (d: Buffer) => { out += d.toString() })
  const stop = async (): Promise<void> => {
    await sh('umount', [mnt], 30_000).catch(() => sh('umount', ['-l', mnt], 30_000).catch(() => {}))
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise(resolve => proc.once('exit', resolve))
      proc.kill('SIGTERM')
      const timer = setTimeout(() => { proc.kill('SIGKILL') }, 15_000)
      await exited
      clearTimeout(timer)
    }
  }
  running.push(stop)
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`${name}: our cluster did not start: ${out}`)) }, 90_000)
    proc.stdout!.on('data', () => { if (/^ready$/m.test(out)) { clearTimeout(timer); resolve() } })
    proc.once('exit', code => { clearTimeout(timer); reject(new Error(`${name}: our cluster exited with ${code}: ${out}`)) })
  })
  const addr = /volfile-server (\S+)/.exec(out)![1]!
  const port = addr.slice(addr.lastIndexOf(':') + 1)
  const mount = async (): Promise<void> => {
    await sh('glusterfs', ['--volfile-server=127.0.0.1', `--volfile-server-port=${port}`, '--volfile-id=vol1', `--log-file=${join(home, 'fuse.log')}`, mnt], 30_000)
    for (let i = 0; i < 100 && !readFileSync('/proc/self/mounts', 'utf8').includes(` ${mnt} `); i++) await new Promise(resolve => setTimeout(resolve, 100))
    await sh('stat', [mnt], 30_000)
  }
  await mount()
  const pids = (): number[] => [proc.pid!, ...[...out.matchAll(/^brick \d+ \S+ port \d+ pid (\d+)$/gm)].map(m => Number(m[1]))]
  return { name, mnt, proc, pids, mount, stop }
}

const running: Array<() => Promise<void>> = []
const cleanup = async (): Promise<void> => {
  for (const stop of running) await stop()
  rmSync(base, { recursive: true, force: true })
}
process.once('SIGINT', () => { void cleanup().then(() => process.exit(130)) })

try {
  const ours = await startOurs('ours', resolve('.'))
  const baseline = BASELINE === undefined ? undefined : await startOurs('baseline', resolve(BASELINE))
  const realMnt = await real.mount('vol1')
  const realDir = `gts-bench-server-${process.pid}`
  const oursTarget = (o: Ours): Target => ({ name: o.name, mnt: o.mnt, remount: async () => { await sh('umount', [o.mnt]); await o.mount() } })
  const realTarget: Target = { name: 'real', mnt: join(realMnt, realDir), remount: async () => { await real.umount('vol1'); await real.mount('vol1') } }
  await mkdir(realTarget.mnt, { recursive: true })
  // with a baseline, ours and it swap places every round (the box's load drifts)
  const targetsOf = (round: number): Target[] => baseline === undefined
    ? [oursTarget(ours), realTarget]
    : round % 2 === 0 ? [oursTarget(ours), oursTarget(baseline), realTarget] : [oursTarget(baseline), oursTarget(ours), realTarget]

  let dropCaches = true
  const cold = async (t: Target): Promise<void> => {
    await sh('sync', [])
    if (dropCaches) {
      try { await writeFile('/proc/sys/vm/drop_caches', '3\n'); return } catch { dropCaches = false }
    }
    await t.remount()
  }

  const m = printMachine(`bench/server: FUSE on our server (gluster-ts) vs FUSE on real GlusterFS 10, vol1 replica 3, ${ROUNDS} round(s)`)
  const res: Record<string, Record<Target['name'], number[]>> = {
    write: { ours: [], baseline: [], real: [] }, read: { ours: [], baseline: [], real: [] }, creates: { ours: [], baseline: [], real: [] },
  }
  let peak = 0
  const probe = setInterval(() => { peak = Math.max(peak, ours.pids().reduce((s, p) => s + rssOf(p), 0)) }, 100)
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of targetsOf(round)) {
      const big = join(t.mnt, 'big.bin')
      await rm(big, { force: true })
      await cold(t)
      let t0 = performance.now()
      await sh('dd', ['if=/dev/zero', `of=${big}`, 'bs=1M', `count=${BIG_MIB}`, 'conv=fsync'], 900_000)
      res.write![t.name].push(BIG_MIB * 1048576 / MB / ((performance.now() - t0) / 1000))
      await cold(t)
      t0 = performance.now()
      await sh('dd', [`if=${big}`, 'of=/dev/null', 'bs=1M'], 900_000)
      res.read![t.name].push(BIG_MIB * 1048576 / MB / ((performance.now() - t0) / 1000))
      await rm(big, { force: true })
      const dir = join(t.mnt, `small-${round}`)
      await mkdir(dir)
      t0 = performance.now()
      for (let i = 0; i < SMALL_N; i++) await writeFile(join(dir, `f${i}`), SMALL)
      res.creates![t.name].push(SMALL_N / ((performance.now() - t0) / 1000))
      await rm(dir, { recursive: true, force: true })
      console.log(`round ${round + 1} ${t.name}: write ${fmtNum(res.write![t.name].at(-1)!)} MB/s, read ${fmtNum(res.read![t.name].at(-1)!)} MB/s, ${fmtNum(res.creates![t.name].at(-1)!)} creates/s (load ${loadavg()})`)
    }
  }
  clearInterval(probe)
  const after = ours.pids().reduce((s, p) => s + rssOf(p), 0)
  const realPids: number[] = []
  for (const file of [...real.nodes.map(n => n.glusterdPidFile), ...real.volume('vol1').bricks.map(b => b.pidFile)]) {
    try { realPids.push(Number(readFileSync(file, 'utf8').trim())) } catch {}
  }
  const realRss = realPids.reduce((s, p) => s + rssOf(p), 0)
  await rm(realTarget.mnt, { recursive: true, force: true })

  console.log('')
  const rows: Row[] = [
    [`sequential write ${BIG_MIB} MiB (dd conv=fsync), MB/s`, 'write'],
    [`sequential read ${BIG_MIB} MiB (dd, ${dropCaches ? 'caches dropped' : 'client remounted'}), MB/s`, 'read'],
    ['4 KiB creates (fs.writeFile × 1000), files/s', 'creates'],
  ].map(([label, k]) => {
    const o = median(res[k!]!.ours)
    const r = median(res[k!]!.real)
    const b = median(res[k!]!.baseline)
    return {
      workload: label!, 'real GlusterFS': fmtNum(r), ours: fmtNum(o), 'ours / real': fmtRatio(o / r), 'within 2×': o * 2 >= r ? 'yes' : 'NO',
      ...(baseline === undefined ? {} : { baseline: fmtNum(b), 'ours / baseline': fmtRatio(o / b), 'within 10%': o >= 0.9 * b ? 'yes' : 'NO' }),
    }
  })
  printTable(['workload', 'real GlusterFS', 'ours', 'ours / real', 'within 2×', ...(baseline === undefined ? [] : ['baseline', 'ours / baseline', 'within 10%'])], rows)
  console.log('')
  console.log(`our RSS (cluster process + 3 brick processes): peak ${(peak / 1048576).toFixed(0)} MiB, after ${(after / 1048576).toFixed(0)} MiB; ` +
    `real GlusterFS RSS (3 glusterd + 3 glusterfsd of vol1, incl. their other volumes): ${(realRss / 1048576).toFixed(0)} MiB`)
  console.log(`load average at the end ${loadavg()} (start ${m.load}); the machine is shared with other work: compare the ratios, not the absolute rates`)
} finally {
  await cleanup()
}
