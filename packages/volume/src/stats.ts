// Stats shaped like node:fs Stats, from a gfx_iattx, plus the gfid.
import type { GfxIattx } from '@gluster-ts/rpc'

/** 16 bytes → '00000000-0000-0000-0000-000000000001' */
export function gfidString (g: Buffer): string {
  const h = g.toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

const S_IFMT = 0o170000

const ms = (sec: bigint, nsec: number): number => Number(sec) * 1000 + Math.floor(nsec / 1e6)

export class Stats {
  dev: number
  ino: number
  mode: number
  nlink: number
  uid: number
  gid: number
  rdev: number
  size: number
  blksize: number
  blocks: number
  atimeMs: number
  mtimeMs: number
  ctimeMs: number
  birthtimeMs: number
  atime: Date
  mtime: Date
  ctime: Date
  birthtime: Date
  /** the object's GlusterFS gfid, canonical text */
  gfid: string
  /** atime/mtime/ctime with nanoseconds, as bigint ns (what the brick stored; fs.BigIntStats names) */
  atimeNs: bigint
  mtimeNs: bigint
  ctimeNs: bigint

  constructor (a: GfxIattx) {
    this.dev = Number(a.ia_dev)
    this.ino = Number(a.ia_ino)
    this.mode = a.mode
    this.nlink = a.ia_nlink
    this.uid = a.ia_uid
    this.gid = a.ia_gid
    this.rdev = Number(a.ia_rdev)
    this.size = Number(a.ia_size)
    this.blksize = a.ia_blksize
    this.blocks = Number(a.ia_blocks)
    this.atimeMs = ms(a.ia_atime, a.ia_atime_nsec)
    this.mtimeMs = ms(a.ia_mtime, a.ia_mtime_nsec)
    this.ctimeMs = ms(a.ia_ctime, a.ia_ctime_nsec)
    this.birthtimeMs = a.ia_btime !== 0n ? ms(a.ia_btime, a.ia_btime_nsec) : this.ctimeMs
    this.atime = new Date(this.atimeMs)
    this.mtime = new Date(this.mtimeMs)
    this.ctime = new Date(this.ctimeMs)
    this.birthtime = new Date(this.birthtimeMs)
    this.gfid = gfidString(a.ia_gfid)
    this.atimeNs = a.ia_atime * 1_000_000_000n + BigInt(a.ia_atime_nsec)
    this.mtimeNs = a.ia_mtime * 1_000_000_000n + BigInt(a.ia_mtime_nsec)
    this.ctimeNs = a.ia_ctime * 1_000_000_000n + BigInt(a.ia_ctime_nsec)
  }

  isFile (): boolean { return (this.mode & S_IFMT) === 0o100000 }
  isDirectory (): boolean { return (this.mode & S_IFMT) === 0o040000 }
  isSymbolicLink (): boolean { return (this.mode & S_IFMT) === 0o120000 }
  isBlockDevice (): boolean { return (this.mode & S_IFMT) === 0o060000 }
  isCharacterDevice (): boolean { return (this.mode & S_IFMT) === 0o020000 }
  isFIFO (): boolean { return (this.mode & S_IFMT) === 0o010000 }
  isSocket (): boolean { return (this.mode & S_IFMT) === 0o140000 }
}

const DT: Record<number, number> = { 1: 0o010000, 2: 0o020000, 4: 0o040000, 6: 0o060000, 8: 0o100000, 10: 0o120000, 12: 0o140000 }

/** A directory entry, shaped like fs.Dirent, with its gfid and (with `stats: true`) its Stats. */
export class Dirent {
  name: string
  /** the directory it was read from (like fs.Dirent.parentPath) */
  parentPath: string
  gfid: string
  stats: Stats | undefined
  #type: number

  constructor (name: string, parentPath: string, dType: number, gfid: string, stats?: Stats) {
    this.name = name
    this.parentPath = parentPath
    this.gfid = gfid
    this.stats = stats
    this.#type = stats !== undefined ? (stats.mode & S_IFMT) : (DT[dType] ?? 0)
  }

  isFile (): boolean { return this.#type === 0o100000 }
  isDirectory (): boolean { return this.#type === 0o040000 }
  isSymbolicLink (): boolean { return this.#type === 0o120000 }
  isBlockDevice (): boolean { return this.#type === 0o060000 }
  isCharacterDevice (): boolean { return this.#type === 0o020000 }
  isFIFO (): boolean { return this.#type === 0o010000 }
  isSocket (): boolean { return this.#type === 0o140000 }
}

export interface StatFs {
  type: number
  bsize: number
  frsize: number
  blocks: number
  bfree: number
  bavail: number
  files: number
  ffree: number
  namemax: number
}
