// Gateway options, the uWSGI glusterfs plugin's mount syntax, and the JSON / YAML config file.
import { readFile } from 'node:fs/promises'
import { extname } from 'node:path'
import { parse as parseYaml } from 'yaml'
import type { VolumeOptions } from '@gluster-ts/volume'

/** pino's levels, least verbose last ('silent' logs nothing). */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const
export type LogLevel = typeof LOG_LEVELS[number]

/** What to do with names starting with a dot (other than the GlusterFS internals, always hidden). */
export type DotfilePolicy = 'allow' | 'ignore' | 'deny'

/** Writes over HTTP (PUT, DELETE, MKCOL) for one mount; off unless a token is set. */
export interface WriteOptions {
  /** requests must send `Authorization: Bearer <token>`; an empty token is refused at start */
  token: string
  /** largest PUT body, bytes (default 1 GiB; more gives 413) */
  maxBodyBytes?: number
}

export interface MountOptions {
  /** URL prefix, '/foo' (no trailing slash; '/' serves the volume at the root) */
  mountpoint: string
  /** volume name (volfile id) */
  volume: string
  /** volfile servers: 'host', 'host:port' (port 0 = 24007), 'unix:/path' */
  servers: string[]
  /** the directory of the volume served at the mountpoint (default '/': the whole volume), as nginx's alias */
  subdir?: string
  /** serve directory listings (HTML, or JSON when preferred by Accept) (default false) */
  listing?: boolean
  /** index files tried in a directory, in order (default ['index.html']; [] disables) */
  index?: string[]
  /**
   * ordinary dotfiles (`.env`, `.git/`…): 'ignore' answers 404 and leaves them out of listings
   * (default, as send and serve-static do), 'deny' answers 403, 'allow' serves them.
   * `.well-known` (RFC 8615) is always served
   */
  dotfiles?: DotfilePolicy
  /** names always answered 404 and left out of listings; '*' at the end matches any tail (default ['.glusterfs*', '.trashcan', '.shard', '.gts-upload-*'], the last being PUT's temp files) */
  hidden?: string[]
  /** Cache-Control header on files and listings (default 'public, max-age=0'; '' sends none) */
  cacheControl?: string
  /**
   * files a browser renders as a document (HTML, XHTML, SVG, XML) get `Content-Security-Policy:
   * sandbox …` (default true): their scripts run in an origin of their own, not the gateway's,
   * so they cannot read its listings, health or metrics. false for a site whose pages need
   * their origin (cookies, storage, fetch to the gateway)
   */
  sandbox?: boolean
  /** serve 'x.br' / 'x.gz' in place of 'x' when Accept-Encoding allows (default true) */
  precompressed?: boolean
  /** metadata (and small-file content) cache lifetime, ms (default 1000; 0 disables) */
  cacheTtlMs?: number
  /**
   * GlusterFS cache-invalidation upcalls: 'auto' (default) reads the bricks' volfiles at connect
   * and, when every brick has features.cache-invalidation on, drops cache entries as upcalls
   * arrive and keeps them for upcallCacheTtlMs instead of cacheTtlMs; 'off' ignores upcalls
   */
  upcalls?: 'auto' | 'off'
  /**
   * cache lifetime while upcalls are on, ms (default 30000). Keep it below the volume's
   * features.cache-invalidation-timeout (default 60 s): a brick stops telling a client about an
   * inode that client has not touched for that long
   */
  upcallCacheTtlMs?: number
  /** cache entries kept (default 10000) */
  cacheMaxEntries?: number
  /** files up to this size are read in the LOOKUP reply and cached whole (default 65536) */
  smallFileBytes?: number
  /** total bytes of cached small-file content (default 64 MiB) */
  cacheMaxBytes?: number
  /** ranges in one multipart/byteranges answer after coalescing; more gives the whole file (default 16) */
  maxRanges?: number
  /** deadline of the work before the status line (lookup, open, first read), ms (default 30000; 504 after) */
  requestTimeoutMs?: number
  /** Retry-After seconds sent with 503 (default 5) */
  retryAfterSec?: number
  /**
   * READ buffers shared by this mount's downloads, bytes (default 16 MiB): memory stays within it
   * however many clients download (each download always gets one buffer of its own on top). Half
   * is for 1 MiB READs while at most 4 downloads run, half for readChunkBytes READs beyond that.
   */
  streamBufferBytes?: number
  /** READs of readChunkBytes in flight per download while buffers last (default 8; half as many 1 MiB READs while at most 4 downloads run) */
  streamWindow?: number
  /** opt-in writes */
  writes?: WriteOptions
  /** passed to Volume.connect (timeouts, xlatorOptions, quickReadBytes …) */
  volumeOptions?: Partial<Omit<VolumeOptions, 'servers' | 'volume' | 'signal'>>
}

