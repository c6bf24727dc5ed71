// Reading from the REAL GlusterFS 10 cluster (test-cluster/real): our Volume against the FUSE
// client on the same volume, in one run (style.md §8; anchors: perf-anchors.md §2).
//
//   (a) 1 GiB file: Volume.createReadStream piped into a null sink, and Volume.pipeTo (READs into
//       a ring of reused buffers) into the same sink, vs `dd bs=1M` from the FUSE
//       mount, every run cold: `sync; echo 3 > /proc/sys/vm/drop_caches` before each run drops the
//       FUSE client's page cache AND the bricks' (perf-anchors §2 "everything cold"). Where
//       drop_caches is not writable, the FUSE volume is remounted instead (client cold, bricks warm)
//       and the report says so. Each of our streams runs in a fresh child process, plain `node` on
//       the packages' sources compiled to JS (typescript's transpileModule, into a temp dir): the
//       RSS is that of a process that only uses the library, as dd's is dd's, without this
//       script's tsx loader (~30 MiB) and cluster tooling. Its peak RSS is sampled every 20 ms.
//   (b) 1000 × 4 KiB files read one after another: Volume.readFile vs fs.readFile on the FUSE
//       mount (fresh mount, one process), ms/file.
//
// Data is written once through the FUSE mount under /gts-bench-read/ and kept for later runs
// (BENCH_READ_CLEANUP=1 removes it at the end). Bounded: ROUNDS rounds of each, fixed file counts.
//
//   pnpm bench:read                        # ROUNDS=3
//   BENCH_READ_ROUNDS=1 BENCH_READ_SWEEP=0 pnpm bench:read
//   BENCH_READ_VOLUME=shard4m pnpm bench:read   # another volume of the cluster (results/read-shard4m.md)
//   BENCH_READ_TLS=1 pnpm bench:read             # the TLS volume voltls (cluster.sh tls-up first; results/read-voltls.md)
//   BENCH_BASELINE=/tmp/base/packages pnpm bench:read
//       also runs our rows on another source tree (`git archive <commit> packages/rpc/src
//       packages/volume/src | tar -x -C /tmp/base`), interleaved in the same rounds, and prints
//       the ratio of the two, in speed and in the client's CPU for the same GiB: a regression
//       check (on a loaded box, speed swings by 2x between adjacent runs; CPU per GiB far less)
import { existsSync, statSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile, open } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { join, dirname } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { writeFileSync } from 'node:fs'
import { Volume } from '@gluster-ts/volume'
import type { RealCluster } from '../test-cluster/real/index.js'
import { realClusterOrExit, run } from './lib/shell.js'
import { compileLibrary } from './lib/compile.js'
import { loadavg, printMachine, printTable, fmtNum, fmtRatio, median, type Row } from './lib/report.js'

const ROUNDS = Math.max(1, Math.min(5, Number(process.env.BENCH_READ_ROUNDS ?? 3)))
/** BENCH_READ_TLS=1: the TLS volume (`cluster.sh tls-up` first), our client with the cluster's client certificate */
const TLS = process.env.BENCH_READ_TLS === '1'
const SWEEP = process.env.BENCH_READ_SWEEP !== undefined ? process.env.BENCH_READ_SWEEP !== '0' : !TLS
const BASELINE = process.env.BENCH_BASELINE
const BIG = 1 << 30
const SMALL_N = 1000
const SMALL_SIZE = 4096
const DIR = 'gts-bench-read'
const MB = 1e6

const cluster: RealCluster = realClusterOrExit('read')
const servers = cluster.nodes.map(n => n.ip)
const tlsInfo = cluster.info.tls
if (TLS && (tlsInfo === undefined || tlsInfo === null)) {
  console.error('bench/read: BENCH_READ_TLS=1 needs the TLS volume: test-cluster/real/cluster.sh tls-up')
  process.exit(1)
}
const VOLUME = process.env.BENCH_READ_VOLUME ?? (TLS ? tlsInfo!.volume : 'vol1')
/** how our client connects to VOLUME */
const volOpts = TLS ? { tls: { dir: `${tlsInfo!.dir}/client`, management: tlsInfo!.mgmt } } : {}
const RESULTS = process.env.BENCH_READ_RESULTS ?? `read${VOLUME === 'vol1' ? '' : `-${VOLUME}`}${BASELINE !== undefined ? '-ab' : ''}.md`

function sh (cmd: string, args: string[], timeoutMs = 120_000): Promise<{ stdout: string, stderr: string }> {
  return run(cmd, args, timeoutMs)
}

