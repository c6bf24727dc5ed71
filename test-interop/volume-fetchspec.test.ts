// FETCHSPEC against the REAL GlusterFS 10 cluster: with a Volume connected to vol1 and reads in
// flight, `gluster volume set vol1 network.ping-timeout 30` makes glusterd send FETCHSPEC on the
// volume's management connection; the volume fetches the volfile again, builds the new graph
// (every protocol/client now says ping-timeout 30), switches to it and closes the old bricks once
// their calls finished, and no read in flight fails. The option is reset in teardown.
import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { writeFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Volume } from '@gluster-ts/volume'
import { loadRealCluster } from '../test-cluster/real/index.js'

const cluster = loadRealCluster()
if ('skip' in cluster) {
  t.test('FETCHSPEC against the real cluster', { skip: `real cluster not available: ${cluster.skip}` }, async () => {})
} else {
  const servers = cluster.nodes.map(n => n.ip)
  const sha = (b: Buffer | ReturnType<typeof createHash>): string => (Buffer.isBuffer(b) ? createHash('sha256').update(b) : b).digest('hex')

  t.test('vol1: volume set network.ping-timeout 30 → FETCHSPEC → new graph, reads in flight complete', async t => {
    const mnt = await cluster.mount('vol1')
    const name = `gts-fetchspec-${process.pid}.bin`
    const data = randomBytes(48 << 20)
    await writeFile(join(mnt, name), data)
    t.teardown(() => rm(join(mnt, name), { force: true }))
    let optionSet = false
    t.teardown(async () => { if (optionSet) await cluster.gl(1, 'volume', 'reset', 'vol1', 'network.ping-timeout') })

    const vol = await Volume.connect({ servers, volume: 'vol1' })
    t.teardown(() => vol.close())
    const g0 = vol.graph
    const bricks0 = [...vol.bricks.values()]
    t.same(g0.clients.map(c => c.pingTimeoutSec), [42, 42, 42], 'the default ping-timeout before')

    // stream A is paused by its consumer across the switch; stream B and a readFile loop keep
    // READs in flight on the old bricks while glusterd regenerates the volfile
    const hA = createHash('sha256')
    let nA = 0
    let switchedAt: number | undefined
    let stopLoop = false
    const loopReads: Promise<number> = (async () => {
      let n = 0
      while (!stopLoop) {
        const got = await vol.readFile(`/${name}`) as Buffer
        t.equal(got.length, data.length)
        if (sha(got) !== sha(data)) t.fail('readFile across the switch: wrong bytes')
        n++
      }
      return n
    })()
    const streamB = (async () => {
      const h = createHash('sha256')
      for await (const c of vol.createReadStream(`/${name}`)) h.update(c as Buffer)
      return sha(h)
    })()
    for await (const c of vol.createReadStream(`/${name}`)) {
      hA.update(c as Buffer)
      nA += (c as Buffer).length
      if (switchedAt === undefined && nA >= 8 << 20) {
        const t0 = performance.now()
        await cluster.gl(1, 'volume', 'set', 'vol1', 'network.ping-timeout', '30')
        optionSet = true
        // FETCHSPEC comes on the management connection; the switch happens in the background
        const deadline = performance.now() + 20_000
        while (vol.graph === g0 && performance.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
        switchedAt = performance.now() - t0
        t.not(vol.graph, g0, `switched graphs ${switchedAt.toFixed(0)} ms after volume set (with no refetch() call)`)
      }
    }
    stopLoop = true
    t.equal(nA, data.length, 'stream A: every byte')
    t.equal(sha(hA), sha(data), 'stream A (paused across the switch): right sha256')
    t.equal(await streamB, sha(data), 'stream B (running across the switch): right sha256')
    t.ok(await loopReads >= 1, 'readFile loop across the switch: no error')

    t.same(vol.graph.clients.map(c => c.pingTimeoutSec), [30, 30, 30], 'the new graph has ping-timeout 30')
    const bricks1 = [...vol.bricks.values()]
    t.ok(bricks1.every(b => b.up), 'the new bricks are up')
    t.same(bricks1.map(b => b.pingTimeoutMs), [30_000, 30_000, 30_000])
    for (const b of bricks0) if (!bricks1.includes(b)) t.equal(b.state, 'closed', `old ${b.label} closed`)
    // and the volume keeps serving on the new graph
    t.equal(sha(await vol.readFile(`/${name}`) as Buffer), sha(data), 'a read after the switch')

    // putting the option back switches again
    const g1 = vol.graph
    await cluster.gl(1, 'volume', 'reset', 'vol1', 'network.ping-timeout')
    optionSet = false
    const deadline = performance.now() + 20_000
    while (vol.graph === g1 && performance.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
    t.same(vol.graph.clients.map(c => c.pingTimeoutSec), [42, 42, 42], 'back to 42 after volume reset')
  })
}
