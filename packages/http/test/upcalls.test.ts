// Upcall detection on a cluster that sends none: our own server (packages/server) has no upcall
// translator, so a mount stays TTL-only (cacheTtlMs), and a change made through another client
// is served once the TTL allows, not before. The real-cluster side is test-interop/http-upcall.test.ts.
import t from 'tap'
import { Volume } from '@gluster-ts/volume'
import { serve } from './helpers.js'

t.test('our own server sends no upcalls: the mount stays on cacheTtlMs', async t => {
  const s = await serve(t, { '/a.txt': 'one\n' }, { cacheTtlMs: 60_000, upcallCacheTtlMs: 1 })
  const m = s.gateway.health().mounts[0]!
  t.equal(m.upcalls, false, 'no brick volfile with features/upcall cache-invalidation on')
  const vol = await Volume.connect({ servers: [s.cluster.volfileServer], volume: s.cluster.volume.name })
  t.teardown(() => vol.close())
  t.equal(await vol.cacheInvalidation(), false)
  t.equal(await (await fetch(`${s.url}/a.txt`)).text(), 'one\n')
  await vol.writeFile('/a.txt', 'two, from another client\n')
  t.equal(await (await fetch(`${s.url}/a.txt`)).text(), 'one\n', 'cached for cacheTtlMs (60 s), not upcallCacheTtlMs (1 ms)')
})

t.test("upcalls: 'off' does not even look", async t => {
  const s = await serve(t, { '/a.txt': 'one\n' }, { upcalls: 'off' })
  t.equal(s.gateway.health().mounts[0]?.upcalls, false)
})
