// The public face: Volume.connect() and an fs/promises-shaped read API over the client graph.
import { posix } from 'node:path'
import { EventEmitter } from 'node:events'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { randomUUID } from 'node:crypto'
import {
  CallbackProgram, FopProgram, GlusterError, GfSetattrValid, RpcClient, getSpec, gfxDictBin, gfxUint,
  type GfxValue, type TlsContext,
} from '@gluster-ts/rpc'
import { parseServers, type VolfileServer } from './servers.js'
import { fetchVolfile } from './bootstrap.js'
import { buildClientGraph, type ClientGraph, type ClientSpec, type ReplicateSpec, type XlatorOptions } from './graph.js'
import { BrickClient, type BrickOptions } from './brick.js'
import { Replicate, type ReadTiming } from './replicate.js'
import { Distribute, type Inode } from './distribute.js'
import { Dirent, Stats, gfidString, type StatFs } from './stats.js'
import { pipeReads } from './pipe.js'
import type { PipeDestination, PipeToOptions } from './pipe.js'
import { VolumeReadStream, type ReadStreamOptions } from './read-stream.js'
import { Writer, splitPath, type WriteHost } from './write.js'
import { WritableFile, openFlags } from './write-file.js'
import { VolumeWriteStream, type WriteStreamOptions } from './write-stream.js'
import type { WriteTiming } from './afr-txn.js'
import { cacheInvalidationEnabled, namespaceChanged, watchBrick, type UpcallEvents } from './upcall.js'
import { TlsResolver, ioTlsEnabled, type VolumeTlsOptions } from './tls.js'
import { connectFailure, refusedForGood } from './connect-failure.js'

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

export interface OpOptions { signal?: AbortSignal }

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

interface Graph {
  text: string
  graph: ClientGraph
  bricks: Map<string, BrickClient>
  dht: Distribute
}

/**
 * READ size of readFile and streams. Larger than FUSE's 128 KiB: on the real cluster (bench/read)
 * the per-call cost (ours and the brick's) dominated with 128 KiB READs, and 1 MiB × 4 in flight
 * read about twice as fast for the same memory bound (4 MiB in flight per stream).
 */
const DEFAULT_READ_CHUNK_BYTES = 1 << 20
/**
 * WRITE size and WRITEs in flight of writeFile and write streams (4 MiB in flight). FUSE sends
 * 128 KiB. Not 1 MiB: a GlusterFS 10 brick takes a 1 MiB WRITE's payload buffer from malloc
 * instead of its iobuf pool (statedump request_misses +1 per WRITE), which cost the bricks about
 * twice the CPU per byte and 0.2 page faults per 4 KiB written (bench/results/write.md).
 */
const DEFAULT_WRITE_CHUNK_BYTES = 512 * 1024
const DEFAULT_WRITE_WINDOW = 8
const F_OK = 0
const S_IFMT = 0o170000
const MAX_SYMLINKS = 40

function brickKey (c: ClientSpec): string {
  return JSON.stringify([c.name, c.host, c.port ?? 0, c.brickPath, c.username ?? '', c.password ?? '', c.pingTimeoutSec])
}

function err (code: string, message: string, extra: Record<string, unknown>): GlusterError {
  const e = new GlusterError(code, `${code}: ${message}`, extra)
  return e
}

/**
 * An open file. Reads go through the brick's anonymous fd (nothing to re-open after a
 * reconnect); a handle opened for writing also holds an fd on every brick of its replica set,
 * and its writes run in AFR data transactions (see write-file.ts).
 */
export class FileHandle {
  readonly #vol: Volume
  readonly #path: string
  #inode: Inode | undefined
  readonly #gfid: Buffer
  readonly #file: WritableFile | undefined
  readonly #append: boolean
  readonly #readable: boolean
  #pos = 0
  #closed = false

  /** @internal */
  constructor (vol: Volume, path: string, inode: Inode | undefined, o: { gfid?: Buffer, file?: WritableFile, append?: boolean, readable?: boolean } = {}) {
    this.#vol = vol
    this.#path = path
    this.#inode = inode
    this.#gfid = inode?.gfid ?? o.gfid!
    this.#file = o.file
    this.#append = o.append === true
    this.#readable = o.readable !== false
  }

