// Fixtures shared by the XDR benches: the three workloads (bytes and values) and the same
// structs declared in @stellar/js-xdr 4.0.0, with converters from our values to the peer's.
import StellarXdr from '@stellar/js-xdr'
import type { XdrTypeClass } from '@stellar/js-xdr'
import {
  GfxCommon2iattRsp, GfxDict, GfxDictType, GfxReadRsp, gfxDictXdrSize, xdr,
  type GfxIattx, type GfxMdataIatt, type GfxReadRsp as GfxReadRspT, type GfxValue,
} from '@gluster-ts/rpc'

export const PEER = '@stellar/js-xdr'
export const OURS = 'gluster-ts'

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

/**
 * failover.pcap frame 217 (packages/rpc/test/vectors/failover.records.jsonl): the body of a
 * LOOKUP reply from a GlusterFS 10 brick, after the 24-byte RPC reply header. xdata = link-count
 * INT, glusterfs.inodelk-count INT, glusterfs.entrylk-count INT, trusted.afr.dirty PTR[12],
 * trusted.afr.vol1-client-1 PTR[12], trusted.glusterfs.mdata PTR[57]; prestat = "/", poststat
 * all zero (no parent). 616 bytes.
 */
const LOOKUP_RSP_HEX =
  '00000000000000000000012c00000006000000060000000b6c696e6b2d636f756e7400000000000200000000000000010000' +
  '0018676c757374657266732e696e6f64656c6b2d636f756e740000000002000000000000000000000018676c75737465726673' +
  '2e656e7472796c6b2d636f756e740000000002000000000000000000000012747275737465642e6166722e646972747900000000' +
  '0000060000000c0000000000000000000000000000001a747275737465642e6166722e766f6c312d636c69656e742d31000000' +
  '000000060000000c00000000000000000000000100000018747275737465642e676c757374657266732e6d6461746100000000' +
  '0600000039010000000000000000000000006b06af07000000000de0bcbb000000006b06af07000000000de0bcbb000000006b' +
  '06ae3000000000025b4d550000000000000000000000000000000000000100000000000017ff0000000000000001000000000000' +
  'fe0000000000000000000000000000001000000000000000000800000000000000000000000000000000000000006b06ae3000' +
  '0000006b06af07000000006b06af070000000000000000025b4d550de0bcbb0de0bcbb00000000000000050000000000000000' +
  '00001000000041ed' + '00'.repeat(148)

/**
 * read.pcap frame 86: the gfx_read_rsp of a 128 KiB READ (op_ret 131072, the file's iattx,
 * size, NULL xdata), 172 bytes; the data that followed it is replaced by our own 128 KiB.
 */
const READ_RSP_HDR_HEX =
  '0002000000000000c42cc214b6054e5b83cf72dbab3767a400000000000017ff83cf72dbab3767a4000000000000fe00000000' +
  '0000000000000000000004b000000000000000025800000000000000000000000000000000000000006b06ae96000000006b06' +
  'ae97000000006b06ae9700000000000000003b1574770016ab310016ab310000000000000001000000000000000000001000' +
  '000081a40002000000000000ffffffff00000000'
export const READ_BYTES = 128 * 1024

export const lookupBytes = Buffer.from(LOOKUP_RSP_HEX, 'hex')
export const readData = Buffer.alloc(READ_BYTES)
for (let i = 0; i < READ_BYTES; i++) readData[i] = (i * 2654435761) >>> 24
export const readBytes = Buffer.concat([Buffer.from(READ_RSP_HDR_HEX, 'hex'), readData])

const gfid = (hex: string): Buffer => Buffer.from(hex.replace(/-/g, ''), 'hex')
const mdata: GfxMdataIatt = {
  ia_atime: 1795600022n, ia_mtime: 1795600023n, ia_ctime: 1795600023n,
  ia_atime_nsec: 991261815, ia_mtime_nsec: 1485617, ia_ctime_nsec: 1485617,
}
/**
 * 20 pairs: the 13 of a FUSE client's LOOKUP xdata (gluster-wire.md §4.2, mount frame 127) plus
 * gfid-req, DHT layout xattrs, a string, a double, an open-fd count and set-ctime-mdata.
 */
