import type { Codec } from '../xdr/codec.js'

/**
 * One procedure of an RPC program: its number and the codecs of its arguments and result.
 * The same definition drives the client (encode args, decode result) and the server
 * (decode args, encode result), so every struct exists exactly once.
 */
export interface Proc<A = any, R = any> {
  readonly name: string
  readonly num: number
  readonly args: Codec<A>
  readonly res: Codec<R>
  /** Set when the peer never replies (GlusterFS callbacks: FETCHSPEC, upcalls). */
  readonly oneway?: boolean
  /**
   * Set when a call may wait for another call (a lock request that blocks until an unlock,
   * possibly one sent later on the same connection). An RpcServer does not count such calls
   * toward its outstanding-call limit, as GlusterFS's rpcsvc exempts INODELK, FINODELK, ENTRYLK,
   * FENTRYLK and LK: see RpcServerOptions.maxParkedPerConnection.
   */
  readonly blocking?: boolean
}

export type ProcArgs<P> = P extends Proc<infer A, any> ? A : never
export type ProcRes<P> = P extends Proc<any, infer R> ? R : never

export interface Program<P extends Record<string, Proc> = Record<string, Proc>> {
  readonly name: string
  readonly prog: number
  readonly vers: number
  readonly procs: P
  /** procedure number → procedure */
  readonly byNum: ReadonlyMap<number, Proc>
  /** The program back-reference each proc carries (set by defineProgram). */
}

type ProcSpec<A, R> = { num: number, args: Codec<A>, res: Codec<R>, oneway?: boolean, blocking?: boolean }
type ProcsOf<S extends Record<string, ProcSpec<any, any>>> = {
  readonly [K in keyof S]: S[K] extends ProcSpec<infer A, infer R> ? Proc<A, R> & { readonly program: ProgramRef } : never
}

export interface ProgramRef { readonly name: string, readonly prog: number, readonly vers: number }

export function defineProgram<S extends Record<string, ProcSpec<any, any>>> (def: {
  name: string, prog: number, vers: number, procs: S,
}): Program<ProcsOf<S>> {
  const ref: ProgramRef = Object.freeze({ name: def.name, prog: def.prog, vers: def.vers })
  const procs: Record<string, Proc & { program: ProgramRef }> = {}
  const byNum = new Map<number, Proc>()
  for (const [name, spec] of Object.entries(def.procs)) {
    if (byNum.has(spec.num)) throw new Error(`${def.name}: procedure number ${spec.num} used twice`)
    const proc = Object.freeze({ name, num: spec.num, args: spec.args, res: spec.res, oneway: spec.oneway ?? false, blocking: spec.blocking ?? false, program: ref })
    procs[name] = proc
    byNum.set(spec.num, proc)
  }
  return Object.freeze({ name: def.name, prog: def.prog, vers: def.vers, procs: Object.freeze(procs) as ProcsOf<S>, byNum })
}
