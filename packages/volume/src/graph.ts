// From a parsed volfile to the client graph we run (gluster-cluster.md §2): protocol/client
// leaves, cluster/replicate (AFR) or cluster/disperse (ec) above them, cluster/distribute (DHT)
// above those, features/shard on top. Performance and debug translators only cache or count, so
// we pass through them; anything else that changes where bytes live or what they mean is refused
// with EGLUSTER_UNSUPPORTED. stack.ts turns this description into the running layers.
import { GlusterError } from '@gluster-ts/rpc'
import { parseVolfile, type Volfile, type VolfileXlator } from './volfile.js'

export interface ClientSpec {
  kind: 'client'
  name: string
  /** remote-host (a glusterd runs there and knows the brick's port) */
  host: string
  /** remote-port when the volfile pins one (then no portmap lookup) */
  port?: number
  /** remote-subvolume: the brick path */
  brickPath: string
  /** ping-timeout in seconds (0 disables) */
  pingTimeoutSec: number
  username?: string
  password?: string
  /** index among every protocol/client leaf of the graph */
  leafIndex: number
  options: Map<string, string>
}

export interface ReplicateSpec {
  kind: 'replicate'
  name: string
  children: ClientSpec[]
  /** the AFR pending xattr names, one per child (`afr-pending-xattr`, default `<child>`) */
  pendingXattrs: string[]
  /** 1 ⇒ the third child of the set is an arbiter: never read from */
  arbiterCount: number
  /** 0 first-up, 1 gfid hash (default), 2 gfid+pid, 3 least load; 4/5 treated as 3 */
  readHashMode: number
  /** read-subvolume-index (or read-subvolume by name); -1 when unset */
  readSubvolumeIndex: number
  chooseLocal: boolean
  /** children that must answer for a read (quorum-type auto: more than half, with >2 children) */
  quorumCount: number
  options: Map<string, string>
}

/** cluster/disperse: k + r bricks, files erasure-coded over them (gluster-disperse.md). */
export interface DisperseSpec {
  kind: 'disperse'
  name: string
  children: ClientSpec[]
  /** `redundancy` (r): bricks that may be lost; k = n − r */
  redundancy: number
  /** k: fragments needed to read */
  dataBricks: number
  /** read-policy: gfid-hash (default) picks the first read brick from the gfid, round-robin rotates */
  readPolicy: 'gfid-hash' | 'round-robin'
  /** eager-lock-timeout, ms: how long a file's lock is kept after its last fop (0: eager-lock off) */
  eagerLockTimeoutMs: number
  /** other-eager-lock-timeout, ms: the same for directories (0: other-eager-lock off) */
  otherEagerLockTimeoutMs: number
  options: Map<string, string>
}

export type LeafOrSet = ClientSpec | ReplicateSpec | DisperseSpec

export interface DistributeSpec {
  kind: 'distribute'
  name: string
  children: LeafOrSet[]
  /** rsync-hash-regex (POSIX ERE; null = none) */
  rsyncHashRegex: string | null
  extraHashRegex: string | null
  lookupOptimize: boolean
  options: Map<string, string>
}

/** features/shard: files stored as a base file (block 0) and `/.shard/<gfid>.<n>` blocks. */
export interface ShardSpec {
  kind: 'shard'
  name: string
  child: ClientSpec | ReplicateSpec | DisperseSpec | DistributeSpec
  /** `shard-block-size` (bytes) for files created now; an existing file's is in its xattr */
  blockSize: number
  /** `shard-deletion-rate`: shards unlinked per batch by the background deletion */
  deletionRate: number
  /** `shard-lru-limit`: block inodes a client keeps */
  lruLimit: number
  options: Map<string, string>
}

export type GraphNode = ClientSpec | ReplicateSpec | DisperseSpec | DistributeSpec | ShardSpec

