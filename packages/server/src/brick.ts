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
  GF_ANON_FD, GfSetattrValid,
  flatDict, flatDictString, gfxBin, gfxInt, gfxDictBin, gfxDictString,
  GfxDictType, isOpaqueAuth, credentialLkOwner,
} from '@gluster-ts/rpc'
import type {
  CallContext, ServerConnection, GfxDict, GfxValue, GfxIattx, Handlers,
} from '@gluster-ts/rpc'
import { BrickStore, gfidKey, gfidBytes, isNullGfid } from './store/brick-store.js'
import type { BrickStoreOptions } from './store/brick-store.js'
import { FopError, errnoOf } from './store/fop-error.js'
import { FOPS } from './fops/index.js'
import { failure } from './fops/reply.js'
import { toIatt, mdataOf } from './store/posix.js'
import { InodeLocks, EntryLocks, PosixLocks } from './locks.js'
import type { LockOwner } from './locks.js'

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
  store?: Omit<BrickStoreOptions, 'volumeId'>
}

export interface FileFd { kind: 'file', key: string, fh: FileHandle, flags: number }
export interface DirFd { kind: 'dir', key: string, names?: string[] }
export type Fd = FileFd | DirFd

export interface ClientState {
  id: string
  processUuid: string
  fds: Map<bigint, Fd>
  nextFd: bigint
}

export interface Caller { uid: number, gid: number, pid: number, lkOwner: string }


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
export const HIDDEN_XATTRS = (k: string): boolean =>
  k === 'trusted.gfid' || k === 'trusted.glusterfs.volume-id' || k.startsWith('trusted.gfid2path.') || k === 'trusted.glusterfs.mdata'

const canChown = typeof process.getuid === 'function' && process.getuid() === 0

export function lstat (p: string): Promise<BigIntStats> { return fsp.lstat(p, { bigint: true }) }

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
    }
    this.store = new BrickStore(dir, { ...opts.store, volumeId: opts.volumeId })
    this.rpc = new RpcServer()
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

  #setVolume (dict: Map<string, Buffer>, ctx: CallContext): { op_ret: number, op_errno: number, dict: Map<string, Buffer> } {
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
    if (!this.#clients.has(ctx.connection)) {
      this.#clients.set(ctx.connection, { id: `c${++this.#clientSeq}`, processUuid: puid, fds: new Map(), nextFd: 0n })
    }
    return {
      op_ret: 0,
      op_errno: 0,
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
    for (const fd of fds) await this.closeFd(fd)
  }

  async closeFd (fd: Fd): Promise<void> {
    if (fd.kind !== 'file') return
    await fd.fh.close().catch(() => {})
    const n = (this.openCount.get(fd.key) ?? 1) - 1
    if (n <= 0) {
      this.openCount.delete(fd.key)
      this.store.forget(fd.key)
    } else {
      this.openCount.set(fd.key, n)
    }
  }

  state (ctx: CallContext): ClientState {
    const st = this.#clients.get(ctx.connection)
    // GlusterFS answers fops before SETVOLUME with GARBAGE_ARGS (gluster-wire.md §1.4)
    if (st === undefined) throw new GlusterError('EGLUSTER_GARBAGE_ARGS', 'fop before SETVOLUME')
    return st
  }

  caller (ctx: CallContext): Caller {
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
  async stamp (ctx: CallContext, obj: { fh?: FileHandle, p?: string, st?: BigIntStats } | undefined, parent?: { p: string, st: BigIntStats }): Promise<void> {
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

  /** A SETATTR that changes the size is a data operation (`#dataSerial`); other ones run at once. */
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
  // resolution
  // -------------------------------------------------------------------------------------------

  /** An object by gfid: its key, path and lstat. */
  async inode (gfid: Buffer): Promise<{ key: string, p: string, st: BigIntStats }> {
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

  async iattOf (key: string): Promise<GfxIattx> {
    return toIatt(key, await lstat(this.store.pathOf(key)))
  }

  /** The fd of a call: a real one from the table, or the anonymous fd (-2) opened for this call. */
  async fd (ctx: CallContext, fdNum: bigint, gfid: Buffer, write = false): Promise<{ fd: FileFd, done: () => Promise<void> }> {
    const st = this.state(ctx)
    if (fdNum === GF_ANON_FD) {
      const { key, p, st: s } = await this.inode(gfid)
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

  allocFd (st: ClientState, fd: Fd): bigint {
    const n = st.nextFd++
    st.fds.set(n, fd)
    if (fd.kind === 'file') this.openCount.set(fd.key, (this.openCount.get(fd.key) ?? 0) + 1)
    return n
  }

  // -------------------------------------------------------------------------------------------
  // xdata: requested xattrs and counts (gluster-cluster.md §6.5)
  // -------------------------------------------------------------------------------------------

  async fillXdata (key: string, p: string, st: BigIntStats, req: GfxDict, opts: { parent?: string, name?: string, content?: boolean } = {}): Promise<GfxDict> {
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
        case 'glusterfs.open-fd-count': out.set(k, gfxInt(this.openCount.get(key) ?? 0)); break
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
  creationXattrs (parent: string, xdata: GfxDict): Map<string, Buffer> {
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

  gfidReq (xdata: GfxDict): string {
    const g = gfxDictBin(xdata, 'gfid-req')
    if (g === undefined || g.length !== 16 || isNullGfid(g)) throw new FopError('EINVAL', 'gfid-req missing')
    return gfidKey(g)
  }

  async ownNew (p: string, caller: Caller, parentSt: BigIntStats): Promise<void> {
    if (!canChown) return
    // directories with setgid pass their group on, as on a local filesystem
    const gid = (Number(parentSt.mode) & 0o2000) !== 0 ? Number(parentSt.gid) : caller.gid
    await fsp.lchown(p, caller.uid, gid)
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

