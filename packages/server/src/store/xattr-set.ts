// The xattrs of one inode in memory. Most inodes have one to a few (AFR's counters, DHT's
// layout), so those are a flat [name, value, name, value …] array: 64 bytes for one entry. A plain
// object would be smaller for shared names but V8 gives every new property name its own hidden
// class, ~230 bytes that a client sending unique names would get for free; a Map costs ~200
// bytes even for one entry, so only inodes with many xattrs get one (and their lookups stay O(1)).
// Values are strings with one char per byte (latin1).

export type XattrSet = string[] | Map<string, string>

const SMALL = 8

/**
 * The translators' names repeat on every inode: keep one copy of each (a bounded table, so that
 * names a client makes up cannot grow it without end).
 */
const NAMES = new Map<string, string>()
const MAX_SHARED_NAMES = 4096

export function shareName (name: string): string {
  const have = NAMES.get(name)
  if (have !== undefined) return have
  if (NAMES.size < MAX_SHARED_NAMES && name.startsWith('trusted.')) NAMES.set(name, name)
  return name
}

export function xattrGet (x: XattrSet | undefined, name: string): string | undefined {
  if (x === undefined) return undefined
  if (!Array.isArray(x)) return x.get(name)
  for (let i = 0; i < x.length; i += 2) if (x[i] === name) return x[i + 1]
  return undefined
}

export function xattrCount (x: XattrSet | undefined): number {
  if (x === undefined) return 0
  return Array.isArray(x) ? x.length / 2 : x.size
}

export function * xattrEntries (x: XattrSet | undefined): Generator<[string, string]> {
  if (x === undefined) return
  if (!Array.isArray(x)) {
    yield * x
    return
  }
  for (let i = 0; i < x.length; i += 2) yield [x[i]!, x[i + 1]!]
}

/** Set `name` (returns the set, which may be a new one). */
export function xattrSet (x: XattrSet | undefined, name: string, value: string): XattrSet {
  if (x === undefined) return [shareName(name), value]
  if (!Array.isArray(x)) return x.set(shareName(name), value)
  for (let i = 0; i < x.length; i += 2) {
    if (x[i] === name) {
      x[i + 1] = value
      return x
    }
  }
  // a new array of the exact size: push() would leave room for 8 more entries on every inode
  if (x.length < 2 * SMALL) return [...x, shareName(name), value]
  const m = new Map(xattrEntries(x))
  return m.set(shareName(name), value)
}

/** Remove `name` (returns the set, undefined once empty). */
export function xattrDelete (x: XattrSet | undefined, name: string): XattrSet | undefined {
  if (x === undefined) return undefined
  if (!Array.isArray(x)) {
    x.delete(name)
    if (x.size > SMALL / 2) return x
    return x.size === 0 ? undefined : [...x].flat()
  }
  for (let i = 0; i < x.length; i += 2) {
    if (x[i] === name) {
      x.splice(i, 2)
      break
    }
  }
  return x.length === 0 ? undefined : x
}
