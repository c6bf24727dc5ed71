// cluster/replicate, read side (gluster-cluster.md §3): LOOKUP every usable child with the AFR
// pending xattrs, work out which copies are readable, read from the one read-hash-mode picks,
// fail over on error, hedge a read that is late, and give EIO on split brain. A pure distribute
// volume's bare protocol/client leaf runs as a replica set of one.
import {
  FopProgram, GlusterError, gfxDict, gfxUint, toGlusterError, GF_ANON_FD,
  type GfxDict, type GfxIattx, type GfxValue, type BoundProc,
} from '@gluster-ts/rpc'
import { BrickClient } from './brick.js'
import { computeReadable, localChild, readSet, selectChild, type ChildReply } from './afr-policy.js'
import type { ReplicateSpec } from './graph.js'
import { gfidString } from './stats.js'
import { replicaFailoverChannel, type ReplicaFailoverEvent } from './diagnostics.js'

export interface ReadTiming {
  /** start a second copy of a read that has not answered after this long, ms (0: never) */
  hedgeAfterMs: number
  /** how long a LOOKUP waits for the last children once enough have answered, ms */
  stragglerMs: number
  /** per-attempt deadline of one fop on one brick, ms */
  attemptTimeoutMs: number
}

export interface LookupReply {
  child: number
  op_ret: number
  op_errno: number
  xdata: GfxDict
  stat: GfxIattx
  parent: GfxIattx
}

export interface ReplicaLookup {
  /** the reply of the child we take attributes from */
  stat: GfxIattx
  xdata: GfxDict
  /** which children hold a good copy (the AFR read set) */
  readable: boolean[]
  /** every child's answer (undefined: not asked or did not answer in time) */
  replies: Array<LookupReply | undefined>
  child: number
}

export interface CallCtx {
  signal?: AbortSignal
  path?: string
}

const ENOENT = 2
const ESTALE = 116
const S_IFMT = 0o170000

