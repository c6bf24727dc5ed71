// GF-DUMP, program 123451501 version 1 (gluster-wire.md §2.2, §3; rpc-common-xdr.x). Every
// GlusterFS RPC server answers it: DUMP lists the programs it serves, PING is the keep-alive.
import { type Codec, i32, list, string, struct, u64, xvoid } from '../xdr/codec.js'
import { defineProgram } from './program.js'
import { GfCommonRsp } from './common.js'

export const GLUSTER_DUMP_PROGRAM = 123451501
export const GLUSTER_DUMP_VERSION = 1

/** Procedure numbers. NULL (0) has no handler in GlusterFS (PROC_UNAVAIL) and is not in DumpProgram. */
export const GfDumpProc = { NULL: 0, DUMP: 1, PING: 2 } as const
export type GfDumpProc = (typeof GfDumpProc)[keyof typeof GfDumpProc]

/** The gfs_id every GlusterFS client sends in gf_dump_req; servers reply with 0. */
export const GF_DUMP_GFS_ID = 0xcaedn

/** gf_dump_req */
export interface GfDumpReq { gfs_id: bigint }
export const GfDumpReq: Codec<GfDumpReq> = struct({ gfs_id: u64 })

/** One gf_prog_detail (the `next` chain is the array around it). prognum/progver are 64-bit. */
export interface GfProgDetail { progname: string, prognum: bigint, progver: bigint }
export const GfProgDetail: Codec<GfProgDetail> = struct({ progname: string(), prognum: u64, progver: u64 })

/**
 * gf_dump_rsp: `prog` is the optional gf_prog_detail chain, as an array in wire order
 * (registration order). A client tells glusterd from a brick by whether 34123456/1 is listed.
 */
export interface GfDumpRsp { gfs_id: bigint, op_ret: number, op_errno: number, prog: GfProgDetail[] }
export const GfDumpRsp: Codec<GfDumpRsp> = struct({ gfs_id: u64, op_ret: i32, op_errno: i32, prog: list(GfProgDetail) })

export const DumpProgram = defineProgram({
  name: 'GF-DUMP',
  prog: GLUSTER_DUMP_PROGRAM,
  vers: GLUSTER_DUMP_VERSION,
  procs: {
    DUMP: { num: GfDumpProc.DUMP, args: GfDumpReq, res: GfDumpRsp },
    /** No arguments; the reply is gf_common_rsp {0, 0, empty}. */
    PING: { num: GfDumpProc.PING, args: xvoid, res: GfCommonRsp },
  },
})
