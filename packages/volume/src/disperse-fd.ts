// Writing a dispersed file (gluster-disperse.md §5.3): a write is widened to whole stripes, the
// partial head and tail stripes are read back (decoded from k good bricks) and merged, the
// stripes are encoded and each brick gets its fragments at offset ⌊o/S⌋·512; a truncate cuts
// every brick at ⌈size/S⌉·512 after rewriting the cut stripe's tail with zeros. All of it runs
// inside the inode's lock cycle (disperse-lock.ts), which counts the versions and the size.
import { GlusterError, newGfxIattx, type GfxDict } from '@gluster-ts/rpc'
import type { ClientFd, ClientLayer } from './client-layer.js'
import type { EcLock, Outcome } from './disperse-lock.js'
import { fanout } from './disperse-lock.js'
import { assembleWrite, planTruncate, planWrite, type EcCodec } from './ec/index.js'
import type { FopCtx, Inode, Layer, LayerFd, WriteOut, XdataKeys } from './layer.js'

const ALL = { data: true, meta: true }

/** What the writes need from the disperse layer. */
export interface EcWriteHost extends Layer {
  readonly k: number
  readonly codec: EcCodec
  readonly children: readonly ClientLayer[]
  /** run `fn` in the inode's lock cycle with the data half marked dirty */
  withDataLock<R> (gfid: Buffer, fn: (l: EcLock) => Promise<R>): Promise<R>
  /** decoded user bytes of the stripes at fragment range [fragOffset, +fragSize), from l's good bricks */
  decodeRange (gfid: Buffer, fragOffset: number, fragSize: number, good: readonly number[]): Promise<Buffer>
  /** XATTROP on every good brick of the inode (shard's size updates above us) */
  xattropGfid (gfid: Buffer, flags: number, dict: GfxDict, o: FopCtx & { xdata?: XdataKeys }): Promise<GfxDict>
  /** the post-op so far when a lock cycle is running, then FSYNC through `fdOf` on the good bricks */
  syncGfid (gfid: Buffer, fdOf: BrickFdOf): Promise<void>
  fdClosed (fd: DisperseFd): Promise<void>
}

/** A brick fd to write through: the open one, or the brick's anonymous fd. */
export type BrickFdOf = (brick: number) => ClientFd

/**
 * Write `data` at `pos` inside lock cycle `l` (its fragment range already claimed): read-modify-
 * write of the partial stripes, encode, WRITE to every good brick, k needed.
 */
async function writeClaimed (h: EcWriteHost, l: EcLock, fdOf: BrickFdOf, data: Buffer, pos: number): Promise<number> {
  const k = h.k
  const plan = planWrite(pos, data.length, Number(l.size), k)
  const stripe = async (r: { fragOffset: number } | null): Promise<Buffer | null> =>
    r === null ? null : await h.decodeRange(l.gfid, r.fragOffset, 512, l.good)
  const [head, tail] = await Promise.all([stripe(plan.readHead), stripe(plan.readTail)])
  const buf = assembleWrite(plan, data, head, tail)
  const frags = h.children.map(() => Buffer.allocUnsafe(plan.fragSize))
  h.codec.encode(buf, frags)
  const out: Array<Outcome<number>> = await fanout(l.good, i => fdOf(i).write(frags[i]!, plan.fragOffset), l.straggler)
  for (const o of out) {
    // a brick that wrote less than asked holds a torn stripe: it is no longer good (ec_writev_cbk: EIO)
    if (o.ok && o.value !== plan.fragSize) Object.assign(o, { ok: false, err: new GlusterError('EIO', `EIO: short WRITE on ${h.children[o.brick]!.brick.label}: ${o.value} of ${plan.fragSize} bytes`, { errno: 5 }) })
  }
  l.took(out, 'write')
  if (BigInt(plan.newSize) > l.size) l.size = BigInt(plan.newSize)
  l.changed(ALL)
  return data.length
}

