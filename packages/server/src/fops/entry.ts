// Entry fops: the ones that create, name, rename and remove directory entries.
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import { GfOpenFlags, gfxDictBin, gfxUuid } from '@gluster-ts/rpc'
import { gfidKey, gfidBytes, isNullGfid } from '../store/brick-store.js'
import { FopError } from '../store/fop-error.js'
import { toIatt, ZERO_IATT, objectTypeOf } from '../store/posix.js'
import { lstat } from '../brick.js'
import { openFlags } from './fd.js'
import type { FileHandle } from 'node:fs/promises'
import type { BigIntStats } from 'node:fs'
import type { FopFn } from './reply.js'
import { failure, ok, ENOENT } from './reply.js'

const S_IFMT = 0o170000
const S_IFREG = 0o100000

export const lookup: FopFn<'LOOKUP'> = async (b, a) => {
  if (a.bname === '') {
    if (isNullGfid(a.gfid)) throw new FopError('EINVAL')
    const key = gfidKey(a.gfid)
    if (!b.store.has(key)) throw new FopError('ENOENT', `gfid ${key} unknown`)
    const { p, st } = await b.inode(a.gfid)
    const xdata = await b.fillXdata(key, p, st, a.xdata, { content: true })
    return { op_ret: 0, op_errno: 0, xdata, prestat: toIatt(key, st), poststat: ZERO_IATT }
  }
  const parent = await b.inode(a.pargfid)
  if (!parent.st.isDirectory()) throw new FopError('ENOTDIR')
  const p = b.store.childPath(parent.key, a.bname)
  let key = b.store.child(parent.key, a.bname)
  let st: BigIntStats
  try {
    st = await lstat(p)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    if (key !== undefined) await b.serial(async () => { b.store.removeLink(parent.key, a.bname, { keepRecord: (b.openCount.get(key!) ?? 0) > 0 }) })
    return { ...failure(ENOENT), poststat: toIatt(parent.key, parent.st) }
  }
  if (key === undefined) {
    // on disk but unknown to the store (left by a crash): adopt it when the client names a gfid
    const req = gfxDictBin(a.xdata, 'gfid-req')
    if (req === undefined || isNullGfid(req)) throw new FopError('ENODATA', `${a.bname} has no gfid`)
    key = gfidKey(req)
    const k = key
    await b.serial(async () => { b.store.addObject(k, objectTypeOf(Number(st.mode)), parent.key, a.bname) })
  }
  const xdata = await b.fillXdata(key, p, st, a.xdata, { parent: parent.key, name: a.bname, content: true })
  return { op_ret: 0, op_errno: 0, xdata, prestat: toIatt(key, st), poststat: toIatt(parent.key, parent.st) }
}

export const create: FopFn<'CREATE'> = async (b, a, ctx, cs) => b.serial(async () => {
  const key = b.gfidReq(a.xdata)
  const parent = await b.inode(a.pargfid)
  if (!parent.st.isDirectory()) throw new FopError('ENOTDIR')
  const p = b.store.childPath(parent.key, a.bname)
  const existing = b.store.child(parent.key, a.bname)
  if (existing === undefined && b.store.has(key)) throw new FopError('EEXIST', `gfid ${key} exists already`)
  const xattrs = existing === undefined ? b.creationXattrs(parent.key, a.xdata) : new Map<string, Buffer>()
  let created = false
  let fh: FileHandle
  try {
    fh = await fsp.open(p, openFlags(a.flags, b.opts.arbiter) | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600)
    created = true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || (a.flags & GfOpenFlags.EXCL) !== 0 || existing === undefined) throw err
    fh = await fsp.open(p, openFlags(a.flags, b.opts.arbiter))
  }
  const objKey = created ? key : existing!
  try {
    if (created) {
      await fh.chmod((a.mode & ~a.umask) & 0o7777)
      await b.ownNew(p, b.caller(ctx), parent.st)
      b.store.addObject(key, 'f', parent.key, a.bname, xattrs)
      await b.stamp(ctx, { fh }, { p: parent.p, st: parent.st })
    }
    const st = await fh.stat({ bigint: true })
    const fd = b.allocFd(cs, { kind: 'file', key: objKey, fh, flags: a.flags })
    return {
      ...ok, xdata: new Map([['gfid-req', gfxUuid(gfidBytes(objKey))]]), stat: toIatt(objKey, st), fd,
      preparent: toIatt(parent.key, parent.st), postparent: await b.iattOf(parent.key),
    }
  } catch (err) {
    await fh.close().catch(() => {})
    if (created) await fsp.unlink(p).catch(() => {})
    throw err
  }
})

