// (test-cluster/ is not a workspace package, so the server is imported by its entry file.)
// The embedded gluster-ts cluster (packages/server) for other packages' tests: glusterd and the
// bricks of one volume in the test's own process, no root needed.
//   const c = await startCluster({ dir: t.testdir(), replica: 3, port: 0 }); t.teardown(() => c.close())
//   mount or connect to c.volfileServer, volume c.volume.name
export { startCluster } from '../packages/server/src/index.js'
export type { Cluster, StartClusterOptions } from '../packages/server/src/index.js'
