// Inode fops by gfid: attributes, size, access, symlink targets, filesystem stats.
import fsp from 'node:fs/promises'
import { GfSetattrValid } from '@gluster-ts/rpc'
import { FopError } from '../store/fop-error.js'
import { toIatt } from '../store/posix.js'
import type { FileHandle } from 'node:fs/promises'
import type { BigIntStats } from 'node:fs'
import type { GfxIattx } from '@gluster-ts/rpc'
import type { FopFn } from './reply.js'
import { ok } from './reply.js'

export const stat: FopFn<'STAT'> = async (b, a) => {
  const { key, p, st } = await b.inode(a.gfid)
  return { ...ok, xdata: await b.fillXdata(key, p, st, a.xdata), stat: toIatt(key, st) }
}

export const setattr: FopFn<'SETATTR'> = async (b, a) => b.sizeSerial(a.gfid, a.valid, async () => {
  const { key, p, st } = await b.inode(a.gfid)
  await applySetattr(p, st, a.stbuf, a.valid, undefined, b.opts.arbiter)
  return { ...ok, prestat: toIatt(key, st), poststat: await b.iattOf(key) }
})

export const truncate: FopFn<'TRUNCATE'> = async (b, a, ctx) => b.dataSerial(a.gfid, async () => {
  const { key, p, st } = await b.inode(a.gfid)
  if (st.isDirectory()) throw new FopError('EISDIR')
  if (!st.isFile()) throw new FopError('EINVAL')
  if (!b.opts.arbiter) await fsp.truncate(p, Number(a.offset))
  await b.stamp(ctx, { p, st })
  return { ...ok, prestat: toIatt(key, st), poststat: await b.iattOf(key) }
})

export const access: FopFn<'ACCESS'> = async (b, a, ctx) => {
  const { st } = await b.inode(a.gfid)
  const c = b.caller(ctx)
  if (c.uid === 0 || a.mask === 0) return ok
  const mode = Number(st.mode)
  const bits = c.uid === Number(st.uid) ? (mode >> 6) & 7 : c.gid === Number(st.gid) ? (mode >> 3) & 7 : mode & 7
  if ((bits & a.mask) !== a.mask) throw new FopError('EACCES')
  return ok
}

export const readlink: FopFn<'READLINK'> = async (b, a) => {
  const { key, p, st } = await b.inode(a.gfid)
  if (!st.isSymbolicLink()) throw new FopError('EINVAL')
  const target = await fsp.readlink(p, 'utf8')
  return { op_ret: Buffer.byteLength(target), op_errno: 0, xdata: null, buf: toIatt(key, st), path: target }
}

export const statfs: FopFn<'STATFS'> = async b => {
  const s = await fsp.statfs(b.opts.dir, { bigint: true })
  return {
    ...ok,
    statfs: {
      bsize: s.bsize, frsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail,
      files: s.files, ffree: s.ffree, favail: s.ffree, fsid: 0n, flag: 0n, namemax: 255n,
    },
  }
}

/** SETATTR / FSETATTR: apply the stbuf fields `valid` selects (GfSetattrValid). */
export async function applySetattr (p: string | undefined, st: BigIntStats, s: GfxIattx, valid: number, fh: FileHandle | undefined, arbiter: boolean): Promise<void> {
  const V = GfSetattrValid
  const isLink = st.isSymbolicLink()
  if ((valid & V.MODE) !== 0 && !isLink) {
    const mode = s.mode & 0o7777
    if (fh !== undefined) await fh.chmod(mode)
    else await fsp.chmod(p!, mode)
  }
  if ((valid & (V.UID | V.GID)) !== 0) {
    const uid = (valid & V.UID) !== 0 ? s.ia_uid : -1
    const gid = (valid & V.GID) !== 0 ? s.ia_gid : -1
    if (fh !== undefined) await fh.chown(uid, gid)
    else await fsp.lchown(p!, uid, gid)
  }
  if ((valid & V.SIZE) !== 0 && !arbiter) {
    if (fh !== undefined) await fh.truncate(Number(s.ia_size))
    else await fsp.truncate(p!, Number(s.ia_size))
  }
  if ((valid & (V.ATIME | V.MTIME | V.ATIME_NOW | V.MTIME_NOW)) !== 0) {
    const now = Date.now() / 1000
    const secs = (sec: bigint, nsec: number): number => Number(sec) + nsec / 1e9
    const atime = (valid & V.ATIME_NOW) !== 0 ? now : (valid & V.ATIME) !== 0 ? secs(s.ia_atime, s.ia_atime_nsec) : Number(st.atimeNs) / 1e9
    const mtime = (valid & V.MTIME_NOW) !== 0 ? now : (valid & V.MTIME) !== 0 ? secs(s.ia_mtime, s.ia_mtime_nsec) : Number(st.mtimeNs) / 1e9
    if (fh !== undefined) await fh.utimes(atime, mtime)
    else await fsp.lutimes(p!, atime, mtime)
  }
}

