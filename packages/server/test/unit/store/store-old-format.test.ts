// Bricks written by the first version of the store: a snapshot.json document and a log of
// whole-record puts (`{k, v: {t, l, x}}`) and deletes (`{k, d: 1}`), without attrs. Written here
// by hand in that format; they must load, take new records, and compact into the new format.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { BrickStore, ROOT_KEY, encodeLine, gfidBytes } from '@gluster-ts/server'
import { dump, key } from './store-dump.js'

const VOL = '11111111-2222-3333-4444-555555555555'
const b64 = (b: Buffer | string): string => Buffer.from(b).toString('base64')

function oldBrick (dir: string, withSnapshot: boolean): { d: string, f: string, g: string, gone: string } {
  const j = path.join(dir, '.glusterfs-ts', 'journal')
  fs.mkdirSync(j, { recursive: true })
  const [d, f, g, gone] = [key(), key(), key(), key()]
  const root = { t: 'd', l: [], x: { 'trusted.glusterfs.volume-id': b64(gfidBytes(VOL)) } }
  const early = {
    [ROOT_KEY]: root,
    [d]: { t: 'd', l: [[ROOT_KEY, 'dir']], x: { 'trusted.glusterfs.dht': b64(Buffer.alloc(16, 1)) } },
    [f]: { t: 'f', l: [[d, 'file'], [ROOT_KEY, 'hard']], x: { 'trusted.afr.dirty': b64(Buffer.alloc(12)) } },
    [gone]: { t: 'f', l: [[d, 'gone']], x: {} },
  }
  const later = [
    { k: f, v: { t: 'f', l: [[d, 'file'], [ROOT_KEY, 'hard']], x: { 'trusted.afr.dirty': b64(Buffer.alloc(12)), 'user.a': b64('1') } } },
    { k: gone, d: 1 },
    { k: g, v: { t: 'l', l: [[d, 'link']], x: {} } },
    { k: d, v: { t: 'd', l: [[ROOT_KEY, 'renamed']], x: { 'trusted.glusterfs.dht': b64(Buffer.alloc(16, 1)) } } },
  ]
  const lines: Buffer[] = []
  if (withSnapshot) {
    fs.writeFileSync(path.join(j, 'snapshot.json'), JSON.stringify({ version: 1, records: early }))
  } else {
    for (const [k, v] of Object.entries(early)) lines.push(encodeLine({ k, v }))
  }
  for (const r of later) lines.push(encodeLine(r))
  fs.writeFileSync(path.join(j, 'journal.log'), Buffer.concat(lines))
  return { d, f, g, gone }
}

for (const withSnapshot of [true, false]) {
  t.test(`a version-1 brick ${withSnapshot ? 'with a snapshot.json' : 'with only a log'} loads and keeps working`, async t => {
    const dir = t.testdir()
    const { d, f, g, gone } = oldBrick(dir, withSnapshot)
    const s = new BrickStore(dir, { volumeId: VOL })
    const root = path.resolve(dir)
    t.equal(s.pathOf(f), path.join(root, 'renamed', 'file'))
    t.same(s.links(f), [[d, 'file'], [ROOT_KEY, 'hard']])
    t.equal(s.pathOf(g), path.join(root, 'renamed', 'link'))
    t.equal(s.type(g), 'l')
    t.notOk(s.has(gone))
    t.equal(s.child(d, 'gone'), undefined)
    t.same(s.getXattr(f, 'user.a'), Buffer.from('1'))
    t.same(s.getXattr(d, 'trusted.glusterfs.dht'), Buffer.alloc(16, 1))
    t.equal(s.attrs(f), undefined, 'no attrs: the brick falls back to lstat')
    // new records on top of old ones
    s.setAttrs(f, { mode: 0o100600, uid: 5, gid: 6, rdev: 0n })
    s.setXattrs(f, new Map([['user.a', null], ['user.b', Buffer.from('2')]]))
    s.moveLink(ROOT_KEY, 'hard', d, 'hard2')
    const want = dump(s, [ROOT_KEY, d, f, g])
    s.close()
    const r = new BrickStore(dir, { volumeId: VOL })
    t.same(dump(r, [ROOT_KEY, d, f, g]), want, 'old and new records replay together')
    r.compact()
    r.close()
    const j = path.join(dir, '.glusterfs-ts', 'journal')
    t.notOk(fs.existsSync(path.join(j, 'snapshot.json')), 'compaction replaced the old snapshot')
    t.ok(fs.existsSync(path.join(j, 'snapshot.log')))
    const q = new BrickStore(dir, { volumeId: VOL })
    t.same(dump(q, [ROOT_KEY, d, f, g]), want, 'and the new snapshot holds it all')
    t.throws(() => new BrickStore(dir, { volumeId: '99999999-2222-3333-4444-555555555555' }), /belongs to volume/)
    q.close()
  })
}
