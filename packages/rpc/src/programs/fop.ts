// The GlusterFS 4.x fop program, 1298437 version 400 ("GlusterFS 4.x v1"): every request and
// reply struct of glusterfs4-xdr.x (gluster-wire.md §2.5, §5.3, §6, §8), named after the .x
// struct with the .x field names, and the procedure table shared by client and server.
//
// Conventions: every gfid/pargfid/oldgfid/newgfid is opaque[16] (a Buffer); `fd` is a signed
// hyper (bigint; -2 = anonymous fd); offsets and sizes declared u_quad_t are unsigned bigints;
// every xdata/dict is a gfx_dict (GfxDict, null = the NULL dict).
import { type Codec, i32, i64, list, opaque, opaqueFixed, rest, string, struct, u32, u64, xvoid } from '../xdr/codec.js'
import { defineProgram } from './program.js'
import { type GfxDict, GfxDict as Dict } from '../dict.js'
import { type GfxIattx, GfxIattx as Iattx } from './iatt.js'
import {
  type GfProtoFlock, type GfProtoLease, type GfStatfs, type GfxDirlist, type GfxDirplist, type Gfs3Locklist,
  GfCommonRsp, GfProtoFlock as Flock, GfProtoLease as Lease, GfStatfs as Statfs, GfxDirlist as Dirlist,
  GfxDirplist as Dirplist, Gfs3Locklist as Locklist, GfxFop,
} from './common.js'

export const GLUSTER_FOP_PROGRAM = 1298437
export const GLUSTER_FOP_VERSION = 400

const gfid = opaqueFixed(16)

// ---------------------------------------------------------------------------------------------
// Reply families (xdata is the third field everywhere except gfx_read_rsp)
// ---------------------------------------------------------------------------------------------

/** gfx_common_rsp: FLUSH, SETXATTR, REMOVEXATTR, FSYNCDIR, ACCESS, *INODELK, *ENTRYLK, FSETXATTR, RELEASE(DIR), FREMOVEXATTR, IPC, SETACTIVELK */
export interface GfxCommonRsp { op_ret: number, op_errno: number, xdata: GfxDict }
export const GfxCommonRsp: Codec<GfxCommonRsp> = struct({ op_ret: i32, op_errno: i32, xdata: Dict })

/** gfx_common_iatt_rsp: STAT, FSTAT, ICREATE */
export interface GfxCommonIattRsp { op_ret: number, op_errno: number, xdata: GfxDict, stat: GfxIattx }
export const GfxCommonIattRsp: Codec<GfxCommonIattRsp> = struct({ op_ret: i32, op_errno: i32, xdata: Dict, stat: Iattx })

/**
 * gfx_common_2iatt_rsp: UNLINK/RMDIR (preparent, postparent), TRUNCATE, WRITE, FSYNC,
 * FTRUNCATE, SETATTR, FSETATTR, FALLOCATE, DISCARD, ZEROFILL, NAMELINK, and LOOKUP, where
 * prestat is the object and poststat its parent.
 */
export interface GfxCommon2iattRsp { op_ret: number, op_errno: number, xdata: GfxDict, prestat: GfxIattx, poststat: GfxIattx }
export const GfxCommon2iattRsp: Codec<GfxCommon2iattRsp> = struct({
  op_ret: i32, op_errno: i32, xdata: Dict, prestat: Iattx, poststat: Iattx,
})

/** gfx_common_3iatt_rsp: MKNOD, MKDIR, SYMLINK, LINK, COPY_FILE_RANGE (stat, prebuf_dst, postbuf_dst) */
export interface GfxCommon3iattRsp {
  op_ret: number, op_errno: number, xdata: GfxDict, stat: GfxIattx, preparent: GfxIattx, postparent: GfxIattx
}
export const GfxCommon3iattRsp: Codec<GfxCommon3iattRsp> = struct({
  op_ret: i32, op_errno: i32, xdata: Dict, stat: Iattx, preparent: Iattx, postparent: Iattx,
})

/** gfx_common_dict_rsp: GETXATTR, FGETXATTR, XATTROP, FXATTROP (op_ret = value size for GETXATTR) */
export interface GfxCommonDictRsp {
  op_ret: number, op_errno: number, xdata: GfxDict, dict: GfxDict, prestat: GfxIattx, poststat: GfxIattx
}
export const GfxCommonDictRsp: Codec<GfxCommonDictRsp> = struct({
  op_ret: i32, op_errno: i32, xdata: Dict, dict: Dict, prestat: Iattx, poststat: Iattx,
})

