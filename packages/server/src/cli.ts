// gluster-ts-cluster [--replica N | --disperse N] [--redundancy R] --dir DIR --port P [--volume NAME] [--host H] [--arbiter 1] [--distribute K] [--shard-block-size 4MB] [--brick-processes]
//                    [--auth-allow LIST] [--auth-reject LIST] [--allow-insecure on|off]
//                    [--tls-dir DIR [--ssl-allow LIST] [--tls-mgmt]]
// Starts glusterd and the bricks of one volume (in this process, or with --brick-processes each
// brick in its own process), prints where to mount from, and stops cleanly on SIGINT/SIGTERM.
// SIGUSR2 restarts bricks whose process died (each registers with the portmapper on a new port).
import { parseArgs } from 'node:util'
import { startCluster } from './cluster.js'
import { parseBoolean } from './auth.js'

const USAGE = 'usage: gluster-ts-cluster [--replica N | --disperse N [--redundancy R]] --dir DIR --port P [--volume NAME] [--host H] [--arbiter 1] [--distribute K] [--shard-block-size 4MB] [--brick-processes]\n' +
  '                          [--auth-allow LIST] [--auth-reject LIST] [--allow-insecure on|off]\n' +
  '                          [--tls-dir DIR [--ssl-allow LIST] [--tls-mgmt]]\n' +
  '  --tls-dir DIR    serve TLS with DIR/glusterfs.pem, glusterfs.key, glusterfs.ca (client.ssl, server.ssl on)\n' +
  '  --ssl-allow LIST the volume\'s auth.ssl-allow: client CNs the bricks accept (globs, comma-separated)\n' +
  '  --tls-mgmt       glusterd speaks TLS too (clients: --secure-mgmt=yes / management TLS)\n'

export async function main (argv: string[] = process.argv.slice(2)): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      replica: { type: 'string' },
      disperse: { type: 'string' },
      redundancy: { type: 'string' },
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
      'tls-dir': { type: 'string' },
      'ssl-allow': { type: 'string' },
      'tls-mgmt': { type: 'boolean', default: false },
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
  if (values['tls-dir'] === undefined && (values['ssl-allow'] !== undefined || values['tls-mgmt'] === true)) {
    process.stderr.write(`--ssl-allow and --tls-mgmt need --tls-dir\n${USAGE}`)
    process.exitCode = 2
    return
  }
  const cluster = await startCluster({
    dir: values.dir,
    ...(values.replica !== undefined ? { replica: Number(values.replica) } : {}),
    ...(values.disperse !== undefined ? { disperse: Number(values.disperse), ...(values.redundancy !== undefined ? { redundancy: Number(values.redundancy) } : {}) } : {}),
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
    ...(values['tls-dir'] !== undefined
      ? { tls: { dir: values['tls-dir'], management: values['tls-mgmt'], ...(values['ssl-allow'] !== undefined ? { allow: values['ssl-allow'] } : {}) } }
      : {}),
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
