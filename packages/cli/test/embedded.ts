// An embedded gluster-ts cluster (packages/server, in this test's process) with a Volume on it,
// for tests that run the built command against it.
import type { Test } from 'tap'
import { Volume } from '@gluster-ts/volume'
import { startCluster, type Cluster } from '../../../test-cluster/ts-cluster.js'
import { scratch } from './built.js'

export interface Embedded {
  cluster: Cluster
  /** connected to the cluster (closed at teardown) */
  vol: Volume
  /** 'gluster://127.0.0.1:PORT/vol1' (no trailing slash) */
  url: string
}

export async function embedded (t: Test, o: { replica?: number, distribute?: number } = {}): Promise<Embedded> {
  const cluster = await startCluster({ dir: scratch(t, 'gts-cli-cluster-'), replica: o.replica ?? 3, distribute: o.distribute ?? 1, port: 0 })
  t.teardown(() => cluster.close())
  const vol = await Volume.connect({ servers: [cluster.volfileServer], volume: cluster.volume.name })
  t.teardown(() => vol.close())
  return { cluster, vol, url: `gluster://${cluster.volfileServer}/${cluster.volume.name}` }
}
