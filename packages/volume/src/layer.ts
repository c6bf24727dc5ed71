// The translator graph's one interface. Every layer of the client graph (protocol/client,
// cluster/replicate, cluster/distribute, features/shard, and later cluster/disperse) implements
// `Layer`; a cluster layer calls its children through the same interface, and `Volume` calls the
// top of the graph only. It is GlusterFS's xlator fop table in our terms: entry fops address a
// name in a directory (parent inode + name), inode fops an inode, fd fops an open file (`LayerFd`).
//
// An `Inode` is what a layer's LOOKUP (or CREATE/MKNOD) made: the attributes it reports (a shard
// layer reports the whole file's size) and the layer's own context, opaque to everyone else (what
// DHT needs to find the subvolume again, what AFR needs to pick a good copy). A layer only accepts
// inodes it made (`inode.layer === this`); protocol/client needs nothing but the gfid, so it takes
// any inode. After a graph switch the Volume looks its inodes up again in the new graph.
import { randomUUID } from 'node:crypto'
import { GlusterError, gfxUuid, type GfStatfs, type GfxDict, type GfxIattx, type GfxValue } from '@gluster-ts/rpc'
import type { BrickClient } from './brick.js'

/** What every fop takes last. */
export interface FopCtx {
  signal?: AbortSignal
  /** the path the caller asked about (error messages name it) */
  path?: string
  /** the operation the caller is doing, for error messages ('open' for the CREATE of an open) */
  syscall?: string
}

export interface Inode {
  readonly gfid: Buffer
  /** the attributes as this layer reports them */
  readonly stat: GfxIattx
  /** the reply xdata of the LOOKUP (or create) that made it: the keys asked for come back here */
  readonly xdata: GfxDict
  /** the layer that made it (the only one that reads `ctx`) */
  readonly layer: Layer
  /** that layer's context */
  readonly ctx?: unknown
}

/** One READDIRP entry. */
export interface DirEntry {
  name: string
  d_type: number
  stat: GfxIattx
  /** the xattrs asked for with `xdata` (READDIRP's per-entry dict) */
  dict: GfxDict
}

/** Extra keys for a request (each layer adds its own on the way down). */
export type XdataKeys = Record<string, GfxValue>

export interface LookupOpts extends FopCtx {
  /** keys to ask the bricks for (their answers come back in `Inode.xdata`) */
  xdata?: XdataKeys
}

export interface CreateOpts extends FopCtx {
  /** full st_mode (S_IFREG | permissions for CREATE) */
  mode: number
  /** the new object's gfid (gfid-req): the same on every brick */
  gfid: Buffer
  /** keys stored with the new object (xattrs) or understood by the bricks */
  xdata?: XdataKeys
}

/** What a write through an fd reports, for layers above that account for it (shard's block count). */
export interface WriteOut {
  prestat?: GfxIattx
  poststat?: GfxIattx
}

/**
 * An open file (or an anonymous fd: writes with fd −2, nothing to open or release). Writes go
 * through it; reads go through `Layer.read` (anonymous fds, as GlusterFS's open-behind does).
 */
export interface LayerFd {
  readonly gfid: Buffer
  readonly path: string
  /** the end of the file as far as this fd's writes know (appends go there) */
  readonly size: number
  readonly closed: boolean
  /** resolves with the bytes written (once the layer considers them written: AFR, a quorum) */
  write (data: Buffer, pos: number, signal?: AbortSignal, out?: WriteOut): Promise<number>
  truncate (len: number, signal?: AbortSignal, out?: WriteOut): Promise<void>
  /** XATTROP on the file (shard's size updates), under whatever the fd holds (AFR's eager lock) */
  xattrop (flags: number, dict: GfxDict, o?: FopCtx & { xdata?: XdataKeys }): Promise<GfxDict>
  /** every write acknowledged and durable; the layer's write transaction closed */
  sync (): Promise<void>
  /** sync, then release the fd. Idempotent. */
  close (): Promise<void>
}

/** What a lock is on: an inode (INODELK, whole file) or a name in a directory (ENTRYLK; null: the whole directory). */
export type LockTarget =
  | { kind: 'inode', inode: Inode }
  | { kind: 'entry', parent: Inode, name: string | null }

export interface RenameSide {
  parent: Inode
  name: string
  /** the object there (required for the source; the destination's when it exists) */
  inode?: Inode
}

export interface Layer {
  /** the xlator name in the volfile (`vol1-replicate-0`) */
  readonly name: string
  /** the xlator type (`cluster/replicate`) */
  readonly type: string
  readonly children: readonly Layer[]
  /** every brick connection below this layer */
  readonly bricks: readonly BrickClient[]
  /** can serve reads now (replicate: a quorum of bricks up); `whyNot` says what is missing */
  ready (): boolean
  whyNot (): string
  /** finish (within `timeoutMs`, default 10 s) and stop the layer's background work (shard's deletion of removed files' blocks) */
  close? (o?: { timeoutMs?: number }): Promise<void>

