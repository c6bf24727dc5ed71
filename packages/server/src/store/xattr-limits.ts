// The limits on extended attributes, checked before the store changes anything. A real brick
// gets them from the kernel and its file system; we keep xattrs in memory and in our journal,
// so we impose the same ones ourselves, plus a budget for the whole store so that one client
// cannot grow the server's memory without bound.
import { FopError } from './fop-error.js'

/** Longest name, in bytes (XATTR_NAME_MAX, include/uapi/linux/limits.h); longer or empty → ERANGE. */
export const XATTR_NAME_MAX = 255
/** Largest value (XATTR_SIZE_MAX, same header); larger → E2BIG. */
export const XATTR_SIZE_MAX = 65536
/**
 * Longest name list listxattr(2) can return (XATTR_LIST_MAX): every name and its NUL. A
 * Linux client cannot list an inode whose names add up to more, so no client-set name may
 * take the list past it (ENOSPC).
 */
export const XATTR_LIST_MAX = 65536
/**
 * Per inode, the names and values that clients set (everything but the keys GlusterFS keeps
 * for itself, below) → ENOSPC beyond. ext4 holds all xattrs of an inode in one 4 KiB block
 * (with ea_inode, values of up to 64 KiB each live in their own inodes, the names still in that
 * block); XFS has no practical limit on their number. What GlusterFS stores per inode is tens to
 * hundreds of bytes (AFR's 12-byte counters, DHT's 16-byte layout, EC's version/size/config,
 * shard's size). We allow two values of the largest size: any ACL, label or user attribute a
 * real brick takes on ext4 fits, and every reply that carries all of an inode's xattrs
 * (GETXATTR without a name, LOOKUP's list-xattr) stays around 128 KiB.
 */
export const XATTR_INODE_MAX_BYTES = 2 * XATTR_SIZE_MAX
/**
 * Per inode, the keys the translators keep for themselves (see isInternalXattr): counted apart
 * so that a client filling its share never makes AFR's or DHT's bookkeeping fail. A replica set
 * needs one AFR counter per brick (about 40 bytes each); 16 KiB is hundreds of them.
 */
export const XATTR_INTERNAL_MAX_BYTES = 16 * 1024
/**
 * All xattrs of the store together (names, values and XATTR_ENTRY_OVERHEAD_BYTES per entry, a
 * rough figure for what each costs in memory) → ENOSPC beyond, like a full disk. A million
 * files with AFR counters take about 95 MiB. The translators' own keys may use a further
 * quarter, so that clients filling the budget do not stop AFR's and DHT's bookkeeping.
 */
export const XATTR_STORE_MAX_BYTES = 256 * 1024 * 1024
/** what one entry costs the store's memory beyond its bytes (its string header and slot) */
export const XATTR_ENTRY_OVERHEAD_BYTES = 64

export interface XattrLimitOptions {
  /** Largest value in bytes (E2BIG beyond). Default XATTR_SIZE_MAX. */
  xattrValueMaxBytes?: number
  /** Names + values clients may set per inode (ENOSPC beyond). Default XATTR_INODE_MAX_BYTES. */
  xattrInodeMaxBytes?: number
  /** Names + values of the translators' own keys per inode (ENOSPC beyond). Default XATTR_INTERNAL_MAX_BYTES. */
  xattrInternalMaxBytes?: number
  /** All xattrs of the store (ENOSPC beyond). Default XATTR_STORE_MAX_BYTES. */
  xattrStoreMaxBytes?: number
}

export type XattrLimits = Required<XattrLimitOptions>

export function xattrLimits (opts: XattrLimitOptions): XattrLimits {
  return {
    xattrValueMaxBytes: opts.xattrValueMaxBytes ?? XATTR_SIZE_MAX,
    xattrInodeMaxBytes: opts.xattrInodeMaxBytes ?? XATTR_INODE_MAX_BYTES,
    xattrInternalMaxBytes: opts.xattrInternalMaxBytes ?? XATTR_INTERNAL_MAX_BYTES,
    xattrStoreMaxBytes: opts.xattrStoreMaxBytes ?? XATTR_STORE_MAX_BYTES,
  }
}

/**
 * The keys the brick graph writes for itself: AFR's pending counters (trusted.afr.*, §4 of
 * gluster-cluster.md), DHT's layout and link keys (trusted.glusterfs.dht*), the root's volume
 * id, and our brick's own (trusted.glusterfs-ts.*, which clients may not set).
 */
