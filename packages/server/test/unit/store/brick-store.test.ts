import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { randomUUID } from 'node:crypto'
import { BrickStore, ROOT_KEY, LINK_MAX, SIDECAR_DIR, checkName, gfidKey, gfidBytes, newGfid, FopError } from '@gluster-ts/server'

const VOL = '11111111-2222-3333-4444-555555555555'

t.test('root, volume-id, links, rename of a directory moves its subtree, persistence', async t => {
  const dir = t.testdir()
  const s = new BrickStore(dir, { volumeId: VOL })
  t.equal(s.pathOf(ROOT_KEY), path.resolve(dir))
  t.same(s.getXattr(ROOT_KEY, 'trusted.glusterfs.volume-id'), gfidBytes(VOL))
  t.ok(fs.statSync(path.join(dir, SIDECAR_DIR)).isDirectory())
  const d = gfidKey(newGfid())
  const f = gfidKey(newGfid())
  s.addObject(d, 'd', ROOT_KEY, 'dir')
  s.addObject(f, 'f', d, 'file', new Map([['user.a', Buffer.from('1')]]))
  t.equal(s.pathOf(f), path.join(path.resolve(dir), 'dir', 'file'))
  s.moveLink(ROOT_KEY, 'dir', ROOT_KEY, 'renamed')
  t.equal(s.pathOf(f), path.join(path.resolve(dir), 'renamed', 'file'), 'children follow a directory rename')
  s.addLink(f, ROOT_KEY, 'hard')
  t.equal(s.links(f).length, 2)
  t.same(s.removeLink(d, 'file'), { key: f, linksLeft: 1 })
  t.equal(s.pathOf(f), path.join(path.resolve(dir), 'hard'))
  s.setXattrs(f, new Map([['trusted.afr.dirty', Buffer.alloc(12)], ['user.a', null]]))
  s.close()

  const r = new BrickStore(dir, { volumeId: VOL })
  t.equal(r.pathOf(f), path.join(path.resolve(dir), 'hard'))
  t.equal(r.child(ROOT_KEY, 'renamed'), d)
  t.same([...r.xattrs(f).keys()], ['trusted.afr.dirty'])
  t.same([...r.childrenOf(ROOT_KEY).keys()].sort(), ['hard', 'renamed'])
  r.close()
  t.throws(() => new BrickStore(dir, { volumeId: '99999999-2222-3333-4444-555555555555' }), /belongs to volume/)
})

t.test('gfidKey is the canonical UUID text of the 16 bytes', async t => {
  for (let i = 0; i < 50; i++) {
    const u = randomUUID()
    t.equal(gfidKey(gfidBytes(u)), u)
  }
  t.equal(gfidKey(Buffer.from('000102030405060708090a0b0c0d0eff', 'hex')), '00010203-0405-0607-0809-0a0b0c0d0eff')
  t.throws(() => gfidKey(Buffer.alloc(15)), { code: 'EINVAL' })
})

t.test('path safety: names that could leave the directory are refused', async t => {
  for (const bad of ['', '.', '..', 'a/b', '../x', '/etc', 'a\0b']) {
    t.throws(() => { checkName('00000000-0000-0000-0000-00000000000a', bad) }, { code: 'EINVAL' }, JSON.stringify(bad))
  }
  t.throws(() => { checkName(ROOT_KEY, SIDECAR_DIR) }, { code: 'EPERM' }, 'the sidecar is off limits in the root')
  t.doesNotThrow(() => { checkName('00000000-0000-0000-0000-00000000000a', SIDECAR_DIR) }, 'elsewhere it is a plain name')
  t.throws(() => { checkName(ROOT_KEY, 'x'.repeat(256)) }, { code: 'ENAMETOOLONG' })
  const s = new BrickStore(t.testdir())
  t.teardown(() => { s.close() })
  t.throws(() => s.pathOf(gfidKey(newGfid())), { code: 'ESTALE' }, 'a foreign gfid resolves to nothing')
  t.throws(() => s.childPath(ROOT_KEY, '..'), FopError)
  const f = gfidKey(newGfid())
  s.addObject(f, 'f', ROOT_KEY, 'file')
  t.throws(() => s.childPath(f, 'x'), { code: 'ENOTDIR' }, 'a file is not a parent')
})