/** gfx_open_rsp: OPEN, OPENDIR (fd numbers start at 0 per connection) */
export interface GfxOpenRsp { op_ret: number, op_errno: number, xdata: GfxDict, fd: bigint }
export const GfxOpenRsp: Codec<GfxOpenRsp> = struct({ op_ret: i32, op_errno: i32, xdata: Dict, fd: i64 })

/** gfx_create_rsp (fd is u_quad_t here, unlike gfx_open_rsp) */
export interface GfxCreateRsp {
  op_ret: number, op_errno: number, xdata: GfxDict, stat: GfxIattx, fd: bigint, preparent: GfxIattx, postparent: GfxIattx
}
export const GfxCreateRsp: Codec<GfxCreateRsp> = struct({
  op_ret: i32, op_errno: i32, xdata: Dict, stat: Iattx, fd: u64, preparent: Iattx, postparent: Iattx,
})

/**
 * gfx_read_rsp, then the data. xdata comes LAST in this struct, and the read bytes follow it
 * raw (no length word, no padding) up to the end of the record (§8): `data` is everything after
 * xdata, a subarray of the record. GlusterFS finds the data by skipping xdata's 12 fixed bytes
 * plus its xdr_size rounded to 4; decoding xdata checks that xdr_size is exactly what the pairs
 * took, so both ways agree. `size` = op_ret on success; op_errno 2 (ENOENT) marks EOF.
 */
export interface GfxReadRsp { op_ret: number, op_errno: number, stat: GfxIattx, size: number, xdata: GfxDict, data: Buffer }
export const GfxReadRsp: Codec<GfxReadRsp> = struct({
  op_ret: i32, op_errno: i32, stat: Iattx, size: u32, xdata: Dict, data: rest,
})

/** gfx_readlink_rsp */
export interface GfxReadlinkRsp { op_ret: number, op_errno: number, xdata: GfxDict, buf: GfxIattx, path: string }
export const GfxReadlinkRsp: Codec<GfxReadlinkRsp> = struct({
  op_ret: i32, op_errno: i32, xdata: Dict, buf: Iattx, path: string(),
})

/** gfx_rename_rsp */
export interface GfxRenameRsp {
  op_ret: number
  op_errno: number
  xdata: GfxDict
  stat: GfxIattx
  preoldparent: GfxIattx
  postoldparent: GfxIattx
  prenewparent: GfxIattx
  postnewparent: GfxIattx
}
export const GfxRenameRsp: Codec<GfxRenameRsp> = struct({
  op_ret: i32,
  op_errno: i32,
  xdata: Dict,
  stat: Iattx,
  preoldparent: Iattx,
  postoldparent: Iattx,
  prenewparent: Iattx,
  postnewparent: Iattx,
})

/** gfx_statfs_rsp */
export interface GfxStatfsRsp { op_ret: number, op_errno: number, xdata: GfxDict, statfs: GfStatfs }
export const GfxStatfsRsp: Codec<GfxStatfsRsp> = struct({ op_ret: i32, op_errno: i32, xdata: Dict, statfs: Statfs })

/** gfx_lk_rsp */
export interface GfxLkRsp { op_ret: number, op_errno: number, xdata: GfxDict, flock: GfProtoFlock }
export const GfxLkRsp: Codec<GfxLkRsp> = struct({ op_ret: i32, op_errno: i32, xdata: Dict, flock: Flock })

/** gfx_lease_rsp */
export interface GfxLeaseRsp { op_ret: number, op_errno: number, xdata: GfxDict, lease: GfProtoLease }
export const GfxLeaseRsp: Codec<GfxLeaseRsp> = struct({ op_ret: i32, op_errno: i32, xdata: Dict, lease: Lease })

/** gfx_seek_rsp */
export interface GfxSeekRsp { op_ret: number, op_errno: number, xdata: GfxDict, offset: bigint }
export const GfxSeekRsp: Codec<GfxSeekRsp> = struct({ op_ret: i32, op_errno: i32, xdata: Dict, offset: u64 })

/** gfx_rchecksum_rsp (flags 1 = SHA-256 strong checksum, 32 bytes) */
export interface GfxRchecksumRsp {
  op_ret: number, op_errno: number, xdata: GfxDict, flags: number, weak_checksum: number, strong_checksum: Buffer
}
export const GfxRchecksumRsp: Codec<GfxRchecksumRsp> = struct({
  op_ret: i32, op_errno: i32, xdata: Dict, flags: u32, weak_checksum: u32, strong_checksum: opaque(),
})

/** gfx_readdir_rsp: op_ret = entry count (0 = end), op_errno 2 at the end; reply = the entry chain */
export interface GfxReaddirRsp { op_ret: number, op_errno: number, xdata: GfxDict, reply: GfxDirlist[] }
export const GfxReaddirRsp: Codec<GfxReaddirRsp> = struct({ op_ret: i32, op_errno: i32, xdata: Dict, reply: list(Dirlist) })

