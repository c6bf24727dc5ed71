// The trusted.ec.* xattrs (gluster-disperse.md §4): big-endian uint64s; version and dirty are
// [data, metadata] pairs; config packs the geometry (ec-helpers.c:ec_dict_set_config). Updates
// travel as GF_XATTROP_ADD_ARRAY64 deltas, so negative deltas are two's complement mod 2^64.
import { GlusterError } from '@gluster-ts/rpc'
import { EC_CHUNK_BYTES } from './matrix.js'

export const EC_XATTR = {
  config: 'trusted.ec.config',
  size: 'trusted.ec.size',
  version: 'trusted.ec.version',
  dirty: 'trusted.ec.dirty',
  /** virtual: getxattr runs a heal on the client (ec-inode-read.c:ec_getxattr) */
  heal: 'trusted.ec.heal',
} as const

/** Bit 62 of the data version marks a brick being healed (ec-common.h EC_SELFHEAL_BIT). */
export const EC_SELFHEAL_BIT = 62n

const U64 = (1n << 64n) - 1n

export interface EcPair { data: bigint, meta: bigint }

function u64be (values: readonly bigint[]): Buffer {
  const b = Buffer.alloc(8 * values.length)
  values.forEach((v, i) => b.writeBigUInt64BE(BigInt.asUintN(64, v), 8 * i))
  return b
}

/** A version or dirty value, or an ADD_ARRAY64 delta of one (negative = subtract). */
export function encodeEcPair (pair: EcPair): Buffer { return u64be([pair.data, pair.meta]) }

/**
 * A stored or returned version/dirty value. 8 bytes (GlusterFS 3.6's single version) counts for
 * both halves, as ec-helpers.c:ec_dict_get_array does; any other length than 8 or 16 is EINVAL.
 */
export function decodeEcPair (buf: Uint8Array, what: string = 'trusted.ec.version'): EcPair {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  if (b.length === 8) { const v = b.readBigUInt64BE(0); return { data: v, meta: v } }
  if (b.length === 16) return { data: b.readBigUInt64BE(0), meta: b.readBigUInt64BE(8) }
  throw new GlusterError('EINVAL', `${what} of ${b.length} bytes (8 or 16 expected)`)
}

/** trusted.ec.size: the logical file size, or an ADD_ARRAY64 delta of it (negative on shrink). */
export function encodeEcSize (size: bigint): Buffer { return u64be([size]) }

export function decodeEcSize (buf: Uint8Array): bigint {
  if (buf.length !== 8) throw new GlusterError('EINVAL', `trusted.ec.size of ${buf.length} bytes (8 expected)`)
  return Buffer.from(buf.buffer, buf.byteOffset, 8).readBigUInt64BE(0)
}

export interface EcConfig {
  version: number
  algorithm: number
  gfWordSize: number
  bricks: number
  redundancy: number
  chunkSize: number
}

/** The config GlusterFS 10.3 writes for n bricks and redundancy r (EC_CONFIG_VERSION 0, algorithm 0). */
export function ecConfigFor (n: number, r: number): EcConfig {
  return { version: 0, algorithm: 0, gfWordSize: 8, bricks: n, redundancy: r, chunkSize: EC_CHUNK_BYTES }
}

export function encodeEcConfig (c: EcConfig): Buffer {
  const fields: Array<[number, number]> = [[c.version, 0xff], [c.algorithm, 0xff], [c.gfWordSize, 0xff], [c.bricks, 0xff], [c.redundancy, 0xff], [c.chunkSize, 0xffffff]]
  if (c.version !== 0 || fields.some(([v, max]) => !Number.isInteger(v) || v < 0 || v > max)) throw new GlusterError('EINVAL', `cannot store disperse config ${JSON.stringify(c)}`)
  const v = (BigInt(c.version) << 56n) | (BigInt(c.algorithm) << 48n) | (BigInt(c.gfWordSize) << 40n) |
    (BigInt(c.bricks) << 32n) | (BigInt(c.redundancy) << 24n) | BigInt(c.chunkSize)
  return u64be([v])
}

/**
 * A stored config; null when all zero, which is what an XATTROP probe returns for a missing one
 * (ec-helpers.c:ec_dict_del_config: ENODATA). Wrong length or a version above 0: EINVAL.
 */
