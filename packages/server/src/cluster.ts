// An embedded cluster for tests, demos and `gluster-ts-cluster`: one glusterd and the bricks of
// one volume, all data under one directory. Bricks run in this process, or (brickProcesses)
// each in its own child process whose port we register with our glusterd's portmapper (what
// glusterfsd's SIGNIN does). The volume definition is kept in `<dir>/cluster.json`, so a restart
// serves the same volume (same id, same bricks, same credentials).
//
// Authentication (auth.ts, docs/server.md "Security model"): every brick checks SETVOLUME against
// the volume's auth.allow / auth.reject and its generated username/password, which glusterd puts
// in the volfile it serves to callers on this host only. The embedded default for auth.allow is
// loopback only (LOOPBACK_AUTH_ALLOW), not GlusterFS's `*`: remote clients need `authAllow`.
import fs from 'node:fs'
import path from 'node:path'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Brick } from './brick.js'
import { Glusterd } from './glusterd.js'
import { newVolumeConfig, isArbiterBrick, validateVolume, addCredentials, brickAuth } from './volfile.js'
import type { VolumeConfig } from './volfile.js'

/** auth.allow of the embedded cluster when neither the caller nor cluster.json sets one */
export const LOOPBACK_AUTH_ALLOW = '127.0.0.1,::1'

export interface StartClusterOptions {
  /** where bricks and cluster.json live (created when absent) */
  dir: string
  /** copies of each file (default 3; 1 = distribute) */
  replica?: number
  /** replica sets (default 1): replica 3 × distribute 2 = a 2 x 3 distributed-replicate volume */
  distribute?: number
  /** 1 = the third brick of each replica-3 set is an arbiter */
  arbiter?: number
  /** volume name (default vol1) */
  volume?: string
  /**
   * features.shard on, with this block size ('4MB'; 'default': GlusterFS's 64MB), for a volume
   * created now: clients store files as a base file and `/.shard` blocks
   */
  shardBlockSize?: string
  /** glusterd's TCP port (0 = any free port; default 0) */
  port?: number
  /** address to listen on and to write into volfiles (default 127.0.0.1) */
  host?: string
  /** also serve glusterd on this unix socket */
  unixSocket?: string
  /**
   * Run each brick in its own child process (brick-main) whose port is registered with glusterd
   * (as SIGNIN would); the brick can then be SIGKILLed alone (`brickPid(i)`) and restarted.
   */
  brickProcesses?: boolean
  /**
   * The volume's `auth.allow` for this run: comma-separated addresses, globs (`10.0.0.*`),
   * networks (`10.0.0.0/24`), host names, `!` to negate one; `*` = any address. Default: the
   * volume's own option in cluster.json, else LOOPBACK_AUTH_ALLOW. Clients on this host that
   * fetched the trusted volfile are accepted by their credentials whatever this says.
   */
  authAllow?: string
  /** The volume's `auth.reject` for this run (same syntax); a match is refused even with credentials. */
  authReject?: string
  /**
   * `server.allow-insecure` of the volume and glusterd's `rpc-auth-allow-insecure` for this
   * run: false refuses every call from a TCP source port >= 1024. Default: cluster.json's
   * `server.allow-insecure`, else true (as real bricks and Debian's glusterd).
   */
  allowInsecure?: boolean
}

export interface Cluster {
  readonly volume: VolumeConfig
  readonly glusterd: Glusterd
  /** bricks in volume order (undefined while stopped) */
  readonly bricks: Array<Brick | undefined>
  /** host:port of glusterd, the volfile server */
  readonly volfileServer: string
  readonly host: string
  readonly port: number
  /** Stop one brick: its listener closes and its client connections drop. */
  stopBrick (index: number): Promise<void>
  /** Start a stopped brick again (on a new port, registered with glusterd's portmapper). */
  startBrick (index: number): Promise<void>
  /** Start every brick that is not running (e.g. after a brick process was killed). */
  startStoppedBricks (): Promise<number[]>
  /** The pid of a brick's process (brickProcesses), undefined while stopped or in-process. */
  brickPid (index: number): number | undefined
  /** The port a running brick listens on. */
  brickPort (index: number): number | undefined
  close (): Promise<void>
  [Symbol.asyncDispose] (): Promise<void>
}

