// Raw fop calls as a crafted client sends them (for the security and semantics tests): each
// returns the reply as is (op_ret/op_errno), never throws on op_ret -1.
import fs from 'node:fs'
import path from 'node:path'
import crypto from 'node:crypto'
import { FopProgram, gfxDict, gfxUuid, newGfxIattx, glusterfsV3Cred } from '@gluster-ts/rpc'
import type { RpcClient, GfxIattx } from '@gluster-ts/rpc'
import { newGfid } from '@gluster-ts/server'

const NULL16 = Buffer.alloc(16)
export const V = { MODE: 0x1, UID: 0x2, GID: 0x4, SIZE: 0x8, ATIME: 0x10, MTIME: 0x20, ATIME_NOW: 0x80, MTIME_NOW: 0x100 } as const

export interface Reply { op_ret: number, op_errno: number }
export type Cred = ReturnType<typeof glusterfsV3Cred>

/** A caller: uid, gid, supplementary groups (AUTH_GLUSTERFS v3, like the FUSE client sends). */
export function as (uid: number, gid: number, groups: number[] = [], pid = 1000): Cred {
  return glusterfsV3Cred({ uid, gid, groups, pid })
}

export function fops (c: RpcClient, cred?: Cred) {
  const o = cred !== undefined ? { cred } : {}
  const req = (gfid: Buffer) => gfxDict({ 'gfid-req': gfxUuid(gfid) })
  return {
    async lookup (parent: Buffer, name: string) {
      return c.call(FopProgram.procs.LOOKUP, { gfid: NULL16, pargfid: parent, flags: 0, bname: name, xdata: null }, o)
    },
    async stat (gfid: Buffer) { return c.call(FopProgram.procs.STAT, { gfid, xdata: null }, o) },
    async mkdir (parent: Buffer, name: string, mode = 0o755, umask = 0) {
      const gfid = newGfid()
      const r = await c.call(FopProgram.procs.MKDIR, { pargfid: parent, mode: 0o040000 | mode, umask, bname: name, xdata: req(gfid) }, o)
      return { ...r, gfid }
    },
    async create (parent: Buffer, name: string, mode = 0o644, flags = 0o2 | 0o100, umask = 0) {
      const gfid = newGfid()
      const r = await c.call(FopProgram.procs.CREATE, { pargfid: parent, flags, mode: 0o100000 | mode, umask, bname: name, xdata: req(gfid) }, o)
      return { ...r, gfid }
    },
    /** CREATE with a given gfid (gfid-req) */
    async createAs (gfid: Buffer, parent: Buffer, name: string, mode = 0o644, flags = 0o2 | 0o100) {
      return c.call(FopProgram.procs.CREATE, { pargfid: parent, flags, mode: 0o100000 | mode, umask: 0, bname: name, xdata: req(gfid) }, o)
    },
    async mknod (parent: Buffer, name: string, mode: number, dev = 0n, umask = 0) {
      const gfid = newGfid()
      const r = await c.call(FopProgram.procs.MKNOD, { pargfid: parent, dev, mode, umask, bname: name, xdata: req(gfid) }, o)
      return { ...r, gfid }
    },
    async symlink (parent: Buffer, name: string, target: string) {
      const gfid = newGfid()
      const r = await c.call(FopProgram.procs.SYMLINK, { pargfid: parent, bname: name, umask: 0, linkname: target, xdata: req(gfid) }, o)
      return { ...r, gfid }
    },
    async link (gfid: Buffer, parent: Buffer, name: string) {
      return c.call(FopProgram.procs.LINK, { oldgfid: gfid, newgfid: parent, newbname: name, xdata: null }, o)
    },
    async rename (op: Buffer, on: string, np: Buffer, nn: string) {
      return c.call(FopProgram.procs.RENAME, { oldgfid: op, newgfid: np, oldbname: on, newbname: nn, xdata: null }, o)
    },
    async unlink (parent: Buffer, name: string) { return c.call(FopProgram.procs.UNLINK, { pargfid: parent, bname: name, xflags: 0, xdata: null }, o) },
    async rmdir (parent: Buffer, name: string) { return c.call(FopProgram.procs.RMDIR, { pargfid: parent, xflags: 0, bname: name, xdata: null }, o) },
    async setattr (gfid: Buffer, valid: number, st: Partial<GfxIattx>) {
      return c.call(FopProgram.procs.SETATTR, { gfid, stbuf: newGfxIattx(st), valid, xdata: null }, o)
    },
    async fsetattr (gfid: Buffer, fd: bigint, valid: number, st: Partial<GfxIattx>) {
      return c.call(FopProgram.procs.FSETATTR, { gfid, fd, stbuf: newGfxIattx(st), valid, xdata: null }, o)
    },
    async truncate (gfid: Buffer, offset: bigint) { return c.call(FopProgram.procs.TRUNCATE, { gfid, offset, xdata: null }, o) },
    async open (gfid: Buffer, flags: number) { return c.call(FopProgram.procs.OPEN, { gfid, flags, xdata: null }, o) },
    async write (gfid: Buffer, fd: bigint, data: Buffer, offset = 0n) {
      return c.call(FopProgram.procs.WRITE, { gfid, fd, offset, size: data.length, flag: 0, xdata: null, data }, o)
    },
    async read (gfid: Buffer, fd: bigint, size: number, offset = 0n) {
      return c.call(FopProgram.procs.READ, { gfid, fd, offset, size, flag: 0, xdata: null }, o)
    },
    async release (gfid: Buffer, fd: bigint) { return c.call(FopProgram.procs.RELEASE, { gfid, fd, xdata: null }, o) },
    async releasedir (gfid: Buffer, fd: bigint) { return c.call(FopProgram.procs.RELEASEDIR, { gfid, fd, xdata: null }, o) },
    async opendir (gfid: Buffer) { return c.call(FopProgram.procs.OPENDIR, { gfid, xdata: null }, o) },
    async readdirp (gfid: Buffer, fd: bigint, size = 65536, offset = 0n) {
      return c.call(FopProgram.procs.READDIRP, { gfid, fd, offset, size, xdata: null }, o)
    },
    async readdir (gfid: Buffer, fd: bigint, size = 65536, offset = 0n) {
      return c.call(FopProgram.procs.READDIR, { gfid, fd, offset, size, xdata: null }, o)
    },
    async setxattr (gfid: Buffer, xattrs: Record<string, Buffer>, flags = 0) {
      return c.call(FopProgram.procs.SETXATTR, { gfid, flags, dict: gfxDict(xattrs), xdata: null }, o)
    },
    async access (gfid: Buffer, mask: number) { return c.call(FopProgram.procs.ACCESS, { gfid, mask, xdata: null }, o) },
  }
}

