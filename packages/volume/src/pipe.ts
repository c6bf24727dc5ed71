// Copy a byte range of a file into a Writable through a small ring of buffers: READs are read by
// the kernel straight into the ring's buffers (rpc's `into`), written to the destination in
// order, and a buffer is reused once the destination calls back for it. Nothing is allocated
// per READ, so memory stays flat whatever the file size (no garbage for V8 to catch up with).
import type { Writable } from 'node:stream'
import { windowController } from './abort.js'
import { GlusterError } from '@gluster-ts/rpc'

export interface PipeToOptions {
  /** first byte (default 0) */
  start?: number
  /** last byte, inclusive, like createReadStream (default: end of file) */
  end?: number
  signal?: AbortSignal
  /**
   * Called once, just before the first chunk is written (after the first READ came back): an
   * HTTP gateway sends its status line there, so an unreadable file still gets an error status.
   */
  onStart?: () => void
  /** Called after each chunk is handed to the destination, with the bytes written so far. */
  onProgress?: (bytes: number) => void
  /** READs in flight (default: the volume's readWindow) */
  window?: number
  /**
   * Where the buffers come from: a pool shared by many copies (an HTTP gateway's downloads)
   * bounds their memory together, however many run. Its `chunkBytes` is the READ size. Default:
   * a pool of this copy's own, `window + 1` buffers of the volume's readChunkBytes.
   */
  pool?: ReadBufferPool
}

/**
 * Buffers for pipeTo, shared by the copies given it: at most `maxBytes` of `chunkBytes` buffers,
 * allocated as needed and reused. A copy that holds none gets one even past the cap (so every
 * copy moves), and it is dropped, not kept, when it comes back while the pool is over its cap.
 */
export class ReadBufferPool {
  readonly chunkBytes: number
  readonly maxBytes: number
  #free: Buffer[] = []
  #allocated = 0

