// features/shard's on-disk format (gluster-shard-tls-auth.md §1.2, §1.3; checked against the
// captures in volume-types/shard-4MB and the real cluster): a file is its base file (block 0,
// bytes [0, bs)) plus `/.shard/<base gfid>.<n>` for block n (bytes [n·bs, (n+1)·bs)), each only
// as long as the highest byte written in it. The base file carries the block size and the
// logical size; nothing else knows the file's real length.
import { gfxBin, gfxDictBin, type GfxDict, type GfxValue } from '@gluster-ts/rpc'
import { gfidString } from './stats.js'

/** `/.shard`'s gfid (GlusterFS's SHARD_ROOT_GFID): the same on every volume */
export const SHARD_ROOT_GFID = Buffer.from('be318638e8a04c6d977d7a937aa84806', 'hex')
/** `/.shard/.remove_me`'s gfid (DOT_SHARD_REMOVE_ME_GFID) */
export const REMOVE_ME_GFID = Buffer.from('77dd5a45dbf54592b31bb440382302e9', 'hex')
export const SHARD_DIR = '.shard'
export const REMOVE_ME_DIR = '.remove_me'

/** u64 BE: the file's block size */
export const BLOCK_SIZE_XATTR = 'trusted.glusterfs.shard.block-size'
/** 4 × i64 BE: [logical size, 0, block count in 512-byte units, 0] */
export const FILE_SIZE_XATTR = 'trusted.glusterfs.shard.file-size'
export const SHARD_XATTR_PREFIX = 'trusted.glusterfs.shard.'

/** A file's shard attributes as its base file holds them. */
export interface ShardAttrs {
  blockSize: number
  size: number
  blocks: bigint
}

/** `trusted.glusterfs.shard.block-size` for a new file. */
export function blockSizeValue (bs: number): GfxValue {
  const b = Buffer.alloc(8)
  b.writeBigUInt64BE(BigInt(bs))
  return gfxBin(b)
}

/** `trusted.glusterfs.shard.file-size` = [size, 0, blocks, 0] (deltas for an ADD_ARRAY64 XATTROP). */
export function fileSizeValue (size: bigint, blocks: bigint): GfxValue {
  const b = Buffer.alloc(32)
  b.writeBigInt64BE(BigInt.asIntN(64, size), 0)
  b.writeBigInt64BE(BigInt.asIntN(64, blocks), 16)
  return gfxBin(b)
}

/** [size, blocks] of a file-size value; undefined unless it is 32 bytes. */
export function decodeFileSize (v: Buffer | undefined): { size: bigint, blocks: bigint } | undefined {
  if (v === undefined || v.length !== 32) return undefined
  return { size: v.readBigInt64BE(0), blocks: v.readBigInt64BE(16) }
}

/**
 * The shard attributes in a LOOKUP/READDIRP dict, or undefined for a file that is not sharded
 * (no block size: created before shard was turned on, or by a client without shard).
 */
export function shardAttrs (d: GfxDict | undefined): ShardAttrs | undefined {
  const bs = gfxDictBin(d ?? null, BLOCK_SIZE_XATTR)
  if (bs === undefined || bs.length !== 8) return undefined
  const blockSize = Number(bs.readBigUInt64BE(0))
  if (blockSize <= 0) return undefined
  const fs = decodeFileSize(gfxDictBin(d ?? null, FILE_SIZE_XATTR))
  return { blockSize, size: Number(fs?.size ?? 0n), blocks: fs?.blocks ?? 0n }
}

/** The block holding byte `offset`. */
export function blockOf (offset: number, bs: number): number { return Math.floor(offset / bs) }

/** `/.shard`'s name for block n (n ≥ 1) of the file with base gfid `gfid`. */
export function shardName (gfid: Buffer, n: number): string { return `${gfidString(gfid)}.${n}` }

/**
 * The pieces of [offset, offset + len) block by block: block n, the offset within it, the
 * length, and where the piece starts in the caller's buffer.
 */
export function pieces (offset: number, len: number, bs: number): Array<{ block: number, at: number, len: number, pos: number }> {
  const out: Array<{ block: number, at: number, len: number, pos: number }> = []
  let pos = 0
  while (pos < len) {
    const o = offset + pos
    const block = blockOf(o, bs)
    const at = o - block * bs
    const n = Math.min(len - pos, bs - at)
    out.push({ block, at, len: n, pos })
    pos += n
  }
  return out
}
