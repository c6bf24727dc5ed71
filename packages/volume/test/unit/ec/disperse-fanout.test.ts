// The disperse layer's fan-out rules (disperse-lock.ts): every brick's answer or typed error;
// once k bricks answered, the others get the straggler time and then count as failed; a fop
// needs k successes, else the bricks' common error (ENOENT everywhere is ENOENT) or ENOTCONN.
import t from 'tap'
import { GlusterError } from '@gluster-ts/rpc'
import { fanout, needK } from '../../../src/disperse-lock.js'

const never = new Promise<number>(() => {})

t.test('fanout: answers and typed errors, in brick order', async t => {
  const out = await fanout([0, 1, 2], async b => {
    if (b === 1) throw new GlusterError('ENOENT', 'no such file', { brick: 'h:/b1' })
    if (b === 2) throw new Error('boom')
    return b * 10
  })
  t.same(out.map(o => o.brick), [0, 1, 2])
  t.match(out[0], { ok: true, value: 0 })
  t.match(out[1], { ok: false, err: { code: 'ENOENT' } })
  t.match(out[2], { ok: false, err: { code: 'EIO', message: /boom/ } }, 'a plain Error becomes a typed EIO')
})

t.test('fanout with a straggler rule: a brick that never answers is cut off once k answered', async t => {
  // the rule's timer does not hold the process open (unref'd); this test's does
  const keep = setTimeout(() => {}, 10_000)
  t.teardown(() => clearTimeout(keep))
  const out = await fanout([0, 1, 2], async b => (b === 1 ? await never : b), { need: 2, ms: 20 })
  t.match(out[1], { ok: false, err: { code: 'ETIMEDOUT' } })
  t.match(out[0], { ok: true, value: 0 })
  t.match(out[2], { ok: true, value: 2 })
  const slow = await fanout([0, 1], async b => await new Promise<number>(resolve => setTimeout(() => resolve(b), b * 5)), { need: 2, ms: 1 })
  t.ok(slow.every(o => o.ok), 'when everyone answers, nobody is cut off')
})

t.test('needK: k successes, or the most common error, or ENOTCONN', async t => {
  const ok = (brick: number) => ({ brick, ok: true as const, value: brick })
  const bad = (brick: number, code: string) => ({ brick, ok: false as const, err: new GlusterError(code, `${code} on ${brick}`) })
  t.same(needK([ok(0), ok(1), bad(2, 'EIO')], 2, 'x').map(o => o.brick), [0, 1])
  t.throws(() => needK([bad(0, 'ENOENT'), bad(1, 'ENOENT'), ok(2)], 2, 'x'), { code: 'ENOENT' }, 'the bricks agree on ENOENT')
  t.throws(() => needK([bad(0, 'EEXIST'), bad(1, 'EEXIST'), bad(2, 'ENOTCONN')], 2, 'x'), { code: 'EEXIST' })
  t.throws(() => needK([ok(0), bad(1, 'ENOTCONN'), bad(2, 'ENOTCONN')], 2, 'create'), { code: 'ENOTCONN', message: /create: 1 of 3 bricks answered, 2 needed/ })
  t.throws(() => needK([], 1, 'x'), { code: 'ENOTCONN' })
})
