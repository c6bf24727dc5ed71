// A brick: the GlusterFS 4.x fop program (1298437 v400) over a local directory, plus GF-DUMP and
// the brick side of the handshake program. What it must answer for a real FUSE client is in
// gluster-wire.md §11.1 and gluster-cluster.md §7; storage is in store/.
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
  GF_ANON_FD, GfSetattrValid, GfXattropFlags, GfXattrFlags, GfLkCmd, GfEntrylkCmd, GfSeekWhat, GfOpenFlags,
  flatDict, flatDictString, gfxBin, gfxInt, gfxIatt, gfxDictBin, gfxDictString, gfxUuid,
  GfxDictType, gfxDictBytes, isOpaqueAuth, credentialLkOwner,
} from '@gluster-ts/rpc'
import type {
  CallContext, ServerConnection, GfxDict, GfxValue, GfxIattx, GfxDirplist, GfxDirlist, GfProtoFlock, Handlers,
} from '@gluster-ts/rpc'
import { BrickStore, ROOT_KEY, SIDECAR_DIR, gfidKey, gfidBytes, isNullGfid } from './store/brick-store.js'
import type { BrickStoreOptions } from './store/brick-store.js'
import { FopError, errnoOf } from './store/fop-error.js'
import { toIatt, mdataOf, ZERO_IATT, objectTypeOf, direntTypeOf, inoOf } from './store/posix.js'
import { InodeLocks, EntryLocks, PosixLocks, lockRange, UNLCK } from './locks.js'
import type { LockOwner } from './locks.js'
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
}

interface FileFd { kind: 'file', key: string, fh: FileHandle, flags: number }
interface DirFd { kind: 'dir', key: string, names?: string[] }
type Fd = FileFd | DirFd

interface ClientState {
  id: string
  processUuid: string
  fds: Map<bigint, Fd>
  nextFd: bigint
}

interface Caller { uid: number, gid: number, pid: number, lkOwner: string }

const S_IFMT = 0o170000
const S_IFREG = 0o100000
const MAX_READ_BYTES = 4 * 1024 * 1024
const ENOENT = 2
/** utime bits in the v3 credential's flags (which times the operation changes) */
const MDATA_MTIME = 0x2
const MDATA_ATIME = 0x4
const MDATA_PAR_MTIME = 0x10
/** keys of entry-creation xdata that are never stored as xattrs (gluster-cluster.md §6.2) */
const INTERNAL_KEYS = new Set([
  'gfid-req', 'glusterfs-internal-fop', 'glusterfs.inodelk-count', 'glusterfs.entrylk-count', 'glusterfs.parent-entrylk',
  'gfidless-lookup', 'glusterfs.inodelk-dom-count', 'glusterfs.preop.parent.key', 'trusted.gfid',
])
/** xattrs never listed to clients */
const HIDDEN_XATTRS = (k: string): boolean =>
  k === 'trusted.gfid' || k === 'trusted.glusterfs.volume-id' || k.startsWith('trusted.gfid2path.') || k === 'trusted.glusterfs.mdata'

const canChown = typeof process.getuid === 'function' && process.getuid() === 0

/** Everything every reply struct might hold, as a failure: each codec takes the fields it has. */
function failure (errno: number): any {
  return {
    op_ret: -1, op_errno: errno, xdata: null, stat: ZERO_IATT, prestat: ZERO_IATT, poststat: ZERO_IATT,
    preparent: ZERO_IATT, postparent: ZERO_IATT, preoldparent: ZERO_IATT, postoldparent: ZERO_IATT,
    prenewparent: ZERO_IATT, postnewparent: ZERO_IATT, buf: ZERO_IATT, dict: null, fd: 0n, size: 0,
    data: Buffer.alloc(0), path: '', reply: [], offset: 0n,
    flock: { type: UNLCK, whence: 0, start: 0n, len: 0n, pid: 0, lk_owner: Buffer.alloc(0) },
    lease: { cmd: 0, lease_type: 0, lease_id: Buffer.alloc(16), lease_flags: 0 },
    statfs: { bsize: 0n, frsize: 0n, blocks: 0n, bfree: 0n, bavail: 0n, files: 0n, ffree: 0n, favail: 0n, fsid: 0n, flag: 0n, namemax: 0n },
    flags: 0, weak_checksum: 0, strong_checksum: Buffer.alloc(0),
  }
}

const ok = { op_ret: 0, op_errno: 0, xdata: null }

function lstat (p: string): Promise<BigIntStats> { return fsp.lstat(p, { bigint: true }) }

