// The HTTP gateway against its peers on the REAL GlusterFS 10 cluster (test-cluster/real), same
// run, same files (style.md §8; anchors: perf-anchors.md §3):
//   ours      @gluster-ts/http (startGatewayServer) in its own process, plain node on the built
//             packages (run `pnpm build` first), 1 process and 2 workers
//   uwsgi     Debian uwsgi + uwsgi-plugin-glusterfs (libgfapi), --http11-socket (keep-alive), 1 worker × 8 threads
//   nginx     nginx-light, 2 workers, sendfile, serving the FUSE mount of the same volume
// Load: wrk. 4 KiB file: req/s and p99 with 16 connections. 100 MiB file: MB/s with 1 and 16
// connections (warm: the bricks' page cache is warm, nginx also has the FUSE client's), and one
// cold GET (curl) after drop_caches. RSS of our gateway while 50 clients download a 1 GiB file.
// Every load loop is bounded (wrk -d, counts); only the PIDs started here are killed.
//
//   GTS_REAL_ID=K pnpm bench:http        (needs root, wrk, uwsgi, uwsgi-plugin-glusterfs, nginx-light)
//   BENCH_HTTP_SECONDS=10 BENCH_HTTP_ROUNDS=1
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { mkdir, writeFile, stat } from 'node:fs/promises'
import { createCipheriv, createHash, randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import net from 'node:net'
import type { RealCluster } from '../test-cluster/real/index.js'
import { WORKER_SEMI_SPACE_MIB } from '@gluster-ts/http'
import { realClusterOrExit, run } from './lib/shell.js'
import { printMachine, printTable, fmtNum, fmtRatio, median, type Row } from './lib/report.js'

const SECONDS = Math.max(3, Math.min(30, Number(process.env.BENCH_HTTP_SECONDS ?? 10)))
const ROUNDS = Math.max(1, Math.min(5, Number(process.env.BENCH_HTTP_ROUNDS ?? 1)))
const DIR = 'gts-bench-http'
const MB = 1e6

/** The gateway child: plain node on the built packages (bench/lib/gateway-child.mjs). */
const CHILD = fileURLToPath(new URL('./lib/gateway-child.mjs', import.meta.url))

const cluster: RealCluster = realClusterOrExit('http')
const servers = cluster.nodes.map(n => n.ip)
const started: ChildProcess[] = []
const work = `/tmp/gts-bench-http-${process.env.GTS_REAL_ID ?? '0'}`

async function sh (cmd: string, args: string[], timeoutMs = 120_000): Promise<string> {
  const { stdout, stderr } = await run(cmd, args, timeoutMs)
  return stdout + stderr
}

async function freePort (): Promise<number> {
  const s = net.createServer()
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
  const p = (s.address() as net.AddressInfo).port
  await new Promise<void>(resolve => s.close(() => resolve()))
  return p
}

async function waitHttp (url: string, tries = 300): Promise<void> {
  for (let i = 0; i < tries; i++) {
    try {
      const r = await fetch(url)
      await r.body?.cancel()
      if (r.status < 500) return
    } catch { /* not yet */ }
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  throw new Error(`${url} did not answer`)
}

function rssOf (pids: number[]): number {
  let kb = 0
  for (const p of pids) {
    try { kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0) } catch { /* gone */ }
  }
  return kb * 1024
}

function childPids (pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(s => s !== '').map(Number)
  } catch { return [] }
}

interface Wrk { rps: number, bytesPerSec: number, p50Ms: number, p99Ms: number, requests: number, errors: string }

function ms (v: string | undefined): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(v ?? '')
  if (m === null) return NaN
  const n = Number(m[1])
  return m[2] === 'us' ? n / 1000 : m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000
}

function bytes (v: string | undefined): number {
  const m = /^([\d.]+)(B|KB|MB|GB)$/.exec(v ?? '')
  if (m === null) return NaN
  return Number(m[1]) * ({ B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 } as Record<string, number>)[m[2]!]!
}

