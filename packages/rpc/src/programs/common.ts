// Building blocks shared by the GlusterFS programs (gluster-wire.md §3, §5.2) and the wire
// enumerations. The attribute structs (gfx_iattx, gfx_mdata_iatt, gf_iatt) are in iatt.ts,
// because gfx_dict (dict.ts) needs them and this file needs gfx_dict.
import {
  type Codec, i32, list, opaque, opaqueFixed, string, struct, u32, u64,
} from '../xdr/codec.js'
import { type FlatDict, type GfxDict, flatDictOpaque, GfxDict as GfxDictCodec } from '../dict.js'
import { type GfxIattx, GfxIattx as GfxIattxCodec } from './iatt.js'

// ---------------------------------------------------------------------------------------------
// Enumerations
// ---------------------------------------------------------------------------------------------

/**
 * Procedure numbers of the 4.x fop program (1298437 v400), the wire `GFS3_OP_*` numbers. They
 * are NOT GlusterFS's internal GF_FOP_* numbers. 41 is RELEASE and 42 RELEASEDIR (Wireshark
 * mislabels 42 as RELEASE). COMPOUND (49) is always answered with GARBAGE_ARGS and PUT (55)
 * has no handler on either side.
 */
export const GfxFop = {
  NULL: 0,
  STAT: 1,
  READLINK: 2,
  MKNOD: 3,
  MKDIR: 4,
  UNLINK: 5,
  RMDIR: 6,
  SYMLINK: 7,
  RENAME: 8,
  LINK: 9,
  TRUNCATE: 10,
  OPEN: 11,
  READ: 12,
  WRITE: 13,
  STATFS: 14,
  FLUSH: 15,
  FSYNC: 16,
  SETXATTR: 17,
  GETXATTR: 18,
  REMOVEXATTR: 19,
  OPENDIR: 20,
  FSYNCDIR: 21,
  ACCESS: 22,
  CREATE: 23,
  FTRUNCATE: 24,
  FSTAT: 25,
  LK: 26,
  LOOKUP: 27,
  READDIR: 28,
  INODELK: 29,
  FINODELK: 30,
  ENTRYLK: 31,
  FENTRYLK: 32,
  XATTROP: 33,
  FXATTROP: 34,
  FGETXATTR: 35,
  FSETXATTR: 36,
  RCHECKSUM: 37,
  SETATTR: 38,
  FSETATTR: 39,
  READDIRP: 40,
  RELEASE: 41,
  RELEASEDIR: 42,
  FREMOVEXATTR: 43,
  FALLOCATE: 44,
  DISCARD: 45,
  ZEROFILL: 46,
  IPC: 47,
  SEEK: 48,
  COMPOUND: 49,
  LEASE: 50,
  GETACTIVELK: 51,
  SETACTIVELK: 52,
  ICREATE: 53,
  NAMELINK: 54,
  PUT: 55,
  COPY_FILE_RANGE: 56,
} as const
export type GfxFop = (typeof GfxFop)[keyof typeof GfxFop]

/** `cmd` of LK / INODELK / FINODELK. */
export const GfLkCmd = {
  GETLK: 0,
  SETLK: 1,
  SETLKW: 2,
  RESLK_LCK: 3,
  RESLK_LCKW: 4,
  RESLK_UNLCK: 5,
  GETLK_FD: 6,
} as const
export type GfLkCmd = (typeof GfLkCmd)[keyof typeof GfLkCmd]

/** `type` of LK / INODELK / FINODELK and gf_proto_flock.type. */
export const GfLkType = { RDLCK: 0, WRLCK: 1, UNLCK: 2 } as const
export type GfLkType = (typeof GfLkType)[keyof typeof GfLkType]

/** `cmd` of ENTRYLK / FENTRYLK. */
export const GfEntrylkCmd = { LOCK: 0, UNLOCK: 1, LOCK_NB: 2 } as const
export type GfEntrylkCmd = (typeof GfEntrylkCmd)[keyof typeof GfEntrylkCmd]

/** `type` of ENTRYLK / FENTRYLK (and gfs4_entrylk_contention_req). */
export const GfEntrylkType = { RDLCK: 0, WRLCK: 1 } as const
export type GfEntrylkType = (typeof GfEntrylkType)[keyof typeof GfEntrylkType]

