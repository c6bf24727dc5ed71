import t from 'tap'
import type { Test } from 'tap'
import {
  BrickStore, ROOT_KEY, FopError, XATTR_NAME_MAX, XATTR_SIZE_MAX, XATTR_LIST_MAX, XATTR_INODE_MAX_BYTES,
  XATTR_INTERNAL_MAX_BYTES, XATTR_ENTRY_OVERHEAD_BYTES, isInternalXattr,
} from '@gluster-ts/server'
import { dump, key } from './store-dump.js'

function store (t: Test, opts = {}): { s: BrickStore, f: string, dir: string } {
  const dir = t.testdir()
  const s = new BrickStore(dir, opts)
  t.teardown(() => { s.close() })
  const f = key()
  s.addObject(f, 'f', ROOT_KEY, 'file')
  return { s, f, dir }
}

const set = (entries: Array<[string, Buffer | null]>): Map<string, Buffer | null> => new Map(entries)

t.test('names: 1 to 255 bytes (ERANGE otherwise, as setxattr(2) answers)', async t => {
  const { s, f } = store(t)
  const name255 = 'user.' + 'n'.repeat(XATTR_NAME_MAX - 5)
  s.setXattrs(f, set([[name255, Buffer.from('v')]]))
  t.same(s.getXattr(f, name255), Buffer.from('v'))
  t.throws(() => { s.setXattrs(f, set([[name255 + 'x', Buffer.from('v')]])) }, { code: 'ERANGE', errno: 34 })
  t.throws(() => { s.setXattrs(f, set([['', Buffer.from('v')]])) }, { code: 'ERANGE' })
  // bytes, not characters: 126 two-byte characters after "user." are 257 bytes
  t.throws(() => { s.setXattrs(f, set([['user.' + 'é'.repeat(126), Buffer.from('v')]])) }, { code: 'ERANGE' })
  t.doesNotThrow(() => { s.setXattrs(f, set([[name255, null]])) }, 'removing needs no check')
})

t.test('values: up to 65536 bytes (E2BIG beyond, XATTR_SIZE_MAX)', async t => {
  const { s, f } = store(t)
  s.setXattrs(f, set([['user.max', Buffer.alloc(XATTR_SIZE_MAX, 1)]]))
  t.equal(s.getXattr(f, 'user.max')?.length, XATTR_SIZE_MAX)
  const err = t.throws(() => { s.setXattrs(f, set([['user.over', Buffer.alloc(XATTR_SIZE_MAX + 1)]])) }, { code: 'E2BIG', errno: 7 })
  t.ok(err instanceof FopError)
  t.throws(() => { s.addObject(key(), 'f', ROOT_KEY, 'g', new Map([['user.over', Buffer.alloc(XATTR_SIZE_MAX + 1)]])) }, { code: 'E2BIG' }, 'creation xattrs are checked too')
  t.equal(s.child(ROOT_KEY, 'g'), undefined, 'and nothing was created')
  t.throws(() => { s.checkXattrs(null, new Map([['user.over', Buffer.alloc(XATTR_SIZE_MAX + 1)]])) }, { code: 'E2BIG' }, 'checkXattrs says so beforehand')
  t.throws(() => { s.checkXattrs(f, new Map([['user.max', Buffer.alloc(XATTR_SIZE_MAX + 1)]])) }, { code: 'E2BIG' })
  t.doesNotThrow(() => { s.checkXattrs(f, new Map([['user.ok', Buffer.alloc(1)]])) })
  t.equal(s.getXattr(f, 'user.ok'), undefined, 'and changes nothing')
  t.throws(() => { s.checkXattrs(key(), new Map()) }, { code: 'ESTALE' })
  const { s: small } = store(t, { xattrValueMaxBytes: 10 })
  const g = key()
  small.addObject(g, 'f', ROOT_KEY, 'g')
  t.throws(() => { small.setXattrs(g, set([['user.a', Buffer.alloc(11)]])) }, { code: 'E2BIG' }, 'the limit is an option')
})

t.test('per inode: client xattrs over 128 KiB → ENOSPC; all or nothing', async t => {
  const { s, f, dir } = store(t)
  t.equal(XATTR_INODE_MAX_BYTES, 131072)
  s.setXattrs(f, set([['user.a', Buffer.alloc(65536)], ['user.b', Buffer.alloc(65536 - 12)]]))
  const before = dump(s, [f])
  // "user.c" + 1 byte = 7 bytes; 12 + 131060 = 131072 left 0 room
  const err = t.throws(() => { s.setXattrs(f, set([['user.zz', Buffer.from('x')], ['user.a', null], ['user.c', Buffer.alloc(65536 + 20)]])) })
  t.match(err, { code: 'E2BIG' }, 'the over-long value is refused even with a removal in the same call')
  t.throws(() => { s.setXattrs(f, set([['user.c', Buffer.from('x')], ['user.d', Buffer.from('y')]])) }, { code: 'ENOSPC', errno: 28, message: /per inode/ })
  t.same(dump(s, [f]), before, 'nothing of the refused call was applied')
  s.close()
  const r = new BrickStore(dir)
  t.same(dump(r, [f]), before, 'nor logged')
  // room made in the same call counts: swap a big value for two small ones
  r.setXattrs(f, set([['user.a', null], ['user.c', Buffer.from('x')], ['user.d', Buffer.from('y')]]))
  t.same([...r.xattrs(f).keys()].sort(), ['user.b', 'user.c', 'user.d'])
  r.close()
})