async function wrk (url: string, threads: number, conns: number, seconds = SECONDS): Promise<Wrk> {
  const out = await sh('wrk', [`-t${threads}`, `-c${conns}`, `-d${seconds}s`, '--timeout', '60s', '--latency', url], (seconds + 90) * 1000)
  const line = (re: RegExp): string | undefined => re.exec(out)?.[1]
  return {
    rps: Number(line(/Requests\/sec:\s+([\d.]+)/)),
    bytesPerSec: bytes(line(/Transfer\/sec:\s+([\d.]+\w+)/)),
    p50Ms: ms(line(/\s50%\s+([\d.]+\w+)/)),
    p99Ms: ms(line(/\s99%\s+([\d.]+\w+)/)),
    requests: Number(line(/(\d+) requests in/)),
    errors: [/Non-2xx or 3xx responses: \d+/.exec(out)?.[0], /Socket errors:[^\n]+/.exec(out)?.[0]].filter(Boolean).join('; '),
  }
}

async function dropCaches (): Promise<void> {
  await sh('sync', [])
  writeFileSync('/proc/sys/vm/drop_caches', '3\n')
}

/** One GET read to the end, MB/s. */
/** One GET with curl (C, writes to /dev/null: the client is never the bottleneck, as fetch was), MB/s. */
async function oneGet (url: string): Promise<number> {
  const out = await sh('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{size_download} %{time_total}', url], 300_000)
  const [code, size, secs] = out.trim().split(' ')
  if (code !== '200') throw new Error(`${url}: ${code}`)
  return Number(size) / Number(secs) / MB
}

function keystream (size: number): Readable {
  const c = createCipheriv('aes-128-ctr', randomBytes(16), Buffer.alloc(16))
  const zero = Buffer.alloc(1 << 20)
  let left = size
  return new Readable({ read () { if (left === 0) { this.push(null); return } const n = Math.min(left, zero.length); left -= n; this.push(c.update(zero.subarray(0, n))) } })
}

async function sha256Url (url: string): Promise<string> {
  const h = createHash('sha256')
  const r = await fetch(url)
  for await (const c of r.body as unknown as AsyncIterable<Uint8Array>) h.update(c)
  return h.digest('hex')
}