/** Errors where another copy may do better. */
function shouldFailOver (err: unknown): boolean {
  if (!(err instanceof GlusterError)) return true
  return !['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'EPERM', 'ENAMETOOLONG', 'ELOOP', 'EINVAL', 'ENODATA', 'ABORT_ERR', 'ERANGE'].includes(String(err.code))
}

function abortErr (signal: AbortSignal): unknown {
  if (signal.reason !== undefined) return signal.reason
  const e = new GlusterError('ABORT_ERR', 'The operation was aborted')
  e.name = 'AbortError'
  return e
}

export class Replicate {
  readonly spec: ReplicateSpec
  readonly name: string
  readonly children: BrickClient[]
  readonly timing: ReadTiming
  /** choose-local / read-subvolume child; -1 when none */
  readChild: number

  constructor (spec: ReplicateSpec, children: BrickClient[], timing: ReadTiming) {
    this.spec = spec
    this.name = spec.name
    this.children = children
    this.timing = timing
    // read-subvolume-index first; else choose-local (on by default, as in AFR)
    this.readChild = spec.readSubvolumeIndex >= 0
      ? spec.readSubvolumeIndex
      : spec.chooseLocal && spec.children.length > 1 ? localChild(spec.children.map(c => c.host)) : -1
  }

  get upCount (): number { return this.children.filter(c => c.up).length }

  #quorumError (syscall: string, path: string | undefined): GlusterError {
    const up = this.children.filter(c => c.up).map(c => c.label)
    return new GlusterError('EGLUSTER_NO_QUORUM',
      `${syscall}${path !== undefined ? ` '${path}'` : ''}: replica set ${this.name} has ${up.length} of ${this.children.length} bricks up, needs ${this.spec.quorumCount}` +
      (this.children.some(c => c.lastError !== undefined) ? ` (${this.children.filter(c => !c.up).map(c => `${c.label}: ${c.lastError?.message ?? 'down'}`).join('; ')})` : ''),
      { syscall, ...(path !== undefined ? { path } : {}) })
  }

  /** The xattr keys AFR asks every child for in a LOOKUP (§3.1). */
  afrXdata (extra?: Record<string, GfxValue>): Map<string, GfxValue> {
    const d: Record<string, GfxValue> = {}
    if (this.children.length > 1) {
      for (const k of this.spec.pendingXattrs) d[`trusted.afr.${k}`] = gfxUint(12)
      d['trusted.afr.dirty'] = gfxUint(12)
      d['glusterfs.inodelk-count'] = gfxUint(0)
    }
    return gfxDict({ ...d, ...extra })
  }

  /**
   * LOOKUP on every usable child, wait for all of them or, once a quorum has answered, at most
   * stragglerMs more; children that miss it are suspected (probed, then avoided while slow).
   */
  async lookup (args: { pargfid?: Buffer, name?: string, gfid?: Buffer, extra?: Record<string, GfxValue> }, ctx: CallCtx = {}): Promise<ReplicaLookup> {
    const n = this.children.length
    const need = Math.max(1, this.spec.quorumCount)
    const ask = this.children.map((c, i) => ({ c, i })).filter(x => x.c.usable)
    // slow children are still asked when without them there is no quorum
    if (ask.length < need) for (const x of this.children.map((c, i) => ({ c, i }))) if (x.c.up && !x.c.usable) ask.push(x)
    if (ask.length < need) throw this.#quorumError('lookup', ctx.path)
    const xdata = this.afrXdata(args.extra)
    const req = {
      gfid: args.gfid ?? Buffer.alloc(16),
      pargfid: args.pargfid ?? Buffer.alloc(16),
      flags: 0,
      bname: args.name ?? '',
      xdata,
    }
    const replies: Array<LookupReply | undefined> = new Array(n).fill(undefined)
    const errors: Array<unknown> = new Array(n).fill(undefined)
    const ac = new AbortController()
    const signal = ctx.signal !== undefined ? AbortSignal.any([ctx.signal, ac.signal]) : ac.signal
    let answered = 0
    await new Promise<void>((resolve, reject) => {
      let straggle: NodeJS.Timeout | undefined
      let overall: NodeJS.Timeout | undefined
      let settled = false
      const finish = (): void => {
        if (settled) return
        settled = true
        if (straggle !== undefined) clearTimeout(straggle)
        if (overall !== undefined) clearTimeout(overall)
        ctx.signal?.removeEventListener('abort', onAbort)
        resolve()
      }
      const onAbort = (): void => {
        if (settled) return
        settled = true
        if (straggle !== undefined) clearTimeout(straggle)
        if (overall !== undefined) clearTimeout(overall)
        reject(abortErr(ctx.signal!))
      }
      if (ctx.signal?.aborted === true) { onAbort(); return }
      ctx.signal?.addEventListener('abort', onAbort, { once: true })
      overall = setTimeout(finish, this.timing.attemptTimeoutMs)
      const ok = (): number => replies.filter(r => r !== undefined).length
      for (const { c, i } of ask) {
        c.call(FopProgram.procs.LOOKUP, req, { signal, timeoutMs: this.timing.attemptTimeoutMs }).then(r => {
          replies[i] = { child: i, op_ret: r.op_ret, op_errno: r.op_errno, xdata: r.xdata, stat: r.prestat, parent: r.poststat }
        }, err => { errors[i] = err }).finally(() => {
          answered++
          if (answered === ask.length) { finish(); return }
          if (straggle === undefined && ok() >= need && this.timing.stragglerMs > 0) straggle = setTimeout(finish, this.timing.stragglerMs)
        })
      }
    })
    ac.abort() // stragglers' calls are dropped (their replies would be ignored anyway)
    for (const { c, i } of ask) if (replies[i] === undefined && errors[i] === undefined) c.suspect()
    const got = replies.filter((r): r is LookupReply => r !== undefined)
    if (got.length === 0) {
      const first = errors.find(e => e !== undefined)
      if (first !== undefined) throw first
      throw new GlusterError('ETIMEDOUT', `lookup${ctx.path !== undefined ? ` '${ctx.path}'` : ''}: no brick of ${this.name} answered within ${this.timing.attemptTimeoutMs} ms`, { syscall: 'lookup', ...(ctx.path !== undefined ? { path: ctx.path } : {}) })
    }
    const found = got.filter(r => r.op_ret >= 0)
    if (found.length === 0) {
      // every answer was an error: prefer ENOENT, as AFR does when the entry is simply missing
      const r = got.find(x => x.op_errno === ENOENT) ?? got.find(x => x.op_errno === ESTALE) ?? got[0]!
      throw toGlusterError(r.op_errno, { syscall: 'lookup', ...(ctx.path !== undefined ? { path: ctx.path } : {}), brick: this.children[r.child]!.label })
    }
    if (got.length < need) throw this.#quorumError('lookup', ctx.path)
    const childReplies: ChildReply[] = replies.map(r => {
      if (r === undefined || r.op_ret < 0) return { ok: false }
      const type = r.stat.mode & S_IFMT
      return { ok: true, isDir: type === 0o040000, isFile: type === 0o100000, size: r.stat.ia_size, xdata: r.xdata }
    })
    // a gfid that differs from the majority's: leave that copy out
    const gfids = new Map<string, number>()
    for (const r of found) gfids.set(r.stat.ia_gfid.toString('hex'), (gfids.get(r.stat.ia_gfid.toString('hex')) ?? 0) + 1)
    if (gfids.size > 1) {
      const best = [...gfids].sort((a, b) => b[1] - a[1])[0]![0]
      replies.forEach((r, i) => { if (r !== undefined && r.op_ret >= 0 && r.stat.ia_gfid.toString('hex') !== best) childReplies[i] = { ok: false } })
    }
    const readable = readSet(computeReadable(childReplies, this.spec.pendingXattrs.map(k => `trusted.afr.${k}`), this.spec.arbiterCount))
    if (!readable.some(Boolean)) {
      const e = new GlusterError('EIO', `EIO: '${ctx.path ?? gfidString(found[0]!.stat.ia_gfid)}' is in split brain in ${this.name}: no copy is readable (the bricks' AFR pending xattrs accuse each other)`,
        { syscall: 'lookup', errno: 5, ...(ctx.path !== undefined ? { path: ctx.path } : {}) })
      Object.assign(e, { splitBrain: true, replicaSet: this.name })
      throw e
    }
    const pick = this.#select(readable, found[0]!.stat.ia_gfid, (found[0]!.stat.mode & S_IFMT) === 0o040000)
    const chosen = replies[pick]!
    return { stat: chosen.stat, xdata: chosen.xdata, readable, replies, child: pick }
  }

  #select (readable: boolean[], gfid: Buffer, isDir: boolean, exclude?: Set<number>): number {
    const usable = readable.map((r, i) => r && this.children[i]!.usable && exclude?.has(i) !== true)
    let set = usable
    if (!set.some(Boolean)) set = readable.map((r, i) => r && this.children[i]!.up && exclude?.has(i) !== true)
    return selectChild(set, {
      readHashMode: this.spec.readHashMode,
      readChild: this.readChild,
      gfid,
      isDir,
      load: this.children.map(c => c.inflight),
    })
  }

  /**
   * Run an inode fop on the readable copy AFR would pick, failing over to the others on error
   * or disconnect, and hedging: when the first attempt has not answered after hedgeAfterMs, the
   * next readable copy is tried too and the first answer wins (the loser is aborted).
   */
  async readOp<R> (
    syscall: string,
    gfid: Buffer,
    readable: boolean[],
    call: (brick: BrickClient, signal: AbortSignal, timeoutMs: number, alone: boolean) => Promise<R>,
    ctx: CallCtx & { isDir?: boolean, hedge?: boolean } = {},
  ): Promise<{ res: R, child: number }> {
    const tried = new Set<number>()
    let lastErr: unknown
    const extra = { syscall, ...(ctx.path !== undefined ? { path: ctx.path } : {}) }
    if (ctx.signal?.aborted === true) throw abortErr(ctx.signal)
    return await new Promise((resolve, reject) => {
      const running = new Map<number, AbortController>()
      const order = new Map<number, number>()
      let hedgeTimer: NodeJS.Timeout | undefined
      let done = false
      const finish = (err: unknown, v?: { res: R, child: number }): void => {
        if (done) return
        done = true
        if (hedgeTimer !== undefined) clearTimeout(hedgeTimer)
        ctx.signal?.removeEventListener('abort', onAbort)
        for (const ac of running.values()) ac.abort()
        running.clear()
        if (err !== undefined) reject(err)
        else resolve(v!)
      }
      const onAbort = (): void => finish(abortErr(ctx.signal!))
      ctx.signal?.addEventListener('abort', onAbort, { once: true })
      let last = -1
      const launch = (why?: { reason: 'error' | 'hedge', from: number, error?: unknown }): boolean => {
        const i = this.#select(readable, gfid, ctx.isDir === true, tried)
        if (i < 0) return false
        if (why !== undefined && replicaFailoverChannel.hasSubscribers) {
          replicaFailoverChannel.publish({
            replicate: this.name, syscall, gfid: gfidString(gfid), path: ctx.path, reason: why.reason,
            from: why.from, fromBrick: this.children[why.from]!.label, to: i, toBrick: this.children[i]!.label, error: why.error,
          } satisfies ReplicaFailoverEvent)
        }
        last = i
        tried.add(i)
        order.set(i, tried.size)
        const brick = this.children[i]!
        const ac = new AbortController()
        const alone = running.size === 0
        running.set(i, ac)
        brick.inflight++
        // finish() aborts every attempt's controller when the caller's signal fires, so the
        // attempt needs only its own signal: AbortSignal.any per READ costs GC time (each
        // dependent signal stays registered on a long-lived parent, e.g. a stream's, until GC)
        call(brick, ac.signal, this.timing.attemptTimeoutMs, alone).then(res => {
          // a raw reply carries its status; a layer's result came back only on success
          const rr = res as { op_ret?: number, op_errno?: number } | undefined
          if (rr?.op_ret !== undefined && rr.op_ret < 0) throw toGlusterError(rr.op_errno ?? 5, { ...extra, brick: brick.label })
          running.delete(i)
          // an earlier attempt that is still running lost the race: if it does not answer a
          // probe, avoid it (attempts launched after this one simply had no time)
          for (const j of running.keys()) if ((order.get(j) ?? 0) < (order.get(i) ?? 0)) this.children[j]!.suspect()
          finish(undefined, { res, child: i })
        }).catch((err: unknown) => {
          if (done || ac.signal.aborted) return
          running.delete(i)
          lastErr = err
          if (err instanceof GlusterError && (err.code === 'EGLUSTER_TIMEOUT' || err.code === 'ETIMEDOUT')) brick.suspect()
          if (!shouldFailOver(err)) { finish(err); return }
          if (running.size > 0) return // a hedge is still out
          if (!launch({ reason: 'error', from: i, error: err })) finish(lastErr ?? this.#quorumError(syscall, ctx.path))
        }).finally(() => { brick.inflight-- })
        if (ctx.hedge !== false && this.timing.hedgeAfterMs > 0) {
          if (hedgeTimer !== undefined) clearTimeout(hedgeTimer)
          hedgeTimer = setTimeout(() => {
            hedgeTimer = undefined
            if (!done) launch({ reason: 'hedge', from: last })
          }, this.timing.hedgeAfterMs)
        }
        return true
      }
      if (!launch()) {
        finish(new GlusterError('ENOTCONN', `${syscall}${ctx.path !== undefined ? ` '${ctx.path}'` : ''}: no readable copy of ${gfidString(gfid)} is on a connected brick of ${this.name}`, extra))
      }
    })
  }

  /**
   * READ through an anonymous fd (-2): no OPEN/FLUSH/RELEASE, nothing to re-open after a reconnect.
   * With `into`, an attempt that runs alone has its payload read straight into it (a hedge racing
   * another attempt never does: two replies must not write the same buffer); the caller copies
   * when the data it gets is not in `into`.
   */
  read (gfid: Buffer, offset: number, size: number, readable: boolean[], ctx: CallCtx & { into?: Buffer } = {}): Promise<{ res: { op_ret: number, op_errno: number, data: Buffer, stat: GfxIattx }, child: number }> {
    const into = ctx.into
    return this.readOp('read', gfid, readable, (b, signal, timeoutMs, alone) =>
      b.call(FopProgram.procs.READ, { gfid, fd: GF_ANON_FD, offset: BigInt(offset), size, flag: 0o100000, xdata: null },
        into !== undefined && alone ? { signal, timeoutMs, into } : { signal, timeoutMs }), ctx)
  }

  /** A fop on one specific child (readdir continuations must stay on one brick). */
  callChild<A, R extends { op_ret: number, op_errno: number }> (child: number, proc: BoundProc<A, R>, args: A, ctx: CallCtx & { syscall: string }): Promise<R> {
    const b = this.children[child]!
    return b.call(proc, args, { ...(ctx.signal !== undefined ? { signal: ctx.signal } : {}), timeoutMs: this.timing.attemptTimeoutMs }).then(r => {
      if (r.op_ret < 0) throw toGlusterError(r.op_errno, { syscall: ctx.syscall, ...(ctx.path !== undefined ? { path: ctx.path } : {}), brick: b.label })
      return r
    })
  }

  /** Pick a child to run a listing on (readable, usable), excluding `tried`. */
  pickChild (gfid: Buffer, readable: boolean[], isDir: boolean, tried: Set<number>): number {
    return this.#select(readable, gfid, isDir, tried)
  }
}
