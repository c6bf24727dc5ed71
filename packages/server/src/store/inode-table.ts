// The brick store's state in memory, and the journal records that change it. Every change goes
// through apply(), at run time right after the record is logged and at start-up when the log is
// replayed, so the two can never disagree. Records say what becomes true ("this link exists",
// "xattr a is v"), never what to add to what, so replaying a record that a newer snapshot
// already holds changes nothing (journal.ts relies on that across a crash while compacting).
//
//   { k, v: { t, l, x?, a? } }   the whole object: a new one, each snapshot line, and every
//                                change in a version-1 log (which re-logged the whole record)
//   { k, d: 1 }                  the object is gone
//   { k, la: [p, n] }            link `n` in directory `p` added
//   { k, lr: [p, n] }            link removed (the object stays: open, or other links)
//   { k, lm: [p, n, p2, n2] }    link renamed
//   { k, x: { name: b64|null } } only the named xattrs set (base64) or removed
//   { k, a: { m?, u?, g?, r? } } mode, uid, gid, rdev changed (r: a number, or decimal text
//                                beyond 2^53)
//
// `k` is the gfid as UUID text, `t` the type (d, f, l, o), `l` the links as [parent, name],
// `x` the xattrs (name → base64), `a` all four attributes. Records of version 1 have no `a`.
import type { JournalRecord, JournalState } from './journal.js'
import { xattrCost } from './xattr-limits.js'
import { xattrDelete, xattrEntries, xattrGet, xattrSet } from './xattr-set.js'
import type { XattrSet } from './xattr-set.js'

export type ObjectType = 'd' | 'f' | 'l' | 'o'

/** What clients see of an object beyond the backend's size, times and link count. */
export interface InodeAttrs {
  /** st_mode with the file-type bits (S_IFMT) */
  mode: number
  uid: number
  gid: number
  rdev: bigint
}

/** One object. Kept small: a brick may hold millions. */
export class Inode {
  t: ObjectType
  /** the first link, [p, n] ('' when the object has none: the root, or unlinked while open) */
  p = ''
  n = ''
  /** the other links (hard links) */
  more: Array<[string, string]> | undefined = undefined
  /** xattrs: name → value, one char per byte (latin1 strings take a third of base64's memory) */
  x: XattrSet | undefined = undefined
  /** -1 until the attributes are known (objects recorded by version 1) */
  mode = -1
  uid = 0
  gid = 0
  rdev: number | bigint = 0
  constructor (t: ObjectType) { this.t = t }
}

const TYPES = new Set<unknown>(['d', 'f', 'l', 'o'])

/** All-zero values (AFR's counters at rest) share one string per length. */
const ZERO_VALUES: string[] = []
const MAX_SHARED_ZERO = 64

function decodeValue (b64: unknown): string {
  if (typeof b64 !== 'string') throw new Error(`journal: xattr value ${JSON.stringify(b64)} is not base64 text`)
  const b = Buffer.from(b64, 'base64')
  if (b.length <= MAX_SHARED_ZERO && b.every(c => c === 0)) return (ZERO_VALUES[b.length] ??= '\0'.repeat(b.length))
  return b.toString('latin1')
}

export function encodeValue (v: Buffer | string): string {
  return (typeof v === 'string' ? Buffer.from(v, 'latin1') : v).toString('base64')
}

function setOwn<V> (x: Record<string, V>, name: string, value: V): void {
  if (name === '__proto__') Object.defineProperty(x, name, { value, writable: true, enumerable: true, configurable: true })
  else x[name] = value
}

/** The `x` of a record: each value as base64 (a name may be anything, `__proto__` included). */
export function encodeXattrs (entries: Iterable<[string, Buffer | string | null]>): Record<string, string | null> {
  const x: Record<string, string | null> = {}
  for (const [name, v] of entries) setOwn(x, name, v === null ? null : encodeValue(v))
  return x
}

export function linkCount (ino: Inode): number {
  return ino.p === '' ? 0 : 1 + (ino.more?.length ?? 0)
}

export function linksOf (ino: Inode): Array<[string, string]> {
  if (ino.p === '') return []
  const out: Array<[string, string]> = [[ino.p, ino.n]]
  if (ino.more !== undefined) out.push(...ino.more)
  return out
}

function addLink (ino: Inode, p: string, n: string): void {
  if (ino.p === '') {
    ino.p = p
    ino.n = n
  } else {
    (ino.more ??= []).push([p, n])
  }
}