export interface ClientGraph {
  volfile: Volfile
  /** the topmost node we run: a shard, a distribute, a replicate, a disperse or a single client */
  root: GraphNode
  /** every protocol/client leaf, in volfile order */
  clients: ClientSpec[]
  /** the translators we passed through (performance/*, debug/* …), top first */
  passedThrough: string[]
  /** the volume id named by a replicate xlator's `volume-id`, when present */
  volumeId?: string
}

/**
 * Option overrides, as glfs_set_xlator_option: keys are xlator names or globs ('*' matches any
 * run of characters: `'*-replicate-*'`), values are `{ option: value }`.
 */
export type XlatorOptions = Record<string, Record<string, string>>

/** Translators that only cache, count or stamp times: safe to skip for a reader. */
const PASS_THROUGH_PREFIXES = ['performance/', 'debug/']
const PASS_THROUGH = new Set(['features/utime', 'features/read-only', 'features/worm', 'features/quiesce', 'meta', 'features/snapview-client', 'features/namespace'])

export const DEFAULT_RSYNC_HASH_REGEX = '^\\.(.+)\\.[^.]+$'

function unsupported (x: VolfileXlator, why: string): GlusterError {
  const e = new GlusterError('EGLUSTER_UNSUPPORTED',
    `volume graph uses ${x.type} ('${x.name}', volfile line ${x.line}), which gluster-ts does not support: ${why}`,
    { syscall: 'volfile' })
  Object.assign(e, { xlator: x.name, xlatorType: x.type })
  return e
}

function bad (x: VolfileXlator, why: string): GlusterError {
  return new GlusterError('EGLUSTER_VOLFILE', `volfile line ${x.line}: ${x.type} '${x.name}': ${why}`, { syscall: 'volfile' })
}

function globMatch (pattern: string, name: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === name
  const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$')
  return re.test(name)
}

function effectiveOptions (x: VolfileXlator, overrides: XlatorOptions | undefined): Map<string, string> {
  if (overrides === undefined) return x.options
  const out = new Map(x.options)
  for (const [pattern, opts] of Object.entries(overrides)) {
    if (!globMatch(pattern, x.name)) continue
    for (const [k, v] of Object.entries(opts)) out.set(k, v)
  }
  return out
}

/** GlusterFS booleans: on/off, yes/no, true/false, enable/disable, 1/0. */
export function parseBool (v: string | undefined, dflt: boolean): boolean {
  if (v === undefined) return dflt
  const s = v.toLowerCase()
  if (['on', 'yes', 'true', 'enable', '1'].includes(s)) return true
  if (['off', 'no', 'false', 'disable', '0'].includes(s)) return false
  return dflt
}

const SIZE_UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40, P: 2 ** 50 }

/**
 * A GlusterFS size option ('4MB', '64MB', '1.5GB', '512KB', '4194304'): binary units, the B and
 * the case optional, as glusterd and the translators read them.
 */
export function parseSize (v: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)b?\s*$/i.exec(v)
  if (m === null) return undefined
  const n = Number(m[1]) * SIZE_UNITS[m[2]!.toUpperCase()]!
  return Number.isSafeInteger(Math.round(n)) ? Math.round(n) : undefined
}

/** shard's limits on `shard-block-size` (shard.c's option table: 4 MB to 4 TB) */
export const SHARD_MIN_BLOCK = 4 * 2 ** 20
export const SHARD_MAX_BLOCK = 4 * 2 ** 40
export const SHARD_DEFAULT_BLOCK = 64 * 2 ** 20

function parseIntOpt (x: VolfileXlator, opts: Map<string, string>, key: string, dflt: number): number {
  const v = opts.get(key)
  if (v === undefined) return dflt
  if (!/^-?\d+$/.test(v)) throw bad(x, `option ${key} must be an integer, not '${v}'`)
  return Number(v)
}

