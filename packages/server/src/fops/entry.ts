// Entry fops: the ones that look up, create, name, rename and remove directory entries. Every
// name is checked (checkName) and acted on as (parent directory fd, name): see store/backend.ts.
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import type { BigIntStats } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import { GfOpenFlags, gfxDictBin, gfxUuid } from '@gluster-ts/rpc'
import type { CallContext, GfxDict, GfxIattx } from '@gluster-ts/rpc'
import { checkName, gfidKey, gfidBytes, isNullGfid } from '../store/brick-store.js'
import type { ObjectType } from '../store/brick-store.js'
import { at } from '../store/backend.js'
import type { DirRef } from '../store/backend.js'
import { FopError } from '../store/fop-error.js'
import { toIatt, ZERO_IATT, objectTypeOf } from '../store/posix.js'
import { fillXdata, creationXattrs } from '../xdata.js'
import type { Brick } from '../brick.js'
import { openFlags } from './fd.js'
import type { FopFn } from './reply.js'
import { failure, ok, ENOENT } from './reply.js'

const S_IFMT = 0o170000
const S_IFREG = 0o100000

const lstatAt = (dir: DirRef, name: string): Promise<BigIntStats> => fsp.lstat(at(dir.fd, name), { bigint: true })

function isMissing (err: unknown): boolean { return (err as NodeJS.ErrnoException).code === 'ENOENT' }

export const lookup: FopFn<'LOOKUP'> = async (b, a) => {
  if (a.bname === '') {
    // nameless (by gfid): ENOENT, not ESTALE, for a gfid this brick does not have
    if (isNullGfid(a.gfid)) throw new FopError('EINVAL')
    const key = gfidKey(a.gfid)
    if (!b.store.has(key)) throw new FopError('ENOENT', `gfid ${key} unknown`)
    return b.withObject(key, async o => {
      const xdata = await fillXdata(b, key, o.st, a.xdata, { read: n => b.backend.read(o, n) })
      return { ...ok, xdata, prestat: toIatt(key, o.st), poststat: ZERO_IATT }
    })
  }
  return b.withDir(a.pargfid, async (dir, pst) => {
    checkName(dir.key, a.bname)
    let key = b.store.child(dir.key, a.bname)
    let st: BigIntStats
    try {
      st = await lstatAt(dir, a.bname)
    } catch (err) {
      if (!isMissing(err)) throw err
      if (key !== undefined) {
        const k = key
        await b.serial(async () => { forgetLink(b, dir.key, a.bname, k) })
      }
      return { ...failure(ENOENT), poststat: toIatt(dir.key, pst) }
    }
    if (key === undefined) {
      // on disk but unknown to the store (left by a crash): adopt it when the client names a gfid
      const req = gfxDictBin(a.xdata, 'gfid-req')
      if (req === undefined || isNullGfid(req)) throw new FopError('ENODATA', `${a.bname} has no gfid`)
      const k = key = gfidKey(req)
      const s = st
      await b.serial(async () => {
        b.store.addObject(k, objectTypeOf(Number(s.mode)), dir.key, a.bname)
        b.listings.changed(dir.key)
      })
    }
    const k = key
    const xdata = await fillXdata(b, k, st, a.xdata, {
      parent: dir.key,
      name: a.bname,
      read: async n => {
        const o = await b.backend.openAt(dir, a.bname, k)
        try { return o.st.ino === st.ino ? await b.backend.read(o, n) : Buffer.alloc(0) } finally { await o.release() }
      },
    })
    return { ...ok, xdata, prestat: toIatt(k, st), poststat: toIatt(dir.key, pst) }
  })
}

/** A name the store knows but the backend no longer has: drop it (the record too, unless open). */
function forgetLink (b: Brick, parent: string, name: string, key: string): void {
  if (b.store.child(parent, name) !== key) return
  const wasDir = b.store.type(key) === 'd'
  b.store.removeLink(parent, name, { keepRecord: (b.openCount.get(key) ?? 0) > 0 })
  if (wasDir && !b.store.has(key)) b.backend.forget(key)
  b.listings.changed(parent)
}

