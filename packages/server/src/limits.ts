// What one brick process may spend on its clients, and who pays when it runs out. A limit is
// charged to the client that asks (its own cap) and to the process (a cap shared by every brick
// in it): over its own cap a client gets an error and nobody else notices; the process cap is
// set below the real limit so that glusterd, sockets and the journal still get fds.
import fs from 'node:fs'
import { FopError } from './store/fop-error.js'

/** A counted resource with a cap: fds, bytes. `take` throws the errno given when it is full. */
export class Budget {
  readonly name: string
  readonly limit: number
  #used = 0
  #peak = 0

  constructor (name: string, limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError(`${name}: limit must be a non-negative integer, got ${limit}`)
    this.name = name
    this.limit = limit
  }

  get used (): number { return this.#used }
  get peak (): number { return this.#peak }
  /** Room for n more without going over. */
  fits (n = 1): boolean { return this.#used + n <= this.limit }

  /** Charge n; over the cap → FopError(errno), nothing charged. */
  take (n: number, errno: 'EMFILE' | 'ENFILE' | 'ENOMEM'): void {
    if (this.#used + n > this.limit) throw new FopError(errno, `${this.name}: ${this.#used} + ${n} over the limit of ${this.limit}`)
    this.#used += n
    if (this.#used > this.#peak) this.#peak = this.#used
  }

  give (n: number): void {
    this.#used -= n
    if (this.#used < 0) this.#used = 0
  }
}

/** fds kept free for what is not a client's file: sockets, glusterd, the journal, logs. */
const FD_RESERVE_FRACTION = 0.25
const FD_RESERVE_MIN = 64

/** The soft RLIMIT_NOFILE of this process (Node raises it to the hard limit at start-up). */
export function softFdLimit (): number {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'))
    if (m !== null) return m[1] === 'unlimited' ? 1 << 20 : Number(m[1])
  } catch {}
  return 1024
}

/** The process-wide fd cap derived from a soft limit: what is left after the reserve (at least 16). */
export function processFdCap (soft: number = softFdLimit()): number {
  return Math.max(16, soft - Math.max(FD_RESERVE_MIN, Math.ceil(soft * FD_RESERVE_FRACTION)))
}

let processFds: Budget | undefined
/** The fd budget every brick of this process shares (ENFILE when it is spent, as the kernel says for its own table). */
export function processFdBudget (): Budget {
  processFds ??= new Budget('backend fds of this process', processFdCap())
  return processFds
}

/** Default listing memory of the process, shared by its bricks (ENOMEM past it). */
export const PROCESS_LISTING_BYTES = 256 * 1024 * 1024
let processListings: Budget | undefined
export function processListingBudget (): Budget {
  processListings ??= new Budget('directory listings of this process', PROCESS_LISTING_BYTES)
  return processListings
}

export interface BrickLimits {
  /** open backend fds one client may hold (OPEN, CREATE, OPENDIR, anonymous fds in flight); EMFILE past it. Default: a quarter of the process cap. */
  fdsPerClient?: number
  /** directory fds the brick keeps open for resolving names (least recently used closed first). Default 512. */
  dirFdCache?: number
  /** bytes of directory listings one client's open directory fds may hold; ENOMEM past it. Default 64 MiB. */
  listingBytesPerClient?: number
  /** the process-wide budgets (tests give their own; default: shared by every brick in the process) */
  processFds?: Budget
  processListingBytes?: Budget
}

export interface ResolvedLimits {
  fdsPerClient: number
  dirFdCache: number
  listingBytesPerClient: number
  processFds: Budget
  processListingBytes: Budget
}

export function resolveLimits (l: BrickLimits = {}): ResolvedLimits {
  const processFds = l.processFds ?? processFdBudget()
  return {
    fdsPerClient: l.fdsPerClient ?? Math.max(16, Math.floor(processFds.limit / 4)),
    dirFdCache: l.dirFdCache ?? 512,
    listingBytesPerClient: l.listingBytesPerClient ?? 64 * 1024 * 1024,
    processFds,
    processListingBytes: l.processListingBytes ?? processListingBudget(),
  }
}

/**
 * READDIR/READDIRP reply size cap: protocol/server (server4_0_readdir/readdirp, v10.3) lowers the
 * client's `size` to its iobuf page size (128 KiB) minus the RPC message and reply headers
 * (sizeof(struct rpc_msg) + sizeof(gfx_readdir_rsp), 72 + 40 bytes on x86-64).
 */
export const READDIR_MAX_BYTES = 128 * 1024 - 112
