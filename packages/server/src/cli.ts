// gluster-ts-cluster --replica N --dir DIR --port P [--volume NAME] [--host H] [--arbiter 1] [--distribute K] [--shard-block-size 4MB] [--brick-processes]
//                    [--auth-allow LIST] [--auth-reject LIST] [--allow-insecure on|off]
// Starts glusterd and the bricks of one volume (in this process, or with --brick-processes each
// brick in its own process), prints where to mount from, and stops cleanly on SIGINT/SIGTERM.
// SIGUSR2 restarts bricks whose process died (each registers with the portmapper on a new port).
import { parseArgs } from 'node:util'
import { startCluster } from './cluster.js'
import { parseBoolean } from './auth.js'

const USAGE = 'usage: gluster-ts-cluster --replica N --dir DIR --port P [--volume NAME] [--host H] [--arbiter 1] [--distribute K] [--shard-block-size 4MB] [--brick-processes]\n' +
  '                          [--auth-allow LIST] [--auth-reject LIST] [--allow-insecure on|off]\n'

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
      'shard-block-size': { type: 'string' },
      'brick-processes': { type: 'boolean', default: false },
      'auth-allow': { type: 'string' },
      'auth-reject': { type: 'string' },
      'allow-insecure': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help === true || values.dir === undefined) {
    process.stdout.write(USAGE)
    process.exitCode = values.help === true ? 0 : 2
    return
  }
  const insecure = values['allow-insecure'] !== undefined ? parseBoolean(values['allow-insecure']) : undefined
  if (values['allow-insecure'] !== undefined && insecure === undefined) {
    process.stderr.write(`--allow-insecure ${values['allow-insecure']}: use on or off\n${USAGE}`)
    process.exitCode = 2
    return
  }
  const cluster = await startCluster({
    dir: values.dir,
    replica: Number(values.replica),
    distribute: Number(values.distribute),
    port: Number(values.port),
    volume: values.volume,
    host: values.host,
    brickProcesses: values['brick-processes'],
    ...(values.arbiter !== undefined ? { arbiter: Number(values.arbiter) } : {}),
    ...(values['shard-block-size'] !== undefined ? { shardBlockSize: values['shard-block-size'] } : {}),
    ...(values['auth-allow'] !== undefined ? { authAllow: values['auth-allow'] } : {}),
    ...(values['auth-reject'] !== undefined ? { authReject: values['auth-reject'] } : {}),
    ...(insecure !== undefined ? { allowInsecure: insecure } : {}),
  })
  process.stdout.write(`volume ${cluster.volume.name}\nvolfile-server ${cluster.volfileServer}\n` +
    `mount: glusterfs --volfile-server=${cluster.host} --volfile-server-port=${cluster.port} --volfile-id=${cluster.volume.name} MOUNTPOINT\n`)
  const printBricks = (which: number[]): void => {
    for (const i of which) {
      const pid = cluster.brickPid(i)
      process.stdout.write(`brick ${i} ${cluster.volume.bricks[i]!.path} port ${cluster.brickPort(i) ?? '-'}${pid !== undefined ? ` pid ${pid}` : ''}\n`)
    }
  }
  printBricks(cluster.volume.bricks.map((_, i) => i))
  process.stdout.write('ready\n')
  process.on('SIGUSR2', () => {
    cluster.startStoppedBricks().then(printBricks, err => { process.stderr.write(`restart: ${String(err)}\n`) })
  })
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
