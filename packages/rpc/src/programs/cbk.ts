// The callback program, 52743234 version 1 (gluster-wire.md §2.6, §3): CALLs a brick or
// glusterd sends to a client on the client's own connection, with AUTH_NULL credentials and
// their own xid counter. They are one-way: nobody ever replies. The payloads keep the 3.x
// formats (gf_iatt, flat-dict opaque<> xdata).
import { type Codec, opaqueFixed, string, struct, u32, xvoid } from '../xdr/codec.js'
import { defineProgram } from './program.js'
import { type FlatDict, flatDictOpaque } from '../dict.js'
import { type GfIatt, GfIatt as Iatt } from './iatt.js'
import { type GfProtoFlock, GfProtoFlock as Flock } from './common.js'

export const GLUSTER_CBK_PROGRAM = 52743234
export const GLUSTER_CBK_VERSION = 1

export const GfCbkProc = {
  NULL: 0,
  FETCHSPEC: 1,
  INO_FLUSH: 2,
  EVENT_NOTIFY: 3,
  GET_SNAPS: 4,
  CACHE_INVALIDATION: 5,
  CHILD_UP: 6,
  CHILD_DOWN: 7,
  RECALL_LEASE: 8,
  STATEDUMP: 9,
  INODELK_CONTENTION: 10,
  ENTRYLK_CONTENTION: 11,
} as const
export type GfCbkProc = (typeof GfCbkProc)[keyof typeof GfCbkProc]

/** gfs3_cbk_cache_invalidation_req.event_type */
export const GfUpcallEvent = {
  NULL: 0,
  CACHE_INVALIDATION: 1,
  RECALL_LEASE: 2,
  INODELK_CONTENTION: 3,
  ENTRYLK_CONTENTION: 4,
} as const
export type GfUpcallEvent = (typeof GfUpcallEvent)[keyof typeof GfUpcallEvent]

/** gfs3_cbk_cache_invalidation_req.flags: what changed */
export const GfUpcallFlags = {
  NLINK: 0x1,
  MODE: 0x2,
  OWN: 0x4,
  SIZE: 0x8,
  TIMES: 0x10,
  ATIME: 0x20,
  PERM: 0x40,
  RENAME: 0x80,
  FORGET: 0x100,
  PARENT_TIMES: 0x200,
  XATTR: 0x400,
  XATTR_RM: 0x800,
  EXPLICIT_LOOKUP: 0x1000,
  INVAL_ATTR: 0x2000,
} as const
export type GfUpcallFlags = (typeof GfUpcallFlags)[keyof typeof GfUpcallFlags]

const gfid = opaqueFixed(16)

/** gfs3_cbk_cache_invalidation_req: note gfid is the 36-character UUID TEXT here, not 16 bytes */
export interface Gfs3CbkCacheInvalidationReq {
  gfid: string
  event_type: number
  flags: number
  expire_time_attr: number
  stat: GfIatt
  parent_stat: GfIatt
  oldparent_stat: GfIatt
  xdata: FlatDict
}
export const Gfs3CbkCacheInvalidationReq: Codec<Gfs3CbkCacheInvalidationReq> = struct({
  gfid: string(),
  event_type: u32,
  flags: u32,
  expire_time_attr: u32,
  stat: Iatt,
  parent_stat: Iatt,
  oldparent_stat: Iatt,
  xdata: flatDictOpaque,
})

/** gfs3_recall_lease_req */
export interface Gfs3RecallLeaseReq { gfid: Buffer, lease_type: number, tid: Buffer, xdata: FlatDict }
export const Gfs3RecallLeaseReq: Codec<Gfs3RecallLeaseReq> = struct({
  gfid, lease_type: u32, tid: opaqueFixed(16), xdata: flatDictOpaque,
})

/** gf_statedump */
export interface GfStatedump { pid: number }
export const GfStatedump: Codec<GfStatedump> = struct({ pid: u32 })

/** gfs4_inodelk_contention_req: someone else wants a lock this client holds (domain = lock domain) */
export interface Gfs4InodelkContentionReq { gfid: Buffer, flock: GfProtoFlock, pid: number, domain: string, xdata: FlatDict }
export const Gfs4InodelkContentionReq: Codec<Gfs4InodelkContentionReq> = struct({
  gfid, flock: Flock, pid: u32, domain: string(), xdata: flatDictOpaque,
})

/** gfs4_entrylk_contention_req */
export interface Gfs4EntrylkContentionReq {
  gfid: Buffer, type: number, pid: number, name: string, domain: string, xdata: FlatDict
}
export const Gfs4EntrylkContentionReq: Codec<Gfs4EntrylkContentionReq> = struct({
  gfid, type: u32, pid: u32, name: string(), domain: string(), xdata: flatDictOpaque,
})

/**
 * Every procedure is one-way (`res` is void and no reply is ever sent). Procedures without a
 * payload (FETCHSPEC, GET_SNAPS, CHILD_UP, CHILD_DOWN) take void; INO_FLUSH and EVENT_NOTIFY
 * have no sender in current GlusterFS and are listed with void arguments so a receiver can
 * recognise and ignore them. NULL is not listed.
 */
export const CallbackProgram = defineProgram({
  name: 'GlusterFS Callback',
  prog: GLUSTER_CBK_PROGRAM,
  vers: GLUSTER_CBK_VERSION,
  procs: {
    FETCHSPEC: { num: GfCbkProc.FETCHSPEC, args: xvoid, res: xvoid, oneway: true },
    INO_FLUSH: { num: GfCbkProc.INO_FLUSH, args: xvoid, res: xvoid, oneway: true },
    EVENT_NOTIFY: { num: GfCbkProc.EVENT_NOTIFY, args: xvoid, res: xvoid, oneway: true },
    GET_SNAPS: { num: GfCbkProc.GET_SNAPS, args: xvoid, res: xvoid, oneway: true },
    CACHE_INVALIDATION: { num: GfCbkProc.CACHE_INVALIDATION, args: Gfs3CbkCacheInvalidationReq, res: xvoid, oneway: true },
    CHILD_UP: { num: GfCbkProc.CHILD_UP, args: xvoid, res: xvoid, oneway: true },
    CHILD_DOWN: { num: GfCbkProc.CHILD_DOWN, args: xvoid, res: xvoid, oneway: true },
    RECALL_LEASE: { num: GfCbkProc.RECALL_LEASE, args: Gfs3RecallLeaseReq, res: xvoid, oneway: true },
    STATEDUMP: { num: GfCbkProc.STATEDUMP, args: GfStatedump, res: xvoid, oneway: true },
    INODELK_CONTENTION: { num: GfCbkProc.INODELK_CONTENTION, args: Gfs4InodelkContentionReq, res: xvoid, oneway: true },
    ENTRYLK_CONTENTION: { num: GfCbkProc.ENTRYLK_CONTENTION, args: Gfs4EntrylkContentionReq, res: xvoid, oneway: true },
  },
})
