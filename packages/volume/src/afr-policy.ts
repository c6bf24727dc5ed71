// AFR's read-side decisions (gluster-cluster.md §3), pure: which copies are readable after a
// LOOKUP, and which of them to read from. No I/O here; replicate.ts applies these.
import { networkInterfaces, hostname } from 'node:os'
import { GfxDictType, type GfxDict } from '@gluster-ts/rpc'

/** SuperFastHash (Paul Hsieh) as AFR's read-hash-mode 1 applies it to a gfid (§3.3). */
export function superFastHash (data: Uint8Array): number {
  let len = data.length
  if (len <= 1) return 1 // (what GlusterFS's variant returns for such input)
  let hash = len >>> 0
  let p = 0
  const le16 = (i: number): number => data[i]! | (data[i + 1]! << 8)
  const rem = len & 3
  len >>>= 2
  for (; len > 0; len--) {
    hash = (hash + le16(p)) >>> 0
    const tmp = ((le16(p + 2) << 11) ^ hash) >>> 0
    hash = ((hash << 16) ^ tmp) >>> 0
    p += 4
    hash = (hash + (hash >>> 11)) >>> 0
  }
  const sc = (i: number): number => (data[i]! >= 0x80 ? data[i]! - 0x100 : data[i]!)
  switch (rem) {
    case 3:
      hash = (hash + le16(p)) >>> 0
      hash = (hash ^ (hash << 16)) >>> 0
      hash = (hash ^ ((sc(p + 2) << 18) >>> 0)) >>> 0
      hash = (hash + (hash >>> 11)) >>> 0
      break
    case 2:
      hash = (hash + le16(p)) >>> 0
      hash = (hash ^ (hash << 11)) >>> 0
      hash = (hash + (hash >>> 17)) >>> 0
      break
    case 1:
      hash = (hash + sc(p)) >>> 0
      hash = (hash ^ (hash << 10)) >>> 0
      hash = (hash + (hash >>> 1)) >>> 0
      break
  }
  hash = (hash ^ (hash << 3)) >>> 0
  hash = (hash + (hash >>> 5)) >>> 0
  hash = (hash ^ (hash << 4)) >>> 0
  hash = (hash + (hash >>> 17)) >>> 0
  hash = (hash ^ (hash << 25)) >>> 0
  hash = (hash + (hash >>> 6)) >>> 0
  return hash
}

/** One child's LOOKUP answer, as far as readability is concerned. */
export interface ChildReply {
  ok: boolean
  isDir?: boolean
  isFile?: boolean
  size?: bigint
  xdata?: GfxDict
}

export interface Readable {
  data: boolean[]
  metadata: boolean[]
}

function pendingCounters (v: Buffer): [number, number, number] | undefined {
  if (v.length < 12) return undefined
  return [v.readInt32BE(0), v.readInt32BE(4), v.readInt32BE(8)]
}

/**
 * Which children hold good copies (§3.2): every child that answered, minus those another
 * child's pending xattrs accuse, minus (for files, with no write in flight) those whose size is
 * below the largest unaccused size; the arbiter (index 2 with arbiterCount 1) never.
 */
