// Attribute blocks (src/programs/iatt.ts): gfx_iattx (148 bytes, hand-written codec),
// gfx_mdata_iatt (36) and the 3.x gf_iatt (100) the callbacks use.
import t from 'tap'
import {
  GFX_IATTX_BYTES, GF_IATT_BYTES, GfIaFlags, GfIatt, GfxIattx, GfxMdataIatt, ROOT_GFID, XdrReader, XdrWriter,
  decodeGfxIattx, encodeGfxIattx, newGfxIattx, xdr,
} from '@gluster-ts/rpc'
import type { GfxIattx as GfxIattxType } from '@gluster-ts/rpc'

const h = (hex: string): Buffer => Buffer.from(hex, 'hex')

// mount frame 130: the brick's LOOKUP reply for "/" (prestat)
const ROOT_IATTX = h(
  '0000000000000000000000000000000100000000000017ff0000000000000001000000000000fe000000000000000000' +
  '0000000000001000000000000000000800000000000000000000000000000000000000006b06ae30000000006b06ae33' +
  '000000006b06ae330000000000000000025b4d551ff1e15e1ff1e15e0000000000000004000000000000000000001000' +
  '000041ed')
const ROOT_VALUE: GfxIattxType = newGfxIattx({
  ia_gfid: ROOT_GFID,
  ia_flags: 0x17ffn,
  ia_ino: 1n,
  ia_dev: 0xfe00n,
  ia_size: 4096n,
  ia_blocks: 8n,
  ia_atime: 1795599920n,
  ia_mtime: 1795599923n,
  ia_ctime: 1795599923n,
  ia_atime_nsec: 39538005,
  ia_mtime_nsec: 535945566,
  ia_ctime_nsec: 535945566,
  ia_nlink: 4,
  ia_blksize: 4096,
  mode: 0o40755,
})
// read frame 51: the READ reply's stat of the 5000-byte file
const FILE_IATTX = h(
  '39c162eb96d040a790e3966fc9e991d700000000000017ff90e3966fc9e991d7000000000000fe000000000000000000' +
  '0000000000001388000000000000000a00000000000000000000000000000000000000006b06ae96000000006b06ae96' +
  '000000006b06ae96000000000000000039fc24d53a9750c73a9750c70000000000000001000000000000000000001000' +
  '000081a4')

t.test('gfx_iattx of the root directory (mount frame 130)', async t => {
  t.equal(ROOT_IATTX.length, GFX_IATTX_BYTES)
  const v = xdr.decode(GfxIattx, ROOT_IATTX)
  t.strictSame(v, ROOT_VALUE)
  t.equal(xdr.encode(GfxIattx, ROOT_VALUE).toString('hex'), ROOT_IATTX.toString('hex'))
  t.equal(v.mode & 0o170000, 0o040000, 'full st_mode: S_IFDIR')
  t.equal(Number(v.ia_flags) & GfIaFlags.GFID, GfIaFlags.GFID)
  t.equal(v.ia_flags, BigInt(Object.values(GfIaFlags).filter(b => b !== GfIaFlags.BTIME).reduce((a, b) => a | b, 0)),
    '0x17ff = every validity bit but BTIME')
})

t.test('gfx_iattx of a file (read frame 51): ino is the last 8 bytes of the gfid', async t => {
  const v = xdr.decode(GfxIattx, FILE_IATTX)
  t.equal(v.ia_size, 5000n)
  t.equal(v.mode, 0o100644)
  t.equal(v.ia_ino, v.ia_gfid.readBigUInt64BE(8))
  t.equal(v.ia_gfid.buffer, FILE_IATTX.buffer, 'gfid is a subarray, not a copy')
  t.equal(xdr.encode(GfxIattx, v).toString('hex'), FILE_IATTX.toString('hex'))
})

