// The standalone server: in-process (workers 1, the gateway exposed) and with node:cluster
// workers sharing the port (each worker compiles the sources under tsx: this file is slow).
import t from 'tap'
import { tmpDir, seed } from './helpers.js'
import { startCluster } from '../../../test-cluster/ts-cluster.js'
import { startGatewayServer } from '../src/index.js'

t.test('startGatewayServer: in-process (workers 1) and with 2 node:cluster workers', async t => {
  const c = await startCluster({ dir: tmpDir(t), replica: 3, port: 0 })
  t.teardown(() => c.close())
  seed(c, { '/w.txt': 'worker' })
  const mounts = [{ mountpoint: '/v', volume: c.volume.name, servers: [c.volfileServer] }]
  const one = await startGatewayServer({ mounts, port: 0, workers: 1, accessLog: false })
  t.teardown(() => one.close())
  t.ok(one.gateway)
  t.equal(await (await fetch(one.url + '/v/w.txt')).text(), 'worker')
  const two = await startGatewayServer({ mounts, port: 0, workers: 2, accessLog: false })
  t.teardown(() => two.close())
  t.equal(two.gateway, undefined)
  const pids = new Set<string>()
  for (let i = 0; i < 20; i++) {
    const r = await fetch(two.url + '/v/w.txt', { headers: { connection: 'close' } })
    t.equal(await r.text(), 'worker')
    const m = await (await fetch(two.url + '/metrics', { headers: { connection: 'close' } })).text()
    const w = /worker="(\d+)"/.exec(m)?.[1]
    if (w !== undefined) pids.add(w)
  }
  t.ok(pids.size >= 1, `answered by workers ${[...pids].join(', ')}`)
  await two.close()
  await one.close()
})
