// RPC throughput: our RpcClient ↔ RpcServer in one process over loopback TCP (127.0.0.1, port 0),
// against a raw node:net request/response loop that moves the same bytes per operation with the
// same number of operations in flight (no record marking, no XDR, no xid table). The ratio reads
// "our RPC does N× what a bare socket loop does" (1.00× is the ceiling for this process shape).
//
//   (a) small calls, 64 in flight: GF-DUMP PING, and a LOOKUP shaped like a FUSE client's
//       (13-key xdata) answered with a real brick's LOOKUP reply (616 B body)
//   (b) READ, 16 in flight: a FopProgram READ handler returning a 128 KiB Buffer as data
//       (zero-copy on the server; the client gets it as a subarray of the reassembled record)
//
// Each row runs a warm-up, then 10 measured segments, alternating ours and the raw loop so that
// load from other processes hits both alike. The rate is the median segment rate and ±% the 95 %
// margin of the mean over the segments; × is the median of the ratios of adjacent segment pairs
// (ours / raw run back to back), which cancels most of the drift of a shared machine.
// Bounded: small calls ≤ 200 000 per row or 5 s; READ ≤ 4 GiB per row or 5 s. Peak RSS is
// sampled every 10 ms (process-wide: client, server and bench share the process).
import net from 'node:net'
import v8 from 'node:v8'
import vm from 'node:vm'
import { once } from 'node:events'
import {
  DumpProgram, FopProgram, GfxDictType, ROOT_GFID, RpcClient, RpcServer, XdrWriter, encodeCallRecord, encodeReplyRecord,
  AcceptStat, NULL_AUTH, type GfxLookupReq, type GfxReadReq, type GfxReadRsp, type GfxValue, type BoundProc,
} from '@gluster-ts/rpc'
import { lookupValue, readData, READ_BYTES, dict20 } from './lib/xdr-fixtures.js'
import { fmtMiB, fmtNum, fmtPct, fmtRatio, meanRme, median, printMachine, printTable, type Row } from './lib/report.js'

const HOST = '127.0.0.1'
const SEGMENTS = 10
const SMALL = { inflight: 64, maxOps: 200_000, maxMs: 5_000, warmOps: 50_000, warmMs: 1_000 }
const READ = { inflight: 16, maxBytes: 4 * 1024 ** 3, maxMs: 5_000, warmBytes: 512 * 1024 ** 2, warmMs: 1_000 }

// GC between rows (the pnpm script passes no node flags; this is the documented-in-V8 way).
v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

// ---------------------------------------------------------------------------------------------
// Workloads
// ---------------------------------------------------------------------------------------------

/** A FUSE client's LOOKUP xdata: the 13 request keys of gluster-wire.md §4.2 (mount frame 127). */
const lookupXdata = new Map<string, GfxValue>([...dict20].filter(([k]) => [
  'link-count', 'glusterfs.parent-entrylk', 'glusterfs.entrylk-count', 'glusterfs.inodelk-count', 'list-xattr',
  'trusted.afr.dirty', 'trusted.afr.vol1-client-0', 'trusted.afr.vol1-client-1', 'trusted.afr.vol1-client-2',
  'security.capability', 'security.ima', 'glusterfs.content', 'trusted.glusterfs.mdata',
].includes(k)))
if (lookupXdata.size !== 13) throw new Error(`LOOKUP xdata has ${lookupXdata.size} keys, expected 13`)
lookupXdata.set('gfid-req', { type: GfxDictType.GFUUID, value: Buffer.alloc(16, 0x5a) })

const lookupArgs = (i: number): GfxLookupReq => ({
  gfid: Buffer.alloc(16), pargfid: ROOT_GFID, flags: 0, bname: `file-${i % 1000}`, xdata: lookupXdata,
})
const readArgs = (i: number): GfxReadReq => ({
  gfid: lookupValue.prestat.ia_gfid, fd: 0n, offset: BigInt((i % 1024) * READ_BYTES), size: READ_BYTES, flag: 0, xdata: null,
})
const readReply: GfxReadRsp = {
  op_ret: READ_BYTES, op_errno: 0, stat: lookupValue.prestat, size: READ_BYTES, xdata: null, data: readData,
}
const pingReply = { op_ret: 0, op_errno: 0, xdata: new Map<string, Buffer>() }

