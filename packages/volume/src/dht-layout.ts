// A directory's DHT layout (gluster-cluster.md §5.3): each subvolume's copy of the directory
// carries `trusted.glusterfs.dht` = 4 × u32 BE [commit_hash, type, start, stop], an inclusive
// hash range. A name belongs to the subvolume whose range holds dmHash(name).
import { dmHash, hashName } from './dht-hash.js'

export const DHT_XATTR = 'trusted.glusterfs.dht'
export const DHT_LINKTO_XATTR = 'trusted.glusterfs.dht.linkto'

export interface LayoutRange {
  /** index of the subvolume in the distribute's children */
  subvol: number
  start: number
  stop: number
  commitHash: number
}

export interface Layout {
  ranges: LayoutRange[]
  /** true when the ranges cover 0..0xffffffff with no hole or overlap */
  complete: boolean
}

/** Decode one `trusted.glusterfs.dht` value; undefined when it is not 16 bytes. */
export function decodeLayoutXattr (v: Buffer | undefined, subvol: number): LayoutRange | undefined {
  if (v === undefined || v.length !== 16) return undefined
  return { subvol, commitHash: v.readUInt32BE(0), start: v.readUInt32BE(8), stop: v.readUInt32BE(12) }
}

export function encodeLayoutXattr (r: Omit<LayoutRange, 'subvol'>): Buffer {
  const b = Buffer.alloc(16)
  b.writeUInt32BE(r.commitHash >>> 0, 0)
  b.writeUInt32BE(r.start >>> 0, 8)
  b.writeUInt32BE(r.stop >>> 0, 12)
  return b
}

/** Merge the per-subvolume ranges of one directory. Zero-width (0,0) ranges hold no names. */
export function makeLayout (ranges: Array<LayoutRange | undefined>): Layout {
  const rs = ranges.filter((r): r is LayoutRange => r !== undefined && !(r.start === 0 && r.stop === 0))
    .sort((a, b) => a.start - b.start)
  let next = 0
  let complete = rs.length > 0
  for (const r of rs) {
    if (r.start !== next || r.stop < r.start) { complete = false; break }
    next = r.stop + 1
  }
  if (next !== 0x100000000) complete = false
  return { ranges: rs, complete }
}

/** The subvolume index whose range holds `hash`, or -1. */
export function layoutSearch (layout: Layout, hash: number): number {
  for (const r of layout.ranges) if (hash >= r.start && hash <= r.stop) return r.subvol
  return -1
}

export interface HashOptions { rsyncRegex: RegExp | null, extraRegex: RegExp | null }

/** The hashed subvolume of `name` in a directory with `layout`. */
export function hashedSubvol (layout: Layout, name: string, o: HashOptions): number {
  return layoutSearch(layout, dmHash(hashName(name, o.rsyncRegex, o.extraRegex)))
}

/**
 * The layout mkdir would give a new directory over n equal subvolumes (§5.3): the start
 * subvolume is dmHash(full path) % n, ranges of 0xffffffff / n, the last one stops at 0xffffffff.
 */
export function newDirectoryLayout (path: string, n: number, commitHash = 0): Layout {
  const chunk = Math.floor(0xffffffff / n)
  const startIdx = dmHash(path) % n
  const ranges: LayoutRange[] = []
  let start = 0
  for (let k = 0; k < n; k++) {
    const subvol = (startIdx + k) % n
    const stop = k === n - 1 ? 0xffffffff : start + chunk - 1
    ranges.push({ subvol, start, stop, commitHash })
    start = stop + 1
  }
  return makeLayout(ranges)
}

/** A DHT link file: mode exactly S_IFREG|01000 (---------T) with the linkto xattr. */
export function isLinkto (mode: number, linkto: string | undefined): boolean {
  return (mode & 0o170000) === 0o100000 && (mode & 0o7777) === 0o1000 && linkto !== undefined
}
