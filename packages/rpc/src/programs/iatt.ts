// Inode attributes as they travel on the wire (gluster-wire.md §5.1, §5.2).
//   gfx_iattx       148 bytes, every 4.x fop reply (and gfx_dict type 8)   glusterfs4-xdr.x
//   gfx_mdata_iatt   36 bytes, gfx_dict type 9 (utime `set-ctime-mdata`)    glusterfs4-xdr.x
//   gf_iatt         100 bytes, the 3.x form still used by the callback program (upcalls)
import type { XdrReader } from '../xdr/reader.js'
import type { XdrWriter } from '../xdr/writer.js'
import { type Codec, opaqueFixed, struct, u32, u64 } from '../xdr/codec.js'

/** gfx_iattx: 64-bit fields are bigint, 32-bit ones number. `mode` is the full POSIX st_mode. */
export interface GfxIattx {
  ia_gfid: Buffer
  /** validity mask, GfIaFlags bits (posix bricks send 0x17ff) */
  ia_flags: bigint
  ia_ino: bigint
  ia_dev: bigint
  ia_rdev: bigint
  ia_size: bigint
  ia_blocks: bigint
  ia_attributes: bigint
  ia_attributes_mask: bigint
  ia_atime: bigint
  ia_mtime: bigint
  ia_ctime: bigint
  ia_btime: bigint
  ia_atime_nsec: number
  ia_mtime_nsec: number
  ia_ctime_nsec: number
  ia_btime_nsec: number
  ia_nlink: number
  ia_uid: number
  ia_gid: number
  ia_blksize: number
  mode: number
}

export const GFX_IATTX_BYTES = 148

/**
 * Decode one gfx_iattx: one bounds check, then fixed offsets. ia_gfid is a subarray of the
 * input. Numbers are read through the reader's DataView: getBigUint64 makes one BigInt where
 * Buffer#readBigUInt64BE makes four, and this is most of a LOOKUP reply's decode time.
 */
export function decodeGfxIattx (r: XdrReader): GfxIattx {
  const p = r.take(GFX_IATTX_BYTES)
  const v = r.view
  return {
    ia_gfid: r.buf.subarray(p, p + 16),
    ia_flags: v.getBigUint64(p + 16),
    ia_ino: v.getBigUint64(p + 24),
    ia_dev: v.getBigUint64(p + 32),
    ia_rdev: v.getBigUint64(p + 40),
    ia_size: v.getBigUint64(p + 48),
    ia_blocks: v.getBigUint64(p + 56),
    ia_attributes: v.getBigUint64(p + 64),
    ia_attributes_mask: v.getBigUint64(p + 72),
    ia_atime: v.getBigInt64(p + 80),
    ia_mtime: v.getBigInt64(p + 88),
    ia_ctime: v.getBigInt64(p + 96),
    ia_btime: v.getBigInt64(p + 104),
    ia_atime_nsec: v.getUint32(p + 112),
    ia_mtime_nsec: v.getUint32(p + 116),
    ia_ctime_nsec: v.getUint32(p + 120),
    ia_btime_nsec: v.getUint32(p + 124),
    ia_nlink: v.getUint32(p + 128),
    ia_uid: v.getUint32(p + 132),
    ia_gid: v.getUint32(p + 136),
    ia_blksize: v.getUint32(p + 140),
    mode: v.getUint32(p + 144),
  }
}

export function encodeGfxIattx (w: XdrWriter, v: GfxIattx): void {
  if (v.ia_gfid.length !== 16) throw new RangeError(`gfx_iattx.ia_gfid must be 16 bytes, got ${v.ia_gfid.length}`)
  w.fixed(v.ia_gfid, 16)
  w.u64(v.ia_flags).u64(v.ia_ino).u64(v.ia_dev).u64(v.ia_rdev).u64(v.ia_size).u64(v.ia_blocks)
  w.u64(v.ia_attributes).u64(v.ia_attributes_mask)
  w.i64(v.ia_atime).i64(v.ia_mtime).i64(v.ia_ctime).i64(v.ia_btime)
  w.u32(v.ia_atime_nsec).u32(v.ia_mtime_nsec).u32(v.ia_ctime_nsec).u32(v.ia_btime_nsec)
  w.u32(v.ia_nlink).u32(v.ia_uid).u32(v.ia_gid).u32(v.ia_blksize).u32(v.mode)
}

