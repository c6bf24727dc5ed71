import { GlusterError, protocolError } from './errors.js'
import type { XdrWriter } from './xdr/writer.js'

/**
 * RFC 5531 §11 record marking. Each fragment is preceded by a u32 big-endian word: bit 31 says
 * "last fragment of the record", bits 0-30 give the fragment length. GlusterFS always sends a
 * message as ONE fragment with bit 31 set (captures: 0 non-last fragments in 5 pcaps), but reads
 * multi-fragment records, so we do too.
 */
export const LAST_FRAGMENT = 0x80000000
/** The largest fragment the 31-bit length can describe. */
export const MAX_FRAGMENT_BYTES = 0x7fffffff

/**
 * Default cap on one record (all fragments together, headers excluded). GlusterFS tears a
 * connection down at 1 GiB; we choose 64 MiB, which is far above anything a GlusterFS peer sends
 * (the largest record in our captures is a 128 KiB READ reply + 196 bytes; GETSPEC volfiles are
 * kilobytes) and keeps a hostile length word from making us buffer a gigabyte.
 */
export const DEFAULT_MAX_RECORD_BYTES = 64 * 1024 * 1024

/** Default size of the buffer socket reads land in (readBuffer()), between large records. */
export const DEFAULT_READ_BUFFER_BYTES = 64 * 1024
/**
 * Default for how much of a large record's buffer is allocated as soon as its header arrives.
 * A record larger than this gets a buffer of this size that doubles as bytes arrive, so a
 * hostile 4-byte header can make us allocate at most this much before sending anything more.
 */
export const DEFAULT_EAGER_RECORD_BYTES = 4 * 1024 * 1024
/**
 * push(): what an unfinished record may pin. A piece of it at least this long that is at least
 * half of the chunk it came in is kept as a view of that chunk (no copy: a WRITE's payload
 * arriving in 64 KiB socket reads); anything else is copied, so a peer trickling a record in
 * tiny TCP segments (each its own chunk: a Buffer object and a backing store per byte or two)
 * or in one-byte fragments, or a record starting at the end of a chunk full of earlier records,
 * costs us about the bytes it sent, not hundreds of times that.
 */
const VIEW_PIECE_BYTES = 4096
/** push(): small pieces are copied into blocks of up to this size (smaller while the record is). */
const SMALL_BLOCK_BYTES = 16 * 1024
/** After a large record, the next read is at most this long (it holds the next record's header). */
const READ_AFTER_LARGE_BYTES = 4096
/** readBuffer() starts a fresh read buffer when less than this is free in the current one. */
const MIN_FREE_READ_BYTES = 2048

export interface RecordDecoderOptions {
  /** Largest record accepted, in bytes (sum of fragment lengths). Default 64 MiB. */
  maxRecordBytes?: number
  /**
   * Direct reads (readBuffer()/commit()): size of the shared buffer small records are read into.
   * A one-fragment record larger than a quarter of it that does not fit gets a buffer of its own.
   * Default 64 KiB.
   */
  readBufferBytes?: number
  /** Direct reads: see DEFAULT_EAGER_RECORD_BYTES. Default 4 MiB. */
  eagerRecordBytes?: number
  /**
   * Direct reads: where a large record's tail goes. Called once when a one-fragment record that
   * is read in place begins, with the bytes of it read so far (`head`, at least 4) and its
   * length. Return undefined to read it into a buffer of its own as usual, or `{ headBytes,
   * into }` to split it: the first `headBytes` (all already in `head`) are kept in a small
   * buffer of their own and every later byte is read into `into` (which must hold
   * `total - headBytes`), so the kernel writes them where the caller wants them. The record is
   * then delivered as `onRecord(headBuffer, tail)` with `tail` a subarray of `into`.
   */
  place?: (head: Buffer, total: number) => RecordPlacement | undefined
}

/** Where place() puts a large record (see RecordDecoderOptions.place). */
export interface RecordPlacement {
  headBytes: number
  into: Buffer
}

