// One brick in its own process (what glusterfsd is to glusterd): serves one brick directory.
// Started by startCluster({ brickProcesses: true }) and the CLI, never by hand:
//   brick-main --dir D --volume V --volume-id UUID [--brick-path P] [--host H] [--port N] [--arbiter]
// The parent writes one JSON line on our stdin first, `{"auth": AuthConfig}`: the credentials
// stay off the command line (which every local user can read in /proc). We print `port N` on
// stdout once listening, and the parent registers that port with its glusterd: a pipe only our
// parent holds, where glusterfsd would SIGNIN over TCP (which our glusterd refuses from anyone).
// SIGTERM/SIGINT, or our stdin ending (the parent died): close, exit 0.
import { parseArgs } from 'node:util'
import { Brick } from './brick.js'
import type { AuthConfig } from './auth.js'

export interface BrickMainConfig {
  auth?: AuthConfig
}

/** The first line of stdin, parsed; resolves undefined when stdin ends first. */
function readConfig (): Promise<BrickMainConfig | undefined> {
  return new Promise((resolve, reject) => {
    let buf = ''
    const onData = (d: Buffer): void => {
      buf += d.toString('utf8')
      const nl = buf.indexOf('\n')
      if (nl < 0) {
        if (buf.length > 1024 * 1024) done(new Error('config line too long'))
        return
      }
      try {
        done(undefined, JSON.parse(buf.slice(0, nl)) as BrickMainConfig)
      } catch (err) {
        done(err as Error)
      }
    }
    const onEnd = (): void => { done(undefined, undefined) }
    const done = (err: Error | undefined, cfg?: BrickMainConfig): void => {
      process.stdin.off('data', onData)
      process.stdin.off('end', onEnd)
      process.stdin.pause()
      if (err !== undefined) reject(err)
      else resolve(cfg)
    }
    process.stdin.on('data', onData)
    process.stdin.once('end', onEnd)
  })
}

export async function brickMain (argv: string[] = process.argv.slice(2)): Promise<void> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      dir: { type: 'string' },
      volume: { type: 'string' },
      'volume-id': { type: 'string' },
      'brick-path': { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      arbiter: { type: 'boolean', default: false },
    },
  })
  if (v.dir === undefined || v.volume === undefined || v['volume-id'] === undefined) {
    process.stderr.write('usage: brick-main --dir D --volume V --volume-id UUID [--brick-path P] [--host H] [--port N] [--arbiter] < config-line\n')
    process.exitCode = 2
    return
  }
  const cfg = await readConfig()
  if (cfg === undefined) return // the parent went away before telling us anything
  const brick = new Brick({
    dir: v.dir, volume: v.volume, volumeId: v['volume-id'], arbiter: v.arbiter,
    ...(v['brick-path'] !== undefined ? { brickPath: v['brick-path'] } : {}),
    ...(cfg.auth !== undefined ? { auth: cfg.auth } : {}),
  })
  await brick.listen(Number(v.port), v.host)
  process.stdout.write(`port ${brick.port!}\n`)
  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    const done = async (): Promise<void> => {
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