/** true: page caches dropped (client and bricks); false: drop_caches refused, FUSE remounted instead */
let dropCachesWorks = true
async function cold (vol: string): Promise<void> {
  if (dropCachesWorks) {
    try {
      await sh('sync', [])
      await writeFile('/proc/sys/vm/drop_caches', '3\n')
      return
    } catch {
      dropCachesWorks = false
    }
  }
  await cluster.umount(vol)
  await cluster.mount(vol)
}

async function ensureData (mnt: string): Promise<void> {
  const dir = join(mnt, DIR)
  await mkdir(join(dir, 'small'), { recursive: true })
  const big = join(dir, '1g.bin')
  if (!existsSync(big) || statSync(big).size !== BIG) {
    console.log(`writing ${big} (1 GiB) through FUSE…`)
    await sh('dd', ['if=/dev/urandom', `of=${big}`, 'bs=1M', `count=${BIG >> 20}`, 'conv=fsync'], 600_000)
  }
  let missing = 0
  for (let i = 0; i < SMALL_N; i++) {
    const f = join(dir, 'small', `f${String(i).padStart(4, '0')}`)
    if (!existsSync(f) || statSync(f).size !== SMALL_SIZE) { await writeFile(f, randomBytes(SMALL_SIZE)); missing++ }
  }
  if (missing > 0) console.log(`wrote ${missing} × 4 KiB files through FUSE`)
}

// ---- our streams, each in a child process running plain node on compiled JS ----

const repo = join(dirname(fileURLToPath(import.meta.url)), '..')
let jsDir: string | undefined
/** BENCH_BASELINE's packages compiled (the same rows run on both trees, in the same rounds) */
let baseDir: string | undefined

/** The child: connect, stream the file into a null sink, print { mbs, startMiB, peakMiB, bytes, cpuMs } (cpuMs: this process's user + system CPU during the copy). */
const STREAM_CHILD = `
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Volume } from './volume/index.js'
const { servers, volume, path, opts, mode } = JSON.parse(process.argv[2])
class NullSink extends Writable {
  bytes = 0
  _write (chunk, _enc, cb) { this.bytes += chunk.length; cb() }
  _writev (chunks, cb) { for (const c of chunks) this.bytes += c.chunk.length; cb() }
}
const vol = await Volume.connect({ servers, volume, ...opts })
const start = process.memoryUsage.rss()
let peak = start
const timer = setInterval(() => { const r = process.memoryUsage.rss(); if (r > peak) peak = r }, 20)
const sink = new NullSink()
const c0 = process.cpuUsage()
const t0 = performance.now()
if (mode === 'pipe') await vol.pipeTo(path, sink)
else await pipeline(vol.createReadStream(path), sink)
const s = (performance.now() - t0) / 1000
const cpu = process.cpuUsage(c0)
clearInterval(timer)
peak = Math.max(peak, process.memoryUsage.rss())
await vol.close()
process.stdout.write(JSON.stringify({ mbs: sink.bytes / 1e6 / s, startMiB: start / 1048576, peakMiB: peak / 1048576, bytes: sink.bytes, cpuMs: (cpu.user + cpu.system) / 1000 }) + '\\n')
`

async function ddFuse (file: string): Promise<number> {
  const t0 = performance.now()
  await sh('dd', [`if=${file}`, 'of=/dev/null', 'bs=1M'], 300_000)
  return BIG / MB / ((performance.now() - t0) / 1000)
}

async function oursStream (opts: { readChunkBytes?: number, readWindow?: number } = {}, mode: 'stream' | 'pipe' = 'stream', baseline = false): Promise<{ mbs: number, startMiB: number, peakMiB: number, cpuMs: number }> {
  jsDir ??= compileLibrary(join(repo, 'packages'), { 'stream.js': STREAM_CHILD })
  if (baseline) baseDir ??= compileLibrary(BASELINE!, { 'stream.js': STREAM_CHILD })
  const arg = JSON.stringify({ servers, volume: VOLUME, path: `/${DIR}/1g.bin`, opts: { ...volOpts, ...opts }, mode })
  const { stdout } = await sh(process.execPath, [join(baseline ? baseDir! : jsDir, 'stream.js'), arg], 600_000)
  const r = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { mbs: number, startMiB: number, peakMiB: number, bytes: number, cpuMs: number }
  if (r.bytes !== BIG) throw new Error(`stream gave ${r.bytes} bytes, want ${BIG}`)
  return r
}

const names = Array.from({ length: SMALL_N }, (_, i) => `f${String(i).padStart(4, '0')}`)