interface ClusterFile { version: 1, volumes: VolumeConfig[] }

/** Load or create the cluster's volume and start glusterd and its bricks. */
export async function startCluster (opts: StartClusterOptions): Promise<Cluster> {
  const dir = path.resolve(opts.dir)
  const host = opts.host ?? '127.0.0.1'
  const name = opts.volume ?? 'vol1'
  fs.mkdirSync(dir, { recursive: true })
  const file = path.join(dir, 'cluster.json')
  let conf: ClusterFile = { version: 1, volumes: [] }
  if (fs.existsSync(file)) conf = JSON.parse(fs.readFileSync(file, 'utf8')) as ClusterFile
  let volume = conf.volumes.find(v => v.name === name)
  let changed = false
  if (volume === undefined) {
    const replica = opts.replica ?? 3
    const count = replica * (opts.distribute ?? 1)
    const bricks = Array.from({ length: count }, (_, i) => ({ host, path: path.join(dir, 'bricks', name, `b${i}`) }))
    const shard = opts.shardBlockSize === undefined ? {} : { shard: opts.shardBlockSize === 'default' ? {} : { blockSize: opts.shardBlockSize } }
    volume = newVolumeConfig({ name, replica, ...(opts.arbiter !== undefined ? { arbiter: opts.arbiter } : {}), bricks, ...shard })
    conf.volumes.push(volume)
    changed = true
  } else if ((opts.replica !== undefined && opts.replica !== volume.replica)) {
    throw new Error(`${file}: volume ${name} is replica ${volume.replica}, not ${opts.replica}`)
  } else {
    // cluster.json from before volumes had credentials: make them once, as volume create does
    changed = addCredentials(volume)
  }
  validateVolume(volume)
  if (changed) {
    const tmp = `${file}.tmp`
    fs.writeFileSync(tmp, JSON.stringify(conf, null, 2) + '\n', { mode: 0o600 })
    fs.renameSync(tmp, file)
  }
  // this run's options over the saved ones (not saved: what you pass is what this run does)
  const vol = runVolume(volume, opts)
  const bricks: Array<Brick | undefined> = vol.bricks.map(() => undefined)
  const auth = brickAuth(vol)
  // one switch for the bricks' and glusterd's source-port rule
  const glusterd = new Glusterd({ volumes: [vol], allowInsecure: auth.allowInsecure ?? true })

  const procs: Array<{ proc: ChildProcess, port: number } | undefined> = vol.bricks.map(() => undefined)
  const startBrickProcess = async (i: number): Promise<void> => {
    if (procs[i] !== undefined) return
    const b = vol.bricks[i]!
    const here = fileURLToPath(import.meta.url)
    const main = path.join(path.dirname(here), `brick-main${path.extname(here)}`)
    const args = [...process.execArgv, main, '--dir', b.path, '--volume', vol.name, '--volume-id', vol.id,
      '--host', host, '--port', String(b.port ?? 0)]
    if (isArbiterBrick(vol, i)) args.push('--arbiter')
    const proc = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] })
    // the auth config (with the volume's password) goes over the pipe, not on the command line
    proc.stdin!.on('error', () => {})
    proc.stdin!.write(JSON.stringify({ auth }) + '\n')
    const port = await new Promise<number>((resolve, reject) => {
      let out = ''
      const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`brick ${i} did not start within 90 s: ${out}`)) }, 90_000)
      proc.stdout!.on('data', (d: Buffer) => {
        out += d.toString()
        const m = /^port (\d+)$/m.exec(out)
        if (m !== null) { clearTimeout(timer); resolve(Number(m[1])) }
      })
      proc.once('exit', code => { clearTimeout(timer); reject(new Error(`brick ${i} exited with ${code}: ${out}`)) })
    })
    const entry = { proc, port }
    procs[i] = entry
    // only our child can have told us this port (its stdout is our pipe): register it
    glusterd.registerBrick(b.path, port)
    proc.once('exit', () => {
      if (procs[i] === entry) procs[i] = undefined
      // forget its port (unless a new process registered since)
      glusterd.unregisterBrick(b.path, port)
    })
  }
  const stopBrickProcess = async (i: number): Promise<void> => {
    const e = procs[i]
    if (e === undefined) return
    procs[i] = undefined
    if (e.proc.exitCode !== null || e.proc.signalCode !== null) return
    const exited = new Promise(resolve => e.proc.once('exit', resolve))
    e.proc.kill('SIGTERM')
    const timer = setTimeout(() => { e.proc.kill('SIGKILL') }, 10_000)
    await exited
    clearTimeout(timer)
  }

  const startBrick = async (i: number): Promise<void> => {
    if (opts.brickProcesses === true) return startBrickProcess(i)
    if (bricks[i] !== undefined) return
    const b = vol.bricks[i]!
    const brick = new Brick({ dir: b.path, volume: vol.name, volumeId: vol.id, arbiter: isArbiterBrick(vol, i), auth })
    try {
      await brick.listen(b.port ?? 0, host)
    } catch (err) {
      brick.store.close()
      throw err
    }
    bricks[i] = brick
    glusterd.registerBrick(brick.opts.brickPath, brick.port!)
  }
  const stopBrick = async (i: number): Promise<void> => {
    if (opts.brickProcesses === true) return stopBrickProcess(i)
    const brick = bricks[i]
    if (brick === undefined) return
    bricks[i] = undefined
    glusterd.unregisterBrick(brick.opts.brickPath)
    for (const c of brick.rpc.connections) c.destroy()
    await brick.close()
  }

  try {
    if (opts.brickProcesses === true) {
      await glusterd.listen(opts.port ?? 0, host)
      await Promise.all(vol.bricks.map((_, i) => startBrick(i)))
    } else {
      for (let i = 0; i < vol.bricks.length; i++) await startBrick(i)
      await glusterd.listen(opts.port ?? 0, host)
    }
    if (opts.unixSocket !== undefined) await glusterd.listenUnix(opts.unixSocket)
  } catch (err) {
    await Promise.allSettled(vol.bricks.map((_, i) => stopBrick(i)))
    await glusterd.close()
    throw err
  }
  const port = glusterd.port!
  const close = async (): Promise<void> => {
    await Promise.allSettled(vol.bricks.map((_, i) => stopBrick(i)))
    await glusterd.close()
  }
  const running = (i: number): boolean => opts.brickProcesses === true ? procs[i] !== undefined : bricks[i] !== undefined
  const startStoppedBricks = async (): Promise<number[]> => {
    const started = vol.bricks.map((_, i) => i).filter(i => !running(i))
    await Promise.all(started.map(i => startBrick(i)))
    return started
  }
  return {
    volume: vol, glusterd, bricks, host, port,
    volfileServer: `${host.includes(':') ? `[${host}]` : host}:${port}`,
    stopBrick, startBrick, startStoppedBricks, close,
    brickPid: i => procs[i]?.proc.pid,
    brickPort: i => procs[i]?.port ?? bricks[i]?.port,
    [Symbol.asyncDispose]: close,
  }
}

/** The volume as this run serves it: the caller's auth options over the saved ones, loopback by default. */
function runVolume (saved: VolumeConfig, opts: StartClusterOptions): VolumeConfig {
  const options = { ...saved.options }
  options['auth.allow'] = opts.authAllow ?? options['auth.allow'] ?? LOOPBACK_AUTH_ALLOW
  if (opts.authReject !== undefined) options['auth.reject'] = opts.authReject
  if (opts.allowInsecure !== undefined) options['server.allow-insecure'] = opts.allowInsecure ? 'on' : 'off'
  const v = { ...saved, options }
  validateVolume(v)
  return v
}
