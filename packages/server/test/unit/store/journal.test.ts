import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { Journal, parseLine, encodeLine } from '@gluster-ts/server'
import type { JournalRecord, JournalState } from '@gluster-ts/server'

/** The simplest owner: a key → value map whose records are puts `{k, v}` and deletes `{k, d}`. */
class KV implements JournalState {
  readonly map = new Map<string, unknown>()
  apply (r: JournalRecord): void {
    if (r.d !== undefined) this.map.delete(r.k as string)
    else this.map.set(r.k as string, r.v)
  }

  * records (): Generator<JournalRecord> {
    for (const [k, v] of this.map) yield { k, v }
  }
}

function open (dir: string, opts = {}): { j: Journal, kv: KV } {
  const kv = new KV()
  return { j: Journal.open(dir, kv, opts), kv }
}

t.test('records survive a reopen', async t => {
  const dir = t.testdir()
  const { j, kv } = open(dir)
  j.commit({ k: 'a', v: 1 })
  j.commit({ k: 'b', v: 2 })
  j.commit({ k: 'a', v: 3 })
  j.commit({ k: 'b', d: 1 })
  t.same([...kv.map], [['a', 3]], 'commit applies the record')
  j.close()
  t.throws(() => { j.commit({ k: 'c', v: 1 }) }, /closed/)
  const k = open(dir)
  t.same([...k.kv.map], [['a', 3]])
  t.same(k.j.recovery, { replayed: 4, droppedBytes: 0 })
  k.j.close()
})

t.test('a torn last record (process killed mid-write) is dropped and truncated away', async t => {
  const dir = t.testdir()
  const { j } = open(dir)
  j.commit({ k: 'x', v: 'one' })
  j.commit({ k: 'y', v: 'two' })
  j.close()
  const log = path.join(dir, 'journal.log')
  const whole = fs.readFileSync(log)
  const firstEnd = whole.indexOf(0x0a) + 1
  // every cut inside the second record leaves exactly the first one
  for (let cut = firstEnd; cut < whole.length; cut++) {
    fs.writeFileSync(log, whole.subarray(0, cut))
    const k = open(dir)
    t.same([...k.kv.map], [['x', 'one']], `cut at ${cut}`)
    t.equal(k.j.recovery.droppedBytes, cut - firstEnd)
    k.j.commit({ k: 'z', v: 'three' })
    k.j.close()
    const m = open(dir)
    t.same([...m.kv.map].sort(), [['x', 'one'], ['z', 'three']], 'appends after recovery start on a clean line')
    m.j.close()
  }
})

t.test('a corrupt record (bad CRC) ends the replay', async t => {
  const dir = t.testdir()
  const { j } = open(dir)
  j.commit({ k: 'x', v: 'one' })
  j.commit({ k: 'y', v: 'two' })
  j.close()
  const log = path.join(dir, 'journal.log')
  const b = fs.readFileSync(log)
  b[b.length - 3]! ^= 0x20
  fs.writeFileSync(log, b)
  const k = open(dir)
  t.same([...k.kv.map], [['x', 'one']])
  k.j.close()
  t.equal(parseLine(Buffer.from('zz'), 0), undefined)
  t.equal(parseLine(Buffer.from('00000000 5 {}\n'), 0), undefined)
  t.equal(parseLine(Buffer.from('0000000g 2 {}\n'), 0), undefined, 'the CRC must be hex')
  t.equal(parseLine(Buffer.from('00000000 -2 {}\n'), 0), undefined, 'the length must be digits')
  const line = encodeLine({ a: 1 })
  t.same(parseLine(line, 0), { value: { a: 1 }, next: line.length })
})

t.test('lines longer than a read chunk and lines across chunk boundaries replay', async t => {
  const dir = t.testdir()
  const { j } = open(dir, { compactEvery: 1e9, compactLogBytes: 1e12 })
  const big = 'b'.repeat(3 * 1024 * 1024)
  for (let i = 0; i < 300; i++) j.commit({ k: `k${i}`, v: 'x'.repeat(10000 + i) })
  j.commit({ k: 'big', v: big })
  j.commit({ k: 'after', v: 1 })
  j.close()
  const k = open(dir)
  t.equal(k.kv.map.size, 302)
  t.equal(k.kv.map.get('big'), big)
  t.equal((k.kv.map.get('k299') as string).length, 10299)
  t.equal(k.kv.map.get('after'), 1)
  t.equal(k.j.recovery.droppedBytes, 0)
  k.j.close()
})

