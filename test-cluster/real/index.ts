// Typed access to the REAL GlusterFS cluster that test-cluster/real/cluster.sh runs, for interop
// tests and benches. Everything that changes the cluster goes through cluster.sh (one implementation
// of "which process is brick 2", pid-file checks, bounded waits); this module only reads
// cluster.json, runs the script with timeouts, and parses a few outputs.
//
//   const rc = loadRealCluster()
//   if ('skip' in rc) { t.skip(rc.skip); return }   // or t.test(name, { skip: rc.skip }, …)
//   const mnt = await rc.mount('vol1')
//   await rc.killBrick(2)                           // SIGKILL brick 2 of vol1
import { execFile, type ExecFileException } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const DEFAULT_ROOT = '/tmp/gluster-ts-real'

/** cluster.sh's default state directory for GTS_REAL_ID (0 or unset: DEFAULT_ROOT; K: /tmp/gluster-ts-real-K) */
export function defaultRoot (id = process.env.GTS_REAL_ID ?? '0'): string {
  return id === '0' || id === '' ? DEFAULT_ROOT : `${DEFAULT_ROOT}-${id}`
}
/** The cluster.sh next to this module (not the one named in cluster.json: they are the same file). */
export const CLUSTER_SH = fileURLToPath(new URL('./cluster.sh', import.meta.url))

export type VolumeType = 'replicate' | 'distributed-replicate' | 'disperse'

export interface RealNode {
  n: number
  /** network namespace, gts-nN */
  ns: string
  ip: string
  /** glusterd's CLI unix socket (reachable from the root namespace) */
  glusterdSocket: string
  /** that node's /var/lib/glusterd as seen from the root namespace (vols/VOL/… lives here) */
  glusterdVolfileDir: string
  glusterdPidFile: string
  runDir: string
  logDir: string
}

export interface RealBrick {
  /** 1-based brick number in volume order (= client-(n-1) in the client volfile) */
  n: number
  node: number
  host: string
  path: string
  pidFile: string
  /** the brick (server-side) volfile glusterd generated */
  volfile: string
}

export interface RealClientVolfile {
  node: number
  /** vols/VOL/VOL.tcp-fuse.vol: what glusterd serves a client from another host (GETSPEC over TCP) */
  path: string
  /** vols/VOL/trusted-VOL.tcp-fuse.vol: the same plus username/password in every protocol/client */
  trusted: string
}

export interface RealVolume {
  type: VolumeType
  /** replicate volumes: 3 */
  replica?: number
  /** disperse volumes: bricks per set (n) and redundancy (r); k = n − r */
  disperse?: number
  redundancy?: number
  distribute: number
  bricks: RealBrick[]
  clientVolfiles: RealClientVolfile[]
}

export interface ClusterInfo {
  root: string
  script: string
  network: { bridge: string; hostIp: string; cidr: string }
  brickPorts: [number, number]
  nodes: RealNode[]
  volumes: Record<string, RealVolume>
  /** volume -> FUSE mountpoint, for the volumes `mount` has mounted */
  mounts: Record<string, string>
  /** TLS (tls.sh) when `tls-up` ran: where the certificates are, the TLS volume, management TLS on? */
  tls?: { dir: string, volume: string, mgmt: boolean, sslAllow: string, serverSslDir: string } | null
}

export interface BrickStatus {
  host: string
  path: string
  /** null while the brick is offline */
  port: number | null
  pid: number | null
  online: boolean
}

export interface HealInfo {
  raw: string
  bricks: { brick: string; status: string; entries: number | null }[]
  /** sum of the bricks' entries (bricks that could not be asked count 0) */
  entries: number
}

export type Signal = 'KILL' | 'TERM' | 'STOP' | 'CONT' | 'HUP' | 'USR1' | 'USR2'

export interface RunResult { stdout: string; stderr: string }