/** What every entry-creating fop has resolved and checked before it touches the backend. */
interface NewEntry {
  /** the gfid the client asked the new object to have (gfid-req) */
  key: string
  parent: DirRef
  /** the parent's stat before the operation */
  pst: BigIntStats
  name: string
  /** the gfid already linked under that name, when the fop may open it (CREATE without O_EXCL) */
  existing?: string
  /** xattrs to store with the new object (from the xdata) */
  xattrs: Map<string, Buffer>
}

interface Created { stat: GfxIattx, extra?: Record<string, unknown> }

/**
 * The one prologue of CREATE, MKDIR, MKNOD and SYMLINK, run in the entry chain: the gfid the
 * client asks for, the parent (a directory, through its fd), the name, whether it exists (EEXIST,
 * unless `mayExist`), a gfid already in use (EEXIST, unless `gfidInUse` handles it), the
 * creation xattrs; then `make` creates the object, and the parent's times and listing follow.
 */
async function createEntry (b: Brick, ctx: CallContext, a: { pargfid: Buffer, bname: string, xdata: GfxDict },
  make: (e: NewEntry) => Promise<Created>,
  opts: { mayExist?: boolean, gfidInUse?: (e: NewEntry) => Promise<Created> } = {}): Promise<any> {
  return b.serial(() => b.withDir(a.pargfid, async (parent, pst) => {
    const key = b.gfidReq(a.xdata)
    checkName(parent.key, a.bname)
    const existing = b.store.child(parent.key, a.bname)
    if (existing !== undefined && opts.mayExist !== true) throw new FopError('EEXIST', `${a.bname} exists`)
    const e: NewEntry = { key, parent, pst, name: a.bname, xattrs: new Map(), ...(existing !== undefined ? { existing } : {}) }
    let made: Created
    if (existing === undefined && b.store.has(key)) {
      if (opts.gfidInUse === undefined) throw new FopError('EEXIST', `gfid ${key} exists already`)
      made = await opts.gfidInUse(e)
    } else {
      if (existing === undefined) e.xattrs = creationXattrs(b, parent.key, a.xdata)
      made = await make(e)
    }
    if (existing === undefined) {
      b.listings.changed(parent.key)
      await b.stamp(ctx, undefined, { fd: parent.fd, st: pst })
    }
    return { ...ok, ...made.extra, stat: made.stat, preparent: toIatt(parent.key, pst), postparent: await b.iattOf(parent.key) }
  }))
}

/** Give a new backend object to the caller when the server runs as root (until attributes are virtual). */
async function ownNew (b: Brick, ctx: CallContext, p: string, pst: BigIntStats): Promise<void> {
  if (process.getuid?.() !== 0) return
  const c = b.caller(ctx)
  // directories with setgid pass their group on, as on a local filesystem
  const gid = (Number(pst.mode) & 0o2000) !== 0 ? Number(pst.gid) : c.gid
  await fsp.lchown(p, c.uid, gid)
}

/** Record the new object; if that fails, take the backend entry away again. */
async function record (b: Brick, e: NewEntry, t: ObjectType, undo: () => Promise<void>): Promise<void> {
  try {
    b.store.addObject(e.key, t, e.parent.key, e.name, e.xattrs)
  } catch (err) {
    await undo().catch(() => {})
    throw err
  }
}

