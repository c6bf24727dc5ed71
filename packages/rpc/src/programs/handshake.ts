// The handshake program, 14398633 version 2 (gluster-wire.md §2.3, §3, §9). Bricks serve
// NULL, SETVOLUME, PING and SET_LK_VER; glusterd serves GETSPEC, EVENT_NOTIFY, GET_VOLUME_INFO
// and GET_SNAPSHOT_INFO. Every dictionary here is a FLAT serialized dict inside an opaque<>
// (the gf_* structs; the gfx_* twins in glusterfs4-xdr.x are never sent).
import { type Codec, i32, string, struct, u32, xvoid } from '../xdr/codec.js'
import { defineProgram } from './program.js'
import { type FlatDict, flatDictOpaque } from '../dict.js'
import { GfCommonRsp } from './common.js'

export const GLUSTER_HNDSK_PROGRAM = 14398633
export const GLUSTER_HNDSK_VERSION = 2

export const GfHndskProc = {
  NULL: 0,
  SETVOLUME: 1,
  GETSPEC: 2,
  PING: 3,
  SET_LK_VER: 4,
  EVENT_NOTIFY: 5,
  GET_VOLUME_INFO: 6,
  GET_SNAPSHOT_INFO: 7,
} as const
export type GfHndskProc = (typeof GfHndskProc)[keyof typeof GfHndskProc]

/** gf_getspec_req.flags: 1 asks glusterd for the other volfile servers (`cluster.brick-vol-servers`). */
export const GfGetspecFlags = { SERVERS_LIST: 1 } as const
export type GfGetspecFlags = (typeof GfGetspecFlags)[keyof typeof GfGetspecFlags]

/** gf_event_notify_req.op */
export const GfEventNotifyOp = { DEFRAG_STATUS: 0 } as const
export type GfEventNotifyOp = (typeof GfEventNotifyOp)[keyof typeof GfEventNotifyOp]

/** gf_setvolume_req: the client's options (remote-subvolume, process-uuid, fops-version …). */
export interface GfSetvolumeReq { dict: FlatDict }
export const GfSetvolumeReq: Codec<GfSetvolumeReq> = struct({ dict: flatDictOpaque })

/** gf_setvolume_rsp: success is op_ret 0 (op_errno may be 22 then); dict has ERROR, volume-id, child_up … */
export interface GfSetvolumeRsp { op_ret: number, op_errno: number, dict: FlatDict }
export const GfSetvolumeRsp: Codec<GfSetvolumeRsp> = struct({ op_ret: i32, op_errno: i32, dict: flatDictOpaque })

/** gf_getspec_req: key = the volfile id ("vol1"); xdata {min-op-version, max-op-version} */
export interface GfGetspecReq { flags: number, key: string, xdata: FlatDict }
export const GfGetspecReq: Codec<GfGetspecReq> = struct({ flags: u32, key: string(), xdata: flatDictOpaque })

/** gf_getspec_rsp: on success op_ret = the volfile's length in bytes and spec = its text */
export interface GfGetspecRsp { op_ret: number, op_errno: number, spec: string, xdata: FlatDict }
export const GfGetspecRsp: Codec<GfGetspecRsp> = struct({ op_ret: i32, op_errno: i32, spec: string(), xdata: flatDictOpaque })

/** gf_set_lk_ver_req */
export interface GfSetLkVerReq { uid: string, lk_ver: number }
export const GfSetLkVerReq: Codec<GfSetLkVerReq> = struct({ uid: string(), lk_ver: i32 })

/** gf_set_lk_ver_rsp */
export interface GfSetLkVerRsp { op_ret: number, op_errno: number, lk_ver: number }
export const GfSetLkVerRsp: Codec<GfSetLkVerRsp> = struct({ op_ret: i32, op_errno: i32, lk_ver: i32 })

/** gf_event_notify_req (op: GfEventNotifyOp) */
export interface GfEventNotifyReq { op: number, dict: FlatDict }
export const GfEventNotifyReq: Codec<GfEventNotifyReq> = struct({ op: i32, dict: flatDictOpaque })

/** gf_event_notify_rsp */
export interface GfEventNotifyRsp { op_ret: number, op_errno: number, dict: FlatDict }
export const GfEventNotifyRsp: Codec<GfEventNotifyRsp> = struct({ op_ret: i32, op_errno: i32, dict: flatDictOpaque })

/** gf_get_volume_info_req: dict {volname, flags: "1" (volume UUID)} */
export interface GfGetVolumeInfoReq { dict: FlatDict }
export const GfGetVolumeInfoReq: Codec<GfGetVolumeInfoReq> = struct({ dict: flatDictOpaque })

/** gf_get_volume_info_rsp: dict {volume_id} */
export interface GfGetVolumeInfoRsp { op_ret: number, op_errno: number, op_errstr: string, dict: FlatDict }
export const GfGetVolumeInfoRsp: Codec<GfGetVolumeInfoRsp> = struct({
  op_ret: i32, op_errno: i32, op_errstr: string(), dict: flatDictOpaque,
})

/** gf_getsnap_name_uuid_req */
export interface GfGetsnapNameUuidReq { dict: FlatDict }
export const GfGetsnapNameUuidReq: Codec<GfGetsnapNameUuidReq> = struct({ dict: flatDictOpaque })

/** gf_getsnap_name_uuid_rsp (op_errstr before dict, unlike the unused gfx_ twin) */
export interface GfGetsnapNameUuidRsp { op_ret: number, op_errno: number, op_errstr: string, dict: FlatDict }
export const GfGetsnapNameUuidRsp: Codec<GfGetsnapNameUuidRsp> = struct({
  op_ret: i32, op_errno: i32, op_errstr: string(), dict: flatDictOpaque,
})

export const HandshakeProgram = defineProgram({
  name: 'GlusterFS Handshake',
  prog: GLUSTER_HNDSK_PROGRAM,
  vers: GLUSTER_HNDSK_VERSION,
  procs: {
    /** Bricks answer gf_common_rsp {0, 0, empty}; glusterd has no handler (PROC_UNAVAIL). */
    NULL: { num: GfHndskProc.NULL, args: xvoid, res: GfCommonRsp },
    SETVOLUME: { num: GfHndskProc.SETVOLUME, args: GfSetvolumeReq, res: GfSetvolumeRsp },
    GETSPEC: { num: GfHndskProc.GETSPEC, args: GfGetspecReq, res: GfGetspecRsp },
    /** Bricks only; clients ping with GF-DUMP PING instead. */
    PING: { num: GfHndskProc.PING, args: xvoid, res: GfCommonRsp },
    SET_LK_VER: { num: GfHndskProc.SET_LK_VER, args: GfSetLkVerReq, res: GfSetLkVerRsp },
    EVENT_NOTIFY: { num: GfHndskProc.EVENT_NOTIFY, args: GfEventNotifyReq, res: GfEventNotifyRsp },
    GET_VOLUME_INFO: { num: GfHndskProc.GET_VOLUME_INFO, args: GfGetVolumeInfoReq, res: GfGetVolumeInfoRsp },
    GET_SNAPSHOT_INFO: { num: GfHndskProc.GET_SNAPSHOT_INFO, args: GfGetsnapNameUuidReq, res: GfGetsnapNameUuidRsp },
  },
})