/** Bytes on the wire (record mark included) of one call and its reply, for the raw loop. */
function wireSizes<A, R> (proc: BoundProc<A, R>, args: A, result: R): { req: number, resp: number } {
  const w = new XdrWriter()
  const len = (chunks: Buffer[]): number => chunks.reduce((n, c) => n + c.length, 0)
  const req = len(encodeCallRecord(w, { xid: 1, prog: proc.program.prog, vers: proc.program.vers, proc: proc.num }, proc.args, args))
  const resp = len(encodeReplyRecord(w, { xid: 1, mtype: 1, reply_stat: 0, verf: NULL_AUTH, accept_stat: AcceptStat.SUCCESS }, proc.res, result))
  return { req, resp }
}

// ---------------------------------------------------------------------------------------------
// Drivers
// ---------------------------------------------------------------------------------------------

interface Segment { ops: number, bytes: number, ms: number }

/** Keep `inflight` calls going until maxOps were issued or maxMs passed; wait for all replies. */
async function closedLoop (inflight: number, maxOps: number, maxMs: number, bytesPerOp: number,
  call: (i: number) => Promise<unknown>): Promise<Segment> {
  let issued = 0
  let done = 0
  const t0 = performance.now()
  const deadline = t0 + maxMs
  await new Promise<void>((resolve, reject) => {
    const next = (): void => {
      if (issued >= maxOps || performance.now() >= deadline) {
        if (done === issued) resolve()
        return
      }
      const i = issued++
      call(i).then(() => { done++; next() }, reject)
    }
    for (let k = 0; k < inflight; k++) next()
  })
  return { ops: done, bytes: done * bytesPerOp, ms: performance.now() - t0 }
}

/**
 * The raw baseline: a node:net server that answers every `req` bytes with `resp` bytes (one
 * prebuilt Buffer, written as is, corked per data event), and a client that keeps `inflight`
 * requests outstanding. The same shape as our RPC, minus everything RPC.
 */
class RawLoop {
  readonly #server: net.Server
  #client: net.Socket | undefined
  readonly #reqBytes: number
  readonly #respBytes: number
  readonly #req: Buffer
  readonly #resp: Buffer

  constructor (reqBytes: number, respBytes: number, respPayload?: Buffer) {
    this.#reqBytes = reqBytes
    this.#respBytes = respBytes
    this.#req = Buffer.alloc(reqBytes, 0x11)
    this.#resp = respPayload !== undefined && respPayload.length === respBytes ? respPayload : Buffer.alloc(respBytes, 0x22)
    this.#server = net.createServer({ noDelay: true }, sock => {
      let have = 0
      sock.on('data', (c: Buffer) => {
        have += c.length
        const n = Math.floor(have / reqBytes)
        if (n === 0) return
        have -= n * reqBytes
        sock.cork()
        for (let i = 0; i < n; i++) sock.write(this.#resp)
        process.nextTick(() => sock.uncork())
      })
      sock.on('error', () => {})
    })
  }

  async start (): Promise<void> {
    this.#server.listen(0, HOST)
    await once(this.#server, 'listening')
    const { port } = this.#server.address() as net.AddressInfo
    const c = net.connect({ host: HOST, port, noDelay: true })
    await once(c, 'connect')
    this.#client = c
  }

  /** One segment: same contract as closedLoop. */
  run (inflight: number, maxOps: number, maxMs: number): Promise<Segment> {
    const c = this.#client!
    const reqBytes = this.#reqBytes
    const respBytes = this.#respBytes
    return new Promise(resolve => {
      let issued = 0
      let done = 0
      let have = 0
      const t0 = performance.now()
      const deadline = t0 + maxMs
      const send = (n: number): void => {
        if (n <= 0) return
        c.cork()
        for (let i = 0; i < n; i++) c.write(this.#req)
        process.nextTick(() => c.uncork())
        issued += n
      }
      const onData = (chunk: Buffer): void => {
        have += chunk.length
        const n = Math.floor(have / respBytes)
        if (n === 0) return
        have -= n * respBytes
        done += n
        const open = performance.now() < deadline ? Math.min(n, maxOps - issued) : 0
        send(open)
        if (done === issued) {
          c.off('data', onData)
          resolve({ ops: done, bytes: done * reqBytes + done * respBytes, ms: performance.now() - t0 })
        }
      }
      c.on('data', onData)
      send(Math.min(inflight, maxOps))
    })
  }

  async close (): Promise<void> {
    this.#client?.destroy()
    await new Promise<void>(resolve => { this.#server.close(() => { resolve() }) })
  }
}

// ---------------------------------------------------------------------------------------------
// RSS sampling
// ---------------------------------------------------------------------------------------------

let peakRss = 0
const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage.rss()) }, 10)
sampler.unref()
function resetPeak (): void {
  gc()
  peakRss = process.memoryUsage.rss()
}