/** gfx_readdirp_rsp: as gfx_readdir_rsp, with attributes and a dict per entry */
export interface GfxReaddirpRsp { op_ret: number, op_errno: number, xdata: GfxDict, reply: GfxDirplist[] }
export const GfxReaddirpRsp: Codec<GfxReaddirpRsp> = struct({ op_ret: i32, op_errno: i32, xdata: Dict, reply: list(Dirplist) })

/** gfx_getactivelk_rsp */
export interface GfxGetactivelkRsp { op_ret: number, op_errno: number, xdata: GfxDict, reply: Gfs3Locklist[] }
export const GfxGetactivelkRsp: Codec<GfxGetactivelkRsp> = struct({
  op_ret: i32, op_errno: i32, xdata: Dict, reply: list(Locklist),
})

// ---------------------------------------------------------------------------------------------
// Requests, in procedure order
// ---------------------------------------------------------------------------------------------

/** gfx_stat_req */
export interface GfxStatReq { gfid: Buffer, xdata: GfxDict }
export const GfxStatReq: Codec<GfxStatReq> = struct({ gfid, xdata: Dict })

/** gfx_readlink_req */
export interface GfxReadlinkReq { gfid: Buffer, size: number, xdata: GfxDict }
export const GfxReadlinkReq: Codec<GfxReadlinkReq> = struct({ gfid, size: u32, xdata: Dict })

/** gfx_mknod_req (dev: the raw dev_t) */
export interface GfxMknodReq { pargfid: Buffer, dev: bigint, mode: number, umask: number, bname: string, xdata: GfxDict }
export const GfxMknodReq: Codec<GfxMknodReq> = struct({
  pargfid: gfid, dev: u64, mode: u32, umask: u32, bname: string(), xdata: Dict,
})

/** gfx_mkdir_req (mode: permission bits only; the brick wants `gfid-req` in xdata) */
export interface GfxMkdirReq { pargfid: Buffer, mode: number, umask: number, bname: string, xdata: GfxDict }
export const GfxMkdirReq: Codec<GfxMkdirReq> = struct({ pargfid: gfid, mode: u32, umask: u32, bname: string(), xdata: Dict })

/** gfx_unlink_req (xflags AFTER bname) */
export interface GfxUnlinkReq { pargfid: Buffer, bname: string, xflags: number, xdata: GfxDict }
export const GfxUnlinkReq: Codec<GfxUnlinkReq> = struct({ pargfid: gfid, bname: string(), xflags: u32, xdata: Dict })

/** gfx_rmdir_req (xflags BEFORE bname, and signed) */
export interface GfxRmdirReq { pargfid: Buffer, xflags: number, bname: string, xdata: GfxDict }
export const GfxRmdirReq: Codec<GfxRmdirReq> = struct({ pargfid: gfid, xflags: i32, bname: string(), xdata: Dict })

/** gfx_symlink_req */
export interface GfxSymlinkReq { pargfid: Buffer, bname: string, umask: number, linkname: string, xdata: GfxDict }
export const GfxSymlinkReq: Codec<GfxSymlinkReq> = struct({
  pargfid: gfid, bname: string(), umask: u32, linkname: string(), xdata: Dict,
})

/** gfx_rename_req: oldgfid/newgfid are the parent directories */
export interface GfxRenameReq { oldgfid: Buffer, newgfid: Buffer, oldbname: string, newbname: string, xdata: GfxDict }
export const GfxRenameReq: Codec<GfxRenameReq> = struct({
  oldgfid: gfid, newgfid: gfid, oldbname: string(), newbname: string(), xdata: Dict,
})

/** gfx_link_req: oldgfid = the existing inode, newgfid = the new parent */
export interface GfxLinkReq { oldgfid: Buffer, newgfid: Buffer, newbname: string, xdata: GfxDict }
export const GfxLinkReq: Codec<GfxLinkReq> = struct({ oldgfid: gfid, newgfid: gfid, newbname: string(), xdata: Dict })

/** gfx_truncate_req */
export interface GfxTruncateReq { gfid: Buffer, offset: bigint, xdata: GfxDict }
export const GfxTruncateReq: Codec<GfxTruncateReq> = struct({ gfid, offset: u64, xdata: Dict })

/** gfx_open_req (flags: GfOpenFlags) */
export interface GfxOpenReq { gfid: Buffer, flags: number, xdata: GfxDict }
export const GfxOpenReq: Codec<GfxOpenReq> = struct({ gfid, flags: u32, xdata: Dict })

