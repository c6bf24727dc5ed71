// BrickClient against a loopback fake brick (our RpcServer: DUMP, PING, SETVOLUME) with fake
// timers: the keep-alive PING and the ping-timeout disconnect, reconnect backoff, and a slow
// (hung) brick avoided until it answers a PING again. Socket I/O is real (127.0.0.1); time is not,
// so nothing here sleeps.
import t from 'tap'
import type { Test } from 'tap'
import FakeTimers from '@sinonjs/fake-timers'
import { BrickClient, type BrickOptions, type BrickState } from '../../src/brick.js'
import type { ClientSpec } from '../../src/graph.js'
import { FakeBrick } from '../fixtures/loopback-brick.js'

type Clock = ReturnType<typeof FakeTimers.install>
function fakeClock (t: Test): Clock {
  const clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
  t.teardown(() => { clock.uninstall() })
  return clock
}

/** Let real socket I/O happen (setImmediate is not faked) until `cond` holds; bounded. */
async function io (cond: () => boolean = () => false, rounds = 400): Promise<boolean> {
  for (let i = 0; i < rounds; i++) {
    if (cond()) return true
    await new Promise<void>(resolve => setImmediate(resolve))
  }
  return cond()
}

function client (t: Test, fb: FakeBrick, o: Partial<BrickOptions> = {}, pingTimeoutSec = 42): { b: BrickClient, states: Array<[BrickState, string | undefined]> } {
  const spec: ClientSpec = { kind: 'client', name: 'v-client-0', host: '127.0.0.1', port: fb.port, brickPath: '/bricks/b0', pingTimeoutSec, leafIndex: 0, options: new Map() }
  const b = new BrickClient(spec, { volfileKey: 'v', ...o })
  const states: Array<[BrickState, string | undefined]> = []
  b.on('state', (s, err) => states.push([s, err?.message]))
  t.teardown(() => b.close({ timeoutMs: 10 }))
  return { b, states }
}

t.test('keep-alive: one PING per ping-timeout; an unanswered PING drops the connection ping-timeout later', async t => {
  const clock = fakeClock(t)
  const fb = new FakeBrick()
  await fb.listen(t)
  const { b, states } = client(t, fb, {}, 2) // the volfile's ping-timeout: 2 s
  b.start()
  t.ok(await io(() => b.up), 'up')
  t.equal(b.pingTimeoutMs, 2000)
  t.equal(fb.pings, 0)
  clock.tick(1999)
  await io(() => fb.pings > 0, 50)
  t.equal(fb.pings, 0, 'no PING before ping-timeout')
  clock.tick(1)
  t.ok(await io(() => fb.pings === 1), 'PING at ping-timeout')
  await io(() => false, 20) // the answer comes back and re-arms the timer
  clock.tick(2000)
  t.ok(await io(() => fb.pings === 2), 'and again one ping-timeout later')
  await io(() => false, 20)
  // now the brick hangs: PINGs get no answer
  fb.answerPing = false
  clock.tick(2000)
  t.ok(await io(() => fb.pings === 3), 'third PING sent')
  clock.tick(1999)
  await io(() => !b.up, 50)
  t.ok(b.up, 'still up 1 ms before the PING deadline')
  clock.tick(1)
  t.ok(await io(() => !b.up), 'dropped at the deadline')
  const down = states.find(([s]) => s === 'down')
  t.match(down?.[1], /did not answer PING within ping-timeout 2000 ms/)
  t.ok(b.lastError !== undefined)
  t.equal(b.lastError?.message, down?.[1])
})

t.test('pingTimeoutMs overrides the volfile and 0 disables the keep-alive', async t => {
  const clock = fakeClock(t)
  const fb = new FakeBrick()
  await fb.listen(t)
  const { b } = client(t, fb, { pingTimeoutMs: 0 }, 2)
  b.start()
  t.ok(await io(() => b.up))
  clock.tick(60_000)
  await io(() => false, 20)
  t.equal(fb.pings, 0, 'no PING at all')
  t.ok(b.up)
})

