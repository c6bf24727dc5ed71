// Inode fops by gfid: attributes, size, access, symlink targets, filesystem stats. The object is
// opened by its gfid without following symlinks (Brick.withObject); changes go to that fd.
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import type { BigIntStats } from 'node:fs'
import { GfSetattrValid } from '@gluster-ts/rpc'
import type { CallContext, GfxDict, GfxIattx } from '@gluster-ts/rpc'
import { at, self } from '../store/backend.js'
import type { ObjRef } from '../store/backend.js'
import { FopError } from '../store/fop-error.js'
import { permits, checkSetattr, modeAfterWrite, isPrivileged } from '../access.js'
import type { SetattrRequest } from '../access.js'
import { fillXdata } from '../xdata.js'
import type { Brick } from '../brick.js'
import type { InodeAttrs } from '../store/brick-store.js'
import type { Principal } from '../access.js'
import type { FopFn } from './reply.js'
import { ok } from './reply.js'

export const stat: FopFn<'STAT'> = async (b, a) => {
  const key = b.keyOf(a.gfid)
  const st = await b.backend.lstat(key)
  return { ...ok, xdata: await fillXdata(b, key, st, a.xdata), stat: b.iatt(key, st) }
}

export const setattr: FopFn<'SETATTR'> = async (b, a, ctx) => b.sizeSerial(a.gfid, a.valid, () => b.withObject(a.gfid, async o => {
  const pre = b.iatt(o.key, o.st)
  await applySetattr(b, ctx, { obj: o }, o.key, o.st, a.stbuf, a.valid, a.xdata)
  return { ...ok, prestat: pre, poststat: await b.iattOf(o.key) }
}))

/** TRUNCATE: write permission (posix_acl_truncate); a caller without privileges loses set-uid/set-gid. */
export const truncate: FopFn<'TRUNCATE'> = async (b, a, ctx) => b.dataSerial(a.gfid, () => b.withObject(a.gfid, async o => {
  const who = b.principal(ctx, a.xdata)
  checkSetattr(who, b.attrsOf(o.key, o.st), { size: true })
  const pre = b.iatt(o.key, o.st)
  await truncateObject(b, o, a.offset)
  clearSuid(b, who, o.key, o.st)
  await b.stamp(ctx, { fd: o.fd, st: o.st })
  return { ...ok, prestat: pre, poststat: await b.iattOf(o.key) }
}))

/** After a write or truncate by a caller without privileges: set-uid (and group-executable set-gid) cleared, as Linux does. */
export function clearSuid (b: Brick, who: Principal, key: string, st: BigIntStats): void {
  if (isPrivileged(who)) return
  const mode = modeAfterWrite(who, b.attrsOf(key, st))
  if (mode !== undefined) b.setAttrs(key, st, { mode })
}

/**
 * Truncate a regular file reached by its O_PATH fd: reopened for writing (that very inode).
 * A directory → EISDIR; anything else (symlink, special file) → EINVAL, as truncate(2) of a
 * non-regular file; the server never truncates what a symlink points to.
 */
async function truncateObject (b: Brick, o: ObjRef, size: bigint): Promise<void> {
  if (o.st.isDirectory()) throw new FopError('EISDIR')
  // a fifo, socket or device is a placeholder file on the backend: truncate(2) of one is EINVAL
  if (!o.st.isFile() || b.store.type(o.key) === 'o') throw new FopError('EINVAL', 'not a regular file')
  if (b.opts.arbiter) return
  const fh = await b.backend.reopen(o, fs.constants.O_WRONLY)
  try { await fh.truncate(Number(size)) } finally { await b.backend.closeFile(fh) }
}

/** ACCESS: the mode bits against the caller (R_OK 4, W_OK 2, X_OK 1 are the permission bits); F_OK always. */
export const access: FopFn<'ACCESS'> = async (b, a, ctx) => {
  const key = b.keyOf(a.gfid)
  const st = await b.backend.lstat(key)
  if ((a.mask & 7) === 0) return ok
  if (!permits(b.principal(ctx, a.xdata), b.attrsOf(key, st), a.mask & 7)) throw new FopError('EACCES')
  return ok
}

export const readlink: FopFn<'READLINK'> = async (b, a) => b.withObject(a.gfid, async o => {
  if (!o.st.isSymbolicLink() || o.parent === undefined) throw new FopError('EINVAL')
  // readlink of (directory fd, name): the link's own text, whatever it points to
  const target = await fsp.readlink(at(o.parent.fd, o.name!), 'utf8')
  return { op_ret: Buffer.byteLength(target), op_errno: 0, xdata: null, buf: b.iatt(o.key, o.st), path: target }
})