export const mkdir: FopFn<'MKDIR'> = async (b, a, ctx) => b.serial(async () => {
  const key = b.gfidReq(a.xdata)
  const parent = await b.inode(a.pargfid)
  if (!parent.st.isDirectory()) throw new FopError('ENOTDIR')
  const p = b.store.childPath(parent.key, a.bname)
  if (b.store.child(parent.key, a.bname) !== undefined) throw new FopError('EEXIST')
  if (b.store.has(key)) throw new FopError('EEXIST', `gfid ${key} exists already`)
  const xattrs = b.creationXattrs(parent.key, a.xdata)
  await fsp.mkdir(p, 0o700)
  try {
    await fsp.chmod(p, (a.mode & ~a.umask) & 0o7777)
    await b.ownNew(p, b.caller(ctx), parent.st)
  } catch (err) {
    await fsp.rmdir(p).catch(() => {})
    throw err
  }
  b.store.addObject(key, 'd', parent.key, a.bname, xattrs)
  await b.stamp(ctx, { p }, { p: parent.p, st: parent.st })
  return {
    ...ok, stat: toIatt(key, await lstat(p)), preparent: toIatt(parent.key, parent.st), postparent: await b.iattOf(parent.key),
  }
})

export const mknod: FopFn<'MKNOD'> = async (b, a, ctx) => b.serial(async () => {
  const key = b.gfidReq(a.xdata)
  const parent = await b.inode(a.pargfid)
  if (!parent.st.isDirectory()) throw new FopError('ENOTDIR')
  const p = b.store.childPath(parent.key, a.bname)
  if (b.store.child(parent.key, a.bname) !== undefined) throw new FopError('EEXIST')
  const fmt = a.mode & S_IFMT
  // Node can make regular files only (DHT link files are S_IFREG|01000); no fifos or devices
  if (fmt !== 0 && fmt !== S_IFREG) throw new FopError('EPERM', 'only regular files can be made with MKNOD here')
  if (b.store.has(key)) {
    // DHT link files of hard-linked files: a second name of the same inode (§6.3)
    if (a.xdata?.has('glusterfs-internal-fop') !== true || b.store.type(key) !== 'f') throw new FopError('EEXIST')
    await fsp.link(b.store.pathOf(key), p)
    b.store.addLink(key, parent.key, a.bname)
  } else {
    const xattrs = b.creationXattrs(parent.key, a.xdata)
    const fh = await fsp.open(p, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW, 0o600)
    try {
      await fh.chmod((a.mode & ~a.umask) & 0o7777)
    } finally { await fh.close() }
    await b.ownNew(p, b.caller(ctx), parent.st)
    b.store.addObject(key, 'f', parent.key, a.bname, xattrs)
  }
  await b.stamp(ctx, { p }, { p: parent.p, st: parent.st })
  return {
    ...ok, stat: toIatt(key, await lstat(p)), preparent: toIatt(parent.key, parent.st), postparent: await b.iattOf(parent.key),
  }
})