export class Brick {
  readonly opts: Required<Omit<BrickOptions, 'store'>>
  readonly store: BrickStore
  readonly rpc: RpcServer
  readonly inodeLocks = new InodeLocks()
  readonly entryLocks = new EntryLocks()
  readonly posixLocks = new PosixLocks()
  /** the brick's own process-uuid, sent in SETVOLUME replies */
  readonly uuid = randomUUID()
  readonly #clients = new WeakMap<ServerConnection, ClientState>()
  readonly #openCount = new Map<string, number>()
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
    for (const fd of fds) await this.#closeFd(fd)
  }

  async #closeFd (fd: Fd): Promise<void> {
    if (fd.kind !== 'file') return
    await fd.fh.close().catch(() => {})
    const n = (this.#openCount.get(fd.key) ?? 1) - 1
    if (n <= 0) {
      this.#openCount.delete(fd.key)
      this.store.forget(fd.key)
    } else {
      this.#openCount.set(fd.key, n)
    }
  }

  #state (ctx: CallContext): ClientState {
    const st = this.#clients.get(ctx.connection)
    // GlusterFS answers fops before SETVOLUME with GARBAGE_ARGS (gluster-wire.md §1.4)
    if (st === undefined) throw new GlusterError('EGLUSTER_GARBAGE_ARGS', 'fop before SETVOLUME')
    return st
  }

  #caller (ctx: CallContext): Caller {
    const c = ctx.cred
    const lk = credentialLkOwner(c)
    if (!isOpaqueAuth(c) && (c.flavor === 390039 || c.flavor === 390040 || c.flavor === 5)) {
      return { uid: c.uid, gid: c.gid, pid: c.pid, lkOwner: lk?.toString('hex') ?? '' }
    }
    return { uid: 0, gid: 0, pid: 0, lkOwner: lk?.toString('hex') ?? '' }
  }

  /**
   * Times as a GlusterFS brick with features.ctime keeps them: the client's utime xlator puts the
   * operation's wall-clock time in the v3 credential (ctime_sec/nsec) and flags saying which times
   * it changes (MTIME, ATIME of the object; PARENT_MTIME); every replica stamps that same time, so
   * the copies agree (each backend's own clock would differ by milliseconds per brick).
   */
  async #stamp (ctx: CallContext, obj: { fh?: FileHandle, p?: string, st?: BigIntStats } | undefined, parent?: { p: string, st: BigIntStats }): Promise<void> {
    const c = ctx.cred
    if (isOpaqueAuth(c) || c.flavor !== 390040 || c.ctime_sec === 0n) return
    const t = Number(c.ctime_sec) + c.ctime_nsec / 1e9
    if (obj !== undefined && (c.flags & (MDATA_MTIME | MDATA_ATIME)) !== 0) {
      const st = obj.st ?? (obj.fh !== undefined ? await obj.fh.stat({ bigint: true }) : await lstat(obj.p!))
      const atime = (c.flags & MDATA_ATIME) !== 0 ? t : Number(st.atimeNs) / 1e9
      const mtime = (c.flags & MDATA_MTIME) !== 0 ? t : Number(st.mtimeNs) / 1e9
      if (obj.fh !== undefined) await obj.fh.utimes(atime, mtime)
      else if (obj.p !== undefined) await fsp.lutimes(obj.p, atime, mtime)
    }
    if (parent !== undefined && (c.flags & MDATA_PAR_MTIME) !== 0) await fsp.lutimes(parent.p, Number(parent.st.atimeNs) / 1e9, t)
  }

  #owner (ctx: CallContext, lkOwner?: Buffer): LockOwner {
    return { conn: ctx.connection, owner: lkOwner !== undefined && lkOwner.length > 0 ? lkOwner.toString('hex') : this.#caller(ctx).lkOwner }
  }

  /**
   * Run the data operations of one file (WRITE, TRUNCATE, a SETATTR of the size, FALLOCATE …) one
   * at a time, in arrival order: their pre/post stats are then consistent and their replies leave
   * in order, so the client's caches (md-cache, write-behind) never keep the size of an earlier
   * write; and an append's end of file (fstat) and its write are one step, as O_APPEND is.
   */
  #dataSerial<T> (gfid: Buffer, fn: () => Promise<T>): Promise<T> {
    const key = gfid.toString('hex')
    const prev = this.#dataChains.get(key) ?? Promise.resolve()
    const run = prev.then(fn, fn)
    const tail = run.catch(() => {})
    this.#dataChains.set(key, tail)
    void tail.then(() => { if (this.#dataChains.get(key) === tail) this.#dataChains.delete(key) })
    return run
  }

  /** A SETATTR that changes the size is a data operation (`#dataSerial`); other ones run at once. */
  #sizeSerial<T> (gfid: Buffer, valid: number, fn: () => Promise<T>): Promise<T> {
    return (valid & GfSetattrValid.SIZE) !== 0 ? this.#dataSerial(gfid, fn) : fn()
  }

  /** Run entry operations one at a time, so that a name and its store record change together. */
  #serial<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.#entryChain.then(fn, fn)
    this.#entryChain = run.catch(() => {})
    return run
  }

  // -------------------------------------------------------------------------------------------
  // resolution
  // -------------------------------------------------------------------------------------------

  /** An object by gfid: its key, path and lstat. */
  async #inode (gfid: Buffer): Promise<{ key: string, p: string, st: BigIntStats }> {
    if (isNullGfid(gfid)) throw new FopError('EINVAL', 'null gfid')
    const key = gfidKey(gfid)
    if (!this.store.has(key)) throw new FopError('ESTALE', `gfid ${key} is not on this brick`)
    const p = this.store.pathOf(key)
    let st: BigIntStats
    try {
      st = await lstat(p)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new FopError('ESTALE', `gfid ${key}: ${p} is gone`)
      throw err
    }
    return { key, p, st }
  }

  async #iattOf (key: string): Promise<GfxIattx> {
    return toIatt(key, await lstat(this.store.pathOf(key)))
  }

  /** The fd of a call: a real one from the table, or the anonymous fd (-2) opened for this call. */
  async #fd (ctx: CallContext, fdNum: bigint, gfid: Buffer, write = false): Promise<{ fd: FileFd, done: () => Promise<void> }> {
    const st = this.#state(ctx)
    if (fdNum === GF_ANON_FD) {
      const { key, p, st: s } = await this.#inode(gfid)
      if (!s.isFile()) throw new FopError(s.isDirectory() ? 'EISDIR' : 'EINVAL')
      const flags = (write || !this.opts.arbiter ? fs.constants.O_RDWR : fs.constants.O_RDONLY) | fs.constants.O_NOFOLLOW
      const fh = await fsp.open(p, flags)
      return { fd: { kind: 'file', key, fh, flags }, done: () => fh.close() }
    }
    const fd = st.fds.get(fdNum)
    if (fd === undefined) throw new FopError('EBADF', `fd ${fdNum} is not open`)
    if (fd.kind !== 'file') throw new FopError('EISDIR', `fd ${fdNum} is a directory`)
    return { fd, done: async () => {} }
  }

  #allocFd (st: ClientState, fd: Fd): bigint {
    const n = st.nextFd++
    st.fds.set(n, fd)
    if (fd.kind === 'file') this.#openCount.set(fd.key, (this.#openCount.get(fd.key) ?? 0) + 1)
    return n
  }

  // -------------------------------------------------------------------------------------------
  // xdata: requested xattrs and counts (gluster-cluster.md §6.5)
  // -------------------------------------------------------------------------------------------

  async #fillXdata (key: string, p: string, st: BigIntStats, req: GfxDict, opts: { parent?: string, name?: string, content?: boolean } = {}): Promise<GfxDict> {
    if (req === null || req.size === 0) return null
    const out = new Map<string, GfxValue>()
    const stored = this.store.xattrs(key)
    for (const [k, v] of req) {
      switch (k) {
        case 'glusterfs.content': {
          const max = v.type === GfxDictType.UINT || v.type === GfxDictType.INT ? v.value : 0n
          if (opts.content === true && st.isFile() && st.size <= max && st.size > 0n && !this.opts.arbiter) {
            out.set(k, gfxBin(await readAll(p, Number(st.size))))
          }
          break
        }
        case 'glusterfs.inodelk-count': out.set(k, gfxInt(this.inodeLocks.count(key))); break
        case 'glusterfs.entrylk-count': out.set(k, gfxInt(this.entryLocks.count(key))); break
        case 'glusterfs.parent-entrylk':
          if (opts.parent !== undefined && opts.name !== undefined) out.set(k, gfxInt(this.entryLocks.count(opts.parent, opts.name)))
          break
        case 'glusterfs.inodelk-dom-count': {
          const dom = gfxDictString(req, k)
          if (dom !== undefined) out.set(k, gfxInt(this.inodeLocks.count(key, dom)))
          break
        }
        case 'glusterfs.open-fd-count': out.set(k, gfxInt(this.#openCount.get(key) ?? 0)); break
        case 'link-count': out.set(k, gfxInt(0)); break
        case 'trusted.glusterfs.mdata': out.set(k, gfxBin(mdataOf(st))); break
        case 'list-xattr':
          for (const [xk, xv] of stored) if (!HIDDEN_XATTRS(xk)) out.set(xk, gfxBin(xv))
          break
        case 'trusted.gfid': out.set(k, gfxBin(gfidBytes(key))); break
        default: {
          const xv = stored.get(k)
          if (xv !== undefined) out.set(k, gfxBin(xv))
        }
      }
    }
    return out.size > 0 ? out : null
  }

  /** The xattrs an entry-creation fop stores from its xdata (§6.2), after the preop parent check. */
  #creationXattrs (parent: string, xdata: GfxDict): Map<string, Buffer> {
    const out = new Map<string, Buffer>()
    if (xdata === null) return out
    const preopKey = gfxDictString(xdata, 'glusterfs.preop.parent.key')
    if (preopKey !== undefined) {
      const want = gfxDictBin(xdata, preopKey)
      const have = this.store.getXattr(parent, preopKey)
      if (want !== undefined && (have === undefined || !have.equals(want))) {
        throw Object.assign(new FopError('EIO', 'parent layout changed'), { xdata: new Map([['glusterfs.preop.check.failed', gfxInt(1)]]) })
      }
    }
    for (const [k, v] of xdata) {
      if (INTERNAL_KEYS.has(k) || k === preopKey) continue
      if (!/^(trusted|user|security|system)\./.test(k)) continue
      if (v.type === GfxDictType.PTR || v.type === GfxDictType.STR_OLD) out.set(k, v.value)
      else if (v.type === GfxDictType.STR) out.set(k, Buffer.from(v.value, 'utf8'))
    }
    return out
  }

  #gfidReq (xdata: GfxDict): string {
    const g = gfxDictBin(xdata, 'gfid-req')
    if (g === undefined || g.length !== 16 || isNullGfid(g)) throw new FopError('EINVAL', 'gfid-req missing')
    return gfidKey(g)
  }

  async #ownNew (p: string, caller: Caller, parentSt: BigIntStats): Promise<void> {
    if (!canChown) return
    // directories with setgid pass their group on, as on a local filesystem
    const gid = (Number(parentSt.mode) & 0o2000) !== 0 ? Number(parentSt.gid) : caller.gid
    await fsp.lchown(p, caller.uid, gid)
  }

  // -------------------------------------------------------------------------------------------
  // handlers
  // -------------------------------------------------------------------------------------------

  #fopHandlers (): Handlers<typeof FopProgram> {
    /** wrap a fop: SETVOLUME check, errors → op_ret -1 */
    const fop = <A, R>(fn: (args: A, ctx: CallContext, st: ClientState) => Promise<R>) =>
      async (args: A, ctx: CallContext): Promise<R> => {
        const st = this.#state(ctx)
        try {
          return await fn(args, ctx, st)
        } catch (err) {
          if (err instanceof GlusterError) throw err
          const f = failure(errnoOf(err))
          const x = (err as { xdata?: GfxDict }).xdata
          if (x !== undefined) f.xdata = x
          return f as R
        }
      }
    const enosys = fop(async () => failure(38))

    return {
      NULL: () => ({ op_ret: 0, op_errno: 0, xdata: new Map() }),

      LOOKUP: fop(async a => {
        if (a.bname === '') {
          if (isNullGfid(a.gfid)) throw new FopError('EINVAL')
          const key = gfidKey(a.gfid)
          if (!this.store.has(key)) throw new FopError('ENOENT', `gfid ${key} unknown`)
          const { p, st } = await this.#inode(a.gfid)
          const xdata = await this.#fillXdata(key, p, st, a.xdata, { content: true })
          return { op_ret: 0, op_errno: 0, xdata, prestat: toIatt(key, st), poststat: ZERO_IATT }
        }
        const parent = await this.#inode(a.pargfid)
        if (!parent.st.isDirectory()) throw new FopError('ENOTDIR')
        const p = this.store.childPath(parent.key, a.bname)
        let key = this.store.child(parent.key, a.bname)
        let st: BigIntStats
        try {
          st = await lstat(p)
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
          if (key !== undefined) await this.#serial(async () => { this.store.removeLink(parent.key, a.bname, { keepRecord: (this.#openCount.get(key!) ?? 0) > 0 }) })
          return { ...failure(ENOENT), poststat: toIatt(parent.key, parent.st) }
        }
        if (key === undefined) {
          // on disk but unknown to the store (left by a crash): adopt it when the client names a gfid
          const req = gfxDictBin(a.xdata, 'gfid-req')
          if (req === undefined || isNullGfid(req)) throw new FopError('ENODATA', `${a.bname} has no gfid`)
          key = gfidKey(req)
          const k = key
          await this.#serial(async () => { this.store.addObject(k, objectTypeOf(Number(st.mode)), parent.key, a.bname) })
        }
        const xdata = await this.#fillXdata(key, p, st, a.xdata, { parent: parent.key, name: a.bname, content: true })
        return { op_ret: 0, op_errno: 0, xdata, prestat: toIatt(key, st), poststat: toIatt(parent.key, parent.st) }
      }),

      STAT: fop(async a => {
        const { key, p, st } = await this.#inode(a.gfid)
        return { ...ok, xdata: await this.#fillXdata(key, p, st, a.xdata), stat: toIatt(key, st) }
      }),

      FSTAT: fop(async (a, ctx, cs) => {
        // a directory fd (AFR fstats the fd of an opendir, e.g. while a brick is down): lstat its path
        const dirFd = a.fd === GF_ANON_FD ? undefined : cs.fds.get(a.fd)
        if (dirFd?.kind === 'dir' || (a.fd === GF_ANON_FD && this.store.has(gfidKey(a.gfid)) && (await this.#inode(a.gfid)).st.isDirectory())) {
          const key = this.#fdKey(cs, a.fd, a.gfid)
          const p = this.store.pathOf(key)
          const st = await lstat(p)
          const xdata = a.xdata !== null && a.xdata.size > 0 ? await this.#fillXdata(key, p, st, a.xdata) : null
          return { ...ok, xdata, stat: toIatt(key, st) }
        }
        const { fd, done } = await this.#fd(ctx, a.fd, a.gfid)
        try {
          const st = await fd.fh.stat({ bigint: true })
          let xdata: GfxDict = null
          if (a.xdata !== null && a.xdata.size > 0 && this.store.has(fd.key)) {
            let p: string | undefined
            try { p = this.store.pathOf(fd.key) } catch {}
            if (p !== undefined) xdata = await this.#fillXdata(fd.key, p, st, a.xdata)
          }
          return { ...ok, xdata, stat: toIatt(fd.key, st) }
        } finally { await done() }
      }),

      STATFS: fop(async () => {
        const s = await fsp.statfs(this.opts.dir, { bigint: true })
        return {
          ...ok,
          statfs: {
            bsize: s.bsize, frsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail,
            files: s.files, ffree: s.ffree, favail: s.ffree, fsid: 0n, flag: 0n, namemax: 255n,
          },
        }
      }),

      ACCESS: fop(async (a, ctx) => {
        const { st } = await this.#inode(a.gfid)
        const c = this.#caller(ctx)
        if (c.uid === 0 || a.mask === 0) return ok
        const mode = Number(st.mode)
        const bits = c.uid === Number(st.uid) ? (mode >> 6) & 7 : c.gid === Number(st.gid) ? (mode >> 3) & 7 : mode & 7
        if ((bits & a.mask) !== a.mask) throw new FopError('EACCES')
        return ok
      }),

      OPEN: fop(async (a, _ctx, cs) => {
        const { key, p, st } = await this.#inode(a.gfid)
        if (st.isDirectory()) throw new FopError('EISDIR')
        if (!st.isFile()) throw new FopError(st.isSymbolicLink() ? 'ELOOP' : 'EINVAL')
        const fh = await fsp.open(p, openFlags(a.flags, this.opts.arbiter))
        const fd = this.#allocFd(cs, { kind: 'file', key, fh, flags: a.flags })
        return { ...ok, fd }
      }),

      CREATE: fop((a, ctx, cs) => this.#serial(async () => {
        const key = this.#gfidReq(a.xdata)
        const parent = await this.#inode(a.pargfid)
        if (!parent.st.isDirectory()) throw new FopError('ENOTDIR')
        const p = this.store.childPath(parent.key, a.bname)
        const existing = this.store.child(parent.key, a.bname)
        if (existing === undefined && this.store.has(key)) throw new FopError('EEXIST', `gfid ${key} exists already`)
        const xattrs = existing === undefined ? this.#creationXattrs(parent.key, a.xdata) : new Map<string, Buffer>()
        let created = false
        let fh: FileHandle
        try {
          fh = await fsp.open(p, openFlags(a.flags, this.opts.arbiter) | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600)
          created = true
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || (a.flags & GfOpenFlags.EXCL) !== 0 || existing === undefined) throw err
          fh = await fsp.open(p, openFlags(a.flags, this.opts.arbiter))
        }
        const objKey = created ? key : existing!
        try {
          if (created) {
            await fh.chmod((a.mode & ~a.umask) & 0o7777)
            await this.#ownNew(p, this.#caller(ctx), parent.st)
            this.store.addObject(key, 'f', parent.key, a.bname, xattrs)
            await this.#stamp(ctx, { fh }, { p: parent.p, st: parent.st })
          }
          const st = await fh.stat({ bigint: true })
          const fd = this.#allocFd(cs, { kind: 'file', key: objKey, fh, flags: a.flags })
          return {
            ...ok, xdata: new Map([['gfid-req', gfxUuid(gfidBytes(objKey))]]), stat: toIatt(objKey, st), fd,
            preparent: toIatt(parent.key, parent.st), postparent: await this.#iattOf(parent.key),
          }
        } catch (err) {
          await fh.close().catch(() => {})
          if (created) await fsp.unlink(p).catch(() => {})
          throw err
        }
      })),

      READ: fop(async (a, ctx) => {
        if (this.opts.arbiter) throw new FopError('ENOSYS')
        const { fd, done } = await this.#fd(ctx, a.fd, a.gfid)
        try {
          const size = Math.min(a.size, MAX_READ_BYTES)
          const buf = Buffer.allocUnsafe(size)
          let n = 0
          while (n < size) {
            const r = await fd.fh.read(buf, n, size - n, Number(a.offset) + n)
            if (r.bytesRead === 0) break
            n += r.bytesRead
          }
          const st = await fd.fh.stat({ bigint: true })
          const eof = a.offset + BigInt(n) >= st.size
          // the bytes go out as their own chunk after gfx_read_rsp (gluster-wire.md §8)
          return { op_ret: n, op_errno: eof ? ENOENT : 0, stat: toIatt(fd.key, st), size: n, xdata: null, data: buf.subarray(0, n) }
        } finally { await done() }
      }),

      WRITE: fop(async (a, ctx) => this.#dataSerial(a.gfid, async () => {
        const { fd, done } = await this.#fd(ctx, a.fd, a.gfid, true)
        try {
          const pre = await fd.fh.stat({ bigint: true })
          if (!this.opts.arbiter) {
            let n = 0
            let pos = writePosition(fd.flags, a.offset, pre.size)
            while (n < a.data.length) {
              const r = await fd.fh.write(a.data, n, a.data.length - n, pos)
              n += r.bytesWritten
              pos += r.bytesWritten
            }
          }
          await this.#stamp(ctx, { fh: fd.fh, st: pre })
          const post = await fd.fh.stat({ bigint: true })
          return { op_ret: a.data.length, op_errno: 0, xdata: null, prestat: toIatt(fd.key, pre), poststat: toIatt(fd.key, post) }
        } finally { await done() }
      })),

      FLUSH: fop(async (a, ctx) => {
        const { done } = await this.#fd(ctx, a.fd, a.gfid)
        await done()
        return ok
      }),

      FSYNC: fop(async (a, ctx) => {
        const { fd, done } = await this.#fd(ctx, a.fd, a.gfid)
        try {
          const pre = await fd.fh.stat({ bigint: true })
          if (a.data !== 0) await fd.fh.datasync()
          else await fd.fh.sync()
          return { ...ok, prestat: toIatt(fd.key, pre), poststat: toIatt(fd.key, await fd.fh.stat({ bigint: true })) }
        } finally { await done() }
      }),

      RELEASE: async (a, ctx) => {
        const st = this.#clients.get(ctx.connection)
        if (st === undefined) throw new Error('RELEASE before SETVOLUME') // SYSTEM_ERR, as GlusterFS
        const fd = st.fds.get(a.fd)
        if (fd !== undefined) {
          st.fds.delete(a.fd)
          await this.#closeFd(fd)
        }
        return ok
      },

      RELEASEDIR: async (a, ctx) => {
        const st = this.#clients.get(ctx.connection)
        if (st === undefined) throw new Error('RELEASEDIR before SETVOLUME')
        st.fds.delete(a.fd)
        return ok
      },

      OPENDIR: fop(async (a, _ctx, cs) => {
        const { key, st } = await this.#inode(a.gfid)
        if (!st.isDirectory()) throw new FopError('ENOTDIR')
        return { ...ok, fd: this.#allocFd(cs, { kind: 'dir', key }) }
      }),

      READDIR: fop(async (a, _ctx, cs) => {
        const { entries, eof } = await this.#readdir(cs, a.fd, a.offset, a.size, false, null)
        return { op_ret: entries.length, op_errno: eof ? ENOENT : 0, xdata: null, reply: entries as GfxDirlist[] }
      }),

      READDIRP: fop(async (a, _ctx, cs) => {
        const { entries, eof } = await this.#readdir(cs, a.fd, a.offset, a.size, true, a.xdata)
        return { op_ret: entries.length, op_errno: eof ? ENOENT : 0, xdata: null, reply: entries as GfxDirplist[] }
      }),

      FSYNCDIR: fop(async () => ok),

      MKDIR: fop((a, ctx) => this.#serial(async () => {
        const key = this.#gfidReq(a.xdata)
        const parent = await this.#inode(a.pargfid)
        if (!parent.st.isDirectory()) throw new FopError('ENOTDIR')
        const p = this.store.childPath(parent.key, a.bname)
        if (this.store.child(parent.key, a.bname) !== undefined) throw new FopError('EEXIST')
        if (this.store.has(key)) throw new FopError('EEXIST', `gfid ${key} exists already`)
        const xattrs = this.#creationXattrs(parent.key, a.xdata)
        await fsp.mkdir(p, 0o700)
        try {
          await fsp.chmod(p, (a.mode & ~a.umask) & 0o7777)
          await this.#ownNew(p, this.#caller(ctx), parent.st)
        } catch (err) {
          await fsp.rmdir(p).catch(() => {})
          throw err
        }
        this.store.addObject(key, 'd', parent.key, a.bname, xattrs)
        await this.#stamp(ctx, { p }, { p: parent.p, st: parent.st })
        return {
          ...ok, stat: toIatt(key, await lstat(p)), preparent: toIatt(parent.key, parent.st), postparent: await this.#iattOf(parent.key),
        }
      })),

      MKNOD: fop((a, ctx) => this.#serial(async () => {
        const key = this.#gfidReq(a.xdata)
        const parent = await this.#inode(a.pargfid)
        if (!parent.st.isDirectory()) throw new FopError('ENOTDIR')
        const p = this.store.childPath(parent.key, a.bname)
        if (this.store.child(parent.key, a.bname) !== undefined) throw new FopError('EEXIST')
        const fmt = a.mode & S_IFMT
        // Node can make regular files only (DHT link files are S_IFREG|01000); no fifos or devices
        if (fmt !== 0 && fmt !== S_IFREG) throw new FopError('EPERM', 'only regular files can be made with MKNOD here')
        if (this.store.has(key)) {
          // DHT link files of hard-linked files: a second name of the same inode (§6.3)
          if (a.xdata?.has('glusterfs-internal-fop') !== true || this.store.type(key) !== 'f') throw new FopError('EEXIST')
          await fsp.link(this.store.pathOf(key), p)
          this.store.addLink(key, parent.key, a.bname)
        } else {
          const xattrs = this.#creationXattrs(parent.key, a.xdata)
          const fh = await fsp.open(p, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW, 0o600)
          try {
            await fh.chmod((a.mode & ~a.umask) & 0o7777)
          } finally { await fh.close() }
          await this.#ownNew(p, this.#caller(ctx), parent.st)
          this.store.addObject(key, 'f', parent.key, a.bname, xattrs)
        }
        await this.#stamp(ctx, { p }, { p: parent.p, st: parent.st })
        return {
          ...ok, stat: toIatt(key, await lstat(p)), preparent: toIatt(parent.key, parent.st), postparent: await this.#iattOf(parent.key),
        }
      })),

      SYMLINK: fop((a, ctx) => this.#serial(async () => {
        const key = this.#gfidReq(a.xdata)
        const parent = await this.#inode(a.pargfid)
        if (!parent.st.isDirectory()) throw new FopError('ENOTDIR')
        const p = this.store.childPath(parent.key, a.bname)
        if (this.store.child(parent.key, a.bname) !== undefined) throw new FopError('EEXIST')
        if (this.store.has(key)) throw new FopError('EEXIST')
        const xattrs = this.#creationXattrs(parent.key, a.xdata)
        // the target is only text to us: we never follow symlinks
        await fsp.symlink(a.linkname, p)
        await this.#ownNew(p, this.#caller(ctx), parent.st)
        this.store.addObject(key, 'l', parent.key, a.bname, xattrs)
        await this.#stamp(ctx, { p }, { p: parent.p, st: parent.st })
        return {
          ...ok, stat: toIatt(key, await lstat(p)), preparent: toIatt(parent.key, parent.st), postparent: await this.#iattOf(parent.key),
        }
      })),

      READLINK: fop(async a => {
        const { key, p, st } = await this.#inode(a.gfid)
        if (!st.isSymbolicLink()) throw new FopError('EINVAL')
        const target = await fsp.readlink(p, 'utf8')
        return { op_ret: Buffer.byteLength(target), op_errno: 0, xdata: null, buf: toIatt(key, st), path: target }
      }),

      LINK: fop((a, ctx) => this.#serial(async () => {
        const src = await this.#inode(a.oldgfid)
        if (src.st.isDirectory()) throw new FopError('EPERM')
        const parent = await this.#inode(a.newgfid)
        if (!parent.st.isDirectory()) throw new FopError('ENOTDIR')
        const p = this.store.childPath(parent.key, a.newbname)
        await fsp.link(src.p, p)
        this.store.addLink(src.key, parent.key, a.newbname)
        await this.#stamp(ctx, undefined, { p: parent.p, st: parent.st })
        return {
          ...ok, stat: toIatt(src.key, await lstat(p)), preparent: toIatt(parent.key, parent.st), postparent: await this.#iattOf(parent.key),
        }
      })),

      UNLINK: fop((a, ctx) => this.#serial(async () => {
        const parent = await this.#inode(a.pargfid)
        const p = this.store.childPath(parent.key, a.bname)
        const st = await lstat(p)
        if (st.isDirectory()) throw new FopError('EISDIR')
        await fsp.unlink(p)
        const key = this.store.child(parent.key, a.bname)
        if (key !== undefined) this.store.removeLink(parent.key, a.bname, { keepRecord: (this.#openCount.get(key) ?? 0) > 0 })
        await this.#stamp(ctx, undefined, { p: parent.p, st: parent.st })
        return { ...ok, prestat: toIatt(parent.key, parent.st), poststat: await this.#iattOf(parent.key) }
      })),

      RMDIR: fop((a, ctx) => this.#serial(async () => {
        const parent = await this.#inode(a.pargfid)
        const p = this.store.childPath(parent.key, a.bname)
        await fsp.rmdir(p)
        this.store.removeLink(parent.key, a.bname)
        await this.#stamp(ctx, undefined, { p: parent.p, st: parent.st })
        return { ...ok, prestat: toIatt(parent.key, parent.st), poststat: await this.#iattOf(parent.key) }
      })),

      RENAME: fop((a, ctx) => this.#serial(async () => {
        const op = await this.#inode(a.oldgfid)
        const np = await this.#inode(a.newgfid)
        if (!op.st.isDirectory() || !np.st.isDirectory()) throw new FopError('ENOTDIR')
        const from = this.store.childPath(op.key, a.oldbname)
        const to = this.store.childPath(np.key, a.newbname)
        const key = this.store.child(op.key, a.oldbname)
        if (key === undefined) {
          await lstat(from) // ENOENT when really absent
          throw new FopError('ENODATA', `${a.oldbname} has no gfid`)
        }
        await fsp.rename(from, to)
        const { replaced } = this.store.moveLink(op.key, a.oldbname, np.key, a.newbname)
        if (replaced !== undefined && replaced.linksLeft === 0 && (this.#openCount.get(replaced.key) ?? 0) === 0) this.store.forget(replaced.key)
        await this.#stamp(ctx, undefined, { p: op.p, st: op.st })
        if (np.key !== op.key) await this.#stamp(ctx, undefined, { p: np.p, st: np.st })
        return {
          ...ok,
          stat: toIatt(key, await lstat(to)),
          preoldparent: toIatt(op.key, op.st),
          postoldparent: await this.#iattOf(op.key),
          prenewparent: toIatt(np.key, np.st),
          postnewparent: await this.#iattOf(np.key),
        }
      })),

      SETATTR: fop(async a => this.#sizeSerial(a.gfid, a.valid, async () => {
        const { key, p, st } = await this.#inode(a.gfid)
        await setattr(p, st, a.stbuf, a.valid, undefined, this.opts.arbiter)
        return { ...ok, prestat: toIatt(key, st), poststat: await this.#iattOf(key) }
      })),

      FSETATTR: fop(async (a, ctx, cs) => {
        if (a.fd !== GF_ANON_FD && cs.fds.get(a.fd)?.kind === 'dir') {
          // a directory fd: set the attributes by path
          const key = this.#fdKey(cs, a.fd, a.gfid)
          const p = this.store.pathOf(key)
          const st = await lstat(p)
          await setattr(p, st, a.stbuf, a.valid, undefined, this.opts.arbiter)
          return { ...ok, prestat: toIatt(key, st), poststat: await this.#iattOf(key) }
        }
        return this.#sizeSerial(a.gfid, a.valid, async () => {
          const { fd, done } = await this.#fd(ctx, a.fd, a.gfid)
          try {
            const st = await fd.fh.stat({ bigint: true })
            await setattr(undefined, st, a.stbuf, a.valid, fd.fh, this.opts.arbiter)
            return { ...ok, prestat: toIatt(fd.key, st), poststat: toIatt(fd.key, await fd.fh.stat({ bigint: true })) }
          } finally { await done() }
        })
      }),

      TRUNCATE: fop(async (a, ctx) => this.#dataSerial(a.gfid, async () => {
        const { key, p, st } = await this.#inode(a.gfid)
        if (st.isDirectory()) throw new FopError('EISDIR')
        if (!st.isFile()) throw new FopError('EINVAL')
        if (!this.opts.arbiter) await fsp.truncate(p, Number(a.offset))
        await this.#stamp(ctx, { p, st })
        return { ...ok, prestat: toIatt(key, st), poststat: await this.#iattOf(key) }
      })),

      FTRUNCATE: fop(async (a, ctx) => this.#dataSerial(a.gfid, async () => {
        const { fd, done } = await this.#fd(ctx, a.fd, a.gfid, true)
        try {
          const pre = await fd.fh.stat({ bigint: true })
          if (!this.opts.arbiter) await fd.fh.truncate(Number(a.offset))
          await this.#stamp(ctx, { fh: fd.fh, st: pre })
          return { ...ok, prestat: toIatt(fd.key, pre), poststat: toIatt(fd.key, await fd.fh.stat({ bigint: true })) }
        } finally { await done() }
      })),

      GETXATTR: fop(async a => {
        const { key, p } = await this.#inode(a.gfid)
        return this.#getxattr(key, p, a.namelen === 0 ? '' : a.name)
      }),

      FGETXATTR: fop(async (a, ctx, cs) => {
        const key = this.#fdKey(cs, a.fd, a.gfid)
        return this.#getxattr(key, this.store.pathOf(key), a.namelen === 0 ? '' : a.name)
      }),

      SETXATTR: fop(async a => {
        const { key, p } = await this.#inode(a.gfid)
        return this.#setxattr(key, p, a.dict, a.flags, a.xdata)
      }),

      FSETXATTR: fop(async (a, ctx, cs) => {
        const key = this.#fdKey(cs, a.fd, a.gfid)
        return this.#setxattr(key, this.store.pathOf(key), a.dict, a.flags, a.xdata)
      }),

      REMOVEXATTR: fop(async a => {
        const { key } = await this.#inode(a.gfid)
        return this.#removexattr(key, a.name)
      }),

      FREMOVEXATTR: fop(async (a, _ctx, cs) => this.#removexattr(this.#fdKey(cs, a.fd, a.gfid), a.name)),

      XATTROP: fop(async a => {
        const { key } = await this.#inode(a.gfid)
        return { ...ok, dict: this.#xattrop(key, a.flags, a.dict), prestat: ZERO_IATT, poststat: ZERO_IATT }
      }),

      FXATTROP: fop(async (a, _ctx, cs) => {
        const key = this.#fdKey(cs, a.fd, a.gfid)
        return { ...ok, dict: this.#xattrop(key, a.flags, a.dict), prestat: ZERO_IATT, poststat: ZERO_IATT }
      }),

      INODELK: fop(async (a, ctx) => {
        // an unlock may come after the object is gone (AFR unlocks after RMDIR/UNLINK)
        const key = a.type === UNLCK || a.flock.type === UNLCK ? gfidKey(a.gfid) : (await this.#inode(a.gfid)).key
        await this.#inodelk(ctx, key, a.volume, a.cmd, a.type, a.flock)
        return ok
      }),

      FINODELK: fop(async (a, ctx, cs) => {
        await this.#inodelk(ctx, this.#fdKey(cs, a.fd, a.gfid), a.volume, a.cmd, a.type, a.flock)
        return ok
      }),

      ENTRYLK: fop(async (a, ctx) => {
        const key = a.cmd === GfEntrylkCmd.UNLOCK ? gfidKey(a.gfid) : (await this.#inode(a.gfid)).key
        await this.#entrylk(ctx, key, a.volume, a.cmd, a.type, a.namelen !== 0n ? a.name : null)
        return ok
      }),

      FENTRYLK: fop(async (a, ctx, cs) => {
        await this.#entrylk(ctx, this.#fdKey(cs, a.fd, a.gfid), a.volume, a.cmd, a.type, a.namelen !== 0n ? a.name : null)
        return ok
      }),

      LK: fop(async (a, ctx, cs) => {
        const key = this.#fdKey(cs, a.fd, a.gfid)
        const owner = this.#owner(ctx, a.flock.lk_owner)
        const { start, end } = lockRange(a.flock.start, a.flock.len)
        const lock = { owner, type: a.flock.type, start, end, pid: a.flock.pid }
        if (a.cmd === GfLkCmd.GETLK || a.cmd === GfLkCmd.GETLK_FD) {
          const c = this.posixLocks.test(key, lock)
          const flock: GfProtoFlock = c === undefined
            ? { ...a.flock, type: UNLCK }
            : { type: c.type, whence: 0, start: c.start, len: c.end === 0xffff_ffff_ffff_ffffn ? 0n : c.end - c.start + 1n, pid: c.pid, lk_owner: Buffer.from(c.owner.owner, 'hex') }
          return { ...ok, flock }
        }
        if (a.cmd !== GfLkCmd.SETLK && a.cmd !== GfLkCmd.SETLKW) throw new FopError('EINVAL')
        await this.posixLocks.set(key, lock, a.cmd === GfLkCmd.SETLKW)
        return { ...ok, flock: a.flock }
      }),

      SEEK: fop(async (a, ctx) => {
        if (this.opts.arbiter) throw new FopError('ENOSYS')
        const { fd, done } = await this.#fd(ctx, a.fd, a.gfid)
        try {
          // no SEEK_DATA/SEEK_HOLE in Node: a file is all data, with one hole at its end
          const size = (await fd.fh.stat({ bigint: true })).size
          if (a.offset >= size) throw new FopError('ENXIO')
          return { ...ok, offset: a.what === GfSeekWhat.DATA ? a.offset : size }
        } finally { await done() }
      }),

      FALLOCATE: fop(async (a, ctx) => this.#dataSerial(a.gfid, async () => {
        const { fd, done } = await this.#fd(ctx, a.fd, a.gfid, true)
        try {
          const pre = await fd.fh.stat({ bigint: true })
          const KEEP_SIZE = 0x1
          const PUNCH_HOLE = 0x2
          if (!this.opts.arbiter) {
            if ((a.flags & PUNCH_HOLE) !== 0) {
              await writeZeros(fd.fh, a.offset, minBig(a.size, pre.size > a.offset ? pre.size - a.offset : 0n))
            } else if ((a.flags & KEEP_SIZE) === 0 && a.offset + a.size > pre.size) {
              await fd.fh.truncate(Number(a.offset + a.size))
            }
          }
          await this.#stamp(ctx, { fh: fd.fh, st: pre })
          return { ...ok, prestat: toIatt(fd.key, pre), poststat: toIatt(fd.key, await fd.fh.stat({ bigint: true })) }
        } finally { await done() }
      })),

      DISCARD: fop(async (a, ctx) => this.#dataSerial(a.gfid, async () => {
        const { fd, done } = await this.#fd(ctx, a.fd, a.gfid, true)
        try {
          const pre = await fd.fh.stat({ bigint: true })
          if (!this.opts.arbiter) await writeZeros(fd.fh, a.offset, minBig(a.size, pre.size > a.offset ? pre.size - a.offset : 0n))
          await this.#stamp(ctx, { fh: fd.fh, st: pre })
          return { ...ok, prestat: toIatt(fd.key, pre), poststat: toIatt(fd.key, await fd.fh.stat({ bigint: true })) }
        } finally { await done() }
      })),

      ZEROFILL: fop(async (a, ctx) => this.#dataSerial(a.gfid, async () => {
        const { fd, done } = await this.#fd(ctx, a.fd, a.gfid, true)
        try {
          const pre = await fd.fh.stat({ bigint: true })
          if (!this.opts.arbiter) await writeZeros(fd.fh, a.offset, a.size)
          await this.#stamp(ctx, { fh: fd.fh, st: pre })
          return { ...ok, prestat: toIatt(fd.key, pre), poststat: toIatt(fd.key, await fd.fh.stat({ bigint: true })) }
        } finally { await done() }
      })),

      RCHECKSUM: enosys,
      IPC: enosys,
      LEASE: enosys,
      GETACTIVELK: enosys,
      SETACTIVELK: enosys,
      ICREATE: enosys,
      NAMELINK: enosys,
      COPY_FILE_RANGE: enosys,
    }
  }

  #fdKey (cs: ClientState, fdNum: bigint, gfid: Buffer): string {
    if (fdNum === GF_ANON_FD || fdNum === -1n) {
      const key = gfidKey(gfid)
      if (!this.store.has(key)) throw new FopError('ESTALE')
      return key
    }
    const fd = cs.fds.get(fdNum)
    if (fd === undefined) throw new FopError('EBADF', `fd ${fdNum} is not open`)
    return fd.key
  }

  async #readdir (cs: ClientState, fdNum: bigint, offset: bigint, size: number, plus: boolean, req: GfxDict): Promise<{ entries: Array<GfxDirlist | GfxDirplist>, eof: boolean }> {
    const fd = cs.fds.get(fdNum)
    if (fd === undefined) throw new FopError('EBADF')
    if (fd.kind !== 'dir') throw new FopError('ENOTDIR')
    const dirPath = this.store.pathOf(fd.key)
    if (fd.names === undefined || offset === 0n) {
      let names = await fsp.readdir(dirPath)
      if (fd.key === ROOT_KEY) names = names.filter(n => n !== SIDECAR_DIR)
      names.sort()
      fd.names = ['.', '..', ...names]
    }
    const names = fd.names
    const entries: Array<GfxDirlist | GfxDirplist> = []
    let bytes = 0
    let i = Number(offset)
    const budget = Math.max(size, 512)
    for (; i < names.length; i++) {
      const name = names[i]!
      const est = 32 + name.length + (plus ? 200 : 0)
      if (entries.length > 0 && bytes + est > budget) break
      let key: string | undefined
      if (name === '.') key = fd.key
      else if (name === '..') key = fd.key === ROOT_KEY ? ROOT_KEY : this.store.links(fd.key)[0]?.[0]
      else key = this.store.child(fd.key, name)
      const p = name === '.' ? dirPath : name === '..' ? (key !== undefined ? this.store.pathOf(key) : path.dirname(dirPath)) : path.join(dirPath, name)
      let st: BigIntStats
      try {
        st = await lstat(p)
      } catch {
        continue // removed since the listing was taken
      }
      const gfid = key !== undefined ? gfidBytes(key) : Buffer.alloc(16)
      const base: GfxDirlist = {
        d_ino: key !== undefined ? inoOf(gfid) : st.ino, d_off: BigInt(i + 1), d_len: Buffer.byteLength(name), d_type: direntTypeOf(Number(st.mode)), name,
      }
      if (plus) {
        const dict = key !== undefined && name !== '.' && name !== '..' ? await this.#fillXdata(key, p, st, req) : null
        entries.push({ ...base, stat: key !== undefined ? toIatt(gfid, st) : ZERO_IATT, dict: dict ?? new Map() })
        bytes += est + (dict !== null ? gfxDictBytes(dict) : 0)
      } else {
        entries.push(base)
        bytes += est
      }
    }
    return { entries, eof: i >= names.length }
  }

  async #getxattr (key: string, p: string, name: string): Promise<any> {
    const dict = new Map<string, GfxValue>()
    if (name === '') {
      let total = 0
      for (const [k, v] of this.store.xattrs(key)) {
        if (HIDDEN_XATTRS(k)) continue
        dict.set(k, gfxBin(v))
        total += Buffer.byteLength(k) + 1
      }
      return { ...ok, op_ret: total, dict, prestat: ZERO_IATT, poststat: ZERO_IATT }
    }
    if (name === 'trusted.glusterfs.pathinfo' || name === 'glusterfs.pathinfo') {
      const rel = path.relative(this.opts.dir, p)
      const real = rel === '' ? `${this.opts.brickPath}/` : `${this.opts.brickPath}/${rel}`
      const v = `<POSIX(${this.opts.brickPath}):${this.opts.hostname}:${real}>`
      dict.set(name, { type: GfxDictType.STR, value: v })
      return { ...ok, op_ret: Buffer.byteLength(v) + 1, dict, prestat: ZERO_IATT, poststat: ZERO_IATT }
    }
    if (name === 'trusted.gfid') {
      dict.set(name, gfxBin(gfidBytes(key)))
      return { ...ok, op_ret: 16, dict, prestat: ZERO_IATT, poststat: ZERO_IATT }
    }
    if (name === 'trusted.glusterfs.mdata') {
      const v = mdataOf(await lstat(p))
      dict.set(name, gfxBin(v))
      return { ...ok, op_ret: v.length, dict, prestat: ZERO_IATT, poststat: ZERO_IATT }
    }
    const v = this.store.getXattr(key, name)
    if (v === undefined) throw new FopError('ENODATA')
    dict.set(name, gfxBin(v))
    return { ...ok, op_ret: v.length, dict, prestat: ZERO_IATT, poststat: ZERO_IATT }
  }

  async #setxattr (key: string, p: string, dict: GfxDict, flags: number, xdata: GfxDict): Promise<any> {
    const changes = new Map<string, Buffer | null>()
    const pre = xdata?.has('dht-get-iatt-in-xattr') === true ? toIatt(key, await lstat(p)) : undefined
    for (const [k, v] of dict ?? []) {
      if (k === 'set-ctime-mdata' || k === 'trusted.gfid' || k === 'trusted.glusterfs.volume-id' || k === 'trusted.glusterfs.mdata') continue
      if (k.startsWith('trusted.gfid2path.')) throw new FopError('EOPNOTSUPP')
      let value: Buffer
      if (v.type === GfxDictType.PTR || v.type === GfxDictType.STR_OLD) value = v.value
      else if (v.type === GfxDictType.STR) value = Buffer.from(v.value + '\0', 'utf8')
      else if (v.type === GfxDictType.INT || v.type === GfxDictType.UINT) value = Buffer.from(`${v.value}\0`, 'utf8')
      else continue
      const exists = this.store.getXattr(key, k) !== undefined
      if ((flags & GfXattrFlags.CREATE) !== 0 && exists) throw new FopError('EEXIST')
      if ((flags & GfXattrFlags.REPLACE) !== 0 && !exists) throw new FopError('ENODATA')
      changes.set(k, value)
    }
    if (changes.size > 0) this.store.setXattrs(key, changes)
    if (pre !== undefined) {
      const post = toIatt(key, await lstat(p))
      return { ...ok, xdata: new Map([['virt-gf-prestat', gfxIatt(pre)], ['virt-gf-poststat', gfxIatt(post)]]) }
    }
    return ok
  }

  #removexattr (key: string, name: string): any {
    if (name === 'trusted.gfid' || name === 'trusted.glusterfs.volume-id' || name.startsWith('trusted.gfid2path.')) throw new FopError('EPERM')
    if (this.store.getXattr(key, name) === undefined) throw new FopError('ENODATA')
    this.store.setXattrs(key, new Map([[name, null]]))
    return ok
  }

  /**
   * XATTROP: combine each value with the stored one and return the results (§4.1). Runs without
   * an await between reading and writing, so it is atomic against every other call.
   */
  #xattrop (key: string, flags: number, dict: GfxDict): Map<string, GfxValue> {
    const out = new Map<string, GfxValue>()
    const changes = new Map<string, Buffer>()
    for (const [k, v] of dict ?? []) {
      if (v.type !== GfxDictType.PTR && v.type !== GfxDictType.STR_OLD) throw new FopError('EINVAL', `xattrop ${k}: value is not binary`)
      const req = v.value
      const cur = this.store.getXattr(key, k) ?? Buffer.alloc(req.length)
      let result: Buffer
      switch (flags) {
        case GfXattropFlags.ADD_ARRAY:
        case GfXattropFlags.ADD_ARRAY_WITH_DEFAULT:
          result = combine(cur, req, 4, (a, b) => (a + b) | 0)
          break
        case GfXattropFlags.ADD_ARRAY64:
        case GfXattropFlags.ADD_ARRAY64_WITH_DEFAULT: {
          if (req.length % 8 !== 0) throw new FopError('EINVAL')
          const c = cur.length === req.length ? cur : Buffer.alloc(req.length)
          result = Buffer.alloc(req.length)
          for (let i = 0; i < req.length; i += 8) result.writeBigInt64BE(BigInt.asIntN(64, c.readBigInt64BE(i) + req.readBigInt64BE(i)), i)
          break
        }
        case GfXattropFlags.OR_ARRAY: result = combine(cur, req, 4, (a, b) => (a | b)); break
        case GfXattropFlags.AND_ARRAY: result = combine(cur, req, 4, (a, b) => (a & b)); break
        case GfXattropFlags.GET_AND_SET:
          out.set(k, gfxBin(cur))
          changes.set(k, req)
          continue
        default: throw new FopError('EINVAL', `xattrop flags ${flags}`)
      }
      if (req.some(b => b !== 0)) changes.set(k, result)
      out.set(k, gfxBin(result))
    }
    if (changes.size > 0) this.store.setXattrs(key, changes)
    return out
  }

  async #inodelk (ctx: CallContext, key: string, domain: string, cmd: number, type: number, flock: GfProtoFlock): Promise<void> {
    const owner = this.#owner(ctx)
    const { start, end } = lockRange(flock.start, flock.len)
    const t = type === UNLCK || flock.type === UNLCK ? UNLCK : type
    if (cmd === GfLkCmd.GETLK) return
    if (cmd !== GfLkCmd.SETLK && cmd !== GfLkCmd.SETLKW) throw new FopError('EINVAL', `inodelk cmd ${cmd}`)
    await this.inodeLocks.lock(key, domain, { owner, type: t, start, end, pid: flock.pid }, cmd === GfLkCmd.SETLKW)
  }

  async #entrylk (ctx: CallContext, key: string, domain: string, cmd: number, type: number, name: string | null): Promise<void> {
    const lock = { owner: this.#owner(ctx), name, type }
    if (cmd === GfEntrylkCmd.UNLOCK) {
      this.entryLocks.unlock(key, domain, lock)
      return
    }
    if (cmd !== GfEntrylkCmd.LOCK && cmd !== GfEntrylkCmd.LOCK_NB) throw new FopError('EINVAL', `entrylk cmd ${cmd}`)
    await this.entryLocks.lock(key, domain, lock, cmd === GfEntrylkCmd.LOCK)
  }
}

