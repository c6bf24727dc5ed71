// XDR codec: gluster-ts vs @stellar/js-xdr 4.0.0 on the same structs, in one process and one run
// (style.md §8). Three workloads, encode and decode each:
//   (a) LOOKUP reply  gfx_common_2iatt_rsp, two gfx_iattx and the 6-key xdata a GlusterFS 10
//                     brick sent (failover.pcap frame 217; lib/xdr-fixtures.ts)
//   (b) READ reply    gfx_read_rsp header (read.pcap frame 86) + 128 KiB of data
//   (c) gfx_dict      20 keys covering the value types a client sends (INT, UINT, DOUBLE, STR,
//                     PTR, GFUUID, MDATA)
// Before timing, both libraries must produce byte-identical encodings and both decoders must
// round-trip the fixture bytes; any difference aborts the run. Timing: tinybench, 64 operations
// per sample, the whole set run 3 times, each task keeping its best round (lib/report.ts).
//
// Fairness notes:
//   * Our encoder reuses one XdrWriter (as RpcClient/ServerConnection do); js-xdr's public
//     encoder is Type.toXDR(value), which allocates its own 8 KiB buffer.
//   * js-xdr values are built once, outside the timed loop, with xdr_size already filled in;
//     our encoder computes xdr_size on every call (reserve + back-fill). This favours the peer.
//   * Our decoder does more than the peer's: keys become JS strings, STR values become strings
//     without their NUL, the dict becomes a Map, and xdr_size/count are checked. js-xdr returns
//     Buffers and Hyper objects.
//   * READ: neither side copies the 128 KiB. Ours encodes to [header, data] chunks
//     (XdrWriter.raw + finishChunks, the server's path) and decodes data as a subarray. The peer
//     encodes the header struct with toXDR and sends data as its own chunk; it decodes the header
//     with an XdrReader and takes the rest of the record as data.
import {
  GfxCommon2iattRsp, GfxDict, GfxReadRsp, XdrWriter, gfxDictXdrSize, xdr, type GfxReadRsp as GfxReadRspT,
} from '@gluster-ts/rpc'
import {
  OURS, PDict, PEER, PLookupRsp, PReadRsp, WORKLOAD_LEGEND, WORKLOAD_NAMES, dict20, dictBytes, dictPeer, flat, lookupBytes,
  lookupPeer, lookupValue, mustEqual, peerDecodeRead, readBytes, readData, readPeer, readValue,
} from './lib/xdr-fixtures.js'
import { batched, bestOfRounds, fmtNum, fmtPct, fmtRatio, printMachine, printTable, type Row, type TaskResult } from './lib/report.js'

const TIME_MS = 500
/** The whole set runs this many times; each task keeps its best round (see bestOfRounds). */
const ROUNDS = 3
const WARMUP_MS = 150
/** Operations per timed sample: one op is ~1–20 µs, so a sample holds enough work to dwarf the timer. */
const BATCH = 64

// ---------------------------------------------------------------------------------------------
// The operations timed, one pair per row
// ---------------------------------------------------------------------------------------------

const w = new XdrWriter()

interface Workload {
  name: string
  ours: { encode: () => Buffer[] | Buffer, decode: (b: Buffer) => unknown }
  peer: { encode: () => Buffer[] | Buffer, decode: (b: Buffer) => unknown }
  bytes: Buffer
  /** re-encode a decoded value, to prove the decoder lost nothing */
  reOurs: (v: any) => Buffer
  rePeer: (v: any) => Buffer
}

const workloads: Workload[] = [
  {
    name: WORKLOAD_NAMES.lookup,
    bytes: lookupBytes,
    ours: {
      encode: () => xdr.encode(GfxCommon2iattRsp, lookupValue, w),
      decode: b => xdr.decode(GfxCommon2iattRsp, b),
    },
    peer: {
      encode: () => PLookupRsp.toXDR(lookupPeer),
      decode: b => PLookupRsp.fromXDR(b),
    },
    reOurs: v => Buffer.from(xdr.encode(GfxCommon2iattRsp, v)),
    rePeer: v => Buffer.from(PLookupRsp.toXDR(v)),
  },
  {
    name: WORKLOAD_NAMES.read,
    bytes: readBytes,
    ours: {
      encode: () => { GfxReadRsp.encode(w, readValue); return w.finishChunks() },
      decode: b => xdr.decode(GfxReadRsp, b),
    },
    peer: {
      encode: () => [PReadRsp.toXDR(readPeer), readData],
      decode: peerDecodeRead,
    },
    reOurs: (v: GfxReadRspT) => Buffer.from(xdr.encode(GfxReadRsp, v)),
    rePeer: (v: { header: unknown, data: Buffer }) => Buffer.concat([PReadRsp.toXDR(v.header), v.data]),
  },
  {
    name: WORKLOAD_NAMES.dict,
    bytes: dictBytes,
    ours: {
      encode: () => xdr.encode(GfxDict, dict20, w),
      decode: b => xdr.decode(GfxDict, b),
    },
    peer: {
      encode: () => PDict.toXDR(dictPeer),
      decode: b => PDict.fromXDR(b),
    },
    reOurs: v => Buffer.from(xdr.encode(GfxDict, v)),
    rePeer: v => Buffer.from(PDict.toXDR(v)),
  },
]

