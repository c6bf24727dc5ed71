// serve: the HTTP gateway of packages/http; serve --demo: an embedded cluster with sample files and
// the gateway on it (the README's one-command quick start); cluster: the embedded cluster alone.
import { mkdtemp, rm as rmDir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadGatewayConfig, parseMountSpec, startGatewayServer, type GatewayServerOptions, type MountOptions } from '@gluster-ts/http'
import { startCluster, type Cluster } from '@gluster-ts/server'
import { Volume } from '@gluster-ts/volume'
import type { Session } from '../session.js'
import { CliError, EXIT } from '../errors.js'
import { parseLocation } from '../url.js'
import { report } from './common.js'

export interface ServeOptions {
  mounts: string[]
  host: string
  port: number
  workers: number
  config?: string | undefined
  demo: boolean
  dir?: string | undefined
}

/** 'PREFIX=gluster://h/vol', a bare 'gluster://h/vol' (served at /), or the uWSGI plugin's 'mountpoint=/x,volume=v,server=h:0'. */
export function mountFromArg (arg: string, defaults: { servers?: readonly string[] }): MountOptions {
  const urlAt = arg.search(/[a-z][a-z0-9+.-]*:\/\//i)
  if (urlAt < 0) {
    try {
      return parseMountSpec(arg)
    } catch (err) {
      throw new CliError('EUSAGE', `mount '${arg}': ${(err as Error).message}`)
    }
  }
  let prefix = '/'
  if (urlAt > 0) {
    if (arg[urlAt - 1] !== '=') throw new CliError('EUSAGE', `mount '${arg}': write PREFIX=gluster://HOST/VOLUME`)
    prefix = arg.slice(0, urlAt - 1)
    if (!prefix.startsWith('/')) throw new CliError('EUSAGE', `mount '${arg}': the prefix must start with /`)
  }
  const loc = parseLocation(arg.slice(urlAt), defaults)
  if (loc.kind !== 'remote') throw new CliError('EUSAGE', `mount '${arg}': not a gluster:// URL`)
  if (loc.path !== '/') throw new CliError('EUSAGE', `mount '${arg}': the gateway serves whole volumes (no path after the volume)`)
  return { mountpoint: prefix.length > 1 ? prefix.replace(/\/$/, '') : '/', volume: loc.volume, servers: loc.servers, listing: true }
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
      host: o.host, port: o.port, workers: 1, accessLog: false,
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

export async function serve (s: Session, o: ServeOptions): Promise<number> {
  if (o.demo) return demo(s, o)
  try {
    let opts: GatewayServerOptions
    if (o.config !== undefined) {
      opts = await loadGatewayConfig(o.config).catch((err: unknown) => { throw new CliError('EUSAGE', `--config ${o.config}: ${(err as Error).message}`) })
      if (o.mounts.length > 0) opts.mounts = [...opts.mounts, ...o.mounts.map(m => mountFromArg(m, s.opts.servers !== undefined ? { servers: s.opts.servers } : {}))]
    } else {
      if (o.mounts.length === 0) throw new CliError('EUSAGE', 'serve needs a mount (PREFIX=gluster://HOST/VOLUME), --config FILE or --demo')
      opts = { mounts: o.mounts.map(m => mountFromArg(m, s.opts.servers !== undefined ? { servers: s.opts.servers } : {})) }
    }
    opts = { ...opts, host: o.host, port: o.port, workers: o.workers }
    const server = await startGatewayServer(opts)
    s.err(`gluster-ts serve: listening on ${server.url}/ (${opts.mounts.map(m => `${m.mountpoint} → ${m.volume}`).join(', ')})\n`)
    await waitForAbort(s.signal)
    await server.close()
    return EXIT.OK
  } catch (err) {
    return report(s, 'serve', undefined, err)
  }
}

export interface ClusterOptions {
  dir: string
  replica: number
  distribute: number
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
    c = await startCluster({
      dir: o.dir, replica: o.replica, distribute: o.distribute, port: o.port, volume: o.volume, host: o.host,
      brickProcesses: o.brickProcesses, ...(o.arbiter !== undefined ? { arbiter: o.arbiter } : {}),
      ...(o.shardBlockSize !== undefined ? { shardBlockSize: o.shardBlockSize } : {}),
      ...(o.authAllow !== undefined ? { authAllow: o.authAllow } : {}),
      ...(o.authReject !== undefined ? { authReject: o.authReject } : {}),
      ...(o.allowInsecure !== undefined ? { allowInsecure: o.allowInsecure } : {}),
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