  constructor (chunkBytes: number, maxBytes: number) {
    if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) throw new RangeError(`chunkBytes must be a positive integer, got ${chunkBytes}`)
    if (!(maxBytes >= chunkBytes)) throw new RangeError(`maxBytes (${maxBytes}) must hold at least one chunk of ${chunkBytes}`)
    this.chunkBytes = chunkBytes
    this.maxBytes = maxBytes
  }

  /** Bytes of buffers that exist (in use or free). */
  get allocatedBytes (): number { return this.#allocated * this.chunkBytes }

  /** A buffer, or undefined when the pool is at its cap (unless `force`). */
  take (force = false): Buffer | undefined {
    const b = this.#free.pop()
    if (b !== undefined) return b
    if (!force && (this.#allocated + 1) * this.chunkBytes > this.maxBytes) return undefined
    this.#allocated++
    return Buffer.allocUnsafeSlow(this.chunkBytes)
  }

  /** Forget a buffer that will not come back (a destination that failed may still hold it). */
  drop (): void { this.#allocated-- }

  /** Give a buffer back (nobody may touch it any more). */
  give (b: Buffer): void {
    if (this.#allocated * this.chunkBytes > this.maxBytes) this.#allocated-- // over the cap: let it go
    else this.#free.push(b)
  }
}

export interface PipeSource {
  /** size of the file (the copy stops there) */
  size: number
  /** one READ of `size` bytes at `offset` whose data lands in `into` (returns a view of it) */
  read (offset: number, size: number, into: Buffer, signal: AbortSignal): Promise<Buffer>
}

interface Slot { offset: number, size: number, buf: Buffer, data?: Buffer, err?: unknown }

/** The part of Writable pipeTo uses: a destination that is done with a chunk when it calls back. */
export type PipeDestination = Pick<Writable, 'write' | 'on' | 'once' | 'removeListener'> & { destroyed?: boolean, writableNeedDrain?: boolean }

/**
 * Copy [start, end] of `src` into `dest`, `window` READs of `chunkBytes` in flight, in order,
 * respecting `dest`'s backpressure. `dest` must be done with a chunk when it calls back for it
 * (sockets, files, HTTP responses and process.stdout are; a Transform that keeps chunks is not:
 * give it createReadStream instead). `dest` is not ended. Resolves with the bytes written;
 * rejects with the READ's error, the destination's error (or EPIPE when it closes first), or the
 * abort reason. Every READ still out is aborted before it settles, so no buffer is written
 * after it returns.
 */
export async function pipeReads (src: PipeSource, dest: PipeDestination, o: PipeToOptions & { chunkBytes: number, window: number }): Promise<number> {
  const start = o.start ?? 0
  if (!Number.isSafeInteger(start) || start < 0) throw new RangeError(`start must be a non-negative integer, got ${o.start}`)
  const last = Math.min(o.end ?? Infinity, src.size - 1)
  if (o.end !== undefined && o.end < start - 1) throw new RangeError(`end (${o.end}) is before start (${o.start})`)
  if (o.signal?.aborted === true) throw o.signal.reason
  const window = Math.max(1, o.window)
  // window READs in flight plus the one written but not yet called back for (the destination
  // calls back before it asks to be drained, so a second one is rare: it waits for a buffer)
  const pool = o.pool ?? new ReadBufferPool(Math.max(1, o.chunkBytes), (window + 1) * Math.max(1, o.chunkBytes))
  const chunk = pool.chunkBytes
  const ac = windowController(window)
  /** buffers of the pool this copy holds (READ in flight, waiting, or being written) */
  let held = 0
  // One buffer that came back is kept for this copy's next READ instead of going back to the
  // pool: when the pool is at its cap, a copy would otherwise give back its only buffer (dropped:
  // the pool is over its cap) and allocate a new one (it holds none) for every chunk, and V8
  // frees such garbage only after tens of MiB of it (50 downloads through one gateway: ~40 MiB).
  let spare: Buffer | undefined
  const give = (b: Buffer): void => {
    held--
    if (spare === undefined) spare = b
    else pool.give(b)
  }
  const take = (): Buffer | undefined => {
    const b = spare ?? pool.take(held === 0)
    spare = undefined
    if (b !== undefined) held++
    return b
  }
  const queue: Slot[] = []
  let pos = start
  let eof = pos > last
  let written = 0
  let needDrain = false
  let failure: unknown
  let wake: (() => void) | undefined
  const wait = (): Promise<void> => new Promise(resolve => { wake = resolve })
  const kick = (): void => { const w = wake; wake = undefined; w?.() }
  const fail = (err: unknown): void => {
    if (failure === undefined) failure = err ?? new GlusterError('EIO', 'read failed')
    kick()
  }
  const onAbort = (): void => { fail(o.signal!.reason) }
  const onError = (err: Error): void => { fail(err) }
  const onClose = (): void => { fail(new GlusterError('EPIPE', 'EPIPE: the destination closed before the copy finished', { syscall: 'write' })) }
  const onDrain = (): void => { needDrain = false; kick() }
  o.signal?.addEventListener('abort', onAbort, { once: true })
  dest.on('error', onError)
  dest.on('close', onClose)
  dest.on('drain', onDrain)
  try {
    if (dest.destroyed === true) onClose()
    for (;;) {
      if (failure !== undefined) throw failure
      while (!eof && queue.length < window && pos <= last) {
        const buf = take()
        if (buf === undefined) break // the pool is at its cap: wait for one of ours to come back
        const size = Math.min(chunk, last - pos + 1)
        const slot: Slot = { offset: pos, size, buf }
        pos += size
        queue.push(slot)
        src.read(slot.offset, size, buf.subarray(0, size), ac.signal).then(d => { slot.data = d; kick() }, (err: unknown) => {
          slot.err = err ?? new GlusterError('EIO', 'read failed')
          kick()
        })
      }
      const head = queue[0]
      if (head === undefined) {
        if (eof || pos > last) break
        await wait() // the pool is at its cap and none of ours is free yet: one comes back soon
        continue
      }
      if ((head.data === undefined && head.err === undefined) || needDrain) { await wait(); continue }
      if (head.err !== undefined) throw head.err
      queue.shift()
      const d = head.data!
      if (d.length < head.size) {
        // the file is shorter than when we looked: stop here, drop the READs after this one
        eof = true
        ac.abort()
        for (const s of queue) give(s.buf)
        queue.length = 0
      }
      const buf = head.buf
      if (d.length === 0) { give(buf); continue }
      if (written === 0) o.onStart?.()
      written += d.length
      if (!dest.write(d, (err?: Error | null) => {
        if (err == null) { give(buf); kick(); return }
        held--
        pool.drop()
        fail(err)
      })) needDrain = true
      o.onProgress?.(written)
    }
    // every chunk called back: the caller may end the destination or reuse it at once
    while (failure === undefined && held > 0) await wait()
    if (failure !== undefined) throw failure
    return written
  } finally {
    ac.abort() // READs still out stop writing into our buffers before we return
    // (synchronously: rpc takes its buffer back from the socket), so their buffers can go back
    for (const s of queue) give(s.buf)
    queue.length = 0
    if (spare !== undefined) pool.give(spare)
    spare = undefined
    o.signal?.removeEventListener('abort', onAbort)
    dest.removeListener('error', onError)
    dest.removeListener('close', onClose)
    dest.removeListener('drain', onDrain)
  }
}