export const create: FopFn<'CREATE'> = async (b, a, ctx, cs) => {
  let fd = 0n
  let objKey = ''
  const r = await createEntry(b, ctx, a, async e => {
    const p = at(e.parent.fd, e.name)
    fd = await b.openFd(cs, async () => {
      let fh: FileHandle
      if (e.existing !== undefined) {
        if ((a.flags & GfOpenFlags.EXCL) !== 0) throw new FopError('EEXIST', `${e.name} exists`)
        objKey = e.existing
        fh = await b.withObject(e.existing, o => b.backend.reopen(o, openFlags(a.flags, b.opts.arbiter)))
        return { kind: 'file', key: objKey, fh, flags: a.flags }
      }
      objKey = e.key
      fh = await b.backend.openFile(e.parent, e.name, openFlags(a.flags, b.opts.arbiter) | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600)
      try {
        await fh.chmod((a.mode & ~a.umask) & 0o7777)
        await ownNew(b, ctx, p, e.pst)
        await record(b, e, 'f', () => fsp.unlink(p))
        await b.stamp(ctx, { fh })
      } catch (err) {
        await b.backend.closeFile(fh)
        await fsp.unlink(p).catch(() => {})
        throw err
      }
      return { kind: 'file', key: objKey, fh, flags: a.flags }
    })
    const f = cs.fds.get(fd)!
    return { stat: toIatt(objKey, await (f as { fh: FileHandle }).fh.stat({ bigint: true })) }
  }, { mayExist: true })
  return { ...r, fd, xdata: new Map([['gfid-req', gfxUuid(gfidBytes(objKey))]]) }
}

export const mkdir: FopFn<'MKDIR'> = async (b, a, ctx) => createEntry(b, ctx, a, async e => {
  const p = at(e.parent.fd, e.name)
  await fsp.mkdir(p, 0o700)
  try {
    await fsp.chmod(p, (a.mode & ~a.umask) & 0o7777)
    await ownNew(b, ctx, p, e.pst)
  } catch (err) {
    await fsp.rmdir(p).catch(() => {})
    throw err
  }
  await record(b, e, 'd', () => fsp.rmdir(p))
  return made(b, ctx, e)
})

export const mknod: FopFn<'MKNOD'> = async (b, a, ctx) => {
  const fmt = a.mode & S_IFMT
  // Node can make regular files only (DHT link files are S_IFREG|01000); no fifos or devices
  if (fmt !== 0 && fmt !== S_IFREG) throw new FopError('EPERM', 'only regular files can be made with MKNOD here')
  return createEntry(b, ctx, a, async e => {
    const p = at(e.parent.fd, e.name)
    const fh = await b.backend.openFile(e.parent, e.name, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o600)
    try {
      await fh.chmod((a.mode & ~a.umask) & 0o7777)
    } finally { await b.backend.closeFile(fh) }
    await ownNew(b, ctx, p, e.pst)
    await record(b, e, 'f', () => fsp.unlink(p))
    return made(b, ctx, e)
  }, {
    // DHT link files of hard-linked files: a second name of the same inode (§6.3)
    gfidInUse: async e => {
      if (a.xdata?.has('glusterfs-internal-fop') !== true || b.store.type(e.key) !== 'f') throw new FopError('EEXIST')
      await linkInto(b, e.key, e.parent, e.name)
      return made(b, ctx, { ...e, key: e.key }, false)
    },
  })
}

export const symlink: FopFn<'SYMLINK'> = async (b, a, ctx) => createEntry(b, ctx, a, async e => {
  const p = at(e.parent.fd, e.name)
  // the target is only text to us: the server never follows a symlink
  await fsp.symlink(a.linkname, p)
  await ownNew(b, ctx, p, e.pst)
  await record(b, e, 'l', () => fsp.unlink(p))
  return made(b, ctx, e)
})

/** The new object's stat (stamped with the operation's time first when `stamp`). */
async function made (b: Brick, ctx: CallContext, e: NewEntry, stamp = true): Promise<Created> {
  const o = await b.backend.openAt(e.parent, e.name, e.key)
  try {
    if (stamp) await b.stamp(ctx, { fd: o.fd, st: o.st })
    return { stat: toIatt(e.key, stamp ? await b.backend.lstat(e.key) : o.st) }
  } finally { await o.release() }
}

