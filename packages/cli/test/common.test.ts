// The concurrency helpers cp uses: pool (files in flight) and Limiter (streamed files in flight).
import t from 'tap'
import { Limiter, pool } from '../src/commands/common.js'

const tick = (): Promise<void> => new Promise(resolve => setImmediate(resolve))

t.test('Limiter: never more than its limit at once, every job runs, in arrival order', async t => {
  const lim = new Limiter(3)
  let active = 0
  let peak = 0
  const started: number[] = []
  const jobs = Array.from({ length: 20 }, (_, i) => lim.run(async () => {
    started.push(i)
    active++
    peak = Math.max(peak, active)
    for (let k = 0; k < (i % 4) + 1; k++) await tick()
    active--
    return i * 2
  }))
  t.same(await Promise.all(jobs), Array.from({ length: 20 }, (_, i) => i * 2))
  t.equal(peak, 3)
  t.same(started, Array.from({ length: 20 }, (_, i) => i))
  t.equal(active, 0)
})

t.test('Limiter: a job that throws frees its place and the error reaches its caller', async t => {
  const lim = new Limiter(1)
  const first = lim.run(async () => { await tick(); throw new Error('boom') })
  const second = lim.run(async () => 'ran')
  await t.rejects(first, /boom/)
  t.equal(await second, 'ran')
  t.equal(await lim.run(async () => 'again'), 'again', 'the place is free afterwards')
})

t.test('Limiter: a limit below 1 still lets one job run', async t => {
  t.equal(await new Limiter(0).run(async () => 7), 7)
})

t.test('pool: bounded, first error rejects after the others settle', async t => {
  let active = 0
  let peak = 0
  let settled = 0
  await t.rejects(pool([1, 2, 3, 4, 5, 6], 2, async n => {
    active++
    peak = Math.max(peak, active)
    await tick()
    active--
    settled++
    if (n === 2) throw new Error('two')
  }), /two/)
  t.equal(peak, 2)
  t.equal(active, 0, 'nothing still running when it rejects')
  t.ok(settled >= 2)
})
