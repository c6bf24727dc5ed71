// Fd fops: open files and directories, their data, listings and attributes through the fd. A
// file is opened by reopening the O_PATH fd its gfid resolves to (store/backend.ts): only regular
// files are ever opened for I/O, and never through a symlink.
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import type { BigIntStats } from 'node:fs'
import { GF_ANON_FD, GfSeekWhat, GfOpenFlags, gfxDictBytes } from '@gluster-ts/rpc'
import type { CallContext, GfxDict, GfxDirplist, GfxDirlist } from '@gluster-ts/rpc'
import { ROOT_KEY, SIDECAR_DIR, gfidBytes } from '../store/brick-store.js'
import { at, self } from '../store/backend.js'
import { FopError } from '../store/fop-error.js'
import { toIatt, ZERO_IATT, direntTypeOf, inoOf } from '../store/posix.js'
import { fillXdata } from '../xdata.js'
import { READDIR_MAX_BYTES } from '../limits.js'
import type { Brick, ClientState, DirFd } from '../brick.js'
import { applySetattr, clearSuid } from './inode.js'
import { R, S_IFMT, openWants, requirePermission } from '../access.js'

const S_IFSOCK = 0o140000
import type { FopFn } from './reply.js'
import { ok, ENOENT } from './reply.js'

const MAX_READ_BYTES = 4 * 1024 * 1024

/**
 * OPEN: permission by the flags (posix_acl_open); only regular files: a device is EINVAL (as
 * posix_open refuses block and character devices), a socket ENXIO, a fifo EINVAL (the FUSE
 * client never sends those opens: the kernel handles fifos and devices itself).
 */
export const open: FopFn<'OPEN'> = async (b, a, ctx, cs) => {
  const key = b.keyOf(a.gfid)
  const fd = await b.openFd(cs, async () => {
    const fh = await b.withObject(key, async o => {
      const attrs = b.attrsOf(key, o.st)
      if ((attrs.mode & S_IFMT) === S_IFSOCK) throw new FopError('ENXIO')
      if (b.store.type(key) === 'o') throw new FopError('EINVAL', 'not a regular file')
      requirePermission(b.principal(ctx, a.xdata), attrs, openWants(a.flags), 'open')
      return b.backend.reopen(o, openFlags(a.flags, b.opts.arbiter))
    })
    return { kind: 'file', key, fh, flags: a.flags }
  })
  return { ...ok, fd }
}

export const read: FopFn<'READ'> = async (b, a, ctx, cs) => {
  if (b.opts.arbiter) throw new FopError('ENOSYS')
  const { fd, done } = await b.fd(cs, a.fd, a.gfid)
  try {
    const size = Math.min(a.size, MAX_READ_BYTES)
    const buf = Buffer.allocUnsafe(size)
    let n = 0
    while (n < size) {
      const r = await fd.fh.read(buf, n, size - n, Number(a.offset) + n)
      if (r.bytesRead === 0) break
      n += r.bytesRead
    }
    const st = await fd.fh.stat({ bigint: true })
    const eof = a.offset + BigInt(n) >= st.size
    // the bytes go out as their own chunk after gfx_read_rsp (gluster-wire.md §8)
    return { op_ret: n, op_errno: eof ? ENOENT : 0, stat: b.iatt(fd.key, st), size: n, xdata: null, data: buf.subarray(0, n) }
  } finally { await done() }
}

export const write: FopFn<'WRITE'> = async (b, a, ctx, cs) => b.dataSerial(a.gfid, async () => {
  const { fd, done } = await b.fd(cs, a.fd, a.gfid, true)
  try {
    const pre = await fd.fh.stat({ bigint: true })
    if (!b.opts.arbiter) {
      let n = 0
      let pos = writePosition(fd.flags, a.offset, pre.size)
      while (n < a.data.length) {
        const r = await fd.fh.write(a.data, n, a.data.length - n, pos)
        n += r.bytesWritten
        pos += r.bytesWritten
      }
    }
    await b.stamp(ctx, { fh: fd.fh, st: pre })
    const prestat = b.iatt(fd.key, pre)
    clearSuid(b, b.caller(ctx), fd.key, pre)
    const post = await fd.fh.stat({ bigint: true })
    return { op_ret: a.data.length, op_errno: 0, xdata: null, prestat, poststat: b.iatt(fd.key, post) }
  } finally { await done() }
})

