// --bwlimit's rate parsing and token bucket, --retries' backoff: on a fake clock (no timing).
import t from 'tap'
import { parseRate, TokenBucket, type Clock } from '../src/bwlimit.js'
import { withRetry, RETRY_MAX_MS } from '../src/retry.js'

function fakeClock (): Clock & { slept: number[] } {
  let now = 0
  const slept: number[] = []
  return { slept, now: () => now, sleep: async ms => { slept.push(ms); now += ms } }
}

t.test('parseRate: bytes per second, K M G T in 1024s, off', async t => {
  t.equal(parseRate('10M'), 10 * 1024 * 1024)
  t.equal(parseRate('512K'), 512 * 1024)
  t.equal(parseRate('1.5M'), 1.5 * 1024 * 1024)
  t.equal(parseRate('2MiB/s'), 2 * 1024 * 1024)
  t.equal(parseRate('1G'), 1 << 30)
  t.equal(parseRate('100'), 100)
  t.equal(parseRate('off'), 0)
  t.equal(parseRate('0'), 0)
  for (const bad of ['', 'fast', '-1M', '10X', '0.5', 'M', '1e9']) t.throws(() => parseRate(bad), { code: 'EUSAGE' }, JSON.stringify(bad))
})

t.test('TokenBucket: one second banked, then waits the debt off, in order', async t => {
  const c = fakeClock()
  const b = new TokenBucket(1000, c)
  await b.take(1000)
  t.same(c.slept, [], 'the first second\'s worth goes at once')
  await b.take(500)
  t.same(c.slept, [500], 'then 500 bytes wait 0.5 s')
  await Promise.all([b.take(1000), b.take(2000)])
  t.same(c.slept, [500, 1000, 2000], 'concurrent takes share the one rate, served in order')
  t.equal(c.slept.reduce((a, x) => a + x, 0), 3500, '4500 bytes after the first 1000: 3.5 s at 1000 B/s')
})

t.test('withRetry: unavailable errors only, 0.5 s doubling, capped, then gives up', async t => {
  const c = fakeClock()
  let calls = 0
  const unavailable = Object.assign(new Error('no quorum'), { code: 'EGLUSTER_NO_QUORUM' })
  await t.rejects(withRetry(async () => { calls++; throw unavailable }, { retries: 6, clock: c }), unavailable)
  t.equal(calls, 7, 'one try and six retries')
  t.same(c.slept, [500, 1000, 2000, 4000, RETRY_MAX_MS, RETRY_MAX_MS])
  calls = 0
  const enoent = Object.assign(new Error('gone'), { code: 'ENOENT' })
  await t.rejects(withRetry(async () => { calls++; throw enoent }, { retries: 6, clock: c }), enoent)
  t.equal(calls, 1, 'ENOENT is not tried again')
  calls = 0
  const got = await withRetry(async () => { if (++calls < 3) throw Object.assign(new Error('t'), { code: 'ETIMEDOUT' }); return 'ok' }, { retries: 3, clock: c })
  t.equal(got, 'ok')
  t.equal(calls, 3, 'succeeds on the third try')
})
