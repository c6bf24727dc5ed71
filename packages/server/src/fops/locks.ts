// Lock fops: inodelk and entrylk (AFR/DHT transactions) and POSIX locks (LK).
import { GfLkCmd, GfEntrylkCmd } from '@gluster-ts/rpc'
import { gfidKey } from '../store/brick-store.js'
import { FopError } from '../store/fop-error.js'
import { lockRange, UNLCK } from '../locks.js'
import type { CallContext, GfProtoFlock } from '@gluster-ts/rpc'
import type { Brick } from '../brick.js'
import type { FopFn } from './reply.js'
import { ok } from './reply.js'

export const inodelk: FopFn<'INODELK'> = async (b, a, ctx) => {
  // an unlock may come after the object is gone (AFR unlocks after RMDIR/UNLINK)
  const key = a.type === UNLCK || a.flock.type === UNLCK ? gfidKey(a.gfid) : b.keyOf(a.gfid)
  await inodelkOf(b, ctx, key, a.volume, a.cmd, a.type, a.flock)
  return ok
}

export const finodelk: FopFn<'FINODELK'> = async (b, a, ctx, cs) => {
  await inodelkOf(b, ctx, b.fdKey(cs, a.fd, a.gfid), a.volume, a.cmd, a.type, a.flock)
  return ok
}

export const entrylk: FopFn<'ENTRYLK'> = async (b, a, ctx) => {
  const key = a.cmd === GfEntrylkCmd.UNLOCK ? gfidKey(a.gfid) : b.keyOf(a.gfid)
  await entrylkOf(b, ctx, key, a.volume, a.cmd, a.type, a.namelen !== 0n ? a.name : null)
  return ok
}

export const fentrylk: FopFn<'FENTRYLK'> = async (b, a, ctx, cs) => {
  await entrylkOf(b, ctx, b.fdKey(cs, a.fd, a.gfid), a.volume, a.cmd, a.type, a.namelen !== 0n ? a.name : null)
  return ok
}

export const lk: FopFn<'LK'> = async (b, a, ctx, cs) => {
  const key = b.fdKey(cs, a.fd, a.gfid)
  const owner = b.owner(ctx, a.flock.lk_owner)
  const { start, end } = lockRange(a.flock.start, a.flock.len)
  const lock = { owner, type: a.flock.type, start, end, pid: a.flock.pid }
  if (a.cmd === GfLkCmd.GETLK || a.cmd === GfLkCmd.GETLK_FD) {
    const c = b.posixLocks.test(key, lock)
    const flock: GfProtoFlock = c === undefined
      ? { ...a.flock, type: UNLCK }
      : { type: c.type, whence: 0, start: c.start, len: c.end === 0xffff_ffff_ffff_ffffn ? 0n : c.end - c.start + 1n, pid: c.pid, lk_owner: Buffer.from(c.owner.owner, 'hex') }
    return { ...ok, flock }
  }
  if (a.cmd !== GfLkCmd.SETLK && a.cmd !== GfLkCmd.SETLKW) throw new FopError('EINVAL')
  await b.posixLocks.set(key, lock, a.cmd === GfLkCmd.SETLKW)
  return { ...ok, flock: a.flock }
}

async function inodelkOf (b: Brick, ctx: CallContext, key: string, domain: string, cmd: number, type: number, flock: GfProtoFlock): Promise<void> {
  const owner = b.owner(ctx)
  const { start, end } = lockRange(flock.start, flock.len)
  const t = type === UNLCK || flock.type === UNLCK ? UNLCK : type
  if (cmd === GfLkCmd.GETLK) return
  if (cmd !== GfLkCmd.SETLK && cmd !== GfLkCmd.SETLKW) throw new FopError('EINVAL', `inodelk cmd ${cmd}`)
  await b.inodeLocks.lock(key, domain, { owner, type: t, start, end, pid: flock.pid }, cmd === GfLkCmd.SETLKW)
}

async function entrylkOf (b: Brick, ctx: CallContext, key: string, domain: string, cmd: number, type: number, name: string | null): Promise<void> {
  const lock = { owner: b.owner(ctx), name, type }
  if (cmd === GfEntrylkCmd.UNLOCK) {
    b.entryLocks.unlock(key, domain, lock)
    return
  }
  if (cmd !== GfEntrylkCmd.LOCK && cmd !== GfEntrylkCmd.LOCK_NB) throw new FopError('EINVAL', `entrylk cmd ${cmd}`)
  await b.entryLocks.lock(key, domain, lock, cmd === GfEntrylkCmd.LOCK)
}