/** A new name `name` in `parent` for the non-directory `key` (its first link is the source). */
async function linkInto (b: Brick, key: string, parent: DirRef, name: string): Promise<void> {
  const link = b.store.links(key)[0]
  if (link === undefined) throw new FopError('ENOENT', `gfid ${key} has no name left`)
  const src = await b.backend.dir(link[0])
  try {
    await fsp.link(at(src.fd, link[1]), at(parent.fd, name))
  } finally { src.release() }
  b.store.addLink(key, parent.key, name)
}

export const link: FopFn<'LINK'> = async (b, a, ctx) => b.serial(async () => {
  const key = b.keyOf(a.oldgfid)
  if (b.store.type(key) === 'd') throw new FopError('EPERM')
  return b.withDir(a.newgfid, async (parent, pst) => {
    checkName(parent.key, a.newbname)
    await linkInto(b, key, parent, a.newbname)
    b.listings.changed(parent.key)
    await b.stamp(ctx, undefined, { fd: parent.fd, st: pst })
    return { ...ok, stat: await b.iattOf(key), preparent: toIatt(parent.key, pst), postparent: await b.iattOf(parent.key) }
  })
})

export const unlink: FopFn<'UNLINK'> = async (b, a, ctx) => b.serial(() => b.withDir(a.pargfid, async (parent, pst) => {
  checkName(parent.key, a.bname)
  const p = at(parent.fd, a.bname)
  const st = await fsp.lstat(p, { bigint: true })
  if (st.isDirectory()) throw new FopError('EISDIR')
  await fsp.unlink(p)
  const key = b.store.child(parent.key, a.bname)
  if (key !== undefined) b.store.removeLink(parent.key, a.bname, { keepRecord: (b.openCount.get(key) ?? 0) > 0 })
  b.listings.changed(parent.key)
  await b.stamp(ctx, undefined, { fd: parent.fd, st: pst })
  return { ...ok, prestat: toIatt(parent.key, pst), poststat: await b.iattOf(parent.key) }
}))

export const rmdir: FopFn<'RMDIR'> = async (b, a, ctx) => b.serial(() => b.withDir(a.pargfid, async (parent, pst) => {
  checkName(parent.key, a.bname)
  await fsp.rmdir(at(parent.fd, a.bname))
  const r = b.store.removeLink(parent.key, a.bname)
  if (r !== undefined) { b.backend.forget(r.key); b.listings.changed(r.key) }
  b.listings.changed(parent.key)
  await b.stamp(ctx, undefined, { fd: parent.fd, st: pst })
  return { ...ok, prestat: toIatt(parent.key, pst), poststat: await b.iattOf(parent.key) }
}))

export const rename: FopFn<'RENAME'> = async (b, a, ctx) => b.serial(() => b.withDir(a.oldgfid, (op, opst) => b.withDir(a.newgfid, async (np, npst) => {
  checkName(op.key, a.oldbname)
  checkName(np.key, a.newbname)
  const key = b.store.child(op.key, a.oldbname)
  if (key === undefined) {
    await lstatAt(op, a.oldbname) // ENOENT when really absent
    throw new FopError('ENODATA', `${a.oldbname} has no gfid`)
  }
  await fsp.rename(at(op.fd, a.oldbname), at(np.fd, a.newbname))
  const { replaced } = b.store.moveLink(op.key, a.oldbname, np.key, a.newbname)
  if (replaced !== undefined && replaced.linksLeft === 0) {
    if ((b.openCount.get(replaced.key) ?? 0) === 0) b.store.forget(replaced.key)
    b.backend.forget(replaced.key)
  }
  b.listings.changed(op.key)
  b.listings.changed(np.key)
  await b.stamp(ctx, undefined, { fd: op.fd, st: opst })
  if (np.key !== op.key) await b.stamp(ctx, undefined, { fd: np.fd, st: npst })
  return {
    ...ok,
    stat: await b.iattOf(key),
    preoldparent: toIatt(op.key, opst),
    postoldparent: await b.iattOf(op.key),
    prenewparent: toIatt(np.key, npst),
    postnewparent: await b.iattOf(np.key),
  }
})))
