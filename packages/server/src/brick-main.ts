// One brick in its own process (what glusterfsd is to glusterd): serves one brick directory,
// then SIGNINs to glusterd's portmapper with its port, so clients find it by PORTBYBRICK, also
// after a restart on a new port. Started by startCluster({ brickProcesses: true }) and the CLI.
//   brick-main --dir D --volume V --volume-id UUID --glusterd HOST:PORT [--brick-path P] [--host H] [--port N] [--arbiter]
// Prints `port N` on stdout once signed in. SIGTERM/SIGINT: SIGNOUT, close, exit 0.
import { parseArgs } from 'node:util'
import { RpcClient, PortmapProgram } from '@gluster-ts/rpc'
import { Brick } from './brick.js'

/** Tell glusterd's portmapper where a brick listens (one short-lived connection, like glusterfsd). */
export async function pmapCall (glusterd: string, proc: 'SIGNIN' | 'SIGNOUT', brick: string, port: number): Promise<void> {
  const client = await RpcClient.connect(glusterd)
  try {
    const rsp = proc === 'SIGNIN'
      ? await client.call(PortmapProgram.procs.SIGNIN, { brick, port, pid: process.pid }, { timeoutMs: 10_000 })
      : await client.call(PortmapProgram.procs.SIGNOUT, { brick, port, rdma_port: 0 }, { timeoutMs: 10_000 })
    if (rsp.op_ret !== 0) throw new Error(`${proc} ${brick}: op_ret ${rsp.op_ret} errno ${rsp.op_errno}`)
  } finally {
    client.destroy()
  }
}

export async function brickMain (argv: string[] = process.argv.slice(2)): Promise<void> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      dir: { type: 'string' },
      volume: { type: 'string' },
      'volume-id': { type: 'string' },
      glusterd: { type: 'string' },
      'brick-path': { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      arbiter: { type: 'boolean', default: false },
    },
  })
  if (v.dir === undefined || v.volume === undefined || v['volume-id'] === undefined || v.glusterd === undefined) {
    process.stderr.write('usage: brick-main --dir D --volume V --volume-id UUID --glusterd HOST:PORT [--brick-path P] [--host H] [--port N] [--arbiter]\n')
    process.exitCode = 2
    return
  }
  const brick = new Brick({
    dir: v.dir, volume: v.volume, volumeId: v['volume-id'], arbiter: v.arbiter,
    ...(v['brick-path'] !== undefined ? { brickPath: v['brick-path'] } : {}),
  })
  await brick.listen(Number(v.port), v.host)
  const port = brick.port!
  const glusterd = v.glusterd
  await pmapCall(glusterd, 'SIGNIN', brick.opts.brickPath, port)
  process.stdout.write(`port ${port}\n`)
  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    const done = async (): Promise<void> => {
      await pmapCall(glusterd, 'SIGNOUT', brick.opts.brickPath, port).catch(() => {})
      for (const c of brick.rpc.connections) c.destroy()
      await brick.close()
    }
    done().then(() => { process.exit(0) }, err => { process.stderr.write(`${String(err)}\n`); process.exit(1) })
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  // the cluster process holds our stdin: when it dies without stopping us, stop too
  process.stdin.on('end', stop)
  process.stdin.on('error', stop)
  process.stdin.resume()
}

const isMain = process.argv[1] !== undefined && /brick-main\.(ts|js)$/.test(process.argv[1])
if (isMain) brickMain().catch((err: unknown) => { process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`); process.exit(1) })