export const dict20 = new Map<string, GfxValue>([
  ['gfid-req', { type: GfxDictType.GFUUID, value: gfid('c42cc214-b605-4e5b-83cf-72dbab3767a4') }],
  ['link-count', { type: GfxDictType.STR, value: 'glusterfs.xattrop_index_count' }],
  ['glusterfs.parent-entrylk', { type: GfxDictType.UINT, value: 0n }],
  ['glusterfs.entrylk-count', { type: GfxDictType.UINT, value: 0n }],
  ['glusterfs.inodelk-count', { type: GfxDictType.UINT, value: 0n }],
  ['list-xattr', { type: GfxDictType.INT, value: 1n }],
  ['trusted.afr.dirty', { type: GfxDictType.UINT, value: 12n }],
  ['trusted.afr.vol1-client-0', { type: GfxDictType.UINT, value: 12n }],
  ['trusted.afr.vol1-client-1', { type: GfxDictType.UINT, value: 12n }],
  ['trusted.afr.vol1-client-2', { type: GfxDictType.UINT, value: 12n }],
  ['security.capability', { type: GfxDictType.INT, value: 0n }],
  ['security.ima', { type: GfxDictType.INT, value: 0n }],
  ['glusterfs.content', { type: GfxDictType.UINT, value: 65536n }],
  ['trusted.glusterfs.mdata', { type: GfxDictType.INT, value: 1n }],
  ['trusted.glusterfs.dht', { type: GfxDictType.PTR, value: gfid('00000001000000007fffffffffffffff') }],
  ['trusted.glusterfs.dht.mds', { type: GfxDictType.PTR, value: Buffer.from([0, 0, 0, 0]) }],
  ['glusterfs.open-fd-count', { type: GfxDictType.UINT, value: 0n }],
  ['user.comment', { type: GfxDictType.STR, value: 'nightly backup, do not remove' }],
  ['user.ratio', { type: GfxDictType.DOUBLE, value: 0.625 }],
  ['set-ctime-mdata', { type: GfxDictType.MDATA, value: mdata }],
])

// ---------------------------------------------------------------------------------------------
// The same structs declared in @stellar/js-xdr (glusterfs4-xdr.x / rpc-common-xdr.x, as
// gluster-wire.md §4.2 and §5 describe them)
// ---------------------------------------------------------------------------------------------

