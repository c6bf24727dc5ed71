// Which connections of a client speak TLS, and with what certificates (gluster-shard-tls-auth.md
// §2). GlusterFS decides per connection (rpc-transport/socket/src/socket.c socket_fix_ssl_opts):
// anything to port 24007 (glusterd) is TLS iff management TLS is on; anything else is TLS iff the
// protocol/client says `transport.socket.ssl-enabled on`; the volfile connection is TLS iff
// management TLS is on, whatever its port (glusterfsd-mgmt.c adds ssl-enabled to it). Unix sockets
// never. Management TLS is on when /var/lib/glusterd/secure-access exists (api/src/glfs.c:
// glfs_volumes_init), which also gives the certificate depth of every connection.
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import {
  GLUSTER_TLS_CERT_DEPTH, GlusterError, createTlsContext, tlsConfigError, tlsError,
  type RpcClient, type TlsContext, type TlsMaterial,
} from '@gluster-ts/rpc'
import { parseBool } from './graph.js'

type Pem = string | Buffer

/** `tls` of Volume.connect. Every field is optional: a host set up for the FUSE client needs none. */
export interface VolumeTlsOptions {
  /** trusted CAs as PEM text (what glusterfs.ca holds); wins over every file */
  ca?: Pem | Pem[]
  /** our certificate (PEM, optionally followed by its intermediate CAs) */
  cert?: Pem
  /** our private key (PEM) */
  key?: Pem
  passphrase?: string
  /** the same as files */
  caFile?: string
  certFile?: string
  keyFile?: string
  /** a directory holding glusterfs.ca, glusterfs.pem and glusterfs.key */
  dir?: string
  /**
   * TLS to glusterd (volfile fetch, and brick port lookups on 24007). Default: whether
   * `secureAccessFile` exists, as libgfapi decides it.
   */
  management?: boolean
  /** default /var/lib/glusterd/secure-access */
  secureAccessFile?: string
  /** most intermediate CAs between a server's certificate and our CA (default: secure-access's, else the volfile's ssl-cert-depth, else 1) */
  certDepth?: number
  /** cipher list for TLS ≤ 1.2 (default: the volfile's ssl-cipher-list, else GlusterFS's) */
  ciphers?: string
  /** EC group (default: the volfile's ssl-ec-curve, else prime256v1) */
  ecCurve?: string
  /** where GLUSTER_TS_TLS_* are read from (default process.env) */
  env?: Record<string, string | undefined>
}

export const SECURE_ACCESS_FILE = '/var/lib/glusterd/secure-access'
/**
 * Where GlusterFS builds look for glusterfs.{pem,key,ca} (their OPENSSLDIR at build time): Debian's
 * 10.3 /usr/lib/ssl, bookworm-backports' 11.1 /etc/ssl (both read from their socket.so),
 * Fedora/RHEL /etc/pki/tls. On a host without GlusterFS the first of these holding glusterfs.pem
 * is used; with GlusterFS installed, the directory compiled into it (installedGlusterTlsDir).
 */
export const DEFAULT_TLS_DIRS = ['/usr/lib/ssl', '/etc/ssl', '/etc/pki/tls']
/** Where GlusterFS's socket transport is installed: <lib>/[<arch>/]glusterfs/<version>/rpc-transport/socket.so */
const GLUSTER_LIB_DIRS = ['/usr/lib', '/usr/lib64', '/usr/local/lib']
export const TLS_ENV = {
  DIR: 'GLUSTER_TS_TLS_DIR',
  CA: 'GLUSTER_TS_TLS_CA',
  CERT: 'GLUSTER_TS_TLS_CERT',
  KEY: 'GLUSTER_TS_TLS_KEY',
  MGMT: 'GLUSTER_TS_TLS_MGMT',
} as const

const GLUSTERD_PORT = 24007

/** A protocol/client's TLS options (transport.socket.*), or none for management. */
export type SocketOptions = ReadonlyMap<string, string>

/** Whether a protocol/client's volfile options turn I/O TLS on. */
export function ioTlsEnabled (opts: SocketOptions): boolean {
  return parseBool(opts.get('transport.socket.ssl-enabled') ?? opts.get('client.ssl'), false)
}

/**
 * The depth from a secure-access file: a line `option transport.socket.ssl-cert-depth N`
 * (graph.c glusterfs_read_secure_access_file; 0 or junk mean 1).
 */
