// FragmentBuffers: the disperse layer's fragment READs land in reused buffers (no garbage per
// READ), small fragments are left to rpc, a larger READ size replaces the buffers kept, and the
// free list is bounded.
import t from 'tap'
import { FragmentBuffers, FRAG_MIN_BYTES } from '../../../src/frag-buffers.js'

t.test('a buffer given back is the next one taken', async t => {
  const f = new FragmentBuffers()
  const a = f.take(256 * 1024)!
  t.equal(a.length, 256 * 1024)
  f.give(a)
  t.equal(f.freeCount, 1)
  const b = f.take(100_000)!
  t.equal(b.length, 100_000, 'a smaller fragment: a view of a kept buffer')
  t.equal(b.buffer, a.buffer, 'the same memory')
  f.give(b)
  t.equal(f.take(256 * 1024)!.buffer, a.buffer, 'given back whole')
})

t.test('small fragments get none; a larger size drops the smaller buffers', async t => {
  const f = new FragmentBuffers()
  t.equal(f.take(FRAG_MIN_BYTES - 512), undefined)
  f.give(undefined)
  const small = f.take(FRAG_MIN_BYTES)!
  const big = f.take(4 * FRAG_MIN_BYTES)!
  f.give(small)
  t.equal(f.freeCount, 0, 'a buffer of the old size is not kept')
  f.give(big)
  t.equal(f.freeCount, 1)
  f.give(Buffer.alloc(4 * FRAG_MIN_BYTES))
  t.equal(f.freeCount, 2, 'a buffer of the kept size is kept')
  f.give(Buffer.alloc(8 * FRAG_MIN_BYTES).subarray(FRAG_MIN_BYTES, 5 * FRAG_MIN_BYTES))
  t.equal(f.freeCount, 2, 'not a view into the middle of another one')
})

t.test('the free list is bounded', async t => {
  const f = new FragmentBuffers(3 * 64 * 1024)
  const bufs = Array.from({ length: 5 }, () => f.take(64 * 1024)!)
  t.equal(new Set(bufs.map(b => b.buffer)).size, 5, 'five at once: five buffers')
  for (const b of bufs) f.give(b)
  t.equal(f.freeCount, 3, 'only as many kept as fit in the bound')
})
