// packages/volume against the REAL GlusterFS 10 cluster (test-cluster/real): a tree written
// through the FUSE mount reads back identical through our API on vol1 (replica 3) and vol2
// (2 x 3); a brick SIGKILLed mid-stream; a brick SIGSTOPped (hung) while reading; typed errors
// for a wrong volume and for volfile servers that are all down.
import t from 'tap'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { existsSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { Volume } from '@gluster-ts/volume'
import { superFastHash } from '@gluster-ts/volume/internals'
import { loadRealCluster } from '../test-cluster/real/index.js'
import { writeTree, checkTree, checkBrickKillMidStream, checkFrozenBrick } from './volume-read-checks.js'

const cluster = loadRealCluster()
if ('skip' in cluster) {
  t.test('volume against the real cluster', { skip: `real cluster not available: ${cluster.skip}` }, async () => {})
} else {
  const servers = cluster.nodes.map(n => n.ip)
  const top = `gts-volume-${process.pid}`

  /**
   * Teardown: remove `rel` from `volName` through the FUSE mount, and check it is gone. The mount is
   * (re)made first, and a failed rm is retried for a while: right after a brick was thawed or
   * restarted the FUSE client may still be reconnecting to it. Register it BEFORE creating `rel`
   * and before any brick is frozen or killed: tap runs teardowns last-in first-out, so the brick
   * is back before this runs, and a failure half-way through creating `rel` still removes it.
   */
  const removeFromVolume = async (volName: string, rel: string): Promise<void> => {
    let last: unknown
    for (let attempt = 0; attempt < 8; attempt++) {
      if (attempt > 0) await sleep(2000)
      try {
        const mnt = await cluster.mount(volName)
        await rm(join(mnt, rel), { recursive: true, force: true })
        if (!existsSync(join(mnt, rel))) return
      } catch (err) {
        last = err
      }
    }
    throw new Error(`teardown: could not remove /${rel} from ${volName}`, { cause: last })
  }

  for (const volName of ['vol1', 'vol2']) {
    t.test(`${volName}: a tree written through FUSE reads back identical`, async t => {
      const mnt = await cluster.mount(volName)
      await rm(join(mnt, top), { recursive: true, force: true })
      t.teardown(() => removeFromVolume(volName, top))
      const files = await writeTree(join(mnt, top))
      const vol = await Volume.connect({ servers, volume: volName })
      t.teardown(() => vol.close())
      await checkTree(t, vol, mnt, top, files)
    })
  }

  t.test('vol1: SIGKILL one brick while a 100 MiB stream is read: it completes with the right sha256', async t => {
    const mnt = await cluster.mount('vol1')
    const vol = await Volume.connect({ servers, volume: 'vol1' })
    t.teardown(() => vol.close())
    await checkBrickKillMidStream(t, vol, mnt, {
      name: `${top}-100m.bin`,
      // the copy read-hash-mode 1 reads from
      readBrick: gfid => superFastHash(Buffer.from(gfid.replace(/-/g, ''), 'hex')) % 3,
      kill: i => cluster.killBrick(i + 1, 'vol1'),
      restart: () => cluster.startBrick('vol1'),
      remove: rel => removeFromVolume('vol1', rel),
    })
  })

  t.test('vol1: one brick SIGSTOPped: 20 reads complete quickly (worst latency measured)', async t => {
    const mnt = await cluster.mount('vol1')
    const vol = await Volume.connect({ servers, volume: 'vol1' })
    t.teardown(() => vol.close())
    await checkFrozenBrick(t, vol, mnt, {
      dir: `${top}-hung`,
      freeze: async () => { await cluster.freezeBrick(2, 'vol1') },
      thaw: async () => { await cluster.contBrick(2, 'vol1') },
      remove: rel => removeFromVolume('vol1', rel),
    })
  })

  t.test('glusterd of node 1 killed: connect succeeds through node 2; all three killed: EGLUSTER_NOVOLFILE within 5 s', async t => {
    const dead = new Set<number>()
    // start the dead ones together: each start waits until its glusterd sees its peers connected
    const restart = async (): Promise<void> => { await Promise.all([...dead].map(n => cluster.startGlusterd(n))); dead.clear() }
    t.teardown(restart)
    await cluster.killGlusterd(1)
    dead.add(1)
    const v = await Volume.connect({ servers, volume: 'vol1' })
    t.ok((await v.stat('/')).isDirectory(), 'connected with node 1\'s glusterd dead, and reads')
    await v.close()
    await cluster.killGlusterd(2)
    dead.add(2)
    await cluster.killGlusterd(3)
    dead.add(3)
    const t0 = performance.now()
    const e = await Volume.connect({ servers, volume: 'vol1' }).then(() => null, (err: unknown) => err as Error & { code: string, cause: AggregateError })
    const ms = performance.now() - t0
    t.equal(e?.code, 'EGLUSTER_NOVOLFILE')
    t.same(e?.cause.errors.map((x: { address?: string }) => x.address), servers.map(s => `${s}:24007`))
    t.ok(ms < 5000, `all three glusterds down: failed in ${ms.toFixed(0)} ms`)
    t.comment(`all three glusterds down: EGLUSTER_NOVOLFILE in ${ms.toFixed(0)} ms: ${e?.message}`)
    await restart()
  })

  t.test('errors: wrong volume name, and every server down', async t => {
    const e1 = await Volume.connect({ servers, volume: 'no-such-volume' }).then(() => null, (e: unknown) => e as Error & { code: string, cause: AggregateError })
    t.equal(e1?.code, 'EGLUSTER_NOVOLFILE')
    t.equal(e1?.cause.errors.length, 3)
    t.same(e1?.cause.errors.map((x: { reason?: string }) => x.reason), ['no-such-volume', 'no-such-volume', 'no-such-volume'])
    // nobody listens on 24099 on any node: refused everywhere, within 5 s
    const t0 = performance.now()
    const e2 = await Volume.connect({ servers: servers.map(s => `${s}:24099`), volume: 'vol1' }).then(() => null, (e: unknown) => e as Error & { code: string, cause: AggregateError })
    const ms = performance.now() - t0
    t.equal(e2?.code, 'EGLUSTER_NOVOLFILE')
    t.same(e2?.cause.errors.map((x: { address?: string }) => x.address), servers.map(s => `${s}:24099`))
    t.same(e2?.cause.errors.map((x: { reason?: string }) => x.reason), ['refused', 'refused', 'refused'])
    t.ok(ms < 5000, `failed in ${ms.toFixed(0)} ms`)
    t.match(e2?.message, new RegExp(servers.map(s => `${s.replace(/\./g, '\\.')}:24099`).join('.*')))
    // (DNS failures are told apart too, see packages/volume/test/integration/bootstrap.test.ts: no
    // lookup here, the name server is outside the cluster's network)
    // the first server refuses, the second answers
    const v = await Volume.connect({ servers: [`${servers[0]}:24099`, servers[1]!], volume: 'vol1' })
    t.ok((await v.stat('/')).isDirectory())
    await v.close()
  })
}