export function secureAccessDepth (text: string): number {
  for (const line of text.split('\n')) {
    const m = /^option transport\.socket\.ssl-cert-depth(.*)$/.exec(line)
    if (m === null) continue
    const n = Number.parseInt(m[1]!.trim(), 10)
    return Number.isFinite(n) && n > 0 ? n : GLUSTER_TLS_CERT_DEPTH
  }
  return GLUSTER_TLS_CERT_DEPTH
}

/**
 * Resolves, caches and hands out the TLS contexts of one Volume. Files are read when a context
 * is first needed; bad or missing material is EGLUSTER_TLS_CONFIG naming what was tried.
 */
export class TlsResolver {
  readonly #o: VolumeTlsOptions
  readonly #env: Record<string, string | undefined>
  readonly #dirs: readonly string[]
  /** management TLS on, and the depth the secure-access file gives (undefined: no file) */
  readonly management: boolean
  readonly #mgmtDepth: number | undefined
  readonly #cache = new Map<string, TlsContext>()

  /** `defaultDirs`: where to look when nothing names the files (default: defaultTlsDirs()). */
  constructor (o: VolumeTlsOptions = {}, defaultDirs: readonly string[] = defaultTlsDirs()) {
    this.#o = o
    this.#env = o.env ?? process.env
    this.#dirs = defaultDirs
    const file = o.secureAccessFile ?? SECURE_ACCESS_FILE
    const envMgmt = this.#env[TLS_ENV.MGMT]
    let mgmt = o.management ?? (envMgmt !== undefined && envMgmt !== '' ? parseBool(envMgmt, false) : undefined)
    let depth: number | undefined
    if (existsSync(file)) {
      mgmt ??= true
      if (mgmt) {
        try { depth = secureAccessDepth(readFileSync(file, 'utf8')) } catch { depth = GLUSTER_TLS_CERT_DEPTH }
      }
    }
    this.management = mgmt ?? false
    this.#mgmtDepth = this.management ? (depth ?? GLUSTER_TLS_CERT_DEPTH) : undefined
  }

  /** The context for connecting to `port` of a protocol/client with these options (undefined: plaintext). */
  forBrickPort (port: number, opts: SocketOptions): TlsContext | undefined {
    if (port === GLUSTERD_PORT) return this.forManagement()
    return ioTlsEnabled(opts) ? this.forIo(opts) : undefined
  }

  /** The context of volfile server connections and of port 24007 (undefined: management TLS off). */
  forManagement (): TlsContext | undefined {
    return this.management ? this.#context(new Map()) : undefined
  }

  /** The context of a brick connection with I/O TLS on. */
  forIo (opts: SocketOptions): TlsContext {
    return this.#context(opts)
  }

  #context (opts: SocketOptions): TlsContext {
    const key = JSON.stringify(['ssl-own-cert', 'ssl-private-key', 'ssl-ca-list', 'ssl-cert-depth', 'ssl-cipher-list', 'ssl-ec-curve']
      .map(k => opts.get(`transport.socket.${k}`) ?? null))
    let c = this.#cache.get(key)
    if (c === undefined) {
      c = createTlsContext(this.#material(opts))
      this.#cache.set(key, c)
    }
    return c
  }

