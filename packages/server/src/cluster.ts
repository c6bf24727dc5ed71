// An embedded cluster for tests, demos and `gluster-ts-cluster`: one glusterd and the bricks of
// one volume, all in this process, all data under one directory. The volume definition is kept
// in `<dir>/cluster.json`, so a restart serves the same volume (same id, same bricks).
import fs from 'node:fs'
import path from 'node:path'
import { Brick } from './brick.js'
import { Glusterd } from './glusterd.js'
import { newVolumeConfig, isArbiterBrick, validateVolume } from './volfile.js'
import type { VolumeConfig } from './volfile.js'

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
  /** glusterd's TCP port (0 = any free port; default 0) */
  port?: number
  /** address to listen on and to write into volfiles (default 127.0.0.1) */
  host?: string
  /** also serve glusterd on this unix socket */
  unixSocket?: string
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
  if (volume === undefined) {
    const replica = opts.replica ?? 3
    const count = replica * (opts.distribute ?? 1)
    const bricks = Array.from({ length: count }, (_, i) => ({ host, path: path.join(dir, 'bricks', name, `b${i}`) }))
    volume = newVolumeConfig({ name, replica, ...(opts.arbiter !== undefined ? { arbiter: opts.arbiter } : {}), bricks })
    conf.volumes.push(volume)
    const tmp = `${file}.tmp`
    fs.writeFileSync(tmp, JSON.stringify(conf, null, 2) + '\n')
    fs.renameSync(tmp, file)
  } else if ((opts.replica !== undefined && opts.replica !== volume.replica)) {
    throw new Error(`${file}: volume ${name} is replica ${volume.replica}, not ${opts.replica}`)
  }
  validateVolume(volume)
  const vol = volume
  const bricks: Array<Brick | undefined> = vol.bricks.map(() => undefined)
  const glusterd = new Glusterd({ volumes: [vol] })

  const startBrick = async (i: number): Promise<void> => {
    if (bricks[i] !== undefined) return
    const b = vol.bricks[i]!
    const brick = new Brick({ dir: b.path, volume: vol.name, volumeId: vol.id, arbiter: isArbiterBrick(vol, i) })
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
    const brick = bricks[i]
    if (brick === undefined) return
    bricks[i] = undefined
    glusterd.unregisterBrick(brick.opts.brickPath)
    for (const c of brick.rpc.connections) c.destroy()
    await brick.close()
  }

  try {
    for (let i = 0; i < vol.bricks.length; i++) await startBrick(i)
    await glusterd.listen(opts.port ?? 0, host)
    if (opts.unixSocket !== undefined) await glusterd.listenUnix(opts.unixSocket)
  } catch (err) {
    await Promise.allSettled(bricks.map((_, i) => stopBrick(i)))
    await glusterd.close()
    throw err
  }
  const port = glusterd.port!
  const close = async (): Promise<void> => {
    await glusterd.close()
    await Promise.allSettled(bricks.map((_, i) => stopBrick(i)))
  }
  return {
    volume: vol, glusterd, bricks, host, port,
    volfileServer: `${host.includes(':') ? `[${host}]` : host}:${port}`,
    stopBrick, startBrick, close,
    [Symbol.asyncDispose]: close,
  }
}
