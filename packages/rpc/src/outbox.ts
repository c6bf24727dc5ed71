import type { Socket } from 'node:net'

/**
 * Write coalescing for one socket (internal). Messages queued during one tick are written
 * together on process.nextTick under cork()/uncork(), so the socket hands them to the kernel in
 * one writev. Adjacent slices of the same XdrWriter slab are merged into one view (no copy), and
 * large raw payload chunks are written as they are, never copied into a header buffer.
 */
export class Outbox {
  readonly #socket: Socket
  readonly #afterFlush: (() => void) | undefined
  readonly #onWritten: (() => void) | undefined
  #queue: Buffer[] = []
  #bytes = 0
  #scheduled = false

  /**
   * `afterFlush` runs after each scheduled flush (a server resumes work it held back);
   * `onWritten` each time the socket has handed a flush to the kernel (a server's sign that a
   * peer reads its replies).
   */
  constructor (socket: Socket, afterFlush?: () => void, onWritten?: () => void) {
    this.#socket = socket
    this.#afterFlush = afterFlush
    this.#onWritten = onWritten
  }

  /** Bytes queued and not yet handed to the socket. */
  get queuedBytes (): number { return this.#bytes }

  push (chunks: readonly Buffer[]): void {
    const q = this.#queue
    for (const c of chunks) {
      if (c.length === 0) continue
      this.#bytes += c.length
      const prev = q[q.length - 1]
      if (prev !== undefined && prev.buffer === c.buffer && prev.byteOffset + prev.length === c.byteOffset) {
        q[q.length - 1] = Buffer.from(prev.buffer, prev.byteOffset, prev.length + c.length)
      } else {
        q.push(c)
      }
    }
    if (!this.#scheduled) {
      this.#scheduled = true
      process.nextTick(this.#flushTick)
    }
  }

  readonly #flushTick = (): void => {
    this.#scheduled = false
    this.flush()
    this.#afterFlush?.()
  }

  /** Write everything queued now. Returns false when the socket asks us to wait for 'drain'. */
  flush (): boolean {
    const q = this.#queue
    if (q.length === 0) return !this.#socket.writableNeedDrain
    this.#queue = []
    this.#bytes = 0
    const s = this.#socket
    if (s.destroyed || !s.writable) return false
    const done = this.#onWritten
    if (q.length === 1) return done === undefined ? s.write(q[0]!) : s.write(q[0]!, done)
    s.cork()
    let ok = true
    const last = q.length - 1
    for (let i = 0; i < last; i++) s.write(q[i]!)
    ok = done === undefined ? s.write(q[last]!) : s.write(q[last]!, done)
    s.uncork()
    return ok
  }

  /** Drop whatever is queued (the connection is going away). */
  clear (): void {
    this.#queue = []
    this.#bytes = 0
  }
}
