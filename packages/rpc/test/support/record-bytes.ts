// Byte builders shared by the record-marking tests (push and direct reads, unit and property).
import { frameRecord, LAST_FRAGMENT } from '@gluster-ts/rpc'

/** A record of `n` bytes whose content depends on `seed` (so records are told apart). */
export function body (n: number, seed: number): Buffer {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = (seed * 31 + i * 7) & 0xff
  return b
}

/**
 * Encode `rec` as fragments of `sizes` (the last one carries bit 31). With `cycle`, sizes repeat
 * (each clamped to 1..what is left) until the record is used up; without, they must add up.
 */
export function fragments (rec: Buffer, sizes: number[], cycle = false): Buffer {
  const out: Buffer[] = []
  let at = 0
  let i = 0
  while (at < rec.length) {
    if (!cycle && i >= sizes.length) break
    const want = sizes[i++ % Math.max(1, sizes.length)] ?? rec.length
    const n = cycle ? Math.min(Math.max(1, want), rec.length - at) : want
    const h = Buffer.alloc(4)
    h.writeUInt32BE(((at + n >= rec.length ? LAST_FRAGMENT : 0) | n) >>> 0)
    out.push(h, rec.subarray(at, at + n))
    at += n
  }
  if (at !== rec.length) throw new Error('fragment sizes do not add up')
  return Buffer.concat(out)
}

/** One record framed as one last fragment. */
export const one = (rec: Buffer): Buffer => Buffer.concat(frameRecord([rec]))

export function hexes (bufs: Buffer[]): string[] { return bufs.map(b => b.toString('hex')) }