  // ---- entries (they read only the parent's gfid: a cluster layer may pass the parent as
  // another of its children saw it) ----
  lookup (parent: Inode, name: string, o?: LookupOpts): Promise<Inode>
  /** nameless LOOKUP (ROOT_GFID: the root) */
  lookupGfid (gfid: Buffer, o?: LookupOpts): Promise<Inode>
  /** directory entries, a page at a time (READDIRP); `xdata`: xattrs wanted per entry */
  readdir (dir: Inode, o?: FopCtx & { pageBytes?: number, xdata?: XdataKeys }): AsyncGenerator<DirEntry[]>
  /** CREATE (O_CREAT|O_EXCL|`flags`): the new file, open */
  create (parent: Inode, name: string, flags: number, o: CreateOpts): Promise<{ inode: Inode, fd: LayerFd }>
  mknod (parent: Inode, name: string, rdev: bigint, o: CreateOpts): Promise<Inode>
  mkdir (parent: Inode, name: string, o: CreateOpts): Promise<Inode>
  symlink (parent: Inode, name: string, target: string, o: CreateOpts): Promise<void>
  link (inode: Inode, parent: Inode, name: string, o?: FopCtx): Promise<void>
  /** resolves with the reply's xdata */
  unlink (parent: Inode, name: string, inode: Inode, o?: FopCtx & { xdata?: XdataKeys }): Promise<GfxDict>
  rmdir (parent: Inode, name: string, inode: Inode, o?: FopCtx): Promise<void>
  rename (from: Required<RenameSide>, to: RenameSide, o?: FopCtx): Promise<void>

  // ---- inodes ----
  readlink (inode: Inode, o?: FopCtx): Promise<string>
  access (inode: Inode, mask: number, o?: FopCtx): Promise<void>
  statfs (inode: Inode, o?: FopCtx): Promise<GfStatfs>
  /** one attribute (name) or all of them (null) */
  getxattr (inode: Inode, name: string | null, o?: FopCtx): Promise<GfxDict>
  setxattr (inode: Inode, dict: GfxDict, flags: number, o?: FopCtx & { xdata?: XdataKeys }): Promise<void>
  removexattr (inode: Inode, name: string, o?: FopCtx): Promise<void>
  xattrop (inode: Inode, flags: number, dict: GfxDict, o?: FopCtx & { xdata?: XdataKeys }): Promise<GfxDict>
  setattr (inode: Inode, valid: number, stbuf: GfxIattx, o?: FopCtx): Promise<void>
  truncate (inode: Inode, len: number, o?: FopCtx, out?: WriteOut): Promise<void>
  /**
   * READ `size` bytes at `offset` (short at the end of the file). With `into` (at least `size`
   * bytes), the result is a view of `into`: read there in place when the layers can, copied
   * there otherwise.
   */
  read (inode: Inode, offset: number, size: number, o?: FopCtx & { into?: Buffer }): Promise<Buffer>
  /** OPEN for writing (`flags`: GF_O_*) */
  open (inode: Inode, flags: number, o?: FopCtx): Promise<LayerFd>
  /** an anonymous fd for writes (fd −2): nothing to open or release */
  anonymous (inode: Inode, path: string): LayerFd
  /** take a lock in `domain`; resolves with its release */
  lock (target: LockTarget, domain: string, o?: FopCtx): Promise<() => Promise<void>>
}

/** The same stat with another size and block count (shard's whole-file view, DHT's directories). */
export function withSize (stat: GfxIattx, size: bigint, blocks: bigint): GfxIattx {
  return { ...stat, ia_size: size, ia_blocks: blocks }
}

/** `data` as a view of `into` (copied there unless it already is one). */
export function landInto (data: Buffer, into: Buffer | undefined, what: () => string): Buffer {
  if (into === undefined || (data.buffer === into.buffer && data.byteOffset === into.byteOffset)) return data
  if (data.length > into.length) throw new GlusterError('EIO', `EIO: ${what()} returned ${data.length} bytes, more than the ${into.length} asked for`, { syscall: 'read', errno: 5 })
  return into.subarray(0, data.copy(into))
}

/** The context of an inode this layer made; ESTALE for one made by another layer (an older graph). */
export function ownCtx<T> (layer: Layer, inode: Inode, o: FopCtx = {}): T {
  if (inode.layer !== layer) {
    throw new GlusterError('ESTALE', `ESTALE: '${o.path ?? inode.gfid.toString('hex')}' was resolved under another volume graph than ${layer.name}'s`,
      { ...(o.path !== undefined ? { path: o.path } : {}), errno: 116 })
  }
  return inode.ctx as T
}

/** The request xdata: the caller's keys (null when none, as the wire has it). */
export function xdataOf (keys: XdataKeys | undefined, more?: XdataKeys): GfxDict {
  if (keys === undefined && more === undefined) return null
  return new Map<string, GfxValue>(Object.entries({ ...keys, ...more }))
}

/** The xdata of an entry-creating fop: `gfid-req` and the caller's keys. */
export function createXdata (o: CreateOpts): GfxDict {
  return xdataOf(o.xdata, { 'gfid-req': gfxUuid(o.gfid) })
}

/** A fresh random gfid (what GlusterFS sends as `gfid-req` for a new object). */
export function newGfid (): Buffer { return Buffer.from(randomUUID().replaceAll('-', ''), 'hex') }
