// createWriteStream: a Writable that gathers chunks into WRITEs of `chunkBytes` and keeps up to
// `window` of them in flight (each acknowledged by a quorum of the replica set before it
// counts). The write callback returns at once while the window has room and is held back when
// it is full: that is the backpressure. 'finish' comes after every WRITE was acknowledged, the
// AFR transaction was closed (FSYNC, post-op, unlock) and the fd FLUSHed and RELEASEd.
//
// Chunks go to the socket as they are (no copy) unless small ones must be gathered: do not
// change a buffer after writing it.
import { Writable } from 'node:stream'
import { GlusterError } from '@gluster-ts/rpc'
import type { LayerFd } from './layer.js'
import { windowController } from './abort.js'

export interface WriteStreamOptions {
  flags?: 'w' | 'wx' | 'a' | 'r+'
  /** byte offset of the first write (default 0; with 'a' the end of the file) */
  start?: number
  mode?: number
  highWaterMark?: number
  signal?: AbortSignal
}

export interface WriteSink {
  /** open (or create) the file */
  open (signal: AbortSignal): Promise<LayerFd>
  /** whether the stream closes the file at the end (false for FileHandle streams) */
  owns: boolean
}

export class VolumeWriteStream extends Writable {
  /** bytes acknowledged by the bricks */
  bytesWritten = 0
  /** the path, once open */
  path: string | undefined
  readonly #sink: WriteSink
  readonly #chunk: number
  readonly #window: number
  readonly #ac: AbortController
  #file: LayerFd | undefined
  #pos: number
  readonly #startGiven: boolean
  #gather: Buffer[] = []
  #gathered = 0
  readonly #inflight = new Set<Promise<void>>()
  #held: ((err?: Error | null) => void) | undefined
  #failed: Error | undefined

  constructor (sink: WriteSink, o: WriteStreamOptions & { chunkBytes: number, window: number }) {
    super({ highWaterMark: o.highWaterMark ?? 65536, decodeStrings: true, ...(o.signal !== undefined ? { signal: o.signal } : {}) })
    this.#sink = sink
    this.#chunk = Math.max(1, o.chunkBytes)
    this.#window = Math.max(1, o.window)
    this.#ac = windowController(this.#window)
    this.#pos = o.start ?? 0
    this.#startGiven = o.start !== undefined
    if (o.start !== undefined && (!Number.isSafeInteger(o.start) || o.start < 0)) throw new RangeError(`start must be a non-negative integer, got ${o.start}`)
  }

  override _construct (cb: (err?: Error | null) => void): void {
    this.#sink.open(this.#ac.signal).then(f => {
      this.#file = f
      this.path = f.path
      if (!this.#startGiven) this.#pos = this.#appendStart ? f.size : 0
      cb()
    }, (err: Error) => cb(err))
  }

  /** set by the opener for flag 'a' */
  #appendStart = false
  /** @internal */
  appendAtEnd (): this { this.#appendStart = true; return this }

  #issue (data: Buffer): void {
    const file = this.#file!
    const pos = this.#pos
    this.#pos += data.length
    const p: Promise<void> = file.write(data, pos, this.#ac.signal).then(n => {
      if (n !== data.length) throw new GlusterError('EIO', `EIO: short write at ${pos} of '${file.path}': ${n} of ${data.length} bytes`, { path: file.path, syscall: 'write', errno: 5 })
      this.bytesWritten += n
    }).catch((err: Error) => {
      this.#failed ??= err
    }).finally(() => {
      this.#inflight.delete(p)
      if (this.#failed === undefined) this.#pump()
      const held = this.#held
      if (held !== undefined && (this.#failed !== undefined || !this.#full())) {
        this.#held = undefined
        held(this.#failed ?? null)
      }
    })
    this.#inflight.add(p)
  }

  #take (n: number): Buffer {
    // the first n gathered bytes, as one buffer (a copy only when they span several chunks)
    const first = this.#gather[0]!
    if (first.length >= n) {
      const out = first.subarray(0, n)
      if (first.length === n) this.#gather.shift()
      else this.#gather[0] = first.subarray(n)
      this.#gathered -= n
      return out
    }
    const parts: Buffer[] = []
    let got = 0
    while (got < n) {
      const c = this.#gather[0]!
      const want = n - got
      if (c.length <= want) { parts.push(c); this.#gather.shift(); got += c.length } else { parts.push(c.subarray(0, want)); this.#gather[0] = c.subarray(want); got += want }
    }
    this.#gathered -= n
    return Buffer.concat(parts, n)
  }

  /** Issue WRITEs of chunkBytes while the window has room. */
  #pump (): void {
    while (this.#gathered >= this.#chunk && this.#inflight.size < this.#window) this.#issue(this.#take(this.#chunk))
  }

  /** No room for more: a whole chunk waits, or the window is full. */
  #full (): boolean { return this.#gathered >= this.#chunk || this.#inflight.size >= this.#window }

  override _write (chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.#failed !== undefined) { cb(this.#failed); return }
    this.#gather.push(chunk)
    this.#gathered += chunk.length
    this.#pump()
    if (this.#full()) this.#held = cb
    else cb()
  }

  override _final (cb: (err?: Error | null) => void): void {
    void (async () => {
      // _final runs once the last write's callback came: whole chunks are out, only a tail is left
      while (this.#inflight.size > 0) await Promise.all([...this.#inflight])
      if (this.#gathered > 0 && this.#failed === undefined) this.#issue(this.#take(this.#gathered))
      while (this.#inflight.size > 0) await Promise.all([...this.#inflight])
      if (this.#failed !== undefined) throw this.#failed
      if (this.#sink.owns) await this.#file!.close()
      else await this.#file!.sync()
    })().then(() => cb(), (err: Error) => cb(err))
  }

  override _destroy (err: Error | null, cb: (err?: Error | null) => void): void {
    this.#ac.abort()
    const held = this.#held
    this.#held = undefined
    held?.(err ?? new GlusterError('ABORT_ERR', 'write stream destroyed'))
    const f = this.#file
    void (async () => {
      if (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight])
      if (f !== undefined && this.#sink.owns) await f.close().catch(() => {})
    })().then(() => cb(err))
  }
}