  get gfid (): string { return gfidString(this.#gfid) }
  get path (): string { return this.#path }

  #check (syscall = 'read'): void {
    if (this.#closed) throw new GlusterError('EBADF', `EBADF: file handle for '${this.#path}' is closed`, { path: this.#path, syscall })
    if (syscall === 'read' && !this.#readable) throw new GlusterError('EBADF', `EBADF: file handle for '${this.#path}' is not open for reading`, { path: this.#path, syscall })
  }

  #writable (syscall: string): WritableFile {
    this.#check(syscall)
    if (this.#file === undefined) throw new GlusterError('EBADF', `EBADF: file handle for '${this.#path}' is not open for writing`, { path: this.#path, syscall })
    return this.#file
  }

  async #fresh (opts: OpOptions): Promise<Inode> {
    // after our own writes the attributes (size, readable copies) are looked up again
    if (this.#inode === undefined || this.#file !== undefined) this.#inode = await this.#vol._refreshGfid(this.#gfid, this.#inode, { ...opts, path: this.#path })
    return this.#inode
  }

  /** Read into `buffer` (like fs FileHandle.read); position null/undefined is not tracked: pass one. */
  async read (buffer: Buffer, offset = 0, length = buffer.length - offset, position = 0, opts: OpOptions = {}): Promise<{ bytesRead: number, buffer: Buffer }> {
    this.#check()
    const inode = await this.#fresh(opts)
    if (offset < 0 || length < 0 || offset + length > buffer.length) throw new RangeError(`offset ${offset} + length ${length} is outside the buffer (${buffer.length} bytes)`)
    let done = 0
    while (done < length) {
      const want = Math.min(length - done, 1 << 20)
      // the READ's payload is read by the kernel straight into `buffer` (rpc's `into`)
      const into = buffer.subarray(offset + done, offset + done + want)
      const d = await this.#vol._read(inode, position + done, want, { ...opts, path: this.#path }, into)
      done += d.length
      if (d.length < want) break
    }
    return { bytesRead: done, buffer }
  }

  /**
   * Copy the file (or [start, end]) into `dest`, a Writable that is done with a chunk when it
   * calls back for it (a socket, a file, an HTTP response, process.stdout): READs land in a
   * small ring of buffers reused as `dest` calls back, so memory stays flat and nothing is
   * allocated per READ. Respects `dest`'s backpressure; does not end it. Resolves with the
   * bytes written. For a consumer that keeps the chunks, use createReadStream.
   */
  async pipeTo (dest: PipeDestination, opts: PipeToOptions = {}): Promise<number> {
    this.#check()
    if (this.#inode === undefined || this.#file !== undefined) throw new GlusterError('EBADF', `EBADF: pipeTo on a handle open for writing ('${this.#path}'): open it again with 'r'`, { path: this.#path, syscall: 'read' })
    return await this.#vol._pipe(this.#inode, this.#path, dest, opts)
  }

  async stat (opts: OpOptions = {}): Promise<Stats> {
    this.#check('stat')
    if (this.#file !== undefined) await this.#file.sync()
    this.#inode = this.#inode !== undefined ? await this.#vol._refresh(this.#inode, { ...opts, path: this.#path }) : await this.#vol._refreshGfid(this.#gfid, undefined, { ...opts, path: this.#path })
    return new Stats(this.#inode.stat)
  }

  async readFile (opts: OpOptions = {}): Promise<Buffer> {
    this.#check()
    return await this.#vol._readAll(await this.#fresh(opts), { ...opts, path: this.#path })
  }

  createReadStream (opts: Omit<ReadStreamOptions, 'chunkBytes' | 'window'> = {}): VolumeReadStream {
    this.#check()
    if (this.#inode === undefined || this.#file !== undefined) throw new GlusterError('EBADF', `EBADF: createReadStream on a handle open for writing ('${this.#path}'): open it again with 'r'`, { path: this.#path, syscall: 'read' })
    return this.#vol._stream(this.#inode, this.#path, opts)
  }

  /**
   * Write `length` bytes of `buffer` from `offset` at `position` (null/undefined: the current
   * position, which then advances; with 'a'/'a+': always the end). Resolves once a quorum of the
   * replica set has them.
   */
  async write (buffer: Uint8Array, offset = 0, length = buffer.byteLength - offset, position: number | null = null, opts: OpOptions = {}): Promise<{ bytesWritten: number, buffer: Uint8Array }> {
    const f = this.#writable('write')
    if (offset < 0 || length < 0 || offset + length > buffer.byteLength) throw new RangeError(`offset ${offset} + length ${length} is outside the buffer (${buffer.byteLength} bytes)`)
    const data = Buffer.from(buffer.buffer, buffer.byteOffset + offset, length)
    const start = this.#append ? f.size : position ?? this.#pos
    const n = await this.#vol._writeAt(f, data, start, opts)
    if (position === null || this.#append) this.#pos = start + n
    return { bytesWritten: n, buffer }
  }

  async truncate (len = 0, opts: OpOptions = {}): Promise<void> {
    await this.#writable('ftruncate').truncate(len, opts.signal)
  }

  /** Wait for the writes, FSYNC, and close the AFR transaction (post-op, unlock). */
  async sync (_opts: OpOptions = {}): Promise<void> { await this.#writable('fsync').sync() }
  async datasync (opts: OpOptions = {}): Promise<void> { await this.sync(opts) }

  async chmod (mode: number, opts: OpOptions = {}): Promise<void> {
    this.#check('fchmod')
    await this.#vol.chmod(this.#path, mode, opts)
  }

  async utimes (atime: Date | number, mtime: Date | number, opts: OpOptions = {}): Promise<void> {
    this.#check('futimes')
    await this.#vol.utimes(this.#path, atime, mtime, opts)
  }

  /** A write stream over this handle (the handle stays open when the stream finishes). */
  createWriteStream (opts: { start?: number, highWaterMark?: number, signal?: AbortSignal } = {}): VolumeWriteStream {
    const f = this.#writable('write')
    return this.#vol._writeStream({ open: async () => f, owns: false }, { ...opts, ...(opts.start === undefined ? { start: this.#append ? f.size : this.#pos } : {}) })
  }

  /** End the write transaction, then FLUSH + RELEASE on every brick the file was opened on. */
  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#file !== undefined) {
      try { await this.#file.close() } finally { this.#vol._forget(this.#file) }
    }
  }

  async [Symbol.asyncDispose] (): Promise<void> { await this.close() }
}

/** A directory being read: an async iterable of Dirents, paging through READDIRP. */
export class Dir implements AsyncIterable<Dirent> {
  readonly path: string
  readonly #it: AsyncGenerator<Dirent>
  constructor (path: string, it: AsyncGenerator<Dirent>) {
    this.path = path
    this.#it = it
  }

  async read (): Promise<Dirent | null> {
    const r = await this.#it.next()
    return r.done === true ? null : r.value
  }

  async close (): Promise<void> { await this.#it.return(undefined) }
  async [Symbol.asyncDispose] (): Promise<void> { await this.close() }
  [Symbol.asyncIterator] (): AsyncIterator<Dirent> { return this.#it }
}

/** Events: 'invalidate' (a cache-invalidation upcall), 'resync' (a brick reconnected; its upcall registrations are gone), 'fetchspec' (glusterd said the volume's volfiles changed): see upcall.ts. */
export class Volume extends EventEmitter<UpcallEvents> {
  readonly name: string
  #o: VolumeOptions
  #servers: VolfileServer[]
  #g!: Graph
  #mgmt: RpcClient | undefined
  #mgmtServer: VolfileServer | undefined
  #ctxId = randomUUID()
  #closed = false
  #life = new AbortController()
  #refetching: Promise<void> | undefined
  #mgmtLoop: Promise<void> | undefined
  #dirCache = new Map<string, { inode: Inode, at: number }>()
  #inflight = new Set<Promise<unknown>>()
  #timing: ReadTiming
  #writer: Writer | undefined
  #openFiles = new Set<WritableFile>()
  readonly #tls: TlsResolver

  readonly #upcalls = {
    invalidate: (e: UpcallEvents['invalidate'][0]): void => {
      if (e.path !== undefined && namespaceChanged(e.flags)) this.#invalidate(e.path)
      this.emit('invalidate', e)
    },
    resync: (e: UpcallEvents['resync'][0]): void => { this.emit('resync', e) },
    pathOf: (gfid: string): string | undefined => {
      for (const [p, s] of this.#dirCache) if (gfidString(s.inode.gfid) === gfid) return p
      return undefined
    },
  }

  private constructor (o: VolumeOptions, servers: VolfileServer[]) {
    super()
    this.#o = o
    this.name = o.volume
    this.#servers = servers
    this.#tls = new TlsResolver(o.tls)
    this.#timing = { hedgeAfterMs: o.hedgeAfterMs ?? 300, stragglerMs: o.stragglerMs ?? 300, attemptTimeoutMs: o.attemptTimeoutMs ?? 10_000 }
  }

  /** Fetch the volfile, connect to the bricks, and resolve once every replica set can serve reads. */
  static async connect (o: VolumeOptions): Promise<Volume> {
    const servers = parseServers(o.servers)
    const vol = new Volume(o, servers)
    const boot = await fetchVolfile(servers, {
      volume: o.volume,
      ...(o.signal !== undefined ? { signal: o.signal } : {}),
      ...(o.staggerMs !== undefined ? { staggerMs: o.staggerMs } : {}),
      timeoutMs: o.bootstrapTimeoutMs ?? 5000,
      ...vol.#mgmtConnectOptions(),
    })
    for (const s of boot.learned) if (!vol.#servers.some(x => x.label === s.label)) vol.#servers.push(s)
    try {
      vol.#g = await vol.#makeGraph(boot.spec, undefined, o.signal)
    } catch (e) {
      boot.client.destroy()
      throw e
    }
    vol.#adoptMgmt(boot.client, boot.server)
    return vol
  }

  /** How volfile server connections are made: privileged port, management TLS. */
  #mgmtConnectOptions (): { privilegedPort?: true, tls?: TlsContext } {
    const tls = this.#tls.forManagement()
    return { ...(this.#o.privilegedPort === true ? { privilegedPort: true } : {}), ...(tls !== undefined ? { tls } : {}) }
  }

  /** Whether connections to glusterd speak TLS (the `tls.management` option, or the host's secure-access file). */
  get managementTls (): boolean { return this.#tls.management }

  /** The client graph in use (for diagnostics). */
  get graph (): ClientGraph { return this.#g.graph }
  /** Every brick connection, by protocol/client name. */
  get bricks (): ReadonlyMap<string, BrickClient> { return this.#g.bricks }
  /** Volfile servers known now (given plus learned from glusterd). */
  get servers (): string[] { return this.#servers.map(s => s.label) }

  /** Whether every brick has features.cache-invalidation on (so 'invalidate' events come): reads the bricks' volfiles. */
  cacheInvalidation (o: OpOptions & { timeoutMs?: number } = {}): Promise<boolean> {
    const tls = this.#tls.forManagement()
    return cacheInvalidationEnabled(this.servers, this.name, this.#g.bricks.values(), { ...o, ...(tls !== undefined ? { tls } : {}) })
  }

  async #makeGraph (text: string, old: Graph | undefined, signal?: AbortSignal): Promise<Graph> {
    const overrides: XlatorOptions = { ...this.#o.xlatorOptions }
    if (this.#o.readHashMode !== undefined) overrides['*'] = { ...overrides['*'], 'read-hash-mode': String(this.#o.readHashMode) }
    const graph = buildClientGraph(text, overrides)
    // read every certificate the graph needs now: a missing file fails connect, not each brick
    for (const c of graph.clients) {
      if (c.port === undefined || c.port === 0) this.#tls.forManagement()
      if (ioTlsEnabled(c.options)) this.#tls.forIo(c.options)
    }
    const bricks = new Map<string, BrickClient>()
    const bo: BrickOptions = {
      volfileKey: this.#o.volume,
      ctxId: this.#ctxId,
      connectTimeoutMs: this.#o.connectTimeoutMs ?? 5000,
      ...(this.#o.pingTimeoutMs !== undefined ? { pingTimeoutMs: this.#o.pingTimeoutMs } : {}),
      ...(this.#o.probeTimeoutMs !== undefined ? { probeTimeoutMs: this.#o.probeTimeoutMs } : {}),
      ...(this.#o.reconnectInitialMs !== undefined ? { reconnectInitialMs: this.#o.reconnectInitialMs } : {}),
      ...(this.#o.reconnectMaxMs !== undefined ? { reconnectMaxMs: this.#o.reconnectMaxMs } : {}),
      ...(this.#o.privilegedPort === true ? { privilegedPort: true } : {}),
      ...(this.#o.uid !== undefined ? { uid: this.#o.uid } : {}),
      ...(this.#o.gid !== undefined ? { gid: this.#o.gid } : {}),
      ...(this.#o.groups !== undefined ? { groups: this.#o.groups } : {}),
      ...(graph.volumeId !== undefined ? { volumeId: graph.volumeId } : {}),
      tls: this.#tls,
    }
    const reuse = new Map<string, BrickClient>()
    if (old !== undefined) for (const b of old.bricks.values()) reuse.set(brickKey(b.spec), b)
    for (const c of graph.clients) {
      const b = reuse.get(brickKey(c)) ?? new BrickClient(c, bo)
      bricks.set(c.name, b)
      watchBrick(b, this.#upcalls)
      b.start()
    }
    const replica = (node: ClientSpec | ReplicateSpec): Replicate => {
      if (node.kind === 'replicate') return new Replicate(node, node.children.map(c => bricks.get(c.name)!), this.#timing)
      // a bare client under DHT (pure distribute) is a replica set of one
      const spec: ReplicateSpec = { kind: 'replicate', name: node.name, children: [node], pendingXattrs: [node.name], arbiterCount: 0, readHashMode: 0, readSubvolumeIndex: -1, chooseLocal: false, quorumCount: 0, options: new Map() }
      return new Replicate(spec, [bricks.get(node.name)!], this.#timing)
    }
    const root = graph.root
    const dht = root.kind === 'distribute'
      ? new Distribute(root, root.children.map(replica))
      : new Distribute(undefined, [replica(root)])
    const g: Graph = { text, graph, bricks, dht }
    try {
      await this.#waitForBricks(g, signal)
    } catch (e) {
      for (const b of bricks.values()) if (old === undefined || !old.bricks.has(b.spec.name) || old.bricks.get(b.spec.name) !== b) void b.close()
      throw e
    }
    return g
  }

  /** Until every brick is up, or every set has quorum and every brick has had its first try. */
  async #waitForBricks (g: Graph, signal?: AbortSignal): Promise<void> {
    const timeoutMs = this.#o.bricksTimeoutMs ?? this.#o.connectTimeoutMs ?? 5000
    const sets = g.dht.subvols
    const ready = (): boolean => {
      const all = [...g.bricks.values()]
      if (all.every(b => b.up)) return true
      const quorate = sets.every(s => s.upCount >= Math.max(1, s.spec.quorumCount))
      const tried = all.every(b => b.up || b.failures > 0)
      // a brick that refused us will refuse again: like the FUSE client on AUTH_FAILED, give up
      return tried && (quorate || all.some(b => !b.up && refusedForGood(b.lastError)))
    }
    if (!ready()) {
      await new Promise<void>(resolve => {
        const done = (): void => {
          clearTimeout(timer)
          signal?.removeEventListener('abort', done)
          for (const b of g.bricks.values()) b.off('state', check)
          resolve()
        }
        const check = (): void => { if (ready()) done() }
        const timer = setTimeout(done, timeoutMs)
        signal?.addEventListener('abort', done, { once: true })
        for (const b of g.bricks.values()) b.on('state', check)
      })
    }
    if (signal?.aborted === true) throw signal.reason
    const short = sets.filter(s => s.upCount < Math.max(1, s.spec.quorumCount))
    if (short.length > 0) {
      const why = short.map(s => `${s.name}: ${s.upCount}/${s.children.length} up, needs ${Math.max(1, s.spec.quorumCount)} (${s.children.filter(c => !c.up).map(c => `${c.label}: ${c.lastError?.message ?? 'no answer'}`).join('; ')})`).join('; ')
      throw connectFailure(this.#o.volume, short.flatMap(s => s.children.filter(c => !c.up)), why,
        new GlusterError('EGLUSTER_NO_QUORUM', `volume ${this.#o.volume}: not enough bricks within ${timeoutMs} ms: ${why}`, { syscall: 'connect', path: this.#o.volume }))
    }
  }

  // ---- FETCHSPEC: the volfile changed; fetch it again and switch graphs ----

  #adoptMgmt (c: RpcClient, s: VolfileServer): void {
    this.#mgmt = c
    this.#mgmtServer = s
    c.onCall(CallbackProgram, { FETCHSPEC: () => { void this.refetch().catch(() => {}); this.emit('fetchspec') } })
    c.once('close', () => {
      if (this.#closed || this.#mgmt !== c) return
      this.#mgmt = undefined
      this.#mgmtLoop ??= this.#reconnectMgmt().finally(() => { this.#mgmtLoop = undefined })
    })
  }

  async #reconnectMgmt (): Promise<void> {
    let delay = this.#o.reconnectInitialMs ?? 200
    const signal = this.#life.signal
    while (!signal.aborted) {
      await new Promise<void>(resolve => {
        const t = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve() }, delay)
        const onAbort = (): void => { clearTimeout(t); resolve() }
        signal.addEventListener('abort', onAbort, { once: true })
      })
      if (signal.aborted) return
      try {
        const b = await fetchVolfile(this.#servers, { volume: this.#o.volume, signal, timeoutMs: this.#o.bootstrapTimeoutMs ?? 5000, ...this.#mgmtConnectOptions() })
        if (signal.aborted) { b.client.destroy(); return }
        this.#adoptMgmt(b.client, b.server)
        await this.#switchTo(b.spec)
        return
      } catch {
        delay = Math.min(delay * 2, this.#o.reconnectMaxMs ?? 3000)
      }
    }
  }

  /** Fetch the volfile again; when it changed, build the new graph and switch to it. */
  refetch (opts: OpOptions = {}): Promise<void> {
    this.#refetching ??= (async () => {
      const c = this.#mgmt
      if (c === undefined || c.closed) return
      const r = await getSpec(c, this.#o.volume, { timeoutMs: this.#o.bootstrapTimeoutMs ?? 5000, ...(opts.signal !== undefined ? { signal: opts.signal } : {}) })
      await this.#switchTo(r.spec)
    })().finally(() => { this.#refetching = undefined })
    return this.#refetching
  }

  async #switchTo (text: string): Promise<void> {
    if (this.#closed || text === this.#g.text) return
    const old = this.#g
    const next = await this.#makeGraph(text, old, this.#life.signal)
    if (this.#closed) { for (const b of next.bricks.values()) void b.close(); return }
    this.#g = next
    this.#dirCache.clear()
    // bricks the new graph dropped: close() lets their calls in flight finish first
    const kept = new Set(next.bricks.values())
    for (const b of old.bricks.values()) if (!kept.has(b)) void b.close()
  }

  // ---- path resolution ----

  #track<T> (p: Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new GlusterError('EGLUSTER_CLOSED', `volume ${this.name} is closed`, {}))
    this.#inflight.add(p)
    const done = (): void => { this.#inflight.delete(p) }
    p.then(done, done)
    return p
  }

  async #root (signal?: AbortSignal): Promise<Inode> {
    const hit = this.#dirCache.get('/')
    const ttl = this.#o.entryTimeoutMs ?? 1000
    if (hit !== undefined && performance.now() - hit.at < ttl) return hit.inode
    const inode = await this.#g.dht.lookupRoot(signal !== undefined ? { signal } : {})
    this.#dirCache.set('/', { inode, at: performance.now() })
    return inode
  }

  /**
   * Resolve `path` from the root, following symlinks in every component but the last (and the
   * last too when `follow`). Returns the inode and the canonical path.
   */
  async _resolve (path: string, o: { follow: boolean, signal?: AbortSignal, extra?: Record<string, GfxValue> }): Promise<{ inode: Inode, path: string }> {
    if (typeof path !== 'string') throw new TypeError('path must be a string')
    const ttl = this.#o.entryTimeoutMs ?? 1000
    let rest = posix.normalize('/' + path).split('/').filter(s => s !== '')
    let hops = 0
    restart: for (;;) {
      let cur = await this.#root(o.signal)
      const done: string[] = []
      for (let i = 0; i < rest.length; i++) {
        const name = rest[i]!
        if (name === '..') { rest = [...done.slice(0, -1), ...rest.slice(i + 1)]; continue restart }
        const last = i === rest.length - 1
        const here = '/' + [...done, name].join('/')
        const cached = last ? undefined : this.#dirCache.get(here)
        let inode: Inode
        if (cached !== undefined && performance.now() - cached.at < ttl) {
          inode = cached.inode
        } else {
          inode = await this.#g.dht.lookup(cur, name, { path: here, ...(o.signal !== undefined ? { signal: o.signal } : {}) }, last ? o.extra : undefined)
        }
        const type = inode.stat.mode & S_IFMT
        if (type === 0o120000 && (!last || o.follow)) {
          if (++hops > MAX_SYMLINKS) throw err('ELOOP', `too many symbolic links, '${path}'`, { path, syscall: 'lookup', errno: 40 })
          const target = await this.#readlinkInode(inode, here, o.signal)
          rest = target.startsWith('/')
            ? [...target.split('/'), ...rest.slice(i + 1)].filter(s => s !== '' && s !== '.')
            : [...done, ...target.split('/'), ...rest.slice(i + 1)].filter(s => s !== '' && s !== '.')
          continue restart
        }
        if (!last && type !== 0o040000) throw err('ENOTDIR', `not a directory, '${here}'`, { path, syscall: 'lookup', errno: 20 })
        if (type === 0o040000) this.#dirCache.set(here, { inode, at: performance.now() })
        done.push(name)
        cur = inode
      }
      return { inode: cur, path: '/' + done.join('/') }
    }
  }

  async #readlinkInode (inode: Inode, path: string, signal?: AbortSignal): Promise<string> {
    const sv = this.#g.dht.subvols[inode.subvol]!
    const { res } = await sv.readOp('readlink', inode.gfid, inode.readable, (b, s, timeoutMs) =>
      b.call(FopProgram.procs.READLINK, { gfid: inode.gfid, size: 4096, xdata: null }, { signal: s, timeoutMs }), { path, ...(signal !== undefined ? { signal } : {}) })
    return res.path
  }

  /** @internal a fresh lookup of an inode by gfid */
  async _refresh (inode: Inode, o: OpOptions & { path?: string }): Promise<Inode> {
    return await this.#g.dht.lookupGfid(inode.gfid, { ...(o.signal !== undefined ? { signal: o.signal } : {}), ...(o.path !== undefined ? { path: o.path } : {}) })
  }

  /**
   * @internal one READ (with failover and hedging). With `into`, the data is returned as a view
   * of `into` (read there in place when possible, else copied there).
   */
  async _read (inode: Inode, offset: number, size: number, o: OpOptions & { path?: string }, into?: Buffer): Promise<Buffer> {
    const sv = this.#g.dht.subvols[inode.subvol]
    if (sv === undefined) throw new GlusterError('ESTALE', `ESTALE: '${o.path ?? gfidString(inode.gfid)}' was resolved under an older volume graph`, { ...(o.path !== undefined ? { path: o.path } : {}) })
    const { res } = await sv.read(inode.gfid, offset, size, inode.readable, { ...(o.signal !== undefined ? { signal: o.signal } : {}), ...(o.path !== undefined ? { path: o.path } : {}), ...(into !== undefined ? { into } : {}) })
    const d = res.data
    if (into === undefined || (d.buffer === into.buffer && d.byteOffset === into.byteOffset)) return d
    if (d.length > into.length) throw new GlusterError('EIO', `EIO: READ of ${size} bytes at ${offset} of '${o.path ?? gfidString(inode.gfid)}' returned ${d.length}`, { ...(o.path !== undefined ? { path: o.path } : {}), syscall: 'read', errno: 5 })
    return into.subarray(0, d.copy(into))
  }

  /** @internal */
  _pipe (inode: Inode, path: string, dest: PipeDestination, opts: PipeToOptions): Promise<number> {
    if ((inode.stat.mode & S_IFMT) === 0o040000) return Promise.reject(err('EISDIR', `illegal operation on a directory, read '${path}'`, { path, syscall: 'read', errno: 21 }))
    return this.#track(pipeReads({
      size: Number(inode.stat.ia_size),
      read: (offset, size, into, signal) => this._read(inode, offset, size, { signal, path }, into),
    }, dest, { ...opts, chunkBytes: this.#o.readChunkBytes ?? DEFAULT_READ_CHUNK_BYTES, window: opts.window ?? this.#o.readWindow ?? 4 }))
  }

  /** @internal the whole file, READs in parallel */
  async _readAll (inode: Inode, o: OpOptions & { path?: string }): Promise<Buffer> {
    const chunk = this.#o.readChunkBytes ?? DEFAULT_READ_CHUNK_BYTES
    const size = Number(inode.stat.ia_size)
    const parts: Buffer[] = []
    const window = this.#o.readWindow ?? 4
    let next = 0
    const results = new Map<number, Buffer>()
    const worker = async (): Promise<void> => {
      while (next < size) {
        const off = next
        next += chunk
        results.set(off, await this._read(inode, off, Math.min(chunk, size - off), o))
      }
    }
    await Promise.all(Array.from({ length: Math.min(window, Math.ceil(size / chunk)) }, worker))
    for (let off = 0; off < size; off += chunk) {
      const d = results.get(off)!
      parts.push(d)
      if (d.length < Math.min(chunk, size - off)) break
    }
    // a file that grew since the lookup: keep reading until a short READ
    let off = parts.reduce((n, p) => n + p.length, 0)
    if (off === size) {
      for (;;) {
        const d = await this._read(inode, off, chunk, o)
        if (d.length === 0) break
        parts.push(d)
        off += d.length
        if (d.length < chunk) break
      }
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts)
  }

  /** @internal a fresh lookup by gfid (of a file we created or wrote) */
  async _refreshGfid (gfid: Buffer, old: Inode | undefined, o: OpOptions & { path?: string }): Promise<Inode> {
    if (old !== undefined) return await this._refresh(old, o)
    return await this.#g.dht.lookupGfid(gfid, { ...(o.signal !== undefined ? { signal: o.signal } : {}), ...(o.path !== undefined ? { path: o.path } : {}) })
  }

  #w (): Writer {
    this.#writer ??= new Writer(this.#writeHost())
    return this.#writer
  }

  #writeHost (): WriteHost {
    const timing: WriteTiming = { attemptTimeoutMs: this.#timing.attemptTimeoutMs, stragglerMs: this.#o.writeStragglerMs ?? 5000 }
    return {
      resolve: (p, o) => this._resolve(p, o),
      dht: () => this.#g.dht,
      invalidate: p => this.#invalidate(p),
      timing,
      umask: this.#o.umask ?? 0o022,
      postOpDelayMs: this.#o.postOpDelayMs ?? 1000,
      ensureDurability: true,
    }
  }

  #invalidate (path: string): void {
    const p = splitPath(path).full
    for (const k of [...this.#dirCache.keys()]) if (p === '/' || k === p || k.startsWith(p + '/')) this.#dirCache.delete(k)
  }

  /** @internal the file is closed */
  _forget (f: WritableFile): void { this.#openFiles.delete(f) }

  /** @internal write `data` at `pos`: WRITEs of writeChunkBytes, writeWindow of them in flight */
  async _writeAt (f: WritableFile, data: Buffer, pos: number, o: OpOptions): Promise<number> {
    const chunk = this.#o.writeChunkBytes ?? DEFAULT_WRITE_CHUNK_BYTES
    if (data.length <= chunk) return await this.#track(f.write(data, pos, o.signal))
    const window = this.#o.writeWindow ?? DEFAULT_WRITE_WINDOW
    let next = 0
    let total = 0
    const worker = async (): Promise<void> => {
      while (next < data.length) {
        const off = next
        next += chunk
        const part = data.subarray(off, Math.min(off + chunk, data.length))
        const n = await f.write(part, pos + off, o.signal)
        total += n
        if (n < part.length) throw new GlusterError('EIO', `EIO: short write at ${pos + off} of '${f.path}': ${n} of ${part.length} bytes`, { path: f.path, syscall: 'write', errno: 5 })
      }
    }
    await this.#track(Promise.all(Array.from({ length: Math.min(window, Math.ceil(data.length / chunk)) }, worker)))
    return total
  }

  /** @internal */
  _writeStream (sink: { open: (signal: AbortSignal) => Promise<WritableFile>, owns: boolean }, opts: WriteStreamOptions): VolumeWriteStream {
    return new VolumeWriteStream(sink, { chunkBytes: this.#o.writeChunkBytes ?? DEFAULT_WRITE_CHUNK_BYTES, window: this.#o.writeWindow ?? DEFAULT_WRITE_WINDOW, ...opts })
  }

  async #openFile (path: string, flags: string, mode: number | undefined, o: OpOptions): Promise<{ file: WritableFile, full: string, gfid: Buffer }> {
    const r = await this.#w().open(path, flags, mode, this.#ctx(o))
    this.#openFiles.add(r.file)
    return { file: r.file, full: r.full, gfid: r.gfid }
  }

  /** @internal */
  _stream (inode: Inode, path: string, opts: ReadStreamOptions): VolumeReadStream {
    return new VolumeReadStream({
      open: async () => ({ size: Number(inode.stat.ia_size) }),
      read: (offset, size, signal) => this._read(inode, offset, size, { signal, path }),
    }, { chunkBytes: this.#o.readChunkBytes ?? DEFAULT_READ_CHUNK_BYTES, window: this.#o.readWindow ?? 4, ...opts })
  }

  #ctx (o: OpOptions): { signal?: AbortSignal } { return o.signal !== undefined ? { signal: o.signal } : {} }

  // ---- the API ----

  stat (path: string, o: OpOptions = {}): Promise<Stats> {
    return this.#track(this._resolve(path, { follow: true, ...this.#ctx(o) }).then(r => new Stats(r.inode.stat)))
  }

  lstat (path: string, o: OpOptions = {}): Promise<Stats> {
    return this.#track(this._resolve(path, { follow: false, ...this.#ctx(o) }).then(r => new Stats(r.inode.stat)))
  }

  realpath (path: string, o: OpOptions = {}): Promise<string> {
    return this.#track(this._resolve(path, { follow: true, ...this.#ctx(o) }).then(r => r.path))
  }

  readlink (path: string, o: OpOptions = {}): Promise<string> {
    return this.#track((async () => {
      const r = await this._resolve(path, { follow: false, ...this.#ctx(o) })
      if ((r.inode.stat.mode & S_IFMT) !== 0o120000) throw err('EINVAL', `not a symbolic link, readlink '${path}'`, { path, syscall: 'readlink', errno: 22 })
      return await this.#readlinkInode(r.inode, r.path, o.signal)
    })())
  }

  /** mode: F_OK (0, default) or a mask of R_OK 4, W_OK 2, X_OK 1, checked by the brick. */
  access (path: string, mode = F_OK, o: OpOptions = {}): Promise<void> {
    return this.#track((async () => {
      const r = await this._resolve(path, { follow: true, ...this.#ctx(o) })
      if (mode === F_OK) return
      const sv = this.#g.dht.subvols[r.inode.subvol]!
      await sv.readOp('access', r.inode.gfid, r.inode.readable, (b, signal, timeoutMs) =>
        b.call(FopProgram.procs.ACCESS, { gfid: r.inode.gfid, mask: mode, xdata: null }, { signal, timeoutMs }), { path, ...this.#ctx(o) })
    })())
  }

  statfs (path = '/', o: OpOptions = {}): Promise<StatFs> {
    return this.#track((async () => {
      const r = await this._resolve(path, { follow: true, ...this.#ctx(o) })
      const sets = this.#g.dht.subvols
      const all = await Promise.all(sets.map(async (sv, s) => {
        const lk = r.inode.dirs?.[s] ?? (s === r.inode.subvol ? r.inode.lookup : undefined)
        const readable = lk?.readable ?? sv.children.map(() => true)
        const { res } = await sv.readOp('statfs', r.inode.gfid, readable, (b, signal, timeoutMs) =>
          b.call(FopProgram.procs.STATFS, { gfid: r.inode.gfid, xdata: null }, { signal, timeoutMs }), { path, ...this.#ctx(o) })
        return res.statfs
      }))
      const f = all[0]!
      const sum = (k: 'blocks' | 'bfree' | 'bavail' | 'files' | 'ffree'): number => all.reduce((n, x) => n + Number(x[k] * x.frsize / f.frsize), 0)
      return {
        type: 0x65735546, // FUSE_SUPER_MAGIC, what statfs on a GlusterFS FUSE mount reports
        bsize: Number(f.bsize),
        frsize: Number(f.frsize),
        blocks: sum('blocks'),
        bfree: sum('bfree'),
        bavail: sum('bavail'),
        files: all.reduce((n, x) => n + Number(x.files), 0),
        ffree: all.reduce((n, x) => n + Number(x.ffree), 0),
        namemax: Number(f.namemax),
      }
    })())
  }

  getxattr (path: string, name: string, o: OpOptions = {}): Promise<Buffer> {
    return this.#track((async () => {
      const r = await this._resolve(path, { follow: true, ...this.#ctx(o) })
      const sv = this.#g.dht.subvols[r.inode.subvol]!
      const { res } = await sv.readOp('getxattr', r.inode.gfid, r.inode.readable, (b, signal, timeoutMs) =>
        b.call(FopProgram.procs.GETXATTR, { gfid: r.inode.gfid, namelen: 1, name, xdata: null }, { signal, timeoutMs }), { path, ...this.#ctx(o) })
      const v = res.dict?.get(name)
      if (v === undefined) throw err('ENODATA', `no such attribute '${name}', getxattr '${path}'`, { path, syscall: 'getxattr', errno: 61 })
      if (Buffer.isBuffer(v.value)) return v.value
      return Buffer.from(String(v.value))
    })())
  }

  listxattr (path: string, o: OpOptions = {}): Promise<string[]> {
    return this.#track((async () => {
      const r = await this._resolve(path, { follow: true, ...this.#ctx(o) })
      const sv = this.#g.dht.subvols[r.inode.subvol]!
      const { res } = await sv.readOp('listxattr', r.inode.gfid, r.inode.readable, (b, signal, timeoutMs) =>
        b.call(FopProgram.procs.GETXATTR, { gfid: r.inode.gfid, namelen: 0, name: '', xdata: null }, { signal, timeoutMs }), { path, ...this.#ctx(o) })
      // AFR's and DHT's own bookkeeping is not the file's (a FUSE mount hides it the same way)
      return [...(res.dict?.keys() ?? [])].filter(k => !/^trusted\.(afr\.|glusterfs\.|gfid)/.test(k))
    })())
  }

  /** LOOKUP `path` (symlinks followed) asking for the content of a file up to `bytes` long. */
  async #lookupContent (path: string, bytes: number, o: OpOptions): Promise<{ r: { inode: Inode, path: string }, content: Buffer | undefined }> {
    const r = await this._resolve(path, { follow: true, ...this.#ctx(o), ...(bytes > 0 ? { extra: { 'glusterfs.content': gfxUint(bytes) } } : {}) })
    if ((r.inode.stat.mode & S_IFMT) !== 0o100000) return { r, content: undefined }
    const c = gfxDictBin(r.inode.lookup.xdata, 'glusterfs.content')
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
      const inode = r.inode
      return { stats: new Stats(inode.stat), path: r.path, ...(content !== undefined ? { content } : {}), open: () => new FileHandle(this, r.path, inode) }
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
      if ((r.inode.stat.mode & S_IFMT) === 0o040000) throw err('EISDIR', `illegal operation on a directory, read '${path}'`, { path, syscall: 'read', errno: 21 })
      const data = content ?? await this._readAll(r.inode, { ...this.#ctx(o), path: r.path })
      return o.encoding !== undefined && o.encoding !== null ? data.toString(o.encoding) : data
    })()) as Promise<Buffer | string>
  }

  /**
   * Copy a file (or [start, end] of it) into `dest` through a small ring of reused buffers; see
   * FileHandle.pipeTo. Symlinks are followed. Resolves with the bytes written.
   */
  pipeTo (path: string, dest: PipeDestination, opts: PipeToOptions = {}): Promise<number> {
    return this.#track((async () => {
      const r = await this._resolve(path, { follow: true, ...this.#ctx(opts) })
      return await this._pipe(r.inode, r.path, dest, opts)
    })())
  }

  createReadStream (path: string, opts: Omit<ReadStreamOptions, 'chunkBytes' | 'window'> = {}): VolumeReadStream {
    if (this.#closed) throw new GlusterError('EGLUSTER_CLOSED', `volume ${this.name} is closed`, {})
    let inode: Inode | undefined
    let p = path
    return new VolumeReadStream({
      open: async (signal) => {
        const r = await this.#track(this._resolve(path, { follow: true, signal }))
        if ((r.inode.stat.mode & S_IFMT) === 0o040000) throw err('EISDIR', `illegal operation on a directory, read '${path}'`, { path, syscall: 'read', errno: 21 })
        inode = r.inode
        p = r.path
        return { size: Number(r.inode.stat.ia_size) }
      },
      read: (offset, size, signal) => this.#track(this._read(inode!, offset, size, { signal, path: p })),
    }, { chunkBytes: this.#o.readChunkBytes ?? DEFAULT_READ_CHUNK_BYTES, window: this.#o.readWindow ?? 4, ...opts })
  }

  /** A directory as an async iterable of Dirents, READDIRP page by page (for huge directories). */
  async opendir (path: string, o: ReaddirOptions = {}): Promise<Dir> {
    const r = await this.#track(this._resolve(path, { follow: true, ...this.#ctx(o) }))
    if ((r.inode.stat.mode & S_IFMT) !== 0o040000) throw err('ENOTDIR', `not a directory, scandir '${path}'`, { path, syscall: 'scandir', errno: 20 })
    const dht = this.#g.dht
    const parent = r.path
    async function * gen (): AsyncGenerator<Dirent> {
      for await (const page of dht.list(r.inode, { path: parent, ...(o.signal !== undefined ? { signal: o.signal } : {}) })) {
        for (const e of page) yield new Dirent(e.name, parent, e.d_type, gfidString(e.stat.ia_gfid), o.stats === true ? new Stats(e.stat) : undefined)
      }
    }
    return new Dir(parent, gen())
  }

  // ---- writing ----

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
        const r = await this._resolve(path, { follow: true, ...this.#ctx(o) })
        if ((r.inode.stat.mode & S_IFMT) === 0o040000) throw err('EISDIR', `illegal operation on a directory, open '${path}'`, { path, syscall: 'open', errno: 21 })
        return new FileHandle(this, r.path, r.inode)
      }
      const { file, full, gfid } = await this.#openFile(path, fl, mode, o)
      return new FileHandle(this, full, undefined, { gfid, file, append: f.append, readable: f.read })
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
          if (buf.length > 0) await this._writeAt(file, buf, flag === 'a' ? file.size : 0, o)
        } catch (e) {
          await file.close().catch(() => {})
          this._forget(file)
          throw e
        }
        try { await file.close() } finally { this._forget(file) }
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
    let opened: WritableFile | undefined
    const ws = this._writeStream({
      open: async signal => {
        const r = await this.#openFile(path, flags, opts.mode, { signal })
        opened = r.file
        return r.file
      },
      owns: true,
    }, opts)
    if (flags === 'a') ws.appendAtEnd()
    ws.once('close', () => { if (opened !== undefined) this._forget(opened) })
    return ws
  }

  /** Make a directory; with `recursive`, every missing parent too (returns the first one made). */
  mkdir (path: string, o: { recursive?: boolean, mode?: number, signal?: AbortSignal } = {}): Promise<string | undefined> {
    return this.#track((async () => {
      const { full } = splitPath(path)
      if (o.recursive !== true) {
        await this.#w().mkdir(full, o.mode, this.#ctx(o))
        return undefined
      }
      let first: string | undefined
      let cur = ''
      for (const part of full.split('/').filter(x => x !== '')) {
        cur += '/' + part
        try {
          const st = await this._resolve(cur, { follow: true, ...this.#ctx(o) })
          if ((st.inode.stat.mode & S_IFMT) !== 0o040000) throw err('ENOTDIR', `not a directory, mkdir '${cur}'`, { path, syscall: 'mkdir', errno: 20 })
          continue
        } catch (e) {
          if (!(e instanceof GlusterError && e.code === 'ENOENT')) throw e
        }
        try {
          await this.#w().mkdir(cur, o.mode, this.#ctx(o))
          first ??= cur
        } catch (e) {
          if (!(e instanceof GlusterError && e.code === 'EEXIST')) throw e
        }
      }
      return first
    })())
  }

  rmdir (path: string, o: OpOptions = {}): Promise<void> {
    return this.#track(this.#w().rmdir(path, this.#ctx(o), p => this.readdir(p, this.#ctx(o))))
  }

  unlink (path: string, o: OpOptions = {}): Promise<void> {
    return this.#track(this.#w().unlink(path, this.#ctx(o)))
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
    return this.#track(this.#w().rename(from, to, this.#ctx(o)))
  }

  link (existing: string, newPath: string, o: OpOptions = {}): Promise<void> {
    return this.#track(this.#w().link(existing, newPath, this.#ctx(o)))
  }

  symlink (target: string, path: string, o: OpOptions = {}): Promise<void> {
    return this.#track(this.#w().symlink(target, path, this.#ctx(o)))
  }

  truncate (path: string, len = 0, o: OpOptions = {}): Promise<void> {
    return this.#track(this.#w().truncate(path, len, this.#ctx(o)))
  }

  chmod (path: string, mode: number, o: OpOptions = {}): Promise<void> {
    return this.#track(this.#w().setattr(path, true, GfSetattrValid.MODE, { mode: mode & 0o7777 }, 'chmod', this.#ctx(o)))
  }

  chown (path: string, uid: number, gid: number, o: OpOptions = {}): Promise<void> {
    let valid = 0
    if (uid !== -1) valid |= GfSetattrValid.UID
    if (gid !== -1) valid |= GfSetattrValid.GID
    return this.#track(this.#w().setattr(path, true, valid, { ia_uid: uid === -1 ? 0 : uid, ia_gid: gid === -1 ? 0 : gid }, 'chown', this.#ctx(o)))
  }

  lchown (path: string, uid: number, gid: number, o: OpOptions = {}): Promise<void> {
    let valid = 0
    if (uid !== -1) valid |= GfSetattrValid.UID
    if (gid !== -1) valid |= GfSetattrValid.GID
    return this.#track(this.#w().setattr(path, false, valid, { ia_uid: uid === -1 ? 0 : uid, ia_gid: gid === -1 ? 0 : gid }, 'lchown', this.#ctx(o)))
  }

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
    return this.#track(this.#w().setattr(path, true, GfSetattrValid.ATIME | GfSetattrValid.MTIME,
      { ia_atime: a.sec, ia_atime_nsec: a.nsec, ia_mtime: m.sec, ia_mtime_nsec: m.nsec }, 'utimes', this.#ctx(o)))
  }

  setxattr (path: string, name: string, value: Buffer | Uint8Array | string, o: { flags?: 'create' | 'replace', signal?: AbortSignal } = {}): Promise<void> {
    const v = typeof value === 'string' ? Buffer.from(value) : Buffer.from(value.buffer, value.byteOffset, value.byteLength)
    return this.#track(this.#w().setxattr(path, name, v, o.flags, this.#ctx(o)))
  }

  removexattr (path: string, name: string, o: OpOptions = {}): Promise<void> {
    return this.#track(this.#w().removexattr(path, name, this.#ctx(o)))
  }

  /** Copy a file's bytes (mode: fs.constants.COPYFILE_EXCL (1) fails when dst exists). */
  copyFile (src: string, dst: string, mode = 0, o: OpOptions = {}): Promise<void> {
    return this.#track((async () => {
      const st = await this.stat(src, this.#ctx(o))
      if (st.isDirectory()) throw err('EISDIR', `illegal operation on a directory, copyfile '${src}' -> '${dst}'`, { path: src, syscall: 'copyfile', errno: 21 })
      await pipeline(this.createReadStream(src, this.#ctx(o)), this.createWriteStream(dst, { flags: (mode & 1) !== 0 ? 'wx' : 'w', mode: st.mode & 0o7777, ...this.#ctx(o) }))
    })())
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

  /**
   * Stop taking calls, wait (at most timeoutMs, default 10 s) for those in flight, then close
   * every brick connection and the volfile server connection. Leaves no timer behind.
   */
  async close (o: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#life.abort()
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
    await this.#refetching?.catch(() => {})
    await this.#mgmtLoop
    const m = this.#mgmt
    this.#mgmt = undefined
    await Promise.all([
      ...[...this.#g.bricks.values()].map(b => b.close({ timeoutMs: 1000 })),
      m?.close({ timeoutMs: 1000 }),
    ])
    this.#dirCache.clear()
  }

  async [Symbol.asyncDispose] (): Promise<void> { await this.close() }
}