export const flush: FopFn<'FLUSH'> = async (b, a, ctx, cs) => {
  const { done } = await b.fd(cs, a.fd, a.gfid)
  await done()
  return ok
}

export const fsync: FopFn<'FSYNC'> = async (b, a, ctx, cs) => {
  const { fd, done } = await b.fd(cs, a.fd, a.gfid)
  try {
    const pre = await fd.fh.stat({ bigint: true })
    if (a.data !== 0) await fd.fh.datasync()
    else await fd.fh.sync()
    return { ...ok, prestat: b.iatt(fd.key, pre), poststat: b.iatt(fd.key, await fd.fh.stat({ bigint: true })) }
  } finally { await done() }
}

/** RELEASE and RELEASEDIR: the client's fd goes (an unknown fd is no error, as in protocol/server). */
const releaseAny: FopFn<'RELEASE'> & FopFn<'RELEASEDIR'> = async (b, a, _ctx, cs) => {
  const fd = cs.fds.get(a.fd)
  if (fd !== undefined) {
    cs.fds.delete(a.fd)
    await b.closeFd(cs, fd)
  }
  return ok
}

export const release: FopFn<'RELEASE'> = releaseAny

/** OPENDIR: read permission on the directory (posix_acl_opendir). */
export const opendir: FopFn<'OPENDIR'> = async (b, a, ctx, cs) => {
  const key = b.keyOf(a.gfid)
  if (b.store.type(key) !== 'd') throw new FopError('ENOTDIR')
  requirePermission(b.principal(ctx, a.xdata), b.attrsOf(key, await b.backend.lstat(key)), R, 'opendir')
  // the directory's fd stays pinned while the OPENDIR fd is open: READDIR reads that very inode
  const fd = await b.openFd(cs, async () => ({ kind: 'dir', key, dir: await b.backend.dir(key) }))
  return { ...ok, fd }
}

export const readdir: FopFn<'READDIR'> = async (b, a, ctx, cs) => {
  const { entries, eof } = await listDir(b, ctx, cs, a.fd, a.gfid, a.offset, a.size, false, null)
  return { op_ret: entries.length, op_errno: eof ? ENOENT : 0, xdata: null, reply: entries as GfxDirlist[] }
}

export const readdirp: FopFn<'READDIRP'> = async (b, a, ctx, cs) => {
  const { entries, eof } = await listDir(b, ctx, cs, a.fd, a.gfid, a.offset, a.size, true, a.xdata)
  return { op_ret: entries.length, op_errno: eof ? ENOENT : 0, xdata: null, reply: entries as GfxDirplist[] }
}

export const releasedir: FopFn<'RELEASEDIR'> = releaseAny

export const fsyncdir: FopFn<'FSYNCDIR'> = async () => ok

export const fstat: FopFn<'FSTAT'> = async (b, a, _ctx, cs) => {
  // a directory fd (AFR fstats the fd of an opendir, e.g. while a brick is down), or the
  // anonymous fd of a directory: fstat the directory's own fd
  const tableFd = a.fd === GF_ANON_FD ? undefined : cs.fds.get(a.fd)
  const dirKey = tableFd?.kind === 'dir' ? tableFd.key : a.fd === GF_ANON_FD && b.store.type(b.keyOf(a.gfid)) === 'd' ? b.keyOf(a.gfid) : undefined
  if (dirKey !== undefined) {
    const st = await b.backend.lstat(dirKey)
    return { ...ok, xdata: await fillXdata(b, dirKey, st, a.xdata), stat: b.iatt(dirKey, st) }
  }
  const { fd, done } = await b.fd(cs, a.fd, a.gfid)
  try {
    const st = await fd.fh.stat({ bigint: true })
    const xdata = b.store.has(fd.key) ? await fillXdata(b, fd.key, st, a.xdata) : null
    return { ...ok, xdata, stat: b.iatt(fd.key, st) }
  } finally { await done() }
}

