// Property tests for the wire structs: decode(encode(x)) deep-equals x for the attribute
// blocks, both dictionary formats and a set of representative program structs; and random,
// truncated or corrupted bytes fed to every procedure's argument and result decoder only ever
// fail with a GlusterError EGLUSTER_PROTOCOL (bounded runs: nothing may hang).
import t from 'tap'
import fc from 'fast-check'
import { isDeepStrictEqual } from 'node:util'
import {
  CallbackProgram, DumpProgram, FopProgram, GfDumpRsp, GfGetspecRsp, GfSetvolumeReq, GfxCommonDictRsp, GfxCreateRsp,
  GfxDict, GfxDictType, GfxEntrylkReq, GfxIattx, GfxInodelkReq, GfxLookupReq, GfxMdataIatt, GfxRchecksumRsp,
  GfxReadRsp, GfxReaddirpRsp, GfxSetactivelkReq, GfxWriteReq, Gfs3CbkCacheInvalidationReq, GfIatt, HandshakeProgram,
  PortmapProgram, decodeFlatDict, encodeFlatDict, flatDictOpaque, gfxDictBytes, xdr,
} from '@gluster-ts/rpc'
import type { Codec, FlatDict, GfxValue, Program } from '@gluster-ts/rpc'

const RUNS = 200
/** fc.record with ordinary objects (decoders build plain objects; null prototypes would not compare equal) */
const record = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> => fc.record(model, { noNullPrototype: true })
const buf = (min: number, max: number): fc.Arbitrary<Buffer> =>
  fc.uint8Array({ minLength: min, maxLength: max }).map(a => Buffer.from(a))
const gfid = buf(16, 16)
const u32 = fc.integer({ min: 0, max: 0xffffffff })
const i32 = fc.integer({ min: -0x80000000, max: 0x7fffffff })
const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })
const i64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
const text = fc.string({ unit: 'grapheme', maxLength: 24 })

const iattx = record({
  ia_gfid: gfid,
  ia_flags: u64,
  ia_ino: u64,
  ia_dev: u64,
  ia_rdev: u64,
  ia_size: u64,
  ia_blocks: u64,
  ia_attributes: u64,
  ia_attributes_mask: u64,
  ia_atime: i64,
  ia_mtime: i64,
  ia_ctime: i64,
  ia_btime: i64,
  ia_atime_nsec: u32,
  ia_mtime_nsec: u32,
  ia_ctime_nsec: u32,
  ia_btime_nsec: u32,
  ia_nlink: u32,
  ia_uid: u32,
  ia_gid: u32,
  ia_blksize: u32,
  mode: u32,
})
const mdata = record({ ia_atime: i64, ia_mtime: i64, ia_ctime: i64, ia_atime_nsec: u32, ia_mtime_nsec: u32, ia_ctime_nsec: u32 })
const gfIatt = record({
  ia_gfid: gfid, ia_ino: u64, ia_dev: u64, mode: u32, ia_nlink: u32, ia_uid: u32, ia_gid: u32, ia_rdev: u64,
  ia_size: u64, ia_blksize: u32, ia_blocks: u64, ia_atime: u32, ia_atime_nsec: u32, ia_mtime: u32,
  ia_mtime_nsec: u32, ia_ctime: u32, ia_ctime_nsec: u32,
})

const gfxValue: fc.Arbitrary<GfxValue> = fc.oneof(
  buf(0, 24).map(value => ({ type: GfxDictType.STR_OLD, value })),
  i64.map(value => ({ type: GfxDictType.INT, value })),
  u64.map(value => ({ type: GfxDictType.UINT, value })),
  fc.double().map(value => ({ type: GfxDictType.DOUBLE, value })),
  text.map(value => ({ type: GfxDictType.STR, value })),
  buf(0, 24).map(value => ({ type: GfxDictType.PTR, value })),
  gfid.map(value => ({ type: GfxDictType.GFUUID, value })),
  iattx.map(value => ({ type: GfxDictType.IATT, value })),
  mdata.map(value => ({ type: GfxDictType.MDATA, value })),
)
const gfxDict: fc.Arbitrary<GfxDict> = fc.option(
  fc.uniqueArray(fc.tuple(text, gfxValue), { selector: ([k]) => k, maxLength: 6 }).map(pairs => new Map(pairs)),
  { nil: null, freq: 3 },
)
const flatDict: fc.Arbitrary<FlatDict> = fc.uniqueArray(fc.tuple(text, buf(0, 24)), { selector: ([k]) => k, maxLength: 6 })
  .map(pairs => new Map(pairs))
const flock = record({ type: u32, whence: u32, start: u64, len: u64, pid: u32, lk_owner: buf(0, 8) })

