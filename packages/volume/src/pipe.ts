// Copy a byte range of a file into a Writable through a small ring of buffers: READs are read by
// the kernel straight into the ring's buffers (rpc's `into`), written to the destination in
// order, and a buffer is reused once the destination calls back for it. Nothing is allocated
// per READ, so memory stays flat whatever the file size (no garbage for V8 to catch up with).
import type { Writable } from 'node:stream'
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
}

export interface PipeSource {
  /** size of the file (the copy stops there) */
  size: number
  /** one READ of `size` bytes at `offset` whose data lands in `into` (returns a view of it) */
  read (offset: number, size: number, into: Buffer, signal: AbortSignal): Promise<Buffer>
}

interface Slot { offset: number, size: number, buf: Buffer, data?: Buffer, err?: unknown, done: boolean }

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
  const chunk = Math.max(1, o.chunkBytes)
  const window = Math.max(1, o.window)
  const ac = new AbortController()
  const free: Buffer[] = []
  let allocated = 0
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
  // window READs in flight plus the one written but not yet called back for (the destination
  // calls back before it asks to be drained, so a second one is rare: it waits for a buffer)
  const limit = window + 1
  try {
    if (dest.destroyed === true) onClose()
    for (;;) {
      if (failure !== undefined) throw failure
      while (!eof && queue.length < window && pos <= last && (free.length > 0 || allocated < limit)) {
        const size = Math.min(chunk, last - pos + 1)
        const buf = free.pop() ?? (allocated++, Buffer.allocUnsafeSlow(chunk))
        const slot: Slot = { offset: pos, size, buf, done: false }
        pos += size
        queue.push(slot)
        src.read(slot.offset, size, buf.subarray(0, size), ac.signal).then(d => { slot.data = d }, (err: unknown) => { slot.err = err ?? new Error('read failed') })
          .finally(() => { slot.done = true; kick() })
      }
      const head = queue[0]
      if (head === undefined) break
      if (!head.done || needDrain) { await wait(); continue }
      if (head.err !== undefined) throw head.err
      queue.shift()
      const d = head.data!
      if (d.length < head.size) {
        // the file is shorter than when we looked: stop here, drop the READs after this one
        eof = true
        ac.abort()
        for (const s of queue) free.push(s.buf)
        queue.length = 0
      }
      const buf = head.buf
      if (d.length === 0) { free.push(buf); continue }
      if (written === 0) o.onStart?.()
      written += d.length
      if (!dest.write(d, (err?: Error | null) => { if (err != null) fail(err); else { free.push(buf); kick() } })) needDrain = true
      o.onProgress?.(written)
    }
    // every chunk called back: the caller may end the destination or reuse it at once
    while (failure === undefined && free.length < allocated) await wait()
    if (failure !== undefined) throw failure
    return written
  } finally {
    ac.abort() // READs still out stop writing into our buffers before we return
    o.signal?.removeEventListener('abort', onAbort)
    dest.removeListener('error', onError)
    dest.removeListener('close', onClose)
    dest.removeListener('drain', onDrain)
  }
}
