// EntryCache: TTL, and invalidation by gfid as GlusterFS upcalls ask.
import t from 'tap'
import { EntryCache, type Entry } from '../src/entry.js'

const GF = (n: number): string => `00000000-0000-0000-0000-${n.toString(16).padStart(12, '0')}`
function entry (gfid: string, dir = false, content?: Buffer): Entry {
  const stats = { gfid, isDirectory: () => dir, isFile: () => !dir, size: content?.length ?? 0 }
  return { stats, path: '', ...(content !== undefined ? { content } : {}), open: () => { throw new Error('not in this test') } } as unknown as Entry
}
const enoent = Object.assign(new Error('no such file'), { code: 'ENOENT' })

function make (ttlMs = 60_000): { c: EntryCache, clock: { now: number } } {
  const clock = { now: 0 }
  return { c: new EntryCache({ ttlMs, maxEntries: 100, maxBytes: 1 << 20, now: () => clock.now }), clock }
}

t.test('an invalidation drops the entries of that gfid, and only those', async t => {
  const { c } = make()
  c.setEntry('/a.txt', entry(GF(1), false, Buffer.from('old')))
  c.setEntry('/hard-link-of-a', entry(GF(1)))
  c.setEntry('/b.txt', entry(GF(2)))
  t.equal(c.invalidate({ gfid: GF(1), type: 'file' }), 2)
  t.equal(c.get('/a.txt'), undefined)
  t.equal(c.get('/hard-link-of-a'), undefined)
  t.ok(c.get('/b.txt')?.entry, 'another file stays')
  t.equal(c.invalidate({ gfid: GF(9), type: 'file' }), 0, 'a file we never cached: nothing to do')
  t.ok(c.get('/b.txt')?.entry)
})

t.test('a directory: everything cached below it goes, negative answers included', async t => {
  const { c } = make()
  c.setEntry('/d', entry(GF(10), true))
  c.setEntry('/d/x', entry(GF(11)))
  c.setError('/d/new.txt', enoent)
  c.setEntry('/dd', entry(GF(12)))
  c.setEntry('/e/y', entry(GF(13)))
  t.equal(c.invalidate({ gfid: GF(10), type: 'directory' }), 3)
  t.same(['/d', '/d/x', '/d/new.txt', '/dd', '/e/y'].map(k => c.get(k) !== undefined), [false, false, false, true, true])
})

t.test('a path the volume knew is dropped with its subtree', async t => {
  const { c } = make()
  c.setEntry('/p/q', entry(GF(20)))
  c.setError('/p/r', enoent)
  c.setEntry('/z', entry(GF(21)))
  t.equal(c.invalidate({ gfid: GF(99), path: '/p', type: 'directory' }), 2)
  t.ok(c.get('/z'))
})

t.test('a directory nobody placed: the cached "no such file" answers go (a create makes them wrong)', async t => {
  const { c } = make()
  c.setError('/somewhere/new.txt', enoent)
  c.setEntry('/somewhere/old.txt', entry(GF(30)))
  t.equal(c.invalidate({ gfid: GF(98), type: 'directory' }), 1)
  t.equal(c.get('/somewhere/new.txt'), undefined)
  t.ok(c.get('/somewhere/old.txt'))
  c.setError('/n', enoent)
  t.equal(c.invalidate({ gfid: GF(97), type: 'unknown' }), 1, 'no stat in the upcall: treated like a directory')
  c.setError('/n', enoent)
  t.equal(c.invalidate({ gfid: GF(96), type: 'file' }), 0, 'an unknown file does not touch them')
})

t.test('a LOOKUP answer overtaken by an invalidation is not stored', async t => {
  const { c } = make()
  const since = c.generation
  c.invalidate({ gfid: GF(1), type: 'file' })
  c.setEntry('/a', entry(GF(1)), since)
  c.setError('/b', enoent, since)
  t.equal(c.size, 0)
  c.setEntry('/a', entry(GF(1)), c.generation)
  t.equal(c.size, 1)
})

t.test('the TTL can change: upcalls on gives the long one', async t => {
  const { c, clock } = make(1000)
  c.setEntry('/a', entry(GF(1)))
  clock.now = 1500
  t.equal(c.get('/a'), undefined, 'short TTL expired')
  c.ttlMs = 60_000
  c.setEntry('/a', entry(GF(1)))
  clock.now = 50_000
  t.ok(c.get('/a'), 'long TTL holds')
  clock.now = 70_000
  t.equal(c.get('/a'), undefined, 'and expires too')
  c.setEntry('/a', entry(GF(1)))
  c.ttlMs = 0
  t.equal(c.size, 0, 'TTL 0 empties the cache')
})

t.test('evicted and re-set entries keep the gfid index right', async t => {
  const clock = { now: 0 }
  const c = new EntryCache({ ttlMs: 60_000, maxEntries: 2, maxBytes: 1 << 20, now: () => clock.now })
  c.setEntry('/1', entry(GF(1)))
  c.setEntry('/2', entry(GF(2)))
  c.setEntry('/3', entry(GF(1))) // evicts /1
  c.setEntry('/2', entry(GF(3))) // /2 now another object
  t.equal(c.invalidate({ gfid: GF(2), type: 'file' }), 0, '/2 is no longer gfid 2')
  t.equal(c.invalidate({ gfid: GF(1), type: 'file' }), 1, 'only /3 left with gfid 1')
  t.equal(c.invalidate({ gfid: GF(3), type: 'file' }), 1)
  t.equal(c.size, 0)
})