export const fsetattr: FopFn<'FSETATTR'> = async (b, a, ctx, cs) => {
  const tableFd = a.fd === GF_ANON_FD ? undefined : cs.fds.get(a.fd)
  if (tableFd?.kind === 'dir') {
    // a directory fd: the directory's own fd
    return b.withObject(tableFd.key, async o => {
      const pre = b.iatt(o.key, o.st)
      await applySetattr(b, ctx, { obj: o }, o.key, o.st, a.stbuf, a.valid, a.xdata)
      return { ...ok, prestat: pre, poststat: await b.iattOf(o.key) }
    })
  }
  return b.sizeSerial(a.gfid, a.valid, async () => {
    const { fd, done } = await b.fd(cs, a.fd, a.gfid)
    try {
      const st = await fd.fh.stat({ bigint: true })
      const pre = b.iatt(fd.key, st)
      await applySetattr(b, ctx, { fh: fd.fh }, fd.key, st, a.stbuf, a.valid, a.xdata)
      return { ...ok, prestat: pre, poststat: b.iatt(fd.key, await fd.fh.stat({ bigint: true })) }
    } finally { await done() }
  })
}

/**
 * The data fops of an fd other than WRITE (FTRUNCATE, FALLOCATE, DISCARD, ZEROFILL): in the
 * file's data chain, `change` on the open file (not on an arbiter), the operation's times, and
 * set-uid/set-gid cleared for a caller without privileges.
 */
async function dataOp (b: Brick, a: { gfid: Buffer, fd: bigint }, ctx: CallContext, cs: ClientState,
  change: (fh: FileHandle, pre: BigIntStats) => Promise<void>): Promise<any> {
  return b.dataSerial(a.gfid, async () => {
    const { fd, done } = await b.fd(cs, a.fd, a.gfid, true)
    try {
      const pre = await fd.fh.stat({ bigint: true })
      if (!b.opts.arbiter) await change(fd.fh, pre)
      await b.stamp(ctx, { fh: fd.fh, st: pre })
      const prestat = b.iatt(fd.key, pre)
      clearSuid(b, b.caller(ctx), fd.key, pre)
      return { ...ok, prestat, poststat: b.iatt(fd.key, await fd.fh.stat({ bigint: true })) }
    } finally { await done() }
  })
}

export const ftruncate: FopFn<'FTRUNCATE'> = async (b, a, ctx, cs) => dataOp(b, a, ctx, cs, fh => fh.truncate(Number(a.offset)))

const KEEP_SIZE = 0x1
const PUNCH_HOLE = 0x2

export const fallocate: FopFn<'FALLOCATE'> = async (b, a, ctx, cs) => dataOp(b, a, ctx, cs, async (fh, pre) => {
  if ((a.flags & PUNCH_HOLE) !== 0) await writeZeros(fh, a.offset, minBig(a.size, pre.size > a.offset ? pre.size - a.offset : 0n))
  else if ((a.flags & KEEP_SIZE) === 0 && a.offset + a.size > pre.size) await fh.truncate(Number(a.offset + a.size))
})

export const discard: FopFn<'DISCARD'> = async (b, a, ctx, cs) =>
  dataOp(b, a, ctx, cs, (fh, pre) => writeZeros(fh, a.offset, minBig(a.size, pre.size > a.offset ? pre.size - a.offset : 0n)))

export const zerofill: FopFn<'ZEROFILL'> = async (b, a, ctx, cs) => dataOp(b, a, ctx, cs, fh => writeZeros(fh, a.offset, a.size))

export const seek: FopFn<'SEEK'> = async (b, a, ctx, cs) => {
  if (b.opts.arbiter) throw new FopError('ENOSYS')
  const { fd, done } = await b.fd(cs, a.fd, a.gfid)
  try {
    // no SEEK_DATA/SEEK_HOLE in Node: a file is all data, with one hole at its end
    const size = (await fd.fh.stat({ bigint: true })).size
    if (a.offset >= size) throw new FopError('ENXIO')
    return { ...ok, offset: a.what === GfSeekWhat.DATA ? a.offset : size }
  } finally { await done() }
}