/** A record consumer: `tail` is set only for records split by a place() hook. */
export type RecordHandler = (record: Buffer, tail?: Buffer) => void

/**
 * Streaming record-marking decoder: bytes in, whole records out. It has no I/O.
 *
 * - A record that lies inside one chunk (one fragment) is returned as a subarray of that chunk.
 * - A record spread over several chunks or fragments is collected and concatenated once, when
 *   its last byte has arrived (never a quadratic re-concat). Large pieces are kept as views of
 *   their chunks, small ones copied into blocks of the decoder's own (VIEW_PIECE_BYTES): what
 *   an unfinished record holds grows with the bytes received, never with the length its header
 *   declares, and `bufferedBytes` says how much that is.
 * - It never writes into a buffer it was given or has handed out: a READ payload decoded from a
 *   record can be kept by the user for as long as they like.
 * - A zero-length fragment, or a record larger than `maxRecordBytes`, is a protocol error
 *   (EGLUSTER_PROTOCOL / EGLUSTER_RECORD_TOO_LARGE). After an error the decoder is dead: every
 *   later push() throws the same error.
 *
 * Direct reads (for `net.connect({ onread })`, what RpcClient.connect uses): instead of push(),
 * ask readBuffer() where the socket should put its next bytes and report how many it put there
 * with commit(). Small records are read into a shared read buffer and handed out as subarrays of
 * it (the decoder only ever writes into the part of it nobody has seen). Once a record's header
 * says it is large (more than a quarter of the read buffer, and it does not fit in what is
 * left), the decoder allocates one buffer for the whole record, copies the few bytes already
 * read, and hands the socket the rest of that buffer: the kernel writes a READ payload straight
 * into the Buffer the caller receives, with no reassembly copy. Multi-fragment records (which
 * GlusterFS does not send) are collected as subarrays and concatenated once. A decoder is used
 * with push() or with readBuffer()/commit(), never both. With a place() hook (see
 * RecordDecoderOptions), a large record's tail is read into a buffer the caller chose.
 */
export class RecordDecoder {
  readonly maxRecordBytes: number
  /** Partial fragment header (a header split across chunks). */
  readonly #hdr = Buffer.alloc(4)
  #hdrHave = 0
  /** True while reading a fragment body. */
  #inFragment = false
  #last = false
  #fragLeft = 0
  /** Pieces of the record being assembled, and their total length. */
  #pieces: Buffer[] = []
  #recordBytes = 0
  /** push(): the block small pieces are copied into; [#smallStart, #smallEnd) is not yet a piece. */
  #small: Buffer | undefined
  #smallStart = 0
  #smallEnd = 0
  #error: GlusterError | undefined

  // ---- direct reads (readBuffer/commit) ----
  readonly #readBufferBytes: number
  readonly #eagerRecordBytes: number
  #mode: 'none' | 'push' | 'direct' = 'none'
  /** Where small records are read; bytes below #end were filled by the socket. */
  #scratch: Buffer | undefined
  /** First byte of #scratch not yet consumed (a partial header or one-fragment record starts here). */
  #start = 0
  #end = 0
  /** True once a subarray of #scratch has been handed out (it can't be rewound then). */
  #exposed = false
  /** The large record being read straight into its own buffer, its final size and bytes filled. */
  #rec: Buffer | undefined
  #recTotal = 0
  #recHave = 0
  /** The last read completed a large record: keep the next read short. */
  #afterLarge = false
  /** A split record (place()): its first bytes; #rec is then the caller's buffer for the rest. */
  #recHead: Buffer | undefined
  readonly #place: ((head: Buffer, total: number) => RecordPlacement | undefined) | undefined
  /** Bytes of an abandoned split record still to be read and thrown away (unplace()). */
  #skipLeft = 0
  /** The buffer readBuffer() last returned (commit() checks against its length). */
  #lent = 0

