// Issue 13: "40 small SETXATTRs on a file with one 1 MiB xattr grow the journal by 55 MiB (each
// change re-logs the whole record)". The log must grow with the bytes changed, not with the size
// of the object changed. (Uses only calls older versions had, so it can be run against them.)
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { BrickStore, ROOT_KEY, gfidKey, newGfid } from '@gluster-ts/server'

const logBytes = (dir: string): number => fs.statSync(path.join(dir, '.glusterfs-ts', 'journal', 'journal.log')).size
const key = (): string => gfidKey(newGfid())

t.test('40 one-byte xattr changes next to a 64 KiB value add well under 64 KiB', async t => {
  const dir = t.testdir()
  const s = new BrickStore(dir)
  const f = key()
  const big = Buffer.alloc(65536, 0xab)
  s.addObject(f, 'f', ROOT_KEY, 'file', new Map([['user.big', big]]))
  const before = logBytes(dir)
  for (let i = 0; i < 40; i++) s.setXattrs(f, new Map([['user.small', Buffer.from([i])]]))
  s.setXattrs(f, new Map([['user.small', null]]))
  const grew = logBytes(dir) - before
  t.ok(grew < 41 * 150, `41 small changes grew the log by ${grew} bytes (at most ${41 * 150})`)
  s.close()
  const r = new BrickStore(dir)
  t.same(r.getXattr(f, 'user.big'), big, 'the big value is intact after a replay')
  t.equal(r.getXattr(f, 'user.small'), undefined)
  r.close()
})

t.test('1,000 hard links: each link adds the same few bytes, and they all replay', async t => {
  const dir = t.testdir()
  const s = new BrickStore(dir)
  const f = key()
  const dirs = Array.from({ length: 10 }, () => key())
  dirs.forEach((d, i) => { s.addObject(d, 'd', ROOT_KEY, `d${i}`) })
  s.addObject(f, 'f', ROOT_KEY, 'file')
  const growth: number[] = []
  for (let i = 0; i < 1000; i++) {
    const before = logBytes(dir)
    s.addLink(f, dirs[i % 10]!, `link-${String(i).padStart(4, '0')}`)
    growth.push(logBytes(dir) - before)
  }
  t.equal(s.links(f).length, 1001)
  const first = growth.slice(0, 100).reduce((a, b) => a + b)
  const last = growth.slice(900).reduce((a, b) => a + b)
  t.equal(last, first, `the 100 last links cost what the 100 first did (${first} bytes), not more`)
  t.ok(growth.every(g => g < 200), `every link adds under 200 bytes (most: ${Math.max(...growth)})`)
  const before = logBytes(dir)
  for (let i = 0; i < 1000; i += 2) s.removeLink(dirs[i % 10]!, `link-${String(i).padStart(4, '0')}`)
  s.moveLink(dirs[1]!, 'link-0001', ROOT_KEY, 'renamed')
  t.ok(logBytes(dir) - before < 501 * 200, 'unlinks and a rename cost a few bytes each too')
  const links = s.links(f).map(l => [...l]).sort()
  s.close()
  const r = new BrickStore(dir)
  t.same(r.links(f).map(l => [...l]).sort(), links, 'the links replay')
  t.equal(r.links(f).length, 501)
  t.equal(r.child(ROOT_KEY, 'renamed'), f)
  t.equal(r.child(dirs[0]!, 'link-0000'), undefined)
  t.equal(r.child(dirs[3]!, 'link-0003'), f)
  r.close()
})
