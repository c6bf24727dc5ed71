// The fast kernel: each XorProgram becomes a WebAssembly function of straight-line 128-bit XORs
// (the SIMD proposal, in Node since V8 9.1), compiled from bytes this file writes. GlusterFS
// does the same with x86 machine code (ec-code.c:ec_code_build_dynamic); a WebAssembly
// module is the portable equivalent. No third-party binary and no build step: the module
// bytes are generated here, at run time, from the program.
//
// The function processes one block: for each stripe, four 16-byte lanes of every 64-byte
// plane; within a lane the program runs with every value in a v128 local (V8's optimizing
// tier allocates registers), input planes loaded at first use, output planes stored as soon as
// they are computed. Offsets of planes are constants in the load/store instructions.
import { PLANE_BYTES, planeOffset, type Kernel, type KernelLayout } from './kernel.js'
import type { XorProgram } from './xor-program.js'

const I32 = 0x7f
const V128 = 0x7b
const OP = {
  block: 0x02, loop: 0x03, end: 0x0b, br: 0x0c, brIf: 0x0d,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Const: 0x41, i32Eqz: 0x45, i32Add: 0x6a, i32Sub: 0x6b,
  simd: 0xfd,
} as const
const SIMD = { load: 0x00, store: 0x0b, const: 0x0c, xor: 0x51 } as const
const LANES = PLANE_BYTES / 16

/** The part of the WebAssembly JS API used here (typed locally: @types/node 20 has none). */
export interface WasmMemory { readonly buffer: ArrayBuffer }
interface WasmApi {
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> }
  Memory: new (descriptor: { initial: number }) => WasmMemory
  validate: (bytes: Uint8Array) => boolean
}
const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly

/** A memory for the kernels of one codec: `bytes` rounded up to whole 64 KiB pages. */
export function wasmMemory (bytes: number): WasmMemory {
  if (wasm === undefined) throw new Error('no WebAssembly in this runtime')
  return new wasm.Memory({ initial: Math.ceil(bytes / 65536) })
}

function uleb (out: number[], v: number): void {
  do {
    let b = v & 0x7f
    v >>>= 7
    if (v !== 0) b |= 0x80
    out.push(b)
  } while (v !== 0)
}

function sleb (out: number[], v: number): void {
  for (;;) {
    const b = v & 0x7f
    v >>= 7
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) { out.push(b); return }
    out.push(b | 0x80)
  }
}

function section (out: number[], id: number, body: number[]): void {
  out.push(id)
  uleb(out, body.length)
  for (const b of body) out.push(b)
}

function name (out: number[], s: string): void {
  uleb(out, s.length)
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i))
}