/** `flags` of XATTROP / FXATTROP: how the dict's big-endian arrays combine with the xattrs. */
export const GfXattropFlags = {
  ADD_ARRAY: 0,
  ADD_ARRAY64: 1,
  OR_ARRAY: 2,
  AND_ARRAY: 3,
  GET_AND_SET: 4,
  ADD_ARRAY_WITH_DEFAULT: 5,
  ADD_ARRAY64_WITH_DEFAULT: 6,
} as const
export type GfXattropFlags = (typeof GfXattropFlags)[keyof typeof GfXattropFlags]

/** `flags` of SETXATTR / FSETXATTR (Linux XATTR_*). */
export const GfXattrFlags = { CREATE: 1, REPLACE: 2 } as const
export type GfXattrFlags = (typeof GfXattrFlags)[keyof typeof GfXattrFlags]

/** `valid` bits of SETATTR / FSETATTR: which stbuf fields to apply. */
export const GfSetattrValid = {
  MODE: 0x1,
  UID: 0x2,
  GID: 0x4,
  SIZE: 0x8,
  ATIME: 0x10,
  MTIME: 0x20,
  CTIME: 0x40,
  ATIME_NOW: 0x80,
  MTIME_NOW: 0x100,
} as const
export type GfSetattrValid = (typeof GfSetattrValid)[keyof typeof GfSetattrValid]

/** GF_O_* open/create flags (octal, = Linux x86 values). PATH is understood by v11+ only. */
export const GfOpenFlags = {
  ACCMODE: 0o3,
  RDONLY: 0o0,
  WRONLY: 0o1,
  RDWR: 0o2,
  FMODE_EXEC: 0o40,
  CREAT: 0o100,
  EXCL: 0o200,
  NOCTTY: 0o400,
  TRUNC: 0o1000,
  APPEND: 0o2000,
  NONBLOCK: 0o4000,
  SYNC: 0o10000,
  ASYNC: 0o20000,
  DIRECT: 0o40000,
  LARGEFILE: 0o100000,
  DIRECTORY: 0o200000,
  NOFOLLOW: 0o400000,
  NOATIME: 0o1000000,
  CLOEXEC: 0o2000000,
  PATH: 0o10000000,
} as const
export type GfOpenFlags = (typeof GfOpenFlags)[keyof typeof GfOpenFlags]

/** gfx_iattx.ia_flags: which fields are valid. Posix bricks send 0x17ff. */
export const GfIaFlags = {
  TYPE: 0x1,
  MODE: 0x2,
  NLINK: 0x4,
  UID: 0x8,
  GID: 0x10,
  ATIME: 0x20,
  MTIME: 0x40,
  CTIME: 0x80,
  INO: 0x100,
  SIZE: 0x200,
  BLOCKS: 0x400,
  BTIME: 0x800,
  GFID: 0x1000,
} as const
export type GfIaFlags = (typeof GfIaFlags)[keyof typeof GfIaFlags]

/** d_type of directory entries (Linux DT_*). */
export const GfDirentType = {
  UNKNOWN: 0,
  FIFO: 1,
  CHR: 2,
  DIR: 4,
  BLK: 6,
  REG: 8,
  LNK: 10,
  SOCK: 12,
} as const
export type GfDirentType = (typeof GfDirentType)[keyof typeof GfDirentType]

/** `what` of SEEK. */
export const GfSeekWhat = { DATA: 0, HOLE: 1 } as const
export type GfSeekWhat = (typeof GfSeekWhat)[keyof typeof GfSeekWhat]

/** gf_proto_lease.cmd */
export const GfLeaseCmd = { GET: 1, SET: 2, UNLK: 3 } as const
export type GfLeaseCmd = (typeof GfLeaseCmd)[keyof typeof GfLeaseCmd]

/** gf_proto_lease.lease_type (also gfs3_recall_lease_req.lease_type) */
export const GfLeaseType = { NONE: 0, RD: 1, RW: 2 } as const
export type GfLeaseType = (typeof GfLeaseType)[keyof typeof GfLeaseType]

