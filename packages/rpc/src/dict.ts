// GlusterFS dictionaries on the wire (gluster-wire.md §4). Two unrelated encodings:
//
//  * FlatDict: the old "serialized dict" carried inside an XDR opaque<> by the handshake,
//    GETSPEC, GET_VOLUME_INFO, event-notify and callback structs (§4.1). Untyped values.
//  * GfxDict: the typed `gfx_dict` of the 4.x fop program (§4.2): every xdata, xattr dict and
//    readdirp entry dict.
import type { XdrReader } from './xdr/reader.js'
import type { XdrWriter } from './xdr/writer.js'
import type { Codec } from './xdr/codec.js'
import { protocolError } from './errors.js'
import { decodeGfxIattx, encodeGfxIattx, GfxMdataIatt } from './programs/iatt.js'
import type { GfxIattx } from './programs/iatt.js'

// ---------------------------------------------------------------------------------------------
// Flat serialized dict (§4.1)
//
//   u32 count, then count × { u32 keylen (no NUL), u32 vallen, key, 0x00, value }
//   big-endian, no padding anywhere inside.
// ---------------------------------------------------------------------------------------------

/**
 * A flat dict: values are the raw wire bytes. By GlusterFS convention strings and numbers are
 * text that *includes* its trailing NUL (`"vol1"` is 5 bytes); binary values have none. Map
 * order is wire order.
 */
export type FlatDict = Map<string, Buffer>

/** The 4 + 8 per-pair header bytes, the key's NUL: every pair takes at least 9 bytes. */
const FLAT_PAIR_MIN_BYTES = 9
const NUL = Buffer.from([0])

/** Build a FlatDict; string values get their NUL appended, Buffers are taken as they are. */
export function flatDict (entries: Record<string, string | Buffer> | Iterable<readonly [string, string | Buffer]>): FlatDict {
  const it = Symbol.iterator in entries
    ? entries as Iterable<readonly [string, string | Buffer]>
    : Object.entries(entries)
  const out: FlatDict = new Map()
  for (const [k, v] of it) out.set(k, typeof v === 'string' ? Buffer.concat([Buffer.from(v, 'utf8'), NUL]) : v)
  return out
}

/** The value of `key` as text, minus one trailing NUL; undefined when absent. */
export function flatDictString (d: FlatDict | null | undefined, key: string): string | undefined {
  const v = d?.get(key)
  if (v === undefined) return undefined
  const n = v.length > 0 && v[v.length - 1] === 0 ? v.length - 1 : v.length
  return v.toString('utf8', 0, n)
}

/** Bytes of the serialized form (4 for an empty dict). */
export function flatDictSize (d: FlatDict): number {
  let n = 4
  for (const [k, v] of d) n += 8 + Buffer.byteLength(k, 'utf8') + 1 + v.length
  return n
}

/**
 * Serialize (an empty dict gives the 4 bytes `00000000`; note that GlusterFS sends an empty
 * dict as a zero-length opaque instead, which is what flatDictOpaque does).
 */
export function encodeFlatDict (d: FlatDict): Buffer {
  const out = Buffer.allocUnsafe(flatDictSize(d))
  out.writeUInt32BE(d.size, 0)
  let p = 4
  for (const [k, v] of d) {
    const keyAt = p + 8
    const keyLen = out.write(k, keyAt, 'utf8')
    out.writeUInt32BE(keyLen, p)
    out.writeUInt32BE(v.length, p + 4)
    out[keyAt + keyLen] = 0
    p = keyAt + keyLen + 1
    out.set(v, p)
    p += v.length
  }
  return out
}

/**
 * Parse a serialized flat dict. Values are subarrays of `buf` (no copies). A zero-length
 * buffer is an empty dict. Anything malformed (a length running past the end, a key without
 * its NUL, bytes left over) throws EGLUSTER_PROTOCOL. A repeated key keeps its last value.
 */