// ---------------------------------------------------------------------------------------------
// Run
// ---------------------------------------------------------------------------------------------

printMachine('RPC over loopback TCP: gluster-ts RpcClient ↔ RpcServer vs a raw node:net loop')

const server = new RpcServer()
server.register(DumpProgram, { PING: () => pingReply })
server.register(FopProgram, {
  LOOKUP: () => lookupValue,
  READ: () => readReply,
})
const address = await server.listen(0, HOST)
const client = await RpcClient.connect(address)

// sanity: every proc answers what we expect before we time anything
{
  const p = await client.call(DumpProgram.procs.PING, undefined)
  const l = await client.call(FopProgram.procs.LOOKUP, lookupArgs(0))
  const r = await client.call(FopProgram.procs.READ, readArgs(0))
  if (p.op_ret !== 0 || l.xdata?.size !== 6 || !r.data.equals(readData)) {
    console.error('SANITY CHECK FAILED: PING/LOOKUP/READ did not return the expected replies')
    process.exit(1)
  }
}

interface Case {
  name: string
  unit: 'ops/s' | 'MiB/s'
  inflight: number
  /** per-segment caps */
  segOps: number
  segMs: number
  warmOps: number
  warmMs: number
  sizes: { req: number, resp: number }
  call: (i: number) => Promise<unknown>
  rawPayload?: Buffer
}

const pingSizes = wireSizes(DumpProgram.procs.PING, undefined, pingReply)
const lookupSizes = wireSizes(FopProgram.procs.LOOKUP, lookupArgs(0), lookupValue)
const readSizes = wireSizes(FopProgram.procs.READ, readArgs(0), readReply)
const readOpsCap = Math.floor(READ.maxBytes / (readSizes.req + readSizes.resp))

const cases: Case[] = [
  {
    name: `PING (${pingSizes.req} B call / ${pingSizes.resp} B reply), ${SMALL.inflight} in flight`,
    unit: 'ops/s',
    inflight: SMALL.inflight,
    segOps: Math.floor(SMALL.maxOps / SEGMENTS),
    segMs: SMALL.maxMs / SEGMENTS,
    warmOps: SMALL.warmOps,
    warmMs: SMALL.warmMs,
    sizes: pingSizes,
    call: () => client.call(DumpProgram.procs.PING, undefined),
  },
  {
    name: `LOOKUP (${lookupSizes.req} B call / ${lookupSizes.resp} B reply), ${SMALL.inflight} in flight`,
    unit: 'ops/s',
    inflight: SMALL.inflight,
    segOps: Math.floor(SMALL.maxOps / SEGMENTS),
    segMs: SMALL.maxMs / SEGMENTS,
    warmOps: SMALL.warmOps,
    warmMs: SMALL.warmMs,
    sizes: lookupSizes,
    call: i => client.call(FopProgram.procs.LOOKUP, lookupArgs(i)),
  },
  {
    name: `READ 128 KiB (${readSizes.req} B call / ${readSizes.resp} B reply), ${READ.inflight} in flight`,
    unit: 'MiB/s',
    inflight: READ.inflight,
    segOps: Math.floor(readOpsCap / SEGMENTS),
    segMs: READ.maxMs / SEGMENTS,
    warmOps: Math.floor(READ.warmBytes / readSizes.resp),
    warmMs: READ.warmMs,
    sizes: readSizes,
    call: i => client.call(FopProgram.procs.READ, readArgs(i)),
  },
]