/** gfx_read_req (flag: the fd's open flags) */
export interface GfxReadReq { gfid: Buffer, fd: bigint, offset: bigint, size: number, flag: number, xdata: GfxDict }
export const GfxReadReq: Codec<GfxReadReq> = struct({ gfid, fd: i64, offset: u64, size: u32, flag: u32, xdata: Dict })

/**
 * gfx_write_req, then exactly `size` raw bytes up to the end of the record (no length word,
 * no padding, §8). `data` is a subarray on decode, and is passed to the writer as its own
 * chunk on encode (XdrWriter.raw), never copied when large. Encoding checks size === data.length.
 */
export interface GfxWriteReq { gfid: Buffer, fd: bigint, offset: bigint, size: number, flag: number, xdata: GfxDict, data: Buffer }
const writeReq: Codec<GfxWriteReq> = struct({
  gfid, fd: i64, offset: u64, size: u32, flag: u32, xdata: Dict, data: rest,
})
export const GfxWriteReq: Codec<GfxWriteReq> = {
  encode (w, v) {
    if (v.size !== v.data.length) throw new RangeError(`gfx_write_req: size ${v.size} but ${v.data.length} data bytes`)
    writeReq.encode(w, v)
  },
  decode: writeReq.decode,
}

/** gfx_statfs_req */
export interface GfxStatfsReq { gfid: Buffer, xdata: GfxDict }
export const GfxStatfsReq: Codec<GfxStatfsReq> = struct({ gfid, xdata: Dict })

/** gfx_flush_req */
export interface GfxFlushReq { gfid: Buffer, fd: bigint, xdata: GfxDict }
export const GfxFlushReq: Codec<GfxFlushReq> = struct({ gfid, fd: i64, xdata: Dict })

/** gfx_fsync_req (data ≠ 0: fdatasync) */
export interface GfxFsyncReq { gfid: Buffer, fd: bigint, data: number, xdata: GfxDict }
export const GfxFsyncReq: Codec<GfxFsyncReq> = struct({ gfid, fd: i64, data: u32, xdata: Dict })

/** gfx_setxattr_req (flags: GfXattrFlags; values travel as binary, type 6) */
export interface GfxSetxattrReq { gfid: Buffer, flags: number, dict: GfxDict, xdata: GfxDict }
export const GfxSetxattrReq: Codec<GfxSetxattrReq> = struct({ gfid, flags: u32, dict: Dict, xdata: Dict })

/** gfx_getxattr_req: namelen is a flag, 1 = `name` given, 0 = list all (name "") */
export interface GfxGetxattrReq { gfid: Buffer, namelen: number, name: string, xdata: GfxDict }
export const GfxGetxattrReq: Codec<GfxGetxattrReq> = struct({ gfid, namelen: u32, name: string(), xdata: Dict })

/** gfx_removexattr_req */
export interface GfxRemovexattrReq { gfid: Buffer, name: string, xdata: GfxDict }
export const GfxRemovexattrReq: Codec<GfxRemovexattrReq> = struct({ gfid, name: string(), xdata: Dict })

/** gfx_opendir_req */
export interface GfxOpendirReq { gfid: Buffer, xdata: GfxDict }
export const GfxOpendirReq: Codec<GfxOpendirReq> = struct({ gfid, xdata: Dict })

/** gfx_fsyncdir_req (data is signed here) */
export interface GfxFsyncdirReq { gfid: Buffer, fd: bigint, data: number, xdata: GfxDict }
export const GfxFsyncdirReq: Codec<GfxFsyncdirReq> = struct({ gfid, fd: i64, data: i32, xdata: Dict })

/** gfx_access_req (mask: GfAccessMask) */
export interface GfxAccessReq { gfid: Buffer, mask: number, xdata: GfxDict }
export const GfxAccessReq: Codec<GfxAccessReq> = struct({ gfid, mask: u32, xdata: Dict })

/** gfx_create_req (mode includes S_IFREG; xdata carries `gfid-req`) */
export interface GfxCreateReq { pargfid: Buffer, flags: number, mode: number, umask: number, bname: string, xdata: GfxDict }
export const GfxCreateReq: Codec<GfxCreateReq> = struct({
  pargfid: gfid, flags: u32, mode: u32, umask: u32, bname: string(), xdata: Dict,
})

/** gfx_ftruncate_req */
export interface GfxFtruncateReq { gfid: Buffer, fd: bigint, offset: bigint, xdata: GfxDict }
export const GfxFtruncateReq: Codec<GfxFtruncateReq> = struct({ gfid, fd: i64, offset: u64, xdata: Dict })

