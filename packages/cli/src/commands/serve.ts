// serve: the HTTP gateway of packages/http; serve --demo: an embedded cluster with sample files and
// the gateway on it (the README's one-command quick start); cluster: the embedded cluster alone.
import { mkdtemp, rm as rmDir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  loadGatewayConfig, parseMountSpec, resolveMount, startGatewayServer,
  type GatewayServer, type GatewayServerOptions, type LogLevel, type MountOptions,
} from '@gluster-ts/http'
import { startCluster, type Cluster } from '@gluster-ts/server'
import { Volume, defaultTlsDirs } from '@gluster-ts/volume'
import type { Session } from '../session.js'
import { CliError, EXIT } from '../errors.js'
import { parseLocation } from '../url.js'
import { report } from './common.js'
import { withTls } from '../tls-flags.js'

export interface ServeOptions {
  /** positional mounts and --mount values */
  mounts: string[]
  /** flags given on the command line win over the config file, which wins over the defaults */
  host?: string | undefined
  port?: number | undefined
  workers?: number | undefined
  logLevel?: LogLevel | undefined
  healthDetails?: boolean | undefined
  config?: string | undefined
  demo: boolean
  dir?: string | undefined
}

function usage (arg: string, err: unknown): CliError {
  return new CliError('EUSAGE', `mount '${arg}': ${(err as Error).message}`)
}

/**
 * 'PREFIX=gluster://h/vol[/path]' (the path: a directory of the volume served at PREFIX), a bare
 * 'gluster://h/vol' (served at /), or the uWSGI plugin's 'mountpoint=/x,volume=v,server=h:0'.
 * Checked as the gateway will check it: a bad mount is a usage error (status 2).
 */
export function mountFromArg (arg: string, defaults: { servers?: readonly string[] }): MountOptions {
  const urlAt = arg.search(/[a-z][a-z0-9+.-]*:\/\//i)
  let m: MountOptions
  if (urlAt < 0) {
    try {
      m = parseMountSpec(arg)
    } catch (err) {
      throw usage(arg, err)
    }
  } else {
    let prefix = '/'
    if (urlAt > 0) {
      if (arg[urlAt - 1] !== '=') throw new CliError('EUSAGE', `mount '${arg}': write PREFIX=gluster://HOST/VOLUME`)
      prefix = arg.slice(0, urlAt - 1)
      if (!prefix.startsWith('/')) throw new CliError('EUSAGE', `mount '${arg}': the prefix must start with /`)
    }
    const loc = parseLocation(arg.slice(urlAt), defaults)
    if (loc.kind !== 'remote') throw new CliError('EUSAGE', `mount '${arg}': not a gluster:// URL`)
    m = { mountpoint: prefix.length > 1 ? prefix.replace(/\/$/, '') : '/', volume: loc.volume, servers: loc.servers, listing: true, ...(loc.path !== '/' ? { subdir: loc.path } : {}) }
  }
  try {
    resolveMount(m)
  } catch (err) {
    throw usage(arg, err)
  }
  return m
}

/** The gateway's options: the config file (read again on every reload), the mounts and flags given. */
async function gatewayOptions (s: Session, o: ServeOptions): Promise<GatewayServerOptions> {
  let base: GatewayServerOptions = { mounts: [] }
  if (o.config !== undefined) {
    base = await loadGatewayConfig(o.config).catch((err: unknown) => { throw new CliError('EUSAGE', `--config ${o.config}: ${(err as Error).message}`) })
  }
  const mounts = [...base.mounts, ...o.mounts.map(m => mountFromArg(m, s.opts.servers !== undefined ? { servers: s.opts.servers } : {}))]
  if (mounts.length === 0) throw new CliError('EUSAGE', 'serve needs a mount (PREFIX=gluster://HOST/VOLUME, --mount SPEC), --config FILE or --demo')
  const seen = new Set<string>()
  for (const m of mounts) {
    const at = resolveMount(m).mountpoint
    if (seen.has(at)) throw new CliError('EUSAGE', `two mounts at ${at}`)
    seen.add(at)
  }
  const opts: GatewayServerOptions = {
    ...base,
    mounts: mounts.map(m => withTls(m, s.opts.tls)),
    host: o.host ?? base.host ?? '127.0.0.1',
    port: o.port ?? base.port ?? 8080,
    workers: o.workers ?? base.workers ?? 1,
  }
  const level = o.logLevel ?? base.logLevel
  if (level !== undefined) opts.logLevel = level
  const details = o.healthDetails ?? base.healthDetails
  if (details !== undefined) opts.healthDetails = details
  return opts
}

function waitForAbort (signal: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    if (signal.aborted) resolve()
    else signal.addEventListener('abort', () => { resolve() }, { once: true })
  })
}

