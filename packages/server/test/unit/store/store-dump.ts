// Shared by the store tests: everything a BrickStore says about some objects, as plain data
// that t.same() can compare across restarts.
import fs from 'node:fs'
import path from 'node:path'
import { gfidKey, newGfid } from '@gluster-ts/server'
import type { BrickStore } from '@gluster-ts/server'

export interface ObjectDump {
  key: string
  type: string | undefined
  links: Array<readonly [string, string]>
  xattrs: Record<string, string>
  attrs?: { mode: number, uid: number, gid: number, rdev: string }
}

export function dump (s: BrickStore, keys: Iterable<string>): ObjectDump[] {
  return [...new Set(keys)].sort().map(key => {
    const x: Record<string, string> = {}
    for (const [k, v] of s.xattrs(key)) x[k] = v.toString('hex')
    const d: ObjectDump = { key, type: s.type(key), links: [...s.links(key)], xattrs: x }
    const a = s.attrs(key)
    if (a !== undefined) d.attrs = { ...a, rdev: a.rdev.toString() }
    return d
  })
}

export function key (): string { return gfidKey(newGfid()) }

/** Bytes of the store's journal log. */
export function logBytes (dir: string): number {
  return fs.statSync(path.join(dir, '.glusterfs-ts', 'journal', 'journal.log')).size
}