/**
 * Everything observable about a tree outside the brick: per entry its type, mode, owner, size,
 * mtime, ctime, content hash (files) or target (symlinks). Two equal snapshots: nothing changed.
 */
export function snapshot (root: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (p: string): void => {
    const st = fs.lstatSync(p, { bigint: true })
    let extra = ''
    if (st.isFile()) extra = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex')
    else if (st.isSymbolicLink()) extra = fs.readlinkSync(p)
    out[path.relative(root, p) || '.'] = `${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.size} m${st.mtimeNs} c${st.ctimeNs} ${extra}`
    if (st.isDirectory()) for (const n of fs.readdirSync(p).sort()) walk(path.join(p, n))
  }
  walk(root)
  return out
}

/** A canary tree outside any brick: a file, a setuid-able file, a directory with a file. */
export function makeCanaries (dir: string): string {
  fs.mkdirSync(path.join(dir, 'sub'), { recursive: true })
  fs.writeFileSync(path.join(dir, 'secret'), 'do not touch\n', { mode: 0o600 })
  fs.writeFileSync(path.join(dir, 'f'), 'canary f\n', { mode: 0o644 })
  fs.writeFileSync(path.join(dir, 'sub', 'f'), 'canary sub/f\n', { mode: 0o644 })
  const old = new Date('2001-01-01T00:00:00Z')
  for (const p of ['secret', 'f', 'sub/f', 'sub', '.']) fs.utimesSync(path.join(dir, p), old, old)
  return dir
}
