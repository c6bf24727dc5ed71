// POSIX permission rules, as the brick graph of a GlusterFS volume gives them: the access-control
// translator (xlators/system/posix-acl: acl_permits, sticky_permits, setattr_scrutiny,
// setxattr_scrutiny) in front of the posix translator, whose syscalls run with the caller's
// fsuid/fsgid, so the kernel's own rules (suid/sgid clearing, chown and utimes rules) apply too.
// Pure functions over the caller of a fop and the attributes (store: mode, uid, gid) of the
// objects it touches; the fop modules call them before they change anything.
import type { InodeAttrs } from './store/brick-store.js'
import { FopError } from './store/fop-error.js'

export const R = 4
export const W = 2
export const X = 1

export const S_IFMT = 0o170000
export const S_IFDIR = 0o040000
export const S_IFREG = 0o100000
export const S_IFLNK = 0o120000
export const S_ISUID = 0o4000
export const S_ISGID = 0o2000
export const S_ISVTX = 0o1000
const S_IXGRP = 0o010
const S_IXUGO = 0o111

/** Who calls: from the AUTH_GLUSTERFS credential (uid, gid, supplementary groups, pid). */
export interface Principal { uid: number, gid: number, groups: readonly number[], pid: number }

/**
 * Callers no check applies to: root, and GlusterFS's own daemons, which send negative pids
 * (self-heal -6, rebalance -3, gsyncd -1 …; posix-acl lets `pid < 0` through everywhere).
 */
export function isPrivileged (c: Principal): boolean { return c.uid === 0 || c.pid < 0 }

export function inGroup (c: Principal, gid: number): boolean {
  return c.gid === gid || c.groups.includes(gid)
}

export const isDir = (a: InodeAttrs): boolean => (a.mode & S_IFMT) === S_IFDIR

/**
 * May `c` have access `want` (R|W|X bits) to an object? The owner class if the caller owns it,
 * else the group class if it is in the group (primary or supplementary), else other. Root may
 * do anything, except execute a non-directory that has no x bit at all (Linux
 * generic_permission); internal daemons (negative pid) may do anything.
 */
export function permits (c: Principal, a: InodeAttrs, want: number): boolean {
  if (c.pid < 0) return true
  if (c.uid === 0) return (want & X) === 0 || isDir(a) || (a.mode & S_IXUGO) !== 0
  const bits = c.uid === a.uid ? (a.mode >> 6) & 7 : inGroup(c, a.gid) ? (a.mode >> 3) & 7 : a.mode & 7
  return (bits & want) === want
}

export function requirePermission (c: Principal, a: InodeAttrs, want: number, what: string): void {
  if (!permits(c, a, want)) throw new FopError('EACCES', `${what}: permission denied for uid ${c.uid}`)
}

/**
 * In a sticky directory only the owner of the entry, the owner of the directory or root may
 * remove or rename it (sticky_permits).
 */
export function stickyPermits (c: Principal, parent: InodeAttrs, obj: InodeAttrs): boolean {
  if (isPrivileged(c) || (parent.mode & S_ISVTX) === 0) return true
  return c.uid === parent.uid || c.uid === obj.uid
}

/** What open(2) flags need (posix_acl_open): read, write, both; O_TRUNC and O_APPEND write; FMODE_EXEC execute. */
export function openWants (flags: number): number {
  const acc = flags & 3
  let want = acc === 0 ? ((flags & 0o40) !== 0 ? X : R) : acc === 1 ? W : R | W
  if ((flags & (0o1000 | 0o2000)) !== 0) want |= W
  return want
}

/**
 * The mode without the set-uid bit, and without set-gid where it means "set group id" (group
 * execute set): what Linux leaves after a write, truncate or chown of a non-directory by a
 * caller without CAP_FSETID (should_remove_suid / ATTR_KILL_SUID|ATTR_KILL_SGID).
 */
export function killSuid (mode: number): number {
  let m = mode & ~S_ISUID
  if ((mode & (S_ISGID | S_IXGRP)) === (S_ISGID | S_IXGRP)) m &= ~S_ISGID
  return m
}

/** Does a write or truncate by `c` clear suid/sgid bits of `a`? The new mode, or undefined. */
export function modeAfterWrite (c: Principal, a: InodeAttrs): number | undefined {
  if (isPrivileged(c) || isDir(a)) return undefined
  const m = killSuid(a.mode)
  return m !== a.mode ? m : undefined
}

export interface SetattrRequest {
  mode?: number
  uid?: number
  gid?: number
  /** times to set: explicit values (owner only) or "now" (owner or write permission) */
  times?: 'explicit' | 'now'
  size?: boolean
}