const rate = (c: Case, s: Segment): number => c.unit === 'ops/s' ? s.ops * 1000 / s.ms : (s.ops * c.sizes.resp / 1048576) * 1000 / s.ms

resetPeak()
console.log(`RSS after setup (client, server, fixtures loaded; after GC): ${fmtMiB(peakRss)}`)
console.log(`${SEGMENTS} segments per row after a warm-up, ours and raw alternating; caps per row: ` +
  `small calls ${fmtNum(SMALL.maxOps)} or ${SMALL.maxMs / 1000} s, READ ${READ.maxBytes / 1024 ** 3} GiB or ${READ.maxMs / 1000} s`)
console.log('rate = median of the segments; MiB/s counts reply bytes (the READ data direction), ops/s completed calls')
console.log('× vs raw TCP = median over the segment pairs of ours / raw (adjacent in time)')
console.log('')

const rows: Row[] = []
for (const c of cases) {
  const raw = new RawLoop(c.sizes.req, c.sizes.resp)
  await raw.start()
  // warm-up, not measured
  await closedLoop(c.inflight, c.warmOps, c.warmMs, 0, c.call)
  await raw.run(c.inflight, c.warmOps, c.warmMs)

  const ours: number[] = []
  const base: number[] = []
  let oursOps = 0
  let baseOps = 0
  let oursPeak = 0
  let rawPeak = 0
  for (let s = 0; s < SEGMENTS; s++) {
    resetPeak()
    const so = await closedLoop(c.inflight, c.segOps, c.segMs, 0, c.call)
    oursPeak = Math.max(oursPeak, peakRss)
    ours.push(rate(c, so))
    oursOps += so.ops
    resetPeak()
    const sr = await raw.run(c.inflight, c.segOps, c.segMs)
    rawPeak = Math.max(rawPeak, peakRss)
    base.push(rate(c, sr))
    baseOps += sr.ops
  }
  await raw.close()
  const o = { mean: median(ours), rme: meanRme(ours).rme }
  const b = { mean: median(base), rme: meanRme(base).rme }
  const ratio = median(ours.map((x, i) => x / base[i]!))
  rows.push({
    name: `${c.name} — raw node:net loop`,
    rate: `${fmtNum(b.mean)} ${c.unit}`,
    '±%': fmtPct(b.rme),
    '× vs raw TCP': fmtRatio(1),
    calls: fmtNum(baseOps),
    'peak RSS': fmtMiB(rawPeak),
  })
  rows.push({
    name: `${c.name} — gluster-ts RPC`,
    rate: `${fmtNum(o.mean)} ${c.unit}`,
    '±%': fmtPct(o.rme),
    '× vs raw TCP': fmtRatio(ratio),
    calls: fmtNum(oursOps),
    'peak RSS': fmtMiB(oursPeak),
  })
}

await client.close({ timeoutMs: 2_000 })
await server.close({ timeoutMs: 2_000 })
clearInterval(sampler)

printTable(['name', 'rate', '±%', '× vs raw TCP', 'calls', 'peak RSS'], rows)
console.log('')
console.log(`client stats: ${JSON.stringify(client.stats)}`)