export interface GatewayOptions {
  mounts: MountOptions[]
  /** health endpoint path (default '/healthz'; false disables): 200 when every mount can serve reads, else 503 */
  healthPath?: string | false
  /** the health endpoint's body names mounts, volumes and bricks (default false: only the status) */
  healthDetails?: boolean
  /** readiness endpoint path (default '/readyz'; false disables): 200 once every mount has connected, 503 before and while closing */
  readyPath?: string | false
  /** Prometheus endpoint path (default '/metrics'; false disables) */
  metricsPath?: string | false
  /** longest accepted request target, bytes (default 8192; longer gives 414) */
  maxUrlBytes?: number
  /** retry of a mount whose cluster is unreachable: first and longest delay, ms (defaults 1000 and 30000) */
  reconnectInitialMs?: number
  reconnectMaxMs?: number
  /** called once per finished request (the server logs it; the library never logs) */
  onRequest?: (entry: AccessLogEntry) => void
  /** called for failures that did not reach the client as a status (mid-body read errors, mount connect failures) */
  onError?: (err: Error, context: ErrorContext) => void
}

export interface AccessLogEntry {
  method: string
  url: string
  status: number
  bytes: number
  ms: number
  mount?: string
  remote?: string
  /** set when the response was cut short (mid-body failure or client gone) */
  aborted?: boolean
}

export interface ErrorContext {
  kind: 'body' | 'connect' | 'request'
  mount?: string
  url?: string
}

export const DEFAULT_HIDDEN = ['.glusterfs*', '.trashcan', '.shard', '.gts-upload-*']

/** Mount options with every default filled in. */
export type ResolvedMount = Required<Omit<MountOptions, 'writes' | 'volumeOptions'>> & Pick<MountOptions, 'writes' | 'volumeOptions'>

export function resolveMount (m: MountOptions): ResolvedMount {
  const mountpoint = normalizeMountpoint(m.mountpoint)
  if (typeof m.volume !== 'string' || m.volume === '') throw new TypeError(`mount ${mountpoint}: volume is required`)
  if (!Array.isArray(m.servers) || m.servers.length === 0) throw new TypeError(`mount ${mountpoint}: at least one server is required`)
  if (m.writes !== undefined && (typeof m.writes.token !== 'string' || m.writes.token.length < 8)) {
    throw new TypeError(`mount ${mountpoint}: writes need a token of at least 8 characters`)
  }
  const dotfiles = m.dotfiles ?? 'ignore'
  if (!['allow', 'ignore', 'deny'].includes(dotfiles)) throw new TypeError(`mount ${mountpoint}: dotfiles must be allow, ignore or deny`)
  const upcalls = m.upcalls ?? 'auto'
  if (upcalls !== 'auto' && upcalls !== 'off') throw new TypeError(`mount ${mountpoint}: upcalls must be auto or off`)
  for (const k of ['cacheTtlMs', 'upcallCacheTtlMs'] as const) {
    const v = m[k]
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 0)) throw new TypeError(`mount ${mountpoint}: ${k} must be a non-negative integer`)
  }
  for (const k of ['streamBufferBytes', 'streamWindow'] as const) {
    const v = m[k]
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 1)) throw new TypeError(`mount ${mountpoint}: ${k} must be a positive integer`)
  }
  if (m.sandbox !== undefined && typeof m.sandbox !== 'boolean') throw new TypeError(`mount ${mountpoint}: sandbox must be true or false`)
  return {
    mountpoint,
    volume: m.volume,
    servers: m.servers,
    subdir: normalizeSubdir(m.subdir ?? '/', mountpoint),
    sandbox: m.sandbox ?? true,
    listing: m.listing ?? false,
    index: m.index ?? ['index.html'],
    dotfiles,
    hidden: m.hidden ?? DEFAULT_HIDDEN,
    cacheControl: m.cacheControl ?? 'public, max-age=0',
    precompressed: m.precompressed ?? true,
    cacheTtlMs: m.cacheTtlMs ?? 1000,
    upcalls,
    upcallCacheTtlMs: m.upcallCacheTtlMs ?? 30_000,
    cacheMaxEntries: m.cacheMaxEntries ?? 10_000,
    smallFileBytes: m.smallFileBytes ?? 65536,
    cacheMaxBytes: m.cacheMaxBytes ?? 64 * 1024 * 1024,
    maxRanges: m.maxRanges ?? 16,
    requestTimeoutMs: m.requestTimeoutMs ?? 30_000,
    retryAfterSec: m.retryAfterSec ?? 5,
    streamBufferBytes: m.streamBufferBytes ?? 16 * 1024 * 1024,
    streamWindow: m.streamWindow ?? 8,
    ...(m.writes !== undefined ? { writes: m.writes } : {}),
    ...(m.volumeOptions !== undefined ? { volumeOptions: m.volumeOptions } : {}),
  }
}