/** gfx_fstat_req */
export interface GfxFstatReq { gfid: Buffer, fd: bigint, xdata: GfxDict }
export const GfxFstatReq: Codec<GfxFstatReq> = struct({ gfid, fd: i64, xdata: Dict })

/** gfx_lk_req (cmd: GfLkCmd, type: GfLkType) */
export interface GfxLkReq { gfid: Buffer, fd: bigint, cmd: number, type: number, flock: GfProtoFlock, xdata: GfxDict }
export const GfxLkReq: Codec<GfxLkReq> = struct({ gfid, fd: i64, cmd: u32, type: u32, flock: Flock, xdata: Dict })

/**
 * gfx_lookup_req: with a non-empty bname the brick resolves (pargfid, bname) and ignores gfid;
 * with bname "" it is a nameless lookup of gfid. flags is unused (0).
 */
export interface GfxLookupReq { gfid: Buffer, pargfid: Buffer, flags: number, bname: string, xdata: GfxDict }
export const GfxLookupReq: Codec<GfxLookupReq> = struct({ gfid, pargfid: gfid, flags: u32, bname: string(), xdata: Dict })

/** gfx_readdir_req (offset: the previous entry's d_off, 0 to start) */
export interface GfxReaddirReq { gfid: Buffer, fd: bigint, offset: bigint, size: number, xdata: GfxDict }
export const GfxReaddirReq: Codec<GfxReaddirReq> = struct({ gfid, fd: i64, offset: u64, size: u32, xdata: Dict })

/** gfx_inodelk_req (volume = the lock domain, e.g. "vol1-replicate-0") */
export interface GfxInodelkReq { gfid: Buffer, cmd: number, type: number, flock: GfProtoFlock, volume: string, xdata: GfxDict }
export const GfxInodelkReq: Codec<GfxInodelkReq> = struct({
  gfid, cmd: u32, type: u32, flock: Flock, volume: string(), xdata: Dict,
})

/** gfx_finodelk_req */
export interface GfxFinodelkReq {
  gfid: Buffer, fd: bigint, cmd: number, type: number, flock: GfProtoFlock, volume: string, xdata: GfxDict
}
export const GfxFinodelkReq: Codec<GfxFinodelkReq> = struct({
  gfid, fd: i64, cmd: u32, type: u32, flock: Flock, volume: string(), xdata: Dict,
})

/** gfx_entrylk_req: gfid = the parent directory; namelen is a flag (1 = name given), a u64 */
export interface GfxEntrylkReq {
  gfid: Buffer, cmd: number, type: number, namelen: bigint, name: string, volume: string, xdata: GfxDict
}
export const GfxEntrylkReq: Codec<GfxEntrylkReq> = struct({
  gfid, cmd: u32, type: u32, namelen: u64, name: string(), volume: string(), xdata: Dict,
})

/** gfx_fentrylk_req */
export interface GfxFentrylkReq {
  gfid: Buffer, fd: bigint, cmd: number, type: number, namelen: bigint, name: string, volume: string, xdata: GfxDict
}
export const GfxFentrylkReq: Codec<GfxFentrylkReq> = struct({
  gfid, fd: i64, cmd: u32, type: u32, namelen: u64, name: string(), volume: string(), xdata: Dict,
})

/** gfx_xattrop_req (flags: GfXattropFlags; dict values are big-endian arrays) */
export interface GfxXattropReq { gfid: Buffer, flags: number, dict: GfxDict, xdata: GfxDict }
export const GfxXattropReq: Codec<GfxXattropReq> = struct({ gfid, flags: u32, dict: Dict, xdata: Dict })

/** gfx_fxattrop_req (fd before flags) */
export interface GfxFxattropReq { gfid: Buffer, fd: bigint, flags: number, dict: GfxDict, xdata: GfxDict }
export const GfxFxattropReq: Codec<GfxFxattropReq> = struct({ gfid, fd: i64, flags: u32, dict: Dict, xdata: Dict })

/** gfx_fgetxattr_req (namelen: the same flag as in gfx_getxattr_req) */
export interface GfxFgetxattrReq { gfid: Buffer, fd: bigint, namelen: number, name: string, xdata: GfxDict }
export const GfxFgetxattrReq: Codec<GfxFgetxattrReq> = struct({ gfid, fd: i64, namelen: u32, name: string(), xdata: Dict })

/** gfx_fsetxattr_req */
export interface GfxFsetxattrReq { gfid: Buffer, fd: bigint, flags: number, dict: GfxDict, xdata: GfxDict }
export const GfxFsetxattrReq: Codec<GfxFsetxattrReq> = struct({ gfid, fd: i64, flags: u32, dict: Dict, xdata: Dict })

