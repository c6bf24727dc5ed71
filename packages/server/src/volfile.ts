// Volume definitions and the client volfiles glusterd serves for them, printed the way glusterd
// 10.3 prints them (gluster-cluster.md §1.2–§1.6; captures/volfiles/vol1.tcp-fuse.vol): leaves
// first, four-space indent, options in reverse order of being set, a blank line between volumes.
import { randomUUID } from 'node:crypto'
import { parseBoolean, validateAuthList } from './auth.js'
import type { AuthConfig } from './auth.js'

/** `auth.allow` when a volume does not set it: what `gluster volume create` gives */
export const DEFAULT_AUTH_ALLOW = '*'

export interface BrickConfig {
  /** host the brick listens on, as clients reach it ("127.0.0.1") */
  host: string
  /** the brick directory (absolute); also the `remote-subvolume` name clients ask for */
  path: string
  /** the brick's port, when fixed; 0 or absent = any free port */
  port?: number
}

export interface VolumeConfig {
  name: string
  /** the volume UUID */
  id: string
  /** copies of each file: 1 = pure distribute */
  replica: number
  /** 1 = the last brick of each replica set is an arbiter (replica 3 only) */
  arbiter?: number
  /** bricks in volume order; replica sets are consecutive groups of `replica` */
  bricks: BrickConfig[]
  /**
   * Volume options by their `gluster volume set` names: `ping-timeout` (clients, default 42),
   * `auth.allow` (default `*`), `auth.reject`, `server.allow-insecure` (default on) for the bricks.
   */
  options?: Record<string, string>
  /**
   * features.shard on: files stored as a base file and `/.shard` blocks by the clients' shard
   * translator. `blockSize` is features.shard-block-size as set ('4MB'); absent: GlusterFS's
   * default (64MB), and no option line, as glusterd writes it.
   */
  shard?: { blockSize?: string }
  /**
   * The volume's auth.login credentials, two UUIDs made once when the volume is created (as
   * `gluster volume create` does); written into the trusted client volfile only.
   */
  username?: string
  password?: string
}

/** One xlator of a volfile: options are given in the order they are printed. */
interface Xlator { name: string, type: string, options: Array<[string, string]>, subvolumes: string[] }

export function newVolumeConfig (o: { name: string, replica: number, arbiter?: number, bricks: BrickConfig[], id?: string, shard?: { blockSize?: string } }): VolumeConfig {
  const v: VolumeConfig = { name: o.name, id: o.id ?? randomUUID(), replica: o.replica, bricks: o.bricks }
  if (o.arbiter !== undefined && o.arbiter > 0) v.arbiter = o.arbiter
  if (o.shard !== undefined) v.shard = o.shard
  addCredentials(v)
  validateVolume(v)
  return v
}

/** Give a volume its username/password when it has none (volumes saved before they existed). Returns whether it did. */
export function addCredentials (v: VolumeConfig): boolean {
  if (v.username !== undefined && v.password !== undefined) return false
  v.username = randomUUID()
  v.password = randomUUID()
  return true
}

/** The auth options glusterd would write into each brick volfile of `v` (gluster-shard-tls-auth.md §3.1). */
export function brickAuth (v: VolumeConfig): AuthConfig {
  const o = v.options ?? {}
  const cfg: AuthConfig = { allow: o['auth.allow'] ?? DEFAULT_AUTH_ALLOW, allowInsecure: parseBoolean(o['server.allow-insecure'] ?? 'on') ?? true }
  if (o['auth.reject'] !== undefined) cfg.reject = o['auth.reject']
  if (v.username !== undefined && v.password !== undefined) cfg.login = { username: v.username, password: v.password }
  return cfg
}

/** Throws when the volume cannot exist (bad name, brick count not a multiple of replica …). */
export function validateVolume (v: VolumeConfig): void {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(v.name)) throw new Error(`volume name ${JSON.stringify(v.name)}: use letters, digits, '-' and '_'`)
  if (!Number.isInteger(v.replica) || v.replica < 1) throw new Error(`volume ${v.name}: replica must be ≥ 1`)
  if (v.bricks.length === 0 || v.bricks.length % v.replica !== 0) {
    throw new Error(`volume ${v.name}: ${v.bricks.length} bricks is not a multiple of replica ${v.replica}`)
  }
  if ((v.arbiter ?? 0) > 0 && (v.replica !== 3 || v.arbiter !== 1)) throw new Error(`volume ${v.name}: arbiter needs replica 3 arbiter 1`)
  const bs = v.shard?.blockSize
  if (bs !== undefined) {
    const n = sizeBytes(bs)
    if (n === undefined || n < 4 * 2 ** 20 || n > 4 * 2 ** 40) throw new Error(`volume ${v.name}: shard block size ${JSON.stringify(bs)} must be a size from 4MB to 4TB`)
  }
  for (const key of ['auth.allow', 'auth.reject'] as const) {
    const list = v.options?.[key]
    if (list !== undefined) validateAuthList(`volume ${v.name}: ${key}`, list)
  }
  const insecure = v.options?.['server.allow-insecure']
  if (insecure !== undefined && parseBoolean(insecure) === undefined) throw new Error(`volume ${v.name}: server.allow-insecure ${JSON.stringify(insecure)}: use on or off`)
  // credentials go into volfiles as `option username X`: one printable word each
  for (const key of ['username', 'password'] as const) {
    const val = v[key]
    if (val !== undefined && !/^[\x21-\x7e]{1,255}$/.test(val)) throw new Error(`volume ${v.name}: ${key} must be 1-255 printable characters without spaces`)
  }
  const seen = new Set<string>()
  for (const b of v.bricks) {
    const k = `${b.host}:${b.path}`
    if (seen.has(k)) throw new Error(`volume ${v.name}: brick ${k} listed twice`)
    seen.add(k)
  }
}

