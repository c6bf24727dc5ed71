// GlusterFS cache-invalidation upcalls against the REAL GlusterFS 10 cluster: with
// `features.cache-invalidation on` the bricks tell our Volume (program GlusterFS Callback, proc
// CACHE_INVALIDATION) when another client (the FUSE mount) changes a file it looked up, and the
// HTTP gateway, whose cache then lives 60 s, serves the new content within moments. With the
// option off the same change stays invisible until the TTL: the TTL governs.
import t from 'tap'
import type { Test } from 'tap'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { GfUpcallFlags } from '@gluster-ts/rpc'
import { Volume, type InvalidateEvent } from '@gluster-ts/volume'
import { startGatewayServer, type GatewayServer } from '@gluster-ts/http'
import { loadRealCluster } from '../test-cluster/real/index.js'

const cluster = loadRealCluster()
if ('skip' in cluster) {
  t.test('cache-invalidation upcalls against the real cluster', { skip: `real cluster not available: ${cluster.skip}` }, async () => {})
} else {
  const VOL = 'vol1'
  const OPT = 'features.cache-invalidation'
  const servers = cluster.nodes.map(n => n.ip)
  const top = `gts-upcall-${process.pid}`
  const mnt = await cluster.mount(VOL)
  const dir = join(mnt, top)
  await mkdir(dir, { recursive: true })
  // `volume get` prints "Option Value" then the option's line; restore exactly what was there
  const before = /features\.cache-invalidation\s+(\S+)/.exec(await cluster.gl(1, 'volume', 'get', VOL, OPT))?.[1] ?? 'off'
  const setOption = async (v: 'on' | 'off'): Promise<void> => { await cluster.gl(1, 'volume', 'set', VOL, OPT, v) }
  t.teardown(async () => {
    await rm(dir, { recursive: true, force: true })
    await cluster.gl(1, 'volume', 'set', VOL, OPT, before)
  })

  /** Resolve with the first event `pick` accepts, or reject after `ms`. */
  const waitFor = async (vol: Volume, pick: (e: InvalidateEvent) => boolean, ms: number): Promise<InvalidateEvent> => await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { vol.off('invalidate', on); reject(new Error(`no matching invalidate event within ${ms} ms`)) }, ms)
    const on = (e: InvalidateEvent): void => { if (pick(e)) { clearTimeout(timer); vol.off('invalidate', on); resolve(e) } }
    vol.on('invalidate', on)
  })

  const gateway = async (t: Test, o: { upcallCacheTtlMs: number, cacheTtlMs: number }): Promise<{ srv: GatewayServer, get: (p: string) => Promise<{ status: number, body: string }> }> => {
    const srv = await startGatewayServer({ mounts: [{ mountpoint: '/', volume: VOL, servers, ...o }], host: '127.0.0.1', port: 0, workers: 1, accessLog: false })
    t.teardown(() => srv.close())
    const get = async (p: string): Promise<{ status: number, body: string }> => {
      const r = await fetch(`${srv.url}/${top}/${p}`)
      return { status: r.status, body: await r.text() }
    }
    return { srv, get }
  }
  const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))
  /** GET until the body is `want` (or `ms` passes); resolves with how long it took, ms. */
  const until = async (get: () => Promise<{ body: string }>, want: string, ms: number): Promise<number> => {
    const t0 = performance.now()
    while (performance.now() - t0 < ms) {
      if ((await get()).body === want) return performance.now() - t0
      await sleep(50)
    }
    return Infinity
  }

  t.test('with cache-invalidation on', async t => {
    await setOption('on')

    t.test('Volume: the brick tells us about a FUSE write to a file we looked up, with its gfid', async t => {
      await writeFile(join(dir, 'probe.txt'), 'one\n')
      const vol = await Volume.connect({ servers, volume: VOL })
      t.teardown(() => vol.close())
      t.equal(await vol.cacheInvalidation(), true, 'every brick volfile has the upcall xlator with cache-invalidation on')
      const ent = await vol.lookup(`/${top}/probe.txt`)
      const dirEnt = await vol.lookup(`/${top}`)
      const write = waitFor(vol, e => e.gfid === ent.stats.gfid, 10_000)
      await writeFile(join(dir, 'probe.txt'), 'two, longer\n')
      const e = await write
      t.equal(e.type, 'file')
      t.ok((e.flags & GfUpcallFlags.SIZE) !== 0 && (e.flags & GfUpcallFlags.TIMES) !== 0, `flags ${e.flags}: SIZE and TIMES`)
      t.match(e.brick, /^[\d.]+:\d+:\//, 'names the brick that sent it')
      t.ok(e.expireTimeSec > 0, `expire ${e.expireTimeSec} s`)
      // a file created in the directory: the directory's own invalidation
      const created = waitFor(vol, x => x.gfid === dirEnt.stats.gfid, 10_000)
      await writeFile(join(dir, 'created.txt'), 'new\n')
      const d = await created
      t.equal(d.type, 'directory')
      t.ok((d.flags & GfUpcallFlags.TIMES) !== 0, `flags ${d.flags}: TIMES of the directory`)
    })

    t.test('gateway: a 60 s cache still serves the FUSE change within seconds', async t => {
      await writeFile(join(dir, 'page.txt'), 'version 1\n')
      const { srv, get } = await gateway(t, { cacheTtlMs: 60_000, upcallCacheTtlMs: 60_000 })
      t.equal(srv.gateway?.health().mounts[0]?.upcalls, true, 'the mount follows upcalls')
      t.same(await get('page.txt'), { status: 200, body: 'version 1\n' })
      t.same(await get('page.txt'), { status: 200, body: 'version 1\n' }, 'from the cache')
      await writeFile(join(dir, 'page.txt'), 'version 2, changed through FUSE\n')
      const ms = await until(async () => await get('page.txt'), 'version 2, changed through FUSE\n', 20_000)
      t.ok(ms < 10_000, `new content served after ${Math.round(ms)} ms (TTL 60 s)`)

      t.equal((await get('later.txt')).status, 404, 'not there yet (and the 404 is cached)')
      await writeFile(join(dir, 'later.txt'), 'appeared\n')
      const ms2 = await until(async () => await get('later.txt'), 'appeared\n', 20_000)
      t.ok(ms2 < 10_000, `a file created through FUSE served after ${Math.round(ms2)} ms`)

      const metrics = await (await fetch(`${srv.url}/metrics`)).text()
      const n = Number(/gluster_http_cache_invalidations_total\{mount="\/"\} (\d+)/.exec(metrics)?.[1] ?? 0)
      t.ok(n >= 2, `${n} upcalls counted in /metrics`)
    })
  })

  t.test('with cache-invalidation off: the TTL governs', async t => {
    await setOption('off')
    await writeFile(join(dir, 'ttl.txt'), 'old\n')
    const { srv, get } = await gateway(t, { cacheTtlMs: 60_000, upcallCacheTtlMs: 60_000 })
    t.equal(srv.gateway?.health().mounts[0]?.upcalls, false, 'the bricks do not send upcalls: TTL only')
    t.same(await get('ttl.txt'), { status: 200, body: 'old\n' })
    await writeFile(join(dir, 'ttl.txt'), 'new content\n')
    // the upcall path above answered within seconds; here the 60 s entry is still served
    await sleep(4000)
    t.same(await get('ttl.txt'), { status: 200, body: 'old\n' }, 'still the cached content 4 s later')
    const { get: fresh } = await gateway(t, { cacheTtlMs: 0, upcallCacheTtlMs: 0 })
    t.same(await fresh('ttl.txt'), { status: 200, body: 'new content\n' }, 'a gateway without a cache sees the change: it did happen')

    // turned on while the gateway runs: glusterd's FETCHSPEC makes the mount look again
    await setOption('on')
    const health = (): boolean | undefined => srv.gateway?.health().mounts[0]?.upcalls
    for (let i = 0; i < 200 && health() !== true; i++) await sleep(50)
    t.equal(health(), true, 'upcalls noticed without a restart')
    t.same(await get('ttl.txt'), { status: 200, body: 'new content\n' }, 'what was cached before is gone')
    await writeFile(join(dir, 'ttl.txt'), 'third\n')
    const ms = await until(async () => await get('ttl.txt'), 'third\n', 20_000)
    t.ok(ms < 10_000, `and the next FUSE change is served after ${Math.round(ms)} ms`)
  })
}