export function computeReadable (replies: ChildReply[], pendingXattrs: string[], arbiterCount = 0): Readable {
  const n = replies.length
  const data = replies.map(r => r.ok)
  const metadata = replies.map(r => r.ok)
  if (arbiterCount === 1 && n >= 3) { data[2] = false; metadata[2] = false }
  const accused = new Array<boolean>(n).fill(false)
  const maccused = new Array<boolean>(n).fill(false)
  let lockSeen = false
  replies.forEach((r, i) => {
    if (!r.ok) return
    if (r.xdata?.has('glusterfs.bad-inode') === true) { data[i] = false; metadata[i] = false; return }
    const lk = r.xdata?.get('glusterfs.inodelk-count')
    if (lk !== undefined && (lk.type === GfxDictType.INT || lk.type === GfxDictType.UINT) && lk.value > 0n) lockSeen = true
    const idx = r.isDir === true ? 2 : 0
    pendingXattrs.forEach((key, j) => {
      const v = r.xdata?.get(key)
      if (v === undefined || (v.type !== GfxDictType.PTR && v.type !== GfxDictType.STR_OLD)) return
      const c = pendingCounters(v.value)
      if (c === undefined) return
      if (c[idx] !== 0) accused[j] = true
      if (c[1] !== 0) maccused[j] = true
    })
  })
  const fileReplies = replies.filter(r => r.ok && r.isFile === true)
  if (!lockSeen && fileReplies.length > 0) {
    let max = -1n
    replies.forEach((r, i) => { if (r.ok && !accused[i] && data[i] && r.size !== undefined && r.size > max) max = r.size })
    replies.forEach((r, i) => {
      if (r.ok && r.isFile === true && !accused[i] && !(arbiterCount === 1 && i === 2) && r.size !== undefined && r.size < max) accused[i] = true
    })
  }
  for (let j = 0; j < n; j++) {
    if (accused[j]) data[j] = false
    if (maccused[j]) metadata[j] = false
  }
  return { data, metadata }
}

/** The set AFR reads from: data ∩ metadata when that is not empty, else `fallback`'s set. */
export function readSet (r: Readable, fallback: 'data' | 'metadata' = 'data'): boolean[] {
  const both = r.data.map((d, i) => d && r.metadata[i] === true)
  return both.some(Boolean) ? both : r[fallback]
}

export interface SelectOptions {
  readHashMode: number
  /** read-subvolume-index or the local child (choose-local); -1 when none */
  readChild: number
  gfid: Buffer
  /** reads outstanding per child (for mode 3) */
  load?: number[]
  pid?: number
  isDir?: boolean
}

/** AFR's choice among readable children (§3.3); -1 when none is readable. */
export function selectChild (readable: boolean[], o: SelectOptions): number {
  if (o.readChild >= 0 && readable[o.readChild] === true) return o.readChild
  const n = readable.length
  let c = -1
  switch (o.readHashMode) {
    case 1:
      c = superFastHash(o.gfid) % n
      break
    case 2: {
      const g = Buffer.from(o.gfid)
      if (o.isDir !== true) g.writeInt32LE(g.readInt32LE(0) ^ (o.pid ?? process.pid), 0)
      c = superFastHash(g) % n
      break
    }
    case 3:
    case 4:
    case 5: {
      let best = Infinity
      readable.forEach((ok, i) => {
        const l = o.load?.[i] ?? 0
        if (ok && l < best) { best = l; c = i }
      })
      break
    }
  }
  if (c >= 0 && readable[c] === true) return c
  return readable.findIndex(Boolean)
}

let localAddrs: Set<string> | undefined
/** This machine's addresses (every interface), 'localhost' and its hostname; computed once. */
export function localAddresses (): Set<string> {
  if (localAddrs !== undefined) return localAddrs
  const s = new Set<string>(['localhost', hostname().toLowerCase()])
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) s.add(a.address.toLowerCase())
  }
  localAddrs = s
  return s
}

/**
 * choose-local (AFR's afr_local_discovery): the child whose brick runs on this machine, so reads
 * stay off the network. Decided from the brick hosts of the volfile against our interface
 * addresses (no DNS). Only when exactly one child is local: when several are (every brick on one
 * machine, as in loopback test clusters) the read-hash-mode spread is kept. -1 when none.
 */
export function localChild (hosts: readonly string[], local: ReadonlySet<string> = localAddresses()): number {
  let found = -1
  for (const [i, h] of hosts.entries()) {
    const host = h.toLowerCase().replace(/^\[(.*)\]$/, '$1')
    if (!local.has(host)) continue
    if (found >= 0) return -1
    found = i
  }
  return found
}
