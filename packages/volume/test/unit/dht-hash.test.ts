import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dmHash, hashName } from '../../src/dht-hash.js'
import { decodeLayoutXattr, makeLayout, hashedSubvol, layoutSearch, newDirectoryLayout, isLinkto, encodeLayoutXattr } from '../../src/dht-layout.js'

t.test('gf_dm_hashfn vectors (gluster-cluster.md §5.1, checked against libglusterfs)', async t => {
  const v: Array<[string | Buffer, number]> = [
    ['', 0x884774a2], ['a', 0x3a17e4e6], ['ab', 0xc3af40d9], ['abc', 0xba8bd29a], ['abcd', 0xd89627f6],
    ['abcde', 0x0a45ccec], ['file1', 0xa787fa82], ['file2', 0xa7b6b0e5], ['hello.txt', 0xe68d61cc],
    ['0123456789abcdef', 0x6ecb5ada], ['0123456789abcdefg', 0x7f5d9903],
    ['a-much-longer-file-name-for-testing.dat', 0x36009985], ['café', 0x9e089967], ['été', 0xa2e5c9e9],
    [Buffer.from([0xff]), 0xee42408a], ['/', 0x8619bd58], ['/d', 0xe7ba4bc1], ['/dir1', 0xc8cb193d],
  ]
  for (const [name, h] of v) t.equal(dmHash(name), h, `${JSON.stringify(name.toString())} → 0x${h.toString(16)}`)
})

t.test('rsync-hash-regex munging', async t => {
  const re = /^\.(.+)\.[^.]+$/
  t.equal(hashName('.foo.XYZ123', re), 'foo')
  t.equal(hashName('.bashrc', re), '.bashrc')
  t.equal(hashName('.a.b', re), 'a')
  t.equal(hashName('.x.tar.gz', re), 'x.tar')
  t.equal(hashName('.x.tar.gz', null), '.x.tar.gz')
  t.equal(hashName('data-7.bin', re, /^data-(\d+)/), '7')
})

// The real cluster's placement of d/f0..f9.bin over vol2's two replica sets (vol2-placement.txt)
const placement = readFileSync(fileURLToPath(new URL('../fixtures/vol2-placement.txt', import.meta.url)), 'utf8')

t.test('golden placement from the real 2 x 3 volume', async t => {
  const where = new Map<string, number>()
  for (const m of placement.matchAll(/<REPLICATE:vol2-replicate-(\d)> <POSIX\([^)]*\):[^:]*:[^>]*\/d\/(f\d\.bin)>/g)) where.set(m[2]!, Number(m[1]))
  t.equal(where.size, 10)
  const ranges: Array<ReturnType<typeof decodeLayoutXattr>> = [undefined, undefined]
  for (const m of placement.matchAll(/^n1\/vol2([ab]): trusted\.glusterfs\.dht=0x([0-9a-f]{32})$/gm)) {
    const sub = m[1] === 'a' ? 0 : 1
    ranges[sub] = decodeLayoutXattr(Buffer.from(m[2]!, 'hex'), sub)
  }
  const layout = makeLayout(ranges)
  t.ok(layout.complete, 'the two ranges cover the hash space')
  t.same(layout.ranges.map(r => [r.subvol, r.start, r.stop]), [[1, 0, 0x7ffffffe], [0, 0x7fffffff, 0xffffffff]])
  for (const [name, sub] of where) {
    t.equal(hashedSubvol(layout, name, { rsyncRegex: /^\.(.+)\.[^.]+$/, extraRegex: null }), sub, `${name} → vol2-replicate-${sub}`)
  }
  // and mkdir's layout for /d over two subvolumes is the one on disk
  const fresh = newDirectoryLayout('/d', 2)
  t.same(fresh.ranges.map(r => [r.subvol, r.start, r.stop]), layout.ranges.map(r => [r.subvol, r.start, r.stop]))
  const root = newDirectoryLayout('/', 2)
  t.same(root.ranges.map(r => [r.subvol, r.start, r.stop]), [[0, 0, 0x7ffffffe], [1, 0x7fffffff, 0xffffffff]])
})

t.test('layout edge cases', async t => {
  t.equal(makeLayout([]).complete, false)
  const holey = makeLayout([{ subvol: 0, start: 0, stop: 10, commitHash: 0 }, { subvol: 1, start: 20, stop: 0xffffffff, commitHash: 0 }])
  t.equal(holey.complete, false)
  t.equal(layoutSearch(holey, 15), -1)
  t.equal(layoutSearch(holey, 5), 0)
  t.same(makeLayout([{ subvol: 0, start: 0, stop: 0, commitHash: 0 }, { subvol: 1, start: 0, stop: 0xffffffff, commitHash: 0 }]).ranges.length, 1, 'zero range holds nothing')
  t.equal(decodeLayoutXattr(Buffer.alloc(4), 0), undefined)
  const x = encodeLayoutXattr({ commitHash: 1, start: 0x7fffffff, stop: 0xffffffff })
  t.equal(x.toString('hex'), '00000001000000007fffffffffffffff')
  t.ok(isLinkto(0o101000, 'vol2-replicate-1'))
  t.notOk(isLinkto(0o100644, 'vol2-replicate-1'))
  t.notOk(isLinkto(0o101000, undefined))
  t.equal(newDirectoryLayout('/x', 1).ranges[0]!.stop, 0xffffffff)
  t.ok(newDirectoryLayout('/x', 3).complete)
})