export function decodeFlatDict (buf: Buffer): FlatDict {
  const out: FlatDict = new Map()
  const end = buf.length
  if (end === 0) return out
  if (end < 4) throw protocolError(`flat dict: ${end} bytes cannot hold the pair count`)
  const count = buf.readUInt32BE(0)
  if (count > (end - 4) / FLAT_PAIR_MIN_BYTES) {
    throw protocolError(`flat dict: ${count} pairs cannot fit in ${end - 4} bytes`)
  }
  let p = 4
  for (let i = 0; i < count; i++) {
    if (end - p < 8) throw protocolError(`flat dict: pair ${i} header truncated at offset ${p}`)
    const keyLen = buf.readUInt32BE(p)
    const valLen = buf.readUInt32BE(p + 4)
    p += 8
    if (keyLen >= end - p) throw protocolError(`flat dict: pair ${i} key length ${keyLen} runs past the end`)
    if (buf[p + keyLen] !== 0) throw protocolError(`flat dict: pair ${i} key is not NUL-terminated`)
    const key = buf.toString('utf8', p, p + keyLen)
    p += keyLen + 1
    if (valLen > end - p) throw protocolError(`flat dict: pair ${i} ('${key}') value length ${valLen} runs past the end`)
    out.set(key, buf.subarray(p, p + valLen))
    p += valLen
  }
  if (p !== end) throw protocolError(`flat dict: ${end - p} bytes after the last of ${count} pairs`)
  return out
}

/**
 * A FlatDict inside an XDR opaque<> (how every handshake/mgmt struct carries it). An empty
 * dict is a zero-length opaque, as GlusterFS sends it (PING and callback replies, the
 * GET_VOLUME_INFO flags-0 reply), and a zero-length opaque decodes to an empty Map.
 */
export const flatDictOpaque: Codec<FlatDict> = {
  encode (w, d) {
    if (d.size === 0) w.u32(0)
    else w.opaque(encodeFlatDict(d))
  },
  decode (r) {
    return decodeFlatDict(r.opaque())
  },
}

// ---------------------------------------------------------------------------------------------
// gfx_dict (§4.2)
//
//   u32 xdr_size (bytes of the encoded pairs), i32 count, u32 n, n × { opaque key<> (with NUL),
//   i32 type, value arm }. The NULL dict is (0, -1, 0).
// ---------------------------------------------------------------------------------------------

/** gfx_value discriminants (the GF_DATA_TYPE_* numbers). 0 (UNKNOWN) never travels. */
export const GfxDictType = {
  STR_OLD: 1,
  INT: 2,
  UINT: 3,
  DOUBLE: 4,
  STR: 5,
  PTR: 6,
  GFUUID: 7,
  IATT: 8,
  MDATA: 9,
} as const
export type GfxDictType = (typeof GfxDictType)[keyof typeof GfxDictType]

/** One typed value. STR is text without its NUL (added on encode, stripped on decode). */
export type GfxValue =
  | { type: typeof GfxDictType.STR_OLD, value: Buffer }
  | { type: typeof GfxDictType.INT, value: bigint }
  | { type: typeof GfxDictType.UINT, value: bigint }
  | { type: typeof GfxDictType.DOUBLE, value: number }
  | { type: typeof GfxDictType.STR, value: string }
  | { type: typeof GfxDictType.PTR, value: Buffer }
  | { type: typeof GfxDictType.GFUUID, value: Buffer }
  | { type: typeof GfxDictType.IATT, value: GfxIattx }
  | { type: typeof GfxDictType.MDATA, value: GfxMdataIatt }

/** A gfx_dict: null is the NULL dict (0, -1, 0) that most calls send; an empty Map is (0, 0, 0). */
export type GfxDict = Map<string, GfxValue> | null