/** Build the client graph from volfile text (or a parsed volfile). */
export function buildClientGraph (volfile: string | Volfile, overrides?: XlatorOptions): ClientGraph {
  const vf = typeof volfile === 'string' ? parseVolfile(volfile) : volfile
  const clients: ClientSpec[] = []
  const passedThrough: string[] = []
  const built = new Map<string, GraphNode>()
  let volumeId: string | undefined

  const build = (x: VolfileXlator): GraphNode => {
    const done = built.get(x.name)
    if (done !== undefined) return done
    const opts = effectiveOptions(x, overrides)
    const child = (name: string): GraphNode => build(vf.byName.get(name)!)
    let node: GraphNode
    switch (x.type) {
      case 'protocol/client': {
        const host = opts.get('remote-host')
        const brickPath = opts.get('remote-subvolume')
        if (host === undefined) throw bad(x, 'no remote-host')
        if (brickPath === undefined) throw bad(x, 'no remote-subvolume')
        const tt = opts.get('transport-type') ?? 'tcp'
        if (tt !== 'tcp' && tt !== 'socket') throw unsupported(x, `transport-type ${tt}`)
        const c: ClientSpec = {
          kind: 'client',
          name: x.name,
          host,
          brickPath,
          pingTimeoutSec: parseIntOpt(x, opts, 'ping-timeout', 42),
          leafIndex: clients.length,
          options: opts,
        }
        const port = opts.get('remote-port')
        if (port !== undefined) c.port = parseIntOpt(x, opts, 'remote-port', 0)
        const user = opts.get('username')
        const pass = opts.get('password')
        if (user !== undefined) c.username = user
        if (pass !== undefined) c.password = pass
        clients.push(c)
        node = c
        break
      }
      case 'cluster/replicate': {
        const kids = x.subvolumes.map(child)
        if (kids.length === 0) throw bad(x, 'no subvolumes')
        const leaves = kids.map(k => {
          if (k.kind !== 'client') throw bad(x, `child '${k.name}' is a ${k.kind}; gluster-ts expects protocol/client children`)
          return k
        })
        const pending = (opts.get('afr-pending-xattr') ?? '').split(',').filter(s => s !== '')
        if (opts.has('thin-arbiter') && (opts.get('thin-arbiter') ?? '') !== '') throw unsupported(x, 'thin-arbiter')
        const arbiterCount = parseIntOpt(x, opts, 'arbiter-count', 0)
        let readSub = parseIntOpt(x, opts, 'read-subvolume-index', -1)
        const byName = opts.get('read-subvolume')
        if (byName !== undefined) readSub = leaves.findIndex(l => l.name === byName)
        const n = leaves.length
        const qt = opts.get('quorum-type') ?? (n > 2 ? 'auto' : 'none')
        const quorumCount = qt === 'auto' ? Math.floor(n / 2) + 1 : qt === 'fixed' ? parseIntOpt(x, opts, 'quorum-count', 0) : 0
        const id = opts.get('volume-id')
        if (id !== undefined) volumeId ??= id
        node = {
          kind: 'replicate',
          name: x.name,
          children: leaves,
          pendingXattrs: leaves.map((l, i) => pending[i] ?? l.name),
          arbiterCount,
          readHashMode: parseIntOpt(x, opts, 'read-hash-mode', 1),
          readSubvolumeIndex: readSub,
          chooseLocal: parseBool(opts.get('choose-local'), true),
          quorumCount,
          options: opts,
        }
        break
      }
      case 'cluster/distribute':
      case 'cluster/dht':
      case 'cluster/nufa': {
        const kids = x.subvolumes.map(child).map(k => {
          if (k.kind === 'distribute') throw bad(x, `child '${k.name}' is itself a distribute`)
          // glusterd puts shard above distribute; below it, each subvolume would shard on its own
          if (k.kind === 'shard') throw unsupported(vf.byName.get(k.name)!, 'features/shard below cluster/distribute (gluster-ts runs shard above the cluster translators, where glusterd puts it)')
          return k
        })
        if (kids.length === 0) throw bad(x, 'no subvolumes')
        const rx = opts.get('rsync-hash-regex') ?? DEFAULT_RSYNC_HASH_REGEX
        const ex = opts.get('extra-hash-regex')
        node = {
          kind: 'distribute',
          name: x.name,
          children: kids,
          rsyncHashRegex: rx === 'none' ? null : rx,
          extraHashRegex: ex === undefined || ex === 'none' ? null : ex,
          lookupOptimize: parseBool(opts.get('lookup-optimize'), true),
          options: opts,
        }
        break
      }
      case 'cluster/disperse': {
        const leaves = x.subvolumes.map(child).map(k => {
          if (k.kind !== 'client') throw bad(x, `child '${k.name}' is a ${k.kind}; gluster-ts expects protocol/client children`)
          return k
        })
        const n = leaves.length
        const r = parseIntOpt(x, opts, 'redundancy', -1)
        // ec.c:ec_parse_options: 1 ≤ r, 2r < n, k = n − r ≤ 16 (EC_METHOD_MAX_FRAGMENTS)
        if (r < 1 || 2 * r >= n || n - r > 16) throw bad(x, `${n} bricks with redundancy ${r}: disperse needs 1 ≤ redundancy < bricks/2 and at most 16 data bricks`)
        const policy = opts.get('read-policy') ?? 'gfid-hash'
        if (policy !== 'gfid-hash' && policy !== 'round-robin') throw bad(x, `option read-policy must be gfid-hash or round-robin, not '${policy}'`)
        const eager = parseBool(opts.get('eager-lock'), true)
        const timeout = parseIntOpt(x, opts, 'eager-lock-timeout', 1)
        const otherEager = parseBool(opts.get('other-eager-lock'), true)
        const otherTimeout = parseIntOpt(x, opts, 'other-eager-lock-timeout', 1)
        node = {
          kind: 'disperse', name: x.name, children: leaves, redundancy: r, dataBricks: n - r, readPolicy: policy,
          eagerLockTimeoutMs: eager ? Math.min(60, Math.max(1, timeout)) * 1000 : 0,
          otherEagerLockTimeoutMs: otherEager ? Math.min(60, Math.max(1, otherTimeout)) * 1000 : 0, options: opts,
        }
        break
      }
      case 'features/shard': {
        if (x.subvolumes.length !== 1) throw bad(x, `features/shard needs exactly one subvolume, has ${x.subvolumes.length}`)
        const c = child(x.subvolumes[0]!)
        if (c.kind === 'shard') throw bad(x, `child '${c.name}' is itself a shard translator`)
        const bsText = opts.get('shard-block-size')
        const blockSize = bsText === undefined ? SHARD_DEFAULT_BLOCK : parseSize(bsText)
        if (blockSize === undefined) throw bad(x, `option shard-block-size must be a size (4MB, 64MB …), not '${bsText}'`)
        if (blockSize < SHARD_MIN_BLOCK || blockSize > SHARD_MAX_BLOCK) throw bad(x, `option shard-block-size ${bsText} is outside 4MB..4TB`)
        node = { kind: 'shard', name: x.name, child: c, blockSize, deletionRate: Math.max(1, parseIntOpt(x, opts, 'shard-deletion-rate', 100)), lruLimit: Math.max(20, parseIntOpt(x, opts, 'shard-lru-limit', 16384)), options: opts }
        break
      }
      default: {
        if (PASS_THROUGH.has(x.type) || PASS_THROUGH_PREFIXES.some(p => x.type.startsWith(p))) {
          if (x.subvolumes.length !== 1) throw bad(x, `a pass-through translator needs exactly one subvolume, has ${x.subvolumes.length}`)
          passedThrough.push(x.name)
          node = child(x.subvolumes[0]!)
          break
        }
        throw unsupported(x, 'unknown translator type')
      }
    }
    built.set(x.name, node)
    return node
  }

  const root = build(vf.top)
  const g: ClientGraph = { volfile: vf, root, clients, passedThrough }
  if (volumeId !== undefined) g.volumeId = volumeId
  return g
}