async function main (): Promise<void> {
  const m = printMachine('bench/http: gateway vs uWSGI glusterfs plugin vs nginx on the FUSE mount (real GlusterFS 10, vol1 replica 3)')
  mkdirSync(work, { recursive: true })
  const mnt = await cluster.mount('vol1')
  await mkdir(join(mnt, DIR), { recursive: true })
  const files: Array<[string, number]> = [['4k.bin', 4096], ['100m.bin', 100 << 20], ['1g.bin', 1 << 30]]
  for (const [name, size] of files) {
    const p = join(mnt, DIR, name)
    if (existsSync(p) && (await stat(p)).size === size) continue
    if (size <= 4096) await writeFile(p, randomBytes(size))
    else await pipeline(keystream(size), createWriteStream(p))
  }

  // --- start the servers ---
  const startOurs = async (workers: number): Promise<{ url: string, pid: number }> => {
    // in-process (workers 1) with the young-generation cap docs/http.md recommends for it; with
    // workers the gateway gives its workers that cap itself (the primary only supervises)
    const flags = workers === 1 ? [`--max-semi-space-size=${WORKER_SEMI_SPACE_MIB}`] : []
    const c = spawn(process.execPath, [...flags, CHILD, JSON.stringify({ servers, workers })], { stdio: ['ignore', 'pipe', 'inherit'] })
    started.push(c)
    const url = await new Promise<string>((resolve, reject) => {
      let buf = ''
      c.stdout!.on('data', (d: Buffer) => { buf += d.toString(); const mm = /URL (\S+)/.exec(buf); if (mm !== null) resolve(mm[1]!) })
      c.once('exit', code => reject(new Error(`gateway exited ${code}`)))
    })
    return { url, pid: c.pid! }
  }
  const ours1 = await startOurs(1)
  const ours2 = await startOurs(2)

  const uport = await freePort()
  const uwsgi = spawn('uwsgi', ['--plugin', 'glusterfs', '--http11-socket', `127.0.0.1:${uport}`, '--http-socket-modifier1', '27',
    '--glusterfs-mount', `mountpoint=/,volume=vol1,server=${servers.map(s => `${s}:0`).join(';')}`, '--threads', '8', '--disable-logging'], { stdio: ['ignore', 'ignore', 'pipe'] })
  started.push(uwsgi)
  let uwsgiLog = ''
  uwsgi.stderr!.on('data', (d: Buffer) => { uwsgiLog = (uwsgiLog + d.toString()).slice(-4000) })
  const uurl = `http://127.0.0.1:${uport}`

  const nport = await freePort()
  const ndir = join(work, 'nginx')
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(ndir, d), { recursive: true })
  writeFileSync(join(ndir, 'nginx.conf'), `daemon off;\nworker_processes 2;\npid ${ndir}/nginx.pid;\nerror_log ${ndir}/error.log;\n` +
    `events { worker_connections 1024; }\nhttp {\n include /etc/nginx/mime.types;\n access_log off;\n sendfile on;\n tcp_nopush on;\n keepalive_requests 1000000;\n` +
    ` client_body_temp_path ${ndir}/body;\n proxy_temp_path ${ndir}/proxy;\n fastcgi_temp_path ${ndir}/fastcgi;\n uwsgi_temp_path ${ndir}/uwsgi;\n scgi_temp_path ${ndir}/scgi;\n` +
    ` server {\n  listen 127.0.0.1:${nport};\n  root ${mnt};\n }\n}\n`)
  const nginx = spawn('nginx', ['-c', join(ndir, 'nginx.conf')], { stdio: 'ignore' })
  started.push(nginx)
  const nurl = `http://127.0.0.1:${nport}`

  const peers = [
    { name: 'ours (1 process)', url: ours1.url, pids: () => [ours1.pid] },
    { name: 'ours (2 workers)', url: ours2.url, pids: () => [ours2.pid, ...childPids(ours2.pid)] },
    { name: 'uWSGI plugin', url: uurl, pids: () => [uwsgi.pid!] },
    { name: 'nginx + FUSE', url: nurl, pids: () => [nginx.pid!, ...childPids(nginx.pid!)] },
  ]
  for (const p of peers) await waitHttp(`${p.url}/${DIR}/4k.bin`)

  // bodies checked once
  const want4k = createHash('sha256').update(readFileSync(join(mnt, DIR, '4k.bin'))).digest('hex')
  for (const p of peers) {
    const got = await sha256Url(`${p.url}/${DIR}/4k.bin`)
    if (got !== want4k) throw new Error(`${p.name}: wrong 4 KiB body`)
  }
  const want100 = await sha256Url(`${nurl}/${DIR}/100m.bin`)
  for (const p of peers) if (await sha256Url(`${p.url}/${DIR}/100m.bin`) !== want100) throw new Error(`${p.name}: wrong 100 MiB body`)
  console.log(`bodies: 4 KiB sha256 ${want4k.slice(0, 12)}…, 100 MiB sha256 ${want100.slice(0, 12)}… identical from all four\n`)

  const base = (name: string): string => name === 'uWSGI plugin' ? 'uWSGI plugin' : name
  const results = new Map<string, Record<string, number>>()
  const put = (peer: string, k: string, v: number): void => { const r = results.get(peer) ?? {}; (r[k] ??= 0); r[k] = v; results.set(peer, r) }
  const runs = async (k: string, f: (url: string) => Promise<Wrk>, pick: (w: Wrk) => number, extra?: (peer: string, w: Wrk[]) => void): Promise<void> => {
    for (const p of peers) {
      const ws: Wrk[] = []
      for (let i = 0; i < ROUNDS; i++) ws.push(await f(p.url))
      put(p.name, k, median(ws.map(pick)))
      extra?.(p.name, ws)
      const e = ws.map(w => w.errors).filter(Boolean).join(' | ')
      console.log(`${k.padEnd(16)} ${p.name.padEnd(18)} ${ws.map(w => fmtNum(pick(w))).join(', ')}${e !== '' ? `  (${e})` : ''}`)
    }
  }
  await runs('4k req/s', u => wrk(`${u}/${DIR}/4k.bin`, 2, 16), w => w.rps, (peer, ws) => put(peer, '4k p99 ms', median(ws.map(w => w.p99Ms))))
  await runs('100m 1c MB/s', u => wrk(`${u}/${DIR}/100m.bin`, 1, 1), w => w.bytesPerSec / MB)
  await runs('100m 16c MB/s', u => wrk(`${u}/${DIR}/100m.bin`, 2, 16), w => w.bytesPerSec / MB)
  for (const p of peers) {
    const xs: number[] = []
    for (let i = 0; i < Math.max(2, ROUNDS); i++) { await dropCaches(); xs.push(await oneGet(`${p.url}/${DIR}/100m.bin`)) }
    put(p.name, '100m cold MB/s', median(xs))
    console.log(`${'100m cold MB/s'.padEnd(16)} ${p.name.padEnd(18)} ${xs.map(fmtNum).join(', ')}`)
  }
  // RSS while 50 clients download the 1 GiB file (bounded: SECONDS + 5 s of wrk)
  for (const p of peers.slice(0, 2)) {
    let peak = 0
    const timer = setInterval(() => { peak = Math.max(peak, rssOf(p.pids())) }, 200)
    const w = await wrk(`${p.url}/${DIR}/1g.bin`, 2, 50, SECONDS + 5)
    clearInterval(timer)
    put(p.name, 'RSS 50×1GiB MiB', peak / 1048576)
    console.log(`${'RSS 50x1GiB'.padEnd(16)} ${p.name.padEnd(18)} peak ${fmtNum(peak / 1048576)} MiB (all processes), ${fmtNum(w.bytesPerSec / MB)} MB/s total`)
  }
  for (const p of peers.slice(2)) put(p.name, 'RSS idle MiB', rssOf(p.pids()) / 1048576)
  console.log('')

  const cols = ['server', '4k req/s', '× uWSGI', '4k p99 ms', '100m 1c MB/s', '× uWSGI ', '100m 16c MB/s', '100m cold MB/s', '× nginx cold', 'RSS MiB']
  const u = results.get('uWSGI plugin')!
  const n = results.get('nginx + FUSE')!
  const rows: Row[] = peers.map(p => {
    const r = results.get(p.name)!
    return {
      server: base(p.name),
      '4k req/s': fmtNum(r['4k req/s']!),
      '× uWSGI': fmtRatio(r['4k req/s']! / u['4k req/s']!),
      '4k p99 ms': fmtNum(r['4k p99 ms']!),
      '100m 1c MB/s': fmtNum(r['100m 1c MB/s']!),
      '× uWSGI ': fmtRatio(r['100m 1c MB/s']! / u['100m 1c MB/s']!),
      '100m 16c MB/s': fmtNum(r['100m 16c MB/s']!),
      '100m cold MB/s': fmtNum(r['100m cold MB/s']!),
      '× nginx cold': fmtRatio(r['100m cold MB/s']! / n['100m cold MB/s']!),
      'RSS MiB': r['RSS 50×1GiB MiB'] !== undefined ? `${fmtNum(r['RSS 50×1GiB MiB'])} (50×1 GiB)` : `${fmtNum(r['RSS idle MiB']!)} (after)`,
    }
  })
  printTable(cols, rows)
  console.log(`\nwrk ${SECONDS} s per run, ${ROUNDS} round(s), medians; load average at start ${m.load}; the 2-core box is shared with other work.`)
  if (uwsgi.exitCode !== null) console.log(`uwsgi exited early: ${uwsgiLog}`)
}

try {
  await main()
} finally {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM')
  await new Promise(resolve => setTimeout(resolve, 500))
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
}
