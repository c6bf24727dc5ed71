// A depth-first, pre-order walk of a tree on a volume (what chmod -R, chown -R, getfattr -R and
// find visit): each entry is lstat'ed (READDIRP's attributes), symlinks are not followed, and the
// names of a directory come in byte order so that output does not depend on the bricks' order.
import { posix } from 'node:path'
import type { Stats, Volume } from '@gluster-ts/volume'
import { byteOrder } from './format.js'

export interface TreeEntry {
  /** path in the volume */
  path: string
  /** path below the starting point ('' for the starting point itself) */
  rel: string
  st: Stats
  /** 0 for the starting point */
  depth: number
}

export interface WalkOptions {
  signal: AbortSignal
  /** do not descend below this depth (find -maxdepth) */
  maxDepth?: number | undefined
}

/** The starting point (already stat'ed by the caller) and everything below it. */
export async function * walkTree (vol: Volume, path: string, st: Stats, o: WalkOptions): AsyncGenerator<TreeEntry> {
  yield * visit(vol, { path, rel: '', st, depth: 0 }, o)
}

async function * visit (vol: Volume, e: TreeEntry, o: WalkOptions): AsyncGenerator<TreeEntry> {
  yield e
  if (!e.st.isDirectory() || (o.maxDepth !== undefined && e.depth >= o.maxDepth)) return
  if (o.signal.aborted) throw o.signal.reason ?? Object.assign(new Error('aborted'), { code: 'ABORT_ERR' })
  const ents = (await vol.readdir(e.path, { withFileTypes: true, stats: true, signal: o.signal }))
    .filter(d => d.name !== '.' && d.name !== '..')
    .sort((a, b) => byteOrder(a.name, b.name))
  for (const d of ents) {
    const path = posix.join(e.path, d.name)
    const st = d.stats ?? await vol.lstat(path, { signal: o.signal })
    yield * visit(vol, { path, rel: e.rel === '' ? d.name : `${e.rel}/${d.name}`, st, depth: e.depth + 1 }, o)
  }
}

/** How a path below an argument is printed: the argument as given, then /sub/path (as find and fts join them). */
export function joinArg (arg: string, rel: string): string {
  if (rel === '') return arg
  return `${arg.endsWith('/') ? arg.slice(0, -1) : arg}/${rel}`
}
