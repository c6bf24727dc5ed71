// The Gluster portmapper, program 34123456 version 1, served by glusterd only (gluster-wire.md
// §2.4, §3; portmap-xdr.x). Clients ask PORTBYBRICK for the port of a brick path; bricks
// register with SIGNIN/SIGNOUT. A DUMP reply that lists this program identifies glusterd.
import { type Codec, i32, string, struct } from '../xdr/codec.js'
import { defineProgram } from './program.js'

export const GLUSTER_PMAP_PROGRAM = 34123456
export const GLUSTER_PMAP_VERSION = 1

/** Procedure numbers. NULL (0) and SIGNUP (3, obsolete) have no handler and are not in PortmapProgram. */
export const GfPmapProc = { NULL: 0, PORTBYBRICK: 1, BRICKBYPORT: 2, SIGNUP: 3, SIGNIN: 4, SIGNOUT: 5 } as const
export type GfPmapProc = (typeof GfPmapProc)[keyof typeof GfPmapProc]

/** pmap_port_by_brick_req: brick = the brick path (the volfile's remote-subvolume) */
export interface PmapPortByBrickReq { brick: string }
export const PmapPortByBrickReq: Codec<PmapPortByBrickReq> = struct({ brick: string() })

/** pmap_port_by_brick_rsp: found {0, 0, 0, port}; not found {-1, 0, 0, 0} */
export interface PmapPortByBrickRsp { op_ret: number, op_errno: number, status: number, port: number }
export const PmapPortByBrickRsp: Codec<PmapPortByBrickRsp> = struct({ op_ret: i32, op_errno: i32, status: i32, port: i32 })

/** pmap_brick_by_port_req */
export interface PmapBrickByPortReq { port: number }
export const PmapBrickByPortReq: Codec<PmapBrickByPortReq> = struct({ port: i32 })

/** pmap_brick_by_port_rsp */
export interface PmapBrickByPortRsp { op_ret: number, op_errno: number, status: number, brick: string }
export const PmapBrickByPortRsp: Codec<PmapBrickByPortRsp> = struct({ op_ret: i32, op_errno: i32, status: i32, brick: string() })

/** pmap_signin_req */
export interface PmapSigninReq { brick: string, port: number, pid: number }
export const PmapSigninReq: Codec<PmapSigninReq> = struct({ brick: string(), port: i32, pid: i32 })

/** pmap_signin_rsp */
export interface PmapSigninRsp { op_ret: number, op_errno: number }
export const PmapSigninRsp: Codec<PmapSigninRsp> = struct({ op_ret: i32, op_errno: i32 })

/** pmap_signout_req */
export interface PmapSignoutReq { brick: string, port: number, rdma_port: number }
export const PmapSignoutReq: Codec<PmapSignoutReq> = struct({ brick: string(), port: i32, rdma_port: i32 })

/** pmap_signout_rsp */
export interface PmapSignoutRsp { op_ret: number, op_errno: number }
export const PmapSignoutRsp: Codec<PmapSignoutRsp> = struct({ op_ret: i32, op_errno: i32 })

export const PortmapProgram = defineProgram({
  name: 'Gluster Portmap',
  prog: GLUSTER_PMAP_PROGRAM,
  vers: GLUSTER_PMAP_VERSION,
  procs: {
    PORTBYBRICK: { num: GfPmapProc.PORTBYBRICK, args: PmapPortByBrickReq, res: PmapPortByBrickRsp },
    /** glusterd's handler never sends a reply: do not call it and wait. */
    BRICKBYPORT: { num: GfPmapProc.BRICKBYPORT, args: PmapBrickByPortReq, res: PmapBrickByPortRsp },
    SIGNIN: { num: GfPmapProc.SIGNIN, args: PmapSigninReq, res: PmapSigninRsp },
    SIGNOUT: { num: GfPmapProc.SIGNOUT, args: PmapSignoutReq, res: PmapSignoutRsp },
  },
})