// structs with arbitraries: the round-trip set, and the seeds for the corruption runs below
const samples: Array<[string, Codec<any>, fc.Arbitrary<any>]> = [
  ['gfx_iattx', GfxIattx, iattx],
  ['gfx_mdata_iatt', GfxMdataIatt, mdata],
  ['gf_iatt', GfIatt, gfIatt],
  ['gfx_dict', GfxDict, gfxDict],
  ['flat dict opaque<>', flatDictOpaque, flatDict],
  ['gfx_lookup_req', GfxLookupReq, record({ gfid, pargfid: gfid, flags: u32, bname: text, xdata: gfxDict })],
  ['gfx_read_rsp + data', GfxReadRsp, record({ op_ret: i32, op_errno: i32, stat: iattx, size: u32, xdata: gfxDict, data: buf(0, 40) })],
  ['gfx_write_req + data', GfxWriteReq, record({ gfid, fd: i64, offset: u64, flag: u32, xdata: gfxDict, data: buf(0, 40) })
    .map(v => ({ ...v, size: v.data.length }))],
  ['gfx_readdirp_rsp', GfxReaddirpRsp, record({
    op_ret: i32,
    op_errno: i32,
    xdata: gfxDict,
    reply: fc.array(record({ d_ino: u64, d_off: u64, d_len: u32, d_type: u32, name: text, stat: iattx, dict: gfxDict }), { maxLength: 4 }),
  })],
  ['gfx_common_dict_rsp', GfxCommonDictRsp, record({ op_ret: i32, op_errno: i32, xdata: gfxDict, dict: gfxDict, prestat: iattx, poststat: iattx })],
  ['gfx_create_rsp', GfxCreateRsp, record({ op_ret: i32, op_errno: i32, xdata: gfxDict, stat: iattx, fd: u64, preparent: iattx, postparent: iattx })],
  ['gfx_inodelk_req', GfxInodelkReq, record({ gfid, cmd: u32, type: u32, flock, volume: text, xdata: gfxDict })],
  ['gfx_entrylk_req', GfxEntrylkReq, record({ gfid, cmd: u32, type: u32, namelen: u64, name: text, volume: text, xdata: gfxDict })],
  ['gfx_setactivelk_req', GfxSetactivelkReq, record({
    gfid, request: fc.array(record({ flock, client_uid: text, lk_flags: u32 }), { maxLength: 3 }), xdata: gfxDict,
  })],
  ['gfx_rchecksum_rsp', GfxRchecksumRsp, record({ op_ret: i32, op_errno: i32, xdata: gfxDict, flags: u32, weak_checksum: u32, strong_checksum: buf(0, 32) })],
  ['gf_dump_rsp', GfDumpRsp, record({
    gfs_id: u64, op_ret: i32, op_errno: i32, prog: fc.array(record({ progname: text, prognum: u64, progver: u64 }), { maxLength: 4 }),
  })],
  ['gf_setvolume_req', GfSetvolumeReq, record({ dict: flatDict })],
  ['gf_getspec_rsp', GfGetspecRsp, record({ op_ret: i32, op_errno: i32, spec: fc.string({ unit: 'grapheme', maxLength: 200 }), xdata: flatDict })],
  ['gfs3_cbk_cache_invalidation_req', Gfs3CbkCacheInvalidationReq, record({
    gfid: text, event_type: u32, flags: u32, expire_time_attr: u32, stat: gfIatt, parent_stat: gfIatt, oldparent_stat: gfIatt, xdata: flatDict,
  })],
]

/** Decoding must succeed or fail with EGLUSTER_PROTOCOL; anything else is a bug. */
function decodeOrProtocolError (c: Codec<unknown>, b: Buffer): boolean {
  try {
    xdr.decode(c, b)
    return true
  } catch (err) {
    const e = err as { name?: string, code?: string }
    if (e.name === 'GlusterError' && e.code === 'EGLUSTER_PROTOCOL') return false
    throw err
  }
}

t.test('decode(encode(x)) deep-equals x', async t => {
  for (const [name, codec, arb] of samples) {
    fc.assert(fc.property(arb, v => isDeepStrictEqual(xdr.decode(codec, xdr.encode(codec, v)), v)), { numRuns: RUNS })
    t.pass(name)
  }
})

t.test('gfx_dict: xdr_size is the exact size of the pairs', async t => {
  fc.assert(fc.property(gfxDict, d => {
    const b = xdr.encode(GfxDict, d)
    return b.length === gfxDictBytes(d) && (d === null ? b.readInt32BE(4) === -1 : b.readUInt32BE(0) === b.length - 12)
  }), { numRuns: RUNS })
  t.pass('exact')
})

t.test('flat dict: the serialized form round-trips byte for byte', async t => {
  fc.assert(fc.property(flatDict, d => encodeFlatDict(decodeFlatDict(encodeFlatDict(d))).equals(encodeFlatDict(d))), { numRuns: RUNS })
  t.pass('stable')
})

t.test('truncated and corrupted encodings only ever fail with EGLUSTER_PROTOCOL', async t => {
  for (const [name, codec, arb] of samples) {
    fc.assert(fc.property(arb, fc.nat(), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), (v, cut, flips) => {
      const b = xdr.encode(codec, v)
      decodeOrProtocolError(codec, b.subarray(0, cut % (b.length + 1)))
      const m = Buffer.from(b)
      for (const [at, byte] of flips) if (m.length > 0) m[at % m.length] = byte
      decodeOrProtocolError(codec, m)
      return true
    }), { numRuns: RUNS })
    t.pass(name)
  }
})

t.test('random bytes into every procedure decoder never throw anything but EGLUSTER_PROTOCOL', async t => {
  const programs: Program[] = [FopProgram, DumpProgram, HandshakeProgram, PortmapProgram, CallbackProgram]
  // a few structured prefixes so the decoders get past their first fields now and then
  const seeds = fc.oneof(
    buf(0, 300),
    fc.tuple(buf(0, 40), buf(0, 200)).map(([a, b]) => Buffer.concat([a, Buffer.from('00000000ffffffff00000000', 'hex'), b])),
    fc.tuple(buf(0, 64), fc.array(fc.constantFrom('00000001', '00000000', 'ffffffff', '00000010', '7fffffff'), { maxLength: 30 }))
      .map(([a, words]) => Buffer.concat([a, Buffer.from(words.join(''), 'hex')])),
  )
  for (const p of programs) {
    for (const proc of p.byNum.values()) {
      for (const [side, codec] of [['args', proc.args], ['res', proc.res]] as const) {
        fc.assert(fc.property(seeds, b => { decodeOrProtocolError(codec, b); return true }), { numRuns: RUNS })
        t.pass(`${p.name} ${proc.name} ${side}`)
      }
    }
  }
})