const P: Record<string, XdrTypeClass> = StellarXdr.config(x => {
  x.enum('gf_dict_data_type_t', {
    GF_DATA_TYPE_UNKNOWN: 0,
    GF_DATA_TYPE_STR_OLD: 1,
    GF_DATA_TYPE_INT: 2,
    GF_DATA_TYPE_UINT: 3,
    GF_DATA_TYPE_DOUBLE: 4,
    GF_DATA_TYPE_STR: 5,
    GF_DATA_TYPE_PTR: 6,
    GF_DATA_TYPE_GFUUID: 7,
    GF_DATA_TYPE_IATT: 8,
    GF_DATA_TYPE_MDATA: 9,
  })
  x.struct('gfx_iattx', [
    ['ia_gfid', x.opaque(16)],
    ['ia_flags', x.uhyper()],
    ['ia_ino', x.uhyper()],
    ['ia_dev', x.uhyper()],
    ['ia_rdev', x.uhyper()],
    ['ia_size', x.uhyper()],
    ['ia_blocks', x.uhyper()],
    ['ia_attributes', x.uhyper()],
    ['ia_attributes_mask', x.uhyper()],
    ['ia_atime', x.hyper()],
    ['ia_mtime', x.hyper()],
    ['ia_ctime', x.hyper()],
    ['ia_btime', x.hyper()],
    ['ia_atime_nsec', x.uint()],
    ['ia_mtime_nsec', x.uint()],
    ['ia_ctime_nsec', x.uint()],
    ['ia_btime_nsec', x.uint()],
    ['ia_nlink', x.uint()],
    ['ia_uid', x.uint()],
    ['ia_gid', x.uint()],
    ['ia_blksize', x.uint()],
    ['mode', x.uint()],
  ])
  x.struct('gfx_mdata_iatt', [
    ['ia_atime', x.hyper()],
    ['ia_mtime', x.hyper()],
    ['ia_ctime', x.hyper()],
    ['ia_atime_nsec', x.uint()],
    ['ia_mtime_nsec', x.uint()],
    ['ia_ctime_nsec', x.uint()],
  ])
  x.union('gfx_value', {
    switchOn: x.lookup('gf_dict_data_type_t'),
    switches: [
      ['GF_DATA_TYPE_INT', 'value_int'],
      ['GF_DATA_TYPE_UINT', 'value_uint'],
      ['GF_DATA_TYPE_DOUBLE', 'value_dbl'],
      ['GF_DATA_TYPE_STR', 'val_string'],
      ['GF_DATA_TYPE_IATT', 'iatt'],
      ['GF_DATA_TYPE_MDATA', 'mdata'],
      ['GF_DATA_TYPE_STR_OLD', 'other'],
      ['GF_DATA_TYPE_PTR', 'other'],
      ['GF_DATA_TYPE_GFUUID', 'uuid'],
    ],
    arms: {
      value_int: x.hyper(),
      value_uint: x.uhyper(),
      value_dbl: x.double(),
      val_string: x.varOpaque(),
      iatt: x.lookup('gfx_iattx'),
      mdata: x.lookup('gfx_mdata_iatt'),
      other: x.varOpaque(),
      uuid: x.opaque(16),
    },
  })
  x.struct('gfx_dict_pair', [
    ['key', x.varOpaque()],
    ['value', x.lookup('gfx_value')],
  ])
  x.struct('gfx_dict', [
    ['xdr_size', x.uint()],
    ['count', x.int()],
    ['pairs', x.varArray(x.lookup('gfx_dict_pair'))],
  ])
  x.struct('gfx_common_2iatt_rsp', [
    ['op_ret', x.int()],
    ['op_errno', x.int()],
    ['xdata', x.lookup('gfx_dict')],
    ['prestat', x.lookup('gfx_iattx')],
    ['poststat', x.lookup('gfx_iattx')],
  ])
  // the READ data follows this struct raw, to the end of the record (gluster-wire.md §8)
  x.struct('gfx_read_rsp', [
    ['op_ret', x.int()],
    ['op_errno', x.int()],
    ['stat', x.lookup('gfx_iattx')],
    ['size', x.uint()],
    ['xdata', x.lookup('gfx_dict')],
  ])
})

const T = (name: string): XdrTypeClass => {
  const t = P[name]
  if (t === undefined) throw new Error(`js-xdr config has no ${name}`)
  return t
}
export const PIattx = T('gfx_iattx')
export const PMdata = T('gfx_mdata_iatt')
export const PValue = T('gfx_value')
export const PPair = T('gfx_dict_pair')
export const PDict = T('gfx_dict')
export const PLookupRsp = T('gfx_common_2iatt_rsp')
export const PReadRsp = T('gfx_read_rsp')

