import t from 'tap'
import FakeTimers from '@sinonjs/fake-timers'
import { RecordBudget, DeadlineTimer } from '@gluster-ts/rpc'
import type { BudgetHolder } from '@gluster-ts/rpc'

/** A budget holder whose bytes and clock the test sets; evict() records the order and gives the bytes back. */
class Holder implements BudgetHolder {
  heldBytes = 0
  constructor (readonly name: string, public lastProgressAt: number, public readingPaused = false, readonly log: string[] = []) {}
  hold (budget: RecordBudget, bytes: number): void {
    const delta = bytes - this.heldBytes
    this.heldBytes = bytes
    budget.update(this, delta)
  }

  evict (budget: RecordBudget): void {
    this.log.push(this.name)
    this.hold(budget, 0)
  }
}

t.test('RecordBudget: over the cap, the holder that waited longest for a byte goes first; paused ones last; then the larger', async t => {
  const budget = new RecordBudget(1000)
  const log: string[] = []
  const a = new Holder('a', 10, false, log)
  const b = new Holder('b', 5, true, log) // oldest, but the server does not read it: not its fault
  const c = new Holder('c', 20, false, log)
  const d = new Holder('d', 20, false, log)
  a.hold(budget, 300)
  b.hold(budget, 300)
  c.hold(budget, 100)
  d.hold(budget, 200)
  t.equal(budget.bytes, 900)
  t.equal(budget.holders, 4)
  t.same(log, [])
  // c grows past the cap: a (longest idle, not paused) goes
  c.lastProgressAt = 30
  c.hold(budget, 250)
  t.same(log, ['a'])
  t.equal(budget.bytes, 750)
  // a big jump: d (idle since 20) then c (30), then b (paused) would be next
  const e = new Holder('e', 40, false, log)
  e.hold(budget, 700)
  t.same(log, ['a', 'd', 'c'])
  t.equal(budget.bytes, 1000)
  t.equal(budget.evictions, 3)
  // equally idle: the larger first
  const f = new Holder('f', 50, false, log)
  const g = new Holder('g', 50, false, log)
  budget.maxBytes = 2000
  f.hold(budget, 100)
  g.hold(budget, 400)
  budget.maxBytes = 1400
  e.lastProgressAt = 60
  e.hold(budget, 701)
  t.same(log, ['a', 'd', 'c', 'g'])
  // lowering the cap takes effect at the next byte
  budget.maxBytes = 100
  e.hold(budget, 702)
  t.same(log, ['a', 'd', 'c', 'g', 'f', 'e', 'b'], 'paused b goes only when no one else is left')
  t.equal(budget.bytes, 0)
  t.equal(budget.holders, 0)
  t.throws(() => { budget.maxBytes = 0 }, RangeError)
})

t.test('DeadlineTimer: one timer, armed for the earliest deadline, re-armed from what the sweep returns', async t => {
  const clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
  t.teardown(() => { clock.uninstall() })
  const sweeps: number[] = []
  let next = Infinity
  const timer = new DeadlineTimer(now => { sweeps.push(now); return next })
  timer.need(5000)
  timer.need(7000) // later: no new timer
  t.equal(clock.countTimers(), 1)
  timer.need(3000) // earlier: re-armed
  t.equal(clock.countTimers(), 1)
  next = 8000
  clock.tick(3000)
  t.same(sweeps, [3000])
  t.equal(clock.countTimers(), 1, 'armed for what the sweep returned')
  next = Infinity
  clock.tick(5000)
  t.same(sweeps, [3000, 8000])
  t.equal(clock.countTimers(), 0, 'nothing to watch: no timer')
  timer.need(9000)
  timer.stop()
  t.equal(clock.countTimers(), 0)
})
