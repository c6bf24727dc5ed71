// Writing to the REAL GlusterFS 10 cluster (test-cluster/real), replica 3 (vol1): our Volume
// against the FUSE client on the same volume, in one run (style.md §8).
//
//   (a) 1 GiB: Volume.createWriteStream fed 1 MiB chunks vs `dd if=/dev/zero bs=1M count=1024
//       conv=fsync` onto the FUSE mount. Both end with the data on the bricks' disks (ours: the
//       stream's 'finish' comes after FSYNC on every brick; dd: conv=fsync). MB/s, our peak RSS.
//       Ours twice: with the default WRITE size (512 KiB × 8 in flight) and with 1 MiB × 4 (the
//       old default, which costs a GlusterFS 10 brick far more CPU per byte).
//   (b) 1000 × 4 KiB files created one after another: Volume.writeFile vs fs.writeFile on the
//       FUSE mount (one process), files/s and ms/file; plus ours with 16 creates in flight.
//
// Rounds alternate ours/FUSE; the median is reported. Files live under /gts-bench-write/ and
// are removed at the end. The box is shared with other work: figures are noisy.
//
//   pnpm bench:write                       # ROUNDS=3
//   BENCH_WRITE_ROUNDS=1 pnpm bench:write
//   GTS_REAL_ID=3 pnpm bench:write         # another real cluster (test-cluster/real)
//   BENCH_WRITE_VOLUME=shard4m pnpm bench:write   # another volume of the cluster
//   BENCH_BASELINE=/tmp/base/packages pnpm bench:write
//       our rows also on another source tree (see read.bench.ts), same rounds, alternating order
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { writeFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Volume } from '@gluster-ts/volume'
import type { RealCluster } from '../test-cluster/real/index.js'
import { realClusterOrExit, run } from './lib/shell.js'
import { compileLibrary } from './lib/compile.js'
import { loadavg, printMachine, printTable, fmtNum, fmtRatio, median, type Row } from './lib/report.js'

const ROUNDS = Math.max(1, Math.min(5, Number(process.env.BENCH_WRITE_ROUNDS ?? 3)))
const BIG = 1 << 30
const SMALL_N = 1000
const SMALL_SIZE = 4096
const DIR = 'gts-bench-write'
const MB = 1e6
const VOLUME = process.env.BENCH_WRITE_VOLUME ?? 'vol1'
const BASELINE = process.env.BENCH_BASELINE

const cluster: RealCluster = realClusterOrExit('write')
const servers = cluster.nodes.map(n => n.ip)

function sh (cmd: string, args: string[], timeoutMs = 600_000): Promise<{ stdout: string, stderr: string }> {
  return run(cmd, args, timeoutMs)
}

function rssProbe (): { stop: () => number } {
  let peak = process.memoryUsage.rss()
  const t = setInterval(() => { const r = process.memoryUsage.rss(); if (r > peak) peak = r }, 20)
  return { stop: () => { clearInterval(t); return Math.max(peak, process.memoryUsage.rss()) } }
}

async function * chunks (): AsyncGenerator<Buffer> {
  const c = Buffer.alloc(1 << 20)
  for (let i = 0; i < BIG >> 20; i++) yield c
}

async function oursBig (vol: Volume, name: string): Promise<{ mbs: number, rss: number }> {
  const probe = rssProbe()
  const t0 = performance.now()
  const ws = vol.createWriteStream(`/${DIR}/${name}.bin`)
  await pipeline(Readable.from(chunks()), ws)
  const s = (performance.now() - t0) / 1000
  const rss = probe.stop()
  if (ws.bytesWritten !== BIG) throw new Error(`wrote ${ws.bytesWritten} bytes`)
  await vol.unlink(`/${DIR}/${name}.bin`)
  return { mbs: BIG / MB / s, rss }
}

