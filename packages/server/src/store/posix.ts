// From backend stat() results to what the wire carries (gluster-cluster.md §6.4).
import type { BigIntStats } from 'node:fs'
import { newGfxIattx, GfDirentType } from '@gluster-ts/rpc'
import type { GfxIattx } from '@gluster-ts/rpc'
import { gfidBytes } from './brick-store.js'
import type { ObjectType, InodeAttrs } from './brick-store.js'

/** ia_flags of a posix brick: every field but btime valid (0x17ff). */
export const POSIX_IA_FLAGS = 0x17ffn
const NS = 1_000_000_000n

export const ZERO_IATT: GfxIattx = Object.freeze(newGfxIattx()) as GfxIattx

/** ia_ino: the big-endian u64 of gfid bytes 8..15 (the root, gfid …01, is ino 1). */
export function inoOf (gfid: Buffer): bigint { return gfid.readBigUInt64BE(8) }

/**
 * A gfx_iattx for the object `gfid`: type, permissions, owner and rdev from `attrs` (the store's,
 * what clients set), everything else (size, blocks, times, links) from the backend's stat `st`;
 * without `attrs` (an object recorded before attributes were kept) all of it from `st`.
 */
export function toIatt (gfid: Buffer | string, st: BigIntStats, attrs?: InodeAttrs): GfxIattx {
  const g = typeof gfid === 'string' ? gfidBytes(gfid) : gfid
  return {
    ia_gfid: g,
    ia_flags: POSIX_IA_FLAGS,
    ia_ino: inoOf(g),
    ia_dev: st.dev,
    ia_rdev: attrs?.rdev ?? rdevToIatt(st.rdev),
    ia_size: st.size,
    ia_blocks: st.blocks,
    ia_attributes: 0n,
    ia_attributes_mask: 0n,
    ia_atime: st.atimeNs / NS,
    ia_mtime: st.mtimeNs / NS,
    ia_ctime: st.ctimeNs / NS,
    ia_btime: 0n,
    ia_atime_nsec: Number(st.atimeNs % NS),
    ia_mtime_nsec: Number(st.mtimeNs % NS),
    ia_ctime_nsec: Number(st.ctimeNs % NS),
    ia_btime_nsec: 0,
    ia_nlink: Number(st.nlink),
    ia_uid: attrs?.uid ?? Number(st.uid),
    ia_gid: attrs?.gid ?? Number(st.gid),
    ia_blksize: Number(st.blksize),
    mode: attrs?.mode ?? Number(st.mode),
  }
}

/**
 * A device number as GlusterFS carries it in an iatt: (major << 32) | minor (iatt.h ia_makedev),
 * from a dev_t in glibc's encoding (what stat(2) gives and what MKNOD's `dev` is: the FUSE
 * client passes the kernel's encoding, which is the same for 32-bit values).
 */
export function rdevToIatt (dev: bigint): bigint {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn)
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn)
  return (BigInt.asUintN(32, major) << 32n) | BigInt.asUintN(32, minor)
}

/**
 * `trusted.glusterfs.mdata` as a posix brick returns it (57 bytes: version 1, u64 flags, then
 * ctime, mtime, atime as u64 seconds + u64 nanoseconds, all big-endian). We derive it from the
 * backend times instead of storing it, so the client's utime xlator always finds it and never
 * starts a metadata heal for it.
 */
export function mdataOf (st: BigIntStats): Buffer {
  const b = Buffer.alloc(57)
  b[0] = 1
  let p = 9
  for (const ns of [st.ctimeNs, st.mtimeNs, st.atimeNs]) {
    b.writeBigUInt64BE(ns / NS, p)
    b.writeBigUInt64BE(ns % NS, p + 8)
    p += 16
  }
  return b
}

const S_IFMT = 0o170000

export function objectTypeOf (mode: number): ObjectType {
  switch (mode & S_IFMT) {
    case 0o040000: return 'd'
    case 0o100000: return 'f'
    case 0o120000: return 'l'
    default: return 'o'
  }
}

export function direntTypeOf (mode: number): number {
  switch (mode & S_IFMT) {
    case 0o040000: return GfDirentType.DIR
    case 0o100000: return GfDirentType.REG
    case 0o120000: return GfDirentType.LNK
    case 0o010000: return GfDirentType.FIFO
    case 0o020000: return GfDirentType.CHR
    case 0o060000: return GfDirentType.BLK
    case 0o140000: return GfDirentType.SOCK
    default: return GfDirentType.UNKNOWN
  }
}
