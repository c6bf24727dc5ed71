// Cache-invalidation upcalls in the volume: the pure decoding (gfs3_cbk_cache_invalidation_req →
// InvalidateEvent), the brick-volfile check, and a BrickClient receiving the callback CALL from a
// loopback brick (our RpcServer sending GlusterFS Callback / CACHE_INVALIDATION, the bytes a real
// brick sent: packages/rpc/test/vectors/upcall.records.jsonl) and a reconnect giving 'resync'.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import {
  CallbackProgram, GfUpcallEvent, GfUpcallFlags, decodeMessage, type Gfs3CbkCacheInvalidationReq, type GfIatt,
} from '@gluster-ts/rpc'
import { BrickClient } from '../../src/brick.js'
import type { ClientSpec } from '../../src/graph.js'
import {
  brickVolfileId, namespaceChanged, toInvalidateEvent, upcallOptionOn, watchBrick, type InvalidateEvent, type ResyncEvent,
} from '../../src/upcall.js'
import { FakeBrick } from '../fixtures/loopback-brick.js'

const here = fileURLToPath(new URL('.', import.meta.url))
/** The first CACHE_INVALIDATION a real GlusterFS 10 brick sent (frame 172 of the capture). */
function capturedReq (): Gfs3CbkCacheInvalidationReq {
  const line = readFileSync(join(here, '../../../rpc/test/vectors/upcall.records.jsonl'), 'utf8').split('\n')[0]!
  const { body } = decodeMessage(Buffer.from((JSON.parse(line) as { hex: string }).hex, 'hex'))
  return CallbackProgram.procs.CACHE_INVALIDATION.args.decode(body)
}
const GFID = 'a7c74398-52db-4522-b088-1533e26abc7e'
const iatt = (gfid: string, mode: number): GfIatt => ({ ...capturedReq().stat, ia_gfid: Buffer.from(gfid.replace(/-/g, ''), 'hex'), mode })

t.test('toInvalidateEvent: the captured upcall', async t => {
  const e = toInvalidateEvent(capturedReq(), 'h:49152:/b', g => g === GFID ? '/x/probe.txt' : undefined)
  t.same(e, { gfid: GFID, flags: GfUpcallFlags.SIZE | GfUpcallFlags.TIMES, type: 'file', expireTimeSec: 60, brick: 'h:49152:/b', path: '/x/probe.txt' })
})

t.test('toInvalidateEvent: type from the stat, parent gfid, upper-case gfid text', async t => {
  const base = capturedReq()
  const dir = toInvalidateEvent({ ...base, gfid: GFID.toUpperCase(), stat: iatt(GFID, 0o40755) }, 'b')
  t.equal(dir.gfid, GFID)
  t.equal(dir.type, 'directory')
  t.equal(toInvalidateEvent({ ...base, stat: iatt(GFID, 0o120777) }, 'b').type, 'symlink')
  t.equal(toInvalidateEvent({ ...base, stat: iatt(GFID, 0o60600) }, 'b').type, 'other')
  t.equal(toInvalidateEvent({ ...base, stat: iatt('00000000-0000-0000-0000-000000000000', 0) }, 'b').type, 'unknown', 'no stat sent')
  const parent = '00000000-0000-0000-0000-000000000001'
  t.equal(toInvalidateEvent({ ...base, parent_stat: iatt(parent, 0o40755) }, 'b').parentGfid, parent)
  t.notOk('parentGfid' in toInvalidateEvent(base, 'b'), 'a zero parent stat is no parent')
})

t.test('namespaceChanged', async t => {
  t.notOk(namespaceChanged(GfUpcallFlags.SIZE | GfUpcallFlags.TIMES))
  t.ok(namespaceChanged(GfUpcallFlags.RENAME | GfUpcallFlags.PARENT_TIMES))
  t.ok(namespaceChanged(GfUpcallFlags.NLINK | GfUpcallFlags.TIMES))
})

t.test('the brick volfile: features/upcall cache-invalidation', async t => {
  const real = readFileSync(join(here, '../fixtures/volfiles/vol1.brick-n1.vol'), 'utf8')
  t.equal(upcallOptionOn(real), false, 'the captured brick volfile has it off')
  t.equal(upcallOptionOn(real.replace('option cache-invalidation off', 'option cache-invalidation on')), true)
  t.equal(upcallOptionOn(real.replace(/\n\s*option cache-invalidation off/, '')), false, 'absent: the translator default, off')
  t.equal(upcallOptionOn('volume x\n  type features/locks\nend-volume\n'), false, 'no upcall translator')
  t.equal(upcallOptionOn('not a volfile {'), false)
  t.equal(brickVolfileId('vol1', '10.88.0.11', '/tmp/gluster-ts-real/n1/bricks/vol1'), 'vol1.10.88.0.11.tmp-gluster-ts-real-n1-bricks-vol1',
    'the name glusterd stores it under (cluster.json: vol1.10.88.2.11.tmp-gluster-ts-real-2-n1-bricks-vol1.vol)')
})

t.test('a BrickClient delivers the brick\'s CACHE_INVALIDATION calls; a reconnect gives resync', async t => {
  const fb = new FakeBrick()
  await fb.listen(t)
  const spec: ClientSpec = { kind: 'client', name: 'v-client-0', host: '127.0.0.1', port: fb.port, brickPath: '/bricks/b0', pingTimeoutSec: 42, leafIndex: 0, options: new Map() }
  const b = new BrickClient(spec, { volfileKey: 'v', reconnectInitialMs: 10 })
  t.teardown(() => b.close({ timeoutMs: 10 }))
  const got: InvalidateEvent[] = []
  const resyncs: ResyncEvent[] = []
  const sink = { invalidate: (e: InvalidateEvent) => got.push(e), resync: (e: ResyncEvent) => resyncs.push(e) }
  const unwire = watchBrick(b, sink)
  watchBrick(b, sink) // twice: still one delivery per upcall
  b.start()
  t.ok(await b.whenUp(5000), 'up')
  const send = (req: Gfs3CbkCacheInvalidationReq): void => { for (const c of fb.server.connections) c.send(CallbackProgram.procs.CACHE_INVALIDATION, req) }
  const wait = async (cond: () => boolean): Promise<boolean> => {
    for (let i = 0; i < 500 && !cond(); i++) await new Promise(resolve => setTimeout(resolve, 5))
    return cond()
  }
  send(capturedReq())
  send({ ...capturedReq(), event_type: GfUpcallEvent.RECALL_LEASE }) // not a cache invalidation: ignored
  send({ ...capturedReq(), flags: GfUpcallFlags.NLINK })
  t.ok(await wait(() => got.length >= 2), 'delivered')
  t.same(got.map(e => [e.gfid, e.flags, e.brick]), [[GFID, 24, b.label], [GFID, GfUpcallFlags.NLINK, b.label]], 'in order, once each, other event types dropped')
  t.same(resyncs, [], 'no resync on the first connect')
  fb.kick()
  t.ok(await wait(() => resyncs.length === 1 && b.up), 'reconnected')
  t.same(resyncs, [{ brick: b.label }])
  unwire()
  const later: InvalidateEvent[] = []
  watchBrick(b, { invalidate: e => later.push(e), resync: () => {} })
  send(capturedReq())
  t.ok(await wait(() => later.length === 1), 'a sink wired now gets the next upcall')
  t.equal(got.length, 2, 'the unwired one does not')
})