/**
 * SETATTR/FSETATTR rules (setattr_scrutiny, and the kernel's setattr_prepare/chown rules):
 * chmod by the owner (or root), set-gid dropped when the caller is not in the file's group;
 * chown of the uid by root only (the same uid is a no-op anyone may ask for); chgrp by the owner
 * to one of its groups; times explicitly by the owner, to now also with write permission; a size
 * change needs write permission (`sizeByFd`: through an fd opened for writing, already checked).
 * Returns the mode to store, with the bits Linux clears on chown of a non-directory cleared.
 */
export function checkSetattr (c: Principal, a: InodeAttrs, r: SetattrRequest, sizeByFd = false): { mode?: number } {
  const priv = isPrivileged(c)
  const owner = c.uid === a.uid
  let mode: number | undefined
  if (r.mode !== undefined) {
    // a change that only drops set-uid/set-gid is what the kernel sends (as the writer) when a
    // write or truncate by someone else kills them: allowed, as Linux does for that writer
    if (!priv && !owner && !onlyKillsPrivileges(a.mode, r.mode)) throw new FopError('EPERM', 'chmod: not the owner')
    mode = (a.mode & S_IFMT) | (r.mode & 0o7777)
    const gid = r.gid ?? a.gid
    if (!priv && !inGroup(c, gid)) mode &= ~S_ISGID
  }
  if (r.uid !== undefined && r.uid !== a.uid && !priv) throw new FopError('EPERM', 'chown: only root gives a file away')
  if (r.gid !== undefined && !priv && (!owner || (r.gid !== a.gid && !inGroup(c, r.gid)))) {
    throw new FopError('EPERM', 'chgrp: not the owner, or not a member of that group')
  }
  if (r.times === 'explicit' && !priv && !owner) throw new FopError('EPERM', 'utimes: not the owner')
  if (r.times === 'now' && !priv && !owner && !permits(c, a, W)) throw new FopError('EACCES', 'utimes: no write permission')
  if (r.size === true && !sizeByFd && !permits(c, a, W)) throw new FopError('EACCES', 'truncate: no write permission')
  if ((r.uid !== undefined || r.gid !== undefined) && !isDir(a)) mode = killSuid(mode ?? a.mode)
  return mode !== undefined && mode !== a.mode ? { mode } : {}
}

/** Is `next` the mode `cur` with some of S_ISUID/S_ISGID cleared and nothing else changed? */
export function onlyKillsPrivileges (cur: number, next: number): boolean {
  const c = cur & 0o7777
  const n = next & 0o7777
  return (n & ~c) === 0 && ((c & ~n) & ~(S_ISUID | S_ISGID)) === 0
}

/**
 * Attributes of a new object made by `c` in `parent`: its group is the parent's when the parent
 * is set-gid (and a new directory inherits the set-gid bit), else the caller's; a non-directory
 * asking for set-gid of a group the caller is not in loses it (inode_init_owner).
 */
export function newAttrs (c: Principal, parent: InodeAttrs, mode: number, rdev = 0n): InodeAttrs {
  const sgidParent = (parent.mode & S_ISGID) !== 0
  const gid = sgidParent ? parent.gid : c.gid
  let m = mode
  if ((m & S_IFMT) === S_IFDIR) {
    if (sgidParent) m |= S_ISGID
  } else if ((m & S_ISGID) !== 0 && (m & S_IXGRP) !== 0 && !isPrivileged(c) && !inGroup(c, gid)) {
    m &= ~S_ISGID
  }
  return { mode: m, uid: c.uid, gid, rdev }
}

/** Extended attribute namespaces (xattr(7)): who may read and write them. */
export function checkXattrWrite (c: Principal, a: InodeAttrs, name: string): void {
  if (isPrivileged(c)) return
  if (name.startsWith('trusted.') || name.startsWith('security.')) throw new FopError('EPERM', `${name}: needs CAP_SYS_ADMIN`)
  if (name.startsWith('system.posix_acl_')) {
    if (c.uid !== a.uid) throw new FopError('EPERM', `${name}: not the owner`)
    return
  }
  if (name.startsWith('user.')) {
    // user.* only on regular files and directories (xattr(7))
    const t = a.mode & S_IFMT
    if (t !== S_IFREG && t !== S_IFDIR) throw new FopError('EPERM', `${name}: user xattrs only on files and directories`)
  }
  requirePermission(c, a, W, 'setxattr')
}

/** May `c` read xattr `name`? trusted.* is invisible to unprivileged callers (ENODATA), user.* needs read permission. */
export function checkXattrRead (c: Principal, a: InodeAttrs, name: string): void {
  if (isPrivileged(c)) return
  if (name.startsWith('trusted.')) throw new FopError('ENODATA', `${name}: not visible`)
  if (name.startsWith('system.posix_acl_')) return
  requirePermission(c, a, R, 'getxattr')
}

/** Is xattr `name` listed to `c` (listxattr leaves trusted.* out for unprivileged callers)? */
export function xattrListed (c: Principal, name: string): boolean {
  return isPrivileged(c) || !name.startsWith('trusted.')
}