/** The volume directory a mount serves: '/a/b' (no trailing slash), '/' for the whole volume. */
function normalizeSubdir (p: unknown, mountpoint: string): string {
  if (typeof p !== 'string' || !p.startsWith('/')) throw new TypeError(`mount ${mountpoint}: subdir must be an absolute path in the volume, got ${JSON.stringify(p)}`)
  const segs = p.split('/').filter(s => s !== '')
  if (segs.some(s => s === '.' || s === '..' || s.includes('\0'))) throw new TypeError(`mount ${mountpoint}: subdir ${p} must not contain . or ..`)
  return '/' + segs.join('/')
}

function normalizeMountpoint (p: unknown): string {
  if (typeof p !== 'string' || !p.startsWith('/')) throw new TypeError(`mountpoint must start with '/', got ${JSON.stringify(p)}`)
  if (p.includes('?') || p.includes('#') || p.includes('%') || p.includes('\\')) throw new TypeError(`mountpoint ${p} must be a plain path`)
  const segs = p.split('/').filter(s => s !== '')
  if (segs.some(s => s === '.' || s === '..')) throw new TypeError(`mountpoint ${p} must not contain . or ..`)
  return '/' + segs.join('/')
}

/**
 * One server entry of the plugin's syntax: 'host:port' (port 0 = 24007), or a path without ':'
 * (a unix socket, the plugin's rule). IPv6 needs brackets: '[::1]:0'. A socket path that is not
 * absolute is refused: it is nearly always a host written without its port, and the mount could
 * never come up.
 */
function pluginServer (s: string): string {
  const e = s.trim()
  if (e === '') throw new TypeError('empty server entry')
  if (!e.includes(':')) {
    if (!e.startsWith('/')) throw new TypeError(`server entry ${JSON.stringify(e)} has no port, so it names a unix socket (the plugin's rule), and a socket path must be absolute: for the host, write ${e}:0`)
    return `unix:${e}`
  }
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(e)
  if (m === null) throw new TypeError(`server entry ${JSON.stringify(e)} is not host:port or a socket path`)
  const port = Number(m[2])
  if (port > 65535) throw new TypeError(`server entry ${JSON.stringify(e)}: port out of range`)
  return `${m[1]}:${port === 0 ? 24007 : port}`
}

const BOOL: Record<string, boolean> = { 1: true, true: true, yes: true, on: true, 0: false, false: false, no: false, off: false }

/**
 * The uWSGI glusterfs plugin's mount syntax, verbatim: `mountpoint=/foo,volume=v2,server=a:0;b:0;c:0`.
 * Our own options may follow in the same form (`listing=1`, `cache-ttl-ms=500`, `dotfiles=deny`,
 * `cache-control=no-cache`, `precompressed=0`, `index=index.html;index.htm`, `write-token=…`,
 * `upcalls=off`, `upcall-cache-ttl-ms=60000`).
 * The plugin's `timeout=` (seconds) maps to requestTimeoutMs.
 */