/**
 * Directories a client lists through the anonymous fd whose listings it keeps between pages:
 * the least recently started one is dropped past this (its next page then reads the current
 * listing, which only differs if the directory changed since).
 */
const ANON_LISTINGS_PER_CLIENT = 16

/**
 * READDIR/READDIRP: a page of the fd's listing (`listPage`). The fd is one of the client's
 * OPENDIR fds, or the anonymous fd (-2) of a directory given by gfid: protocol/server resolves
 * that for every fd-addressed fop (server-resolve.c `server_resolve_anonfd`), and GlusterFS's
 * shard translator lists `/.shard/.remove_me` that way for its background deletion. An anonymous
 * listing is taken at offset 0 like an fd's and kept for the client until its next offset-0 read
 * of that directory (the deletion removes entries between pages: paging a fresh listing by index
 * would skip some), at most ANON_LISTINGS_PER_CLIENT of them.
 */
async function listDir (b: Brick, ctx: CallContext, cs: ClientState, fdNum: bigint, gfid: Buffer, offset: bigint, size: number, plus: boolean, req: GfxDict): Promise<{ entries: Array<GfxDirlist | GfxDirplist>, eof: boolean }> {
  if (fdNum !== GF_ANON_FD) {
    const fd = cs.fds.get(fdNum)
    if (fd === undefined) throw new FopError('EBADF', `fd ${fdNum} is not open`)
    if (fd.kind !== 'dir') throw new FopError('ENOTDIR')
    if (fd.listing === undefined || offset === 0n) await takeListing(b, ctx, cs, fd, req)
    return listPage(b, fd, offset, size, plus, req)
  }
  const key = b.keyOf(gfid)
  if (b.store.type(key) !== 'd') throw new FopError('ENOTDIR')
  const u = b.usage(cs)
  const fd: DirFd = { kind: 'dir', key, dir: await b.backend.dir(key), listing: u.anonListings.get(key) }
  try {
    if (fd.listing === undefined || offset === 0n) {
      await takeListing(b, ctx, cs, fd, req)
      u.anonListings.delete(key)
      u.anonListings.set(key, fd.listing!)
      for (const [k, l] of u.anonListings) {
        if (u.anonListings.size <= ANON_LISTINGS_PER_CLIENT) break
        u.anonListings.delete(k)
        b.listings.release(l, u)
      }
    }
    return await listPage(b, fd, offset, size, plus, req)
  } finally {
    fd.dir.release()
  }
}

/**
 * One page of a directory fd's listing from `offset` (an index: the d_off cookies are 1, 2, …),
 * at most `size` bytes (capped as protocol/server caps it, READDIR_MAX_BYTES); each entry is
 * lstat'ed in the directory's own fd.
 */
