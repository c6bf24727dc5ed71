// Extended attributes (kept in the store) and XATTROP, the counters AFR keeps in them.
import path from 'node:path'
import { GfXattropFlags, GfXattrFlags, gfxBin, gfxIatt, GfxDictType } from '@gluster-ts/rpc'
import { gfidBytes, ROOT_KEY } from '../store/brick-store.js'
import { checkXattrRead, checkXattrWrite, xattrListed } from '../access.js'
import type { Principal } from '../access.js'
import { FopError } from '../store/fop-error.js'
import { mdataOf, ZERO_IATT } from '../store/posix.js'
import { HIDDEN_XATTRS } from '../xdata.js'
import type { GfxDict, GfxValue } from '@gluster-ts/rpc'
import type { Brick } from '../brick.js'
import type { FopFn } from './reply.js'
import { ok } from './reply.js'

export const getxattr: FopFn<'GETXATTR'> = async (b, a, ctx) => {
  return getxattrOf(b, b.principal(ctx, a.xdata), b.keyOf(a.gfid), a.namelen === 0 ? '' : a.name)
}

export const fgetxattr: FopFn<'FGETXATTR'> = async (b, a, ctx, cs) => {
  return getxattrOf(b, b.principal(ctx, a.xdata), b.fdKey(cs, a.fd, a.gfid), a.namelen === 0 ? '' : a.name)
}

export const setxattr: FopFn<'SETXATTR'> = async (b, a, ctx) => {
  return setxattrOf(b, b.principal(ctx, a.xdata), b.keyOf(a.gfid), a.dict, a.flags, a.xdata)
}

export const fsetxattr: FopFn<'FSETXATTR'> = async (b, a, ctx, cs) => {
  return setxattrOf(b, b.principal(ctx, a.xdata), b.fdKey(cs, a.fd, a.gfid), a.dict, a.flags, a.xdata)
}

export const removexattr: FopFn<'REMOVEXATTR'> = async (b, a, ctx) => {
  return removexattrOf(b, b.principal(ctx, a.xdata), b.keyOf(a.gfid), a.name)
}

export const fremovexattr: FopFn<'FREMOVEXATTR'> = async (b, a, ctx, cs) => removexattrOf(b, b.principal(ctx, a.xdata), b.fdKey(cs, a.fd, a.gfid), a.name)

export const xattrop: FopFn<'XATTROP'> = async (b, a) => {
  const key = b.keyOf(a.gfid)
  return { ...ok, dict: xattropOf(b, key, a.flags, a.dict), prestat: ZERO_IATT, poststat: ZERO_IATT }
}

export const fxattrop: FopFn<'FXATTROP'> = async (b, a, _ctx, cs) => {
  const key = b.fdKey(cs, a.fd, a.gfid)
  return { ...ok, dict: xattropOf(b, key, a.flags, a.dict), prestat: ZERO_IATT, poststat: ZERO_IATT }
}

/** GETXATTR: one name (read rules of access.ts checkXattrRead), or all (name ''; trusted.* only for privileged callers). */
async function getxattrOf (b: Brick, who: Principal, key: string, name: string): Promise<any> {
  const dict = new Map<string, GfxValue>()
  if (name !== '') checkXattrRead(who, await b.attrsNow(key), name)
  if (name === '') {
    let total = 0
    for (const [k, v] of b.store.xattrs(key)) {
      if (HIDDEN_XATTRS(k) || !xattrListed(who, k)) continue
      dict.set(k, gfxBin(v))
      total += Buffer.byteLength(k) + 1
    }
    return { ...ok, op_ret: total, dict, prestat: ZERO_IATT, poststat: ZERO_IATT }
  }
  if (name === 'trusted.glusterfs.pathinfo' || name === 'glusterfs.pathinfo') {
    // the path is text for the client (which brick holds the file), never used to reach it
    const rel = path.relative(b.opts.dir, b.store.pathOf(key))
    const real = rel === '' ? `${b.opts.brickPath}/` : `${b.opts.brickPath}/${rel}`
    const v = `<POSIX(${b.opts.brickPath}):${b.opts.hostname}:${real}>`
    dict.set(name, { type: GfxDictType.STR, value: v })
    return { ...ok, op_ret: Buffer.byteLength(v) + 1, dict, prestat: ZERO_IATT, poststat: ZERO_IATT }
  }
  if (name === 'trusted.gfid') {
    dict.set(name, gfxBin(gfidBytes(key)))
    return { ...ok, op_ret: 16, dict, prestat: ZERO_IATT, poststat: ZERO_IATT }
  }
  if (name === 'trusted.glusterfs.mdata') {
    const v = mdataOf(b.times(key, await b.backend.lstat(key)))
    dict.set(name, gfxBin(v))
    return { ...ok, op_ret: v.length, dict, prestat: ZERO_IATT, poststat: ZERO_IATT }
  }
  const v = b.store.getXattr(key, name)
  if (v === undefined) throw new FopError('ENODATA')
  dict.set(name, gfxBin(v))
  return { ...ok, op_ret: v.length, dict, prestat: ZERO_IATT, poststat: ZERO_IATT }
}