async function fuseBig (mnt: string, round: number): Promise<number> {
  const f = join(mnt, DIR, `big-fuse-${round}.bin`)
  const t0 = performance.now()
  await sh('dd', ['if=/dev/zero', `of=${f}`, 'bs=1M', `count=${BIG >> 20}`, 'conv=fsync', 'status=none'])
  const s = (performance.now() - t0) / 1000
  await rm(f)
  return BIG / MB / s
}

async function oursSmall (vol: Volume, round: number, parallel: number): Promise<number> {
  const d = `/${DIR}/small-ours-${round}-${parallel}`
  await vol.mkdir(d)
  const data = Buffer.alloc(SMALL_SIZE, 7)
  let next = 0
  const t0 = performance.now()
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < SMALL_N) {
      const i = next++
      await vol.writeFile(`${d}/f${i}`, data)
    }
  }))
  const s = (performance.now() - t0) / 1000
  await vol.rm(d, { recursive: true })
  return SMALL_N / s
}

async function fuseSmall (mnt: string, round: number): Promise<number> {
  const d = join(mnt, DIR, `small-fuse-${round}`)
  await mkdir(d)
  const data = Buffer.alloc(SMALL_SIZE, 7)
  const t0 = performance.now()
  for (let i = 0; i < SMALL_N; i++) await writeFile(join(d, `f${i}`), data)
  const s = (performance.now() - t0) / 1000
  await rm(d, { recursive: true })
  return SMALL_N / s
}

const v = cluster.volume(VOLUME)
const m = printMachine(`bench/write: Volume writes vs the FUSE client, real GlusterFS 10, ${VOLUME} (${v.type} ${v.distribute > 1 ? `${v.distribute} x ` : ''}${v.disperse !== undefined ? `${v.disperse - (v.redundancy ?? 0)}+${v.redundancy ?? 0}` : v.replica})`)
const mnt = await cluster.mount(VOLUME)
const vol = await Volume.connect({ servers, volume: VOLUME })
const vol1m = await Volume.connect({ servers, volume: VOLUME, writeChunkBytes: 1 << 20, writeWindow: 4 })
const baseDir = BASELINE !== undefined ? compileLibrary(BASELINE) : undefined
const BaseVolume = baseDir !== undefined
  ? (await import(pathToFileURL(join(baseDir, 'volume', 'index.js')).href) as { Volume: typeof Volume }).Volume
  : undefined
const baseVol = BaseVolume !== undefined ? await BaseVolume.connect({ servers, volume: VOLUME }) : undefined
if (BASELINE !== undefined) console.log(`baseline tree ${BASELINE} (compiled from ${dirname(fileURLToPath(import.meta.url))}/lib/compile.ts)`)
await vol.rm(`/${DIR}`, { recursive: true, force: true })
await vol.mkdir(`/${DIR}`)

const big = { ours: [] as number[], rss: [] as number[], ours1m: [] as number[], fuse: [] as number[], base: [] as number[] }
const small = { ours: [] as number[], ours16: [] as number[], fuse: [] as number[], base: [] as number[] }
for (let r = 0; r < ROUNDS; r++) {
  // the order rotates per round, so that neither big write always follows the other
  const bigJobs = [
    async () => { const o = await oursBig(vol, `big-ours-${r}`); big.ours.push(o.mbs); big.rss.push(o.rss) },
    async () => { big.ours1m.push((await oursBig(vol1m, `big-ours1m-${r}`)).mbs) },
    async () => { big.fuse.push(await fuseBig(mnt, r)) },
    ...(baseVol !== undefined ? [async () => { big.base.push((await oursBig(baseVol, `big-base-${r}`)).mbs) }] : []),
  ]
  for (let k = 0; k < bigJobs.length; k++) await bigJobs[(k + r) % bigJobs.length]!()
  if (baseVol !== undefined && r % 2 === 1) small.base.push(await oursSmall(baseVol, r, 1))
  small.ours.push(await oursSmall(vol, r, 1))
  if (baseVol !== undefined && r % 2 === 0) small.base.push(await oursSmall(baseVol, r, 1))
  small.fuse.push(await fuseSmall(mnt, r))
  small.ours16.push(await oursSmall(vol, r, 16))
  const base = baseVol !== undefined ? `; baseline tree ${big.base[r]!.toFixed(0)} MB/s, ${small.base[r]!.toFixed(0)} creates/s` : ''
  console.log(`round ${r + 1}/${ROUNDS}: 1 GiB ours ${big.ours[r]!.toFixed(0)} MB/s (1 MiB × 4: ${big.ours1m[r]!.toFixed(0)}), FUSE ${big.fuse[r]!.toFixed(0)} MB/s; 4 KiB creates ours ${small.ours[r]!.toFixed(0)}/s, FUSE ${small.fuse[r]!.toFixed(0)}/s, ours ×16 ${small.ours16[r]!.toFixed(0)}/s${base} (load ${loadavg()})`)
}
await vol.rm(`/${DIR}`, { recursive: true, force: true })
await vol.close()
await vol1m.close()
await baseVol?.close()
if (baseDir !== undefined) await rm(baseDir, { recursive: true, force: true })