/** A size as `gluster volume set` takes it ('4MB', '64MB', '1GB', '4194304'): binary units. */
export function sizeBytes (v: string): number | undefined {
  const m = /^(\d+)([KMGT]?)B?$/i.exec(v.trim())
  if (m === null) return undefined
  return Number(m[1]) * 1024 ** 'BKMGT'.indexOf(m[2] === '' ? 'B' : m[2]!.toUpperCase())
}

/** Whether brick `index` of `v` is an arbiter (the third of its replica set when arbiter 1). */
export function isArbiterBrick (v: VolumeConfig, index: number): boolean {
  return (v.arbiter ?? 0) === 1 && v.replica === 3 && index % 3 === 2
}

/**
 * The client volfile (`<vol>.tcp-fuse.vol`). `glusterdPort`, when not 24007, is written as
 * `remote-port` of every protocol/client, so clients ask *our* glusterd's portmapper for the
 * brick port (and again after a brick restarts on another port). `trusted` gives
 * `trusted-<vol>.tcp-fuse.vol`: the same plus the volume's `username`/`password` on every
 * protocol/client (captures/volfiles/vol1.trusted-tcp-fuse.vol), for callers glusterd trusts.
 */
export function clientVolfile (v: VolumeConfig, opts: { glusterdPort?: number, trusted?: boolean } = {}): string {
  const xl: Xlator[] = []
  const clients = v.bricks.map((b, i): string => {
    const name = `${v.name}-client-${i}`
    const options: Array<[string, string]> = [
      ['send-gids', 'true'],
      ['strict-locks', 'off'],
      ['transport.socket.keepalive-count', '9'],
      ['transport.socket.keepalive-interval', '2'],
      ['transport.socket.keepalive-time', '20'],
      ['transport.tcp-user-timeout', '0'],
      ['transport.socket.ssl-enabled', 'off'],
    ]
    if (opts.trusted === true && v.username !== undefined && v.password !== undefined) {
      options.push(['password', v.password], ['username', v.username])
    }
    options.push(
      ['transport.address-family', 'inet'],
      ['transport-type', 'tcp'],
      ['remote-subvolume', b.path],
    )
    if (opts.glusterdPort !== undefined && opts.glusterdPort !== 24007) options.push(['remote-port', String(opts.glusterdPort)])
    options.push(['remote-host', b.host], ['ping-timeout', v.options?.['ping-timeout'] ?? '42'])
    xl.push({ name, type: 'protocol/client', options, subvolumes: [] })
    return name
  })
  let children = clients
  if (v.replica > 1) {
    children = []
    for (let j = 0; j * v.replica < clients.length; j++) {
      const set = clients.slice(j * v.replica, (j + 1) * v.replica)
      const name = `${v.name}-replicate-${j}`
      const options: Array<[string, string]> = [
        ['use-anonymous-inode', 'yes'],
        ['use-compound-fops', 'off'],
        ['granular-entry-heal', 'on'],
      ]
      if ((v.arbiter ?? 0) > 0) options.push(['arbiter-count', String(v.arbiter)])
      options.push(['volume-id', v.id], ['afr-pending-xattr', set.join(',')])
      xl.push({ name, type: 'cluster/replicate', options, subvolumes: set })
      children.push(name)
    }
  }
  const chain: Array<[string, string, Array<[string, string]>]> = [
    [`${v.name}-dht`, 'cluster/distribute', [['force-migration', 'off'], ['lock-migration', 'off']]],
    // glusterd puts shard right above DHT (captures/volume-types/shard-4MB/vol4.tcp-fuse.vol)
    ...(v.shard !== undefined ? [[`${v.name}-shard`, 'features/shard', v.shard.blockSize !== undefined ? [['shard-block-size', v.shard.blockSize]] : []] as [string, string, Array<[string, string]>]] : []),
    [`${v.name}-utime`, 'features/utime', [['noatime', 'on']]],
    [`${v.name}-write-behind`, 'performance/write-behind', []],
    [`${v.name}-open-behind`, 'performance/open-behind', []],
    [`${v.name}-quick-read`, 'performance/quick-read', []],
    [`${v.name}-md-cache`, 'performance/md-cache', []],
    [v.name, 'debug/io-stats', [
      ['global-threading', 'off'], ['count-fop-hits', 'off'], ['latency-measurement', 'off'], ['threads', '16'], ['log-level', 'INFO'],
    ]],
  ]
  let below = children
  for (const [name, type, options] of chain) {
    xl.push({ name, type, options, subvolumes: below })
    below = [name]
  }
  return printVolfile(xl)
}

function printVolfile (xl: Xlator[]): string {
  return xl.map(x => {
    let s = `volume ${x.name}\n    type ${x.type}\n`
    for (const [k, val] of x.options) s += `    option ${k} ${val}\n`
    if (x.subvolumes.length > 0) s += `    subvolumes ${x.subvolumes.join(' ')}\n`
    return s + 'end-volume\n'
  }).join('\n')
}