/** gfx_rchecksum_req */
export interface GfxRchecksumReq { gfid: Buffer, fd: bigint, offset: bigint, len: number, flags: number, xdata: GfxDict }
export const GfxRchecksumReq: Codec<GfxRchecksumReq> = struct({
  gfid, fd: i64, offset: u64, len: u32, flags: u32, xdata: Dict,
})

/** gfx_setattr_req (valid: GfSetattrValid bits; only the selected stbuf fields are used) */
export interface GfxSetattrReq { gfid: Buffer, stbuf: GfxIattx, valid: number, xdata: GfxDict }
export const GfxSetattrReq: Codec<GfxSetattrReq> = struct({ gfid, stbuf: Iattx, valid: i32, xdata: Dict })

/** gfx_fsetattr_req */
export interface GfxFsetattrReq { gfid: Buffer, fd: bigint, stbuf: GfxIattx, valid: number, xdata: GfxDict }
export const GfxFsetattrReq: Codec<GfxFsetattrReq> = struct({ gfid, fd: i64, stbuf: Iattx, valid: i32, xdata: Dict })

/** gfx_readdirp_req (xdata asks for per-entry xattrs) */
export interface GfxReaddirpReq { gfid: Buffer, fd: bigint, offset: bigint, size: number, xdata: GfxDict }
export const GfxReaddirpReq: Codec<GfxReaddirpReq> = struct({ gfid, fd: i64, offset: u64, size: u32, xdata: Dict })

/** gfx_release_req (RELEASE, proc 41) */
export interface GfxReleaseReq { gfid: Buffer, fd: bigint, xdata: GfxDict }
export const GfxReleaseReq: Codec<GfxReleaseReq> = struct({ gfid, fd: i64, xdata: Dict })

/** gfx_releasedir_req (RELEASEDIR, proc 42; the same layout) */
export interface GfxReleasedirReq { gfid: Buffer, fd: bigint, xdata: GfxDict }
export const GfxReleasedirReq: Codec<GfxReleasedirReq> = struct({ gfid, fd: i64, xdata: Dict })

/** gfx_fremovexattr_req */
export interface GfxFremovexattrReq { gfid: Buffer, fd: bigint, name: string, xdata: GfxDict }
export const GfxFremovexattrReq: Codec<GfxFremovexattrReq> = struct({ gfid, fd: i64, name: string(), xdata: Dict })

/** gfx_fallocate_req (flags before offset; size is a u64) */
export interface GfxFallocateReq { gfid: Buffer, fd: bigint, flags: number, offset: bigint, size: bigint, xdata: GfxDict }
export const GfxFallocateReq: Codec<GfxFallocateReq> = struct({
  gfid, fd: i64, flags: u32, offset: u64, size: u64, xdata: Dict,
})

/** gfx_discard_req */
export interface GfxDiscardReq { gfid: Buffer, fd: bigint, offset: bigint, size: bigint, xdata: GfxDict }
export const GfxDiscardReq: Codec<GfxDiscardReq> = struct({ gfid, fd: i64, offset: u64, size: u64, xdata: Dict })

/** gfx_zerofill_req */
export interface GfxZerofillReq { gfid: Buffer, fd: bigint, offset: bigint, size: bigint, xdata: GfxDict }
export const GfxZerofillReq: Codec<GfxZerofillReq> = struct({ gfid, fd: i64, offset: u64, size: u64, xdata: Dict })

/** gfx_ipc_req (no gfid) */
export interface GfxIpcReq { op: number, xdata: GfxDict }
export const GfxIpcReq: Codec<GfxIpcReq> = struct({ op: i32, xdata: Dict })

/** gfx_seek_req (what: GfSeekWhat) */
export interface GfxSeekReq { gfid: Buffer, fd: bigint, offset: bigint, what: number, xdata: GfxDict }
export const GfxSeekReq: Codec<GfxSeekReq> = struct({ gfid, fd: i64, offset: u64, what: i32, xdata: Dict })

/** gfx_lease_req */
export interface GfxLeaseReq { gfid: Buffer, lease: GfProtoLease, xdata: GfxDict }
export const GfxLeaseReq: Codec<GfxLeaseReq> = struct({ gfid, lease: Lease, xdata: Dict })

/** gfx_getactivelk_req */
export interface GfxGetactivelkReq { gfid: Buffer, xdata: GfxDict }
export const GfxGetactivelkReq: Codec<GfxGetactivelkReq> = struct({ gfid, xdata: Dict })

/** gfx_setactivelk_req (request: the lock chain) */
export interface GfxSetactivelkReq { gfid: Buffer, request: Gfs3Locklist[], xdata: GfxDict }
export const GfxSetactivelkReq: Codec<GfxSetactivelkReq> = struct({ gfid, request: list(Locklist), xdata: Dict })

