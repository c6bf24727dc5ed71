// The public face: Volume.connect() and an fs/promises-shaped API over the top of the client
// graph. Path resolution is resolver.ts, writes by path namespace.ts, file bytes file-io.ts, open
// files file-handle.ts, the graph and its switching volume-graph.ts; every fop goes to the top
// layer (layer.ts), which is all this file knows of the graph.
import { EventEmitter } from 'node:events'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import {
  GlusterError, GfSetattrValid, GfXattrFlags, gfxBin, gfxDictBin, gfxUint, type GfxDict,
} from '@gluster-ts/rpc'
import { parseServers, type VolfileServer } from './servers.js'
import { fetchVolfile } from './bootstrap.js'
import type { ClientGraph, XlatorOptions } from './graph.js'
import type { BrickClient } from './brick.js'
import type { Layer, LayerFd } from './layer.js'
import { Dirent, Stats, gfidString, type StatFs } from './stats.js'
import type { PipeDestination, PipeToOptions } from './pipe.js'
import type { VolumeReadStream, ReadStreamOptions } from './read-stream.js'
import { openFlags } from './write-file.js'
import type { VolumeWriteStream, WriteStreamOptions } from './write-stream.js'
import { cacheInvalidationEnabled, namespaceChanged, type UpcallEvents } from './upcall.js'
import { TlsResolver, type VolumeTlsOptions } from './tls.js'
import { Resolver, err, splitPath, type Resolved } from './resolver.js'
import { Namespace } from './namespace.js'
import { FileIO } from './file-io.js'
import { FileHandle, Dir, type FileHost, type OpOptions } from './file-handle.js'
import { VolumeGraph } from './volume-graph.js'
import { ShardLayer } from './shard.js'
import { layersOf } from './stack.js'

export { FileHandle, Dir }
export type { OpOptions }

export interface VolumeOptions {
  /** volfile servers: 'host', 'host:port', '[v6]:port', 'unix:/path' (port 0 or none: 24007) */
  servers: string | readonly string[]
  /** the volume (volfile id) */
  volume: string
  signal?: AbortSignal
  /** options per translator, as glfs_set_xlator_option (globs allowed: '*-replicate-*') */
  xlatorOptions?: XlatorOptions
  /** AFR read-hash-mode for every replica set (default: the volfile's, else 1 = gfid hash) */
  readHashMode?: number
  /** override every brick's ping-timeout, ms */
  pingTimeoutMs?: number
  /** deadline of the volfile fetch across all servers, ms (default 5000) */
  bootstrapTimeoutMs?: number
  /** stagger between volfile servers, ms (default 250) */
  staggerMs?: number
  /** deadline of one brick connect + handshake, ms (default 5000) */
  connectTimeoutMs?: number
  /** how long connect() waits for bricks, ms (default connectTimeoutMs) */
  bricksTimeoutMs?: number
  /** hedge a read to another copy after this long, ms (default 300; 0 = never) */
  hedgeAfterMs?: number
  /** once a quorum answered a LOOKUP, wait at most this long for the other bricks, ms (default 300) */
  stragglerMs?: number
  /** per-attempt deadline of one fop on one brick, ms (default 10000) */
  attemptTimeoutMs?: number
  /** deadline of the PING that decides whether a late brick is slow, ms (default 1000) */
  probeTimeoutMs?: number
  /** reconnect backoff: first and longest delay, ms (defaults 200 and 3000) */
  reconnectInitialMs?: number
  reconnectMaxMs?: number
  /** files up to this size come back inside the LOOKUP reply (glusterfs.content); 0 disables (default 65536) */
  quickReadBytes?: number
  /** READ size and READs in flight of readFile/createReadStream (defaults 1048576 and 4) */
  readChunkBytes?: number
  readWindow?: number
  /** how long a resolved directory is trusted, ms (default 1000, like FUSE's entry-timeout) */
  entryTimeoutMs?: number
  /** bind source ports below 1024 (root) for clusters with server.allow-insecure off */
  privilegedPort?: boolean
  /** WRITE size and WRITEs in flight of writeFile/createWriteStream (defaults 524288 and 8; keep WRITEs under 1 MiB) */
  writeChunkBytes?: number
  writeWindow?: number
  /**
   * once a quorum of a replica set answered a write phase, how long the other bricks get before
   * they are left out of that write and marked for heal, ms (default 5000): the bound on how
   * long a hung brick can stall a write
   */
  writeStragglerMs?: number
  /** AFR post-op-delay-secs: an idle file's write transaction is closed after this long, ms (default 1000) */
  postOpDelayMs?: number
  /**
   * sharded volumes: delete the blocks of files removed through this volume in the background,
   * right after (default true); false leaves the marker for any GlusterFS client to finish
   */
  shardDeletion?: boolean
  /** mask applied to the mode of new files and directories (default 0o022) */
  umask?: number
  uid?: number
  gid?: number
  groups?: number[]
  /**
   * TLS certificates and switches (docs/volume.md "TLS"). Which connections use TLS follows the
   * volfile and the host, as in GlusterFS: this only says with what, or forces management TLS.
   */
  tls?: VolumeTlsOptions
}