export const gfxStrOld = (value: Buffer): GfxValue => ({ type: GfxDictType.STR_OLD, value })
export const gfxInt = (value: bigint | number): GfxValue => ({ type: GfxDictType.INT, value: BigInt(value) })
export const gfxUint = (value: bigint | number): GfxValue => ({ type: GfxDictType.UINT, value: BigInt(value) })
export const gfxDouble = (value: number): GfxValue => ({ type: GfxDictType.DOUBLE, value })
export const gfxStr = (value: string): GfxValue => ({ type: GfxDictType.STR, value })
/** Binary value (type 6, "PTR"): xattr values, layouts. */
export const gfxBin = (value: Buffer): GfxValue => ({ type: GfxDictType.PTR, value })
export const gfxUuid = (value: Buffer): GfxValue => {
  if (value.length !== 16) throw new RangeError(`gfx_dict GFUUID must be 16 bytes, got ${value.length}`)
  return { type: GfxDictType.GFUUID, value }
}
export const gfxIatt = (value: GfxIattx): GfxValue => ({ type: GfxDictType.IATT, value })
export const gfxMdata = (value: GfxMdataIatt): GfxValue => ({ type: GfxDictType.MDATA, value })

/**
 * Build a gfx_dict. Values are GfxValues (see gfxUint, gfxUuid …) or shorthands: a string is
 * STR (5), a Buffer is binary (6).
 */
export function gfxDict (entries: Record<string, GfxValue | string | Buffer>): Map<string, GfxValue> {
  const out = new Map<string, GfxValue>()
  for (const [k, v] of Object.entries(entries)) {
    out.set(k, typeof v === 'string' ? gfxStr(v) : Buffer.isBuffer(v) ? gfxBin(v) : v)
  }
  return out
}

/** Text of a STR value, or of a binary/STR_OLD value minus one trailing NUL. */
export function gfxDictString (d: GfxDict | undefined, key: string): string | undefined {
  const v = d?.get(key)
  if (v === undefined) return undefined
  if (v.type === GfxDictType.STR) return v.value
  if (v.type === GfxDictType.PTR || v.type === GfxDictType.STR_OLD) {
    const b = v.value
    return b.toString('utf8', 0, b.length > 0 && b[b.length - 1] === 0 ? b.length - 1 : b.length)
  }
  return undefined
}

/** An INT or UINT value. */
export function gfxDictUint (d: GfxDict | undefined, key: string): bigint | undefined {
  const v = d?.get(key)
  if (v === undefined) return undefined
  return v.type === GfxDictType.UINT || v.type === GfxDictType.INT ? v.value : undefined
}

/** The bytes of a binary (PTR), STR_OLD or GFUUID value. */
export function gfxDictBin (d: GfxDict | undefined, key: string): Buffer | undefined {
  const v = d?.get(key)
  if (v === undefined) return undefined
  return v.type === GfxDictType.PTR || v.type === GfxDictType.STR_OLD || v.type === GfxDictType.GFUUID ? v.value : undefined
}

const pad4 = (n: number): number => n + ((4 - (n & 3)) & 3)

function valueBytes (v: GfxValue): number {
  switch (v.type) {
    case GfxDictType.INT:
    case GfxDictType.UINT:
    case GfxDictType.DOUBLE:
      return 8
    case GfxDictType.STR:
      return 4 + pad4(Buffer.byteLength(v.value, 'utf8') + 1)
    case GfxDictType.STR_OLD:
    case GfxDictType.PTR:
      return 4 + pad4(v.value.length)
    case GfxDictType.GFUUID:
      return 16
    case GfxDictType.IATT:
      return 148
    case GfxDictType.MDATA:
      return 36
  }
}

/** The `xdr_size` a dict is sent with: bytes of its encoded pairs (0 for NULL or empty). */
export function gfxDictXdrSize (d: GfxDict): number {
  if (d === null) return 0
  let n = 0
  for (const [k, v] of d) n += 4 + pad4(Buffer.byteLength(k, 'utf8') + 1) + 4 + valueBytes(v)
  return n
}

