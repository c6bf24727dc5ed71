import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { BrickStore, ROOT_KEY, SIDECAR_DIR, checkName, gfidKey, gfidBytes, newGfid, FopError } from '@gluster-ts/server'

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
