// A brick: the GlusterFS 4.x fop program (1298437 v400) over a local directory, plus GF-DUMP and
// the brick side of the handshake program. What it must answer for a real FUSE client is in
// gluster-wire.md §11.1 and gluster-cluster.md §7; storage is in store/, the fops in fops/*.ts.
// This file is the core the fop modules share: client state and fd tables, SETVOLUME, the
// serialisation chains, and resolving gfids and fds (always through store/backend.ts's fds).
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import type { BigIntStats } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomUUID } from 'node:crypto'
import {
  RpcServer, FopProgram, DumpProgram, HandshakeProgram, GlusterError, GLUSTER_FOP_PROGRAM, GLUSTER_FOP_VERSION,
  GLUSTER_DUMP_PROGRAM, GLUSTER_DUMP_VERSION, GLUSTER_HNDSK_PROGRAM, GLUSTER_HNDSK_VERSION,
  GF_ANON_FD, GfSetattrValid, flatDict, flatDictString, gfxDictBin, isOpaqueAuth, credentialLkOwner,
} from '@gluster-ts/rpc'
import type { CallContext, ServerConnection, GfxDict, GfxIattx, Handlers } from '@gluster-ts/rpc'
import { BrickStore, gfidKey, isNullGfid } from './store/brick-store.js'
import type { BrickStoreOptions, InodeAttrs } from './store/brick-store.js'
import { Backend, self } from './store/backend.js'
import type { DirRef, ObjRef, BackendStats } from './store/backend.js'
import { FopError, errnoOf } from './store/fop-error.js'
import { FOPS } from './fops/index.js'
import { failure } from './fops/reply.js'
import { toIatt, rdevToIatt } from './store/posix.js'
import { InodeLocks, EntryLocks, PosixLocks } from './locks.js'
import type { LockOwner } from './locks.js'
import { resolveLimits } from './limits.js'
import type { BrickLimits, ResolvedLimits } from './limits.js'
import { Listings } from './listing.js'
import type { Listing, ListingHolder } from './listing.js'
import { authenticate, authPeer, resolveAuthHosts } from './auth.js'
import type { AuthConfig } from './auth.js'

export interface BrickOptions {
  /** the directory holding the brick's files */
  dir: string
  /** the volume this brick belongs to ("vol1") */
  volume: string
  /** the volume's UUID text */
  volumeId: string
  /** the name clients ask for in SETVOLUME `remote-subvolume` (default: the absolute dir) */
  brickPath?: string
  /** host name put in trusted.glusterfs.pathinfo (default os.hostname()) */
  hostname?: string
  /** the arbiter of a replica set: keeps names and metadata, no file data */
  arbiter?: boolean
  /**
   * Who may SETVOLUME (auth.ts): the auth options glusterd writes into the brick volfile.
   * Default `{ allow: '*' }` (any address, as `gluster volume create` gives; no credentials).
   * `allowInsecure: false` also refuses every RPC call from a source port >= 1024.
   */
  auth?: AuthConfig
  store?: Omit<BrickStoreOptions, 'volumeId'>
  /** resource limits (docs/server.md "Limits") */
  limits?: BrickLimits
}

export interface FileFd { kind: 'file', key: string, fh: FileHandle, flags: number }
/** An OPENDIR fd: the directory's fd pinned, and the listing READDIR pages through. */
export interface DirFd { kind: 'dir', key: string, dir: DirRef, listing?: Listing }
export type Fd = FileFd | DirFd

export interface ClientState {
  id: string
  processUuid: string
  fds: Map<bigint, Fd>
  nextFd: bigint
}

/**
 * What a client holds beyond its fd table: opens in flight, the listings its directory fds keep,
 * and the listings of the directories it reads through the anonymous fd (fops/fd.ts `listDir`),
 * least recently taken first.
 */
export interface ClientUsage extends ListingHolder { pending: number, anonListings: Map<string, Listing> }