/**
 * GF_O_* (= Linux) open flags to what we pass to open(2): never create here, never follow a
 * symlink, and no O_APPEND: with it Linux's pwrite ignores the position, and WRITE places an
 * append itself (`writePosition`).
 */
function openFlags (flags: number, arbiter: boolean): number {
  const c = fs.constants
  let acc = flags & GfOpenFlags.ACCMODE
  if (arbiter && acc === c.O_RDONLY) acc = c.O_RDONLY
  let out = acc | c.O_NOFOLLOW
  if ((flags & GfOpenFlags.TRUNC) !== 0 && !arbiter) out |= c.O_TRUNC
  if ((flags & GfOpenFlags.SYNC) !== 0) out |= c.O_SYNC
  return out
}

/**
 * Where a WRITE goes: at its offset, or on an O_APPEND fd at the end of the file, but never below
 * the offset the client sent. The FUSE client's kernel sends an append at the size it knows, one
 * WRITE per page, and its write-behind may send those before the pages of an earlier write on
 * another fd that they do not overlap (docs/server.md "Appends ahead of earlier writes"): at the
 * brick's end of file then, an append would land inside that earlier write and be overwritten by
 * it. An end of file above the offset (another client appended, or the kernel had a stale size)
 * is where the append goes, as with O_APPEND.
 */
