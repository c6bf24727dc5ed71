import { protocolError } from './errors.js'
import { MAX_AUTH_BYTES, NULL_AUTH } from './message.js'
import type { OpaqueAuth } from './message.js'
import { XdrReader } from './xdr/reader.js'
import { XdrWriter } from './xdr/writer.js'

/**
 * Credential flavors as GlusterFS uses them (fact sheet §1.6/§1.7, rpc/rpc-lib/src/xdr-rpc.h):
 * AUTH_GLUSTERFS = 5 (legacy v1), AUTH_GLUSTERFS_v2 = 390039 (every glusterd call, and a brick
 * connection until DUMP picks fop v400), AUTH_GLUSTERFS_v3 = 390040 (SETVOLUME and every v400
 * fop). Wireshark calls 390039 "AUTH_GLUSTERFS"; the GlusterFS source names are used here.
 */
export const AuthFlavor = {
  AUTH_NULL: 0,
  AUTH_UNIX: 1,
  AUTH_SHORT: 2,
  AUTH_DH: 3,
  AUTH_GLUSTERFS: 5,
  AUTH_GLUSTERFS_v2: 390039,
  AUTH_GLUSTERFS_v3: 390040,
} as const
export type AuthFlavor = (typeof AuthFlavor)[keyof typeof AuthFlavor]

export interface AuthNullCred { flavor: 0 }

/** RFC 5531 authsys_parms. */
export interface AuthUnixCred {
  flavor: 1
  stamp: number
  machinename: string
  uid: number
  gid: number
  gids: number[]
}

/** Legacy AUTH_GLUSTERFS (5): lk_owner u64, pid, uid, gid, ngrps, then always 16 group slots. */
export interface AuthGlusterfsV1Cred {
  flavor: 5
  lk_owner: bigint
  pid: number
  uid: number
  gid: number
  /** the first ngrps slots (at most 16) */
  groups: number[]
}

/** auth_glusterfs_parms_v2 (rpc-common-xdr.x). */
export interface AuthGlusterfsV2Cred {
  flavor: 390039
  /** signed: negative pids are GlusterFS-internal clients (-6 self-heal, -13 utime …) */
  pid: number
  uid: number
  gid: number
  groups: number[]
  lk_owner: Buffer
}

/** auth_glusterfs_params_v3 (glusterfs4-xdr.x): note ctime_nsec comes before ctime_sec. */
export interface AuthGlusterfsV3Cred {
  flavor: 390040
  pid: number
  uid: number
  gid: number
  /** utime bits: 0x1 CTIME, 0x2 MTIME, 0x4 ATIME, 0x8 PARENT_CTIME, 0x10 PARENT_MTIME, 0x20 PARENT_ATIME */
  flags: number
  ctime_nsec: number
  ctime_sec: bigint
  groups: number[]
  lk_owner: Buffer
}

export type Credential = AuthNullCred | AuthUnixCred | AuthGlusterfsV1Cred | AuthGlusterfsV2Cred | AuthGlusterfsV3Cred

/** A typed credential, or an opaque_auth kept as raw bytes (any flavor we don't model). */
export type CredentialLike = Credential | OpaqueAuth

const V1_GROUP_SLOTS = 16

/** True for an opaque_auth (flavor + raw body), false for a typed credential. */
export function isOpaqueAuth (c: CredentialLike): c is OpaqueAuth {
  return Buffer.isBuffer((c as Partial<OpaqueAuth>).body)
}

/**
 * The lock owner GlusterFS uses when the caller has none: the pid's 4 bytes, little-endian
 * (pid 11686 → a6 2d 00 00, capture mount frame 180).
 */
export function lkOwnerFromPid (pid: number): Buffer {
  const b = Buffer.allocUnsafe(4)
  b.writeInt32LE(pid | 0, 0)
  return b
}

/**
 * How many groups GlusterFS clients put in a v2/v3 credential with an lk_owner of
 * `lkOwnerBytes`: 95 − len (v2) and 91 − len (v3). GlusterFS subtracts the lk_owner's *byte*
 * length from a budget of 4-byte words, which is stricter than the 400-byte cap needs, and its
 * servers reject a credential that breaks the rule, so we follow it.
 */