/** ACCESS mask bits. */
export const GfAccessMask = { X_OK: 1, W_OK: 2, R_OK: 4 } as const
export type GfAccessMask = (typeof GfAccessMask)[keyof typeof GfAccessMask]

/** The root directory's GFID, 00000000-0000-0000-0000-000000000001. */
export const ROOT_GFID: Buffer = Buffer.from('00000000000000000000000000000001', 'hex')
/** fd value for "no fd" and for the brick's anonymous fd (opened by gfid for one call). */
export const GF_NO_FD = -1n
export const GF_ANON_FD = -2n

// ---------------------------------------------------------------------------------------------
// Structs
// ---------------------------------------------------------------------------------------------

/** gf_common_rsp: the reply of PING (GF-DUMP and handshake) and of the NULL procedures. */
export interface GfCommonRsp { op_ret: number, op_errno: number, xdata: FlatDict }
export const GfCommonRsp: Codec<GfCommonRsp> = struct({ op_ret: i32, op_errno: i32, xdata: flatDictOpaque })

/** gf_statfs (88 bytes, all u64; `flag` = ST_* mount flags). */
export interface GfStatfs {
  bsize: bigint
  frsize: bigint
  blocks: bigint
  bfree: bigint
  bavail: bigint
  files: bigint
  ffree: bigint
  favail: bigint
  fsid: bigint
  flag: bigint
  namemax: bigint
}
export const GfStatfs: Codec<GfStatfs> = struct({
  bsize: u64,
  frsize: u64,
  blocks: u64,
  bfree: u64,
  bavail: u64,
  files: u64,
  ffree: u64,
  favail: u64,
  fsid: u64,
  flag: u64,
  namemax: u64,
})

/** gf_proto_flock. AFR sends lk_owner empty for INODELK/ENTRYLK (the owner is in the credential). */
export interface GfProtoFlock { type: number, whence: number, start: bigint, len: bigint, pid: number, lk_owner: Buffer }
export const GfProtoFlock: Codec<GfProtoFlock> = struct({
  type: u32,
  whence: u32,
  start: u64,
  len: u64,
  pid: u32,
  lk_owner: opaque(),
})

/** gf_proto_lease */
export interface GfProtoLease { cmd: number, lease_type: number, lease_id: Buffer, lease_flags: number }
export const GfProtoLease: Codec<GfProtoLease> = struct({
  cmd: u32,
  lease_type: u32,
  lease_id: opaqueFixed(16),
  lease_flags: u32,
})

/** One gfx_dirlist entry (READDIR); the wire's `nextentry` chain is the array around it. */
export interface GfxDirlist { d_ino: bigint, d_off: bigint, d_len: number, d_type: number, name: string }
export const GfxDirlist: Codec<GfxDirlist> = struct({
  d_ino: u64,
  d_off: u64,
  /** strlen(name) */
  d_len: u32,
  d_type: u32,
  name: string(),
})

/** One gfx_dirplist entry (READDIRP): a dirlist entry plus its attributes and xattr dict. */
export interface GfxDirplist extends GfxDirlist { stat: GfxIattx, dict: GfxDict }
export const GfxDirplist: Codec<GfxDirplist> = struct({
  d_ino: u64,
  d_off: u64,
  d_len: u32,
  d_type: u32,
  name: string(),
  stat: GfxIattxCodec,
  dict: GfxDictCodec,
})

/** One gfs3_locklist entry (GETACTIVELK / SETACTIVELK). */
export interface Gfs3Locklist { flock: GfProtoFlock, client_uid: string, lk_flags: number }
export const Gfs3Locklist: Codec<Gfs3Locklist> = struct({
  flock: GfProtoFlock,
  client_uid: string(),
  lk_flags: u32,
})

/** Linked-list codecs of the entry structs (`T *nextentry` chains exposed as arrays). */
export const gfxDirlistList: Codec<GfxDirlist[]> = list(GfxDirlist)
export const gfxDirplistList: Codec<GfxDirplist[]> = list(GfxDirplist)
export const gfs3LocklistList: Codec<Gfs3Locklist[]> = list(Gfs3Locklist)
