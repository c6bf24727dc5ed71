// The store's delta records replayed: cut anywhere (a SIGKILL mid-write), after random sequences
// of link, rename, unlink, xattr and attr changes, across compactions, and over a snapshot that
// already holds them (a crash between writing the snapshot and emptying the log).
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import { BrickStore, ROOT_KEY } from '@gluster-ts/server'
import type { BrickStoreOptions } from '@gluster-ts/server'
import { dump, key, logBytes } from './store-dump.js'
import type { ObjectDump } from './store-dump.js'

const logOf = (dir: string): string => path.join(dir, '.glusterfs-ts', 'journal', 'journal.log')

t.test('each record type: a cut anywhere in it leaves the state before it, and later appends replay', async t => {
  const dir = t.testdir()
  const s = new BrickStore(dir)
  const d = key()
  const f = key()
  s.addObject(d, 'd', ROOT_KEY, 'dir', undefined, { mode: 0o40755, uid: 0, gid: 0, rdev: 0n })
  const keys = [ROOT_KEY, d, f]
  const steps: Array<[string, () => void]> = [
    ['new object', () => { s.addObject(f, 'f', d, 'file', new Map([['user.big', Buffer.alloc(300, 7)]]), { mode: 0o100644, uid: 1, gid: 2, rdev: 0n }) }],
    ['link added', () => { s.addLink(f, ROOT_KEY, 'hard') }],
    ['xattrs set and removed', () => { s.setXattrs(f, new Map([['user.big', null], ['trusted.afr.dirty', Buffer.alloc(12, 1)]])) }],
    ['attrs', () => { s.setAttrs(f, { mode: 0o2750, gid: 9 }) }],
    ['link renamed', () => { s.moveLink(d, 'file', ROOT_KEY, 'moved') }],
    ['link removed', () => { s.removeLink(ROOT_KEY, 'hard') }],
    ['last link removed, record kept (open)', () => { s.removeLink(ROOT_KEY, 'moved', { keepRecord: true }) }],
    ['object deleted', () => { s.forget(f) }],
  ]
  const states: ObjectDump[][] = [dump(s, keys)]
  const sizes = [logBytes(dir)]
  for (const [, step] of steps) {
    step()
    states.push(dump(s, keys))
    sizes.push(logBytes(dir))
  }
  s.close()
  const whole = fs.readFileSync(logOf(dir))
  for (const [i, [name]] of steps.entries()) {
    t.equal(whole.subarray(sizes[i]!, sizes[i + 1]!).filter(b => b === 0x0a).length, 1, `${name} is one line`)
    const wrong: number[] = []
    for (let cut = sizes[i]!; cut < sizes[i + 1]!; cut++) {
      fs.writeFileSync(logOf(dir), whole.subarray(0, cut))
      const r = new BrickStore(dir)
      try {
        if (r.journalRecovery.droppedBytes !== cut - sizes[i]! || !isDeepStrictEqual(dump(r, keys), states[i])) wrong.push(cut)
      } finally {
        r.close()
      }
    }
    t.same(wrong, [], `${name}: every cut in its line (${sizes[i + 1]! - sizes[i]!} bytes) gives the state before it`)
    // an append after a recovered cut replays (the torn bytes were cut away first)
    fs.writeFileSync(logOf(dir), whole.subarray(0, sizes[i + 1]! - 1))
    const r = new BrickStore(dir)
    const extra = key()
    r.addObject(extra, 'f', ROOT_KEY, `after-${i}`)
    r.close()
    const p = new BrickStore(dir)
    t.ok(p.has(extra), `${name}: a record appended after the cut replays`)
    t.same(dump(p, keys), states[i])
    p.close()
    // the whole line gives the state after it
    fs.writeFileSync(logOf(dir), whole.subarray(0, sizes[i + 1]!))
    const q = new BrickStore(dir)
    t.same(dump(q, keys), states[i + 1], `${name}: the whole line replays`)
    q.close()
  }
})

/** The operations a brick makes, on a few directories, names and files. */
type Op =
  | { op: 'create', dir: number, name: number }
  | { op: 'link', file: number, dir: number, name: number }
  | { op: 'unlink', dir: number, name: number, keep: boolean }
  | { op: 'move', dir: number, name: number, dir2: number, name2: number }
  | { op: 'forget', file: number }
  | { op: 'xattr', file: number, name: number, value: number | null }
  | { op: 'attrs', file: number, mode: number }
  | { op: 'compact' }

const idx = fc.nat({ max: 4 })
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('create' as const), dir: idx, name: idx }),
  fc.record({ op: fc.constant('link' as const), file: fc.nat({ max: 30 }), dir: idx, name: idx }),
  fc.record({ op: fc.constant('unlink' as const), dir: idx, name: idx, keep: fc.boolean() }),
  fc.record({ op: fc.constant('move' as const), dir: idx, name: idx, dir2: idx, name2: idx }),
  fc.record({ op: fc.constant('forget' as const), file: fc.nat({ max: 30 }) }),
  fc.record({ op: fc.constant('xattr' as const), file: fc.nat({ max: 30 }), name: fc.nat({ max: 2 }), value: fc.option(fc.nat({ max: 255 })) }),
  fc.record({ op: fc.constant('attrs' as const), file: fc.nat({ max: 30 }), mode: fc.nat({ max: 0o7777 }) }),
  fc.constant({ op: 'compact' as const }),
)