export class ClusterCommandError extends Error {
  constructor (
    readonly args: readonly string[],
    readonly exitCode: number | string | null,
    readonly stdout: string,
    readonly stderr: string,
    readonly timedOut: boolean
  ) {
    const tail = stderr.trim().split('\n').slice(-5).join('\n')
    super(`cluster.sh ${args.join(' ')} ${timedOut ? 'timed out' : `failed (exit ${String(exitCode)})`}${tail ? `:\n${tail}` : ''}`)
    this.name = 'ClusterCommandError'
  }
}

/** Timeouts (ms) per command: cluster.sh bounds its own waits below these. */
const TIMEOUT = {
  quick: 30_000,
  startBrick: 120_000,
  startGlusterd: 150_000,
  mount: 120_000,
  gl: 120_000,
  tls: 600_000,
  healInfo: 90_000
} as const

export class RealCluster {
  info: ClusterInfo

  constructor (info: ClusterInfo) {
    this.info = info
  }

  get root (): string { return this.info.root }
  /** the bridge in the root namespace (gts-br0): capture here to see every client and inter-node byte */
  get bridge (): string { return this.info.network.bridge }
  /** 10.88.0.0/24 */
  get subnet (): string { return this.info.network.cidr }
  get nodes (): RealNode[] { return this.info.nodes }
  get volumes (): Record<string, RealVolume> { return this.info.volumes }

  node (n: number): RealNode {
    const node = this.info.nodes.find(x => x.n === n)
    if (node === undefined) throw new RangeError(`no node ${n} (have ${this.info.nodes.map(x => x.n).join(', ')})`)
    return node
  }

  volume (name: string): RealVolume {
    const v = this.info.volumes[name]
    if (v === undefined) throw new RangeError(`no volume ${name} (have ${Object.keys(this.info.volumes).join(', ')})`)
    return v
  }

  brick (n: number, vol = 'vol1'): RealBrick {
    const b = this.volume(vol).bricks.find(x => x.n === n)
    if (b === undefined) throw new RangeError(`${vol} has no brick ${n}`)
    return b
  }

  /** Path of the client volfile node `node`'s glusterd keeps on disk for `vol` (what GETSPEC serves). */
  clientVolfilePath (node: number, vol = 'vol1', trusted = false): string {
    const f = this.volume(vol).clientVolfiles.find(x => x.node === node)
    if (f === undefined) throw new RangeError(`${vol} has no client volfile on node ${node}`)
    return trusted ? f.trusted : f.path
  }

  /** Re-read cluster.json (mount/umount rewrite it). */
  reload (): ClusterInfo {
    this.info = readClusterJson(`${this.info.root}/cluster.json`)
    return this.info
  }

