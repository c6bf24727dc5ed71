import t from 'tap'
import { InodeLocks, EntryLocks, PosixLocks, lockRange, RDLCK, WRLCK, UNLCK } from '@gluster-ts/server'

const connA = {}
const connB = {}
const A = { conn: connA, owner: 'aa' }
const A2 = { conn: connA, owner: 'a2' }
const B = { conn: connB, owner: 'aa' }
const whole = { ...lockRange(0n, 0n), pid: 1 }
const settled = async (p: Promise<void> | undefined): Promise<boolean> => {
  if (p === undefined) return true
  let done = false
  void p.then(() => { done = true }, () => { done = true })
  await new Promise(resolve => setImmediate(resolve))
  return done
}

t.test('inodelk: conflicts, EAGAIN, domains, blocking queue, owner identity includes the connection', async t => {
  const l = new InodeLocks()
  t.equal(l.lock('g', 'vol1-replicate-0', { owner: A, type: WRLCK, ...whole }, false), undefined)
  t.throws(() => l.lock('g', 'vol1-replicate-0', { owner: B, type: WRLCK, ...whole }, false), { code: 'EAGAIN' }, 'same lk_owner on another connection conflicts')
  t.throws(() => l.lock('g', 'vol1-replicate-0', { owner: A2, type: RDLCK, ...whole }, false), { code: 'EAGAIN' })
  t.equal(l.lock('g', 'dht.layout.heal', { owner: B, type: WRLCK, ...whole }, false), undefined, 'other domain: independent')
  t.throws(() => l.lock('g', 'vol1-replicate-0', { owner: B, type: WRLCK, start: 0x7ffffffffffffffen, end: 0xffffffffffffffffn, pid: 2 }, false), { code: 'EAGAIN' }, 'metadata range overlaps a whole-file lock')
})

t.test('inodelk blocking waiters are granted on unlock and dropped on disconnect', async t => {
  const l = new InodeLocks()
  l.lock('g', 'd', { owner: A, type: WRLCK, ...whole }, true)
  const wb = l.lock('g', 'd', { owner: B, type: WRLCK, ...whole }, true)
  t.equal(await settled(wb), false, 'B waits')
  t.equal(l.count('g', 'd'), 1)
  l.lock('g', 'd', { owner: A, type: UNLCK, ...whole }, false)
  t.equal(await settled(wb), true, 'B granted after A unlocks')
  t.equal(l.count('g'), 1)
  const wa = l.lock('g', 'd', { owner: A, type: RDLCK, start: 10n, end: 20n, pid: 1 }, true)
  t.equal(await settled(wa), false)
  l.releaseConnection(connB)
  t.equal(await settled(wa), true, 'B disconnected: its lock is gone and A gets its turn')
  const wb2 = l.lock('g', 'd', { owner: B, type: WRLCK, ...whole }, true)
  l.releaseConnection(connB)
  await t.rejects(wb2!, { code: 'ENOTCONN' }, 'a waiter of a closed connection is rejected')
  t.equal(l.lock('g', 'd', { owner: B, type: RDLCK, start: 10n, end: 20n, pid: 1 }, false), undefined, 'shared locks coexist')
})

t.test('entrylk: basename vs whole directory, shared vs exclusive', async t => {
  const e = new EntryLocks()
  t.equal(e.lock('p', 'dom', { owner: A, name: 'x', type: WRLCK }, false), undefined)
  t.equal(e.lock('p', 'dom', { owner: B, name: 'y', type: WRLCK }, false), undefined, 'other names do not conflict')
  t.throws(() => e.lock('p', 'dom', { owner: B, name: 'x', type: WRLCK }, false), { code: 'EAGAIN' })
  t.throws(() => e.lock('p', 'dom', { owner: B, name: null, type: WRLCK }, false), { code: 'EAGAIN' }, 'whole-dir lock conflicts with any name')
  const w = e.lock('p', 'dom', { owner: B, name: null, type: WRLCK }, true)
  e.unlock('p', 'dom', { owner: B, name: 'y', type: WRLCK })
  t.equal(await settled(w), false)
  t.equal(e.count('p'), 1)
  e.unlock('p', 'dom', { owner: A, name: 'x', type: WRLCK })
  t.equal(await settled(w), true)
  t.equal(e.count('p', 'anything'), 1, 'a whole-dir lock counts for every name')
})

t.test('posix locks: same owner replaces and splits, GETLK reports the conflict', async t => {
  const p = new PosixLocks()
  p.set('g', { owner: A, type: WRLCK, start: 0n, end: 99n, pid: 1 }, false)
  p.set('g', { owner: A, type: UNLCK, start: 40n, end: 59n, pid: 1 }, false)
  t.equal(p.test('g', { owner: B, type: WRLCK, start: 40n, end: 59n, pid: 2 }), undefined, 'the hole is free')
  t.match(p.test('g', { owner: B, type: RDLCK, start: 50n, end: 70n, pid: 2 }), { start: 60n, end: 99n })
  p.set('g', { owner: A, type: RDLCK, start: 0n, end: 99n, pid: 1 }, false)
  t.equal(p.test('g', { owner: B, type: RDLCK, start: 0n, end: 99n, pid: 2 }), undefined, 'downgraded to shared')
  t.equal(p.size, 1)
})
