// protocol/client as a layer: every fop is one call on one brick connection (BrickClient), its
// op_errno turned into a typed error naming the brick. It needs nothing but the gfid of an inode,
// so it takes inodes made by any layer: cluster/replicate winds the fops of its transactions to
// its children through this (client-fops in GlusterFS's terms), and a bare brick under
// cluster/distribute (a pure distribute volume) or alone at the top is this layer.
import { randomBytes } from 'node:crypto'
import {
  FopProgram, GF_ANON_FD, GlusterError, GfEntrylkCmd, GfEntrylkType, GfLkCmd, GfLkType, toGlusterError,
  type BoundProc, type GfStatfs, type GfxDict, type GfxIattx,
} from '@gluster-ts/rpc'
import type { BrickClient } from './brick.js'
import type { CreateOpts, DirEntry, FopCtx, Inode, Layer, LayerFd, LockTarget, LookupOpts, RenameSide, WriteOut, XdataKeys } from './layer.js'
import { createXdata, landInto, xdataOf } from './layer.js'

interface Reply { op_ret: number, op_errno: number }

export class ClientLayer implements Layer {
  readonly type = 'protocol/client'
  readonly children: readonly Layer[] = []
  readonly brick: BrickClient
  readonly #timeoutMs: number

  constructor (brick: BrickClient, o: { attemptTimeoutMs: number }) {
    this.brick = brick
    this.#timeoutMs = o.attemptTimeoutMs
  }

  get name (): string { return this.brick.spec.name }
  get bricks (): readonly BrickClient[] { return [this.brick] }
  ready (): boolean { return this.brick.up }
  whyNot (): string { return this.brick.up ? '' : `${this.brick.label}: ${this.brick.lastError?.message ?? 'no answer'}` }

