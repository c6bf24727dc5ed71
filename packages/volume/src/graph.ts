// From a parsed volfile to the client graph we run (gluster-cluster.md §2): protocol/client
// leaves, cluster/replicate (AFR) and cluster/distribute (DHT) above them. Performance and debug
// translators only cache or count, so we pass through them; anything that changes where bytes
// live or what they mean (disperse, shard …) is refused with EGLUSTER_UNSUPPORTED.
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

export type LeafOrSet = ClientSpec | ReplicateSpec

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

export type GraphNode = ClientSpec | ReplicateSpec | DistributeSpec

export interface ClientGraph {
  volfile: Volfile
  /** the topmost node we run: a distribute, a replicate or a single client */
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
      case 'cluster/disperse':
        throw unsupported(x, 'erasure-coded (disperse) volumes are not implemented yet')
      case 'features/shard':
        throw unsupported(x, 'sharded files are stored in pieces under /.shard')
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
