// The time attributes of a fop, as GlusterFS's client-side utime xlator (features.ctime, on by
// default since 7.x) sends them: a bit set in the v3 credential's `flags` saying which of the
// object's and its parent's times the fop changes, and the operation time in the credential's
// ctime fields. A brick with ctime enabled keeps the times in its own metadata xattr and updates
// them only from these: a WRITE sent with flags 0 leaves the file's mtime as it was. The same
// operation time goes to every replica, so all copies carry identical times.
import { AuthFlavor, type AuthGlusterfsV3Cred, type CredentialLike } from '@gluster-ts/rpc'

export const MDATA_CTIME = 1 << 0
export const MDATA_MTIME = 1 << 1
export const MDATA_ATIME = 1 << 2
export const MDATA_PAR_CTIME = 1 << 3
export const MDATA_PAR_MTIME = 1 << 4

const NEW_ENTRY = MDATA_ATIME | MDATA_CTIME | MDATA_MTIME | MDATA_PAR_CTIME | MDATA_PAR_MTIME
const GONE_OR_MOVED = MDATA_CTIME | MDATA_PAR_CTIME | MDATA_PAR_MTIME
const CONTENT = MDATA_CTIME | MDATA_MTIME

/**
 * Flags by fop name. Reads (READ, OPEN, OPENDIR) would carry ATIME, which bricks ignore under the
 * default `noatime`; we send them none, as with noatime. SETATTR/FSETATTR change ctime (explicit
 * atime/mtime travel in the iatt and are applied by the brick itself).
 */
const FLAGS: Readonly<Record<string, number>> = {
  CREATE: NEW_ENTRY, MKDIR: NEW_ENTRY, MKNOD: NEW_ENTRY, SYMLINK: NEW_ENTRY,
  UNLINK: GONE_OR_MOVED, RMDIR: GONE_OR_MOVED, RENAME: GONE_OR_MOVED, LINK: GONE_OR_MOVED,
  WRITE: CONTENT, TRUNCATE: CONTENT, FTRUNCATE: CONTENT,
  FALLOCATE: MDATA_MTIME | MDATA_ATIME, ZEROFILL: MDATA_MTIME | MDATA_ATIME,
  SETXATTR: MDATA_CTIME, FSETXATTR: MDATA_CTIME, REMOVEXATTR: MDATA_CTIME, FREMOVEXATTR: MDATA_CTIME,
  SETATTR: MDATA_CTIME, FSETATTR: MDATA_CTIME,
}

/** The utime flags of fop `name`, or 0 when it changes no time. */
export function mdataFlags (name: string): number {
  return FLAGS[name] ?? 0
}

let shared: { sec: bigint, nsec: number } | undefined

/**
 * The operation time: one value for every call issued in the same synchronous turn (a replicate
 * fan-out), so the replicas of one fop are stamped alike.
 */
export function opTime (): { sec: bigint, nsec: number } {
  if (shared === undefined) {
    const ns = process.hrtime.bigint() - HR0 + EPOCH_NS
    shared = { sec: ns / 1_000_000_000n, nsec: Number(ns % 1_000_000_000n) }
    queueMicrotask(() => { shared = undefined })
  }
  return shared
}
const EPOCH_NS = BigInt(Date.now()) * 1_000_000n
const HR0 = process.hrtime.bigint()

/**
 * The credential of fop `name`: `base` (a v3 credential, e.g. a lock owner's) or, when none was
 * chosen, `init()`, carrying the fop's flags and the operation time. A fop that changes no time,
 * or a credential of another flavour chosen on purpose, goes as it was.
 */
export function mdataCred (name: string, base: CredentialLike | undefined, init: () => AuthGlusterfsV3Cred): CredentialLike | undefined {
  const flags = mdataFlags(name)
  if (flags === 0) return base
  const c = base === undefined ? init() : isV3(base) ? base : undefined
  if (c === undefined) return base
  const t = opTime()
  return { ...c, flags: c.flags | flags, ctime_sec: t.sec, ctime_nsec: t.nsec }
}

function isV3 (c: CredentialLike): c is AuthGlusterfsV3Cred {
  return c.flavor === AuthFlavor.AUTH_GLUSTERFS_v3 && 'lk_owner' in c
}