const SAMPLES: Array<[string, string]> = [
  ['/hello.txt', 'Hello from GlusterFS, served by gluster-ts.\n'],
  ['/index.html', '<!doctype html><title>gluster-ts demo</title><h1>gluster-ts</h1><p>This page lives on a replica-3 GlusterFS volume. See <a href="/docs/">/docs/</a>.</p>\n'],
  ['/docs/readme.md', '# Demo volume\n\nEvery file here was written through @gluster-ts/volume.\n'],
  ['/docs/data.json', JSON.stringify({ volume: 'demo', replica: 3, files: 4 }, null, 2) + '\n'],
]

async function demo (s: Session, o: ServeOptions): Promise<number> {
  const dir = o.dir ?? await mkdtemp(join(tmpdir(), 'gluster-ts-demo-'))
  let cluster: Cluster | undefined
  let server: { url: string, close (): Promise<void> } | undefined
  try {
    cluster = await startCluster({ dir, replica: 3, port: 0, volume: 'demo', host: '127.0.0.1' })
    const servers = [cluster.volfileServer]
    const vol = await Volume.connect({ servers, volume: 'demo', signal: s.signal })
    try {
      await vol.mkdir('/docs', { recursive: true, signal: s.signal })
      for (const [p, text] of SAMPLES) await vol.writeFile(p, text, { signal: s.signal })
    } finally {
      await vol.close()
    }
    server = await startGatewayServer({
      mounts: [{ mountpoint: '/', volume: 'demo', servers, listing: true }],
      host: o.host ?? '127.0.0.1', port: o.port ?? 8080, workers: 1, accessLog: false, logLevel: o.logLevel ?? 'warn',
    })
    const url = `gluster://${cluster.volfileServer}/demo`
    s.out(`gateway  ${server.url}/\nvolume   ${url}/  (replica 3, data in ${dir})\n\n` +
      `try:  curl ${server.url}/hello.txt\n      gluster-ts ls -l ${url}/\n      gluster-ts cat ${url}/docs/readme.md\n` +
      `      echo hi | gluster-ts put ${url}/new.txt && curl ${server.url}/new.txt\n` +
      `      mount -t glusterfs -o volfile-server-port=${cluster.port} ${cluster.host}:/demo /mnt   (root, glusterfs-client)\n` +
      'Ctrl-C stops it.\n')
    await waitForAbort(s.signal)
    return EXIT.OK
  } catch (err) {
    return report(s, 'serve', undefined, err)
  } finally {
    await server?.close().catch(() => {})
    await cluster?.close().catch(() => {})
    if (o.dir === undefined) await rmDir(dir, { recursive: true, force: true }).catch(() => {})
  }
}

/**
 * serve: the gateway until SIGINT/SIGTERM (drains, then exits 0); SIGHUP reads the config file
 * again and restarts the gateway or its workers gracefully (GatewayServer.reload). Every line it
 * writes is a pino JSON line on stdout.
 */
export async function serve (s: Session, o: ServeOptions): Promise<number> {
  if (o.demo) return demo(s, o)
  let server: GatewayServer | undefined
  let reloading = Promise.resolve()
  // a SIGHUP that comes while the gateway starts (with workers, /readyz can answer before the
  // last worker is up) is applied once it has started, instead of killing the process
  let hupWhileStarting = false
  const onHup = (): void => {
    if (server === undefined) { hupWhileStarting = true; return }
    reloading = reloading.then(async () => {
      const log = server!.logger
      log.info({ signal: 'SIGHUP', config: o.config }, 'reloading')
      try {
        await server!.reload(await gatewayOptions(s, o))
      } catch (err) {
        log.error({ err }, 'reload failed; the previous configuration keeps serving')
      }
    })
  }
  try {
    process.on('SIGHUP', onHup)
    const opts = await gatewayOptions(s, o)
    server = await startGatewayServer(opts)
    if (hupWhileStarting) onHup()
    await waitForAbort(s.signal)
    const signal = (s.signal.reason as { signal?: unknown } | undefined)?.signal
    server.logger.info({ signal }, 'shutting down: draining requests in flight')
    process.off('SIGHUP', onHup)
    await reloading
    await server.close()
    server.logger.info('stopped')
    await new Promise<void>(resolve => { server!.logger.flush(() => { resolve() }) })
    return EXIT.OK
  } catch (err) {
    process.off('SIGHUP', onHup)
    await server?.close().catch(() => {})
    return report(s, 'serve', undefined, err)
  }
}