  /** One call; a reply with op_ret < 0 becomes the typed error (syscall, path, brick). */
  async #call<A, R extends Reply> (proc: BoundProc<A, R>, args: A, syscall: string, o: FopCtx = {}, extra: { into?: Buffer, cred?: ReturnType<BrickClient['lockCred']> } = {}): Promise<R> {
    const b = this.brick
    const r = await b.call(proc, args, {
      timeoutMs: this.#timeoutMs, ...(o.signal !== undefined ? { signal: o.signal } : {}), ...extra,
    })
    if (r.op_ret < 0) throw toGlusterError(r.op_errno, { syscall: o.syscall ?? syscall, ...(o.path !== undefined ? { path: o.path } : {}), brick: b.label })
    return r
  }

  #inode (stat: GfxIattx, xdata: GfxDict): Inode {
    return { gfid: stat.ia_gfid, stat, xdata, layer: this }
  }

  // ---- entries ----

  async lookup (parent: Inode, name: string, o: LookupOpts = {}): Promise<Inode> {
    const r = await this.#call(FopProgram.procs.LOOKUP, { gfid: Buffer.alloc(16), pargfid: parent.gfid, flags: 0, bname: name, xdata: xdataOf(o.xdata) }, 'lookup', o)
    return this.#inode(r.prestat, r.xdata)
  }

  async lookupGfid (gfid: Buffer, o: LookupOpts = {}): Promise<Inode> {
    const r = await this.#call(FopProgram.procs.LOOKUP, { gfid, pargfid: Buffer.alloc(16), flags: 0, bname: '', xdata: xdataOf(o.xdata) }, 'lookup', o)
    return this.#inode(r.prestat, r.xdata)
  }

  async * readdir (dir: Inode, o: FopCtx & { pageBytes?: number, xdata?: XdataKeys } = {}): AsyncGenerator<DirEntry[]> {
    const od = await this.#call(FopProgram.procs.OPENDIR, { gfid: dir.gfid, xdata: null }, 'opendir', o)
    try {
      let offset = 0n
      for (;;) {
        const r = await this.#call(FopProgram.procs.READDIRP, { gfid: dir.gfid, fd: od.fd, offset, size: o.pageBytes ?? 131072, xdata: xdataOf(o.xdata) }, 'readdir', o)
        if (r.reply.length === 0) break
        const page: DirEntry[] = []
        for (const e of r.reply) {
          offset = e.d_off
          if (e.name === '.' || e.name === '..') continue
          // a name is one path component: a brick that sends '' or one with '/' or NUL would
          // have callers that join it to a path (cp -r, sync, rm -r) reach outside the directory.
          // Linux's FUSE refuses such an entry the same way (fs/fuse/readdir.c: EIO)
          if (e.name === '' || e.name.includes('/') || e.name.includes('\0')) {
            throw new GlusterError('EIO', `EIO: ${this.brick.label} listed an invalid name ${JSON.stringify(e.name)} in '${o.path ?? dir.gfid.toString('hex')}'`,
              { syscall: 'readdir', errno: 5, brick: this.brick.label, ...(o.path !== undefined ? { path: o.path } : {}) })
          }
          page.push({ name: e.name, d_type: e.d_type, stat: e.stat, dict: e.dict })
        }
        if (page.length > 0) yield page
        if (r.op_errno === 2) break // the brick says this page reached the end
      }
    } finally {
      this.#call(FopProgram.procs.RELEASEDIR, { gfid: dir.gfid, fd: od.fd, xdata: null }, 'releasedir').catch(() => {})
    }
  }

  async create (parent: Inode, name: string, flags: number, o: CreateOpts): Promise<{ inode: Inode, fd: ClientFd }> {
    const generation = this.brick.generation
    const r = await this.#call(FopProgram.procs.CREATE, { pargfid: parent.gfid, flags: 0o100 | 0o200 | flags, mode: o.mode, umask: 0, bname: name, xdata: createXdata(o) }, 'create', o)
    const inode = this.#inode(r.stat, r.xdata)
    return { inode, fd: new ClientFd(this, inode.gfid, o.path ?? name, r.fd, generation, 0, flags) }
  }

  async mknod (parent: Inode, name: string, rdev: bigint, o: CreateOpts): Promise<Inode> {
    const r = await this.#call(FopProgram.procs.MKNOD, { pargfid: parent.gfid, dev: rdev, mode: o.mode, umask: 0, bname: name, xdata: createXdata(o) }, 'mknod', o)
    return this.#inode(r.stat, r.xdata)
  }

  async mkdir (parent: Inode, name: string, o: CreateOpts): Promise<Inode> {
    const r = await this.#call(FopProgram.procs.MKDIR, { pargfid: parent.gfid, mode: o.mode, umask: 0, bname: name, xdata: createXdata(o) }, 'mkdir', o)
    return this.#inode(r.stat, r.xdata)
  }

  async symlink (parent: Inode, name: string, target: string, o: CreateOpts): Promise<void> {
    await this.#call(FopProgram.procs.SYMLINK, { pargfid: parent.gfid, bname: name, umask: 0, linkname: target, xdata: createXdata(o) }, 'symlink', o)
  }

  async link (inode: Inode, parent: Inode, name: string, o: FopCtx = {}): Promise<void> {
    await this.#call(FopProgram.procs.LINK, { oldgfid: inode.gfid, newgfid: parent.gfid, newbname: name, xdata: null }, 'link', o)
  }

  async unlink (parent: Inode, name: string, _inode: Inode, o: FopCtx & { xdata?: XdataKeys } = {}): Promise<GfxDict> {
    const r = await this.#call(FopProgram.procs.UNLINK, { pargfid: parent.gfid, bname: name, xflags: 0, xdata: xdataOf(o.xdata) }, 'unlink', o)
    return r.xdata
  }

  async rmdir (parent: Inode, name: string, _inode: Inode, o: FopCtx = {}): Promise<void> {
    await this.#call(FopProgram.procs.RMDIR, { pargfid: parent.gfid, xflags: 0, bname: name, xdata: null }, 'rmdir', o)
  }

  async rename (from: Required<RenameSide>, to: RenameSide, o: FopCtx = {}): Promise<void> {
    await this.#call(FopProgram.procs.RENAME, { oldgfid: from.parent.gfid, newgfid: to.parent.gfid, oldbname: from.name, newbname: to.name, xdata: null }, 'rename', o)
  }

  // ---- inodes ----

  async readlink (inode: Inode, o: FopCtx = {}): Promise<string> {
    return (await this.#call(FopProgram.procs.READLINK, { gfid: inode.gfid, size: 4096, xdata: null }, 'readlink', o)).path
  }

  async access (inode: Inode, mask: number, o: FopCtx = {}): Promise<void> {
    await this.#call(FopProgram.procs.ACCESS, { gfid: inode.gfid, mask, xdata: null }, 'access', o)
  }

  async statfs (inode: Inode, o: FopCtx = {}): Promise<GfStatfs> {
    return (await this.#call(FopProgram.procs.STATFS, { gfid: inode.gfid, xdata: null }, 'statfs', o)).statfs
  }

  async getxattr (inode: Inode, name: string | null, o: FopCtx = {}): Promise<GfxDict> {
    return (await this.#call(FopProgram.procs.GETXATTR, { gfid: inode.gfid, namelen: name === null ? 0 : 1, name: name ?? '', xdata: null }, name === null ? 'listxattr' : 'getxattr', o)).dict
  }

  async setxattr (inode: Inode, dict: GfxDict, flags: number, o: FopCtx & { xdata?: XdataKeys } = {}): Promise<void> {
    await this.#call(FopProgram.procs.SETXATTR, { gfid: inode.gfid, flags, dict, xdata: xdataOf(o.xdata) }, 'setxattr', o)
  }

  async removexattr (inode: Inode, name: string, o: FopCtx = {}): Promise<void> {
    await this.#call(FopProgram.procs.REMOVEXATTR, { gfid: inode.gfid, name, xdata: null }, 'removexattr', o)
  }

  async xattrop (inode: Inode, flags: number, dict: GfxDict, o: FopCtx & { xdata?: XdataKeys } = {}): Promise<GfxDict> {
    return (await this.#call(FopProgram.procs.XATTROP, { gfid: inode.gfid, flags, dict, xdata: xdataOf(o.xdata) }, 'xattrop', o)).dict
  }

  async setattr (inode: Inode, valid: number, stbuf: GfxIattx, o: FopCtx = {}): Promise<void> {
    await this.#call(FopProgram.procs.SETATTR, { gfid: inode.gfid, stbuf, valid, xdata: null }, 'setattr', o)
  }

  async truncate (inode: Inode, len: number, o: FopCtx = {}, out?: WriteOut): Promise<void> {
    const r = await this.#call(FopProgram.procs.TRUNCATE, { gfid: inode.gfid, offset: BigInt(len), xdata: null }, 'truncate', o)
    if (out !== undefined) { out.prestat = r.prestat; out.poststat = r.poststat }
  }

  /** READ through the anonymous fd; the payload is read straight into `into` when given. */
  async read (inode: Inode, offset: number, size: number, o: FopCtx & { into?: Buffer } = {}): Promise<Buffer> {
    const r = await this.#call(FopProgram.procs.READ, { gfid: inode.gfid, fd: GF_ANON_FD, offset: BigInt(offset), size, flag: 0o100000, xdata: null }, 'read', o,
      o.into !== undefined ? { into: o.into } : {})
    return landInto(r.data, o.into, () => `READ of ${size} bytes at ${offset} of '${o.path ?? inode.gfid.toString('hex')}'`)
  }

  async open (inode: Inode, flags: number, o: FopCtx = {}): Promise<ClientFd> {
    const generation = this.brick.generation
    const r = await this.#call(FopProgram.procs.OPEN, { gfid: inode.gfid, flags, xdata: null }, 'open', o)
    return new ClientFd(this, inode.gfid, o.path ?? '', r.fd, generation, Number(inode.stat.ia_size), flags)
  }

  anonymous (inode: Inode, path: string): ClientFd {
    return new ClientFd(this, inode.gfid, path, GF_ANON_FD, this.brick.generation, Number(inode.stat.ia_size), 2)
  }

  async lock (target: LockTarget, domain: string, o: FopCtx = {}): Promise<() => Promise<void>> {
    const owner = randomBytes(8)
    const cred = this.brick.lockCred(owner)
    if (target.kind === 'inode') {
      const gfid = target.inode.gfid
      const flock = (type: number): { type: number, whence: number, start: bigint, len: bigint, pid: number, lk_owner: Buffer } => ({ type, whence: 0, start: 0n, len: 0n, pid: 0, lk_owner: Buffer.alloc(0) })
      await this.#call(FopProgram.procs.INODELK, { gfid, cmd: GfLkCmd.SETLKW, type: GfLkType.WRLCK, flock: flock(GfLkType.WRLCK), volume: domain, xdata: null }, 'inodelk', o, { cred })
      return async () => {
        await this.#call(FopProgram.procs.INODELK, { gfid, cmd: GfLkCmd.SETLK, type: GfLkType.UNLCK, flock: flock(GfLkType.UNLCK), volume: domain, xdata: null }, 'inodelk', {}, { cred })
      }
    }
    const gfid = target.parent.gfid
    const args = (cmd: number): { gfid: Buffer, cmd: number, type: number, namelen: bigint, name: string, volume: string, xdata: null } =>
      ({ gfid, cmd, type: GfEntrylkType.WRLCK, namelen: target.name === null ? 0n : 1n, name: target.name ?? '', volume: domain, xdata: null })
    await this.#call(FopProgram.procs.ENTRYLK, args(GfEntrylkCmd.LOCK), 'entrylk', o, { cred })
    return async () => { await this.#call(FopProgram.procs.ENTRYLK, args(GfEntrylkCmd.UNLOCK), 'entrylk', {}, { cred }) }
  }

  // ---- what ClientFd uses ----

  /** @internal */
  async fdCall<A, R extends Reply> (proc: BoundProc<A, R>, args: A, syscall: string, o: FopCtx = {}): Promise<R> {
    return await this.#call<A, R>(proc, args, syscall, o)
  }
}

/**
 * An fd on one brick: WRITE, FTRUNCATE, FXATTROP, FSYNC through it; FLUSH + RELEASE at close.
 * An fd from before a reconnect is gone on the brick: its calls then go through the anonymous fd.
 */
export class ClientFd implements LayerFd {
  readonly gfid: Buffer
  readonly path: string
  readonly fd: bigint
  /** the connection generation the fd belongs to */
  readonly generation: number
  size: number
  closed = false
  readonly #c: ClientLayer
  readonly #flags: number

  constructor (c: ClientLayer, gfid: Buffer, path: string, fd: bigint, generation: number, size: number, flags: number) {
    this.#c = c
    this.gfid = gfid
    this.path = path
    this.fd = fd
    this.generation = generation
    this.size = size
    this.#flags = flags
  }

  /** the fd to send: ours while its connection lives, else the anonymous one */
  get current (): bigint { return this.#c.brick.generation === this.generation ? this.fd : GF_ANON_FD }

  #check (syscall: string): void {
    if (this.closed) throw new GlusterError('EBADF', `EBADF: file handle for '${this.path}' is closed`, { path: this.path, syscall })
  }

  async write (data: Buffer, pos: number, signal?: AbortSignal, out?: WriteOut): Promise<number> {
    this.#check('write')
    if (data.length === 0) return 0
    const r = await this.#c.fdCall(FopProgram.procs.WRITE, { gfid: this.gfid, fd: this.current, offset: BigInt(pos), size: data.length, flag: this.#flags | 0o100000, xdata: null, data }, 'write', { path: this.path, ...(signal !== undefined ? { signal } : {}) })
    if (out !== undefined) { out.prestat = r.prestat; out.poststat = r.poststat }
    if (pos + r.op_ret > this.size) this.size = pos + r.op_ret
    return r.op_ret
  }

  async truncate (len: number, signal?: AbortSignal, out?: WriteOut): Promise<void> {
    this.#check('ftruncate')
    const r = await this.#c.fdCall(FopProgram.procs.FTRUNCATE, { gfid: this.gfid, fd: this.current, offset: BigInt(len), xdata: null }, 'ftruncate', { path: this.path, ...(signal !== undefined ? { signal } : {}) })
    if (out !== undefined) { out.prestat = r.prestat; out.poststat = r.poststat }
    this.size = len
  }

  async xattrop (flags: number, dict: GfxDict, o: FopCtx & { xdata?: XdataKeys } = {}): Promise<GfxDict> {
    this.#check('fxattrop')
    return (await this.#c.fdCall(FopProgram.procs.FXATTROP, { gfid: this.gfid, fd: this.current, flags, dict, xdata: xdataOf(o.xdata) }, 'fxattrop', { path: this.path, ...o })).dict
  }

  async sync (): Promise<void> {
    this.#check('fsync')
    await this.#c.fdCall(FopProgram.procs.FSYNC, { gfid: this.gfid, fd: this.current, data: 0, xdata: null }, 'fsync', { path: this.path })
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.fd === GF_ANON_FD || this.current === GF_ANON_FD) return
    try {
      await this.#c.fdCall(FopProgram.procs.FLUSH, { gfid: this.gfid, fd: this.fd, xdata: null }, 'flush', { path: this.path })
    } finally {
      this.#c.fdCall(FopProgram.procs.RELEASE, { gfid: this.gfid, fd: this.fd, xdata: null }, 'release', { path: this.path }).catch(() => {})
    }
  }
}