  /** Run cluster.sh with these arguments. Rejects with ClusterCommandError on non-zero exit or timeout. */
  run (args: readonly string[], timeoutMs: number = TIMEOUT.quick): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      execFile('bash', [CLUSTER_SH, ...args], {
        env: { ...process.env, GTS_REAL_ROOT: this.info.root },
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 32 * 1024 * 1024,
        encoding: 'utf8'
      }, (err: ExecFileException | null, stdout: string, stderr: string) => {
        if (err === null) resolve({ stdout, stderr })
        else reject(new ClusterCommandError(args, err.code ?? null, stdout, stderr, err.killed === true))
      })
    })
  }

  /** Send SIG (default KILL) to brick n of vol; resolves with the pid it signalled. */
  async killBrick (n: number, vol = 'vol1', sig: Signal = 'KILL'): Promise<number> {
    return parsePid((await this.run(['kill-brick', String(n), vol, sig])).stdout)
  }

  /** SIGSTOP brick n (waits until /proc shows state T); resolves with its pid. */
  async freezeBrick (n: number, vol = 'vol1'): Promise<number> {
    return parsePid((await this.run(['freeze-brick', String(n), vol])).stdout)
  }

  /** SIGCONT brick n; resolves with its pid. */
  async contBrick (n: number, vol = 'vol1'): Promise<number> {
    return parsePid((await this.run(['cont-brick', String(n), vol])).stdout)
  }

  /** `gluster volume start VOL force`, then wait until every brick is online. */
  async startBrick (vol = 'vol1'): Promise<void> {
    await this.run(['start-brick', vol], TIMEOUT.startBrick)
  }

  /** pid of brick n (from its pid file, checked against /proc), or null if it is not running. */
  async brickPid (n: number, vol = 'vol1'): Promise<number | null> {
    this.brick(n, vol) // a RangeError for a brick that does not exist, not null
    try {
      return parsePid((await this.run(['brick-pid', String(n), vol])).stdout)
    } catch (err) {
      if (err instanceof ClusterCommandError && !err.timedOut && err.exitCode === 1) return null
      throw err
    }
  }

  async killGlusterd (n: number, sig: Signal = 'KILL'): Promise<number> {
    return parsePid((await this.run(['kill-glusterd', String(n), sig])).stdout)
  }

  /** Start node n's glusterd and wait until it answers and sees its peers. */
  async startGlusterd (n: number): Promise<void> {
    await this.run(['start-glusterd', String(n)], TIMEOUT.startGlusterd)
  }

  /** FUSE-mount vol (at $ROOT/mnt/VOL); resolves with the mountpoint. */
  async mount (vol = 'vol1'): Promise<string> {
    const { stdout } = await this.run(['mount', vol], TIMEOUT.mount)
    this.reload()
    return stdout.trim().split('\n').pop() ?? `${this.root}/mnt/${vol}`
  }

  async umount (vol = 'vol1'): Promise<void> {
    await this.run(['umount', vol], TIMEOUT.mount)
    this.reload()
  }

  /** The gluster CLI against node n's glusterd (`--mode=script` is added); resolves with stdout. */
  async gl (n: number, ...args: string[]): Promise<string> {
    return (await this.run(['gl', String(n), ...args], TIMEOUT.gl)).stdout
  }

  /** `gluster volume status VOL --xml`, bricks only, in volume order. */
  async volumeStatus (vol = 'vol1', n = 1): Promise<BrickStatus[]> {
    return parseVolumeStatusXml(await this.gl(n, 'volume', 'status', vol, '--xml'))
  }

  /**
   * TLS (tls.sh): certificates under $ROOT/tls and the TLS volume voltls; `tlsMgmt` turns
   * management TLS on or off (every node restarts); `tlsDown` undoes both.
   */
  async tlsUp (): Promise<void> { await this.run(['tls-up'], TIMEOUT.tls); this.reload() }
  async tlsMgmt (on: boolean): Promise<void> { await this.run(['tls-mgmt', on ? 'on' : 'off'], TIMEOUT.tls); this.reload() }
  async tlsDown (): Promise<void> { await this.run(['tls-down'], TIMEOUT.tls); this.reload() }

  /** What `gluster volume heal VOL info` prints (glfsheal), parsed. */
  async healInfo (vol = 'vol1'): Promise<HealInfo> {
    return parseHealInfo((await this.run(['heal-info', vol], TIMEOUT.healInfo)).stdout)
  }
}

/**
 * The running real cluster, or `{ skip }` saying why there is none. With GTS_REAL_REQUIRED=1 in the
 * environment (.ci/run sets it) a missing cluster is an error instead: CI must never skip.
 */
export function loadRealCluster (): RealCluster | { skip: string } {
  const root = process.env.GTS_REAL_ROOT ?? defaultRoot()
  const skip = why(root)
  if (skip === null) return new RealCluster(readClusterJson(`${root}/cluster.json`))
  if (process.env.GTS_REAL_REQUIRED === '1') throw new Error(`GTS_REAL_REQUIRED=1 but the real cluster is unusable: ${skip}`)
  return { skip }
}