/** SETXATTR: write rules per name (access.ts checkXattrWrite); the ctime moves, as for any xattr change. */
async function setxattrOf (b: Brick, who: Principal, key: string, dict: GfxDict, flags: number, xdata: GfxDict): Promise<any> {
  const changes = new Map<string, Buffer | null>()
  const attrs = await b.attrsNow(key)
  const pre = xdata?.has('dht-get-iatt-in-xattr') === true ? await b.iattOf(key) : undefined
  for (const [k, v] of dict ?? []) {
    if (k === 'set-ctime-mdata' || k === 'trusted.gfid' || k === 'trusted.glusterfs.volume-id' || k === 'trusted.glusterfs.mdata') continue
    if (k.startsWith('trusted.glusterfs-ts.')) throw new FopError('EPERM', `${k} is the brick's own`)
    if (k.startsWith('trusted.gfid2path.')) throw new FopError('EOPNOTSUPP')
    checkXattrWrite(who, attrs, k)
    let value: Buffer
    if (v.type === GfxDictType.PTR || v.type === GfxDictType.STR_OLD) value = v.value
    else if (v.type === GfxDictType.STR) value = Buffer.from(v.value + '\0', 'utf8')
    else if (v.type === GfxDictType.INT || v.type === GfxDictType.UINT) value = Buffer.from(`${v.value}\0`, 'utf8')
    else continue
    const exists = b.store.getXattr(key, k) !== undefined
    if ((flags & GfXattrFlags.CREATE) !== 0 && exists) throw new FopError('EEXIST')
    if ((flags & GfXattrFlags.REPLACE) !== 0 && !exists) throw new FopError('ENODATA')
    changes.set(k, value)
  }
  if (changes.size > 0) {
    b.store.setXattrs(key, changes)
    await touch(b, key)
  }
  if (pre !== undefined) {
    const post = await b.iattOf(key)
    return { ...ok, xdata: new Map([['virt-gf-prestat', gfxIatt(pre)], ['virt-gf-poststat', gfxIatt(post)]]) }
  }
  return ok
}

async function removexattrOf (b: Brick, who: Principal, key: string, name: string): Promise<any> {
  if (name === 'trusted.gfid' || name === 'trusted.glusterfs.volume-id' || name.startsWith('trusted.gfid2path.') || name.startsWith('trusted.glusterfs-ts.')) throw new FopError('EPERM')
  checkXattrWrite(who, await b.attrsNow(key), name)
  if (b.store.getXattr(key, name) === undefined) throw new FopError('ENODATA')
  b.store.setXattrs(key, new Map([[name, null]]))
  await touch(b, key)
  return ok
}

/**
 * XATTROP: combine each value with the stored one and return the results (§4.1). Runs without
 * an await between reading and writing, so it is atomic against every other call.
 */
function xattropOf (b: Brick, key: string, flags: number, dict: GfxDict): Map<string, GfxValue> {
  const out = new Map<string, GfxValue>()
  const changes = new Map<string, Buffer>()
  for (const [k, v] of dict ?? []) {
    if (v.type !== GfxDictType.PTR && v.type !== GfxDictType.STR_OLD) throw new FopError('EINVAL', `xattrop ${k}: value is not binary`)
    const req = v.value
    const cur = b.store.getXattr(key, k) ?? Buffer.alloc(req.length)
    let result: Buffer
    switch (flags) {
      case GfXattropFlags.ADD_ARRAY:
      case GfXattropFlags.ADD_ARRAY_WITH_DEFAULT:
        result = combine(cur, req, 4, (a, b) => (a + b) | 0)
        break
      case GfXattropFlags.ADD_ARRAY64:
      case GfXattropFlags.ADD_ARRAY64_WITH_DEFAULT: {
        if (req.length % 8 !== 0) throw new FopError('EINVAL')
        const c = cur.length === req.length ? cur : Buffer.alloc(req.length)
        result = Buffer.alloc(req.length)
        for (let i = 0; i < req.length; i += 8) result.writeBigInt64BE(BigInt.asIntN(64, c.readBigInt64BE(i) + req.readBigInt64BE(i)), i)
        break
      }
      case GfXattropFlags.OR_ARRAY: result = combine(cur, req, 4, (a, b) => (a | b)); break
      case GfXattropFlags.AND_ARRAY: result = combine(cur, req, 4, (a, b) => (a & b)); break
      case GfXattropFlags.GET_AND_SET:
        out.set(k, gfxBin(cur))
        changes.set(k, req)
        continue
      default: throw new FopError('EINVAL', `xattrop flags ${flags}`)
    }
    if (req.some(b => b !== 0)) changes.set(k, result)
    out.set(k, gfxBin(result))
  }
  if (changes.size > 0) b.store.setXattrs(key, changes)
  return out
}

/** The ctime of an object whose xattrs changed (the backend does not see them): moved on its inode. */
async function touch (b: Brick, key: string): Promise<void> {
  if (b.store.links(key).length === 0 && key !== ROOT_KEY) return // unlinked while open: no name to reach it by
  await b.withObject(key, o => b.touchCtime({ fd: o.fd }))
}

function combine (cur: Buffer, req: Buffer, width: 4, f: (a: number, b: number) => number): Buffer {
  if (req.length % width !== 0) throw new FopError('EINVAL', 'xattrop value is not a whole number of int32s')
  const c = cur.length === req.length ? cur : Buffer.alloc(req.length)
  const out = Buffer.alloc(req.length)
  for (let i = 0; i < req.length; i += width) out.writeInt32BE(f(c.readInt32BE(i), req.readInt32BE(i)) | 0, i)
  return out
}