export interface Caller { uid: number, gid: number, pid: number, groups: readonly number[], lkOwner: string }

export interface BrickStats extends BackendStats {
  /** backend fds this process has open for clients and the dir-fd caches of all its bricks */
  processFds: number
  /** directory listings held by this brick's directory fds, and their bytes */
  listings: number
  listingBytes: number
}

/** where SETATTR keeps times set to the nanosecond (brick.times); never listed or settable by clients */
export const TIMES_XATTR = 'trusted.glusterfs-ts.times'

/** utime bits in the v3 credential's flags (which times the operation changes) */
const MDATA_MTIME = 0x2
const MDATA_ATIME = 0x4
const MDATA_PAR_MTIME = 0x10

export class Brick {
  readonly opts: Required<Omit<BrickOptions, 'store' | 'limits'>>
  readonly store: BrickStore
  readonly backend: Backend
  readonly limits: ResolvedLimits
  readonly listings: Listings
  readonly rpc: RpcServer
  readonly inodeLocks = new InodeLocks()
  readonly entryLocks = new EntryLocks()
  readonly posixLocks = new PosixLocks()
  /** the brick's own process-uuid, sent in SETVOLUME replies */
  readonly uuid = randomUUID()
  readonly #clients = new WeakMap<ServerConnection, ClientState>()
  readonly #usage = new WeakMap<ClientState, ClientUsage>()
  /** open fds (from any client) per gfid: a file unlinked while open keeps its record until the last close */
  readonly openCount = new Map<string, number>()
  /** cleanups of dropped connections still running (close() waits for them before closing the store) */
  readonly #disconnecting = new Set<Promise<void>>()
  #entryChain: Promise<unknown> = Promise.resolve()
  readonly #dataChains = new Map<string, Promise<unknown>>()
  #clientSeq = 0