export function decodeEcConfig (buf: Uint8Array): EcConfig | null {
  if (buf.length !== 8) throw new GlusterError('EINVAL', `trusted.ec.config of ${buf.length} bytes (8 expected)`)
  const v = Buffer.from(buf.buffer, buf.byteOffset, 8).readBigUInt64BE(0)
  if (v === 0n) return null
  const c: EcConfig = {
    version: Number(v >> 56n), algorithm: Number((v >> 48n) & 0xffn), gfWordSize: Number((v >> 40n) & 0xffn),
    bricks: Number((v >> 32n) & 0xffn), redundancy: Number((v >> 24n) & 0xffn), chunkSize: Number(v & 0xffffffn),
  }
  if (c.version !== 0) throw new GlusterError('EINVAL', `unsupported trusted.ec.config version ${c.version}`)
  return c
}

/** ec-common.c:ec_config_check: the stored config must be exactly this volume's geometry. */
export function configMatches (c: EcConfig, n: number, r: number): boolean {
  const want = ecConfigFor(n, r)
  return c.version === want.version && c.algorithm === want.algorithm && c.gfWordSize === want.gfWordSize &&
    c.bricks === n && c.redundancy === r && c.chunkSize === want.chunkSize
}

export function isHealing (version: EcPair): boolean { return ((version.data >> EC_SELFHEAL_BIT) & 1n) === 1n }

/** What the brick does with an ADD_ARRAY64 value: add word by word mod 2^64. */
export function addArray64 (stored: Uint8Array | undefined, delta: Uint8Array): Buffer {
  if (delta.length % 8 !== 0) throw new GlusterError('EINVAL', `ADD_ARRAY64 value of ${delta.length} bytes`)
  const out = Buffer.alloc(delta.length)
  const d = Buffer.from(delta.buffer, delta.byteOffset, delta.byteLength)
  const s = stored === undefined ? undefined : Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength)
  for (let i = 0; i < delta.length; i += 8) {
    const base = s !== undefined && i + 8 <= s.length ? s.readBigUInt64BE(i) : 0n
    out.writeBigUInt64BE((base + d.readBigUInt64BE(i)) & U64, i)
  }
  return out
}

/**
 * The pre-op XATTROP dict (ec-common.c:ec_get_size_version): all-zero probes of version, size
 * and config (files) or version only (directories), plus dirty +1 on the halves this lock
 * cycle will modify and that are not dirty yet. Send with xdata `get-size` for files.
 */
export function preopXattrs (opts: { regularFile: boolean, dirty?: { data: boolean, meta: boolean } }): Map<string, Buffer> {
  const m = new Map<string, Buffer>()
  m.set(EC_XATTR.version, encodeEcPair({ data: 0n, meta: 0n }))
  if (opts.regularFile) {
    m.set(EC_XATTR.size, encodeEcSize(0n))
    m.set(EC_XATTR.config, Buffer.alloc(8))
  }
  const d = opts.dirty
  if (d !== undefined && (d.data || d.meta)) m.set(EC_XATTR.dirty, encodeEcPair({ data: d.data ? 1n : 0n, meta: d.meta ? 1n : 0n }))
  return m
}

/**
 * The post-op XATTROP dict (ec-common.c:ec_update_size_version): the version deltas, the size
 * delta (files), the dirty deltas (−1 to clear at release); zero entries are left out, and an
 * empty result means no XATTROP is needed.
 */
export function postopXattrs (opts: { version?: EcPair, sizeDelta?: bigint, dirty?: EcPair }): Map<string, Buffer> {
  const m = new Map<string, Buffer>()
  const v = opts.version
  if (v !== undefined && (v.data !== 0n || v.meta !== 0n)) m.set(EC_XATTR.version, encodeEcPair(v))
  if (opts.sizeDelta !== undefined && opts.sizeDelta !== 0n) m.set(EC_XATTR.size, encodeEcSize(opts.sizeDelta))
  const d = opts.dirty
  if (d !== undefined && (d.data !== 0n || d.meta !== 0n)) m.set(EC_XATTR.dirty, encodeEcPair(d))
  return m
}