function why (root: string): string | null {
  if (process.platform !== 'linux') return `the real cluster needs Linux (this is ${process.platform})`
  if (process.getuid?.() !== 0) return 'the real cluster needs root (netns, FUSE)'
  const file = `${root}/cluster.json`
  if (!existsSync(file)) return `no real cluster (${file} is missing; run test-cluster/real/cluster.sh up)`
  let info: ClusterInfo
  try {
    info = readClusterJson(file)
  } catch (err) {
    return `unreadable ${file}: ${(err as Error).message}`
  }
  for (const node of info.nodes) {
    if (!existsSync(node.glusterdSocket)) return `glusterd n${node.n} has no socket (${node.glusterdSocket})`
  }
  return null
}

export function readClusterJson (file: string): ClusterInfo {
  const raw: unknown = JSON.parse(readFileSync(file, 'utf8'))
  if (!isClusterInfo(raw)) throw new TypeError(`${file} does not look like a cluster.sh cluster.json`)
  return raw
}

function isObject (x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}

function isClusterInfo (x: unknown): x is ClusterInfo {
  if (!isObject(x) || typeof x.root !== 'string' || !Array.isArray(x.nodes) || !isObject(x.volumes) || !isObject(x.mounts)) return false
  const nodesOk = x.nodes.every(n => isObject(n) && typeof n.n === 'number' && typeof n.ip === 'string' &&
    typeof n.glusterdSocket === 'string' && typeof n.glusterdVolfileDir === 'string')
  const volsOk = Object.values(x.volumes).every(v => isObject(v) && Array.isArray(v.bricks) && Array.isArray(v.clientVolfiles) &&
    v.bricks.every(b => isObject(b) && typeof b.host === 'string' && typeof b.path === 'string'))
  return nodesOk && volsOk
}

function parsePid (stdout: string): number {
  const last = stdout.trim().split('\n').pop() ?? ''
  const pid = Number(last)
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new Error(`cluster.sh printed no pid: ${JSON.stringify(stdout)}`)
  return pid
}

/** Bricks of `gluster volume status VOL --xml` (self-heal daemon entries are left out). */
export function parseVolumeStatusXml (xml: string): BrickStatus[] {
  const out: BrickStatus[] = []
  for (const m of xml.matchAll(/<node>([\s\S]*?)<\/node>/g)) {
    const body = m[1] ?? ''
    const tag = (name: string): string | undefined => new RegExp(`<${name}>([^<]*)</${name}>`).exec(body)?.[1]
    const path = tag('path') ?? ''
    if (!path.startsWith('/')) continue
    const num = (s: string | undefined): number | null => (s !== undefined && /^\d+$/.test(s) && s !== '0' ? Number(s) : null)
    const online = tag('status') === '1'
    out.push({ host: tag('hostname') ?? '', path, port: online ? num(tag('port')) : null, pid: online ? num(tag('pid')) : null, online })
  }
  return out
}

/** glfsheal's text output: "Brick H:/p", "Status: …", "Number of entries: N|-". */
export function parseHealInfo (raw: string): HealInfo {
  const bricks: HealInfo['bricks'] = []
  let cur: HealInfo['bricks'][number] | undefined
  for (const line of raw.split('\n')) {
    if (line.startsWith('Brick ')) {
      cur = { brick: line.slice(6).trim(), status: '', entries: null }
      bricks.push(cur)
    } else if (cur !== undefined && line.startsWith('Status: ')) {
      cur.status = line.slice(8).trim()
    } else if (cur !== undefined && line.startsWith('Number of entries: ')) {
      const n = line.slice(19).trim()
      cur.entries = /^\d+$/.test(n) ? Number(n) : null
    }
  }
  return { raw, bricks, entries: bricks.reduce((s, b) => s + (b.entries ?? 0), 0) }
}

/** One-letter process state from /proc/PID/stat (R, S, D, T, Z, …), or null if there is no such process. */
export function procState (pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? null
  } catch {
    return null
  }
}