export function maxGroups (flavor: 390039 | 390040, lkOwnerBytes: number): number {
  return Math.max(0, (flavor === AuthFlavor.AUTH_GLUSTERFS_v2 ? 95 : 91) - lkOwnerBytes)
}

export interface GlusterfsCredInit {
  pid?: number
  uid?: number
  gid?: number
  groups?: number[]
  /** default: lkOwnerFromPid(pid) */
  lk_owner?: Buffer
}

/** An AUTH_GLUSTERFS_v2 credential; groups beyond maxGroups() are dropped, as GlusterFS does. */
export function glusterfsV2Cred (o: GlusterfsCredInit = {}): AuthGlusterfsV2Cred {
  const pid = o.pid ?? 0
  const lk = o.lk_owner ?? lkOwnerFromPid(pid)
  const groups = (o.groups ?? []).slice(0, maxGroups(AuthFlavor.AUTH_GLUSTERFS_v2, lk.length))
  return { flavor: AuthFlavor.AUTH_GLUSTERFS_v2, pid, uid: o.uid ?? 0, gid: o.gid ?? 0, groups, lk_owner: lk }
}

export interface GlusterfsV3CredInit extends GlusterfsCredInit {
  flags?: number
  /** operation time; default: now (Date.now(), millisecond precision) */
  ctime_sec?: bigint
  ctime_nsec?: number
}

/** An AUTH_GLUSTERFS_v3 credential, stamped with the current wall-clock time unless given one. */
export function glusterfsV3Cred (o: GlusterfsV3CredInit = {}): AuthGlusterfsV3Cred {
  const pid = o.pid ?? 0
  const lk = o.lk_owner ?? lkOwnerFromPid(pid)
  const groups = (o.groups ?? []).slice(0, maxGroups(AuthFlavor.AUTH_GLUSTERFS_v3, lk.length))
  let sec = o.ctime_sec
  let nsec = o.ctime_nsec
  if (sec === undefined) {
    const ms = Date.now()
    sec = BigInt(Math.floor(ms / 1000))
    nsec ??= (ms % 1000) * 1_000_000
  }
  return {
    flavor: AuthFlavor.AUTH_GLUSTERFS_v3, pid, uid: o.uid ?? 0, gid: o.gid ?? 0, flags: o.flags ?? 0,
    ctime_nsec: nsec ?? 0, ctime_sec: sec, groups, lk_owner: lk,
  }
}

function writeGroups (w: XdrWriter, groups: readonly number[]): void {
  w.u32(groups.length)
  for (const g of groups) w.u32(g)
}

function readGroups (r: XdrReader): number[] {
  const n = r.u32()
  if (n * 4 > r.remaining) throw protocolError(`credential: ${n} groups but only ${r.remaining} bytes left`)
  const out = new Array<number>(n)
  for (let i = 0; i < n; i++) out[i] = r.u32()
  return out
}

/**
 * The opaque_auth for a credential: its flavor and encoded body. An OpaqueAuth passes through
 * unchanged. Throws RangeError when the body would exceed 400 bytes.
 */
export function encodeCredential (c: CredentialLike): OpaqueAuth {
  if (isOpaqueAuth(c)) return c
  if (c.flavor === AuthFlavor.AUTH_NULL) return NULL_AUTH
  const w = new XdrWriter(512)
  switch (c.flavor) {
    case AuthFlavor.AUTH_UNIX:
      if (c.gids.length > 16) throw new RangeError(`AUTH_UNIX carries at most 16 gids, got ${c.gids.length}`)
      if (Buffer.byteLength(c.machinename) > 255) throw new RangeError('AUTH_UNIX machinename is longer than 255 bytes')
      w.u32(c.stamp).string(c.machinename).u32(c.uid).u32(c.gid)
      writeGroups(w, c.gids)
      break
    case AuthFlavor.AUTH_GLUSTERFS: {
      if (c.groups.length > V1_GROUP_SLOTS) throw new RangeError(`AUTH_GLUSTERFS v1 carries at most 16 groups, got ${c.groups.length}`)
      w.u64(c.lk_owner).i32(c.pid).u32(c.uid).u32(c.gid).u32(c.groups.length)
      for (let i = 0; i < V1_GROUP_SLOTS; i++) w.u32(c.groups[i] ?? 0)
      break
    }
    case AuthFlavor.AUTH_GLUSTERFS_v2:
      w.i32(c.pid).u32(c.uid).u32(c.gid)
      writeGroups(w, c.groups)
      w.opaque(c.lk_owner)
      break
    case AuthFlavor.AUTH_GLUSTERFS_v3:
      w.i32(c.pid).u32(c.uid).u32(c.gid).u32(c.flags).u32(c.ctime_nsec).u64(c.ctime_sec)
      writeGroups(w, c.groups)
      w.opaque(c.lk_owner)
      break
    default:
      throw new RangeError(`unknown credential flavor ${String((c as { flavor: unknown }).flavor)}`)
  }
  const body = w.finish()
  if (body.length > MAX_AUTH_BYTES) {
    throw new RangeError(`credential body is ${body.length} bytes, the limit is ${MAX_AUTH_BYTES}`)
  }
  return { flavor: c.flavor, body }
}

