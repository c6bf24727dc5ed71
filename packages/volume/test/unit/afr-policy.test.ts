import t from 'tap'
import { gfxDict, gfxBin, gfxUint } from '@gluster-ts/rpc'
import { superFastHash, computeReadable, readSet, selectChild, localChild, localAddresses } from '../../src/afr-policy.js'

const gfid = (s: string): Buffer => Buffer.from(s.replace(/-/g, ''), 'hex')
const pend = (d: number, m: number, e: number): Buffer => {
  const b = Buffer.alloc(12)
  b.writeInt32BE(d, 0); b.writeInt32BE(m, 4); b.writeInt32BE(e, 8)
  return b
}
const keys = ['v-client-0', 'v-client-1', 'v-client-2']

t.test('SuperFastHash vectors (libglusterfs)', async t => {
  const v: Array<[string, number, number]> = [
    ['00000000-0000-0000-0000-000000000001', 0xfe513317, 1],
    ['90fe9b55-c59e-4408-84c9-83b81cb6d172', 0xb7f4d77c, 1],
    ['39c162eb-96d0-40a7-90e3-966fc9e991d7', 0x7d57dcea, 0],
    ['28f7a13c-f33c-4059-afcb-976a284d5e82', 0xa62bd813, 0],
    ['00000000-0000-0000-0000-000000000000', 0x815470d6, 0x815470d6 % 3],
    ['6ba7b810-9dad-11d1-80b4-00c04fd430c8', 0xc2990d52, 0xc2990d52 % 3],
  ]
  for (const [g, h, m] of v) {
    t.equal(superFastHash(gfid(g)), h, g)
    t.equal(selectChild([true, true, true], { readHashMode: 1, readChild: -1, gfid: gfid(g) }), m, `${g} reads from child ${m}`)
  }
  t.equal(superFastHash(Buffer.from([7])), 1)
  t.ok(superFastHash(Buffer.from('abcde')) > 0)
  t.ok(superFastHash(Buffer.from('abcdef')) > 0)
  t.ok(superFastHash(Buffer.from('abcdefg')) > 0)
})

t.test('all clean: everyone readable', async t => {
  const r = computeReadable([0, 1, 2].map(() => ({ ok: true, isFile: true, size: 10n, xdata: gfxDict({}) })), keys)
  t.same(readSet(r), [true, true, true])
})

t.test('pending counters accuse; self-accusation counts; failed replies drop out', async t => {
  const x = gfxDict({ 'v-client-2': gfxBin(pend(1, 0, 0)) })
  const r = computeReadable([{ ok: true, isFile: true, size: 5n, xdata: x }, { ok: true, isFile: true, size: 5n, xdata: x }, { ok: true, isFile: true, size: 5n, xdata: null }], keys)
  t.same(readSet(r), [true, true, false])
  const r2 = computeReadable([{ ok: false }, { ok: true, isFile: true, size: 5n }, { ok: true, isFile: true, size: 5n }], keys)
  t.same(readSet(r2), [false, true, true])
  // metadata accusation only: data set still readable, intersection excludes it
  const m = gfxDict({ 'v-client-0': gfxBin(pend(0, 2, 0)) })
  const r3 = computeReadable([{ ok: true, isFile: true, size: 1n, xdata: m }, { ok: true, isFile: true, size: 1n }, { ok: true, isFile: true, size: 1n }], keys)
  t.same(readSet(r3), [false, true, true])
  // directories look at the entry counter
  const d = gfxDict({ 'v-client-1': gfxBin(pend(5, 0, 1)) })
  const r4 = computeReadable([{ ok: true, isDir: true, xdata: d }, { ok: true, isDir: true }, { ok: true, isDir: true }], keys)
  t.same(readSet(r4), [true, false, true])
})

