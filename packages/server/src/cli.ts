// gluster-ts-cluster --replica N --dir DIR --port P [--volume NAME] [--host H] [--arbiter 1] [--distribute K]
// Starts glusterd and the bricks of one volume in this process, prints where to mount from, and
// stops cleanly on SIGINT/SIGTERM.
import { parseArgs } from 'node:util'
import { startCluster } from './cluster.js'

export async function main (argv: string[] = process.argv.slice(2)): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      replica: { type: 'string', default: '3' },
      dir: { type: 'string' },
      port: { type: 'string', default: '24007' },
      volume: { type: 'string', default: 'vol1' },
      host: { type: 'string', default: '127.0.0.1' },
      arbiter: { type: 'string' },
      distribute: { type: 'string', default: '1' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help === true || values.dir === undefined) {
    process.stdout.write('usage: gluster-ts-cluster --replica N --dir DIR --port P [--volume NAME] [--host H] [--arbiter 1] [--distribute K]\n')
    process.exitCode = values.help === true ? 0 : 2
    return
  }
  const cluster = await startCluster({
    dir: values.dir,
    replica: Number(values.replica),
    distribute: Number(values.distribute),
    port: Number(values.port),
    volume: values.volume,
    host: values.host,
    ...(values.arbiter !== undefined ? { arbiter: Number(values.arbiter) } : {}),
  })
  process.stdout.write(`volume ${cluster.volume.name}\nvolfile-server ${cluster.volfileServer}\n` +
    `mount: glusterfs --volfile-server=${cluster.host} --volfile-server-port=${cluster.port} --volfile-id=${cluster.volume.name} MOUNTPOINT\n`)
  let stopping = false
  const stop = (sig: string): void => {
    if (stopping) return
    stopping = true
    process.stderr.write(`${sig}: stopping\n`)
    cluster.close().then(() => { process.exit(0) }, err => { process.stderr.write(`${String(err)}\n`); process.exit(1) })
  }
  process.on('SIGINT', () => { stop('SIGINT') })
  process.on('SIGTERM', () => { stop('SIGTERM') })
}