export async function ecWrite (h: EcWriteHost, gfid: Buffer, fdOf: BrickFdOf, data: Buffer, pos: number): Promise<number> {
  if (data.length === 0) return 0
  return await h.withDataLock(gfid, async l => {
    const plan = planWrite(pos, data.length, 0, h.k)
    const release = await l.claim(plan.fragOffset, plan.fragOffset + plan.fragSize)
    try {
      return await writeClaimed(h, l, fdOf, data, pos)
    } finally { release() }
  })
}

/** Truncate to `len` (ec-inode-write.c:ec_manager_truncate, ec_update_truncate_write). */
export async function ecTruncate (h: EcWriteHost, gfid: Buffer, len: number, brickTruncate: (brick: number, fragSize: number) => Promise<void>): Promise<void> {
  await h.withDataLock(gfid, async l => {
    const release = await l.claim(0, Number.MAX_SAFE_INTEGER)
    try {
      const plan = planTruncate(len, Number(l.size), h.k)
      if (plan.zeroFill !== null) await writeClaimed(h, l, i => h.children[i]!.anonymous(anonInode(h, gfid), ''), Buffer.alloc(plan.zeroFill.length), plan.zeroFill.offset)
      l.took(await fanout(l.good, i => brickTruncate(i, plan.fragSize), l.straggler), 'truncate')
      l.size = BigInt(len)
      l.changed(ALL)
    } finally { release() }
  })
}

function anonInode (h: Layer, gfid: Buffer): Inode {
  return { gfid, stat: newGfxIattx({ ia_gfid: gfid }), xdata: null, layer: h }
}

/**
 * A dispersed file open for writing: one brick fd per brick that opened it (the anonymous fd
 * for the others and for anonymous handles).
 */
export class DisperseFd implements LayerFd {
  readonly gfid: Buffer
  readonly path: string
  size: number
  closed = false
  readonly #h: EcWriteHost
  readonly #fds: Array<ClientFd | undefined>
  readonly #anon: Array<ClientFd | undefined>

  /** an open fd (not an anonymous one): its close may end the inode's lock cycle */
  readonly counted: boolean

  constructor (h: EcWriteHost, gfid: Buffer, path: string, size: number, fds: Array<ClientFd | undefined>, counted: boolean) {
    this.#h = h
    this.counted = counted
    this.gfid = gfid
    this.path = path
    this.size = size
    this.#fds = fds
    this.#anon = fds.map(() => undefined)
  }

  #fdOf = (i: number): ClientFd => {
    const f = this.#fds[i]
    if (f !== undefined && f.current !== -2n) return f
    return (this.#anon[i] ??= this.#h.children[i]!.anonymous(anonInode(this.#h, this.gfid), this.path))
  }

  #check (syscall: string): void {
    if (this.closed) throw new GlusterError('EBADF', `EBADF: file handle for '${this.path}' is closed`, { path: this.path, syscall })
  }

  async write (data: Buffer, pos: number, _signal?: AbortSignal, _out?: WriteOut): Promise<number> {
    this.#check('write')
    const n = await ecWrite(this.#h, this.gfid, this.#fdOf, data, pos)
    if (pos + n > this.size) this.size = pos + n
    return n
  }

  async truncate (len: number, _signal?: AbortSignal, _out?: WriteOut): Promise<void> {
    this.#check('ftruncate')
    await ecTruncate(this.#h, this.gfid, len, async (i, fragSize) => { await this.#fdOf(i).truncate(fragSize) })
    this.size = len
  }

  async xattrop (flags: number, dict: GfxDict, o: FopCtx & { xdata?: XdataKeys } = {}): Promise<GfxDict> {
    this.#check('fxattrop')
    return await this.#h.xattropGfid(this.gfid, flags, dict, { path: this.path, ...o })
  }

  /** The post-op so far (versions, size) under the lock, then FSYNC on the bricks that have our fd. */
  async sync (): Promise<void> {
    this.#check('fsync')
    await this.#h.syncGfid(this.gfid, this.#fdOf)
  }

  /** Ends the lock cycle when this was the inode's last open fd, then FLUSH + RELEASE. */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    try {
      await this.#h.fdClosed(this)
    } finally {
      await Promise.allSettled(this.#fds.map(f => f?.close()))
    }
  }
}