// ---------------------------------------------------------------------------------------------
// Validation: identical bytes, lossless decoders. Fails loudly before any timing.
// ---------------------------------------------------------------------------------------------

function validate (wl: Workload): void {
  const checks: Array<[string, Buffer]> = [
    [`${OURS} encode`, flat(wl.ours.encode())],
    [`${PEER} encode`, flat(wl.peer.encode())],
    [`${OURS} decode → ${OURS} encode`, wl.reOurs(wl.ours.decode(wl.bytes))],
    [`${PEER} decode → ${PEER} encode`, wl.rePeer(wl.peer.decode(wl.bytes))],
  ]
  for (const [what, got] of checks) {
    mustEqual(`${wl.name}: ${what}`, got, wl.bytes)
  }
}

for (const wl of workloads) validate(wl)
// and the peer's view of our dict matches ours (count, xdr_size, pair order)
{
  const d = PDict.fromXDR(dictBytes)
  if (d.count() !== 20 || d.xdr_size() !== gfxDictXdrSize(dict20) || d.pairs().length !== 20) {
    console.error('VALIDATION FAILED: js-xdr reads a different count/xdr_size/pairs from our gfx_dict')
    process.exit(1)
  }
}

// ---------------------------------------------------------------------------------------------
// Timing
// ---------------------------------------------------------------------------------------------

printMachine('XDR codec: gluster-ts vs @stellar/js-xdr 4.0.0')
console.log(`validated: ${workloads.length} workloads, encodings byte-identical, both decoders lossless`)
console.log(`tinybench, ${TIME_MS} ms per task after ${WARMUP_MS} ms warm-up, ${BATCH} operations per sample, best of ${ROUNDS} rounds`)
for (const l of WORKLOAD_LEGEND) console.log(`  ${l}`)
console.log('')

const tasks: Array<[string, () => void]> = []
const taskName = (wl: Workload, op: string, who: string): string => `${wl.name} ${op}|${who}`
for (const wl of workloads) {
  for (const op of ['encode', 'decode'] as const) {
    for (const [who, impl] of [[OURS, wl.ours], [PEER, wl.peer]] as const) {
      tasks.push([taskName(wl, op, who), op === 'encode' ? batched(impl.encode, undefined, BATCH) : batched(impl.decode, wl.bytes, BATCH)])
    }
  }
}
const results = await bestOfRounds(tasks, { rounds: ROUNDS, timeMs: TIME_MS, warmupMs: WARMUP_MS, perCall: BATCH })
const opsOf = (name: string): TaskResult => results.get(name)!

const rows: Row[] = []
const ratios: Array<[string, number]> = []
for (const wl of workloads) {
  for (const op of ['encode', 'decode'] as const) {
    const ours = opsOf(taskName(wl, op, OURS))
    const peer = opsOf(taskName(wl, op, PEER))
    const ratio = ours.ops / peer.ops
    ratios.push([`${wl.name} ${op}`, ratio])
    rows.push({ name: `${wl.name} ${op} — ${OURS}`, 'ops/s': fmtNum(ours.ops), '±%': fmtPct(ours.rme), [`× vs ${PEER}`]: fmtRatio(ratio) })
    rows.push({ name: `${wl.name} ${op} — ${PEER}`, 'ops/s': fmtNum(peer.ops), '±%': fmtPct(peer.rme), [`× vs ${PEER}`]: fmtRatio(1) })
  }
}
printTable(['name', 'ops/s', '±%', `× vs ${PEER}`], rows)
console.log('')
const below = ratios.filter(([, r]) => r < 3)
console.log(below.length === 0
  ? 'goal (≥ 3× @stellar/js-xdr on every row): met'
  : `goal (≥ 3× @stellar/js-xdr on every row): NOT met on ${below.map(([n, r]) => `${n} (${r.toFixed(2)}×)`).join('; ')}`)