function writePosition (gfFlags: number, offset: bigint, size: bigint): number {
  if ((gfFlags & GfOpenFlags.APPEND) === 0) return Number(offset)
  return Number(offset > size ? offset : size)
}

function combine (cur: Buffer, req: Buffer, width: 4, f: (a: number, b: number) => number): Buffer {
  if (req.length % width !== 0) throw new FopError('EINVAL', 'xattrop value is not a whole number of int32s')
  const c = cur.length === req.length ? cur : Buffer.alloc(req.length)
  const out = Buffer.alloc(req.length)
  for (let i = 0; i < req.length; i += width) out.writeInt32BE(f(c.readInt32BE(i), req.readInt32BE(i)) | 0, i)
  return out
}

function minBig (a: bigint, b: bigint): bigint { return a < b ? a : b }

async function writeZeros (fh: FileHandle, offset: bigint, len: bigint): Promise<void> {
  const chunk = Buffer.alloc(Number(minBig(len, 1n << 20n)))
  let done = 0n
  while (done < len) {
    const n = Number(minBig(len - done, BigInt(chunk.length)))
    const r = await fh.write(chunk, 0, n, Number(offset + done))
    done += BigInt(r.bytesWritten)
  }
}

async function readAll (p: string, size: number): Promise<Buffer> {
  const fh = await fsp.open(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW)
  try {
    const buf = Buffer.allocUnsafe(size)
    let n = 0
    while (n < size) {
      const r = await fh.read(buf, n, size - n, n)
      if (r.bytesRead === 0) break
      n += r.bytesRead
    }
    return buf.subarray(0, n)
  } finally {
    await fh.close()
  }
}

