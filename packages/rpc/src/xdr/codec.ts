import { XdrReader } from './reader.js'
import { XdrWriter } from './writer.js'
import { protocolError } from '../errors.js'

/** One XDR type: how to write a value and how to read one back. */
export interface Codec<T> {
  encode (w: XdrWriter, v: T): void
  decode (r: XdrReader): T
}

export type Infer<C> = C extends Codec<infer T> ? T : never

export const u32: Codec<number> = { encode: (w, v) => { w.u32(v) }, decode: r => r.u32() }
export const i32: Codec<number> = { encode: (w, v) => { w.i32(v) }, decode: r => r.i32() }
export const u64: Codec<bigint> = { encode: (w, v) => { w.u64(v) }, decode: r => r.u64() }
export const i64: Codec<bigint> = { encode: (w, v) => { w.i64(v) }, decode: r => r.i64() }
export const f64: Codec<number> = { encode: (w, v) => { w.f64(v) }, decode: r => r.f64() }
export const bool: Codec<boolean> = { encode: (w, v) => { w.bool(v) }, decode: r => r.bool() }
export const xvoid: Codec<undefined> = { encode: () => {}, decode: () => undefined }

export function opaqueFixed (n: number): Codec<Buffer> {
  return {
    encode: (w, v) => {
      if (v.length !== n) throw new RangeError(`opaque[${n}] given ${v.length} bytes`)
      w.fixed(v, n)
    },
    decode: r => r.fixed(n),
  }
}

export function opaque (max?: number): Codec<Buffer> {
  return {
    encode: (w, v) => {
      if (max !== undefined && v.length > max) throw new RangeError(`opaque<${max}> given ${v.length} bytes`)
      w.opaque(v)
    },
    decode: r => r.opaque(max),
  }
}

export function string (max?: number): Codec<string> {
  return { encode: (w, v) => { w.string(v) }, decode: r => r.string(max) }
}

/** Raw bytes to the end of the record (READ reply data, WRITE request data): no length, no pad. */
export const rest: Codec<Buffer> = { encode: (w, v) => { w.raw(v) }, decode: r => r.rest() }

type Fields = Record<string, Codec<any>>
export type StructOf<F extends Fields> = { [K in keyof F]: Infer<F[K]> }

/** A struct: fields in declaration order, as in the .x file. */
export function struct<F extends Fields> (fields: F): Codec<StructOf<F>> {
  const names = Object.keys(fields)
  const codecs = names.map(n => fields[n]!)
  const count = names.length
  return {
    encode (w, v) {
      const o = v as Record<string, unknown>
      for (let i = 0; i < count; i++) codecs[i]!.encode(w, o[names[i]!])
    },
    decode (r) {
      const o: Record<string, unknown> = {}
      for (let i = 0; i < count; i++) o[names[i]!] = codecs[i]!.decode(r)
      return o as StructOf<F>
    },
  }
}

/** T *p: u32 0/1 then T. */
export function optional<T> (c: Codec<T>): Codec<T | null> {
  return {
    encode (w, v) {
      if (v === null || v === undefined) { w.u32(0); return }
      w.u32(1)
      c.encode(w, v)
    },
    decode (r) { return r.bool() ? c.decode(r) : null },
  }
}

/** T x<max>: u32 count then the elements. */
export function array<T> (c: Codec<T>, max = 0xffffffff): Codec<T[]> {
  return {
    encode (w, v) {
      w.u32(v.length)
      for (const x of v) c.encode(w, x)
    },
    decode (r) {
      const at = r.pos
      const n = r.u32()
      if (n > max) throw protocolError(`XDR: array length ${n} exceeds its limit ${max} at offset ${at}`)
      // every element takes at least one byte: a count larger than what is left is malformed
      if (n > r.remaining) throw protocolError(`XDR: array length ${n} larger than the ${r.remaining} bytes left`)
      const out = new Array<T>(n)
      for (let i = 0; i < n; i++) out[i] = c.decode(r)
      return out
    },
  }
}

/**
 * A linked list as GlusterFS encodes its entry lists (`struct x { …; x *next; }`, reached
 * through an optional pointer): repeated 1,T and a final 0. Exposed as an array.
 */
export function list<T> (c: Codec<T>): Codec<T[]> {
  return {
    encode (w, v) {
      for (const x of v) { w.u32(1); c.encode(w, x) }
      w.u32(0)
    },
    decode (r) {
      const out: T[] = []
      while (r.bool()) out.push(c.decode(r))
      return out
    },
  }
}

/** Encode one value to a single Buffer (tests, small messages). */
export function encode<T> (c: Codec<T>, v: T, w = new XdrWriter()): Buffer {
  c.encode(w, v)
  return w.finish()
}

/** Decode one value; with `exact` (the default) trailing bytes are an error. */
export function decode<T> (c: Codec<T>, buf: Buffer, exact = true): T {
  const r = new XdrReader(buf)
  const v = c.decode(r)
  if (exact && r.remaining !== 0) throw protocolError(`XDR: ${r.remaining} trailing bytes after the value`)
  return v
}
