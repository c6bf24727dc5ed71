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

export interface RecordDecoderOptions {
  /** Largest record accepted, in bytes (sum of fragment lengths). Default 64 MiB. */
  maxRecordBytes?: number
}

/**
 * Streaming record-marking decoder: bytes in, whole records out. It has no I/O.
 *
 * - A record that lies inside one chunk (one fragment) is returned as a subarray of that chunk.
 * - A record spread over several chunks or fragments is collected as subarrays and concatenated
 *   once, when its last byte has arrived (never a quadratic re-concat).
 * - It never writes into a buffer it was given or has handed out: a READ payload decoded from a
 *   record can be kept by the user for as long as they like.
 * - A zero-length fragment, or a record larger than `maxRecordBytes`, is a protocol error
 *   (EGLUSTER_PROTOCOL / EGLUSTER_RECORD_TOO_LARGE). After an error the decoder is dead: every
 *   later push() throws the same error.
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
  #error: GlusterError | undefined

  constructor (opts: RecordDecoderOptions = {}) {
    const max = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxRecordBytes must be a positive integer, got ${max}`)
    this.maxRecordBytes = max
  }

  /** Bytes of an incomplete record (and fragment header) held so far. */
  get bufferedBytes (): number { return this.#recordBytes + this.#hdrHave }

  /** True when the decoder stands between two records (no partial header or record). */
  get idle (): boolean { return !this.#inFragment && this.#hdrHave === 0 && this.#recordBytes === 0 }

  /** The error that killed this decoder, if any. */
  get error (): GlusterError | undefined { return this.#error }

  /** Feed one chunk; returns the records it completed, in order. */
  push (chunk: Buffer): Buffer[]
  /** Feed one chunk; calls `onRecord` for each record it completes, in order. */
  push (chunk: Buffer, onRecord: (record: Buffer) => void): void
  push (chunk: Buffer, onRecord?: (record: Buffer) => void): Buffer[] | void {
    if (this.#error !== undefined) throw this.#error
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
      const piece = chunk.subarray(pos, pos + take)
      pos += take
      this.#fragLeft -= take
      this.#pieces.push(piece)
      this.#recordBytes += take
      if (this.#fragLeft === 0) {
        this.#inFragment = false
        if (this.#last) {
          const pieces = this.#pieces
          // one piece = one fragment inside one chunk: hand out a subarray, no copy
          const record = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, this.#recordBytes)
          this.#pieces = []
          this.#recordBytes = 0
          try {
            onRecord(record)
          } catch (err) {
            // the rest of this chunk is lost: the stream can't be resumed in step
            this.#error = err instanceof GlusterError ? err : protocolError('record consumer failed', {}, { cause: err })
            throw err
          }
        }
      }
    }
    return out
  }

  #startFragment (word: number): void {
    const last = (word & LAST_FRAGMENT) !== 0
    const n = word & MAX_FRAGMENT_BYTES
    if (n === 0) {
      this.#fail(protocolError(`record marking: zero-length ${last ? 'last' : 'non-last'} fragment`))
    }
    if (this.#recordBytes + n > this.maxRecordBytes) {
      this.#fail(new GlusterError('EGLUSTER_RECORD_TOO_LARGE',
        `record marking: record of at least ${this.#recordBytes + n} bytes exceeds maxRecordBytes ${this.maxRecordBytes}`))
    }
    this.#last = last
    this.#fragLeft = n
    this.#inFragment = true
  }

  #fail (err: GlusterError): never {
    this.#error = err
    this.#pieces = []
    this.#recordBytes = 0
    throw err
  }
}

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