const rows: Row[] = [
  { name: '1 GiB, Volume.createWriteStream (512 KiB WRITEs × 8)', rate: `${fmtNum(median(big.ours))} MB/s`, extra: `peak RSS ${(median(big.rss) / 1048576).toFixed(0)} MiB`, ratio: fmtRatio(median(big.ours) / median(big.fuse)) },
  { name: '1 GiB, the same with 1 MiB WRITEs × 4', rate: `${fmtNum(median(big.ours1m))} MB/s`, extra: '', ratio: fmtRatio(median(big.ours1m) / median(big.fuse)) },
  { name: '1 GiB, dd bs=1M conv=fsync on FUSE', rate: `${fmtNum(median(big.fuse))} MB/s`, extra: '', ratio: fmtRatio(1) },
  { name: '1000 × 4 KiB, Volume.writeFile one by one', rate: `${fmtNum(median(small.ours))} files/s`, extra: `${(1000 / median(small.ours)).toFixed(2)} ms/file`, ratio: fmtRatio(median(small.ours) / median(small.fuse)) },
  { name: '1000 × 4 KiB, fs.writeFile on FUSE one by one', rate: `${fmtNum(median(small.fuse))} files/s`, extra: `${(1000 / median(small.fuse)).toFixed(2)} ms/file`, ratio: fmtRatio(1) },
  { name: '1000 × 4 KiB, Volume.writeFile 16 in flight', rate: `${fmtNum(median(small.ours16))} files/s`, extra: `${(1000 / median(small.ours16)).toFixed(2)} ms/file`, ratio: fmtRatio(median(small.ours16) / median(small.fuse)) },
  ...(baseVol !== undefined
    ? [
        { name: '1 GiB, createWriteStream, baseline tree', rate: `${fmtNum(median(big.base))} MB/s`, extra: `runs ${big.base.map(x => x.toFixed(0)).join(', ')}`, ratio: `this tree ${fmtRatio(median(big.ours) / median(big.base))}` },
        { name: '1000 × 4 KiB, writeFile one by one, baseline tree', rate: `${fmtNum(median(small.base))} files/s`, extra: `runs ${small.base.map(x => x.toFixed(0)).join(', ')}`, ratio: `this tree ${fmtRatio(median(small.ours) / median(small.base))}` },
      ]
    : []),
]
console.log()
printTable(['name', 'rate', 'extra', 'ratio'], rows)
console.log(`\nmedian of ${ROUNDS} rounds; ratio = ours / FUSE (FUSE rows are the baseline${baseVol !== undefined ? '; "this tree" = this tree / the baseline tree' : ''}); box shared with other work (load ${loadavg()})`)
if (process.env.BENCH_WRITE_OUT !== undefined) {
  writeFileSync(process.env.BENCH_WRITE_OUT, JSON.stringify({ machine: m, rounds: ROUNDS, volume: VOLUME, big, small }, null, 2))
}