/** gfx_icreate_req */
export interface GfxIcreateReq { gfid: Buffer, mode: number, xdata: GfxDict }
export const GfxIcreateReq: Codec<GfxIcreateReq> = struct({ gfid, mode: u32, xdata: Dict })

/** gfx_namelink_req */
export interface GfxNamelinkReq { pargfid: Buffer, bname: string, xdata: GfxDict }
export const GfxNamelinkReq: Codec<GfxNamelinkReq> = struct({ pargfid: gfid, bname: string(), xdata: Dict })

/** gfx_put_req: defined by the .x but never dispatched (PUT, 55, has no handler); not in FopProgram */
export interface GfxPutReq {
  pargfid: Buffer, bname: string, mode: number, umask: number, flag: number, offset: bigint, size: number,
  xattr: GfxDict, xdata: GfxDict
}
export const GfxPutReq: Codec<GfxPutReq> = struct({
  pargfid: gfid, bname: string(), mode: u32, umask: u32, flag: u32, offset: u64, size: u32, xattr: Dict, xdata: Dict,
})

/** gfx_copy_file_range_req */
export interface GfxCopyFileRangeReq {
  gfid1: Buffer, gfid2: Buffer, fd_in: bigint, fd_out: bigint, off_in: bigint, off_out: bigint, size: number, flag: number,
  xdata: GfxDict
}
export const GfxCopyFileRangeReq: Codec<GfxCopyFileRangeReq> = struct({
  gfid1: gfid, gfid2: gfid, fd_in: i64, fd_out: i64, off_in: u64, off_out: u64, size: u32, flag: u32, xdata: Dict,
})

// ---------------------------------------------------------------------------------------------
// The program
// ---------------------------------------------------------------------------------------------

/**
 * 1298437 v400. COMPOUND (49) and PUT (55) have no entry: a GlusterFS brick answers COMPOUND
 * with GARBAGE_ARGS and PUT with PROC_UNAVAIL, and no client sends either; a server built on
 * this table answers both with PROC_UNAVAIL.
 */
