// PROTOTYPE bench: what the changes proposed in bench/results/xdr.md buy, on the workloads of
// bench/xdr.bench.ts. Run: tsx --conditions=gluster-ts-source bench/proto/xdr-proposals.bench.ts
//
// Variants, all validated byte-identical to the fixtures before timing:
//   current    packages/rpc as it is (XdrWriter/XdrReader, iatt.ts, dict.ts)
//   A: w/r     the package's codecs unchanged, on ProtoXdrWriter/ProtoXdrReader (DataView
//              stores, DataView 64-bit loads, byte-arithmetic 32-bit loads, padding loop, ASCII
//              string loop): changes to xdr/writer.ts and xdr/reader.ts only
//   B: A+codec A plus gfx_iattx/gfx_mdata_iatt decode on the DataView, gfx_dict key cache on
//              encode, interned keys read without a subarray on decode (iatt.ts, dict.ts)
//   peer       @stellar/js-xdr 4.0.0
import {
  GfxCommon2iattRsp, GfxDict, GfxReadRsp, XdrWriter, xdr, type Codec,
} from '@gluster-ts/rpc'
import {
  PDict, PEER, PLookupRsp, PReadRsp, WORKLOAD_LEGEND, WORKLOAD_NAMES, dict20, dictBytes, dictPeer, flat, lookupBytes,
  lookupPeer, lookupValue, mustEqual, peerDecodeRead, readBytes, readData, readPeer, readValue,
} from '../lib/xdr-fixtures.js'
import { batched, bestOfRounds, fmtNum, fmtPct, fmtRatio, printMachine, printTable, type Row, type TaskResult } from '../lib/report.js'
import { ProtoXdrWriter } from './writer.js'
import {
  GfxCommon2iattRspFast, GfxDictFast, GfxReadRspFast, decodeFast, encodeFast, onProto, type ProtoCodec,
} from './codecs.js'

const TIME_MS = 500
const ROUNDS = 3
const WARMUP_MS = 150
const BATCH = 64

interface Impl { encode: () => Buffer[] | Buffer, decode: (b: Buffer) => unknown }
interface Workload { name: string, bytes: Buffer, impls: Record<string, Impl> }

const w = new XdrWriter()
const pw = new ProtoXdrWriter()

const current = <T>(c: Codec<T>, v: T, chunks = false): Impl => ({
  encode: chunks ? () => { c.encode(w, v); return w.finishChunks() } : () => xdr.encode(c, v, w),
  decode: b => xdr.decode(c, b),
})
const proto = <T>(c: ProtoCodec<T>, v: T, chunks = false): Impl => ({
  encode: chunks ? () => { c.encode(pw, v); return pw.finishChunks() } : () => encodeFast(c, v, pw),
  decode: b => decodeFast(c, b),
})

const VARIANTS = ['current', 'A: writer/reader', 'B: A + iattx/dict', PEER] as const

const workloads: Workload[] = [
  {
    name: WORKLOAD_NAMES.lookup,
    bytes: lookupBytes,
    impls: {
      current: current(GfxCommon2iattRsp, lookupValue),
      'A: writer/reader': proto(onProto(GfxCommon2iattRsp), lookupValue),
      'B: A + iattx/dict': proto(GfxCommon2iattRspFast, lookupValue),
      [PEER]: { encode: () => PLookupRsp.toXDR(lookupPeer), decode: b => PLookupRsp.fromXDR(b) },
    },
  },
  {
    name: WORKLOAD_NAMES.read,
    bytes: readBytes,
    impls: {
      current: current(GfxReadRsp, readValue, true),
      'A: writer/reader': proto(onProto(GfxReadRsp), readValue, true),
      'B: A + iattx/dict': proto(GfxReadRspFast, readValue, true),
      [PEER]: { encode: () => [PReadRsp.toXDR(readPeer), readData], decode: peerDecodeRead },
    },
  },
  {
    name: WORKLOAD_NAMES.dict,
    bytes: dictBytes,
    impls: {
      current: current(GfxDict, dict20),
      'A: writer/reader': proto(onProto(GfxDict), dict20),
      'B: A + iattx/dict': proto(GfxDictFast, dict20),
      [PEER]: { encode: () => PDict.toXDR(dictPeer), decode: b => PDict.fromXDR(b) },
    },
  },
]

// Validation: every variant encodes the fixture's bytes, and every decoder's output re-encodes
// (with the package's own encoder, or the peer's) to the same bytes.
const reencode: Record<string, (v: any) => Buffer> = {
  [WORKLOAD_NAMES.lookup]: v => Buffer.from(xdr.encode(GfxCommon2iattRsp, v)),
  [WORKLOAD_NAMES.read]: v => Buffer.from(xdr.encode(GfxReadRsp, v)),
  [WORKLOAD_NAMES.dict]: v => Buffer.from(xdr.encode(GfxDict, v)),
}
const reencodePeer: Record<string, (v: any) => Buffer> = {
  [WORKLOAD_NAMES.lookup]: v => Buffer.from(PLookupRsp.toXDR(v)),
  [WORKLOAD_NAMES.read]: (v: { header: unknown, data: Buffer }) => Buffer.concat([PReadRsp.toXDR(v.header), v.data]),
  [WORKLOAD_NAMES.dict]: v => Buffer.from(PDict.toXDR(v)),
}
for (const wl of workloads) {
  for (const [name, impl] of Object.entries(wl.impls)) {
    mustEqual(`${wl.name}: ${name} encode`, flat(impl.encode()), wl.bytes)
    const re = name === PEER ? reencodePeer[wl.name]! : reencode[wl.name]!
    mustEqual(`${wl.name}: ${name} decode → encode`, re(impl.decode(wl.bytes)), wl.bytes)
  }
}

printMachine('XDR codec prototypes (bench/proto): current vs proposed vs @stellar/js-xdr')
console.log(`validated: every variant byte-identical on ${workloads.length} workloads`)
console.log(`tinybench, ${TIME_MS} ms per task after ${WARMUP_MS} ms warm-up, ${BATCH} operations per sample, best of ${ROUNDS} rounds`)
for (const l of WORKLOAD_LEGEND) console.log(`  ${l}`)
console.log('')

const tasks: Array<[string, () => void]> = []
const key = (wl: Workload, op: string, v: string): string => `${wl.name} ${op}|${v}`
for (const wl of workloads) {
  for (const op of ['encode', 'decode'] as const) {
    for (const v of VARIANTS) {
      const impl = wl.impls[v]!
      tasks.push([key(wl, op, v), op === 'encode' ? batched(impl.encode, undefined, BATCH) : batched(impl.decode, wl.bytes, BATCH)])
    }
  }
}
const results = await bestOfRounds(tasks, { rounds: ROUNDS, timeMs: TIME_MS, warmupMs: WARMUP_MS, perCall: BATCH })
const opsOf = (name: string): TaskResult => results.get(name)!
const rows: Row[] = []
for (const wl of workloads) {
  for (const op of ['encode', 'decode'] as const) {
    const peer = opsOf(key(wl, op, PEER))
    const cur = opsOf(key(wl, op, 'current'))
    for (const v of VARIANTS) {
      const r = opsOf(key(wl, op, v))
      rows.push({
        name: `${wl.name} ${op} — ${v}`,
        'ops/s': fmtNum(r.ops),
        '±%': fmtPct(r.rme),
        [`× vs ${PEER}`]: fmtRatio(r.ops / peer.ops),
        '× vs current': fmtRatio(r.ops / cur.ops),
      })
    }
  }
}
printTable(['name', 'ops/s', '±%', `× vs ${PEER}`, '× vs current'], rows)