  /** The material, from the first source that names each part (see docs/volume.md "TLS"). */
  #material (opts: SocketOptions): TlsMaterial {
    const o = this.#o
    const env = this.#env
    const sock = (k: string): string | undefined => opts.get(`transport.socket.${k}`)
    const dirGiven = o.dir ?? nonEmpty(env[TLS_ENV.DIR])
    let dirDefault: string | undefined
    const inDir = (file: string): string | undefined => dirGiven !== undefined ? join(dirGiven, file) : undefined
    const fallback = (file: string): string => {
      dirDefault ??= this.#dirs.find(d => existsSync(join(d, 'glusterfs.pem'))) ?? this.#dirs[0] ?? '/usr/lib/ssl'
      return join(dirDefault, file)
    }
    const pick = (content: Pem | Pem[] | undefined, file: string | undefined, envVar: string, volfileKey: string, name: string, what: string): { pem: Pem | Pem[], source: string } => {
      if (content !== undefined) return { pem: content, source: `tls.${what} option` }
      const path = file ?? nonEmpty(env[envVar]) ?? inDir(name) ?? sock(volfileKey) ?? fallback(name)
      return { pem: readPem(path, what, this.#dirs, dirGiven !== undefined || file !== undefined), source: path }
    }
    const ca = pick(o.ca, o.caFile, TLS_ENV.CA, 'ssl-ca-list', 'glusterfs.ca', 'ca')
    const cert = pick(o.cert, o.certFile, TLS_ENV.CERT, 'ssl-own-cert', 'glusterfs.pem', 'cert')
    const key = pick(o.key, o.keyFile, TLS_ENV.KEY, 'ssl-private-key', 'glusterfs.key', 'key')
    const m: TlsMaterial = {
      ca: ca.pem,
      cert: cert.pem as Pem,
      key: key.pem as Pem,
      certDepth: o.certDepth ?? this.#mgmtDepth ?? depthOption(sock('ssl-cert-depth')),
      sources: { ca: ca.source, cert: cert.source, key: key.source },
    }
    if (o.passphrase !== undefined) m.passphrase = o.passphrase
    const ciphers = o.ciphers ?? sock('ssl-cipher-list')
    if (ciphers !== undefined) m.ciphers = ciphers
    const curve = o.ecCurve ?? sock('ssl-ec-curve')
    if (curve !== undefined) m.ecCurve = curve
    return m
  }
}

let installed: string | null | undefined

/**
 * The directory the GlusterFS installed here reads glusterfs.pem from: the path compiled into
 * its socket transport. Undefined when GlusterFS is not installed. Read once per process.
 */
export function installedGlusterTlsDir (libDirs: readonly string[] = GLUSTER_LIB_DIRS): string | undefined {
  if (installed !== undefined && libDirs === GLUSTER_LIB_DIRS) return installed ?? undefined
  let found: string | null = null
  const sub = (d: string): string[] => { try { return readdirSync(d) } catch { return [] } }
  search: for (const lib of libDirs) {
    // <lib>/glusterfs/<v> and <lib>/<arch>/glusterfs/<v>, newest version first
    const bases = [join(lib, 'glusterfs'), ...sub(lib).map(a => join(lib, a, 'glusterfs'))]
    for (const base of bases) {
      for (const v of sub(base).sort().reverse()) {
        let so: Buffer
        try { so = readFileSync(join(base, v, 'rpc-transport', 'socket.so')) } catch { continue }
        const m = /(\/[\x21-\x7e]+)\/glusterfs\.pem\0/.exec(so.toString('latin1'))
        if (m !== null) { found = m[1]!; break search }
      }
    }
  }
  if (libDirs === GLUSTER_LIB_DIRS) installed = found
  return found ?? undefined
}

/** The installed GlusterFS's directory if there is one, else DEFAULT_TLS_DIRS. */
export function defaultTlsDirs (): string[] {
  const d = installedGlusterTlsDir()
  return d !== undefined ? [d] : [...DEFAULT_TLS_DIRS]
}

function nonEmpty (s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s
}

function depthOption (v: string | undefined): number {
  if (v === undefined) return GLUSTER_TLS_CERT_DEPTH
  const n = Number.parseInt(v, 10)
  return Number.isInteger(n) && n >= 0 ? n : GLUSTER_TLS_CERT_DEPTH
}

function readPem (path: string, what: string, dirs: readonly string[], explicit: boolean): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error'
    const tried = explicit ? '' : ` (no glusterfs.pem in ${dirs.join(', ')}; give tls.${what}/tls.dir, or ${TLS_ENV.DIR})`
    throw tlsConfigError(`cannot read our TLS ${what} '${path}': ${code}${tried}`, err)
  }
}

/**
 * A plaintext connection that the server closed before answering anything: GlusterFS servers do
 * that to a peer that does not start with a TLS handshake. Anything else is returned as is.
 */
export function plaintextRefused (err: unknown, c: RpcClient, plaintext: boolean, why: string): unknown {
  if (!plaintext || c.answered || !(err instanceof GlusterError) || err.code !== 'EGLUSTER_CONNECTION_LOST') return err
  return tlsError({ tlsReason: 'tls-required', rejectedBy: 'server' }, { peer: c.peer, when: `(${why})` }, err)
}