export const FopProgram = defineProgram({
  name: 'GlusterFS 4.x v1',
  prog: GLUSTER_FOP_PROGRAM,
  vers: GLUSTER_FOP_VERSION,
  procs: {
    NULL: { num: GfxFop.NULL, args: xvoid, res: GfCommonRsp },
    STAT: { num: GfxFop.STAT, args: GfxStatReq, res: GfxCommonIattRsp },
    READLINK: { num: GfxFop.READLINK, args: GfxReadlinkReq, res: GfxReadlinkRsp },
    MKNOD: { num: GfxFop.MKNOD, args: GfxMknodReq, res: GfxCommon3iattRsp },
    MKDIR: { num: GfxFop.MKDIR, args: GfxMkdirReq, res: GfxCommon3iattRsp },
    UNLINK: { num: GfxFop.UNLINK, args: GfxUnlinkReq, res: GfxCommon2iattRsp },
    RMDIR: { num: GfxFop.RMDIR, args: GfxRmdirReq, res: GfxCommon2iattRsp },
    SYMLINK: { num: GfxFop.SYMLINK, args: GfxSymlinkReq, res: GfxCommon3iattRsp },
    RENAME: { num: GfxFop.RENAME, args: GfxRenameReq, res: GfxRenameRsp },
    LINK: { num: GfxFop.LINK, args: GfxLinkReq, res: GfxCommon3iattRsp },
    TRUNCATE: { num: GfxFop.TRUNCATE, args: GfxTruncateReq, res: GfxCommon2iattRsp },
    OPEN: { num: GfxFop.OPEN, args: GfxOpenReq, res: GfxOpenRsp },
    READ: { num: GfxFop.READ, args: GfxReadReq, res: GfxReadRsp },
    WRITE: { num: GfxFop.WRITE, args: GfxWriteReq, res: GfxCommon2iattRsp },
    STATFS: { num: GfxFop.STATFS, args: GfxStatfsReq, res: GfxStatfsRsp },
    FLUSH: { num: GfxFop.FLUSH, args: GfxFlushReq, res: GfxCommonRsp },
    FSYNC: { num: GfxFop.FSYNC, args: GfxFsyncReq, res: GfxCommon2iattRsp },
    SETXATTR: { num: GfxFop.SETXATTR, args: GfxSetxattrReq, res: GfxCommonRsp },
    GETXATTR: { num: GfxFop.GETXATTR, args: GfxGetxattrReq, res: GfxCommonDictRsp },
    REMOVEXATTR: { num: GfxFop.REMOVEXATTR, args: GfxRemovexattrReq, res: GfxCommonRsp },
    OPENDIR: { num: GfxFop.OPENDIR, args: GfxOpendirReq, res: GfxOpenRsp },
    FSYNCDIR: { num: GfxFop.FSYNCDIR, args: GfxFsyncdirReq, res: GfxCommonRsp },
    ACCESS: { num: GfxFop.ACCESS, args: GfxAccessReq, res: GfxCommonRsp },
    CREATE: { num: GfxFop.CREATE, args: GfxCreateReq, res: GfxCreateRsp },
    FTRUNCATE: { num: GfxFop.FTRUNCATE, args: GfxFtruncateReq, res: GfxCommon2iattRsp },
    FSTAT: { num: GfxFop.FSTAT, args: GfxFstatReq, res: GfxCommonIattRsp },
    LK: { num: GfxFop.LK, args: GfxLkReq, res: GfxLkRsp, blocking: true },
    LOOKUP: { num: GfxFop.LOOKUP, args: GfxLookupReq, res: GfxCommon2iattRsp },
    READDIR: { num: GfxFop.READDIR, args: GfxReaddirReq, res: GfxReaddirRsp },
    INODELK: { num: GfxFop.INODELK, args: GfxInodelkReq, res: GfxCommonRsp, blocking: true },
    FINODELK: { num: GfxFop.FINODELK, args: GfxFinodelkReq, res: GfxCommonRsp, blocking: true },
    ENTRYLK: { num: GfxFop.ENTRYLK, args: GfxEntrylkReq, res: GfxCommonRsp, blocking: true },
    FENTRYLK: { num: GfxFop.FENTRYLK, args: GfxFentrylkReq, res: GfxCommonRsp, blocking: true },
    XATTROP: { num: GfxFop.XATTROP, args: GfxXattropReq, res: GfxCommonDictRsp },
    FXATTROP: { num: GfxFop.FXATTROP, args: GfxFxattropReq, res: GfxCommonDictRsp },
    FGETXATTR: { num: GfxFop.FGETXATTR, args: GfxFgetxattrReq, res: GfxCommonDictRsp },
    FSETXATTR: { num: GfxFop.FSETXATTR, args: GfxFsetxattrReq, res: GfxCommonRsp },
    RCHECKSUM: { num: GfxFop.RCHECKSUM, args: GfxRchecksumReq, res: GfxRchecksumRsp },
    SETATTR: { num: GfxFop.SETATTR, args: GfxSetattrReq, res: GfxCommon2iattRsp },
    FSETATTR: { num: GfxFop.FSETATTR, args: GfxFsetattrReq, res: GfxCommon2iattRsp },
    READDIRP: { num: GfxFop.READDIRP, args: GfxReaddirpReq, res: GfxReaddirpRsp },
    RELEASE: { num: GfxFop.RELEASE, args: GfxReleaseReq, res: GfxCommonRsp },
    RELEASEDIR: { num: GfxFop.RELEASEDIR, args: GfxReleasedirReq, res: GfxCommonRsp },
    FREMOVEXATTR: { num: GfxFop.FREMOVEXATTR, args: GfxFremovexattrReq, res: GfxCommonRsp },
    FALLOCATE: { num: GfxFop.FALLOCATE, args: GfxFallocateReq, res: GfxCommon2iattRsp },
    DISCARD: { num: GfxFop.DISCARD, args: GfxDiscardReq, res: GfxCommon2iattRsp },
    ZEROFILL: { num: GfxFop.ZEROFILL, args: GfxZerofillReq, res: GfxCommon2iattRsp },
    IPC: { num: GfxFop.IPC, args: GfxIpcReq, res: GfxCommonRsp },
    SEEK: { num: GfxFop.SEEK, args: GfxSeekReq, res: GfxSeekRsp },
    LEASE: { num: GfxFop.LEASE, args: GfxLeaseReq, res: GfxLeaseRsp },
    GETACTIVELK: { num: GfxFop.GETACTIVELK, args: GfxGetactivelkReq, res: GfxGetactivelkRsp },
    SETACTIVELK: { num: GfxFop.SETACTIVELK, args: GfxSetactivelkReq, res: GfxCommonRsp },
    ICREATE: { num: GfxFop.ICREATE, args: GfxIcreateReq, res: GfxCommonIattRsp },
    NAMELINK: { num: GfxFop.NAMELINK, args: GfxNamelinkReq, res: GfxCommon2iattRsp },
    COPY_FILE_RANGE: { num: GfxFop.COPY_FILE_RANGE, args: GfxCopyFileRangeReq, res: GfxCommon3iattRsp },
  },
})