// Our values → js-xdr values (once, outside the timed code).
export const peerIattx = (v: GfxIattx): unknown => new PIattx({ ...v })
export const peerMdata = (v: GfxMdataIatt): unknown => new PMdata({ ...v })
export function peerValue (v: GfxValue): unknown {
  switch (v.type) {
    case GfxDictType.STR_OLD: return new PValue('GF_DATA_TYPE_STR_OLD', v.value)
    case GfxDictType.INT: return new PValue('GF_DATA_TYPE_INT', v.value)
    case GfxDictType.UINT: return new PValue('GF_DATA_TYPE_UINT', v.value)
    case GfxDictType.DOUBLE: return new PValue('GF_DATA_TYPE_DOUBLE', v.value)
    case GfxDictType.STR: return new PValue('GF_DATA_TYPE_STR', Buffer.from(v.value + '\0', 'utf8'))
    case GfxDictType.PTR: return new PValue('GF_DATA_TYPE_PTR', v.value)
    case GfxDictType.GFUUID: return new PValue('GF_DATA_TYPE_GFUUID', v.value)
    case GfxDictType.IATT: return new PValue('GF_DATA_TYPE_IATT', peerIattx(v.value))
    case GfxDictType.MDATA: return new PValue('GF_DATA_TYPE_MDATA', peerMdata(v.value))
  }
}
export function peerDict (d: GfxDict): unknown {
  if (d === null) return new PDict({ xdr_size: 0, count: -1, pairs: [] })
  const pairs = [...d].map(([k, v]) => new PPair({ key: Buffer.from(k + '\0', 'utf8'), value: peerValue(v) }))
  return new PDict({ xdr_size: gfxDictXdrSize(d), count: pairs.length, pairs })
}

// ---------------------------------------------------------------------------------------------
// Values, ours and the peer's (built once, outside any timed code)
// ---------------------------------------------------------------------------------------------

export const lookupValue = xdr.decode(GfxCommon2iattRsp, lookupBytes)
export const readValue: GfxReadRspT = xdr.decode(GfxReadRsp, readBytes)
export const dictBytes = xdr.encode(GfxDict, dict20)

export const lookupPeer = new PLookupRsp({
  op_ret: lookupValue.op_ret,
  op_errno: lookupValue.op_errno,
  xdata: peerDict(lookupValue.xdata),
  prestat: peerIattx(lookupValue.prestat),
  poststat: peerIattx(lookupValue.poststat),
})
export const readPeer = new PReadRsp({
  op_ret: readValue.op_ret,
  op_errno: readValue.op_errno,
  stat: peerIattx(readValue.stat),
  size: readValue.size,
  xdata: peerDict(readValue.xdata),
})
export const dictPeer = peerDict(dict20)

/** The peer's READ reply decode: the header struct, then the rest of the record as the data. */
export function peerDecodeRead (b: Buffer): { header: any, data: Buffer } {
  const r = new StellarXdr.XdrReader(b)
  const header = PReadRsp.read(r)
  return { header, data: b.subarray(b.length - r.remainingBytes()) }
}

/** Row names, and what each workload is (printed above the table). */
export const WORKLOAD_NAMES = {
  lookup: 'LOOKUP reply',
  read: 'READ reply 128 KiB',
  dict: 'gfx_dict 20 keys',
} as const
export const WORKLOAD_LEGEND = [
  `LOOKUP reply       gfx_common_2iatt_rsp: 2 × gfx_iattx + 6-key xdata, ${lookupBytes.length} B (failover.pcap frame 217)`,
  `READ reply 128 KiB gfx_read_rsp header (read.pcap frame 86) + ${READ_BYTES} B of data, never copied`,
  `gfx_dict 20 keys   INT/UINT/DOUBLE/STR/PTR/GFUUID/MDATA values, ${dictBytes.length} B`,
]

// ---------------------------------------------------------------------------------------------
// Validation helpers: any difference aborts the run before timing
// ---------------------------------------------------------------------------------------------

export const flat = (b: Buffer[] | Buffer): Buffer => Buffer.isBuffer(b) ? Buffer.from(b) : Buffer.concat(b)

function firstDiff (a: Buffer, b: Buffer): string {
  const n = Math.min(a.length, b.length)
  let i = 0
  while (i < n && a[i] === b[i]) i++
  return `lengths ${a.length} / ${b.length}, first difference at byte ${i}: ` +
    `${a.subarray(i, i + 16).toString('hex')} vs ${b.subarray(i, i + 16).toString('hex')}`
}

export function mustEqual (what: string, got: Buffer, want: Buffer): void {
  if (!got.equals(want)) {
    console.error(`VALIDATION FAILED: ${what} differs from the fixture (${firstDiff(got, want)})`)
    process.exit(1)
  }
}
