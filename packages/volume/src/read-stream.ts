// A Readable over READs: at most `window` READs of `chunkBytes` in flight, replies pushed in
// offset order as the slices the RPC layer decoded (no copy), new READs only when _read() asks
// (back-pressure at the caller, never by pausing the shared socket; style.md §5).
import { Readable } from 'node:stream'
import { GlusterError } from '@gluster-ts/rpc'
import { windowController } from './abort.js'

export interface ReadSource {
  /** resolve the file: its size (the stream stops there) */
  open (signal: AbortSignal): Promise<{ size: number }>
  read (offset: number, size: number, signal: AbortSignal): Promise<Buffer>
}

export interface ReadStreamOptions {
  /** first byte (default 0) */
  start?: number
  /** last byte, inclusive, like fs.createReadStream (default: end of file) */
  end?: number
  /** READ size (default 131072, what the FUSE client uses) */
  chunkBytes?: number
  /** READs in flight (default 4) */
  window?: number
  highWaterMark?: number
  signal?: AbortSignal
}

interface Slot { offset: number, size: number, data?: Buffer, err?: unknown }

export class VolumeReadStream extends Readable {
  #src: ReadSource
  #pos: number
  #end: number
  #chunk: number
  #window: number
  #queue: Slot[] = []
  #ac: AbortController
  #eof = false
  #opened = false
  /** bytes handed to consumers so far */
  bytesRead = 0

  constructor (src: ReadSource, o: ReadStreamOptions = {}) {
    super({ highWaterMark: o.highWaterMark ?? 64 * 1024, ...(o.signal !== undefined ? { signal: o.signal } : {}) })
    this.#src = src
    this.#pos = o.start ?? 0
    this.#end = o.end ?? Infinity
    this.#chunk = o.chunkBytes ?? 131072
    this.#window = Math.max(1, o.window ?? 4)
    this.#ac = windowController(this.#window)
    if (this.#pos < 0 || !Number.isSafeInteger(this.#pos)) throw new RangeError(`start must be a non-negative integer, got ${o.start}`)
    if (this.#end !== Infinity && this.#end < this.#pos - 1) throw new RangeError(`end (${o.end}) is before start (${o.start})`)
  }

  override _construct (cb: (err?: Error | null) => void): void {
    this.#src.open(this.#ac.signal).then(({ size }) => {
      this.#end = Math.min(this.#end, size - 1)
      this.#opened = true
      cb()
    }, err => cb(err as Error))
  }

  override _read (): void {
    if (!this.#opened) return
    this.#fill()
    this.#drain()
  }

  #fill (): void {
    while (!this.#eof && this.#queue.length < this.#window && this.#pos <= this.#end) {
      const size = Math.min(this.#chunk, this.#end - this.#pos + 1)
      const slot: Slot = { offset: this.#pos, size }
      this.#pos += size
      this.#queue.push(slot)
      this.#src.read(slot.offset, size, this.#ac.signal).then(d => { slot.data = d }, err => { slot.err = err ?? new Error('read failed') }).finally(() => {
        if (!this.destroyed) this.#drain()
      })
    }
    if (this.#queue.length === 0 && (this.#eof || this.#pos > this.#end)) this.push(null)
  }

  #drain (): void {
    let more = true
    while (more && this.#queue.length > 0) {
      const head = this.#queue[0]!
      if (head.err !== undefined) {
        this.destroy(head.err instanceof Error ? head.err : new GlusterError('EIO', String(head.err)))
        return
      }
      if (head.data === undefined) return
      this.#queue.shift()
      const d = head.data
      if (d.length < head.size) this.#eof = true // the file is shorter than when we looked
      if (d.length > 0) {
        this.bytesRead += d.length
        more = this.push(d)
      }
      if (this.#eof) {
        for (const s of this.#queue) s.err = undefined
        this.#queue.length = 0
        this.#ac.abort()
        this.push(null)
        return
      }
    }
    if (this.#queue.length === 0 && this.#pos > this.#end) { this.push(null); return }
    if (more) this.#fill()
  }

  override _destroy (err: Error | null, cb: (err?: Error | null) => void): void {
    this.#ac.abort()
    this.#queue.length = 0
    cb(err)
  }
}