t.test('attrs: stored with the object, changed by small records, kept across log replay and snapshot', async t => {
  const dir = t.testdir()
  const s = new BrickStore(dir)
  const f = gfidKey(newGfid())
  const fifo = gfidKey(newGfid())
  const dev = gfidKey(newGfid())
  const d = gfidKey(newGfid())
  s.addObject(d, 'd', ROOT_KEY, 'dir', undefined, { mode: 0o40755, uid: 0, gid: 0, rdev: 0n })
  s.addObject(f, 'f', d, 'file', new Map([['user.a', Buffer.from('1')]]), { mode: 0o100644, uid: 1000, gid: 100, rdev: 0n })
  s.addObject(fifo, 'o', d, 'fifo', undefined, { mode: 0o10600, uid: 1000, gid: 100, rdev: 0n })
  // a 64-bit device number that does not fit in a double
  const big = (0xfffffn << 44n) | 0x123456789abn
  s.addObject(dev, 'o', d, 'dev', undefined, { mode: 0o20660, uid: 0, gid: 6, rdev: big })
  t.same(s.attrs(f), { mode: 0o100644, uid: 1000, gid: 100, rdev: 0n })
  t.equal(s.attrs(ROOT_KEY), undefined, 'an object recorded without attrs has none')
  s.setAttrs(f, { mode: 0o4755 })
  t.same(s.attrs(f), { mode: 0o104755, uid: 1000, gid: 100, rdev: 0n }, 'a mode without type bits keeps the type')
  s.setAttrs(f, { uid: 0xfffffffe, gid: 0 })
  s.addObject(f, 'f', ROOT_KEY, 'hard', undefined, { mode: 0o100000, uid: 1, gid: 1, rdev: 0n })
  t.equal(s.attrs(f)?.uid, 0xfffffffe, 'a new link ignores attrs')
  const want = { f: s.attrs(f), fifo: s.attrs(fifo), dev: s.attrs(dev), d: s.attrs(d) }
  t.equal(want.dev?.rdev, big)
  s.close()
  const r = new BrickStore(dir)
  t.same({ f: r.attrs(f), fifo: r.attrs(fifo), dev: r.attrs(dev), d: r.attrs(d) }, want, 'after a log replay')
  r.compact()
  r.close()
  const q = new BrickStore(dir)
  t.equal(q.journalRecovery.replayed, 0, 'all from the snapshot')
  t.same({ f: q.attrs(f), fifo: q.attrs(fifo), dev: q.attrs(dev), d: q.attrs(d) }, want, 'after a snapshot')
  q.close()
})

t.test('attrs: bad values and type changes are refused (EINVAL), unknown gfids are ESTALE', async t => {
  const s = new BrickStore(t.testdir())
  t.teardown(() => { s.close() })
  const f = gfidKey(newGfid())
  t.throws(() => { s.addObject(f, 'f', ROOT_KEY, 'x', undefined, { mode: 0o40755, uid: 0, gid: 0, rdev: 0n }) }, { code: 'EINVAL' }, 'a directory mode for a file')
  t.throws(() => { s.addObject(f, 'o', ROOT_KEY, 'x', undefined, { mode: 0o100644, uid: 0, gid: 0, rdev: 0n }) }, { code: 'EINVAL' }, 'a regular mode for a special file')
  t.throws(() => { s.addObject(f, 'f', ROOT_KEY, 'x', undefined, { mode: 0o644, uid: 0, gid: 0, rdev: 0n }) }, { code: 'EINVAL' }, 'no type bits at creation')
  t.throws(() => { s.addObject(f, 'f', ROOT_KEY, 'x', undefined, { mode: 0o100644, uid: -1, gid: 0, rdev: 0n }) }, { code: 'EINVAL' })
  t.throws(() => { s.addObject(f, 'f', ROOT_KEY, 'x', undefined, { mode: 0o100644, uid: 0, gid: 2 ** 32, rdev: 0n }) }, { code: 'EINVAL' })
  t.throws(() => { s.addObject(f, 'f', ROOT_KEY, 'x', undefined, { mode: 0o100644, uid: 0, gid: 0, rdev: 1n << 64n }) }, { code: 'EINVAL' })
  t.equal(s.has(f), false, 'nothing recorded')
  s.addObject(f, 'f', ROOT_KEY, 'x', undefined, { mode: 0o100644, uid: 0, gid: 0, rdev: 0n })
  t.throws(() => { s.setAttrs(f, { mode: 0o40755 }) }, { code: 'EINVAL' }, 'the type is fixed')
  t.throws(() => { s.setAttrs(f, { mode: 0o1177777 }) }, { code: 'EINVAL' })
  t.throws(() => { s.setAttrs(gfidKey(newGfid()), { uid: 1 }) }, { code: 'ESTALE' })
  t.throws(() => { s.setAttrs(ROOT_KEY, { mode: 0o40755 }) }, { code: 'EINVAL' }, 'an object without attrs needs all four')
  s.setAttrs(ROOT_KEY, { mode: 0o40755, uid: 0, gid: 0, rdev: 0n })
  t.same(s.attrs(ROOT_KEY), { mode: 0o40755, uid: 0, gid: 0, rdev: 0n })
})