/** What `Volume.lookup` answers. */
export interface VolumeEntry {
  stats: Stats
  /** the canonical path in the volume (symlinks followed) */
  path: string
  /** the whole file, when it is a regular file that came inside the LOOKUP reply */
  content?: Buffer
  /** a handle on this file, without another lookup */
  open (): FileHandle
}

export interface ReaddirOptions extends OpOptions {
  withFileTypes?: boolean
  /** fill Dirent.stats from READDIRP's attributes */
  stats?: boolean
}

const F_OK = 0
const S_IFMT = 0o170000
const S_IFDIR = 0o040000

const isDir = (mode: number): boolean => (mode & S_IFMT) === S_IFDIR

/** Events: 'invalidate' (a cache-invalidation upcall), 'resync' (a brick reconnected; its upcall registrations are gone), 'fetchspec' (glusterd said the volume's volfiles changed): see upcall.ts. */
export class Volume extends EventEmitter<UpcallEvents> {
  readonly name: string
  readonly #o: VolumeOptions
  readonly #g: VolumeGraph
  readonly #r: Resolver
  readonly #ns: Namespace
  readonly #io: FileIO
  readonly #host: FileHost
  #closed = false
  readonly #tls: TlsResolver
  readonly #inflight = new Set<Promise<unknown>>()
  readonly #openFiles = new Set<LayerFd>()

  private constructor (o: VolumeOptions, servers: VolfileServer[]) {
    super()
    this.#o = o
    this.name = o.volume
    this.#tls = new TlsResolver(o.tls)
    const top = (): Layer => this.#g.current.top
    this.#r = new Resolver(top, o.entryTimeoutMs ?? 1000)
    this.#ns = new Namespace(this.#r, top, o.umask ?? 0o022)
    this.#io = new FileIO(top, this.#r, o, p => this.#track(p))
    this.#g = new VolumeGraph(o, servers, {
      read: { hedgeAfterMs: o.hedgeAfterMs ?? 300, stragglerMs: o.stragglerMs ?? 300, attemptTimeoutMs: o.attemptTimeoutMs ?? 10_000 },
      write: { timing: { attemptTimeoutMs: o.attemptTimeoutMs ?? 10_000, stragglerMs: o.writeStragglerMs ?? 5000 }, postOpDelayMs: o.postOpDelayMs ?? 1000, ensureDurability: true },
      shard: { entryTimeoutMs: o.entryTimeoutMs ?? 1000, deleteBlocks: o.shardDeletion !== false },
    }, {
      invalidate: e => {
        if (e.path !== undefined && namespaceChanged(e.flags)) this.#r.invalidate(e.path)
        this.emit('invalidate', e)
      },
      resync: e => { this.emit('resync', e) },
      pathOf: gfid => this.#r.pathOf(gfid),
      fetchspec: () => { this.emit('fetchspec') },
      switched: () => { this.#r.clear() },
    }, this.#tls)
    this.#host = {
      io: this.#io,
      lookupGfid: (gfid, fo) => this.#top.lookupGfid(gfid, fo),
      forget: f => { this.#openFiles.delete(f) },
      chmod: (p, mode, oo) => this.chmod(p, mode, oo),
      utimes: (p, a, m, oo) => this.utimes(p, a, m, oo),
    }
  }