export interface ClusterOptions {
  dir: string
  /** default 3, or 1 with `disperse` */
  replica?: number | undefined
  distribute: number
  /** a dispersed volume: bricks per set, and how many of them may be lost (default 1) */
  disperse?: number | undefined
  redundancy?: number | undefined
  arbiter?: number | undefined
  port: number
  volume: string
  host: string
  brickProcesses: boolean
  /** features.shard on with this block size ('4MB'; 'default': 64MB) */
  shardBlockSize?: string | undefined
  authAllow?: string | undefined
  authReject?: string | undefined
  allowInsecure?: boolean | undefined
  /** serve TLS with the certificates of the global --tls-* flags (s.opts.tls) */
  tls?: boolean | undefined
  /** with tls: auth.ssl-allow */
  sslAllow?: string | undefined
}

/** The embedded cluster; prints what packages/server's gluster-ts-cluster prints, stops on Ctrl-C. */
export async function cluster (s: Session, o: ClusterOptions): Promise<number> {
  let c: Cluster | undefined
  const onUsr2 = (): void => {
    c?.startStoppedBricks().then(printBricks, (err: unknown) => { s.err(`restart: ${String(err)}\n`) })
  }
  const printBricks = (which: number[]): void => {
    for (const i of which) {
      const pid = c!.brickPid(i)
      s.out(`brick ${i} ${c!.volume.bricks[i]!.path} port ${c!.brickPort(i) ?? '-'}${pid !== undefined ? ` pid ${pid}` : ''}\n`)
    }
  }
  try {
    if (o.sslAllow !== undefined && o.tls !== true) throw new CliError('EUSAGE', '--ssl-allow needs --tls')
    const t = s.opts.tls
    const tls = o.tls === true
      ? {
          // no flags: the directory the installed GlusterFS reads its certificates from
          dir: t?.dir ?? defaultTlsDirs()[0]!,
          ...(t?.certFile !== undefined ? { certFile: t.certFile } : {}),
          ...(t?.keyFile !== undefined ? { keyFile: t.keyFile } : {}),
          ...(t?.caFile !== undefined ? { caFile: t.caFile } : {}),
          ...(t?.management === true ? { management: true } : {}),
          ...(o.sslAllow !== undefined ? { allow: o.sslAllow } : {}),
        }
      : undefined
    c = await startCluster({
      dir: o.dir, distribute: o.distribute, port: o.port, volume: o.volume, host: o.host,
      brickProcesses: o.brickProcesses, ...(o.replica !== undefined ? { replica: o.replica } : {}),
      ...(o.disperse !== undefined ? { disperse: o.disperse, ...(o.redundancy !== undefined ? { redundancy: o.redundancy } : {}) } : {}), ...(o.arbiter !== undefined ? { arbiter: o.arbiter } : {}),
      ...(o.shardBlockSize !== undefined ? { shardBlockSize: o.shardBlockSize } : {}),
      ...(o.authAllow !== undefined ? { authAllow: o.authAllow } : {}),
      ...(o.authReject !== undefined ? { authReject: o.authReject } : {}),
      ...(o.allowInsecure !== undefined ? { allowInsecure: o.allowInsecure } : {}),
      ...(tls !== undefined ? { tls } : {}),
    })
    s.out(`volume ${c.volume.name}\nvolfile-server ${c.volfileServer}\nurl gluster://${c.volfileServer}/${c.volume.name}/\n` +
      `mount: glusterfs --volfile-server=${c.host} --volfile-server-port=${c.port} --volfile-id=${c.volume.name} MOUNTPOINT\n`)
    printBricks(c.volume.bricks.map((_, i) => i))
    s.out('ready\n')
    process.on('SIGUSR2', onUsr2)
    await waitForAbort(s.signal)
    return EXIT.OK
  } catch (err) {
    return report(s, 'cluster', o.dir, err)
  } finally {
    process.off('SIGUSR2', onUsr2)
    await c?.close()
  }
}
