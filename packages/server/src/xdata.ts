// The xdata a brick fills in and takes in (gluster-cluster.md §6.2, §6.5): requested xattrs and
// counts in LOOKUP/STAT/READDIRP replies, and the xattrs an entry-creation fop stores.
import type { BigIntStats } from 'node:fs'
import { gfxBin, gfxInt, gfxDictBin, gfxDictString, GfxDictType } from '@gluster-ts/rpc'
import type { GfxDict, GfxValue } from '@gluster-ts/rpc'
import { gfidBytes } from './store/brick-store.js'
import { FopError } from './store/fop-error.js'
import { mdataOf } from './store/posix.js'
import type { Brick } from './brick.js'

/** keys of entry-creation xdata that are never stored as xattrs (gluster-cluster.md §6.2) */
const INTERNAL_KEYS = new Set([
  'gfid-req', 'glusterfs-internal-fop', 'glusterfs.inodelk-count', 'glusterfs.entrylk-count', 'glusterfs.parent-entrylk',
  'gfidless-lookup', 'glusterfs.inodelk-dom-count', 'glusterfs.preop.parent.key', 'trusted.gfid',
])

/** xattrs never listed to clients */
export const HIDDEN_XATTRS = (k: string): boolean =>
  k === 'trusted.gfid' || k === 'trusted.glusterfs.volume-id' || k.startsWith('trusted.gfid2path.') || k === 'trusted.glusterfs.mdata' ||
  k.startsWith('trusted.glusterfs-ts.')

/**
 * The reply xdata for what `req` asks about object `key` (stat `st`). `content` (quick-read's
 * `glusterfs.content`) reads a small regular file through `read`, which opens it by its fd.
 */
export async function fillXdata (b: Brick, key: string, st: BigIntStats, req: GfxDict,
  opts: { parent?: string, name?: string, read?: (size: number) => Promise<Buffer> } = {}): Promise<GfxDict> {
  if (req === null || req.size === 0) return null
  const out = new Map<string, GfxValue>()
  const stored = b.store.xattrs(key)
  for (const [k, v] of req) {
    switch (k) {
      case 'glusterfs.content': {
        const max = v.type === GfxDictType.UINT || v.type === GfxDictType.INT ? v.value : 0n
        if (opts.read !== undefined && st.isFile() && st.size <= max && st.size > 0n && !b.opts.arbiter) {
          out.set(k, gfxBin(await opts.read(Number(st.size))))
        }
        break
      }
      case 'glusterfs.inodelk-count': out.set(k, gfxInt(b.inodeLocks.count(key))); break
      case 'glusterfs.entrylk-count': out.set(k, gfxInt(b.entryLocks.count(key))); break
      case 'glusterfs.parent-entrylk':
        if (opts.parent !== undefined && opts.name !== undefined) out.set(k, gfxInt(b.entryLocks.count(opts.parent, opts.name)))
        break
      case 'glusterfs.inodelk-dom-count': {
        const dom = gfxDictString(req, k)
        if (dom !== undefined) out.set(k, gfxInt(b.inodeLocks.count(key, dom)))
        break
      }
      case 'glusterfs.open-fd-count': out.set(k, gfxInt(b.openCount.get(key) ?? 0)); break
      case 'link-count': out.set(k, gfxInt(0)); break
      case 'trusted.glusterfs.mdata': out.set(k, gfxBin(mdataOf(b.times(key, st)))); break
      case 'list-xattr':
        for (const [xk, xv] of stored) if (!HIDDEN_XATTRS(xk)) out.set(xk, gfxBin(xv))
        break
      case 'trusted.gfid': out.set(k, gfxBin(gfidBytes(key))); break
      default: {
        const xv = HIDDEN_XATTRS(k) ? undefined : stored.get(k)
        if (xv !== undefined) out.set(k, gfxBin(xv))
      }
    }
  }
  return out.size > 0 ? out : null
}

/** The xattrs an entry-creation fop stores from its xdata (§6.2), after the preop parent check. */
export function creationXattrs (b: Brick, parent: string, xdata: GfxDict): Map<string, Buffer> {
  const out = new Map<string, Buffer>()
  if (xdata === null) return out
  const preopKey = gfxDictString(xdata, 'glusterfs.preop.parent.key')
  if (preopKey !== undefined) {
    const want = gfxDictBin(xdata, preopKey)
    const have = b.store.getXattr(parent, preopKey)
    if (want !== undefined && (have === undefined || !have.equals(want))) {
      throw Object.assign(new FopError('EIO', 'parent layout changed'), { xdata: new Map([['glusterfs.preop.check.failed', gfxInt(1)]]) })
    }
  }
  for (const [k, v] of xdata) {
    if (INTERNAL_KEYS.has(k) || k === preopKey) continue
    if (!/^(trusted|user|security|system)\./.test(k)) continue
    if (v.type === GfxDictType.PTR || v.type === GfxDictType.STR_OLD) out.set(k, v.value)
    else if (v.type === GfxDictType.STR) out.set(k, Buffer.from(v.value, 'utf8'))
  }
  return out
}