t.test('compaction writes a snapshot and empties the log; a crash between the two is harmless', async t => {
  const dir = t.testdir()
  const { j, kv } = open(dir, { compactEvery: 10 })
  for (let i = 0; i < 25; i++) j.commit({ k: `k${i % 7}`, v: i })
  const expected = [...kv.map].sort()
  j.close()
  t.ok(fs.existsSync(path.join(dir, 'snapshot.log')))
  const k = open(dir)
  // the record that set off a compaction is in the snapshot (i = 9 and 19 did)
  t.same([...k.kv.map].sort(), expected, 'every key has its last value')
  t.equal(k.j.recovery.replayed, 5)
  // replaying records already in the snapshot gives the same state
  k.j.commit({ k: 'k3', v: 99 })
  k.j.commit({ k: 'k4', d: 1 })
  const log = fs.readFileSync(path.join(dir, 'journal.log'))
  k.j.compact()
  t.equal(fs.statSync(path.join(dir, 'journal.log')).size, 0)
  fs.writeFileSync(path.join(dir, 'journal.log'), log)
  k.j.close()
  const m = open(dir)
  t.equal(m.kv.map.get('k3'), 99)
  t.notOk(m.kv.map.has('k4'))
  t.equal(m.kv.map.size, 6)
  m.j.close()
})

t.test('the log is compacted by size too, once it outgrows the snapshot', async t => {
  const dir = t.testdir()
  const { j } = open(dir, { compactEvery: 1e9, compactLogBytes: 4096 })
  for (let i = 0; i < 200; i++) j.commit({ k: `k${i % 3}`, v: 'v'.repeat(100) })
  t.ok(fs.statSync(path.join(dir, 'journal.log')).size < 4096 + 200, 'the log stays under the threshold')
  t.ok(j.logRecords < 40)
  j.close()
})

t.test('a damaged snapshot is refused, not half loaded', async t => {
  const dir = t.testdir()
  const { j } = open(dir)
  for (let i = 0; i < 10; i++) j.commit({ k: `k${i}`, v: i })
  j.compact()
  j.close()
  const snap = path.join(dir, 'snapshot.log')
  const whole = fs.readFileSync(snap)
  fs.writeFileSync(snap, whole.subarray(0, whole.length - 10))
  t.throws(() => open(dir), /snapshot .* is damaged/)
  // the end line counts the records: a snapshot missing one of them is refused too
  const lines = whole.toString('latin1').split('\n')
  lines.splice(3, 1)
  fs.writeFileSync(snap, Buffer.from(lines.join('\n'), 'latin1'))
  t.throws(() => open(dir), /snapshot .* is damaged/)
})

t.test('a version-1 snapshot (one JSON document) loads as puts and is replaced at the next compaction', async t => {
  const dir = t.testdir()
  fs.writeFileSync(path.join(dir, 'snapshot.json'), JSON.stringify({ version: 1, records: { a: { n: 1 }, b: { n: 2 } } }))
  fs.writeFileSync(path.join(dir, 'journal.log'), Buffer.concat([encodeLine({ k: 'b', d: 1 }), encodeLine({ k: 'c', v: { n: 3 } })]))
  const { j, kv } = open(dir)
  t.same([...kv.map].sort(), [['a', { n: 1 }], ['c', { n: 3 }]])
  j.compact()
  j.close()
  t.notOk(fs.existsSync(path.join(dir, 'snapshot.json')), 'the old snapshot is gone')
  const k = open(dir)
  t.same([...k.kv.map].sort(), [['a', { n: 1 }], ['c', { n: 3 }]])
  k.j.close()
})

t.test('a failed write leaves the log as it was and applies nothing', async t => {
  const dir = t.testdir()
  const { j, kv } = open(dir)
  j.commit({ k: 'a', v: 1 })
  const size = fs.statSync(path.join(dir, 'journal.log')).size
  const real = fs.writeSync
  // the disk fills up half-way through the line
  let calls = 0
  ;(fs as { writeSync: unknown }).writeSync = (fd: number, buf: Buffer, off: number) => {
    if (calls++ === 0) return real(fd, buf, off, 5)
    throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })
  }
  try {
    t.throws(() => { j.commit({ k: 'b', v: 2 }) }, { code: 'ENOSPC' })
  } finally {
    (fs as { writeSync: unknown }).writeSync = real
  }
  t.equal(fs.statSync(path.join(dir, 'journal.log')).size, size, 'the half line is cut away')
  t.notOk(kv.map.has('b'))
  j.commit({ k: 'c', v: 3 })
  j.close()
  const k = open(dir)
  t.same([...k.kv.map], [['a', 1], ['c', 3]], 'later records replay')
  k.j.close()
})

t.test('SIGKILL right after commit: the record is there', async t => {
  const dir = t.testdir()
  const { spawn } = await import('node:child_process')
  const src = new URL('../../../src/store/journal.ts', import.meta.url).pathname
  const code = `import { Journal } from ${JSON.stringify(src)}
const m = new Map(); const state = { apply: r => m.set(r.k, r.v), records: () => [] }
const j = Journal.open(${JSON.stringify(dir)}, state)
for (let i = 0; i < 1000; i++) j.commit({ k: 'k' + i, v: i })
process.stdout.write('done\\n'); setInterval(() => {}, 1000)`
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { child.kill('SIGKILL') })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error('child did not finish')) }, 20000)
    child.stdout.on('data', (d: Buffer) => { if (d.toString().includes('done')) { clearTimeout(timer); resolve() } })
  })
  child.kill('SIGKILL')
  await new Promise(resolve => child.once('exit', resolve))
  const { j, kv } = open(dir)
  t.equal(kv.map.size, 1000)
  t.equal(kv.map.get('k999'), 999)
  j.close()
})
