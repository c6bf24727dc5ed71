// Entry fops: the ones that look up, create, name, rename and remove directory entries. Every
// name is checked (checkName) and acted on as (parent directory fd, name): see store/backend.ts.
// Permissions as posix-acl checks them (access.ts); new objects get their mode, owner and rdev in
// the store, the backend object is the server's own (0600 files, 0700 directories).
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import type { BigIntStats } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import { GfOpenFlags, gfxDict, gfxDictBin, gfxUint, gfxUuid } from '@gluster-ts/rpc'
import type { CallContext, GfxDict, GfxIattx } from '@gluster-ts/rpc'
import { checkName, gfidKey, gfidBytes, isNullGfid } from '../store/brick-store.js'
import type { ObjectType, InodeAttrs } from '../store/brick-store.js'
import { at } from '../store/backend.js'
import type { DirRef } from '../store/backend.js'
import { FopError } from '../store/fop-error.js'
import { ZERO_IATT, objectTypeOf, rdevToIatt } from '../store/posix.js'
import {
  W, X, S_IFMT, S_IFDIR, S_IFREG, S_IFLNK, isPrivileged, isDir, openWants, requirePermission, stickyPermits, newAttrs,
} from '../access.js'
import type { Principal } from '../access.js'
import { fillXdata, creationXattrs } from '../xdata.js'
import type { Brick } from '../brick.js'
import { openFlags } from './fd.js'
import type { FopFn } from './reply.js'
import { failure, ok, ENOENT } from './reply.js'

const S_IFIFO = 0o010000
const S_IFCHR = 0o020000
const S_IFBLK = 0o060000
const S_IFSOCK = 0o140000

const lstatAt = (dir: DirRef, name: string): Promise<BigIntStats> => fsp.lstat(at(dir.fd, name), { bigint: true })

function isMissing (err: unknown): boolean { return (err as NodeJS.ErrnoException).code === 'ENOENT' }