/**
 * A typed credential from an opaque_auth. Flavors we don't model come back as the OpaqueAuth
 * itself. A body that does not decode (truncated, trailing bytes, too many groups) throws
 * EGLUSTER_PROTOCOL; a server answers that with DENIED/AUTH_ERROR.
 */
export function decodeCredential (a: OpaqueAuth): Credential | OpaqueAuth {
  const r = new XdrReader(a.body)
  let c: Credential
  switch (a.flavor) {
    case AuthFlavor.AUTH_NULL:
      c = { flavor: 0 }
      break
    case AuthFlavor.AUTH_UNIX: {
      const stamp = r.u32()
      const machinename = r.string(255)
      const uid = r.u32()
      const gid = r.u32()
      const gids = readGroups(r)
      if (gids.length > 16) throw protocolError(`AUTH_UNIX: ${gids.length} gids, at most 16 allowed`)
      c = { flavor: 1, stamp, machinename, uid, gid, gids }
      break
    }
    case AuthFlavor.AUTH_GLUSTERFS: {
      const lk = r.u64()
      const pid = r.i32()
      const uid = r.u32()
      const gid = r.u32()
      const n = r.u32()
      if (n > V1_GROUP_SLOTS) throw protocolError(`AUTH_GLUSTERFS: ngrps ${n} exceeds the 16 slots`)
      const slots: number[] = []
      for (let i = 0; i < V1_GROUP_SLOTS; i++) slots.push(r.u32())
      c = { flavor: 5, lk_owner: lk, pid, uid, gid, groups: slots.slice(0, n) }
      break
    }
    case AuthFlavor.AUTH_GLUSTERFS_v2: {
      const pid = r.i32()
      const uid = r.u32()
      const gid = r.u32()
      const groups = readGroups(r)
      const lk = r.opaque()
      c = { flavor: 390039, pid, uid, gid, groups, lk_owner: lk }
      break
    }
    case AuthFlavor.AUTH_GLUSTERFS_v3: {
      const pid = r.i32()
      const uid = r.u32()
      const gid = r.u32()
      const flags = r.u32()
      const nsec = r.u32()
      const sec = r.u64()
      const groups = readGroups(r)
      const lk = r.opaque()
      c = { flavor: 390040, pid, uid, gid, flags, ctime_nsec: nsec, ctime_sec: sec, groups, lk_owner: lk }
      break
    }
    default:
      return a
  }
  if (r.remaining !== 0) throw protocolError(`credential flavor ${a.flavor}: ${r.remaining} trailing bytes`)
  return c
}

/** The lock owner a credential carries (GlusterFS bricks take INODELK/ENTRYLK owners from it). */
export function credentialLkOwner (c: Credential | OpaqueAuth): Buffer | undefined {
  if (isOpaqueAuth(c)) return undefined
  if (c.flavor === AuthFlavor.AUTH_GLUSTERFS_v2 || c.flavor === AuthFlavor.AUTH_GLUSTERFS_v3) return c.lk_owner
  if (c.flavor === AuthFlavor.AUTH_GLUSTERFS) {
    const b = Buffer.allocUnsafe(8)
    b.writeBigUInt64BE(c.lk_owner, 0)
    return b
  }
  return undefined
}