/** Total encoded bytes of a gfx_dict (12 + xdr_size). */
export function gfxDictBytes (d: GfxDict): number { return 12 + gfxDictXdrSize(d) }

function encodeValue (w: XdrWriter, v: GfxValue): void {
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
    case GfxDictType.IATT: encodeGfxIattx(w, v.value); return
    case GfxDictType.MDATA: GfxMdataIatt.encode(w, v.value); return
    default: throw new RangeError(`gfx_dict: unknown value type ${(v as { type: unknown }).type}`)
  }
}

function decodeValue (r: XdrReader, type: number): GfxValue {
  switch (type) {
    case GfxDictType.INT: return { type, value: r.i64() }
    case GfxDictType.UINT: return { type, value: r.u64() }
    case GfxDictType.DOUBLE: return { type, value: r.f64() }
    case GfxDictType.STR: {
      // offsets, not r.opaque(): no subarray per value
      const n = r.u32()
      const p = r.take(n + ((4 - (n & 3)) & 3))
      const b = r.buf
      // senders include the NUL; tolerate a value without one
      return { type, value: b.toString('utf8', p, n > 0 && b[p + n - 1] === 0 ? p + n - 1 : p + n) }
    }
    case GfxDictType.STR_OLD:
    case GfxDictType.PTR: return { type, value: r.opaque() }
    case GfxDictType.GFUUID: return { type, value: r.fixed(16) }
    case GfxDictType.IATT: return { type, value: decodeGfxIattx(r) }
    case GfxDictType.MDATA: return { type, value: GfxMdataIatt.decode(r) }
    default: throw protocolError(`gfx_dict: unknown value type ${type} at offset ${r.pos - 4}`)
  }
}

// Key caches. GlusterFS uses a few dozen distinct xdata keys ("trusted.glusterfs.dht",
// "link-count", "glusterfs.open-fd-count" …), so caching their encoded and decoded forms makes
// key handling, the bulk of a dict's cost, close to a copy (bench/results/xdr.md). Both caches
// are bounded: at most KEY_CACHE_ENTRIES keys of at most KEY_CACHE_MAX_KEY_BYTES bytes, so
// hostile or generated keys cannot grow them.
const KEY_CACHE_ENTRIES = 1024 // a power of two: the decode table masks its hash with it
const KEY_CACHE_MAX_KEY_BYTES = 128

/**
 * Encode side: the `opaque key<>` exactly as XdrWriter#string(k + '\0') writes it (length word,
 * UTF-8 key, NUL, zero padding), by key. The Buffers never leave this module and are only
 * copied from (w.fixed), never written into. A full cache stops adding; it does not evict.
 */
const encodedKeys = new Map<string, Buffer>()

function encodedKey (k: string): Buffer | undefined {
  const hit = encodedKeys.get(k)
  if (hit !== undefined) return hit
  // k.length (UTF-16 units) <= UTF-8 bytes: a cheap first filter before Buffer.byteLength
  if (k.length > KEY_CACHE_MAX_KEY_BYTES || encodedKeys.size >= KEY_CACHE_ENTRIES) return undefined
  const n = Buffer.byteLength(k, 'utf8') + 1
  if (n > KEY_CACHE_MAX_KEY_BYTES) return undefined
  const b = Buffer.alloc(4 + pad4(n)) // zeroed: the NUL and the padding are already there
  b.writeUInt32BE(n, 0)
  b.write(k, 4, 'utf8')
  encodedKeys.set(k, b)
  return b
}

/**
 * Decode side: a direct-mapped table of recently decoded keys, indexed by a hash of the key's
 * length and a few sampled bytes (O(1) whatever the key length). A slot is trusted only after
 * a full byte compare, so a collision (two keys with the same length and sampled bytes) just
 * costs a miss and replaces the slot. A hit returns the same string object as before: no
 * allocation, and V8 keeps its hash, so the Map.set that follows does not hash it again.
 */
