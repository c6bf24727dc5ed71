// File space ↔ fragment space (gluster-disperse.md §1, §5.3, §6): a stripe of S = 512·k user
// bytes is one 512-byte chunk on every brick, so brick offsets and sizes are whole chunks and a
// write that does not cover whole stripes first reads the partial head and tail stripes.
// Pure arithmetic; offsets are numbers (exact up to 2^53 bytes).
import { GlusterError } from '@gluster-ts/rpc'
import { EC_CHUNK_BYTES } from './matrix.js'

const stripeOf = (k: number): number => EC_CHUNK_BYTES * k

function checkRange (what: string, ...values: number[]): void {
  for (const v of values) {
    if (!Number.isSafeInteger(v) || v < 0) throw new GlusterError('EINVAL', `disperse ${what}: ${v} is not a byte offset or length`)
  }
}

/** Size of every brick's fragment file for a file of `size` bytes: ⌈size/S⌉·512. */
export function fragmentFileSize (size: number, k: number): number {
  checkRange('size', size)
  return Math.ceil(size / stripeOf(k)) * EC_CHUNK_BYTES
}

export interface ReadPlan {
  /** brick READ offset and size, the same on each of the k bricks read */
  fragOffset: number
  fragSize: number
  /** decoded bytes to skip before the first requested byte */
  head: number
  /** bytes the read returns: min(length, size − offset), 0 at or past EOF */
  length: number
}

/**
 * A user read of `length` bytes at `offset` of a file of `size` bytes
 * (ec-inode-read.c:ec_manager_readv, ec_readv_rebuild).
 */
export function planRead (offset: number, length: number, size: number, k: number): ReadPlan {
  checkRange('read', offset, length, size)
  const S = stripeOf(k)
  const head = offset % S
  const first = offset - head
  return {
    fragOffset: first / k,
    fragSize: Math.ceil((head + length) / S) * EC_CHUNK_BYTES,
    head,
    length: Math.max(0, Math.min(length, size - offset)),
  }
}

export interface StripeRead {
  /** file offset of the stripe; read S user bytes there (one 512-byte brick READ at fragOffset) */
  offset: number
  fragOffset: number
}

export interface WritePlan {
  /** file offset of the first stripe written (offset − head) */
  stripeOffset: number
  /** user bytes before the write in its first stripe, and padding after it in its last */
  head: number
  tail: number
  /** stripes written, and the bytes encoded: stripes·S = head + length + tail */
  stripes: number
  bufferBytes: number
  /** the brick WRITE: offset and size, on every good brick */
  fragOffset: number
  fragSize: number
  /** partial stripes to read first; a single-stripe write reads its stripe once, as `head` */
  readHead: StripeRead | null
  readTail: StripeRead | null
  /** logical size after the write */
  newSize: number
}

/**
 * How ec writes `length` bytes at `offset` of a file of `size` bytes
 * (ec-inode-write.c:ec_writev_prepare_buffers, ec_writev_start): the head stripe is read when
 * the file reaches into it, the tail stripe when the file extends past the write; what the
 * reads do not cover is zero.
 */
export function planWrite (offset: number, length: number, size: number, k: number): WritePlan {
  checkRange('write', offset, length, size)
  const S = stripeOf(k)
  const head = offset % S
  const stripeOffset = offset - head
  const bufferBytes = Math.ceil((head + length) / S) * S
  const stripes = bufferBytes / S
  const tail = bufferBytes - head - length
  const end = offset + length
  const readHead = head > 0 && size > stripeOffset ? { offset: stripeOffset, fragOffset: stripeOffset / k } : null
  const lastStripe = stripeOffset + bufferBytes - S
  const readTail = tail > 0 && (head === 0 || stripes > 1) && size > end
    ? { offset: lastStripe, fragOffset: lastStripe / k }
    : null
  return {
    stripeOffset, head, tail, stripes, bufferBytes,
    fragOffset: stripeOffset / k, fragSize: stripes * EC_CHUNK_BYTES,
    readHead, readTail, newSize: Math.max(size, end),
  }
}

/**
 * The whole stripes to encode for a write: the head stripe's bytes before the write, the data,
 * the tail stripe's bytes after it, zeros elsewhere (ec_writev_merge_head/_merge_tail).
 * `headStripe`/`tailStripe` are what the planned reads returned (decoded user bytes of that
 * stripe, possibly short at EOF); for a single-stripe write the head read serves both ends.
 */
export function assembleWrite (plan: WritePlan, data: Uint8Array, headStripe?: Uint8Array | null, tailStripe?: Uint8Array | null): Buffer {
  if (data.length !== plan.bufferBytes - plan.head - plan.tail) throw new GlusterError('EINVAL', `disperse write: ${data.length} bytes for a plan of ${plan.bufferBytes - plan.head - plan.tail}`)
  const buf = Buffer.alloc(plan.bufferBytes)
  const S = plan.bufferBytes / Math.max(plan.stripes, 1)
  const end = plan.head + data.length
  if (plan.readHead !== null && headStripe != null) {
    buf.set(headStripe.subarray(0, Math.min(plan.head, headStripe.length)), 0)
    if (plan.stripes === 1 && plan.tail > 0 && headStripe.length > end) buf.set(headStripe.subarray(end, S), end)
  }
  if (plan.readTail !== null && tailStripe != null) {
    const base = plan.bufferBytes - S // the tail stripe's position in the buffer
    if (tailStripe.length > end - base) buf.set(tailStripe.subarray(end - base, S), end)
  }
  buf.set(data, plan.head)
  return buf
}

/** What `returned` bytes per brick WRITE mean to the caller: min(op_ret·k − head, length). */
export function writtenBytes (plan: WritePlan, fragBytesWritten: number, k: number): number {
  return Math.max(0, Math.min(fragBytesWritten * k - plan.head, plan.bufferBytes - plan.head - plan.tail))
}

export interface TruncatePlan {
  /** the brick TRUNCATE: ⌈size/S⌉·512 */
  fragSize: number
  /** when shrinking into the middle of a stripe: zeros written from the new EOF to the stripe end */
  zeroFill: { offset: number, length: number } | null
}

/**
 * Truncate to `newSize` a file of `size` bytes (ec-inode-write.c:ec_manager_truncate,
 * ec_update_truncate_write): bricks are cut at the stripe boundary above the new size, and a
 * shrink that ends inside a stripe rewrites the rest of that stripe with zeros, so bytes past
 * EOF are always zero.
 */
export function planTruncate (newSize: number, size: number, k: number): TruncatePlan {
  checkRange('truncate', newSize, size)
  const S = stripeOf(k)
  const up = Math.ceil(newSize / S) * S
  return {
    fragSize: up / k,
    zeroFill: size > newSize && up !== newSize ? { offset: newSize, length: up - newSize } : null,
  }
}