export const symlink: FopFn<'SYMLINK'> = async (b, a, ctx) => b.serial(async () => {
  const key = b.gfidReq(a.xdata)
  const parent = await b.inode(a.pargfid)
  if (!parent.st.isDirectory()) throw new FopError('ENOTDIR')
  const p = b.store.childPath(parent.key, a.bname)
  if (b.store.child(parent.key, a.bname) !== undefined) throw new FopError('EEXIST')
  if (b.store.has(key)) throw new FopError('EEXIST')
  const xattrs = b.creationXattrs(parent.key, a.xdata)
  // the target is only text to us: we never follow symlinks
  await fsp.symlink(a.linkname, p)
  await b.ownNew(p, b.caller(ctx), parent.st)
  b.store.addObject(key, 'l', parent.key, a.bname, xattrs)
  await b.stamp(ctx, { p }, { p: parent.p, st: parent.st })
  return {
    ...ok, stat: toIatt(key, await lstat(p)), preparent: toIatt(parent.key, parent.st), postparent: await b.iattOf(parent.key),
  }
})

export const link: FopFn<'LINK'> = async (b, a, ctx) => b.serial(async () => {
  const src = await b.inode(a.oldgfid)
  if (src.st.isDirectory()) throw new FopError('EPERM')
  const parent = await b.inode(a.newgfid)
  if (!parent.st.isDirectory()) throw new FopError('ENOTDIR')
  const p = b.store.childPath(parent.key, a.newbname)
  await fsp.link(src.p, p)
  b.store.addLink(src.key, parent.key, a.newbname)
  await b.stamp(ctx, undefined, { p: parent.p, st: parent.st })
  return {
    ...ok, stat: toIatt(src.key, await lstat(p)), preparent: toIatt(parent.key, parent.st), postparent: await b.iattOf(parent.key),
  }
})

export const unlink: FopFn<'UNLINK'> = async (b, a, ctx) => b.serial(async () => {
  const parent = await b.inode(a.pargfid)
  const p = b.store.childPath(parent.key, a.bname)
  const st = await lstat(p)
  if (st.isDirectory()) throw new FopError('EISDIR')
  await fsp.unlink(p)
  const key = b.store.child(parent.key, a.bname)
  if (key !== undefined) b.store.removeLink(parent.key, a.bname, { keepRecord: (b.openCount.get(key) ?? 0) > 0 })
  await b.stamp(ctx, undefined, { p: parent.p, st: parent.st })
  return { ...ok, prestat: toIatt(parent.key, parent.st), poststat: await b.iattOf(parent.key) }
})

export const rmdir: FopFn<'RMDIR'> = async (b, a, ctx) => b.serial(async () => {
  const parent = await b.inode(a.pargfid)
  const p = b.store.childPath(parent.key, a.bname)
  await fsp.rmdir(p)
  b.store.removeLink(parent.key, a.bname)
  await b.stamp(ctx, undefined, { p: parent.p, st: parent.st })
  return { ...ok, prestat: toIatt(parent.key, parent.st), poststat: await b.iattOf(parent.key) }
})

export const rename: FopFn<'RENAME'> = async (b, a, ctx) => b.serial(async () => {
  const op = await b.inode(a.oldgfid)
  const np = await b.inode(a.newgfid)
  if (!op.st.isDirectory() || !np.st.isDirectory()) throw new FopError('ENOTDIR')
  const from = b.store.childPath(op.key, a.oldbname)
  const to = b.store.childPath(np.key, a.newbname)
  const key = b.store.child(op.key, a.oldbname)
  if (key === undefined) {
    await lstat(from) // ENOENT when really absent
    throw new FopError('ENODATA', `${a.oldbname} has no gfid`)
  }
  await fsp.rename(from, to)
  const { replaced } = b.store.moveLink(op.key, a.oldbname, np.key, a.newbname)
  if (replaced !== undefined && replaced.linksLeft === 0 && (b.openCount.get(replaced.key) ?? 0) === 0) b.store.forget(replaced.key)
  await b.stamp(ctx, undefined, { p: op.p, st: op.st })
  if (np.key !== op.key) await b.stamp(ctx, undefined, { p: np.p, st: np.st })
  return {
    ...ok,
    stat: toIatt(key, await lstat(to)),
    preoldparent: toIatt(op.key, op.st),
    postoldparent: await b.iattOf(op.key),
    prenewparent: toIatt(np.key, np.st),
    postnewparent: await b.iattOf(np.key),
  }
})