t.test('per inode: the translators\' own keys never fail for the client share, and have their own', async t => {
  const { s, f } = store(t)
  t.ok(isInternalXattr('trusted.afr.vol-client-0'))
  t.ok(isInternalXattr('trusted.glusterfs.dht'))
  t.ok(isInternalXattr('trusted.glusterfs.dht.mds'))
  t.ok(isInternalXattr('trusted.glusterfs.volume-id'))
  t.ok(isInternalXattr('trusted.glusterfs-ts.times'), "the brick's own")
  t.notOk(isInternalXattr('trusted.glusterfs.mdata2'))
  t.notOk(isInternalXattr('user.afr'))
  // a client fills its share to the byte
  s.setXattrs(f, set([['user.a', Buffer.alloc(65536)], ['user.b', Buffer.alloc(65536 - 12)]]))
  t.throws(() => { s.setXattrs(f, set([['user.c', Buffer.alloc(1)]])) }, { code: 'ENOSPC' })
  // AFR and DHT still write theirs
  for (let i = 0; i < 6; i++) s.setXattrs(f, set([[`trusted.afr.vol-client-${i}`, Buffer.alloc(12, i)]]))
  s.setXattrs(f, set([['trusted.afr.dirty', Buffer.alloc(12, 1)], ['trusted.glusterfs.dht', Buffer.alloc(16, 2)]]))
  t.same(s.getXattr(f, 'trusted.afr.vol-client-5'), Buffer.alloc(12, 5))
  // but not without bound
  t.throws(() => { s.setXattrs(f, set([['trusted.afr.huge', Buffer.alloc(XATTR_INTERNAL_MAX_BYTES)]])) }, { code: 'ENOSPC', message: /translator xattrs/ })
})

t.test('per inode: names must stay listable (64 KiB with their NULs, XATTR_LIST_MAX)', async t => {
  const { s, f } = store(t)
  // 256 names of 255 bytes take exactly 65536 bytes to list; one more would not list
  const names = Array.from({ length: 257 }, (_, i) => `user.${String(i).padStart(3, '0')}`.padEnd(255, 'n'))
  s.setXattrs(f, new Map(names.slice(0, 256).map(n => [n, Buffer.alloc(0)])))
  t.equal(s.xattrs(f).size, 256)
  t.equal(256 * 256, XATTR_LIST_MAX)
  t.throws(() => { s.setXattrs(f, set([[names[256]!, Buffer.alloc(0)]])) }, { code: 'ENOSPC', message: /to list/ })
  t.throws(() => { s.setXattrs(f, set([['user.a', Buffer.alloc(0)]])) }, { code: 'ENOSPC' }, 'even a short one')
  t.doesNotThrow(() => { s.setXattrs(f, set([[names[0]!, Buffer.from('a new value for a listed name')]])) })
})

t.test('store-wide budget: ENOSPC once exceeded, for every inode; translator keys get a reserve', async t => {
  const budget = 64 * 1024
  const { s, f } = store(t, { xattrStoreMaxBytes: budget })
  const used = s.xattrBytes
  const per = 'user.x'.length + 4000 + XATTR_ENTRY_OVERHEAD_BYTES
  const fits = Math.floor((budget - used) / per)
  const files = Array.from({ length: fits + 1 }, () => key())
  files.forEach((g, i) => { s.addObject(g, 'f', ROOT_KEY, `f${i}`) })
  for (let i = 0; i < fits; i++) s.setXattrs(files[i]!, set([['user.x', Buffer.alloc(4000)]]))
  t.ok(s.xattrBytes <= budget)
  t.throws(() => { s.setXattrs(files[fits]!, set([['user.x', Buffer.alloc(4000)]])) }, { code: 'ENOSPC', message: /the store's xattrs/ }, 'another inode is refused too')
  t.throws(() => { s.addObject(key(), 'f', ROOT_KEY, 'new', new Map([['user.x', Buffer.alloc(4000)]])) }, { code: 'ENOSPC' })
  // leave 50 bytes: less than an AFR counter costs (17 + 12 + overhead)
  const room = budget - s.xattrBytes
  s.setXattrs(f, set([['user.y', Buffer.alloc(room - 50 - 'user.y'.length - XATTR_ENTRY_OVERHEAD_BYTES)]]))
  t.equal(s.xattrBytes, budget - 50)
  t.throws(() => { s.setXattrs(f, set([['user.z', Buffer.alloc(1)]])) }, { code: 'ENOSPC' }, 'a client key no longer fits')
  s.setXattrs(f, set([['trusted.afr.dirty', Buffer.alloc(12, 1)]]))
  t.same(s.getXattr(f, 'trusted.afr.dirty'), Buffer.alloc(12, 1), 'an AFR counter still fits (the reserve)')
  t.ok(s.xattrBytes > budget)
  t.throws(() => { s.setXattrs(f, set([['trusted.afr.big', Buffer.alloc(XATTR_INTERNAL_MAX_BYTES - 100)]])) }, { code: 'ENOSPC', message: /the store's xattrs/ }, 'the reserve has an end too')
  s.setXattrs(f, set([['user.y', null]]))
  // freeing space makes room again
  s.setXattrs(files[0]!, set([['user.x', null]]))
  t.doesNotThrow(() => { s.setXattrs(files[fits]!, set([['user.x', Buffer.alloc(4000)]])) })
  // the usage survives a restart (the store counts what it loads)
  const bytes = s.xattrBytes
  s.close()
  const r = new BrickStore(s.root, { xattrStoreMaxBytes: budget })
  t.equal(r.xattrBytes, bytes)
  r.close()
})
