// What every fop module shares: the failure reply, the plain success reply, the fop function type.
import type { CallContext, FopProgram, ProcArgs, ProcRes } from '@gluster-ts/rpc'
import { ZERO_IATT } from '../store/posix.js'
import { UNLCK } from '../locks.js'
import type { Brick, ClientState } from '../brick.js'

type Procs = typeof FopProgram.procs
export type FopName = keyof Procs

/**
 * One procedure of the fop program, as libnfs's servers write them: a named function taking the
 * brick, the decoded arguments, the call and the caller's connection state. It may throw a
 * FopError (or a Node fs error): the core turns that into op_ret -1 and the errno.
 */
export type FopFn<K extends FopName> = (b: Brick, a: ProcArgs<Procs[K]>, ctx: CallContext, cs: ClientState) => Promise<ProcRes<Procs[K]>>
export type FopTable = { [K in FopName]?: FopFn<K> }

export const ENOENT = 2

/** Everything every reply struct might hold, as a failure: each codec takes the fields it has. */
export function failure (errno: number): any {
  return {
    op_ret: -1, op_errno: errno, xdata: null, stat: ZERO_IATT, prestat: ZERO_IATT, poststat: ZERO_IATT,
    preparent: ZERO_IATT, postparent: ZERO_IATT, preoldparent: ZERO_IATT, postoldparent: ZERO_IATT,
    prenewparent: ZERO_IATT, postnewparent: ZERO_IATT, buf: ZERO_IATT, dict: null, fd: 0n, size: 0,
    data: Buffer.alloc(0), path: '', reply: [], offset: 0n,
    flock: { type: UNLCK, whence: 0, start: 0n, len: 0n, pid: 0, lk_owner: Buffer.alloc(0) },
    lease: { cmd: 0, lease_type: 0, lease_id: Buffer.alloc(16), lease_flags: 0 },
    statfs: { bsize: 0n, frsize: 0n, blocks: 0n, bfree: 0n, bavail: 0n, files: 0n, ffree: 0n, favail: 0n, fsid: 0n, flag: 0n, namemax: 0n },
    flags: 0, weak_checksum: 0, strong_checksum: Buffer.alloc(0),
  }
}

export const ok = { op_ret: 0, op_errno: 0, xdata: null }