export function isInternalXattr (name: string): boolean {
  return name.startsWith('trusted.afr.') || name.startsWith('trusted.glusterfs.dht') || name === 'trusted.glusterfs.volume-id' ||
    name.startsWith('trusted.glusterfs-ts.')
}

/** UTF-8 length of a name; names are nearly always ASCII, and Buffer.byteLength is a native call. */
export function nameBytes (name: string): number {
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) > 0x7f) return Buffer.byteLength(name, 'utf8')
  return name.length
}

/** What an entry costs the store-wide budget. */
export function xattrCost (name: string, valueBytes: number): number {
  return nameBytes(name) + valueBytes + XATTR_ENTRY_OVERHEAD_BYTES
}

/** The sums each limit is about, for one inode. */
interface Usage { client: number, internal: number, list: number, storeClient: number, storeInternal: number }

function add (u: Usage, name: string, valueBytes: number, sign: 1 | -1): void {
  const n = nameBytes(name)
  const cost = sign * (n + valueBytes + XATTR_ENTRY_OVERHEAD_BYTES)
  if (isInternalXattr(name)) {
    u.internal += sign * (n + valueBytes)
    u.storeInternal += cost
  } else {
    u.client += sign * (n + valueBytes)
    u.storeClient += cost
  }
  u.list += sign * (n + 1)
}

function whatOf (key: string | null): string { return `gfid ${key ?? '(new)'}` }

/** Is a sum over its limit, and larger than before? */
function grows (before: Usage, after: Usage, sum: keyof Usage, limit: number): boolean {
  return after[sum] > limit && after[sum] > before[sum]
}

/**
 * Check `changes` (a value to set, null to remove) for the object `key` (null: a new one)
 * against its current xattrs and the store's usage; throw the FopError Linux would give, before
 * anything changes. Returns how much the store-wide usage grows (negative when it shrinks). A
 * limit only refuses a change that makes its sum grow, so that an inode over a lowered limit can
 * still shrink.
 */
export function checkXattrChanges (
  key: string | null, current: Iterable<[string, string]>, lookup: (name: string) => string | undefined,
  changes: ReadonlyMap<string, Buffer | null>, limits: XattrLimits, storeBytes: number,
): number {
  const before: Usage = { client: 0, internal: 0, list: 0, storeClient: 0, storeInternal: 0 }
  for (const [name, value] of current) add(before, name, value.length, 1)
  const after = { ...before }
  let newClientName = false
  for (const [name, value] of changes) {
    const old = lookup(name)
    if (value !== null) {
      const n = nameBytes(name)
      if (n === 0 || n > XATTR_NAME_MAX) throw new FopError('ERANGE', `${whatOf(key)}: xattr name of ${n} bytes (1 to ${XATTR_NAME_MAX})`)
      if (value.length > limits.xattrValueMaxBytes) throw new FopError('E2BIG', `${whatOf(key)}: xattr ${name} value of ${value.length} bytes (at most ${limits.xattrValueMaxBytes})`)
      if (old === undefined && !isInternalXattr(name)) newClientName = true
    }
    if (old !== undefined) add(after, name, old.length, -1)
    if (value !== null) add(after, name, value.length, 1)
  }
  if (grows(before, after, 'client', limits.xattrInodeMaxBytes)) throw new FopError('ENOSPC', `${whatOf(key)}: ${after.client} bytes of xattrs (at most ${limits.xattrInodeMaxBytes} per inode)`)
  if (grows(before, after, 'internal', limits.xattrInternalMaxBytes)) throw new FopError('ENOSPC', `${whatOf(key)}: ${after.internal} bytes of translator xattrs (at most ${limits.xattrInternalMaxBytes} per inode)`)
  if (newClientName && grows(before, after, 'list', XATTR_LIST_MAX)) throw new FopError('ENOSPC', `${whatOf(key)}: xattr names would take ${after.list} bytes to list (at most ${XATTR_LIST_MAX})`)
  const grow = after.storeClient + after.storeInternal - before.storeClient - before.storeInternal
  if (grow > 0) {
    const limit = after.storeClient > before.storeClient ? limits.xattrStoreMaxBytes : limits.xattrStoreMaxBytes * 1.25
    if (storeBytes + grow > limit) throw new FopError('ENOSPC', `${whatOf(key)}: the store's xattrs would take ${storeBytes + grow} bytes (at most ${limit})`)
  }
  return grow
}
