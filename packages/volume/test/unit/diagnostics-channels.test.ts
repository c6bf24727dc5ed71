// The volume's diagnostics_channel events: gluster-ts:brick:connect / :disconnect from a
// BrickClient against a loopback brick, gluster-ts:replica:failover from AFR reads (an error, a
// hedge), and nothing built while nobody subscribes.
import t from 'tap'
import type { Test } from 'tap'
import dc from 'node:diagnostics_channel'
import FakeTimers from '@sinonjs/fake-timers'
import { GlusterError, newGfxIattx } from '@gluster-ts/rpc'
import {
  BrickClient, Replicate, CHANNEL_BRICK_CONNECT, CHANNEL_BRICK_DISCONNECT, CHANNEL_REPLICA_FAILOVER,
  brickConnectChannel, replicaFailoverChannel,
  type BrickConnectEvent, type BrickDisconnectEvent, type ReplicaFailoverEvent, type ClientSpec, type ReplicateSpec,
} from '../../src/internals.js'
import { FakeBrick } from '../fixtures/loopback-brick.js'

async function io (cond: () => boolean, rounds = 2000): Promise<boolean> {
  for (let i = 0; i < rounds; i++) {
    if (cond()) return true
    await new Promise<void>(resolve => setImmediate(resolve))
  }
  return cond()
}

function subscribe<E> (t: Test, name: string): E[] {
  const got: E[] = []
  const fn = (m: unknown): void => { got.push(m as E) }
  dc.subscribe(name, fn)
  t.teardown(() => { dc.unsubscribe(name, fn) })
  return got
}

t.test('brick:connect and brick:disconnect', async t => {
  const connects = subscribe<BrickConnectEvent>(t, CHANNEL_BRICK_CONNECT)
  const disconnects = subscribe<BrickDisconnectEvent>(t, CHANNEL_BRICK_DISCONNECT)
  const fb = new FakeBrick()
  await fb.listen(t)
  const spec: ClientSpec = { kind: 'client', name: 'v-client-0', host: '127.0.0.1', port: fb.port, brickPath: '/bricks/b0', pingTimeoutSec: 0, leafIndex: 0, options: new Map() }
  const b = new BrickClient(spec, { volfileKey: 'v', reconnectInitialMs: 1 })
  t.teardown(() => b.close({ timeoutMs: 10 }))
  b.start()
  t.ok(await io(() => connects.length === 1), 'connect published')
  t.same(connects[0], { name: 'v-client-0', brick: `127.0.0.1:${fb.port}:/bricks/b0`, generation: 1, failures: 0 })
  // the brick drops the connection: disconnect with the error, then a reconnect
  fb.kick()
  t.ok(await io(() => disconnects.length === 1), 'disconnect published')
  t.equal(disconnects[0]!.name, 'v-client-0')
  t.equal(disconnects[0]!.closing, false)
  t.equal(disconnects[0]!.generation, 1)
  t.ok(disconnects[0]!.error instanceof Error, 'carries the error')
  t.ok(await io(() => connects.length === 2), 'reconnect published')
  t.equal(connects[1]!.generation, 2)
  // close(): a disconnect with closing true and no error
  await b.close({ timeoutMs: 10 })
  t.equal(disconnects.length, 2)
  t.same(disconnects[1], { name: 'v-client-0', brick: `127.0.0.1:${fb.port}:/bricks/b0`, generation: 2, error: undefined, closing: true })
})

/** A brick for Replicate that answers READ with `answer`. */
function fake (label: string, answer: () => Promise<unknown>): unknown {
  return {
    label, usable: true, up: true, inflight: 0,
    suspect () {},
    call (_p: unknown, _a: unknown, o: { signal?: AbortSignal }) {
      return new Promise((resolve, reject) => {
        o.signal?.addEventListener('abort', () => reject(new GlusterError('ABORT_ERR', 'aborted')), { once: true })
        answer().then(resolve, reject)
      })
    },
  }
}
const stat = newGfxIattx({ ia_size: 2n, mode: 0o100644 })
const ok = (): Promise<unknown> => Promise.resolve({ op_ret: 2, op_errno: 0, stat, size: 2, xdata: null, data: Buffer.from('ok') })
const never = (): Promise<unknown> => new Promise(() => {})
const fail = (): Promise<unknown> => Promise.reject(new GlusterError('ENOTCONN', 'gone'))
const gfid = Buffer.from('00000000000000000000000000000001', 'hex') // read-hash-mode 1 picks child 1 of 3

function replicate (bricks: unknown[]): Replicate {
  const children = bricks.map((_b, i) => ({ kind: 'client', name: `v-client-${i}`, host: 'h', brickPath: '/b', pingTimeoutSec: 42, leafIndex: i, options: new Map() }) as ClientSpec)
  const spec: ReplicateSpec = { kind: 'replicate', name: 'v-replicate-0', children, pendingXattrs: children.map(c => c.name), arbiterCount: 0, readHashMode: 1, readSubvolumeIndex: -1, chooseLocal: false, quorumCount: 2, options: new Map() }
  return new Replicate(spec, bricks as BrickClient[], { hedgeAfterMs: 300, stragglerMs: 300, attemptTimeoutMs: 10_000 })
}

t.test('replica:failover on an error and on a hedge', async t => {
  const got = subscribe<ReplicaFailoverEvent>(t, CHANNEL_REPLICA_FAILOVER)
  const r = replicate([fake('b0', ok), fake('b1', fail), fake('b2', ok)])
  const x = await r.read(gfid, 0, 2, [true, true, true], { path: '/f' })
  t.equal(x.res.data.toString(), 'ok')
  t.equal(got.length, 1)
  t.match(got[0], { replicate: 'v-replicate-0', syscall: 'read', gfid: '00000000-0000-0000-0000-000000000001', path: '/f', reason: 'error', from: 1, fromBrick: 'b1', toBrick: /^b[02]$/ })
  t.match(got[0]!.error, { code: 'ENOTCONN' })

  const clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
  t.teardown(() => { clock.uninstall() })
  const r2 = replicate([fake('b0', ok), fake('b1', never), fake('b2', ok)])
  const p = r2.read(gfid, 0, 2, [true, true, true])
  await clock.tickAsync(300)
  await p
  t.equal(got.length, 2)
  t.match(got[1], { reason: 'hedge', from: 1, fromBrick: 'b1', error: undefined })
})

t.test('no subscribers: nothing is published', async t => {
  t.equal(brickConnectChannel.hasSubscribers, false)
  t.equal(replicaFailoverChannel.hasSubscribers, false)
  const r = replicate([fake('b0', ok), fake('b1', fail), fake('b2', ok)])
  t.equal((await r.read(gfid, 0, 2, [true, true, true])).res.data.toString(), 'ok')
})
