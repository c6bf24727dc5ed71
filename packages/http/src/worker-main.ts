// Entry of a node:cluster worker forked by startGatewayServer.
import { runWorker } from './server.js'

runWorker().catch((err: unknown) => {
  process.stderr.write(`gluster-ts gateway worker: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