t.test('split brain: no readable copy', async t => {
  const a = gfxDict({ 'v-client-1': gfxBin(pend(1, 0, 0)) })
  const b = gfxDict({ 'v-client-0': gfxBin(pend(1, 0, 0)) })
  const r = computeReadable([{ ok: true, isFile: true, size: 5n, xdata: a }, { ok: true, isFile: true, size: 5n, xdata: b }], keys.slice(0, 2))
  t.same(readSet(r), [false, false])
  t.equal(selectChild(readSet(r), { readHashMode: 1, readChild: -1, gfid: Buffer.alloc(16) }), -1)
})

t.test('smaller copies are accused unless a write is in flight; arbiter never read', async t => {
  const r = computeReadable([{ ok: true, isFile: true, size: 10n }, { ok: true, isFile: true, size: 7n }, { ok: true, isFile: true, size: 10n }], keys)
  t.same(readSet(r), [true, false, true])
  const lk = gfxDict({ 'glusterfs.inodelk-count': gfxUint(1) })
  const r2 = computeReadable([{ ok: true, isFile: true, size: 10n, xdata: lk }, { ok: true, isFile: true, size: 7n }, { ok: true, isFile: true, size: 10n }], keys)
  t.same(readSet(r2), [true, true, true])
  const r3 = computeReadable([{ ok: true, isFile: true, size: 10n }, { ok: true, isFile: true, size: 10n }, { ok: true, isFile: true, size: 0n }], keys, 1)
  t.same(readSet(r3), [true, true, false])
  const bad = gfxDict({ 'glusterfs.bad-inode': gfxUint(1) })
  t.same(readSet(computeReadable([{ ok: true, isFile: true, size: 1n, xdata: bad }, { ok: true, isFile: true, size: 1n }], keys.slice(0, 2))), [false, true])
})

t.test('selectChild: read child first, then hash, then first readable; load modes', async t => {
  const g = gfid('00000000-0000-0000-0000-000000000001') // hashes to child 1
  t.equal(selectChild([true, true, true], { readHashMode: 1, readChild: 2, gfid: g }), 2)
  t.equal(selectChild([true, false, true], { readHashMode: 1, readChild: -1, gfid: g }), 0)
  t.equal(selectChild([true, true, true], { readHashMode: 0, readChild: -1, gfid: g }), 0)
  t.equal(selectChild([true, true, true], { readHashMode: 3, readChild: -1, gfid: g, load: [4, 1, 2] }), 1)
  const m2 = selectChild([true, true, true], { readHashMode: 2, readChild: -1, gfid: g, pid: 1234 })
  t.ok(m2 >= 0 && m2 < 3)
  t.equal(selectChild([true, true, true], { readHashMode: 2, readChild: -1, gfid: g, isDir: true }), 1, 'dirs ignore the pid')
})

t.test('choose-local: the one child whose brick host is a local address', async t => {
  const local = new Set(['10.0.0.5', 'fe80::1', 'myhost'])
  t.equal(localChild(['10.0.0.4', '10.0.0.5', '10.0.0.6'], local), 1)
  t.equal(localChild(['a', 'MYHOST', 'b'], local), 1, 'hostnames, case-insensitive')
  t.equal(localChild(['a', '[fe80::1]', 'b'], local), 1, 'bracketed IPv6')
  t.equal(localChild(['a', 'b', 'c'], local), -1, 'none local')
  t.equal(localChild(['10.0.0.5', 'myhost', 'c'], local), -1, 'several local (one machine): keep the hash spread')
  t.ok(localAddresses().has('127.0.0.1'), 'loopback is local')
  t.equal(localChild(['127.0.0.1', '10.255.255.254', '10.255.255.253']), 0)
  t.equal(selectChild([true, true, true], { readHashMode: 1, readChild: 2, gfid: gfid('00000000-0000-0000-0000-000000000001') }), 2, 'the local child is read first')
  t.equal(selectChild([true, true, false], { readHashMode: 1, readChild: 2, gfid: gfid('00000000-0000-0000-0000-000000000001') }), 1, 'unless it is not readable: the hash decides')
})