  /** Fetch the volfile, connect to the bricks, and resolve once every subvolume can serve reads. */
  static async connect (o: VolumeOptions): Promise<Volume> {
    const servers = parseServers(o.servers)
    const vol = new Volume(o, servers)
    const boot = await fetchVolfile(servers, {
      volume: o.volume,
      ...(o.signal !== undefined ? { signal: o.signal } : {}),
      ...(o.staggerMs !== undefined ? { staggerMs: o.staggerMs } : {}),
      timeoutMs: o.bootstrapTimeoutMs ?? 5000,
      ...vol.#g.mgmtConnectOptions(),
    })
    for (const s of boot.learned) if (!servers.some(x => x.label === s.label)) servers.push(s)
    try {
      await vol.#g.start(boot.spec, boot.client, o.signal)
    } catch (e) {
      boot.client.destroy()
      throw e
    }
    return vol
  }

  get #top (): Layer { return this.#g.current.top }

  /** The client graph in use (for diagnostics). */
  get graph (): ClientGraph { return this.#g.current.graph }
  /** Every brick connection, by protocol/client name. */
  get bricks (): ReadonlyMap<string, BrickClient> { return this.#g.current.bricks }
  /** Volfile servers known now (given plus learned from glusterd). */
  get servers (): string[] { return this.#g.servers.map(s => s.label) }

  /** Whether every brick has features.cache-invalidation on (so 'invalidate' events come): reads the bricks' volfiles. */
  cacheInvalidation (o: OpOptions & { timeoutMs?: number } = {}): Promise<boolean> {
    const tls = this.#tls.forManagement()
    return cacheInvalidationEnabled(this.servers, this.name, this.#g.current.bricks.values(), { ...o, ...(tls !== undefined ? { tls } : {}) })
  }

  /** Whether connections to glusterd speak TLS (the `tls.management` option, or the host's secure-access file). */
  get managementTls (): boolean { return this.#tls.management }

  /** Fetch the volfile again; when it changed, build the new graph and switch to it. */
  refetch (opts: OpOptions = {}): Promise<void> { return this.#g.refetch(opts) }

  /**
   * Resolves once the background work of the graph is done: the deletion of the blocks of
   * sharded files removed through this volume (GlusterFS's clients do it the same way, later).
   */
  async settled (): Promise<void> {
    for (const l of layersOf(this.#top)) if (l instanceof ShardLayer) await l.deleter.idle()
  }

  #track<T> (p: Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new GlusterError('EGLUSTER_CLOSED', `volume ${this.name} is closed`, {}))
    this.#inflight.add(p)
    const done = (): void => { this.#inflight.delete(p) }
    p.then(done, done)
    return p
  }

  #ctx (o: OpOptions): { signal?: AbortSignal } { return o.signal !== undefined ? { signal: o.signal } : {} }

  /** @internal resolve a path (symlinks followed in every component but the last, and in the last with `follow`) */
  _resolve (path: string, o: { follow: boolean, signal?: AbortSignal }): Promise<Resolved> { return this.#r.resolve(path, o) }

  #handle (r: Resolved): FileHandle { return new FileHandle(this.#host, r.path, r.inode) }

  // ---- reading ----

  stat (path: string, o: OpOptions = {}): Promise<Stats> {
    return this.#track(this.#r.resolve(path, { follow: true, ...this.#ctx(o) }).then(r => new Stats(r.inode.stat)))
  }

  lstat (path: string, o: OpOptions = {}): Promise<Stats> {
    return this.#track(this.#r.resolve(path, { follow: false, ...this.#ctx(o) }).then(r => new Stats(r.inode.stat)))
  }

  realpath (path: string, o: OpOptions = {}): Promise<string> {
    return this.#track(this.#r.resolve(path, { follow: true, ...this.#ctx(o) }).then(r => r.path))
  }

  readlink (path: string, o: OpOptions = {}): Promise<string> {
    return this.#track((async () => {
      const r = await this.#r.resolve(path, { follow: false, ...this.#ctx(o) })
      if ((r.inode.stat.mode & S_IFMT) !== 0o120000) throw err('EINVAL', `not a symbolic link, readlink '${path}'`, { path, syscall: 'readlink', errno: 22 })
      return await this.#top.readlink(r.inode, { ...this.#ctx(o), path: r.path })
    })())
  }

  /** mode: F_OK (0, default) or a mask of R_OK 4, W_OK 2, X_OK 1, checked by the brick. */
  access (path: string, mode = F_OK, o: OpOptions = {}): Promise<void> {
    return this.#track((async () => {
      const r = await this.#r.resolve(path, { follow: true, ...this.#ctx(o) })
      if (mode === F_OK) return
      await this.#top.access(r.inode, mode, { ...this.#ctx(o), path })
    })())
  }

  statfs (path = '/', o: OpOptions = {}): Promise<StatFs> {
    return this.#track((async () => {
      const r = await this.#r.resolve(path, { follow: true, ...this.#ctx(o) })
      const f = await this.#top.statfs(r.inode, { ...this.#ctx(o), path })
      return {
        type: 0x65735546, // FUSE_SUPER_MAGIC, what statfs on a GlusterFS FUSE mount reports
        bsize: Number(f.bsize),
        frsize: Number(f.frsize),
        blocks: Number(f.blocks),
        bfree: Number(f.bfree),
        bavail: Number(f.bavail),
        files: Number(f.files),
        ffree: Number(f.ffree),
        namemax: Number(f.namemax),
      }
    })())
  }