t.test('reconnect: after a lost connection at reconnectInitialMs, failures back off doubling up to reconnectMaxMs', async t => {
  const clock = fakeClock(t)
  const fb = new FakeBrick()
  await fb.listen(t)
  const { b, states } = client(t, fb, { pingTimeoutMs: 0, reconnectInitialMs: 200, reconnectMaxMs: 1000 })
  b.start()
  t.ok(await io(() => b.up))
  t.equal(fb.dumps, 1)
  const gen = b.generation
  // the brick goes away: its connections drop and later handshakes fail
  fb.serveFops = false
  fb.kick()
  t.ok(await io(() => b.state === 'down'), 'down')
  t.match(states.at(-1)?.[1], /disconnected|connection|closed/i)
  // one attempt per backoff step: 200 (after the loss), then 200, 400, 800, 1000, 1000 after failures
  const steps = [200, 200, 400, 800, 1000, 1000]
  for (const [i, ms] of steps.entries()) {
    const before = fb.dumps
    clock.tick(ms - 1)
    await io(() => fb.dumps > before, 30)
    t.equal(fb.dumps, before, `attempt ${i + 1} not before ${ms} ms`)
    clock.tick(1)
    t.ok(await io(() => fb.dumps === before + 1 && b.state === 'down'), `attempt ${i + 1} at ${ms} ms, and it failed`)
  }
  t.equal(b.failures, steps.length)
  t.match(b.lastError?.message, /does not serve the GlusterFS 4.x fop program/)
  // the brick is back: the next attempt (after the capped delay) succeeds and resets the backoff
  fb.serveFops = true
  clock.tick(1000)
  t.ok(await io(() => b.up), 'up again')
  t.equal(b.failures, 0)
  t.equal(b.generation, gen + 1, 'a new generation after SETVOLUME')
  t.equal(fb.setvolumes, 2)
  fb.serveFops = false
  fb.kick()
  t.ok(await io(() => b.state === 'down'))
  const before = fb.dumps
  clock.tick(199)
  await io(() => fb.dumps > before, 30)
  t.equal(fb.dumps, before)
  clock.tick(1)
  t.ok(await io(() => fb.dumps === before + 1), 'the backoff started over at reconnectInitialMs')
})

t.test('a suspected brick that misses the probe PING is avoided (slow) until a PING is answered', async t => {
  const clock = fakeClock(t)
  const fb = new FakeBrick()
  await fb.listen(t)
  const { b } = client(t, fb, { pingTimeoutMs: 0, probeTimeoutMs: 500, probeIntervalMs: 1000 })
  const events: string[] = []
  b.on('slow', () => events.push('slow'))
  b.on('responsive', () => events.push('responsive'))
  b.start()
  t.ok(await io(() => b.up))
  // a caller saw this brick answer late; it answers the probe: nothing happens
  b.suspect()
  t.ok(await io(() => fb.pings === 1))
  await io(() => false, 20)
  t.same(events, [])
  t.ok(b.usable)
  // now it hangs
  fb.answerPing = false
  b.suspect()
  b.suspect() // one probe at a time
  t.ok(await io(() => fb.pings === 2))
  clock.tick(499)
  await io(() => events.length > 0, 30)
  t.ok(b.usable, 'usable until the probe deadline')
  clock.tick(1)
  t.ok(await io(() => events.length === 1), 'slow at the probe deadline')
  t.same(events, ['slow'])
  t.notOk(b.usable, 'not usable while slow')
  t.ok(b.up, 'but the connection stays up')
  // probes repeat every probeIntervalMs while it stays silent
  clock.tick(999)
  await io(() => fb.pings > 2, 30)
  t.equal(fb.pings, 2)
  clock.tick(1)
  t.ok(await io(() => fb.pings === 3), 'next probe after probeIntervalMs')
  clock.tick(500)
  await io(() => false, 20)
  t.same(events, ['slow'], 'still slow, no duplicate event')
  // it wakes up: the next probe is answered
  fb.answerPing = true
  clock.tick(1000)
  t.ok(await io(() => events.length === 2), 'responsive')
  t.same(events, ['slow', 'responsive'])
  t.ok(b.usable)
})

t.test('close() leaves no timer behind', async t => {
  const clock = fakeClock(t)
  const fb = new FakeBrick()
  await fb.listen(t)
  const { b } = client(t, fb, {}, 2)
  b.start()
  t.ok(await io(() => b.up))
  t.ok(clock.countTimers() > 0, 'the ping timer is armed')
  await b.close({ timeoutMs: 10 })
  t.equal(b.state, 'closed')
  t.equal(clock.countTimers(), 0)
})