async function listPage (b: Brick, fd: DirFd, offset: bigint, size: number, plus: boolean, req: GfxDict): Promise<{ entries: Array<GfxDirlist | GfxDirplist>, eof: boolean }> {
  const names = fd.listing!.names
  const entries: Array<GfxDirlist | GfxDirplist> = []
  let bytes = 0
  let i = Number(offset)
  const budget = Math.max(Math.min(size, READDIR_MAX_BYTES), 512)
  for (; i < names.length; i++) {
    const name = names[i]!
    const est = 32 + name.length + (plus ? 200 : 0)
    if (entries.length > 0 && bytes + est > budget) break
    let key: string | undefined
    if (name === '.') key = fd.key
    else if (name === '..') key = fd.key === ROOT_KEY ? ROOT_KEY : b.store.links(fd.key)[0]?.[0]
    else key = b.store.child(fd.key, name)
    let st: BigIntStats
    try {
      st = name === '.' ? await fsp.stat(self(fd.dir.fd), { bigint: true })
        : name === '..' ? (key !== undefined ? await b.backend.lstat(key) : await fsp.stat(at(fd.dir.fd, '..'), { bigint: true }))
          : await fsp.lstat(at(fd.dir.fd, name), { bigint: true })
    } catch {
      continue // removed since the listing was taken
    }
    const gfid = key !== undefined ? gfidBytes(key) : Buffer.alloc(16)
    const attrs = key !== undefined ? b.store.attrs(key) : undefined
    const base: GfxDirlist = {
      d_ino: key !== undefined ? inoOf(gfid) : st.ino, d_off: BigInt(i + 1), d_len: Buffer.byteLength(name), d_type: direntTypeOf(attrs?.mode ?? Number(st.mode)), name,
    }
    if (plus) {
      const dict = key !== undefined && name !== '.' && name !== '..' ? await fillXdata(b, key, st, req) : null
      entries.push({ ...base, stat: key !== undefined ? toIatt(gfid, st, attrs) : ZERO_IATT, dict: dict ?? new Map() })
      bytes += est + (dict !== null ? gfxDictBytes(dict) : 0)
    } else {
      entries.push(base)
      bytes += est
    }
  }
  return { entries, eof: i >= names.length }
}

/**
 * (Re)take the listing of a directory fd: the shared one of the unchanged directory (listing.ts),
 * charged to the client. Reading a directory needs read permission (posix_acl_readdir), checked
 * here.
 */
async function takeListing (b: Brick, ctx: CallContext, cs: ClientState, fd: DirFd, req: GfxDict): Promise<void> {
  requirePermission(b.principal(ctx, req), await b.attrsNow(fd.key), R, 'readdir')
  const holder = b.usage(cs)
  const old = fd.listing
  fd.listing = await b.listings.acquire(fd.key, holder, async () => {
    const names = await fsp.readdir(self(fd.dir.fd))
    return fd.key === ROOT_KEY ? names.filter(n => n !== SIDECAR_DIR) : names
  })
  if (old !== undefined) b.listings.release(old, holder)
}

/**
 * GF_O_* (= Linux) open flags to what we pass to open(2): never create here, never follow a
 * symlink, and no O_APPEND: with it Linux's pwrite ignores the position, and WRITE places an
 * append itself (`writePosition`).
 */
export function openFlags (flags: number, arbiter: boolean): number {
  const c = fs.constants
  let acc = flags & GfOpenFlags.ACCMODE
  if (arbiter && acc === c.O_RDONLY) acc = c.O_RDONLY
  let out = acc | c.O_NOFOLLOW
  if ((flags & GfOpenFlags.TRUNC) !== 0 && !arbiter) out |= c.O_TRUNC
  if ((flags & GfOpenFlags.SYNC) !== 0) out |= c.O_SYNC
  return out
}

/**
 * Where a WRITE goes: at its offset, or on an O_APPEND fd at the end of the file, but never below
 * the offset the client sent. The FUSE client's kernel sends an append at the size it knows, one
 * WRITE per page, and its write-behind may send those before the pages of an earlier write on
 * another fd that they do not overlap (docs/server.md "Appends ahead of earlier writes"): at the
 * brick's end of file then, an append would land inside that earlier write and be overwritten by
 * it. An end of file above the offset (another client appended, or the kernel had a stale size)
 * is where the append goes, as with O_APPEND.
 */
function writePosition (gfFlags: number, offset: bigint, size: bigint): number {
  if ((gfFlags & GfOpenFlags.APPEND) === 0) return Number(offset)
  return Number(offset > size ? offset : size)
}

function minBig (a: bigint, b: bigint): bigint { return a < b ? a : b }


async function writeZeros (fh: FileHandle, offset: bigint, len: bigint): Promise<void> {
  const chunk = Buffer.alloc(Number(minBig(len, 1n << 20n)))
  let done = 0n
  while (done < len) {
    const n = Number(minBig(len - done, BigInt(chunk.length)))
    const r = await fh.write(chunk, 0, n, Number(offset + done))
    done += BigInt(r.bytesWritten)
  }
}