  constructor (opts: RecordDecoderOptions = {}) {
    const max = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxRecordBytes must be a positive integer, got ${max}`)
    this.maxRecordBytes = max
    const rb = opts.readBufferBytes ?? DEFAULT_READ_BUFFER_BYTES
    if (!Number.isInteger(rb) || rb < 16) throw new RangeError(`readBufferBytes must be an integer >= 16, got ${rb}`)
    this.#readBufferBytes = rb
    const eager = opts.eagerRecordBytes ?? DEFAULT_EAGER_RECORD_BYTES
    if (!Number.isInteger(eager) || eager < 1) throw new RangeError(`eagerRecordBytes must be a positive integer, got ${eager}`)
    this.#eagerRecordBytes = eager
    this.#place = opts.place
  }

  /** True while a record split by place() is being read into the caller's buffer. */
  get placing (): boolean { return this.#recHead !== undefined }

  /**
   * Stop writing into the buffer place() chose: the rest of the record being read into it is
   * read and thrown away, and it is not delivered. For a caller that no longer wants the reply
   * (its call timed out or was aborted) and may reuse the buffer at once. No-op when not placing.
   */
  unplace (): void {
    if (this.#recHead === undefined) return
    this.#skipLeft = this.#recTotal - this.#recHave
    this.#recHead = undefined
    this.#rec = undefined
    this.#recHave = this.#recTotal = 0
    if (this.#skipLeft === 0) this.#afterLarge = true
  }

  /** Bytes of an incomplete record (and fragment header) held so far. */
  get bufferedBytes (): number { return this.#recordBytes + this.#hdrHave + (this.#end - this.#start) + this.#recHave + this.#skipLeft }

  /** True when the decoder stands between two records (no partial header or record). */
  get idle (): boolean { return !this.#inFragment && this.bufferedBytes === 0 && this.#fragLeft === 0 }

  /** The error that killed this decoder, if any. */
  get error (): GlusterError | undefined { return this.#error }

  /** Feed one chunk; returns the records it completed, in order. */
  push (chunk: Buffer): Buffer[]
  /** Feed one chunk; calls `onRecord` for each record it completes, in order. */
  push (chunk: Buffer, onRecord: (record: Buffer) => void): void
  push (chunk: Buffer, onRecord?: (record: Buffer) => void): Buffer[] | void {
    if (this.#error !== undefined) throw this.#error
    if (this.#mode === 'direct') throw new Error('RecordDecoder: push() on a decoder used with readBuffer()/commit()')
    this.#mode = 'push'
    let out: Buffer[] | undefined
    if (onRecord === undefined) {
      const list: Buffer[] = []
      out = list
      onRecord = r => { list.push(r) }
    }
    const len = chunk.length
    let pos = 0
    while (pos < len) {
      if (!this.#inFragment) {
        let word: number
        if (this.#hdrHave === 0 && len - pos >= 4) {
          word = chunk.readUInt32BE(pos)
          pos += 4
        } else {
          const take = Math.min(4 - this.#hdrHave, len - pos)
          chunk.copy(this.#hdr, this.#hdrHave, pos, pos + take)
          this.#hdrHave += take
          pos += take
          if (this.#hdrHave < 4) break
          this.#hdrHave = 0
          word = this.#hdr.readUInt32BE(0)
        }
        this.#startFragment(word)
      }
      const take = Math.min(this.#fragLeft, len - pos)
      if (take > 0) {
        this.#fragLeft -= take
        if (this.#fragLeft === 0 && this.#last && this.#recordBytes === 0) {
          // one fragment inside one chunk: hand out a subarray, no copy
          const record = chunk.subarray(pos, pos + take)
          pos += take
          this.#inFragment = false
          this.#deliver(record, onRecord)
          continue
        }
        this.#hold(chunk, pos, take)
        pos += take
      }
      if (this.#fragLeft === 0) {
        this.#inFragment = false
        if (this.#last) this.#deliver(this.#assemble(), onRecord)
      }
    }
    return out
  }

  /** push(): keep `n` bytes of `chunk` from `at` as part of the record being assembled. */
  #hold (chunk: Buffer, at: number, n: number): void {
    this.#recordBytes += n
    if (n >= VIEW_PIECE_BYTES) {
      this.#seal()
      if (2 * n >= chunk.buffer.byteLength) {
        this.#pieces.push(chunk.subarray(at, at + n))
      } else {
        // a view would pin the rest of its chunk (earlier records' bytes) while we wait
        const own = Buffer.allocUnsafeSlow(n)
        chunk.copy(own, 0, at, at + n)
        this.#pieces.push(own)
      }
      return
    }
    let s = this.#small
    if (s === undefined || s.length - this.#smallEnd < n) {
      this.#seal()
      // blocks grow with the record (at least 256 bytes, at most SMALL_BLOCK_BYTES)
      s = this.#small = Buffer.allocUnsafeSlow(Math.max(n, Math.min(SMALL_BLOCK_BYTES, Math.max(256, 2 * this.#recordBytes))))
      this.#smallStart = this.#smallEnd = 0
    }
    chunk.copy(s, this.#smallEnd, at, at + n)
    this.#smallEnd += n
  }

  /** push(): make the small bytes copied so far a piece (the block is never written there again). */
  #seal (): void {
    if (this.#smallEnd === this.#smallStart) return
    this.#pieces.push(this.#small!.subarray(this.#smallStart, this.#smallEnd))
    this.#smallStart = this.#smallEnd
  }

  /** push(): the finished record, from its pieces (concatenated once). */
  #assemble (): Buffer {
    this.#seal()
    const pieces = this.#pieces
    const record = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, this.#recordBytes)
    this.#pieces = []
    this.#recordBytes = 0
    this.#small = undefined
    this.#smallStart = this.#smallEnd = 0
    return record
  }

  /**
   * Direct reads: the buffer the socket should fill next (for `onread.buffer`). It is either the
   * unseen tail of the shared read buffer or the unfilled rest of a large record's own buffer,
   * never a byte that was handed out. Call commit() with the number of bytes read into it before
   * asking again. Throws the decoder's error once it is dead.
   */
  readBuffer (): Buffer {
    if (this.#error !== undefined) throw this.#error
    if (this.#mode === 'push') throw new Error('RecordDecoder: readBuffer() on a decoder used with push()')
    this.#mode = 'direct'
    let view: Buffer
    const rec = this.#rec
    if (this.#skipLeft > 0) {
      const junk = (discardBuffer ??= Buffer.allocUnsafeSlow(DEFAULT_READ_BUFFER_BYTES))
      view = junk.subarray(0, Math.min(junk.length, this.#skipLeft))
    } else if (rec !== undefined) {
      if (this.#recHead !== undefined) {
        // never past the record: the caller's buffer may be longer than the reply
        view = rec.subarray(this.#recHave, this.#recTotal)
      } else if (this.#recHave === rec.length) {
        // a record above eagerRecordBytes: its buffer grows as its bytes arrive
        const grown = Buffer.allocUnsafeSlow(Math.min(this.#recTotal, rec.length * 2))
        rec.copy(grown, 0, 0, this.#recHave)
        this.#rec = grown
        view = grown.subarray(this.#recHave)
      } else {
        view = rec.subarray(this.#recHave)
      }
    } else {
      let s = this.#scratch
      const partial = this.#end - this.#start
      if (s !== undefined && partial === 0 && !this.#exposed) {
        this.#start = this.#end = 0 // nobody saw any of it: reuse it from the start
      }
      // room the next read needs: a one-fragment record whose header is in must stay contiguous
      let need = Math.min(MIN_FREE_READ_BYTES, this.#readBufferBytes >> 2)
      if (s !== undefined && this.#fragLeft === 0 && partial >= 4) {
        need = Math.max(need, 4 + (s.readUInt32BE(this.#start) & MAX_FRAGMENT_BYTES) - partial)
      }
      if (s === undefined || s.length - this.#end < need) {
        const fresh = Buffer.allocUnsafeSlow(Math.max(this.#readBufferBytes, partial + need))
        if (s !== undefined) s.copy(fresh, 0, this.#start, this.#end)
        this.#scratch = s = fresh
        this.#start = 0
        this.#end = partial
        this.#exposed = false
      }
      view = s.subarray(this.#end)
      if (this.#afterLarge && view.length > READ_AFTER_LARGE_BYTES) view = view.subarray(0, READ_AFTER_LARGE_BYTES)
    }
    this.#lent = view.length
    return view
  }

  /**
   * Direct reads: the socket put `n` bytes at the start of the buffer readBuffer() last returned.
   * Calls `onRecord` for each record completed, in order; throws (and the decoder is dead) on a
   * framing error, as push() does.
   */
  commit (n: number, onRecord: RecordHandler): void {
    if (this.#error !== undefined) throw this.#error
    if (this.#mode !== 'direct') throw new Error('RecordDecoder: commit() before readBuffer()')
    if (!Number.isInteger(n) || n < 0 || n > this.#lent) throw new RangeError(`commit: ${n} bytes read into a buffer of ${this.#lent}`)
    this.#lent = 0
    if (this.#skipLeft > 0) {
      this.#skipLeft -= n
      if (this.#skipLeft === 0) this.#afterLarge = true
      return
    }
    const rec = this.#rec
    if (rec !== undefined) {
      this.#recHave += n
      if (this.#recHave === this.#recTotal) {
        const head = this.#recHead
        const total = this.#recTotal
        this.#rec = this.#recHead = undefined
        this.#recHave = this.#recTotal = 0
        this.#afterLarge = true
        if (head !== undefined) this.#deliver(head, onRecord, rec.subarray(0, total))
        else this.#deliver(rec, onRecord)
      }
      return
    }
    this.#end += n
    if (n > 0) this.#afterLarge = false
    this.#parseScratch(onRecord)
  }

  #parseScratch (onRecord: RecordHandler): void {
    const s = this.#scratch!
    for (;;) {
      if (this.#fragLeft > 0) {
        // inside a fragment of a multi-fragment record: collect subarrays
        const take = Math.min(this.#fragLeft, this.#end - this.#start)
        if (take === 0) return
        this.#pieces.push(s.subarray(this.#start, this.#start + take))
        this.#exposed = true
        this.#start += take
        this.#recordBytes += take
        this.#fragLeft -= take
        if (this.#fragLeft === 0 && this.#last) {
          const record = Buffer.concat(this.#pieces, this.#recordBytes)
          this.#pieces = []
          this.#recordBytes = 0
          this.#deliver(record, onRecord)
        }
        continue
      }
      const avail = this.#end - this.#start
      if (avail < 4) return
      const word = s.readUInt32BE(this.#start)
      const n = this.#checkFragment(word)
      const last = (word & LAST_FRAGMENT) !== 0
      if (!last || this.#pieces.length > 0) {
        this.#start += 4
        this.#last = last
        this.#fragLeft = n
        continue
      }
      const at = this.#start + 4
      if (avail - 4 >= n) {
        this.#start = at + n
        this.#exposed = true
        this.#deliver(s.subarray(at, at + n), onRecord)
        continue
      }
      // an incomplete one-fragment record: keep reading into the read buffer while it fits
      // (or while it is small: readBuffer() moves it to a fresh one), else give it its own buffer
      if (s.length - at >= n || n <= this.#readBufferBytes >> 2) return
      const have = this.#end - at
      if (this.#place !== undefined && this.#placeRecord(s.subarray(at, this.#end), n)) {
        this.#start = this.#end
        return
      }
      const rec = Buffer.allocUnsafeSlow(Math.min(n, Math.max(this.#eagerRecordBytes, 2 * have)))
      s.copy(rec, 0, at, this.#end)
      this.#rec = rec
      this.#recTotal = n
      this.#recHave = have
      this.#start = this.#end
      return
    }
  }

  /** Ask place() where a large record goes; true when it took it (#rec is the caller's buffer). */
  #placeRecord (head: Buffer, total: number): boolean {
    let p: RecordPlacement | undefined
    try {
      p = this.#place!(head, total)
    } catch {
      return false
    }
    if (p === undefined) return false
    const { headBytes, into } = p
    if (!Number.isInteger(headBytes) || headBytes < 1 || headBytes > head.length || into.length < total - headBytes) return false
    this.#recHead = Buffer.from(head.subarray(0, headBytes))
    const have = head.copy(into, 0, headBytes)
    this.#rec = into
    this.#recHave = have
    this.#recTotal = total - headBytes
    return true
  }

  #deliver (record: Buffer, onRecord: RecordHandler, tail?: Buffer): void {
    try {
      if (tail !== undefined) onRecord(record, tail)
      else onRecord(record)
    } catch (err) {
      // the rest of this chunk is lost: the stream can't be resumed in step
      this.#error = err instanceof GlusterError ? err : protocolError('record consumer failed', {}, { cause: err })
      throw err
    }
  }

  /** Validates a fragment header against the record so far; returns the fragment length. */
  #checkFragment (word: number): number {
    const last = (word & LAST_FRAGMENT) !== 0
    const n = word & MAX_FRAGMENT_BYTES
    if (n === 0) {
      this.#fail(protocolError(`record marking: zero-length ${last ? 'last' : 'non-last'} fragment`))
    }
    if (this.#recordBytes + n > this.maxRecordBytes) {
      this.#fail(new GlusterError('EGLUSTER_RECORD_TOO_LARGE',
        `record marking: record of at least ${this.#recordBytes + n} bytes exceeds maxRecordBytes ${this.maxRecordBytes}`))
    }
    return n
  }

  #startFragment (word: number): void {
    this.#fragLeft = this.#checkFragment(word)
    this.#last = (word & LAST_FRAGMENT) !== 0
    this.#inFragment = true
  }

  #fail (err: GlusterError): never {
    this.#error = err
    this.#pieces = []
    this.#recordBytes = 0
    this.#small = undefined
    this.#smallStart = this.#smallEnd = 0
    this.#scratch = undefined
    this.#rec = this.#recHead = undefined
    this.#start = this.#end = this.#recHave = this.#recTotal = this.#skipLeft = 0
    throw err
  }
}

/** Where abandoned bytes are read (unplace()); nobody reads it. */
let discardBuffer: Buffer | undefined

/** The record-marking word of a one-fragment record of `n` bytes. */
export function recordMark (n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_FRAGMENT_BYTES) {
    throw new RangeError(`record marking: a record must be 1..${MAX_FRAGMENT_BYTES} bytes, got ${n}`)
  }
  return (LAST_FRAGMENT | n) >>> 0
}

/**
 * Frame a message as one last fragment, as GlusterFS sends it: returns a new 4-byte header
 * followed by the chunks themselves (never copied).
 */
export function frameRecord (chunks: readonly Buffer[]): Buffer[] {
  let n = 0
  for (const c of chunks) n += c.length
  const h = Buffer.allocUnsafe(4)
  h.writeUInt32BE(recordMark(n), 0)
  return [h, ...chunks]
}

/**
 * Start a framed message in `w`: reserves the record-marking word so that finishRecord() can
 * fill it in without allocating a separate header. Must be the first thing written.
 */
export function beginRecord (w: XdrWriter): void {
  if (w.length !== 0) throw new Error('beginRecord: the writer already holds part of a message')
  w.u32(0)
}

/**
 * Finish a message started with beginRecord(): returns its chunks (header first, large raw
 * payloads as their own chunks) with the record-marking word filled in.
 */
export function finishRecord (w: XdrWriter): Buffer[] {
  const chunks = w.finishChunks()
  let n = 0
  for (const c of chunks) n += c.length
  // chunks[0] is the writer's slab slice holding our reserved word; nobody else has seen it yet
  chunks[0]!.writeUInt32BE(recordMark(n - 4), 0)
  return chunks
}