t.test('gfx_iattx: signed times, full-width fields, zero iattx', async t => {
  const v = newGfxIattx({
    ia_gfid: Buffer.alloc(16, 0xff),
    ia_flags: 2n ** 64n - 1n,
    ia_size: 2n ** 63n,
    ia_atime: -1n,
    ia_mtime: -(2n ** 63n),
    ia_btime: 2n ** 63n - 1n,
    ia_atime_nsec: 999999999,
    ia_uid: 0xffffffff,
    mode: 0o120777,
  })
  const b = xdr.encode(GfxIattx, v)
  t.equal(b.length, 148)
  t.equal(b.subarray(80, 88).toString('hex'), 'ffffffffffffffff', 'atime -1')
  t.equal(b.subarray(88, 96).toString('hex'), '8000000000000000', 'mtime min')
  t.strictSame(xdr.decode(GfxIattx, b), v)
  t.equal(xdr.encode(GfxIattx, newGfxIattx()).toString('hex'), '00'.repeat(148), 'all zero')
  t.throws(() => xdr.encode(GfxIattx, newGfxIattx({ ia_gfid: Buffer.alloc(15) })), RangeError)
})

t.test('gfx_iattx: truncated input is EGLUSTER_PROTOCOL, and the reader advances exactly 148 bytes', async t => {
  for (let i = 0; i < ROOT_IATTX.length; i++) {
    t.throws(() => xdr.decode(GfxIattx, ROOT_IATTX.subarray(0, i)), { name: 'GlusterError', code: 'EGLUSTER_PROTOCOL' })
  }
  const r = new XdrReader(Buffer.concat([h('deadbeef'), ROOT_IATTX, ROOT_IATTX, h('cafebabe')]))
  t.equal(r.u32(), 0xdeadbeef)
  t.strictSame(decodeGfxIattx(r), ROOT_VALUE)
  t.strictSame(decodeGfxIattx(r), ROOT_VALUE)
  t.equal(r.u32(), 0xcafebabe)
  const w = new XdrWriter()
  w.u32(1)
  encodeGfxIattx(w, ROOT_VALUE)
  t.equal(w.finish().subarray(4).toString('hex'), ROOT_IATTX.toString('hex'))
})

t.test('gfx_mdata_iatt (36 bytes, mount frame 148)', async t => {
  const hex = '000000006b06ae30000000006b06ae33000000006b06ae33025b4d551ff1e15e1ff1e15e'
  const v = { ia_atime: 1795599920n, ia_mtime: 1795599923n, ia_ctime: 1795599923n, ia_atime_nsec: 39538005, ia_mtime_nsec: 535945566, ia_ctime_nsec: 535945566 }
  t.strictSame(xdr.decode(GfxMdataIatt, h(hex)), v)
  t.equal(xdr.encode(GfxMdataIatt, v).toString('hex'), hex)
})

t.test('gf_iatt, the 3.x form (100 bytes, hand-made)', async t => {
  const v = {
    ia_gfid: h('872aeb5df2664c678218e1fedf3712d4'),
    ia_ino: 0x8218e1fedf3712d4n,
    ia_dev: 0xfe00n,
    mode: 0o100644,
    ia_nlink: 1,
    ia_uid: 1000,
    ia_gid: 100,
    ia_rdev: 0n,
    ia_size: 13n,
    ia_blksize: 4096,
    ia_blocks: 8n,
    ia_atime: 1795599920,
    ia_atime_nsec: 1,
    ia_mtime: 1795599921,
    ia_mtime_nsec: 2,
    ia_ctime: 1795599922,
    ia_ctime_nsec: 3,
  }
  const hex = '872aeb5df2664c678218e1fedf3712d4' + '8218e1fedf3712d4' + '000000000000fe00' +
    '000081a4' + '00000001' + '000003e8' + '00000064' + '0000000000000000' + '000000000000000d' +
    '00001000' + '0000000000000008' + '6b06ae30' + '00000001' + '6b06ae31' + '00000002' + '6b06ae32' + '00000003'
  t.equal(hex.length / 2, GF_IATT_BYTES)
  t.equal(xdr.encode(GfIatt, v).toString('hex'), hex)
  t.strictSame(xdr.decode(GfIatt, h(hex)), v)
})