export const GfxIattx: Codec<GfxIattx> = { encode: encodeGfxIattx, decode: decodeGfxIattx }

/**
 * A gfx_iattx with every field zero (what bricks send where an attribute does not apply:
 * LOOKUP of "/" postparent, GETXATTR pre/post), with `fields` laid over it.
 */
export function newGfxIattx (fields: Partial<GfxIattx> = {}): GfxIattx {
  return {
    ia_gfid: Buffer.alloc(16),
    ia_flags: 0n,
    ia_ino: 0n,
    ia_dev: 0n,
    ia_rdev: 0n,
    ia_size: 0n,
    ia_blocks: 0n,
    ia_attributes: 0n,
    ia_attributes_mask: 0n,
    ia_atime: 0n,
    ia_mtime: 0n,
    ia_ctime: 0n,
    ia_btime: 0n,
    ia_atime_nsec: 0,
    ia_mtime_nsec: 0,
    ia_ctime_nsec: 0,
    ia_btime_nsec: 0,
    ia_nlink: 0,
    ia_uid: 0,
    ia_gid: 0,
    ia_blksize: 0,
    mode: 0,
    ...fields,
  }
}

/** gfx_mdata_iatt (36 bytes): the times the utime translator asks a brick to set. */
export interface GfxMdataIatt {
  ia_atime: bigint
  ia_mtime: bigint
  ia_ctime: bigint
  ia_atime_nsec: number
  ia_mtime_nsec: number
  ia_ctime_nsec: number
}
const GFX_MDATA_IATT_BYTES = 36

/** Decoded by hand like gfx_iattx (one bounds check, DataView reads) rather than with struct(). */
function decodeGfxMdataIatt (r: XdrReader): GfxMdataIatt {
  const p = r.take(GFX_MDATA_IATT_BYTES)
  const v = r.view
  return {
    ia_atime: v.getBigInt64(p),
    ia_mtime: v.getBigInt64(p + 8),
    ia_ctime: v.getBigInt64(p + 16),
    ia_atime_nsec: v.getUint32(p + 24),
    ia_mtime_nsec: v.getUint32(p + 28),
    ia_ctime_nsec: v.getUint32(p + 32),
  }
}

function encodeGfxMdataIatt (w: XdrWriter, v: GfxMdataIatt): void {
  w.i64(v.ia_atime).i64(v.ia_mtime).i64(v.ia_ctime)
  w.u32(v.ia_atime_nsec).u32(v.ia_mtime_nsec).u32(v.ia_ctime_nsec)
}

export const GfxMdataIatt: Codec<GfxMdataIatt> = { encode: encodeGfxMdataIatt, decode: decodeGfxMdataIatt }

/** gf_iatt: the 3.x attribute block (32-bit times, no flags, no btime); callbacks still carry it. */
export interface GfIatt {
  ia_gfid: Buffer
  ia_ino: bigint
  ia_dev: bigint
  mode: number
  ia_nlink: number
  ia_uid: number
  ia_gid: number
  ia_rdev: bigint
  ia_size: bigint
  ia_blksize: number
  ia_blocks: bigint
  ia_atime: number
  ia_atime_nsec: number
  ia_mtime: number
  ia_mtime_nsec: number
  ia_ctime: number
  ia_ctime_nsec: number
}
export const GF_IATT_BYTES = 100
export const GfIatt: Codec<GfIatt> = struct({
  ia_gfid: opaqueFixed(16),
  ia_ino: u64,
  ia_dev: u64,
  mode: u32,
  ia_nlink: u32,
  ia_uid: u32,
  ia_gid: u32,
  ia_rdev: u64,
  ia_size: u64,
  ia_blksize: u32,
  ia_blocks: u64,
  ia_atime: u32,
  ia_atime_nsec: u32,
  ia_mtime: u32,
  ia_mtime_nsec: u32,
  ia_ctime: u32,
  ia_ctime_nsec: u32,
})
