// The `gluster-ts` command (built: packages/cli/dist) against the FUSE client on the REAL cluster,
// same run, same volume (style.md §8):
//   (a) `gluster-ts cat URL > /dev/null` vs `dd if=MOUNT/file of=/dev/null bs=1M`, 1 GiB, cold
//       (drop_caches before each run: client and bricks cold);
//   (b) `gluster-ts cp -r DIR URL` vs `cp -r DIR MOUNT/…`, 2,000 small files (0-8 KiB, 20 dirs);
//   (c) the way back: `gluster-ts cp -r URL DIR` vs `cp -r MOUNT/… DIR`;
//   (d) `gluster-ts sync DIR URL` vs `rsync -a DIR/ MOUNT/…/` of the same 2,000 files after 1%
//       of them (20) changed: both destinations hold the previous state (untimed first sync);
//   (e) 100 `cat`s of small files: one `gluster-ts batch` (one process, one connection) vs 100
//       `gluster-ts cat` processes, one after the other (what a script calling it per file does).
// Whole commands are timed (process start included: that is what a user waits for).
//
//   pnpm build && pnpm bench:cli                 # BENCH_CLI_ROUNDS=2 (1-5)
//   BENCH_CLI_ONLY=sync pnpm bench:cli           # only (d); its rows replace the sync section of the results
//   BENCH_CLI_ONLY=batch pnpm bench:cli          # only (e); prints, writes no results file
import { execFile, spawn } from 'node:child_process'
import { existsSync, openSync, closeSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { loadRealCluster, type RealCluster } from '../test-cluster/real/index.js'
import { loadavg, machine, printMachine, printTable, fmtRatio, median, type Row } from './lib/report.js'

const ROUNDS = Math.max(1, Math.min(5, Number(process.env.BENCH_CLI_ROUNDS ?? 2)))
const ONLY = process.env.BENCH_CLI_ONLY
if (ONLY !== undefined && ONLY !== 'batch' && ONLY !== 'sync') {
  console.error(`bench/cli: BENCH_CLI_ONLY takes sync or batch, not '${ONLY}'`)
  process.exit(2)
}
const N_CATS = 100
const BIG = 1 << 30
const N_FILES = 2000
const DIR = 'gts-bench-cli'
const BIN = resolve('packages/cli/bin/gluster-ts.js')
const SYNC_START = '<!-- bench/cli sync rows -->'
const SYNC_END = '<!-- /bench/cli sync rows -->'

const loaded = loadRealCluster()
if ('skip' in loaded) {
  console.log(`bench/cli: skipped: ${loaded.skip}`)
  process.exit(0)
}
if (!existsSync(resolve('packages/cli/dist/main.js'))) {
  console.error('bench/cli: run `pnpm build` first (the bench runs the built command)')
  process.exit(1)
}
const cluster: RealCluster = loaded
const ips = cluster.nodes.map(n => n.ip)
const url = (p: string): string => `gluster://${ips.join(',')}/vol1/${p}`

function run (cmd: string, args: string[], o: { stdoutToNull?: boolean, timeoutMs?: number } = {}): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now()
    const fd = o.stdoutToNull === true ? openSync('/dev/null', 'w') : undefined
    const p = spawn(cmd, args, { stdio: ['ignore', fd ?? 'ignore', 'pipe'] })
    let err = ''
    p.stderr!.on('data', (d: Buffer) => { err += d.toString() })
    const timer = setTimeout(() => { p.kill('SIGKILL') }, o.timeoutMs ?? 900_000)
    p.on('close', code => {
      clearTimeout(timer)
      if (fd !== undefined) closeSync(fd)
      if (code === 0) resolvePromise((performance.now() - t0) / 1000)
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.slice(0, 500)}`))
    })
  })
}

const sh = (cmd: string, args: string[]): Promise<void> => new Promise((resolvePromise, reject) => {
  execFile(cmd, args, { timeout: 900_000 }, err => { if (err !== null) reject(err); else resolvePromise() })
})

let coldNote = 'drop_caches before each run (client and bricks cold)'
async function cold (): Promise<void> {
  try {
    await sh('sync', [])
    await writeFile('/proc/sys/vm/drop_caches', '3\n')
  } catch {
    coldNote = 'drop_caches refused: page caches warm'
  }
}

const m = printMachine('bench/cli: the gluster-ts command vs the FUSE client, real cluster vol1', machine())
const mnt = await cluster.mount('vol1')
await mkdir(join(mnt, DIR), { recursive: true })
const big = join(mnt, DIR, 'big')
if (ONLY === undefined && (!existsSync(big) || statSync(big).size !== BIG)) {
  console.log('writing the 1 GiB file through FUSE (once)…')
  await sh('dd', ['if=/dev/urandom', `of=${big}`, 'bs=1M', `count=${BIG >> 20}`, 'conv=fsync'])
}
const work = await mkdtemp(join(tmpdir(), 'gts-bench-cli-'))
const tree = join(work, 'tree')
let treeBytes = 0
for (let d = 0; d < (ONLY !== 'batch' ? 20 : 0); d++) {
  await mkdir(join(tree, `d${d}`), { recursive: true })
  for (let f = 0; f < N_FILES / 20; f++) {
    const size = (d * 7919 + f * 104729) % 8192
    treeBytes += size
    await writeFile(join(tree, `d${d}`, `f${f}`), randomBytes(size))
  }
}

// (e) the small files the cats read, written once through FUSE; the batch script names each
const cats = join(mnt, DIR, 'cats')
await mkdir(cats, { recursive: true })
let catBytes = 0
const catLines: string[] = []
for (let i = 0; i < N_CATS; i++) {
  const size = 100 + (i * 7919) % 4000
  catBytes += size
  const f = join(cats, `c${i}`)
  if (!existsSync(f) || statSync(f).size !== size) await writeFile(f, randomBytes(size))
  catLines.push(`cat ${url(`${DIR}/cats/c${i}`)}`)
}
const catScript = join(work, 'cats.gts')
await writeFile(catScript, catLines.join('\n') + '\n')
// what is timed must be right: the batch prints every file, whole
const printed = await new Promise<number>((resolvePromise, reject) => {
  execFile(process.execPath, [BIN, 'batch', catScript], { encoding: 'buffer', maxBuffer: 64 << 20, timeout: 300_000 }, (err, out) => { if (err !== null) reject(err); else resolvePromise(out.length) })
})
if (printed !== catBytes) throw new Error(`bench/cli: batch printed ${printed} bytes, the files hold ${catBytes}`)

const r: Record<string, number[]> = { dd: [], cat: [], cpFuse: [], cpOurs: [], backFuse: [], backOurs: [], rsync: [], syncOurs: [], catProcs: [], catBatch: [] }
for (let round = 0; round < ROUNDS && ONLY !== 'sync'; round++) {
  // (e) one batch vs N_CATS processes; alternate who goes first
  const batchOnce = async (): Promise<void> => { r.catBatch!.push(await run(process.execPath, [BIN, 'batch', catScript], { stdoutToNull: true })) }
  const procsOnce = async (): Promise<void> => {
    const t0 = performance.now()
    for (let i = 0; i < N_CATS; i++) await run(process.execPath, [BIN, 'cat', url(`${DIR}/cats/c${i}`)], { stdoutToNull: true })
    r.catProcs!.push((performance.now() - t0) / 1000)
  }
  if (round % 2 === 0) { await procsOnce(); await batchOnce() } else { await batchOnce(); await procsOnce() }
  if (ONLY === 'batch') { console.log(`round ${round + 1}/${ROUNDS} done (load ${loadavg()})`); continue }

  // (a) 1 GiB, cold each time; alternate who goes first
  const catOnce = async (): Promise<void> => { await cold(); r.cat!.push(await run(process.execPath, [BIN, 'cat', url(`${DIR}/big`)], { stdoutToNull: true })) }
  const ddOnce = async (): Promise<void> => { await cold(); r.dd!.push(await run('dd', [`if=${big}`, 'of=/dev/null', 'bs=1M'])) }
  if (round % 2 === 0) { await ddOnce(); await catOnce() } else { await catOnce(); await ddOnce() }
  // (b) upload 2,000 files; (c) download them
  const dst = (who: string): string => `${DIR}/tree-${who}-${round}`
  await rm(join(mnt, dst('fuse')), { recursive: true, force: true })
  await rm(join(mnt, dst('ours')), { recursive: true, force: true })
  const cpFuse = async (): Promise<void> => { r.cpFuse!.push(await run('cp', ['-r', tree, join(mnt, dst('fuse'))])) }
  const cpOurs = async (): Promise<void> => { r.cpOurs!.push(await run(process.execPath, [BIN, 'cp', '-r', tree, url(dst('ours'))])) }
  if (round % 2 === 0) { await cpFuse(); await cpOurs() } else { await cpOurs(); await cpFuse() }
  await cold()
  const backFuse = async (): Promise<void> => { r.backFuse!.push(await run('cp', ['-r', join(mnt, dst('fuse')), join(work, `back-fuse-${round}`)])) }
  const backOurs = async (): Promise<void> => { r.backOurs!.push(await run(process.execPath, [BIN, 'cp', '-r', url(dst('ours')), join(work, `back-ours-${round}`)])) }
  if (round % 2 === 0) { await backFuse(); await backOurs() } else { await backOurs(); await backFuse() }
  await rm(join(mnt, dst('fuse')), { recursive: true, force: true })
  await rm(join(mnt, dst('ours')), { recursive: true, force: true })
  console.log(`round ${round + 1}/${ROUNDS} done (load ${loadavg()})`)
}

// (d) sync after 1% changed: both destinations start from the tree (untimed), then each round
// changes 20 files (10 rewritten at the same size, 10 grown; all with a new mtime) and times both
if (ONLY !== 'batch') {
  const syncFuse = join(mnt, DIR, 'sync-rsync')
  await rm(syncFuse, { recursive: true, force: true })
  await run(process.execPath, [BIN, 'rm', '-rf', url(`${DIR}/sync-ours`)])
  await run('rsync', ['-a', `${tree}/`, `${syncFuse}/`])
  await run(process.execPath, [BIN, 'sync', tree, url(`${DIR}/sync-ours`)])
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < N_FILES / 100; i++) {
      const p = join(tree, `d${i}`, `f${(round * 17 + i * 3) % (N_FILES / 20)}`)
      const size = statSync(p).size
      await writeFile(p, randomBytes(i < 10 ? size : size + 100))
      await utimes(p, new Date(), new Date(Date.UTC(2026, 0, 1 + round, 0, i)))
    }
    const rsyncOnce = async (): Promise<void> => { r.rsync!.push(await run('rsync', ['-a', `${tree}/`, `${syncFuse}/`])) }
    const syncOnce = async (): Promise<void> => { r.syncOurs!.push(await run(process.execPath, [BIN, 'sync', tree, url(`${DIR}/sync-ours`)])) }
    if (round % 2 === 0) { await rsyncOnce(); await syncOnce() } else { await syncOnce(); await rsyncOnce() }
    console.log(`sync round ${round + 1}/${ROUNDS} done (load ${loadavg()})`)
  }
  // both did the whole job: nothing left to transfer, and the same bytes as the tree
  const left = await new Promise<string>((resolvePromise, reject) => {
    execFile(process.execPath, [BIN, 'sync', '--dry-run', '--json', tree, url(`${DIR}/sync-ours`)], (err, out) => { if (err !== null) reject(err); else resolvePromise(out) })
  })
  if (left.trim().split('\n').length !== 1) throw new Error(`bench/cli: sync left work undone: ${left.slice(0, 300)}`)
  await sh('diff', ['-r', tree, syncFuse])
  await rm(syncFuse, { recursive: true, force: true })
  await run(process.execPath, [BIN, 'rm', '-rf', url(`${DIR}/sync-ours`)])
}
await rm(work, { recursive: true, force: true })

const fmtS = (xs: number[]): string => xs.map(x => x.toFixed(2)).join(', ')
const rows: Row[] = []
const pair = (name: string, peer: string, peerXs: number[], ours: string, oursXs: number[], unit: (s: number) => string): void => {
  const p = median(peerXs)
  const o = median(oursXs)
  rows.push({ name: `${name}: ${peer} (baseline)`, time: `${p.toFixed(2)} s`, rate: unit(p), runs: fmtS(peerXs), '× vs baseline': '1.00×' })
  rows.push({ name: `${name}: ${ours}`, time: `${o.toFixed(2)} s`, rate: unit(o), runs: fmtS(oursXs), '× vs baseline': fmtRatio(p / o) })
}
if (ONLY === undefined) {
  pair('1 GiB cold', 'dd bs=1M from FUSE', r.dd!, 'gluster-ts cat > /dev/null', r.cat!, s => `${(BIG / 1e6 / s).toFixed(0)} MB/s`)
  pair(`${N_FILES} files up`, 'cp -r onto FUSE', r.cpFuse!, 'gluster-ts cp -r', r.cpOurs!, s => `${(N_FILES / s).toFixed(0)} files/s`)
  pair(`${N_FILES} files down`, 'cp -r from FUSE', r.backFuse!, 'gluster-ts cp -r', r.backOurs!, s => `${(N_FILES / s).toFixed(0)} files/s`)
}
if (ONLY !== 'batch') pair(`sync ${N_FILES} files, 1% changed`, 'rsync -a onto FUSE', r.rsync!, 'gluster-ts sync', r.syncOurs!, s => `${(N_FILES / s).toFixed(0)} files/s checked`)
if (ONLY !== 'sync') pair(`${N_CATS} cats of small files`, `${N_CATS} gluster-ts cat processes`, r.catProcs!, 'one gluster-ts batch of them', r.catBatch!, s => `${(N_CATS / s).toFixed(1)} files/s`)
const columns = ['name', 'time', 'rate', 'runs', '× vs baseline']
printTable(columns, rows)
console.log(`\n${coldNote}; medians of ${ROUNDS} rounds; tree: ${N_FILES} files, ${(treeBytes / 1e6).toFixed(1)} MB in 20 directories; cats: ${N_CATS} files, ${(catBytes / 1e3).toFixed(0)} kB, page caches warm.`)
console.log(`× = baseline time / our time (above 1: we are faster). Load average at the end: ${loadavg()}.`)

const widths = columns.map(c => Math.max(c.length, ...rows.map(x => (x[c] ?? '').length)))
const md = [
  '# bench/cli: the gluster-ts command vs the FUSE client on the real cluster',
  '',
  `\`pnpm build && pnpm bench:cli\`, ${m.date}, commit ${m.commit}.`,
  `node ${m.node} | ${m.cpu} | ${m.cores} cores | ${m.os} | load average ${m.load} at start, ${loadavg()} at the end`,
  '',
  'Everything (3 glusterd, the bricks, the FUSE client, this machine\'s other work) shares the same box:',
  'compare the ratios of rows from the same run, not absolute figures. Whole commands are timed,',
  `process start included. ${coldNote}; medians of ${ROUNDS} rounds.`,
  `${N_CATS} cats: ${N_CATS} small files (${(catBytes / 1e3).toFixed(0)} kB in all), not dropped from caches; the processes run one after the other.`,
  '',
  '| ' + columns.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |',
  '|' + widths.map(w => '-'.repeat(w + 2)).join('|') + '|',
  ...rows.map(x => '| ' + columns.map((c, i) => (x[c] ?? '').padEnd(widths[i]!)).join(' | ') + ' |'),
  '',
]
if (process.env.BENCH_CLI_WRITE !== '0' && ONLY !== 'batch') {
  const file = resolve('bench/results/cli.md')
  if (ONLY === 'sync') {
    // only the sync rows were measured: they replace the sync section, the rest of the file stays
    const section = [SYNC_START, `## sync, 1% changed (\`BENCH_CLI_ONLY=sync pnpm bench:cli\`, ${m.date}, commit ${m.commit})`, '',
      `node ${m.node} | ${m.cpu} | ${m.cores} cores | load average ${m.load} at start, ${loadavg()} at the end; medians of ${ROUNDS} rounds.`, '', ...md.slice(10, -1), SYNC_END].join('\n')
    const old = existsSync(file) ? readFileSync(file, 'utf8') : md.slice(0, 10).join('\n')
    const at = old.indexOf(SYNC_START)
    const end = old.indexOf(SYNC_END)
    writeFileSync(file, at >= 0 && end > at ? old.slice(0, at) + section + old.slice(end + SYNC_END.length) : `${old.trimEnd()}\n\n${section}\n`)
  } else {
    writeFileSync(file, md.join('\n'))
  }
}