export const lookup: FopFn<'LOOKUP'> = async (b, a, ctx) => {
  if (a.bname === '') {
    // nameless (by gfid): ENOENT, not ESTALE, for a gfid this brick does not have
    if (isNullGfid(a.gfid)) throw new FopError('EINVAL')
    const key = gfidKey(a.gfid)
    if (!b.store.has(key)) throw new FopError('ENOENT', `gfid ${key} unknown`)
    return b.withObject(key, async o => {
      const xdata = await fillXdata(b, key, o.st, a.xdata, { read: n => b.backend.read(o, n) })
      return { ...ok, xdata, prestat: b.iatt(key, o.st), poststat: ZERO_IATT }
    })
  }
  return b.withDir(a.pargfid, async (dir, pst) => {
    checkName(dir.key, a.bname)
    // a name is looked up in a directory the caller may search (posix_acl_lookup)
    requirePermission(b.principal(ctx, a.xdata), b.attrsOf(dir.key, pst), X, 'lookup')
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
      return { ...failure(ENOENT), poststat: b.iatt(dir.key, pst) }
    }
    if (key === undefined) {
      // on disk but unknown to the store (left by a crash): adopt it when the client names a gfid
      const req = gfxDictBin(a.xdata, 'gfid-req')
      if (req === undefined || isNullGfid(req)) throw new FopError('ENODATA', `${a.bname} has no gfid`)
      const k = key = gfidKey(req)
      const s = st
      await b.serial(async () => {
        const attrs: InodeAttrs = { mode: Number(s.mode), uid: Number(s.uid), gid: Number(s.gid), rdev: rdevToIatt(s.rdev) }
        b.store.addObject(k, objectTypeOf(Number(s.mode)), dir.key, a.bname, undefined, attrs)
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
    return { ...ok, xdata, prestat: b.iatt(k, st), poststat: b.iatt(dir.key, pst) }
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
  who: Principal
  /** the gfid already linked under that name, when the fop may open it (CREATE without O_EXCL) */
  existing?: string
  /** xattrs to store with the new object (from the xdata) */
  xattrs: Map<string, Buffer>
  /** mode, owner and rdev of the new object (access.ts newAttrs) */
  attrs: InodeAttrs
}

interface Created { stat: GfxIattx }

/**
 * The one prologue of CREATE, MKDIR, MKNOD and SYMLINK, run in the entry chain: the gfid the
 * client asks for, the parent (a directory, through its fd), the name, write and search
 * permission on the parent (posix_acl_create/mkdir/mknod/symlink), whether the name exists
 * (EEXIST, unless `mayExist`), a gfid already in use (EEXIST, unless `gfidInUse` handles it), the
 * creation xattrs and the new object's attributes; then `make` creates it, and the parent's
 * times and listing follow.
 */
async function createEntry (b: Brick, ctx: CallContext, a: { pargfid: Buffer, bname: string, xdata: GfxDict }, mode: number,
  make: (e: NewEntry) => Promise<Created>,
  opts: { mayExist?: boolean, gfidInUse?: (e: NewEntry) => Promise<Created> } = {}): Promise<any> {
  return b.serial(() => b.withDir(a.pargfid, async (parent, pst) => {
    const key = b.gfidReq(a.xdata)
    checkName(parent.key, a.bname)
    const who = b.principal(ctx, a.xdata)
    const pattrs = b.attrsOf(parent.key, pst)
    const existing = b.store.child(parent.key, a.bname)
    if (existing !== undefined && opts.mayExist !== true) throw new FopError('EEXIST', `${a.bname} exists`)
    if (existing === undefined) requirePermission(who, pattrs, W | X, 'create')
    const e: NewEntry = {
      key, parent, pst, name: a.bname, who, xattrs: new Map(), attrs: newAttrs(who, pattrs, mode),
      ...(existing !== undefined ? { existing } : {}),
    }
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
    return { ...ok, stat: made.stat, preparent: b.iatt(parent.key, pst), postparent: await b.iattOf(parent.key) }
  }))
}

/** Record the new object with its attributes; if that fails, take the backend entry away again. */
async function record (b: Brick, e: NewEntry, t: ObjectType, undo: () => Promise<void>): Promise<void> {
  try {
    b.store.addObject(e.key, t, e.parent.key, e.name, e.xattrs, e.attrs)
  } catch (err) {
    await undo().catch(() => {})
    throw err
  }
}

/** The mode a create asks for: the permission bits less the umask, with the type. */
function requested (type: number, mode: number, umask: number): number {
  return type | (mode & ~umask & 0o7777)
}

export const create: FopFn<'CREATE'> = async (b, a, ctx, cs) => {
  let fd = 0n
  let objKey = ''
  const r = await createEntry(b, ctx, a, requested(S_IFREG, a.mode, a.umask), async e => {
    fd = await b.openFd(cs, async () => {
      let fh: FileHandle
      if (e.existing !== undefined) {
        if ((a.flags & GfOpenFlags.EXCL) !== 0) throw new FopError('EEXIST', `${e.name} exists`)
        // the name exists: an open of it, with open's permission rules
        objKey = e.existing
        fh = await b.withObject(e.existing, async o => {
          requirePermission(e.who, b.attrsOf(o.key, o.st), openWants(a.flags), 'open')
          return b.backend.reopen(o, openFlags(a.flags, b.opts.arbiter))
        })
        return { kind: 'file', key: objKey, fh, flags: a.flags }
      }
      objKey = e.key
      fh = await b.backend.openFile(e.parent, e.name, openFlags(a.flags, b.opts.arbiter) | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600)
      try {
        await record(b, e, 'f', () => fsp.unlink(at(e.parent.fd, e.name)))
        await b.stamp(ctx, { fh })
      } catch (err) {
        await b.backend.closeFile(fh)
        await fsp.unlink(at(e.parent.fd, e.name)).catch(() => {})
        throw err
      }
      return { kind: 'file', key: objKey, fh, flags: a.flags }
    })
    const f = cs.fds.get(fd) as { fh: FileHandle }
    return { stat: b.iatt(objKey, await f.fh.stat({ bigint: true })) }
  }, { mayExist: true })
  return { ...r, fd, xdata: new Map([['gfid-req', gfxUuid(gfidBytes(objKey))]]) }
}

export const mkdir: FopFn<'MKDIR'> = async (b, a, ctx) => createEntry(b, ctx, a, requested(S_IFDIR, a.mode, a.umask), async e => {
  const p = at(e.parent.fd, e.name)
  await fsp.mkdir(p, 0o700)
  await record(b, e, 'd', () => fsp.rmdir(p))
  return made(b, ctx, e)
})

/**
 * MKNOD: regular files (DHT link files are S_IFREG|01000), fifos and sockets for anyone who may
 * create in the parent, character and block devices for root only (EPERM, as mknod(2)). What is
 * not a regular file is a placeholder: an empty regular file on the backend, its type and rdev in
 * the store (no device node on the host; the FUSE client handles fifos and devices itself).
 */
export const mknod: FopFn<'MKNOD'> = async (b, a, ctx) => {
  const fmt = (a.mode & S_IFMT) === 0 ? S_IFREG : a.mode & S_IFMT
  if (![S_IFREG, S_IFIFO, S_IFSOCK, S_IFCHR, S_IFBLK].includes(fmt)) throw new FopError('EINVAL', `mknod of type ${fmt.toString(8)}`)
  if ((fmt === S_IFCHR || fmt === S_IFBLK) && !isPrivileged(b.principal(ctx, a.xdata))) throw new FopError('EPERM', 'device nodes: root only')
  const mode = requested(fmt, a.mode, a.umask)
  return createEntry(b, ctx, a, mode, async e => {
    if (fmt === S_IFCHR || fmt === S_IFBLK) e.attrs = { ...e.attrs, rdev: rdevToIatt(a.dev) }
    const fh = await b.backend.openFile(e.parent, e.name, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o600)
    await b.backend.closeFile(fh)
    await record(b, e, fmt === S_IFREG ? 'f' : 'o', () => fsp.unlink(at(e.parent.fd, e.name)))
    return made(b, ctx, e)
  }, {
    // DHT link files of hard-linked files: a second name of the same inode (§6.3)
    gfidInUse: async e => {
      if (a.xdata?.has('glusterfs-internal-fop') !== true || b.store.type(e.key) !== 'f') throw new FopError('EEXIST')
      await linkInto(b, e.key, e.parent, e.name)
      return made(b, ctx, e, false)
    },
  })
}

export const symlink: FopFn<'SYMLINK'> = async (b, a, ctx) => createEntry(b, ctx, a, S_IFLNK | 0o777, async e => {
  const p = at(e.parent.fd, e.name)
  // the target is only text to us: the server never follows a symlink
  await fsp.symlink(a.linkname, p)
  await record(b, e, 'l', () => fsp.unlink(p))
  return made(b, ctx, e)
})

/** The new object's stat (stamped with the operation's time first when `stamp`). */
async function made (b: Brick, ctx: CallContext, e: NewEntry, stamp = true): Promise<Created> {
  const o = await b.backend.openAt(e.parent, e.name, e.key)
  try {
    if (stamp) await b.stamp(ctx, { fd: o.fd, st: o.st })
    return { stat: b.iatt(e.key, stamp ? await b.backend.lstat(e.key) : o.st) }
  } finally { await o.release() }
}

/** A new name `name` in `parent` for the non-directory `key` (its first link is the source). */
async function linkInto (b: Brick, key: string, parent: DirRef, name: string): Promise<void> {
  const link = b.store.links(key)[0]
  if (link === undefined) throw new FopError('ENOENT', `gfid ${key} has no name left`)
  b.store.checkLink(key) // EMLINK before the backend gets a name the store would refuse
  const src = await b.backend.dir(link[0])
  try {
    // link(2) of (dir fd, name) never follows a final symlink: a link of a symlink is a link
    await fsp.link(at(src.fd, link[1]), at(parent.fd, name))
  } finally { src.release() }
  b.store.addLink(key, parent.key, name)
}

export const link: FopFn<'LINK'> = async (b, a, ctx) => b.serial(async () => {
  const key = b.keyOf(a.oldgfid)
  if (b.store.type(key) === 'd') throw new FopError('EPERM', 'hard link of a directory')
  return b.withDir(a.newgfid, async (parent, pst) => {
    checkName(parent.key, a.newbname)
    requirePermission(b.principal(ctx, a.xdata), b.attrsOf(parent.key, pst), W | X, 'link')
    await linkInto(b, key, parent, a.newbname)
    b.listings.changed(parent.key)
    await b.stamp(ctx, undefined, { fd: parent.fd, st: pst })
    return { ...ok, stat: await b.iattOf(key), preparent: b.iatt(parent.key, pst), postparent: await b.iattOf(parent.key) }
  })
})

/** Write and search permission on the parent, and the sticky-directory rule, to remove `name` (posix_acl_unlink/rmdir). */
function checkRemove (b: Brick, who: Principal, parentKey: string, pst: BigIntStats, st: BigIntStats, key: string | undefined, what: string): void {
  const pattrs = b.attrsOf(parentKey, pst)
  requirePermission(who, pattrs, W | X, what)
  const attrs = key !== undefined ? b.attrsOf(key, st) : { mode: Number(st.mode), uid: Number(st.uid), gid: Number(st.gid), rdev: 0n }
  if (!stickyPermits(who, pattrs, attrs)) throw new FopError('EACCES', `${what}: sticky directory, not the owner`)
}

const GET_FILE_BLOCK_COUNT = 'gf_get_file_block_count'

export const unlink: FopFn<'UNLINK'> = async (b, a, ctx) => b.serial(() => b.withDir(a.pargfid, async (parent, pst) => {
  checkName(parent.key, a.bname)
  const p = at(parent.fd, a.bname)
  const st = await fsp.lstat(p, { bigint: true })
  const key = b.store.child(parent.key, a.bname)
  checkRemove(b, b.principal(ctx, a.xdata), parent.key, pst, st, key, 'unlink')
  if (st.isDirectory()) throw new FopError('EISDIR')
  await fsp.unlink(p)
  if (key !== undefined) b.store.removeLink(parent.key, a.bname, { keepRecord: (b.openCount.get(key) ?? 0) > 0 })
  b.listings.changed(parent.key)
  await b.stamp(ctx, undefined, { fd: parent.fd, st: pst })
  // the shard translator asks how many 512-byte blocks a removed shard held, to lower the
  // file's block count (posix_unlink answers it from the entry's stat before the unlink)
  const xdata = a.xdata?.has(GET_FILE_BLOCK_COUNT) === true ? gfxDict({ [GET_FILE_BLOCK_COUNT]: gfxUint(st.blocks) }) : null
  return { ...ok, xdata, prestat: b.iatt(parent.key, pst), poststat: await b.iattOf(parent.key) }
}))

export const rmdir: FopFn<'RMDIR'> = async (b, a, ctx) => b.serial(() => b.withDir(a.pargfid, async (parent, pst) => {
  checkName(parent.key, a.bname)
  const st = await lstatAt(parent, a.bname)
  const key = b.store.child(parent.key, a.bname)
  checkRemove(b, b.principal(ctx, a.xdata), parent.key, pst, st, key, 'rmdir')
  await fsp.rmdir(at(parent.fd, a.bname))
  const r = b.store.removeLink(parent.key, a.bname)
  if (r !== undefined) { b.backend.forget(r.key); b.listings.changed(r.key) }
  b.listings.changed(parent.key)
  await b.stamp(ctx, undefined, { fd: parent.fd, st: pst })
  return { ...ok, prestat: b.iatt(parent.key, pst), poststat: await b.iattOf(parent.key) }
}))

/**
 * RENAME: write and search permission on both parents, the sticky rule for the entry moved and
 * for the one replaced, and write permission on a directory that moves to another parent (its
 * `..` changes). The errno of a rename over an existing entry (EISDIR, ENOTDIR, ENOTEMPTY, EINVAL
 * for a directory into itself; nothing for two names of one inode) is the backend's own, whose
 * tree is the volume's.
 */
export const rename: FopFn<'RENAME'> = async (b, a, ctx) => b.serial(() => b.withDir(a.oldgfid, (op, opst) => b.withDir(a.newgfid, async (np, npst) => {
  checkName(op.key, a.oldbname)
  checkName(np.key, a.newbname)
  const key = b.store.child(op.key, a.oldbname)
  const st = await lstatAt(op, a.oldbname) // ENOENT when really absent
  if (key === undefined) throw new FopError('ENODATA', `${a.oldbname} has no gfid`)
  const who = b.principal(ctx, a.xdata)
  checkRemove(b, who, op.key, opst, st, key, 'rename')
  const target = b.store.child(np.key, a.newbname)
  const nattrs = b.attrsOf(np.key, npst)
  requirePermission(who, nattrs, W | X, 'rename')
  if (target !== undefined && target !== key) {
    const tst = await lstatAt(np, a.newbname).catch(() => undefined)
    if (tst !== undefined && !stickyPermits(who, nattrs, b.attrsOf(target, tst))) throw new FopError('EACCES', 'rename: sticky directory, not the owner')
  }
  const attrs = b.attrsOf(key, st)
  if (isDir(attrs) && op.key !== np.key) requirePermission(who, attrs, W, 'rename of a directory')
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
    preoldparent: b.iatt(op.key, opst),
    postoldparent: await b.iattOf(op.key),
    prenewparent: b.iatt(np.key, npst),
    postnewparent: await b.iattOf(np.key),
  }
})))
