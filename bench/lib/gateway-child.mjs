// bench/http's gateway: plain `node` on the built packages (`pnpm build`), as `gluster-ts serve`
// runs in production, so its RSS is the gateway's own and not that of a TypeScript loader.
import { startGatewayServer } from '@gluster-ts/http'

const o = JSON.parse(process.argv[2])
const s = await startGatewayServer({
  mounts: [{ mountpoint: '/', volume: 'vol1', servers: o.servers }],
  host: '127.0.0.1', port: 0, workers: o.workers, accessLog: false,
})
process.stdout.write(`URL ${s.url}\n`)
process.on('SIGTERM', () => { void s.close().then(() => process.exit(0)) })