  getxattr (path: string, name: string, o: OpOptions = {}): Promise<Buffer> {
    return this.#track((async () => {
      const r = await this.#r.resolve(path, { follow: true, ...this.#ctx(o) })
      const d = await this.#top.getxattr(r.inode, name, { ...this.#ctx(o), path })
      const v = d?.get(name)
      if (v === undefined) throw err('ENODATA', `no such attribute '${name}', getxattr '${path}'`, { path, syscall: 'getxattr', errno: 61 })
      if (Buffer.isBuffer(v.value)) return v.value
      return Buffer.from(String(v.value))
    })())
  }

  listxattr (path: string, o: OpOptions = {}): Promise<string[]> {
    return this.#track((async () => {
      const r = await this.#r.resolve(path, { follow: true, ...this.#ctx(o) })
      const d = await this.#top.getxattr(r.inode, null, { ...this.#ctx(o), path })
      // AFR's and DHT's own bookkeeping is not the file's (a FUSE mount hides it the same way)
      return [...(d?.keys() ?? [])].filter(k => !/^trusted\.(afr\.|glusterfs\.|gfid)/.test(k))
    })())
  }

  /** LOOKUP `path` (symlinks followed) asking for the content of a file up to `bytes` long. */
  async #lookupContent (path: string, bytes: number, o: OpOptions): Promise<{ r: Resolved, content: Buffer | undefined }> {
    const r = await this.#r.resolve(path, { follow: true, ...this.#ctx(o), ...(bytes > 0 ? { extra: { 'glusterfs.content': gfxUint(bytes) } } : {}) })
    if ((r.inode.stat.mode & S_IFMT) !== 0o100000) return { r, content: undefined }
    const c = gfxDictBin(r.inode.xdata, 'glusterfs.content')
    const size = Number(r.inode.stat.ia_size)
    return { r, content: c !== undefined && c.length === size ? c : size === 0 ? Buffer.alloc(0) : undefined }
  }

  /**
   * One LOOKUP: the stats of `path` (symlinks followed), its canonical path, and for a regular
   * file of at most `contentBytes` (default: the volume's quickReadBytes) its whole content, in
   * the same round trip (quick-read). `open()` gives a handle on the same file without another
   * lookup: a gateway answers "stat, then the bytes" with one brick round trip for small files.
   */
  lookup (path: string, o: OpOptions & { contentBytes?: number } = {}): Promise<VolumeEntry> {
    return this.#track((async () => {
      const { r, content } = await this.#lookupContent(path, o.contentBytes ?? this.#o.quickReadBytes ?? 65536, o)
      return { stats: new Stats(r.inode.stat), path: r.path, ...(content !== undefined ? { content } : {}), open: () => this.#handle(r) }
    })())
  }

  /**
   * The whole file; small files come inside the LOOKUP reply (quick-read), in one round trip.
   * Typed as fs/promises types it: a string with an encoding, a Buffer without.
   */
  readFile (path: string, o: OpOptions & { encoding: BufferEncoding }): Promise<string>
  readFile (path: string, o?: OpOptions & { encoding?: undefined | null }): Promise<Buffer>
  readFile (path: string, o?: OpOptions & { encoding?: BufferEncoding | null }): Promise<Buffer | string>
  readFile (path: string, o: OpOptions & { encoding?: BufferEncoding | null } = {}): Promise<Buffer | string> {
    return this.#track((async () => {
      const { r, content } = await this.#lookupContent(path, this.#o.quickReadBytes ?? 65536, o)
      if (isDir(r.inode.stat.mode)) throw err('EISDIR', `illegal operation on a directory, read '${path}'`, { path, syscall: 'read', errno: 21 })
      const data = content ?? await this.#io.readAll(r.inode, { ...this.#ctx(o), path: r.path })
      return o.encoding !== undefined && o.encoding !== null ? data.toString(o.encoding) : data
    })()) as Promise<Buffer | string>
  }

  /**
   * Copy a file (or [start, end] of it) into `dest` through a small ring of reused buffers; see
   * FileHandle.pipeTo. Symlinks are followed. Resolves with the bytes written.
   */
  pipeTo (path: string, dest: PipeDestination, opts: PipeToOptions = {}): Promise<number> {
    return this.#track((async () => {
      const r = await this.#r.resolve(path, { follow: true, ...this.#ctx(opts) })
      if (isDir(r.inode.stat.mode)) throw err('EISDIR', `illegal operation on a directory, read '${r.path}'`, { path: r.path, syscall: 'read', errno: 21 })
      return await this.#io.pipe(r.inode, r.path, dest, opts)
    })())
  }

  createReadStream (path: string, opts: Omit<ReadStreamOptions, 'chunkBytes' | 'window'> = {}): VolumeReadStream {
    if (this.#closed) throw new GlusterError('EGLUSTER_CLOSED', `volume ${this.name} is closed`, {})
    return this.#io.stream(async signal => {
      const r = await this.#track(this.#r.resolve(path, { follow: true, signal }))
      if (isDir(r.inode.stat.mode)) throw err('EISDIR', `illegal operation on a directory, read '${path}'`, { path, syscall: 'read', errno: 21 })
      return r
    }, opts)
  }

  /** A directory as an async iterable of Dirents, READDIRP page by page (for huge directories). */
  async opendir (path: string, o: ReaddirOptions = {}): Promise<Dir> {
    const r = await this.#track(this.#r.resolve(path, { follow: true, ...this.#ctx(o) }))
    if (!isDir(r.inode.stat.mode)) throw err('ENOTDIR', `not a directory, scandir '${path}'`, { path, syscall: 'scandir', errno: 20 })
    const top = this.#top
    const parent = r.path
    async function * gen (): AsyncGenerator<Dirent> {
      for await (const page of top.readdir(r.inode, { path: parent, ...(o.signal !== undefined ? { signal: o.signal } : {}) })) {
        for (const e of page) yield new Dirent(e.name, parent, e.d_type, gfidString(e.stat.ia_gfid), o.stats === true ? new Stats(e.stat) : undefined)
      }
    }
    return new Dir(parent, gen())
  }

  readdir (path: string, o: ReaddirOptions & { withFileTypes: true }): Promise<Dirent[]>
  readdir (path: string, o?: ReaddirOptions & { withFileTypes?: false }): Promise<string[]>
  readdir (path: string, o: ReaddirOptions = {}): Promise<string[] | Dirent[]> {
    return this.#track((async () => {
      const d = await this.opendir(path, o)
      const out: Dirent[] = []
      for await (const e of d) out.push(e)
      return o.withFileTypes === true ? out : out.map(e => e.name)
    })())
  }

  // ---- writing ----

  async #openFile (path: string, flags: string, mode: number | undefined, o: OpOptions): Promise<{ file: LayerFd, full: string, gfid: Buffer }> {
    const r = await this.#ns.open(path, flags, mode, this.#ctx(o))
    this.#openFiles.add(r.file)
    return r
  }

  #forget (f: LayerFd): void { this.#openFiles.delete(f) }

  /**
   * Open a file. 'r' reads; 'r+' reads and writes an existing file; 'w'/'w+' create or
   * truncate; 'wx' create only; 'a'/'a+' create or append. `mode` (default 0o666, less the
   * umask) applies to a new file.
   */
  open (path: string, flags: string | number = 'r', modeOrOpts?: number | OpOptions, opts: OpOptions = {}): Promise<FileHandle> {
    const mode = typeof modeOrOpts === 'number' ? modeOrOpts : undefined
    const o = typeof modeOrOpts === 'object' ? modeOrOpts : opts
    return this.#track((async () => {
      const fl = flags === 0 ? 'r' : String(flags)
      const f = openFlags(fl)
      if (!f.write) {
        const r = await this.#r.resolve(path, { follow: true, ...this.#ctx(o) })
        if (isDir(r.inode.stat.mode)) throw err('EISDIR', `illegal operation on a directory, open '${path}'`, { path, syscall: 'open', errno: 21 })
        return this.#handle(r)
      }
      const { file, full, gfid } = await this.#openFile(path, fl, mode, o)
      return new FileHandle(this.#host, full, undefined, { gfid, file, append: f.append, readable: f.read })
    })())
  }

  /** Write a whole file (flag 'w' by default: create or truncate). */
  writeFile (path: string, data: string | Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>, o: { flag?: 'w' | 'wx' | 'a', mode?: number, encoding?: BufferEncoding, signal?: AbortSignal } = {}): Promise<void> {
    return this.#track((async () => {
      const flag = o.flag ?? 'w'
      if (typeof data === 'string' || data instanceof Uint8Array) {
        const buf = typeof data === 'string' ? Buffer.from(data, o.encoding ?? 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
        const { file } = await this.#openFile(path, flag, o.mode, o)
        try {
          if (buf.length > 0) await this.#io.writeAt(file, buf, flag === 'a' ? file.size : 0, o)
        } catch (e) {
          await file.close().catch(() => {})
          this.#forget(file)
          throw e
        }
        try { await file.close() } finally { this.#forget(file) }
        return
      }
      const ws = this.createWriteStream(path, { flags: flag, ...(o.mode !== undefined ? { mode: o.mode } : {}), ...this.#ctx(o) })
      await pipeline(Readable.from(data as Iterable<Uint8Array> | AsyncIterable<Uint8Array>, { objectMode: false }), ws)
    })())
  }

  appendFile (path: string, data: string | Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>, o: { mode?: number, encoding?: BufferEncoding, signal?: AbortSignal } = {}): Promise<void> {
    return this.writeFile(path, data, { ...o, flag: 'a' })
  }

  /**
   * A Writable for a file: WRITEs of writeChunkBytes, writeWindow in flight, backpressure when
   * the window is full. 'finish' once every byte was acknowledged by a quorum and the file closed.
   */
  createWriteStream (path: string, opts: WriteStreamOptions = {}): VolumeWriteStream {
    if (this.#closed) throw new GlusterError('EGLUSTER_CLOSED', `volume ${this.name} is closed`, {})
    const flags = opts.flags ?? 'w'
    openFlags(flags)
    let opened: LayerFd | undefined
    const ws = this.#io.writeStream({
      open: async signal => {
        const r = await this.#openFile(path, flags, opts.mode, { signal })
        opened = r.file
        return r.file
      },
      owns: true,
    }, opts)
    if (flags === 'a') ws.appendAtEnd()
    ws.once('close', () => { if (opened !== undefined) this.#forget(opened) })
    return ws
  }

  /** Make a directory; with `recursive`, every missing parent too (returns the first one made). */
  mkdir (path: string, o: { recursive?: boolean, mode?: number, signal?: AbortSignal } = {}): Promise<string | undefined> {
    return this.#track((async () => {
      const { full } = splitPath(path)
      if (o.recursive !== true) {
        await this.#ns.mkdir(full, o.mode, this.#ctx(o))
        return undefined
      }
      let first: string | undefined
      let cur = ''
      for (const part of full.split('/').filter(x => x !== '')) {
        cur += '/' + part
        try {
          const st = await this.#r.resolve(cur, { follow: true, ...this.#ctx(o) })
          if (!isDir(st.inode.stat.mode)) throw err('ENOTDIR', `not a directory, mkdir '${cur}'`, { path, syscall: 'mkdir', errno: 20 })
          continue
        } catch (e) {
          if (!(e instanceof GlusterError && e.code === 'ENOENT')) throw e
        }
        try {
          await this.#ns.mkdir(cur, o.mode, this.#ctx(o))
          first ??= cur
        } catch (e) {
          if (!(e instanceof GlusterError && e.code === 'EEXIST')) throw e
        }
      }
      return first
    })())
  }

  rmdir (path: string, o: OpOptions = {}): Promise<void> {
    return this.#track(this.#ns.rmdir(path, this.#ctx(o)))
  }

  unlink (path: string, o: OpOptions = {}): Promise<void> {
    return this.#track(this.#ns.unlink(path, this.#ctx(o)))
  }

  /** Remove a file, or (with `recursive`) a directory tree; `force` ignores a missing path. */
  rm (path: string, o: { recursive?: boolean, force?: boolean, signal?: AbortSignal } = {}): Promise<void> {
    return this.#track((async () => {
      let st: Stats
      try {
        st = await this.lstat(path, this.#ctx(o))
      } catch (e) {
        if (o.force === true && e instanceof GlusterError && e.code === 'ENOENT') return
        throw e
      }
      if (!st.isDirectory()) {
        await this.unlink(path, this.#ctx(o)).catch(e => { if (!(o.force === true && e instanceof GlusterError && e.code === 'ENOENT')) throw e })
        return
      }
      if (o.recursive !== true) throw err('EISDIR', `is a directory, rm '${path}' (use recursive: true)`, { path, syscall: 'rm', errno: 21 })
      const base = splitPath(path).full
      const names = await this.readdir(base, this.#ctx(o))
      for (let i = 0; i < names.length; i += 8) {
        await Promise.all(names.slice(i, i + 8).map(n => this.rm(`${base === '/' ? '' : base}/${n}`, o)))
      }
      if (base !== '/') await this.rmdir(base, this.#ctx(o))
    })())
  }

  /** Rename; replaces an existing file `to` (or an empty directory, when `from` is one). */
  rename (from: string, to: string, o: OpOptions = {}): Promise<void> {
    return this.#track(this.#ns.rename(from, to, this.#ctx(o)))
  }

  link (existing: string, newPath: string, o: OpOptions = {}): Promise<void> {
    return this.#track(this.#ns.link(existing, newPath, this.#ctx(o)))
  }

  symlink (target: string, path: string, o: OpOptions = {}): Promise<void> {
    return this.#track(this.#ns.symlink(target, path, this.#ctx(o)))
  }

  truncate (path: string, len = 0, o: OpOptions = {}): Promise<void> {
    return this.#track(this.#ns.truncate(path, len, this.#ctx(o)))
  }

  chmod (path: string, mode: number, o: OpOptions = {}): Promise<void> {
    return this.#track(this.#ns.setattr(path, true, GfSetattrValid.MODE, { mode: mode & 0o7777 }, 'chmod', this.#ctx(o)))
  }

  #chown (path: string, uid: number, gid: number, follow: boolean, syscall: string, o: OpOptions): Promise<void> {
    let valid = 0
    if (uid !== -1) valid |= GfSetattrValid.UID
    if (gid !== -1) valid |= GfSetattrValid.GID
    return this.#track(this.#ns.setattr(path, follow, valid, { ia_uid: uid === -1 ? 0 : uid, ia_gid: gid === -1 ? 0 : gid }, syscall, this.#ctx(o)))
  }

  chown (path: string, uid: number, gid: number, o: OpOptions = {}): Promise<void> { return this.#chown(path, uid, gid, true, 'chown', o) }
  lchown (path: string, uid: number, gid: number, o: OpOptions = {}): Promise<void> { return this.#chown(path, uid, gid, false, 'lchown', o) }

  /** Set access and modification times; numbers are seconds since the epoch (as in fs), Dates as given. */
  utimes (path: string, atime: Date | number, mtime: Date | number, o: OpOptions = {}): Promise<void> {
    const t = (x: Date | number): { sec: bigint, nsec: number } => {
      const ms = x instanceof Date ? x.getTime() : Number(x) * 1000
      if (!Number.isFinite(ms)) throw new TypeError(`invalid time ${String(x)}`)
      const sec = Math.floor(ms / 1000)
      return { sec: BigInt(sec), nsec: Math.round((ms - sec * 1000) * 1e6) }
    }
    const a = t(atime)
    const m = t(mtime)
    return this.#track(this.#ns.setattr(path, true, GfSetattrValid.ATIME | GfSetattrValid.MTIME,
      { ia_atime: a.sec, ia_atime_nsec: a.nsec, ia_mtime: m.sec, ia_mtime_nsec: m.nsec }, 'utimes', this.#ctx(o)))
  }

  setxattr (path: string, name: string, value: Buffer | Uint8Array | string, o: { flags?: 'create' | 'replace', signal?: AbortSignal } = {}): Promise<void> {
    const v = typeof value === 'string' ? Buffer.from(value) : Buffer.from(value.buffer, value.byteOffset, value.byteLength)
    const dict: GfxDict = new Map([[name, gfxBin(v)]])
    return this.#track(this.#ns.setxattr(path, dict, o.flags === 'create' ? GfXattrFlags.CREATE : o.flags === 'replace' ? GfXattrFlags.REPLACE : 0, this.#ctx(o)))
  }

  removexattr (path: string, name: string, o: OpOptions = {}): Promise<void> {
    return this.#track(this.#ns.removexattr(path, name, this.#ctx(o)))
  }

  /** Copy a file's bytes (mode: fs.constants.COPYFILE_EXCL (1) fails when dst exists). */
  copyFile (src: string, dst: string, mode = 0, o: OpOptions = {}): Promise<void> {
    return this.#track((async () => {
      const st = await this.stat(src, this.#ctx(o))
      if (st.isDirectory()) throw err('EISDIR', `illegal operation on a directory, copyfile '${src}' -> '${dst}'`, { path: src, syscall: 'copyfile', errno: 21 })
      await pipeline(this.createReadStream(src, this.#ctx(o)), this.createWriteStream(dst, { flags: (mode & 1) !== 0 ? 'wx' : 'w', mode: st.mode & 0o7777, ...this.#ctx(o) }))
    })())
  }

  /**
   * Stop taking calls, wait (at most timeoutMs, default 10 s) for those in flight, then close
   * every brick connection and the volfile server connection. Leaves no timer behind.
   */
  async close (o: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const timeoutMs = o.timeoutMs ?? 10_000
    if (this.#inflight.size > 0) {
      let t: NodeJS.Timeout | undefined
      await Promise.race([
        Promise.allSettled([...this.#inflight]),
        new Promise<void>(resolve => { t = setTimeout(resolve, timeoutMs) }),
      ])
      if (t !== undefined) clearTimeout(t)
    }
    await Promise.allSettled([...this.#openFiles].map(f => f.close()))
    this.#openFiles.clear()
    await this.#g.close({ timeoutMs })
    this.#r.clear()
  }

  async [Symbol.asyncDispose] (): Promise<void> { await this.close() }
}