/** Remove one link; the next one becomes the first. */
function removeLink (ino: Inode, p: string, n: string): boolean {
  if (ino.p === p && ino.n === n) {
    const next = ino.more?.shift()
    ino.p = next?.[0] ?? ''
    ino.n = next?.[1] ?? ''
    if (ino.more?.length === 0) ino.more = undefined
    return true
  }
  const i = ino.more?.findIndex(([q, m]) => q === p && m === n) ?? -1
  if (i < 0) return false
  ino.more!.splice(i, 1)
  if (ino.more!.length === 0) ino.more = undefined
  return true
}

/** Rename one link in place (its position, so the path of an object does not jump to another link). */
function replaceLink (ino: Inode, p: string, n: string, p2: string, n2: string): void {
  if (ino.p === p && ino.n === n) {
    ino.p = p2
    ino.n = n2
    return
  }
  const l = ino.more?.find(([q, m]) => q === p && m === n)
  if (l !== undefined) {
    l[0] = p2
    l[1] = n2
  }
}

function str (v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '') throw new Error(`journal: ${what} ${JSON.stringify(v)} is not a name`)
  return v
}

function pair (v: unknown, what: string): [string, string] {
  if (!Array.isArray(v) || v.length !== 2) throw new Error(`journal: ${what} ${JSON.stringify(v)} is not [parent, name]`)
  return [str(v[0], what), str(v[1], what)]
}

function u32 (v: unknown, what: string): number {
  if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 0xffffffff) throw new Error(`journal: ${what} ${JSON.stringify(v)}`)
  return v as number
}

/** rdev as it is kept: a number while it fits, a bigint beyond 2^53. */
export function rdevValue (r: bigint): number | bigint {
  return r <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(r) : r
}

function decodeRdev (v: unknown): number | bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v
  if (typeof v === 'string' && /^[0-9]{1,20}$/.test(v) && BigInt(v) < 1n << 64n) return rdevValue(BigInt(v))
  throw new Error(`journal: rdev ${JSON.stringify(v)}`)
}

/** The `a` of a record, for the attributes given. */
export function encodeAttrs (a: Partial<InodeAttrs>): Record<string, number | string> {
  const out: Record<string, number | string> = {}
  if (a.mode !== undefined) out.m = a.mode
  if (a.uid !== undefined) out.u = a.uid
  if (a.gid !== undefined) out.g = a.gid
  if (a.rdev !== undefined) {
    const r = rdevValue(a.rdev)
    out.r = typeof r === 'number' ? r : r.toString()
  }
  return out
}

export class InodeTable implements JournalState {
  readonly #objs = new Map<string, Inode>()
  /**
   * parent gfid → its entries (name → gfid). `k` is the one string every link into that
   * directory holds as its parent (each caller's copy of a gfid would otherwise be kept).
   */
  readonly #dirs = new Map<string, { k: string, names: Map<string, string> }>()
  #xattrBytes = 0

