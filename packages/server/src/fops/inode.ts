// Inode fops by gfid: attributes, size, access, symlink targets, filesystem stats. The object is
// opened by its gfid without following symlinks (Brick.withObject); changes go to that fd.
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import type { BigIntStats } from 'node:fs'
import { GfSetattrValid } from '@gluster-ts/rpc'
import type { CallContext, GfxIattx } from '@gluster-ts/rpc'
import { at, self } from '../store/backend.js'
import type { ObjRef } from '../store/backend.js'
import { FopError } from '../store/fop-error.js'
import { toIatt } from '../store/posix.js'
import { fillXdata } from '../xdata.js'
import type { Brick } from '../brick.js'
import type { FopFn } from './reply.js'
import { ok } from './reply.js'

export const stat: FopFn<'STAT'> = async (b, a) => {
  const key = b.keyOf(a.gfid)
  const st = await b.backend.lstat(key)
  return { ...ok, xdata: await fillXdata(b, key, st, a.xdata), stat: toIatt(key, st) }
}

export const setattr: FopFn<'SETATTR'> = async (b, a, ctx) => b.sizeSerial(a.gfid, a.valid, () => b.withObject(a.gfid, async o => {
  await applySetattr(b, ctx, { obj: o }, o.st, a.stbuf, a.valid)
  return { ...ok, prestat: toIatt(o.key, o.st), poststat: await b.iattOf(o.key) }
}))

export const truncate: FopFn<'TRUNCATE'> = async (b, a, ctx) => b.dataSerial(a.gfid, () => b.withObject(a.gfid, async o => {
  await truncateObject(b, o, a.offset)
  await b.stamp(ctx, { fd: o.fd, st: o.st })
  return { ...ok, prestat: toIatt(o.key, o.st), poststat: await b.iattOf(o.key) }
}))

/**
 * Truncate a regular file reached by its O_PATH fd: reopened for writing (that very inode).
 * A directory → EISDIR; anything else (symlink, special file) → EINVAL, as truncate(2) of a
 * non-regular file; the server never truncates what a symlink points to.
 */
async function truncateObject (b: Brick, o: ObjRef, size: bigint): Promise<void> {
  if (o.st.isDirectory()) throw new FopError('EISDIR')
  if (!o.st.isFile()) throw new FopError('EINVAL', 'not a regular file')
  if (b.opts.arbiter) return
  const fh = await b.backend.reopen(o, fs.constants.O_WRONLY)
  try { await fh.truncate(Number(size)) } finally { await b.backend.closeFile(fh) }
}

export const access: FopFn<'ACCESS'> = async (b, a, ctx) => {
  const st = await b.backend.lstat(b.keyOf(a.gfid))
  const c = b.caller(ctx)
  if (c.uid === 0 || a.mask === 0) return ok
  const mode = Number(st.mode)
  const bits = c.uid === Number(st.uid) ? (mode >> 6) & 7 : c.gid === Number(st.gid) ? (mode >> 3) & 7 : mode & 7
  if ((bits & a.mask) !== a.mask) throw new FopError('EACCES')
  return ok
}

export const readlink: FopFn<'READLINK'> = async (b, a) => b.withObject(a.gfid, async o => {
  if (!o.st.isSymbolicLink() || o.parent === undefined) throw new FopError('EINVAL')
  // readlink of (directory fd, name): the link's own text, whatever it points to
  const target = await fsp.readlink(at(o.parent.fd, o.name!), 'utf8')
  return { op_ret: Buffer.byteLength(target), op_errno: 0, xdata: null, buf: toIatt(o.key, o.st), path: target }
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
 * SETATTR / FSETATTR: apply the stbuf fields `valid` selects (GfSetattrValid) to an open file
 * (`fh`) or to the inode an fd names (`obj`: O_PATH or directory fd; `/proc/self/fd/N` is that
 * inode, a symlink itself and never its target). chmod of a symlink is skipped, as posix_do_chmod
 * does where lchmod is not supported.
 */
export async function applySetattr (b: Brick, _ctx: CallContext, target: { fh: FileHandle } | { obj: ObjRef }, st: BigIntStats, s: GfxIattx, valid: number): Promise<void> {
  const V = GfSetattrValid
  const inode = 'obj' in target ? self(target.obj.fd) : undefined
  if ((valid & V.MODE) !== 0 && !st.isSymbolicLink()) {
    const mode = s.mode & 0o7777
    if ('fh' in target) await target.fh.chmod(mode)
    else await fsp.chmod(inode!, mode)
  }
  if ((valid & (V.UID | V.GID)) !== 0) {
    const uid = (valid & V.UID) !== 0 ? s.ia_uid : -1
    const gid = (valid & V.GID) !== 0 ? s.ia_gid : -1
    if ('fh' in target) await target.fh.chown(uid, gid)
    else await fsp.chown(inode!, uid, gid)
  }
  if ((valid & V.SIZE) !== 0) {
    if ('fh' in target) { if (!b.opts.arbiter) await target.fh.truncate(Number(s.ia_size)) } else await truncateObject(b, target.obj, s.ia_size)
  }
  if ((valid & (V.ATIME | V.MTIME | V.ATIME_NOW | V.MTIME_NOW)) !== 0) {
    const now = Date.now() / 1000
    const secs = (sec: bigint, nsec: number): number => Number(sec) + nsec / 1e9
    const atime = (valid & V.ATIME_NOW) !== 0 ? now : (valid & V.ATIME) !== 0 ? secs(s.ia_atime, s.ia_atime_nsec) : Number(st.atimeNs) / 1e9
    const mtime = (valid & V.MTIME_NOW) !== 0 ? now : (valid & V.MTIME) !== 0 ? secs(s.ia_mtime, s.ia_mtime_nsec) : Number(st.mtimeNs) / 1e9
    if ('fh' in target) await target.fh.utimes(atime, mtime)
    else await fsp.utimes(inode!, atime, mtime)
  }
}
