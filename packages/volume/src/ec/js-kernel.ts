// The portable kernel: runs an XorProgram with 32-bit XORs over an ArrayBuffer. Used where
// WebAssembly SIMD is missing, and by the tests as a second, independent executor.
import { PLANE_BYTES, planeOffset, type Kernel, type KernelLayout } from './kernel.js'
import type { XorProgram } from './xor-program.js'

const W = PLANE_BYTES / 4 // 32-bit words per plane

/**
 * The kernel owns its scratch: `regionBytes` of regions, then the temporaries. Temporary slots
 * are reused once a value is dead, and an op whose result is an output plane stores it at
 * once, so only live values take room.
 */
export function jsKernel (program: XorProgram, layout: KernelLayout, regionBytes: number): Kernel {
  const plan = planTemps(program)
  const tempBase = Math.ceil(regionBytes / PLANE_BYTES) * PLANE_BYTES
  const memory = new ArrayBuffer(tempBase + plan.slots * PLANE_BYTES)
  const m = new Int32Array(memory)
  const nIn = program.inputs * 8
  const nOps = program.ops.length / 2
  const srcOff = new Int32Array(nOps * 2)
  const srcIsIn = new Uint8Array(nOps * 2)
  const dst = new Int32Array(nOps)
  const where = (reg: number): number => reg < nIn ? planeOffset(reg, layout.inChunk) / 4 : (tempBase / 4) + plan.slot[reg - nIn]! * W
  for (let i = 0; i < nOps * 2; i++) {
    const reg = program.ops[i]!
    srcIsIn[i] = reg < nIn ? 1 : 0
    srcOff[i] = where(reg)
  }
  for (let t = 0; t < nOps; t++) dst[t] = where(nIn + t)
  // stores of output planes: right after the op that defines them, or at the end for planes
  // that are an input plane (a copy) or zero
  const storeAt: number[][] = Array.from({ length: nOps }, () => [])
  const endStores: Array<[number, number]> = []
  program.out.forEach((reg, plane) => {
    const to = planeOffset(plane, layout.outChunk) / 4
    if (reg >= nIn) storeAt[reg - nIn]!.push(to)
    else endStores.push([reg < 0 ? -1 : planeOffset(reg, layout.inChunk) / 4, to])
  })
  const inStripe = layout.inStripe / 4
  const outStripe = layout.outStripe / 4
  return {
    memory: new Uint8Array(memory),
    run (stripes: number): void {
      let inW = layout.inBase / 4
      let outW = layout.outBase / 4
      for (let s = 0; s < stripes; s++, inW += inStripe, outW += outStripe) {
        for (let t = 0; t < nOps; t++) {
          const a = srcIsIn[2 * t] === 1 ? inW + srcOff[2 * t]! : srcOff[2 * t]!
          const b = srcIsIn[2 * t + 1] === 1 ? inW + srcOff[2 * t + 1]! : srcOff[2 * t + 1]!
          const d = dst[t]!
          for (let w = 0; w < W; w++) m[d + w] = m[a + w]! ^ m[b + w]!
          for (const to of storeAt[t]!) m.copyWithin(outW + to, d, d + W)
        }
        for (const [from, to] of endStores) {
          if (from < 0) m.fill(0, outW + to, outW + to + W)
          else m.copyWithin(outW + to, inW + from, inW + from + W)
        }
      }
    },
  }
}

/** Linear-scan slot assignment: a temporary's slot is free after its last use as an operand. */
function planTemps (program: XorProgram): { slot: Int32Array, slots: number } {
  const nIn = program.inputs * 8
  const nOps = program.ops.length / 2
  const lastUse = new Int32Array(nOps).fill(-1)
  for (let t = 0; t < nOps; t++) {
    for (const reg of [program.ops[2 * t]!, program.ops[2 * t + 1]!]) if (reg >= nIn) lastUse[reg - nIn] = t
  }
  const slot = new Int32Array(nOps)
  const free: number[] = []
  let slots = 0
  for (let t = 0; t < nOps; t++) {
    // the operands' slots are released after this op is computed (d may equal neither: the
    // XOR reads both before writing, so reusing an operand's slot for d would also be safe,
    // but a distinct slot keeps the loop alias-free)
    slot[t] = free.length > 0 ? free.pop()! : slots++
    for (const reg of new Set([program.ops[2 * t]!, program.ops[2 * t + 1]!])) {
      if (reg >= nIn && lastUse[reg - nIn] === t) free.push(slot[reg - nIn]!)
    }
    if (lastUse[t] === -1) free.push(slot[t]!) // only an output: stored right away
  }
  return { slot, slots }
}