export function parseMountSpec (spec: string): MountOptions {
  if (typeof spec !== 'string' || spec.trim() === '') throw new TypeError('empty mount spec')
  const kv = new Map<string, string>()
  for (const part of spec.split(',')) {
    if (part.trim() === '') continue
    const eq = part.indexOf('=')
    if (eq <= 0) throw new TypeError(`mount spec part ${JSON.stringify(part)} is not key=value`)
    const k = part.slice(0, eq).trim().toLowerCase().replace(/_/g, '-')
    if (kv.has(k)) throw new TypeError(`mount spec repeats ${k}`)
    kv.set(k, part.slice(eq + 1).trim())
  }
  const take = (k: string): string | undefined => { const v = kv.get(k); kv.delete(k); return v }
  const mountpoint = take('mountpoint') ?? '/'
  const volume = take('volume')
  if (volume === undefined || volume === '') throw new TypeError(`mount spec ${JSON.stringify(spec)} has no volume=`)
  const server = take('server') ?? 'localhost:0'
  const m: MountOptions = { mountpoint, volume, servers: server.split(';').filter(s => s.trim() !== '').map(pluginServer) }
  const bool = (k: string): boolean | undefined => {
    const v = take(k)
    if (v === undefined) return undefined
    const b = BOOL[v.toLowerCase()]
    if (b === undefined) throw new TypeError(`mount spec ${k}=${v}: expected a boolean`)
    return b
  }
  const int = (k: string): number | undefined => {
    const v = take(k)
    if (v === undefined) return undefined
    if (!/^\d+$/.test(v)) throw new TypeError(`mount spec ${k}=${v}: expected a non-negative integer`)
    return Number(v)
  }
  const subdir = take('subdir')
  if (subdir !== undefined) m.subdir = subdir
  const listing = bool('listing')
  if (listing !== undefined) m.listing = listing
  const sandbox = bool('sandbox')
  if (sandbox !== undefined) m.sandbox = sandbox
  const pre = bool('precompressed')
  if (pre !== undefined) m.precompressed = pre
  const dot = take('dotfiles')
  if (dot !== undefined) {
    if (dot !== 'allow' && dot !== 'ignore' && dot !== 'deny') throw new TypeError(`mount spec dotfiles=${dot}: expected allow, ignore or deny`)
    m.dotfiles = dot
  }
  const cc = take('cache-control')
  if (cc !== undefined) m.cacheControl = cc
  const up = take('upcalls')
  if (up !== undefined) {
    if (up !== 'auto' && up !== 'off') throw new TypeError(`mount spec upcalls=${up}: expected auto or off`)
    m.upcalls = up
  }
  const index = take('index')
  if (index !== undefined) m.index = index.split(';').filter(s => s !== '')
  const hidden = take('hidden')
  if (hidden !== undefined) m.hidden = hidden.split(';').filter(s => s !== '')
  const ints: Array<[string, 'cacheTtlMs' | 'upcallCacheTtlMs' | 'smallFileBytes' | 'maxRanges' | 'requestTimeoutMs' | 'retryAfterSec' | 'cacheMaxEntries' | 'cacheMaxBytes' | 'streamBufferBytes' | 'streamWindow']> = [
    ['cache-ttl-ms', 'cacheTtlMs'], ['upcall-cache-ttl-ms', 'upcallCacheTtlMs'], ['small-file-bytes', 'smallFileBytes'], ['max-ranges', 'maxRanges'],
    ['request-timeout-ms', 'requestTimeoutMs'], ['retry-after', 'retryAfterSec'], ['cache-max-entries', 'cacheMaxEntries'],
    ['stream-buffer-bytes', 'streamBufferBytes'], ['stream-window', 'streamWindow'],
    ['cache-max-bytes', 'cacheMaxBytes'],
  ]
  for (const [k, f] of ints) { const v = int(k); if (v !== undefined) m[f] = v }
  const timeout = int('timeout')
  if (timeout !== undefined) m.requestTimeoutMs = timeout * 1000
  const token = take('write-token')
  if (token !== undefined) m.writes = { token }
  if (kv.size > 0) throw new TypeError(`mount spec: unknown key${kv.size > 1 ? 's' : ''} ${[...kv.keys()].join(', ')}`)
  return m
}

/** Options of the standalone server (startGatewayServer). */
export interface GatewayServerOptions extends GatewayOptions {
  host?: string
  port?: number
  /** node:cluster workers (default: one per core; 1 = in this process) */
  workers?: number
  /** one pino JSON line per request on stdout, at level info (default true) */
  accessLog?: boolean
  /** the least level logged (default 'info'); 'silent' logs nothing */
  logLevel?: LogLevel
  /** drain deadline on close, ms (default 10000) */
  shutdownTimeoutMs?: number
}

