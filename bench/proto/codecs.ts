// PROTOTYPE, bench only: gfx_iattx and gfx_dict codecs with the changes proposed in
// bench/results/xdr.md, for ProtoXdrWriter/ProtoXdrReader. Same bytes and same decoded values
// (and the same checks) as packages/rpc/src/programs/iatt.ts and packages/rpc/src/dict.ts.
import {
  GfxDictType, GfxMdataIatt, protocolError, xdr,
  type Codec, type GfxDict, type GfxIattx, type GfxValue, type XdrReader, type XdrWriter,
} from '@gluster-ts/rpc'
import { ProtoXdrReader } from './reader.js'
import { ProtoXdrWriter } from './writer.js'

/** The package's codecs take XdrWriter/XdrReader; ours have the same methods (duck typing). */
const asW = (w: ProtoXdrWriter): XdrWriter => w as unknown as XdrWriter
const asR = (r: ProtoXdrReader): XdrReader => r as unknown as XdrReader

export interface ProtoCodec<T> {
  encode (w: ProtoXdrWriter, v: T): void
  decode (r: ProtoXdrReader): T
}

/** Any package codec, run on the prototype writer/reader. */
export function onProto<T> (c: Codec<T>): ProtoCodec<T> {
  return { encode: (w, v) => { c.encode(asW(w), v) }, decode: r => c.decode(asR(r)) }
}

// ---------------------------------------------------------------------------------------------
// gfx_iattx: one bounds check, then DataView reads (iatt.ts uses Buffer#readBigUInt64BE)
// ---------------------------------------------------------------------------------------------