/** Run `ops` on a fresh store; returns it with the keys it made. */
function run (dir: string, ops: Op[], opts: BrickStoreOptions = {}): { s: BrickStore, keys: string[] } {
  const s = new BrickStore(dir, opts)
  const dirs = [ROOT_KEY, key(), key(), key(), key()]
  dirs.slice(1).forEach((d, i) => { s.addObject(d, 'd', ROOT_KEY, `dir${i}`) })
  const files: string[] = []
  const name = (i: number): string => `n${i}`
  for (const o of ops) {
    switch (o.op) {
      case 'create': {
        const f = key()
        files.push(f)
        s.addObject(f, 'f', dirs[o.dir]!, name(o.name), undefined, { mode: 0o100644, uid: files.length, gid: 0, rdev: 0n })
        break
      }
      case 'link': {
        const f = files[o.file % Math.max(files.length, 1)]
        if (f !== undefined && s.has(f)) s.addLink(f, dirs[o.dir]!, name(o.name))
        break
      }
      case 'unlink': s.removeLink(dirs[o.dir]!, name(o.name), { keepRecord: o.keep }); break
      case 'move': {
        const moved = s.child(dirs[o.dir]!, name(o.name))
        if (moved === undefined || s.type(moved) === 'd') break
        const { replaced } = s.moveLink(dirs[o.dir]!, name(o.name), dirs[o.dir2]!, name(o.name2))
        if (replaced !== undefined && replaced.linksLeft === 0) s.forget(replaced.key)
        break
      }
      case 'forget': {
        const f = files[o.file % Math.max(files.length, 1)]
        if (f !== undefined) s.forget(f)
        break
      }
      case 'xattr': {
        const f = files[o.file % Math.max(files.length, 1)]
        if (f !== undefined && s.has(f)) s.setXattrs(f, new Map([[`user.x${o.name}`, o.value === null ? null : Buffer.from([o.value])]]))
        break
      }
      case 'attrs': {
        const f = files[o.file % Math.max(files.length, 1)]
        if (f !== undefined && s.has(f)) s.setAttrs(f, { mode: o.mode })
        break
      }
      case 'compact': s.compact(); break
    }
  }
  return { s, keys: [...dirs, ...files] }
}

/** Every link of every object is its directory's entry, and every entry is a link. */
function consistent (s: BrickStore, keys: string[]): boolean {
  let entries = 0
  for (const k of keys) {
    for (const [p, n] of s.links(k)) if (s.child(p, n) !== k) return false
    entries += s.childrenOf(k).size
  }
  return entries === keys.reduce((a, k) => a + s.links(k).length, 0)
}

const sortedLinks = (d: ObjectDump[]): ObjectDump[] => d.map(o => ({ ...o, links: [...o.links].sort() }))

/** Does the store in `dir`, opened again, hold `want` (compared through `view`) and stay consistent? */
function reopensAs (dir: string, keys: string[], want: ObjectDump[], view = (d: ObjectDump[]): ObjectDump[] => d): boolean {
  const r = new BrickStore(dir)
  try {
    return isDeepStrictEqual(view(dump(r, keys)), view(want)) && consistent(r, keys)
  } finally {
    r.close()
  }
}

t.test('random link, rename, unlink, xattr and attr sequences replay to the same state', async t => {
  const base = t.testdir()
  let n = 0
  fc.assert(fc.property(fc.array(opArb, { maxLength: 60 }), fc.nat({ max: 20 }), (ops, every) => {
    const dir = path.join(base, String(n++))
    // small compactEvery: automatic compactions land anywhere in the sequence
    const { s, keys } = run(dir, ops, { compactEvery: every + 3 })
    const want = dump(s, keys)
    const before = consistent(s, keys)
    s.close()
    return before && reopensAs(dir, keys, want)
  }), { numRuns: 100, seed: 13 })
  t.pass('100 sequences replayed')
})

t.test('a crash between writing the snapshot and emptying the log: the old log over the new snapshot changes nothing', async t => {
  const base = t.testdir()
  let n = 0
  fc.assert(fc.property(fc.array(opArb, { maxLength: 60 }), ops => {
    const dir = path.join(base, String(n++))
    const { s, keys } = run(dir, ops.filter(o => o.op !== 'compact'), { compactEvery: 1e9 })
    const log = fs.readFileSync(logOf(dir))
    s.compact()
    const want = dump(s, keys)
    s.close()
    fs.writeFileSync(logOf(dir), log)
    // the links are the same set; which one comes first may differ, and any of them is a path
    return reopensAs(dir, keys, want, sortedLinks)
  }), { numRuns: 100, seed: 13 })
  t.pass('100 sequences replayed over their own snapshot')
})

t.test('replaying the tricky sequences over their snapshot', async t => {
  // rename a → b → c, and a name taken by a new object after an unlink
  const dir = t.testdir()
  const s = new BrickStore(dir)
  const [f, g, h] = [key(), key(), key()]
  s.addObject(f, 'f', ROOT_KEY, 'a')
  s.moveLink(ROOT_KEY, 'a', ROOT_KEY, 'b')
  s.moveLink(ROOT_KEY, 'b', ROOT_KEY, 'c')
  s.addObject(g, 'f', ROOT_KEY, 'x')
  s.removeLink(ROOT_KEY, 'x')
  s.addObject(h, 'f', ROOT_KEY, 'x')
  s.addLink(h, ROOT_KEY, 'y')
  s.moveLink(ROOT_KEY, 'c', ROOT_KEY, 'y')
  const log = fs.readFileSync(logOf(dir))
  s.compact()
  const want = dump(s, [ROOT_KEY, f, g, h])
  s.close()
  fs.writeFileSync(logOf(dir), log)
  const r = new BrickStore(dir)
  t.same(sortedLinks(dump(r, [ROOT_KEY, f, g, h])), sortedLinks(want))
  t.equal(r.child(ROOT_KEY, 'y'), f)
  t.equal(r.child(ROOT_KEY, 'x'), h)
  t.same(r.links(h), [[ROOT_KEY, 'x']])
  t.notOk(r.has(g))
  r.close()
})