/** The body of `run(stripes)`: local 0 = stripes, 1 = in pointer, 2 = out pointer, 3 = lane. */
function functionBody (program: XorProgram, layout: KernelLayout): number[] {
  const nIn = program.inputs * 8
  const nOps = program.ops.length / 2
  const firstV128 = 4
  const local = (reg: number): number => firstV128 + reg // one v128 local per register
  const code: number[] = []
  const c = (...bytes: number[]): void => { for (const b of bytes) code.push(b) }
  const i32 = (v: number): void => { c(OP.i32Const); sleb(code, v) }
  const memarg = (offset: number): void => { c(4); uleb(code, offset) } // align 2^4
  const loaded = new Uint8Array(nIn)
  const get = (reg: number): void => {
    if (reg < nIn && loaded[reg] === 0) {
      loaded[reg] = 1
      c(OP.localGet, 1, OP.simd, SIMD.load); memarg(planeOffset(reg, layout.inChunk))
      c(OP.localTee); uleb(code, local(reg))
    } else {
      c(OP.localGet); uleb(code, local(reg))
    }
  }
  const store = (plane: number, emitValue: () => void): void => {
    c(OP.localGet, 2); emitValue(); c(OP.simd, SIMD.store); memarg(planeOffset(plane, layout.outChunk))
  }
  const storesAfter: number[][] = Array.from({ length: nOps }, () => [])
  const endStores: number[] = []
  program.out.forEach((reg, plane) => { if (reg >= nIn) storesAfter[reg - nIn]!.push(plane); else endStores.push(plane) })

  i32(layout.inBase); c(OP.localSet, 1)
  i32(layout.outBase); c(OP.localSet, 2)
  c(OP.block, 0x40, OP.loop, 0x40)
  c(OP.localGet, 0, OP.i32Eqz, OP.brIf, 1)
  i32(LANES); c(OP.localSet, 3)
  c(OP.loop, 0x40)
  for (let t = 0; t < nOps; t++) {
    get(program.ops[2 * t]!)
    get(program.ops[2 * t + 1]!)
    c(OP.simd, SIMD.xor, OP.localSet); uleb(code, local(nIn + t))
    for (const plane of storesAfter[t]!) store(plane, () => { c(OP.localGet); uleb(code, local(nIn + t)) })
  }
  for (const plane of endStores) {
    const reg = program.out[plane]!
    store(plane, () => {
      if (reg < 0) { c(OP.simd, SIMD.const); for (let i = 0; i < 16; i++) c(0) } else get(reg)
    })
  }
  c(OP.localGet, 1); i32(16); c(OP.i32Add, OP.localSet, 1)
  c(OP.localGet, 2); i32(16); c(OP.i32Add, OP.localSet, 2)
  c(OP.localGet, 3); i32(1); c(OP.i32Sub, OP.localTee, 3, OP.brIf, 0)
  c(OP.end)
  c(OP.localGet, 1); i32(layout.inStripe - PLANE_BYTES); c(OP.i32Add, OP.localSet, 1)
  c(OP.localGet, 2); i32(layout.outStripe - PLANE_BYTES); c(OP.i32Add, OP.localSet, 2)
  c(OP.localGet, 0); i32(1); c(OP.i32Sub, OP.localSet, 0)
  c(OP.br, 0, OP.end, OP.end, OP.end)

  const body: number[] = []
  uleb(body, 2) // local declarations: 3 × i32, then the v128 registers
  uleb(body, 3); body.push(I32)
  uleb(body, nIn + nOps); body.push(V128)
  for (const b of code) body.push(b)
  return body
}

/** The module: imports memory `e.m` (at least `pages` pages), exports `run(i32)`. */
export function kernelModuleBytes (program: XorProgram, layout: KernelLayout, pages: number): Uint8Array {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]
  section(out, 1, [1, 0x60, 1, I32, 0]) // one type: (i32) -> ()
  const imp: number[] = [1]
  name(imp, 'e'); name(imp, 'm'); imp.push(0x02, 0x00); uleb(imp, pages)
  section(out, 2, imp)
  section(out, 3, [1, 0])
  const exp: number[] = [1]
  name(exp, 'run'); exp.push(0x00, 0)
  section(out, 7, exp)
  const body = functionBody(program, layout)
  const code: number[] = [1]
  uleb(code, body.length)
  for (const b of body) code.push(b)
  section(out, 10, code)
  return Uint8Array.from(out)
}

export function wasmKernel (program: XorProgram, layout: KernelLayout, memory: WasmMemory): Kernel {
  if (wasm === undefined) throw new Error('no WebAssembly in this runtime')
  const pages = memory.buffer.byteLength / 65536
  const mod = new wasm.Module(kernelModuleBytes(program, layout, pages))
  const inst = new wasm.Instance(mod, { e: { m: memory } })
  const run = inst.exports['run'] as (stripes: number) => void
  return { memory: new Uint8Array(memory.buffer), run }
}

let simdSupported: boolean | undefined

/** Whether this runtime validates a module using 128-bit SIMD (checked once). */
export function wasmSimdSupported (): boolean {
  if (simdSupported === undefined) {
    try {
      const probe = kernelModuleBytes({ inputs: 1, outputs: 1, ops: new Int32Array([0, 1]), out: new Int32Array([8, 1, 2, 3, 4, 5, 6, 7]) },
        { inBase: 0, inStripe: 512, inChunk: 512, outBase: 512, outStripe: 512, outChunk: 512 }, 1)
      simdSupported = wasm !== undefined && wasm.validate(probe)
    } catch {
      simdSupported = false
    }
  }
  return simdSupported === true
}