t.test('many xattrs on one inode (the set changes form past 8): a model map agrees, before and after replay', async t => {
  const dir = t.testdir()
  const s = new BrickStore(dir)
  const f = gfidKey(newGfid())
  s.addObject(f, 'f', ROOT_KEY, 'file')
  const model = new Map<string, Buffer>()
  // names a plain object would mistake for its own (prototype) properties
  const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', ...Array.from({ length: 20 }, (_, i) => `user.n${i}`)]
  let seed = 7
  const rand = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n }
  for (let step = 0; step < 400; step++) {
    const name = names[rand(names.length)]!
    if (rand(3) === 0) {
      s.setXattrs(f, new Map([[name, null]]))
      model.delete(name)
    } else {
      const v = Buffer.from([step & 255, rand(256)])
      s.setXattrs(f, new Map([[name, v]]))
      model.set(name, v)
    }
    if (step % 50 === 0) t.same(new Map([...s.xattrs(f)].sort()), new Map([...model].sort()), `step ${step}`)
  }
  for (const name of names) t.same(s.getXattr(f, name), model.get(name), name)
  t.equal(s.getXattr(f, 'valueOf'), undefined)
  s.close()
  const r = new BrickStore(dir)
  t.same(new Map([...r.xattrs(f)].sort()), new Map([...model].sort()), 'after replay')
  r.compact()
  r.close()
  const q = new BrickStore(dir)
  t.same(new Map([...q.xattrs(f)].sort()), new Map([...model].sort()), 'after a snapshot')
  for (const name of names) q.setXattrs(f, new Map([[name, null]]))
  t.same(q.xattrs(f), new Map())
  t.equal(q.xattrBytes, 0, 'the budget is given back')
  q.close()
})

t.test('links: at most linkMax per object (EMLINK), checkLink says so beforehand', async t => {
  t.equal(LINK_MAX, 65000)
  const s = new BrickStore(t.testdir(), { linkMax: 3 })
  t.teardown(() => { s.close() })
  const f = gfidKey(newGfid())
  s.addObject(f, 'f', ROOT_KEY, 'a')
  s.addLink(f, ROOT_KEY, 'b')
  s.addLink(f, ROOT_KEY, 'c')
  t.throws(() => { s.checkLink(f) }, { code: 'EMLINK' })
  t.throws(() => { s.addLink(f, ROOT_KEY, 'd') }, { code: 'EMLINK' })
  t.doesNotThrow(() => { s.addLink(f, ROOT_KEY, 'c') }, 'an existing link is no new one')
  t.equal(s.child(ROOT_KEY, 'd'), undefined)
  t.throws(() => { s.checkLink(gfidKey(newGfid())) }, { code: 'ESTALE' })
  s.removeLink(ROOT_KEY, 'a')
  s.addLink(f, ROOT_KEY, 'd')
  t.same(s.links(f), [[ROOT_KEY, 'b'], [ROOT_KEY, 'c'], [ROOT_KEY, 'd']])
})