  constructor (opts: BrickOptions) {
    const dir = path.resolve(opts.dir)
    this.opts = {
      dir,
      volume: opts.volume,
      volumeId: opts.volumeId,
      brickPath: opts.brickPath ?? dir,
      hostname: opts.hostname ?? os.hostname(),
      arbiter: opts.arbiter ?? false,
      auth: opts.auth ?? { allow: '*' },
    }
    this.store = new BrickStore(dir, { ...opts.store, volumeId: opts.volumeId })
    this.limits = resolveLimits(opts.limits)
    this.backend = new Backend(dir, this.store, this.limits.processFds, { maxDirFds: this.limits.dirFdCache })
    this.listings = new Listings(this.limits.processListingBytes, this.limits.listingBytesPerClient)
    this.rpc = new RpcServer({ allowInsecure: this.opts.auth.allowInsecure ?? true })
    this.rpc.register(FopProgram, this.#fopHandlers())
    this.rpc.register(DumpProgram, {
      DUMP: () => ({
        gfs_id: 0n, op_ret: 0, op_errno: 0,
        prog: [
          { progname: 'GlusterFS 4.x v1', prognum: BigInt(GLUSTER_FOP_PROGRAM), progver: BigInt(GLUSTER_FOP_VERSION) },
          { progname: 'GF-DUMP', prognum: BigInt(GLUSTER_DUMP_PROGRAM), progver: BigInt(GLUSTER_DUMP_VERSION) },
          { progname: 'GlusterFS Handshake', prognum: BigInt(GLUSTER_HNDSK_PROGRAM), progver: BigInt(GLUSTER_HNDSK_VERSION) },
        ],
      }),
      PING: () => ({ op_ret: 0, op_errno: 0, xdata: new Map() }),
    })
    this.rpc.register(HandshakeProgram, {
      NULL: () => ({ op_ret: 0, op_errno: 0, xdata: new Map() }),
      PING: () => ({ op_ret: 0, op_errno: 0, xdata: new Map() }),
      SETVOLUME: (args, ctx) => this.#setVolume(args.dict, ctx),
      SET_LK_VER: args => ({ op_ret: 0, op_errno: 0, lk_ver: args.lk_ver }),
      GETSPEC: () => ({ op_ret: -1, op_errno: 38, spec: '<this method is not in use, use glusterd for getspec>', xdata: new Map() }),
    })
    this.rpc.on('connection', (conn: ServerConnection) => {
      conn.once('close', () => {
        // a failed cleanup must not take the brick down: what it could not close, close() still does
        const p: Promise<void> = this.#disconnected(conn).catch(() => {}).finally(() => { this.#disconnecting.delete(p) })
        this.#disconnecting.add(p)
      })
    })
  }

  /** Listen (port 0 = any free port). Resolves with the address. */
  listen (port = 0, host = '127.0.0.1'): Promise<string> { return this.rpc.listen(port, host) }
  get port (): number | undefined { return this.rpc.port }

  async close (): Promise<void> {
    await this.rpc.close({ timeoutMs: 2000 })
    await Promise.all(this.#disconnecting)
    this.backend.close()
    this.store.close()
  }

  async [Symbol.asyncDispose] (): Promise<void> { await this.close() }

  // -------------------------------------------------------------------------------------------
  // connections
  // -------------------------------------------------------------------------------------------

  async #setVolume (dict: Map<string, Buffer>, ctx: CallContext): Promise<{ op_ret: number, op_errno: number, dict: Map<string, Buffer> }> {
    const fail = (errno: number, message: string): { op_ret: number, op_errno: number, dict: Map<string, Buffer> } =>
      ({ op_ret: -1, op_errno: errno, dict: flatDict({ ERROR: message, 'process-uuid': this.uuid }) })
    const sub = flatDictString(dict, 'remote-subvolume')
    if (sub === undefined) return fail(22, 'No remote-subvolume option specified')
    if (sub !== this.opts.brickPath) return fail(2, `remote-subvolume "${sub}" is not found`)
    const puid = flatDictString(dict, 'process-uuid')
    if (puid === undefined) return fail(22, 'UUID not specified')
    const fv = flatDictString(dict, 'fops-version')
    if (fv !== undefined && fv !== String(GLUSTER_FOP_PROGRAM)) return fail(22, 'version mismatch')
    const vid = flatDictString(dict, 'volume-id')
    if (vid !== undefined && vid !== '' && vid !== this.opts.volumeId) return fail(22, `volume-id mismatch: this brick serves ${this.opts.volumeId}`)
    // gf_authenticate (auth.ts); a refusal carries what server-handshake.c has put in the reply by then
    const auth = this.opts.auth
    const verdict = authenticate(auth, this.opts.brickPath, dict, authPeer(ctx.connection.socket), { hosts: await resolveAuthHosts(auth) })
    if (!verdict.ok) {
      return { op_ret: -1, op_errno: verdict.errno, dict: flatDict({ ERROR: verdict.message, 'volume-id': this.opts.volumeId, child_up: '1' }) }
    }
    if (ctx.connection.closed) return fail(107, 'connection closed')
    if (!this.#clients.has(ctx.connection)) {
      this.#clients.set(ctx.connection, { id: `c${++this.#clientSeq}`, processUuid: puid, fds: new Map(), nextFd: 0n })
    }
    return {
      op_ret: 0,
      // server-handshake.c starts op_errno at EINVAL and never clears it on success (a real brick sends 22)
      op_errno: 22,
      dict: flatDict({
        'transport-ptr': String(this.#clientSeq),
        'clnt-lk-version': '0',
        'process-uuid': this.uuid,
        ERROR: 'Success',
        'volume-id': this.opts.volumeId,
        child_up: '1',
      }),
    }
  }

  async #disconnected (conn: ServerConnection): Promise<void> {
    this.inodeLocks.releaseConnection(conn)
    this.entryLocks.releaseConnection(conn)
    this.posixLocks.releaseConnection(conn)
    const st = this.#clients.get(conn)
    if (st === undefined) return
    this.#clients.delete(conn)
    const fds = [...st.fds.values()]
    st.fds.clear()
    for (const fd of fds) await this.closeFd(st, fd)
    const u = this.#usage.get(st)
    if (u !== undefined) {
      for (const l of u.anonListings.values()) this.listings.release(l, u)
      u.anonListings.clear()
    }
  }

  /** What a client holds beyond its fd table: opens in flight and the listings its directory fds keep. */
  usage (cs: ClientState): ClientUsage {
    let u = this.#usage.get(cs)
    if (u === undefined) this.#usage.set(cs, u = { pending: 0, listings: new Map(), listingBytes: 0, anonListings: new Map() })
    return u
  }

  /**
   * Open a backend fd for a client's fd table (OPEN, CREATE, OPENDIR): the client's own cap is
   * checked first (EMFILE: over it only this client is refused), then `open` runs and its result
   * gets the next fd number.
   */
  async openFd (cs: ClientState, open: () => Promise<Fd>): Promise<bigint> {
    const u = this.usage(cs)
    if (cs.fds.size + u.pending >= this.limits.fdsPerClient) {
      throw new FopError('EMFILE', `client ${cs.id} holds ${cs.fds.size} fds, its limit is ${this.limits.fdsPerClient}`)
    }
    u.pending++
    let fd: Fd
    try {
      fd = await open()
    } finally {
      u.pending--
    }
    const n = cs.nextFd++
    cs.fds.set(n, fd)
    if (fd.kind === 'file') this.openCount.set(fd.key, (this.openCount.get(fd.key) ?? 0) + 1)
    return n
  }

  /** Close an fd of a client's table (RELEASE, RELEASEDIR, disconnect). */
  async closeFd (cs: ClientState, fd: Fd): Promise<void> {
    if (fd.kind === 'dir') {
      fd.dir.release()
      if (fd.listing !== undefined) this.listings.release(fd.listing, this.usage(cs))
      return
    }
    await this.backend.closeFile(fd.fh)
    const n = (this.openCount.get(fd.key) ?? 1) - 1
    if (n <= 0) {
      this.openCount.delete(fd.key)
      this.store.forget(fd.key)
    } else {
      this.openCount.set(fd.key, n)
    }
  }

  caller (ctx: CallContext): Caller {
    const c = ctx.cred
    const lk = credentialLkOwner(c)
    if (!isOpaqueAuth(c) && (c.flavor === 390039 || c.flavor === 390040 || c.flavor === 5)) {
      return { uid: c.uid, gid: c.gid, pid: c.pid, groups: c.groups, lkOwner: lk?.toString('hex') ?? '' }
    }
    return { uid: 0, gid: 0, pid: 0, groups: [], lkOwner: lk?.toString('hex') ?? '' }
  }

  /**
   * Times as a GlusterFS brick with features.ctime keeps them: the client's utime xlator puts the
   * operation's wall-clock time in the v3 credential (ctime_sec/nsec) and flags saying which times
   * it changes (MTIME, ATIME of the object; PARENT_MTIME); every replica stamps that same time, so
   * the copies agree (each backend's own clock would differ by milliseconds per brick). `obj` is
   * an open file or an fd naming the inode (O_PATH or a directory fd), `parent` a directory fd.
   */
  async stamp (ctx: CallContext, obj: { fh: FileHandle, st?: BigIntStats } | { fd: number, st: BigIntStats } | undefined, parent?: { fd: number, st: BigIntStats }): Promise<void> {
    const c = ctx.cred
    if (isOpaqueAuth(c) || c.flavor !== 390040 || c.ctime_sec === 0n) return
    const t = Number(c.ctime_sec) + c.ctime_nsec / 1e9
    if (obj !== undefined && (c.flags & (MDATA_MTIME | MDATA_ATIME)) !== 0) {
      const st = obj.st ?? await (obj as { fh: FileHandle }).fh.stat({ bigint: true })
      const atime = (c.flags & MDATA_ATIME) !== 0 ? t : Number(st.atimeNs) / 1e9
      const mtime = (c.flags & MDATA_MTIME) !== 0 ? t : Number(st.mtimeNs) / 1e9
      if ('fh' in obj) await obj.fh.utimes(atime, mtime)
      else await fsp.utimes(self(obj.fd), atime, mtime)
    }
    if (parent !== undefined && (c.flags & MDATA_PAR_MTIME) !== 0) await fsp.utimes(self(parent.fd), Number(parent.st.atimeNs) / 1e9, t)
  }

  owner (ctx: CallContext, lkOwner?: Buffer): LockOwner {
    return { conn: ctx.connection, owner: lkOwner !== undefined && lkOwner.length > 0 ? lkOwner.toString('hex') : this.caller(ctx).lkOwner }
  }

  /**
   * Run the data operations of one file (WRITE, TRUNCATE, a SETATTR of the size, FALLOCATE …) one
   * at a time, in arrival order: their pre/post stats are then consistent and their replies leave
   * in order, so the client's caches (md-cache, write-behind) never keep the size of an earlier
   * write; and an append's end of file (fstat) and its write are one step, as O_APPEND is.
   */
  dataSerial<T> (gfid: Buffer, fn: () => Promise<T>): Promise<T> {
    const key = gfid.toString('hex')
    const prev = this.#dataChains.get(key) ?? Promise.resolve()
    const run = prev.then(fn, fn)
    const tail = run.catch(() => {})
    this.#dataChains.set(key, tail)
    void tail.then(() => { if (this.#dataChains.get(key) === tail) this.#dataChains.delete(key) })
    return run
  }

  /** A SETATTR that changes the size is a data operation (`dataSerial`); other ones run at once. */
  sizeSerial<T> (gfid: Buffer, valid: number, fn: () => Promise<T>): Promise<T> {
    return (valid & GfSetattrValid.SIZE) !== 0 ? this.dataSerial(gfid, fn) : fn()
  }

  /** Run entry operations one at a time, so that a name and its store record change together. */
  serial<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.#entryChain.then(fn, fn)
    this.#entryChain = run.catch(() => {})
    return run
  }

  // -------------------------------------------------------------------------------------------
  // resolution: everything through the backend's fds (store/backend.ts)
  // -------------------------------------------------------------------------------------------

  /** The store key of a gfid the client sent (null gfid → EINVAL, unknown → ESTALE). */
  keyOf (gfid: Buffer): string {
    if (isNullGfid(gfid)) throw new FopError('EINVAL', 'null gfid')
    const key = gfidKey(gfid)
    if (!this.store.has(key)) throw new FopError('ESTALE', `gfid ${key} is not on this brick`)
    return key
  }

  /** Run `fn` on an object by gfid, opened without following symlinks (backend.object), then let it go. */
  async withObject<T> (gfid: Buffer | string, fn: (o: ObjRef) => Promise<T>): Promise<T> {
    const o = await this.backend.object(typeof gfid === 'string' ? gfid : this.keyOf(gfid))
    try { return await fn(o) } finally { await o.release() }
  }

  /** Run `fn` with the fd of directory `gfid` (ENOTDIR when it is not one). */
  async withDir<T> (gfid: Buffer | string, fn: (d: DirRef, st: BigIntStats) => Promise<T>): Promise<T> {
    const key = typeof gfid === 'string' ? gfid : this.keyOf(gfid)
    if (this.store.type(key) !== 'd') throw new FopError('ENOTDIR', `gfid ${key} is not a directory`)
    const d = await this.backend.dir(key)
    try { return await fn(d, await this.backend.lstat(key)) } finally { d.release() }
  }

  async iattOf (key: string): Promise<GfxIattx> {
    return this.iatt(key, await this.backend.lstat(key))
  }

  // -------------------------------------------------------------------------------------------
  // attributes: type, mode, owner and rdev live in the store (virtual: the backend files are the
  // server's own, 0600/0700); size, times and links come from the backend
  // -------------------------------------------------------------------------------------------

  /** What clients see as mode/uid/gid/rdev of `key` (the backend's `st` for objects recorded before the store kept them). */
  attrsOf (key: string, st: BigIntStats): InodeAttrs {
    return this.store.attrs(key) ?? { mode: Number(st.mode), uid: Number(st.uid), gid: Number(st.gid), rdev: rdevToIatt(st.rdev) }
  }

  /** attrsOf without a stat at hand (the backend's lstat only for objects without stored attributes). */
  async attrsNow (key: string): Promise<InodeAttrs> {
    return this.store.attrs(key) ?? this.attrsOf(key, await this.backend.lstat(key))
  }

  iatt (key: string, st: BigIntStats): GfxIattx { return toIatt(key, this.times(key, st), this.store.attrs(key)) }

  /**
   * The backend's stat with the atime/mtime a client set explicitly, to the nanosecond: Node sets
   * times from a double (microseconds at best), so SETATTR keeps the exact values it was asked for
   * beside the backend's (TIMES_XATTR) and they count while the backend still has what was set.
   */
  times (key: string, st: BigIntStats): BigIntStats {
    const t = this.store.getXattr(key, TIMES_XATTR)
    if (t === undefined || t.length !== 32) return st
    const [atime, backendAtime, mtime, backendMtime] = [0, 8, 16, 24].map(o => t.readBigInt64BE(o)) as [bigint, bigint, bigint, bigint]
    const a = st.atimeNs === backendAtime
    const m = st.mtimeNs === backendMtime
    if (!a && !m) return st
    return Object.create(st, { atimeNs: { value: a ? atime : st.atimeNs }, mtimeNs: { value: m ? mtime : st.mtimeNs } }) as BigIntStats
  }

  /** After an explicit utimes: remember the exact times asked for when the backend could not keep them. */
  keepTimes (key: string, atimeNs: bigint, mtimeNs: bigint, st: BigIntStats): void {
    const had = this.store.getXattr(key, TIMES_XATTR) !== undefined
    if (st.atimeNs === atimeNs && st.mtimeNs === mtimeNs) {
      if (had) this.store.setXattrs(key, new Map([[TIMES_XATTR, null]]))
      return
    }
    const v = Buffer.alloc(32)
    v.writeBigInt64BE(atimeNs, 0); v.writeBigInt64BE(st.atimeNs, 8); v.writeBigInt64BE(mtimeNs, 16); v.writeBigInt64BE(st.mtimeNs, 24)
    this.store.setXattrs(key, new Map([[TIMES_XATTR, v]]))
  }

  /** Change attributes in the store (an object without stored attributes gets all four). */
  setAttrs (key: string, st: BigIntStats, changes: Partial<InodeAttrs>): void {
    if (this.store.attrs(key) === undefined) this.store.setAttrs(key, { ...this.attrsOf(key, st), ...changes })
    else this.store.setAttrs(key, changes)
  }

  /**
   * Move the backend's ctime to now, for a metadata change the backend does not see (chmod and
   * chown live in the store, xattrs too): chown(-1, -1) of that inode changes nothing else, and
   * works for symlinks too (/proc/self/fd/N of an O_PATH fd is the link itself).
   */
  async touchCtime (target: { fh: FileHandle } | { fd: number }): Promise<void> {
    if ('fh' in target) await target.fh.chown(-1, -1)
    else await fsp.chown(self(target.fd), -1, -1)
  }

  /** The caller of a fop for the permission rules: an internal fop (xdata `glusterfs-internal-fop`) is privileged. */
  principal (ctx: CallContext, xdata?: GfxDict): Caller {
    const c = this.caller(ctx)
    return xdata?.has('glusterfs-internal-fop') === true ? { ...c, pid: -1 } : c
  }

  /**
   * The open file of a call: a real fd from the client's table, or for the anonymous fd (-2) the
   * file opened for this call only (counted against the client's cap while it is open).
   */
  async fd (cs: ClientState, fdNum: bigint, gfid: Buffer, write = false): Promise<{ fd: FileFd, done: () => Promise<void> }> {
    if (fdNum === GF_ANON_FD) {
      const u = this.usage(cs)
      if (cs.fds.size + u.pending >= this.limits.fdsPerClient) throw new FopError('EMFILE', `client ${cs.id} is at its fd limit`)
      u.pending++
      try {
        const flags = write || !this.opts.arbiter ? fs.constants.O_RDWR : fs.constants.O_RDONLY
        const fh = await this.withObject(gfid, o => this.backend.reopen(o, flags))
        return { fd: { kind: 'file', key: gfidKey(gfid), fh, flags }, done: async () => { u.pending--; await this.backend.closeFile(fh) } }
      } catch (err) {
        u.pending--
        throw err
      }
    }
    const fd = cs.fds.get(fdNum)
    if (fd === undefined) throw new FopError('EBADF', `fd ${fdNum} is not open`)
    if (fd.kind !== 'file') throw new FopError('EISDIR', `fd ${fdNum} is a directory`)
    return { fd, done: async () => {} }
  }

  gfidReq (xdata: GfxDict): string {
    const g = gfxDictBin(xdata, 'gfid-req')
    if (g === undefined || g.length !== 16 || isNullGfid(g)) throw new FopError('EINVAL', 'gfid-req missing')
    return gfidKey(g)
  }

  /** The gfid key of a call's fd: its table entry, or the gfid for the anonymous fd. */
  fdKey (cs: ClientState, fdNum: bigint, gfid: Buffer): string {
    if (fdNum === GF_ANON_FD || fdNum === -1n) {
      const key = gfidKey(gfid)
      if (!this.store.has(key)) throw new FopError('ESTALE')
      return key
    }
    const fd = cs.fds.get(fdNum)
    if (fd === undefined) throw new FopError('EBADF', `fd ${fdNum} is not open`)
    return fd.key
  }

  /** Counters for tests and statedump-like inspection: fds and listing memory in use. */
  get stats (): BrickStats {
    return {
      ...this.backend.stats,
      processFds: this.limits.processFds.used,
      listings: this.listings.count,
      listingBytes: this.listings.bytes,
    }
  }

  // -------------------------------------------------------------------------------------------
  // the fop program: one function per procedure (fops/*.ts), registered from FOPS
  // -------------------------------------------------------------------------------------------

  #fopHandlers (): Handlers<typeof FopProgram> {
    const handlers: Record<string, (args: any, ctx: CallContext) => Promise<unknown>> = {}
    for (const [name, fn] of Object.entries(FOPS) as Array<[string, (b: Brick, a: any, ctx: CallContext, cs: ClientState) => Promise<unknown>]>) {
      handlers[name] = async (args, ctx) => {
        const cs = this.#clients.get(ctx.connection)
        if (cs === undefined) {
          // RELEASE/RELEASEDIR before SETVOLUME → SYSTEM_ERR; any other fop → GARBAGE_ARGS (gluster-wire.md §1.4)
          if (name === 'RELEASE' || name === 'RELEASEDIR') throw new Error(`${name} before SETVOLUME`)
          throw new GlusterError('EGLUSTER_GARBAGE_ARGS', 'fop before SETVOLUME')
        }
        try {
          return await fn(this, args, ctx, cs)
        } catch (err) {
          if (err instanceof GlusterError) throw err
          const f = failure(errnoOf(err))
          const x = (err as { xdata?: GfxDict }).xdata
          if (x !== undefined) f.xdata = x
          return f
        }
      }
    }
    return { NULL: () => ({ op_ret: 0, op_errno: 0, xdata: new Map() }), ...handlers }
  }
}
