// Where a kernel finds its planes. A kernel runs one XorProgram over a block of stripes held in
// a scratch memory the codec owns: input chunk j of stripe s starts at
// inBase + s·inStripe + j·inChunk, its plane p 64·p bytes further; outputs likewise. Encoding
// reads a contiguous data block and writes one region per brick; decoding the other way round.
import type { XorProgram } from './xor-program.js'

export interface KernelLayout {
  inBase: number
  inStripe: number
  inChunk: number
  outBase: number
  outStripe: number
  outChunk: number
}

export interface Kernel {
  /** the scratch memory the layout's offsets point into (the codec copies blocks in and out) */
  readonly memory: Uint8Array
  /** apply the program to `stripes` consecutive stripes of the scratch memory */
  run (stripes: number): void
}

/** Makes a kernel whose scratch holds at least `regionBytes` bytes of input and output regions. */
export type KernelFactory = (program: XorProgram, layout: KernelLayout, regionBytes: number) => Kernel

/** Bytes of one bit-plane (ec-method.h EC_METHOD_WORD_SIZE). */
export const PLANE_BYTES = 64

/** Byte offset, inside a stripe's input or output, of plane `reg & 7` of chunk `reg >> 3`. */
export const planeOffset = (reg: number, chunkStride: number): number => (reg >> 3) * chunkStride + (reg & 7) * PLANE_BYTES