export const statfs: FopFn<'STATFS'> = async b => {
  const s = await fsp.statfs(self(b.backend.rootFd), { bigint: true })
  return {
    ...ok,
    statfs: {
      bsize: s.bsize, frsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail,
      files: s.files, ffree: s.ffree, favail: s.ffree, fsid: 0n, flag: 0n, namemax: 255n,
    },
  }
}

/**
 * SETATTR / FSETATTR: check the request against the caller (access.ts checkSetattr) and apply
 * the stbuf fields `valid` selects (GfSetattrValid) to an open file (`fh`: FSETATTR, whose size
 * change the fd's open already allowed) or to the inode an fd names (`obj`: O_PATH or directory
 * fd; `/proc/self/fd/N` is that inode, a symlink itself and never its target). Mode and owner go
 * to the store (a symlink's mode stays 0777, as posix_do_chmod leaves it) and the backend's ctime
 * is moved for them; size and times go to the backend.
 */
export async function applySetattr (b: Brick, ctx: CallContext, target: { fh: FileHandle } | { obj: ObjRef }, key: string, st: BigIntStats, s: GfxIattx, valid: number, xdata: GfxDict): Promise<void> {
  const V = GfSetattrValid
  const who = b.principal(ctx, xdata)
  const attrs = b.attrsOf(key, st)
  const req: SetattrRequest = {}
  if ((valid & V.MODE) !== 0 && !st.isSymbolicLink()) req.mode = s.mode
  if ((valid & V.UID) !== 0) req.uid = s.ia_uid
  if ((valid & V.GID) !== 0) req.gid = s.ia_gid
  if ((valid & (V.ATIME_NOW | V.MTIME_NOW)) !== 0) req.times = 'now'
  if ((valid & (V.ATIME | V.MTIME)) !== 0 && (valid & (V.ATIME_NOW | V.MTIME_NOW)) === 0) req.times = 'explicit'
  if ((valid & V.SIZE) !== 0) req.size = true
  const { mode } = checkSetattr(who, attrs, req, 'fh' in target)
  const changes: Partial<InodeAttrs> = {}
  if (mode !== undefined) changes.mode = mode
  if (req.uid !== undefined && req.uid !== attrs.uid) changes.uid = req.uid
  if (req.gid !== undefined && req.gid !== attrs.gid) changes.gid = req.gid
  if ((valid & V.SIZE) !== 0) {
    if ('fh' in target) { if (!b.opts.arbiter) await target.fh.truncate(Number(s.ia_size)) } else await truncateObject(b, target.obj, s.ia_size)
    if (changes.mode === undefined && !isPrivileged(who)) {
      const m = modeAfterWrite(who, attrs)
      if (m !== undefined) changes.mode = m
    }
  }
  if ((valid & (V.ATIME | V.MTIME | V.ATIME_NOW | V.MTIME_NOW)) !== 0) {
    const now = Date.now() / 1000
    const secs = (sec: bigint, nsec: number): number => Number(sec) + nsec / 1e9
    const atime = (valid & V.ATIME_NOW) !== 0 ? now : (valid & V.ATIME) !== 0 ? secs(s.ia_atime, s.ia_atime_nsec) : Number(st.atimeNs) / 1e9
    const mtime = (valid & V.MTIME_NOW) !== 0 ? now : (valid & V.MTIME) !== 0 ? secs(s.ia_mtime, s.ia_mtime_nsec) : Number(st.mtimeNs) / 1e9
    if ('fh' in target) await target.fh.utimes(atime, mtime)
    else await fsp.utimes(self(target.obj.fd), atime, mtime)
    if ((valid & (V.ATIME | V.MTIME)) !== 0 && (valid & (V.ATIME_NOW | V.MTIME_NOW)) === 0) {
      const now = 'fh' in target ? await target.fh.stat({ bigint: true }) : await fsp.stat(self(target.obj.fd), { bigint: true })
      const exact = (sec: bigint, nsec: number): bigint => sec * 1_000_000_000n + BigInt(nsec)
      const keptA = (valid & V.ATIME) !== 0 ? exact(s.ia_atime, s.ia_atime_nsec) : b.times(key, st).atimeNs
      const keptM = (valid & V.MTIME) !== 0 ? exact(s.ia_mtime, s.ia_mtime_nsec) : b.times(key, st).mtimeNs
      b.keepTimes(key, keptA, keptM, now)
    }
  }
  if (Object.keys(changes).length > 0) b.setAttrs(key, st, changes)
  // chmod and chown change the ctime, even when nothing changed (Linux; POSIX for a successful call)
  if (req.mode !== undefined || req.uid !== undefined || req.gid !== undefined) await b.touchCtime('fh' in target ? target : { fd: target.obj.fd })
}