/** SETATTR / FSETATTR: apply the stbuf fields `valid` selects (GfSetattrValid). */
async function setattr (p: string | undefined, st: BigIntStats, s: GfxIattx, valid: number, fh: FileHandle | undefined, arbiter: boolean): Promise<void> {
  const V = GfSetattrValid
  const isLink = st.isSymbolicLink()
  if ((valid & V.MODE) !== 0 && !isLink) {
    const mode = s.mode & 0o7777
    if (fh !== undefined) await fh.chmod(mode)
    else await fsp.chmod(p!, mode)
  }
  if ((valid & (V.UID | V.GID)) !== 0) {
    const uid = (valid & V.UID) !== 0 ? s.ia_uid : -1
    const gid = (valid & V.GID) !== 0 ? s.ia_gid : -1
    if (fh !== undefined) await fh.chown(uid, gid)
    else await fsp.lchown(p!, uid, gid)
  }
  if ((valid & V.SIZE) !== 0 && !arbiter) {
    if (fh !== undefined) await fh.truncate(Number(s.ia_size))
    else await fsp.truncate(p!, Number(s.ia_size))
  }
  if ((valid & (V.ATIME | V.MTIME | V.ATIME_NOW | V.MTIME_NOW)) !== 0) {
    const now = Date.now() / 1000
    const secs = (sec: bigint, nsec: number): number => Number(sec) + nsec / 1e9
    const atime = (valid & V.ATIME_NOW) !== 0 ? now : (valid & V.ATIME) !== 0 ? secs(s.ia_atime, s.ia_atime_nsec) : Number(st.atimeNs) / 1e9
    const mtime = (valid & V.MTIME_NOW) !== 0 ? now : (valid & V.MTIME) !== 0 ? secs(s.ia_mtime, s.ia_mtime_nsec) : Number(st.mtimeNs) / 1e9
    if (fh !== undefined) await fh.utimes(atime, mtime)
    else await fsp.lutimes(p!, atime, mtime)
  }
}