async function oursSmall (V: typeof Volume = Volume): Promise<number> {
  const vol = await V.connect({ servers, volume: VOLUME, ...volOpts })
  try {
    const t0 = performance.now()
    let bytes = 0
    for (const n of names) bytes += (await vol.readFile(`/${DIR}/small/${n}`)).length
    const ms = (performance.now() - t0) / SMALL_N
    if (bytes !== SMALL_N * SMALL_SIZE) throw new Error(`read ${bytes} bytes of small files`)
    return ms
  } finally {
    await vol.close()
  }
}

async function fuseSmall (mnt: string): Promise<number> {
  await cluster.umount(VOLUME)
  mnt = await cluster.mount(VOLUME)
  const t0 = performance.now()
  let bytes = 0
  for (const n of names) bytes += (await readFile(join(mnt, DIR, 'small', n))).length
  const ms = (performance.now() - t0) / SMALL_N
  if (bytes !== SMALL_N * SMALL_SIZE) throw new Error(`read ${bytes} bytes of small files through FUSE`)
  return ms
}

async function main (): Promise<void> {
  const v = cluster.volume(VOLUME)
  const what = `${VOLUME} (${v.type} ${v.distribute > 1 ? `${v.distribute} x ` : ''}${v.disperse !== undefined ? `${v.disperse - (v.redundancy ?? 0)}+${v.redundancy ?? 0}` : v.replica}${VOLUME.startsWith('shard') || VOLUME === 'virt' ? ', sharded' : ''})`
  const m = printMachine(`bench/read: Volume (gluster-ts) vs the FUSE client, real GlusterFS 10, ${what}`)
  const gv = (await sh('glusterfs', ['--version'])).stdout.split('\n')[0] ?? ''
  console.log(`${gv} | rounds ${ROUNDS}${BASELINE !== undefined ? ` | baseline tree ${BASELINE}` : ''}`)
  const BaseVolume = BASELINE !== undefined
    ? (await import(pathToFileURL(join(baseDir ??= compileLibrary(BASELINE, { 'stream.js': STREAM_CHILD }), 'volume', 'index.js')).href) as { Volume: typeof Volume }).Volume
    : undefined
  let mnt = await cluster.mount(VOLUME)
  await ensureData(mnt)
  const big = join(mnt, DIR, '1g.bin')
  // a quick sanity read of the same bytes through both paths
  {
    const fh = await open(big, 'r')
    const want = Buffer.alloc(65536)
    await fh.read(want, 0, want.length, 123_456_789)
    await fh.close()
    const vol = await Volume.connect({ servers, volume: VOLUME, ...volOpts })
    const parts: Buffer[] = []
    for await (const c of vol.createReadStream(`/${DIR}/1g.bin`, { start: 123_456_789, end: 123_456_789 + 65535 })) parts.push(c as Buffer)
    await vol.close()
    if (!Buffer.concat(parts).equals(want)) throw new Error('our bytes differ from the FUSE mount\'s')
  }

  // (a) 1 GiB; with BENCH_BASELINE the baseline tree's stream and pipeTo run in the same rounds
  type Run = { mbs: number, startMiB: number, peakMiB: number, cpuMs: number }
  const dd: number[] = []
  const ours: Run[] = []
  const piped: Run[] = []
  const baseOurs: Run[] = []
  const basePiped: Run[] = []
  for (let r = 0; r < ROUNDS; r++) {
    await cold(VOLUME)
    dd.push(await ddFuse(big))
    // with a baseline, the two trees alternate which goes first
    const trees = BASELINE === undefined ? [false] : r % 2 === 0 ? [false, true] : [true, false]
    for (const b of trees) {
      await cold(VOLUME)
      ;(b ? baseOurs : ours).push(await oursStream({}, 'stream', b)) // the defaults: 1 MiB READs, 4 in flight
      await cold(VOLUME)
      ;(b ? basePiped : piped).push(await oursStream({}, 'pipe', b))
    }
    const o = ours.at(-1)!
    const p = piped.at(-1)!
    const base = BASELINE !== undefined ? `; baseline tree: createReadStream ${fmtNum(baseOurs.at(-1)!.mbs)}, pipeTo ${fmtNum(basePiped.at(-1)!.mbs)} MB/s` : ''
    console.log(`round ${r + 1}: dd FUSE ${fmtNum(dd.at(-1)!)} MB/s, createReadStream ${fmtNum(o.mbs)} MB/s (RSS ${o.startMiB.toFixed(0)} → peak ${o.peakMiB.toFixed(0)} MiB), pipeTo ${fmtNum(p.mbs)} MB/s (RSS ${p.startMiB.toFixed(0)} → peak ${p.peakMiB.toFixed(0)} MiB)${base} (load ${loadavg()})`)
  }
  mnt = cluster.info.mounts[VOLUME] ?? mnt
  const sweep: Array<{ chunk: number, window: number, mbs: number, runs: number[], peakMiB: number }> = []
  if (SWEEP) {
    for (const [chunk, window] of [[131072, 4], [131072, 8], [262144, 8], [524288, 4]] as const) {
      const xs: number[] = []
      let peak = 0
      for (let r = 0; r < Math.min(ROUNDS, 2); r++) {
        await cold(VOLUME)
        const o = await oursStream({ readChunkBytes: chunk, readWindow: window })
        xs.push(o.mbs)
        peak = Math.max(peak, o.peakMiB)
      }
      sweep.push({ chunk, window, mbs: median(xs), runs: xs, peakMiB: peak })
      console.log(`sweep ${chunk / 1024} KiB × ${window}: ${xs.map(fmtNum).join(', ')} MB/s`)
    }
  }

  // (b) 1000 × 4 KiB
  const smallOurs: number[] = []
  const smallFuse: number[] = []
  const smallBase: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    smallFuse.push(await fuseSmall(mnt))
    if (BaseVolume !== undefined && r % 2 === 1) smallBase.push(await oursSmall(BaseVolume))
    smallOurs.push(await oursSmall())
    if (BaseVolume !== undefined && r % 2 === 0) smallBase.push(await oursSmall(BaseVolume))
    console.log(`round ${r + 1}: 1000 × 4 KiB: FUSE ${smallFuse.at(-1)!.toFixed(3)} ms/file, ours ${smallOurs.at(-1)!.toFixed(3)} ms/file${BaseVolume !== undefined ? `, baseline tree ${smallBase.at(-1)!.toFixed(3)} ms/file` : ''}`)
  }

  const ddM = median(dd)
  const oursM = median(ours.map(o => o.mbs))
  const peak = Math.max(...ours.map(o => o.peakMiB))
  const pipedM = median(piped.map(o => o.mbs))
  const pipedPeak = Math.max(...piped.map(o => o.peakMiB))
  const startRss = Math.min(...ours.map(o => o.startMiB))
  const sF = median(smallFuse)
  const sO = median(smallOurs)
  const coldHow = dropCachesWorks ? 'drop_caches before each run (client and bricks cold)' : 'FUSE remounted before each run (client cold, bricks warm: drop_caches refused)'
  const rows: Row[] = [
    { name: '1 GiB: dd bs=1M, FUSE mount (baseline)', result: `${fmtNum(ddM)} MB/s`, runs: dd.map(fmtNum).join(', '), '× vs baseline': fmtRatio(1), 'peak RSS': '' },
    { name: '1 GiB: Volume.createReadStream (defaults: 1 MiB × 4)', result: `${fmtNum(oursM)} MB/s`, runs: ours.map(o => fmtNum(o.mbs)).join(', '), '× vs baseline': fmtRatio(oursM / ddM), 'peak RSS': `${peak.toFixed(0)} MiB` },
    { name: '1 GiB: Volume.pipeTo (ring of reused buffers, 1 MiB × 4)', result: `${fmtNum(pipedM)} MB/s`, runs: piped.map(o => fmtNum(o.mbs)).join(', '), '× vs baseline': fmtRatio(pipedM / ddM), 'peak RSS': `${pipedPeak.toFixed(0)} MiB` },
    ...sweep.map(s => ({ name: `1 GiB: Volume.createReadStream ${s.chunk / 1024} KiB × ${s.window}`, result: `${fmtNum(s.mbs)} MB/s`, runs: s.runs.map(fmtNum).join(', '), '× vs baseline': fmtRatio(s.mbs / ddM), 'peak RSS': `${s.peakMiB.toFixed(0)} MiB` })),
    { name: '1000 × 4 KiB: fs.readFile on FUSE, fresh mount (baseline)', result: `${sF.toFixed(3)} ms/file`, runs: smallFuse.map(x => x.toFixed(3)).join(', '), '× vs baseline': fmtRatio(1), 'peak RSS': '' },
    { name: '1000 × 4 KiB: Volume.readFile, fresh Volume', result: `${sO.toFixed(3)} ms/file`, runs: smallOurs.map(x => x.toFixed(3)).join(', '), '× vs baseline': fmtRatio(sF / sO), 'peak RSS': '' },
  ]
  if (BASELINE !== undefined) {
    // this tree against the baseline tree: × = this one's speed over the baseline's
    const bO = median(baseOurs.map(o => o.mbs))
    const bP = median(basePiped.map(o => o.mbs))
    const bS = median(smallBase)
    rows.push(
      { name: '1 GiB: createReadStream, baseline tree', result: `${fmtNum(bO)} MB/s`, runs: baseOurs.map(o => fmtNum(o.mbs)).join(', '), '× vs baseline': `this tree ${fmtRatio(oursM / bO)}`, 'peak RSS': `${Math.max(...baseOurs.map(o => o.peakMiB)).toFixed(0)} MiB` },
      { name: '1 GiB: pipeTo, baseline tree', result: `${fmtNum(bP)} MB/s`, runs: basePiped.map(o => fmtNum(o.mbs)).join(', '), '× vs baseline': `this tree ${fmtRatio(pipedM / bP)}`, 'peak RSS': `${Math.max(...basePiped.map(o => o.peakMiB)).toFixed(0)} MiB` },
      // CPU for the same GiB moves far less with the box's load than MB/s does: the steadier check
      ...([['createReadStream', ours, baseOurs], ['pipeTo', piped, basePiped]] as const).map(([what, t, b]) => ({
        name: `1 GiB: ${what}, client CPU, this tree vs baseline tree`,
        result: `${median(t.map(o => o.cpuMs)).toFixed(0)} vs ${median(b.map(o => o.cpuMs)).toFixed(0)} ms`,
        runs: `${t.map(o => o.cpuMs.toFixed(0)).join(', ')} vs ${b.map(o => o.cpuMs.toFixed(0)).join(', ')}`,
        '× vs baseline': `this tree ${fmtRatio(median(b.map(o => o.cpuMs)) / median(t.map(o => o.cpuMs)))}`,
        'peak RSS': '',
      })),
      { name: '1000 × 4 KiB: Volume.readFile, baseline tree', result: `${bS.toFixed(3)} ms/file`, runs: smallBase.map(x => x.toFixed(3)).join(', '), '× vs baseline': `this tree ${fmtRatio(bS / sO)}`, 'peak RSS': '' },
    )
  }
  console.log('')
  console.log(`cold cache: ${coldHow}. Medians of ${ROUNDS} rounds; × = ours / FUSE in speed (higher is better). Our child process's RSS once connected: ${startRss.toFixed(0)} MiB`)
  const cols = ['name', 'result', 'runs', '× vs baseline', 'peak RSS']
  printTable(cols, rows)

  if (process.env.BENCH_READ_WRITE !== '0') {
    const lines: string[] = []
    const log = console.log
    console.log = (...a: unknown[]) => { lines.push(a.join(' ')) }
    printTable(cols, rows)
    console.log = log
    const md = [
      `# bench/read: Volume vs the FUSE client on the real cluster, ${what}`,
      '',
      `\`${VOLUME !== 'vol1' ? `BENCH_READ_VOLUME=${VOLUME} ` : ''}${BASELINE !== undefined ? 'BENCH_BASELINE=… ' : ''}pnpm bench:read\`, ${m.date}, commit ${m.commit}.`,
      `node ${m.node} | ${m.cpu} | ${m.cores} cores | ${m.os} | load average ${m.load} at start | ${gv}`,
      '',
      'Everything (3 glusterd, 9 bricks, the FUSE client and this process) shares the same machine, so',
      'compare ratios, not absolute figures (perf-anchors.md §1).',
      `Cold cache: ${coldHow}. Medians of ${ROUNDS} rounds; the sweep rows are medians of ${Math.min(ROUNDS, 2)}.`,
      '`×` is ours / FUSE in speed: above 1 means we are faster. Each of our streams runs in a fresh',
      'child process: plain `node` on the library compiled to JS, which connects, streams the file into a',
      'null sink and exits. Peak RSS is that process\'s, sampled every 20 ms during the stream',
      `(${startRss.toFixed(0)} MiB once connected, before the stream).`,
      '',
      ...lines,
      '',
      `Load average at the end: ${loadavg()}.`,
      '',
    ].join('\n')
    writeFileSync(new URL(`./results/${RESULTS}`, import.meta.url), md)
    console.log(`\nwrote bench/results/${RESULTS}`)
  }
  if (jsDir !== undefined) await rm(jsDir, { recursive: true, force: true })
  if (baseDir !== undefined) await rm(baseDir, { recursive: true, force: true })
  if (process.env.BENCH_READ_CLEANUP === '1') await rm(join(mnt, DIR), { recursive: true, force: true })
}

await main()
