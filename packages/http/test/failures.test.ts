// Failures: bricks unavailable → 503 with Retry-After (never a 200 with a short body); a read
// failing after the status was sent breaks the connection and is reported; the request deadline → 504.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { request } from 'undici'
import { FopProgram } from '@gluster-ts/rpc'
import { Volume } from '@gluster-ts/volume'
import { serve } from './helpers.js'

t.test('replicas unavailable: 503 + Retry-After; back when the bricks are', async t => {
  const errors: string[] = []
  const s = await serve(t, { '/f.txt': 'x', '/g.txt': 'y' }, { cacheTtlMs: 0, retryAfterSec: 3 }, { onError: (e, c) => errors.push(`${c.kind}:${(e as { code?: string }).code}`) })
  t.equal((await fetch(s.url + '/f.txt')).status, 200)
  await s.cluster.stopBrick(0)
  t.equal((await fetch(s.url + '/f.txt')).status, 200, 'one of three down: still served')
  await s.cluster.stopBrick(1)
  const r = await fetch(s.url + '/g.txt')
  t.equal(r.status, 503)
  t.equal(r.headers.get('retry-after'), '3')
  t.equal(s.gateway.health().status, 'down', 'a read needs 2 of 3: the mount cannot serve reads')
  t.ok(errors.some(e => e.startsWith('request:')), 'reported')
})

t.test('a read failing mid-body destroys the connection (never a truncated 200)', async t => {
  const big = randomBytes(8 * 1024 * 1024)
  const errors: string[] = []
  const s = await serve(t, { '/big.bin': big }, { volumeOptions: { readChunkBytes: 65536, readWindow: 1 } }, {
    onError: (e, c) => errors.push(`${c.kind}:${(e as { code?: string }).code}`),
  })
  const r = await request(s.url + '/big.bin')
  t.equal(r.statusCode, 200)
  let got = 0
  let failed: Error | undefined
  try {
    for await (const chunk of r.body) {
      if (got === 0) await Promise.all([s.cluster.stopBrick(0), s.cluster.stopBrick(1), s.cluster.stopBrick(2)])
      got += (chunk as Buffer).length
    }
  } catch (e) {
    failed = e as Error
  }
  t.ok(failed, `the body errored after ${got} bytes`)
  t.ok(got < big.length, 'short')
  t.ok(errors.some(e => e.startsWith('body:')), `mid-body failure reported: ${errors.join(', ')}`)
  t.equal((await fetch(s.url + '/healthz')).status, 503, 'the gateway still answers (every brick is down: 503)')
})

t.test('the deadline before the status line → 504', async t => {
  const s = await serve(t, { '/slow.txt': 'z' }, { requestTimeoutMs: 200, cacheTtlMs: 0 })
  // every brick stops answering LOOKUPs (as a frozen brick would): the handler never returns
  const hang = new Promise<never>(() => {})
  for (const b of s.cluster.bricks) {
    for (const reg of b?.rpc.lookup(FopProgram.prog)?.values() ?? []) reg.handlers.LOOKUP = async () => await hang
  }
  const r = await fetch(s.url + '/slow.txt')
  t.equal(r.status, 504)
})

t.test('a cached file replaced through another client: the stale inode is looked up afresh', async t => {
  const old = randomBytes(300_000)
  const s = await serve(t, { '/big.bin': old }, { cacheTtlMs: 60_000 })
  t.equal((await fetch(s.url + '/big.bin')).status, 200)
  const vol = await Volume.connect({ servers: [s.cluster.volfileServer], volume: s.cluster.volume.name })
  t.teardown(() => vol.close())
  const fresh = randomBytes(200_000)
  await vol.writeFile('/next.bin', fresh)
  await vol.rename('/next.bin', '/big.bin')
  const r = await fetch(s.url + '/big.bin')
  t.equal(r.status, 200)
  t.same(Buffer.from(await r.arrayBuffer()), fresh, 'the new content, not a 404 and not the old bytes')
})
