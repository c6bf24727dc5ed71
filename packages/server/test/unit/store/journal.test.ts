import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { Journal, parseLine } from '@gluster-ts/server'


t.test('puts and deletes survive a reopen', async t => {
  const dir = t.testdir()
  const j = Journal.open<{ n: number }>(dir)
  j.put('a', { n: 1 })
  j.put('b', { n: 2 })
  j.put('a', { n: 3 })
  j.delete('b')
  j.close()
  const k = Journal.open<{ n: number }>(dir)
  t.same([...k.entries()], [['a', { n: 3 }]])
  t.same(k.recovery, { replayed: 4, droppedBytes: 0 })
  k.close()
})

t.test('a torn last record (process killed mid-write) is dropped and truncated away', async t => {
  const dir = t.testdir()
  const j = Journal.open<string>(dir)
  j.put('x', 'one')
  j.put('y', 'two')
  j.close()
  const log = path.join(dir, 'journal.log')
  const whole = fs.readFileSync(log)
  const firstEnd = whole.indexOf(0x0a) + 1
  // every cut inside the second record leaves exactly the first one
  for (let cut = firstEnd; cut < whole.length; cut++) {
    fs.writeFileSync(log, whole.subarray(0, cut))
    const k = Journal.open<string>(dir)
    t.same([...k.entries()], [['x', 'one']], `cut at ${cut}`)
    t.equal(k.recovery.droppedBytes, cut - firstEnd)
    k.put('z', 'three')
    k.close()
    t.same([...Journal.open<string>(dir).entries()].sort(), [['x', 'one'], ['z', 'three']], 'appends after recovery start on a clean line')
  }
})

t.test('a corrupt record (bad CRC) ends the replay', async t => {
  const dir = t.testdir()
  const j = Journal.open<string>(dir)
  j.put('x', 'one')
  j.put('y', 'two')
  j.close()
  const log = path.join(dir, 'journal.log')
  const b = fs.readFileSync(log)
  b[b.length - 3]! ^= 0x20
  fs.writeFileSync(log, b)
  const k = Journal.open<string>(dir)
  t.same([...k.entries()], [['x', 'one']])
  k.close()
  t.equal(parseLine(Buffer.from('zz'), 0), undefined)
  t.equal(parseLine(Buffer.from('00000000 5 {}\n'), 0), undefined)
})

t.test('compaction writes a snapshot and empties the log; a crash between the two is harmless', async t => {
  const dir = t.testdir()
  const j = Journal.open<number>(dir, { compactEvery: 10 })
  for (let i = 0; i < 25; i++) j.put(`k${i % 7}`, i)
  j.close()
  t.ok(fs.existsSync(path.join(dir, 'snapshot.json')))
  const k = Journal.open<number>(dir)
  t.equal(k.size, 7)
  t.equal(k.get('k3'), 24)
  // replaying records already in the snapshot gives the same state
  k.put('k3', 99)
  const log = fs.readFileSync(path.join(dir, 'journal.log'))
  k.compact()
  fs.writeFileSync(path.join(dir, 'journal.log'), log)
  k.close()
  const m = Journal.open<number>(dir)
  t.equal(m.get('k3'), 99)
  t.equal(m.size, 7)
  m.close()
})

t.test('SIGKILL right after put: the record is there', async t => {
  const dir = t.testdir()
  const { spawn } = await import('node:child_process')
  const src = new URL('../../../src/store/journal.ts', import.meta.url).pathname
  const code = `import { Journal } from ${JSON.stringify(src)}; const j = Journal.open(${JSON.stringify(dir)}); for (let i = 0; i < 1000; i++) j.put('k' + i, i); process.stdout.write('done\\n'); setInterval(() => {}, 1000)`
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { child.kill('SIGKILL') })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error('child did not finish')) }, 20000)
    child.stdout.on('data', (d: Buffer) => { if (d.toString().includes('done')) { clearTimeout(timer); resolve() } })
  })
  child.kill('SIGKILL')
  await new Promise(resolve => child.once('exit', resolve))
  const j = Journal.open<number>(dir)
  t.equal(j.size, 1000)
  t.equal(j.get('k999'), 999)
  j.close()
})