function isRecord (x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}

/**
 * A JSON or YAML config file: `{ "host", "port", "workers", "mounts": [ MountOptions | "plugin kv-list" ], … }`.
 * Mount entries may be objects (MountOptions) or strings in the plugin's syntax. `.yaml` / `.yml`
 * files are YAML, `.json` files JSON; any other name is JSON when its first character is `{`,
 * else YAML. Both go through the same validation (gatewayConfigFrom).
 */
export async function loadGatewayConfig (file: string): Promise<GatewayServerOptions> {
  return parseGatewayConfig(await readFile(file, 'utf8'), file)
}

/** The text of a config file (named `source`, whose extension picks the format) → options. */
export function parseGatewayConfig (text: string, source = 'config'): GatewayServerOptions {
  const ext = extname(source).toLowerCase()
  const yaml = ext === '.yaml' || ext === '.yml' || (ext !== '.json' && !text.trimStart().startsWith('{'))
  let raw: unknown
  try {
    // YAML 1.2 core schema: duplicate keys and several documents are errors, `on`/`off` stay strings
    raw = yaml ? parseYaml(text, { prettyErrors: true, uniqueKeys: true, maxAliasCount: 100 }) : JSON.parse(text)
  } catch (e) {
    throw new TypeError(`${source}: not ${yaml ? 'YAML' : 'JSON'} (${(e as Error).message.split('\n')[0]})`)
  }
  return gatewayConfigFrom(raw, source)
}

export function gatewayConfigFrom (raw: unknown, source = 'config'): GatewayServerOptions {
  if (!isRecord(raw)) throw new TypeError(`${source}: expected an object`)
  const mountsRaw = raw.mounts
  if (!Array.isArray(mountsRaw) || mountsRaw.length === 0) throw new TypeError(`${source}: "mounts" must be a non-empty array`)
  const mounts = mountsRaw.map((m, i): MountOptions => {
    if (typeof m === 'string') return parseMountSpec(m)
    if (!isRecord(m)) throw new TypeError(`${source}: mounts[${i}] must be an object or a mount spec string`)
    const servers = typeof m.servers === 'string' ? m.servers.split(/[;,\s]+/).filter(s => s !== '') : m.servers
    const r = { ...m, servers } as unknown as MountOptions
    resolveMount(r) // validate now, with the file's name in the message
    return r
  })
  const out: GatewayServerOptions = { mounts }
  const known = new Set(['mounts', 'host', 'port', 'workers', 'healthPath', 'healthDetails', 'readyPath', 'metricsPath', 'maxUrlBytes', 'reconnectInitialMs', 'reconnectMaxMs', 'accessLog', 'logLevel', 'shutdownTimeoutMs'])
  for (const k of Object.keys(raw)) if (!known.has(k)) throw new TypeError(`${source}: unknown key "${k}"`)
  if (typeof raw.host === 'string') out.host = raw.host
  for (const k of ['port', 'workers', 'maxUrlBytes', 'reconnectInitialMs', 'reconnectMaxMs', 'shutdownTimeoutMs'] as const) {
    const v = raw[k]
    if (v === undefined) continue
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new TypeError(`${source}: "${k}" must be a non-negative integer`)
    out[k] = v
  }
  for (const k of ['healthPath', 'readyPath', 'metricsPath'] as const) {
    const v = raw[k]
    if (v === undefined) continue
    if (v !== false && typeof v !== 'string') throw new TypeError(`${source}: "${k}" must be a path or false`)
    out[k] = v
  }
  for (const k of ['accessLog', 'healthDetails'] as const) {
    const v = raw[k]
    if (v === undefined) continue
    if (typeof v !== 'boolean') throw new TypeError(`${source}: "${k}" must be true or false`)
    out[k] = v
  }
  if (raw.logLevel !== undefined) {
    if (typeof raw.logLevel !== 'string' || !(LOG_LEVELS as readonly string[]).includes(raw.logLevel)) throw new TypeError(`${source}: "logLevel" must be one of ${LOG_LEVELS.join(', ')}`)
    out.logLevel = raw.logLevel as LogLevel
  }
  return out
}