export function decodeGfxIattxFast (r: ProtoXdrReader): GfxIattx {
  const p = r.take(148)
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

export function encodeGfxIattxFast (w: ProtoXdrWriter, v: GfxIattx): void {
  if (v.ia_gfid.length !== 16) throw new RangeError(`gfx_iattx.ia_gfid must be 16 bytes, got ${v.ia_gfid.length}`)
  w.fixed(v.ia_gfid, 16)
  w.u64(v.ia_flags).u64(v.ia_ino).u64(v.ia_dev).u64(v.ia_rdev).u64(v.ia_size).u64(v.ia_blocks)
  w.u64(v.ia_attributes).u64(v.ia_attributes_mask)
  w.i64(v.ia_atime).i64(v.ia_mtime).i64(v.ia_ctime).i64(v.ia_btime)
  w.u32(v.ia_atime_nsec).u32(v.ia_mtime_nsec).u32(v.ia_ctime_nsec).u32(v.ia_btime_nsec)
  w.u32(v.ia_nlink).u32(v.ia_uid).u32(v.ia_gid).u32(v.ia_blksize).u32(v.mode)
}

export const GfxIattxFast: ProtoCodec<GfxIattx> = { encode: encodeGfxIattxFast, decode: decodeGfxIattxFast }

/** gfx_mdata_iatt (36 bytes), hand-written like gfx_iattx (iatt.ts builds it with struct()). */
export function decodeGfxMdataIattFast (r: ProtoXdrReader): GfxMdataIatt {
  const p = r.take(36)
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

// ---------------------------------------------------------------------------------------------
// gfx_dict
// ---------------------------------------------------------------------------------------------

/**
 * Encoded `opaque key<>` (length word, key, NUL, padding) by key. GlusterFS uses a few dozen
 * distinct xdata keys, so a small cache hits almost always; it is bounded (entries and key
 * length) so hostile or generated keys can't grow it, and a full cache simply stops adding.
 */
const KEY_CACHE_MAX_ENTRIES = 1024
const KEY_CACHE_MAX_KEY_BYTES = 128
const keyCache = new Map<string, Buffer>()

function encodedKey (k: string): Buffer | undefined {
  const hit = keyCache.get(k)
  if (hit !== undefined) return hit
  if (k.length > KEY_CACHE_MAX_KEY_BYTES || keyCache.size >= KEY_CACHE_MAX_ENTRIES) return undefined
  const n = Buffer.byteLength(k, 'utf8') + 1
  if (n > KEY_CACHE_MAX_KEY_BYTES) return undefined
  const b = Buffer.alloc(4 + n + ((4 - (n & 3)) & 3))
  b.writeUInt32BE(n, 0)
  b.write(k, 4, 'utf8')
  keyCache.set(k, b)
  return b
}

function encodeValueFast (w: ProtoXdrWriter, v: GfxValue): void {
  w.i32(v.type)
  switch (v.type) {
    case GfxDictType.INT: w.i64(v.value); return
    case GfxDictType.UINT: w.u64(v.value); return
    case GfxDictType.DOUBLE: w.f64(v.value); return
    case GfxDictType.STR: w.string(v.value + '\0'); return
    case GfxDictType.STR_OLD:
    case GfxDictType.PTR: w.opaque(v.value); return
    case GfxDictType.GFUUID:
      if (v.value.length !== 16) throw new RangeError(`gfx_dict GFUUID must be 16 bytes, got ${v.value.length}`)
      w.fixed(v.value, 16)
      return
    case GfxDictType.IATT: encodeGfxIattxFast(w, v.value); return
    case GfxDictType.MDATA: GfxMdataIatt.encode(asW(w), v.value); return
    default: throw new RangeError(`gfx_dict: unknown value type ${(v as { type: unknown }).type}`)
  }
}

export function encodeGfxDictFast (w: ProtoXdrWriter, d: GfxDict): void {
  if (d === null) {
    w.u32(0).i32(-1).u32(0)
    return
  }
  const sizeAt = w.reserveU32()
  w.i32(d.size).u32(d.size)
  const start = w.length
  for (const [k, v] of d) {
    const key = encodedKey(k)
    if (key !== undefined) w.encoded(key)
    else w.string(k + '\0')
    encodeValueFast(w, v)
  }
  w.setU32(sizeAt, w.length - start)
}

export function decodeValueFast (r: ProtoXdrReader, type: number): GfxValue {
  switch (type) {
    case GfxDictType.INT: return { type, value: r.i64() }
    case GfxDictType.UINT: return { type, value: r.u64() }
    case GfxDictType.DOUBLE: return { type, value: r.f64() }
    case GfxDictType.STR: {
      const n = r.u32()
      const p = r.take(n + ((4 - (n & 3)) & 3))
      const b = r.buf
      return { type, value: b.toString('utf8', p, n > 0 && b[p + n - 1] === 0 ? p + n - 1 : p + n) }
    }
    case GfxDictType.STR_OLD:
    case GfxDictType.PTR: return { type, value: r.opaque() }
    case GfxDictType.GFUUID: return { type, value: r.fixed(16) }
    case GfxDictType.IATT: return { type, value: decodeGfxIattxFast(r) }
    case GfxDictType.MDATA: return { type, value: decodeGfxMdataIattFast(r) }
    default: throw protocolError(`gfx_dict: unknown value type ${type} at offset ${r.pos - 4}`)
  }
}

const GFX_PAIR_MIN_BYTES = 16

/**
 * Decoded keys, interned: a direct-mapped table indexed by a hash of the key bytes. A hit
 * returns the same string object as last time (no allocation, and V8 keeps its hash, so the
 * Map.set that follows does not hash it again); a miss decodes and replaces the slot. Bounded by
 * construction (KEY_SLOTS entries of at most KEY_CACHE_MAX_KEY_BYTES bytes).
 */
const KEY_SLOTS = 1024
const slotBytes: Array<Buffer | undefined> = new Array(KEY_SLOTS).fill(undefined)
const slotKeys: string[] = new Array(KEY_SLOTS).fill('')

export function internKey (b: Buffer, p: number, e: number): string {
  const n = e - p
  // hash a sample (length, first, middle and last bytes): O(1), and the full compare below
  // makes any collision a mere miss
  let h = Math.imul(n, 0x9e3779b1)
  if (n > 0) {
    h = Math.imul(h ^ b[p]!, 0x01000193)
    h = Math.imul(h ^ b[p + (n >>> 1)]!, 0x01000193)
    h = Math.imul(h ^ b[e - 1]!, 0x01000193)
    if (n > 2) h = Math.imul(h ^ b[e - 2]!, 0x01000193)
    if (n > 8) h = Math.imul(h ^ b[p + (n >>> 1) + 1]!, 0x01000193)
  }
  const slot = (h ^ (h >>> 15)) & (KEY_SLOTS - 1)
  const cached = slotBytes[slot]
  if (cached !== undefined && cached.length === n) {
    let q = 0
    while (q < n && cached[q] === b[p + q]) q++
    if (q === n) return slotKeys[slot]!
  }
  let ascii = true
  for (let q = p; q < e; q++) if (b[q]! > 0x7f) { ascii = false; break }
  const k = b.toString(ascii ? 'latin1' : 'utf8', p, e)
  if (n <= KEY_CACHE_MAX_KEY_BYTES) {
    slotBytes[slot] = Buffer.from(b.subarray(p, e))
    slotKeys[slot] = k
  }
  return k
}

/**
 * Keys are decoded straight from the record (no subarray per key) through internKey(): a cached
 * string when the same key bytes were seen before; otherwise latin1 when the bytes are ASCII (a
 * plain widening copy), utf8 as before when they are not.
 */
export function decodeGfxDictFast (r: ProtoXdrReader): GfxDict {
  const at = r.pos
  const xdrSize = r.u32()
  const count = r.i32()
  const n = r.u32()
  if (count < 0) {
    if (count !== -1 || n !== 0 || xdrSize !== 0) {
      throw protocolError(`gfx_dict: NULL dict must be (0, -1, 0), got (${xdrSize}, ${count}, ${n}) at offset ${at}`)
    }
    return null
  }
  if (count !== n) throw protocolError(`gfx_dict: count ${count} but ${n} pairs at offset ${at}`)
  if (xdrSize > r.remaining) throw protocolError(`gfx_dict: xdr_size ${xdrSize} larger than the ${r.remaining} bytes left at offset ${at}`)
  if (n > xdrSize / GFX_PAIR_MIN_BYTES) throw protocolError(`gfx_dict: ${n} pairs cannot fit in xdr_size ${xdrSize} at offset ${at}`)
  const start = r.pos
  const b = r.buf
  const out = new Map<string, GfxValue>()
  for (let i = 0; i < n; i++) {
    const kl = r.u32()
    const p = r.take(kl + ((4 - (kl & 3)) & 3))
    if (kl === 0 || b[p + kl - 1] !== 0) throw protocolError(`gfx_dict: pair ${i} key is not NUL-terminated at offset ${r.pos}`)
    out.set(internKey(b, p, p + kl - 1), decodeValueFast(r, r.i32()))
  }
  const used = r.pos - start
  if (used !== xdrSize) throw protocolError(`gfx_dict: xdr_size says ${xdrSize} bytes but the pairs took ${used} at offset ${at}`)
  return out
}

export const GfxDictFast: ProtoCodec<GfxDict> = { encode: encodeGfxDictFast, decode: decodeGfxDictFast }

// ---------------------------------------------------------------------------------------------
// The two reply structs of the bench, composed from the fast parts with the package's struct()
// ---------------------------------------------------------------------------------------------

const asCodec = <T>(c: ProtoCodec<T>): Codec<T> => c as unknown as Codec<T>

export const GfxCommon2iattRspFast = onProto(xdr.struct({
  op_ret: xdr.i32, op_errno: xdr.i32, xdata: asCodec(GfxDictFast), prestat: asCodec(GfxIattxFast), poststat: asCodec(GfxIattxFast),
}))

export const GfxReadRspFast = onProto(xdr.struct({
  op_ret: xdr.i32, op_errno: xdr.i32, stat: asCodec(GfxIattxFast), size: xdr.u32, xdata: asCodec(GfxDictFast), data: xdr.rest,
}))

export function encodeFast<T> (c: ProtoCodec<T>, v: T, w: ProtoXdrWriter): Buffer {
  c.encode(w, v)
  return w.finish()
}

export function decodeFast<T> (c: ProtoCodec<T>, buf: Buffer): T {
  const r = new ProtoXdrReader(buf)
  const v = c.decode(r)
  if (r.remaining !== 0) throw protocolError(`XDR: ${r.remaining} trailing bytes after the value`)
  return v
}