  get size (): number { return this.#objs.size }
  /** what all xattrs cost the store-wide budget (see xattrCost) */
  get xattrBytes (): number { return this.#xattrBytes }
  get (key: string): Inode | undefined { return this.#objs.get(key) }
  child (parent: string, name: string): string | undefined { return this.#dirs.get(parent)?.names.get(name) }
  children (parent: string): ReadonlyMap<string, string> { return this.#dirs.get(parent)?.names ?? new Map() }

  apply (r: JournalRecord): void {
    const k = str(r.k, 'gfid')
    if (r.v !== undefined) return this.#put(k, r.v)
    if (r.d !== undefined) {
      const ino = this.#objs.get(k)
      if (ino !== undefined) this.#remove(k, ino)
      return
    }
    const ino = this.#objs.get(k)
    // a change to an object that a newer snapshot no longer has
    if (ino === undefined) return
    if (r.la !== undefined) {
      const [p, n] = pair(r.la, 'link')
      this.#link(k, ino, p, n)
    } else if (r.lr !== undefined) {
      const [p, n] = pair(r.lr, 'link')
      if (removeLink(ino, p, n)) this.#unbind(p, n, k)
    } else if (r.lm !== undefined) {
      if (!Array.isArray(r.lm) || r.lm.length !== 4) throw new Error(`journal: rename ${JSON.stringify(r.lm)}`)
      const [p, n] = pair(r.lm.slice(0, 2), 'link')
      const [p2, n2] = pair(r.lm.slice(2), 'link')
      this.#move(k, ino, p, n, p2, n2)
    } else if (r.x !== undefined) {
      this.#setXattrs(ino, r.x)
    } else if (r.a !== undefined) {
      this.#setAttrs(ino, r.a)
    } else {
      throw new Error(`journal: record ${JSON.stringify(Object.keys(r))} not understood`)
    }
  }

  /** The whole table as object records (a snapshot). */
  * records (): Generator<JournalRecord> {
    for (const [k, ino] of this.#objs) {
      const v: Record<string, unknown> = { t: ino.t, l: linksOf(ino) }
      if (ino.x !== undefined) v.x = encodeXattrs(xattrEntries(ino.x))
      if (ino.mode >= 0) v.a = encodeAttrs({ mode: ino.mode, uid: ino.uid, gid: ino.gid, rdev: BigInt(ino.rdev) })
      yield { k, v }
    }
  }

  #put (k: string, v: unknown): void {
    if (typeof v !== 'object' || v === null) throw new Error(`journal: object ${k} is ${JSON.stringify(v)}`)
    const { t, l, x, a } = v as Record<string, unknown>
    if (!TYPES.has(t)) throw new Error(`journal: object ${k} has type ${JSON.stringify(t)}`)
    if (!Array.isArray(l)) throw new Error(`journal: object ${k} has links ${JSON.stringify(l)}`)
    const old = this.#objs.get(k)
    if (old !== undefined) this.#remove(k, old)
    const ino = new Inode(t as ObjectType)
    this.#objs.set(k, ino)
    for (const link of l) {
      const [p, n] = pair(link, 'link')
      this.#link(k, ino, p, n)
    }
    if (x !== undefined) this.#setXattrs(ino, x)
    if (a !== undefined) this.#setAttrs(ino, a)
  }

  #remove (k: string, ino: Inode): void {
    for (const [p, n] of linksOf(ino)) this.#unbind(p, n, k)
    for (const [name, value] of xattrEntries(ino.x)) this.#xattrBytes -= xattrCost(name, value.length)
    this.#objs.delete(k)
  }

  #link (k: string, ino: Inode, p: string, n: string): void {
    // the directory entry and the object's links always agree, and the entry is one lookup
    if (this.child(p, n) === k) return
    addLink(ino, this.#bind(p, n, k), n)
  }

  #move (k: string, ino: Inode, p: string, n: string, p2: string, n2: string): void {
    if (p === p2 && n === n2) return
    const had = this.child(p, n) === k
    if (this.child(p2, n2) === k) {
      // both names were links of this object already: the old one goes
      if (had && removeLink(ino, p, n)) this.#unbind(p, n, k)
      return
    }
    if (!had) return this.#link(k, ino, p2, n2)
    this.#unbind(p, n, k)
    replaceLink(ino, p, n, this.#bind(p2, n2, k), n2)
  }

  /**
   * Enter `name` → `k` in directory `parent`, taking the name from whatever object held it (at
   * run time the store logs that object's unlink first; during a replay over a newer snapshot
   * later records settle it). Returns the directory's shared gfid string.
   */
  #bind (parent: string, name: string, k: string): string {
    let d = this.#dirs.get(parent)
    if (d === undefined) this.#dirs.set(parent, d = { k: parent, names: new Map() })
    const prev = d.names.get(name)
    if (prev !== undefined && prev !== k) {
      const other = this.#objs.get(prev)
      if (other !== undefined) removeLink(other, parent, name)
    }
    d.names.set(name, k)
    return d.k
  }

  #unbind (parent: string, name: string, k: string): void {
    const d = this.#dirs.get(parent)
    if (d === undefined || d.names.get(name) !== k) return
    d.names.delete(name)
    if (d.names.size === 0) this.#dirs.delete(parent)
  }

  #setXattrs (ino: Inode, x: unknown): void {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new Error(`journal: xattrs ${JSON.stringify(x)}`)
    for (const name of Object.keys(x)) {
      const b64 = (x as Record<string, unknown>)[name]
      const old = xattrGet(ino.x, name)
      if (old !== undefined) this.#xattrBytes -= xattrCost(name, old.length)
      if (b64 === null) {
        ino.x = xattrDelete(ino.x, name)
        continue
      }
      const value = decodeValue(b64)
      ino.x = xattrSet(ino.x, name, value)
      this.#xattrBytes += xattrCost(name, value.length)
    }
  }

  #setAttrs (ino: Inode, a: unknown): void {
    if (typeof a !== 'object' || a === null) throw new Error(`journal: attributes ${JSON.stringify(a)}`)
    const { m, u, g, r } = a as Record<string, unknown>
    if (m !== undefined) ino.mode = u32(m, 'mode')
    if (u !== undefined) ino.uid = u32(u, 'uid')
    if (g !== undefined) ino.gid = u32(g, 'gid')
    if (r !== undefined) ino.rdev = decodeRdev(r)
  }
}