const slotBytes: Array<Buffer | undefined> = new Array<Buffer | undefined>(KEY_CACHE_ENTRIES).fill(undefined)
const slotKeys: string[] = new Array<string>(KEY_CACHE_ENTRIES).fill('')

/** The hash that picks a decode-table slot for the key bytes b[p, e). */
function keySlot (b: Uint8Array, p: number, e: number): number {
  const n = e - p
  let h = Math.imul(n, 0x9e3779b1)
  if (n > 0) {
    // first, middle, last; then second-to-last and middle+1 for longer keys
    h = Math.imul(h ^ b[p]!, 0x01000193)
    h = Math.imul(h ^ b[p + (n >>> 1)]!, 0x01000193)
    h = Math.imul(h ^ b[e - 1]!, 0x01000193)
    if (n > 2) h = Math.imul(h ^ b[e - 2]!, 0x01000193)
    if (n > 8) h = Math.imul(h ^ b[p + (n >>> 1) + 1]!, 0x01000193)
  }
  return (h ^ (h >>> 15)) & (KEY_CACHE_ENTRIES - 1)
}

/** The key in b[p, e) (without its NUL) as a string, through the decode table. */
function decodeKey (b: Buffer, p: number, e: number): string {
  const n = e - p
  const slot = keySlot(b, p, e)
  const cached = slotBytes[slot]
  if (cached !== undefined && cached.length === n) {
    let q = 0
    while (q < n && cached[q] === b[p + q]) q++
    if (q === n) return slotKeys[slot]!
  }
  // latin1 is a plain widening copy and equals utf8 for ASCII bytes; anything else is utf8 as before
  let ascii = true
  for (let q = p; q < e; q++) if (b[q]! > 0x7f) { ascii = false; break }
  const k = b.toString(ascii ? 'latin1' : 'utf8', p, e)
  if (n <= KEY_CACHE_MAX_KEY_BYTES) {
    slotBytes[slot] = Buffer.from(b.subarray(p, e)) // a copy: never keep the record alive
    slotKeys[slot] = k
  }
  return k
}

export function encodeGfxDict (w: XdrWriter, d: GfxDict): void {
  if (d === null) {
    w.u32(0).i32(-1).u32(0)
    return
  }
  const sizeAt = w.reserveU32()
  w.i32(d.size).u32(d.size)
  const start = w.length
  for (const [k, v] of d) {
    const key = encodedKey(k)
    if (key !== undefined) w.fixed(key) // already padded: fixed() adds nothing
    else w.string(k + '\0')
    encodeValue(w, v)
  }
  w.setU32(sizeAt, w.length - start)
}

/** The smallest encoded pair: key<> with 1 byte (8), type (4), an 8-byte arm or empty opaque<> (4). */
const GFX_PAIR_MIN_BYTES = 16

/**
 * Decode a gfx_dict. Strict where GlusterFS depends on it: `xdr_size` must equal the bytes the
 * pairs actually took (READ replies and WRITE requests locate their payload with it), `count`
 * must be -1 (NULL, with no pairs and xdr_size 0) or equal the number of pairs, and every key
 * must end in its NUL. A repeated key keeps its last value, as in GlusterFS.
 */
export function decodeGfxDict (r: XdrReader): GfxDict {
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
    // the key's length word and padded bytes by offset (r.opaque() would make a subarray)
    const kl = r.u32()
    const p = r.take(kl + ((4 - (kl & 3)) & 3))
    if (kl === 0 || b[p + kl - 1] !== 0) throw protocolError(`gfx_dict: pair ${i} key is not NUL-terminated at offset ${r.pos}`)
    out.set(decodeKey(b, p, p + kl - 1), decodeValue(r, r.i32()))
  }
  const used = r.pos - start
  if (used !== xdrSize) throw protocolError(`gfx_dict: xdr_size says ${xdrSize} bytes but the pairs took ${used} at offset ${at}`)
  return out
}

export const GfxDict: Codec<GfxDict> = { encode: encodeGfxDict, decode: decodeGfxDict }
