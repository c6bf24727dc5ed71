// The brick's metadata store: the API the fops use. The state is an InodeTable (inode-table.ts)
// kept durable by a Journal (journal.ts); xattr limits are in xattr-limits.ts.
import fs from 'node:fs'
import path from 'node:path'
import { randomUUID } from 'node:crypto'
import { Journal } from './journal.js'
import type { JournalOptions, JournalRecovery } from './journal.js'
import { FopError } from './fop-error.js'
import { InodeTable, encodeAttrs, encodeXattrs, linkCount, linksOf } from './inode-table.js'
import { xattrEntries, xattrGet } from './xattr-set.js'
import type { Inode, InodeAttrs, ObjectType } from './inode-table.js'
import { checkXattrChanges, xattrLimits } from './xattr-limits.js'
import type { XattrLimitOptions, XattrLimits } from './xattr-limits.js'

export type { InodeAttrs, ObjectType } from './inode-table.js'

/** The sidecar directory in the brick root; hidden from clients (lookup → EPERM, readdir skips it). */
export const SIDECAR_DIR = '.glusterfs-ts'
export const ROOT_KEY = '00000000-0000-0000-0000-000000000001'
export const NULL_KEY = '00000000-0000-0000-0000-000000000000'
const MAX_DEPTH = 4096
const MAX_NAME_BYTES = 255

const HEX = Buffer.from('0123456789abcdef', 'latin1')

/**
 * gfid bytes → canonical UUID text (the key everywhere in the store). Built as one flat string:
 * slicing and joining hex text leaves V8 a tree of string pieces that costs ~300 bytes more per
 * key, and the store keeps one key per object.
 */
export function gfidKey (gfid: Buffer): string {
  if (gfid.length !== 16) throw new FopError('EINVAL', `gfid must be 16 bytes, got ${gfid.length}`)
  const out = Buffer.allocUnsafe(36)
  let j = 0
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) out[j++] = 0x2d
    out[j++] = HEX[gfid[i]! >> 4]!
    out[j++] = HEX[gfid[i]! & 15]!
  }
  return out.toString('latin1')
}

export function gfidBytes (key: string): Buffer {
  return Buffer.from(key.replace(/-/g, ''), 'hex')
}

export function isNullGfid (gfid: Buffer): boolean {
  for (const b of gfid) if (b !== 0) return false
  return true
}

/** A random gfid (UUID v4) as 16 bytes. */
export function newGfid (): Buffer { return gfidBytes(randomUUID()) }

/**
 * Most links one object may have (EMLINK beyond): ext4's EXT4_LINK_MAX. Each link costs the
 * store memory and a search among the object's links, so it is bounded on every backend.
 */
export const LINK_MAX = 65000

export interface BrickStoreOptions extends JournalOptions, XattrLimitOptions {
  /** the volume's UUID text; stored as trusted.glusterfs.volume-id on the root */
  volumeId?: string
  /** Most links per object (EMLINK beyond). Default LINK_MAX. */
  linkMax?: number
}

const S_IFMT = 0o170000
const TYPE_BITS: Record<ObjectType, readonly number[]> = {
  d: [0o040000],
  f: [0o100000],
  l: [0o120000],
  o: [0o010000, 0o020000, 0o060000, 0o140000], // fifo, char device, block device, socket
}

/**
 * The brick's metadata: which gfid each object has, where it lives (its links: parent gfid +
 * name, like the `.glusterfs/xx/yy/<gfid>` handles of a real brick), what clients see as its
 * mode, owner and device number, and its extended attributes. Node has no xattr calls, so
 * everything GlusterFS keeps in xattrs lives here, in a Journal under `<brick>/.glusterfs-ts/`.
 * Paths are never taken from the client: they are built from validated names along the gfid
 * chain, so nothing can point outside the brick directory.
 */
export class BrickStore {
  /** the brick directory (absolute) */
  readonly root: string
  readonly #table = new InodeTable()
  readonly #journal: Journal
  readonly #limits: XattrLimits
  readonly #linkMax: number

  constructor (root: string, opts: BrickStoreOptions = {}) {
    this.root = path.resolve(root)
    this.#limits = xattrLimits(opts)
    this.#linkMax = opts.linkMax ?? LINK_MAX
    fs.mkdirSync(this.root, { recursive: true })
    const st = fs.lstatSync(this.root)
    if (!st.isDirectory()) throw new Error(`brick ${this.root} is not a directory`)
    this.#journal = Journal.open(path.join(this.root, SIDECAR_DIR, 'journal'), this.#table, opts)
    try {
      this.#initRoot(opts.volumeId)
    } catch (err) {
      this.#journal.close()
      throw err
    }
  }

  #initRoot (volumeId: string | undefined): void {
    if (!this.#table.get(ROOT_KEY)) {
      const x: Record<string, string> = {}
      if (volumeId !== undefined) x['trusted.glusterfs.volume-id'] = gfidBytes(volumeId).toString('base64')
      this.#journal.commit({ k: ROOT_KEY, v: { t: 'd', l: [], x } })
    } else if (volumeId !== undefined) {
      const have = this.getXattr(ROOT_KEY, 'trusted.glusterfs.volume-id')
      if (have !== undefined && !have.equals(gfidBytes(volumeId))) {
        throw new Error(`brick ${this.root} belongs to volume ${gfidKey(have)}, not ${volumeId}`)
      }
      if (have === undefined) this.setXattrs(ROOT_KEY, new Map([['trusted.glusterfs.volume-id', gfidBytes(volumeId)]]))
    }
  }

  get journalRecovery (): JournalRecovery { return this.#journal.recovery }
  get objectCount (): number { return this.#table.size }
  /** what all xattrs cost the store-wide budget (names, values and a per-entry overhead) */
  get xattrBytes (): number { return this.#table.xattrBytes }

  close (): void { this.#journal.close() }
  /** Write a snapshot and empty the log now. */
  compact (): void { this.#journal.compact() }

  has (key: string): boolean { return this.#table.get(key) !== undefined }
  type (key: string): ObjectType | undefined { return this.#table.get(key)?.t }
  links (key: string): ReadonlyArray<readonly [string, string]> {
    const ino = this.#table.get(key)
    return ino === undefined ? [] : linksOf(ino)
  }

  #inode (key: string): Inode {
    const ino = this.#table.get(key)
    if (ino === undefined) throw new FopError('ESTALE', `gfid ${key} is not on this brick`)
    return ino
  }

  /**
   * The absolute path of an object, built from its first link up to the root. Unknown gfid →
   * ESTALE; a file with no link left (unlinked while open) → ENOENT.
   */
  pathOf (key: string): string {
    if (key === ROOT_KEY) return this.root
    const parts: string[] = []
    let k = key
    for (let depth = 0; k !== ROOT_KEY; depth++) {
      if (depth > MAX_DEPTH) throw new FopError('ELOOP', `gfid ${key}: parent chain too deep`)
      const ino = this.#table.get(k)
      if (ino === undefined) throw new FopError('ESTALE', `gfid ${k} is not on this brick`)
      if (depth > 0 && ino.t !== 'd') throw new FopError('ESTALE', `gfid ${k} is not a directory`)
      if (ino.p === '') throw new FopError('ENOENT', `gfid ${k} has no name left`)
      parts.push(ino.n)
      k = ino.p
    }
    parts.reverse()
    return path.join(this.root, ...parts)
  }

  /** Path of `name` inside directory `parent` (parent must be a directory). */
  childPath (parent: string, name: string): string {
    checkName(parent, name)
    const t = this.type(parent)
    if (t === undefined) throw new FopError('ESTALE', `parent gfid ${parent} is not on this brick`)
    if (t !== 'd') throw new FopError('ENOTDIR', `parent gfid ${parent} is not a directory`)
    return path.join(this.pathOf(parent), name)
  }

  /** The gfid linked as `name` in `parent`, if any. */
  child (parent: string, name: string): string | undefined { return this.#table.child(parent, name) }

  /** Children of a directory known to the store: name → gfid (do not modify). */
  childrenOf (parent: string): ReadonlyMap<string, string> { return this.#table.children(parent) }

  /**
   * Record a new object of type `t` linked as `parent/name`, with its xattrs and what clients
   * see as its mode, owner and rdev (`attrs.mode` must carry the type bits of `t`). When `key`
   * exists already this is a new link of it and `xattrs`/`attrs` are ignored. Xattrs over a
   * limit → ERANGE/E2BIG/ENOSPC, nothing recorded.
   */
  addObject (key: string, t: ObjectType, parent: string, name: string, xattrs?: Map<string, Buffer>, attrs?: InodeAttrs): void {
    if (this.#table.get(key) !== undefined) {
      this.addLink(key, parent, name)
      return
    }
    const v: Record<string, unknown> = { t, l: [[parent, name]] }
    if (xattrs !== undefined && xattrs.size > 0) {
      this.checkXattrs(null, xattrs)
      v.x = encodeXattrs(xattrs)
    }
    if (attrs !== undefined) v.a = encodeAttrs(checkAttrs(key, t, attrs, true))
    this.#unlinkName(parent, name)
    this.#journal.commit({ k: key, v })
  }

  /** Throw what addLink would (ESTALE, EMLINK), changing nothing: check before linking the backend. */
  checkLink (key: string): void {
    if (linkCount(this.#inode(key)) >= this.#linkMax) throw new FopError('EMLINK', `gfid ${key} has ${this.#linkMax} links already`)
  }

  /** Record a new link `parent/name` of an existing object (ESTALE when unknown, EMLINK at linkMax). */
  addLink (key: string, parent: string, name: string): void {
    if (this.child(parent, name) === key) return
    this.checkLink(key)
    this.#unlinkName(parent, name)
    this.#journal.commit({ k: key, la: [parent, name] })
  }

  /** Forget the link `parent/name`. Returns the gfid it named and how many links it has left. */
  removeLink (parent: string, name: string, opts: { keepRecord?: boolean } = {}): { key: string, linksLeft: number } | undefined {
    const key = this.child(parent, name)
    if (key === undefined) return undefined
    const ino = this.#table.get(key)
    if (ino === undefined) return { key, linksLeft: 0 }
    const linksLeft = linkCount(ino) - 1
    if (linksLeft === 0 && opts.keepRecord !== true) this.#journal.commit({ k: key, d: 1 })
    else this.#journal.commit({ k: key, lr: [parent, name] })
    return { key, linksLeft }
  }

  /** Drop an object with no links left (a file unlinked while open, on its last close). */
  forget (key: string): void {
    const ino = this.#table.get(key)
    if (ino !== undefined && ino.p === '' && key !== ROOT_KEY) this.#journal.commit({ k: key, d: 1 })
  }

  /** Move a link (RENAME). Whatever `newParent/newName` named loses that link first. */
  moveLink (oldParent: string, oldName: string, newParent: string, newName: string): { replaced?: { key: string, linksLeft: number } } {
    const key = this.child(oldParent, oldName)
    if (key === undefined) throw new FopError('ENOENT', `${oldName} not found`)
    const out: { replaced?: { key: string, linksLeft: number } } = {}
    const target = this.child(newParent, newName)
    if (target === key) {
      // both names are links of one inode: POSIX rename does nothing
      return out
    }
    if (target !== undefined) {
      const r = this.removeLink(newParent, newName, { keepRecord: true })
      if (r !== undefined) out.replaced = r
    }
    this.#journal.commit({ k: key, lm: [oldParent, oldName, newParent, newName] })
    return out
  }

  #unlinkName (parent: string, name: string): void {
    if (this.child(parent, name) !== undefined) this.removeLink(parent, name)
  }

  getXattr (key: string, name: string): Buffer | undefined {
    const v = xattrGet(this.#table.get(key)?.x, name)
    return v === undefined ? undefined : Buffer.from(v, 'latin1')
  }

  xattrs (key: string): Map<string, Buffer> {
    const out = new Map<string, Buffer>()
    for (const [name, v] of xattrEntries(this.#table.get(key)?.x)) out.set(name, Buffer.from(v, 'latin1'))
    return out
  }

  /**
   * Throw what setXattrs (`key` an existing object) or addObject (`key` null: a new one) would
   * throw for these xattrs, changing nothing: lets a fop refuse before it touches the backend.
   */
  checkXattrs (key: string | null, changes: ReadonlyMap<string, Buffer | null>): void {
    const x = key === null ? undefined : this.#inode(key).x
    checkXattrChanges(key, xattrEntries(x), n => xattrGet(x, n), changes, this.#limits, this.#table.xattrBytes)
  }

  /**
   * Set (Buffer) or remove (null) several xattrs in one journal record holding only those.
   * All or nothing: a name of 0 or over 255 bytes → ERANGE, a value over the size limit →
   * E2BIG, an inode's or the store's xattrs over their limit → ENOSPC (xattr-limits.ts), and
   * then nothing changed.
   */
  setXattrs (key: string, changes: Map<string, Buffer | null>): void {
    this.checkXattrs(key, changes)
    if (changes.size === 0) return
    this.#journal.commit({ k: key, x: encodeXattrs(changes) })
  }

  /**
   * Mode (with the type bits), uid, gid and rdev as clients see them; undefined for an object
   * recorded by a version without them (the brick then takes them from the backend's lstat).
   */
  attrs (key: string): InodeAttrs | undefined {
    const ino = this.#table.get(key)
    if (ino === undefined || ino.mode < 0) return undefined
    return { mode: ino.mode, uid: ino.uid, gid: ino.gid, rdev: BigInt(ino.rdev) }
  }

  /**
   * Change some of an object's attributes (one small journal record). Unknown gfid → ESTALE;
   * out-of-range values or a mode whose type bits differ from the object's → EINVAL (a mode
   * without type bits keeps the object's). An object without attributes yet (recorded by an
   * older version) must be given all four at once, else EINVAL.
   */
  setAttrs (key: string, changes: Partial<InodeAttrs>): void {
    const ino = this.#inode(key)
    const c = { ...changes }
    if (c.mode !== undefined && (c.mode & S_IFMT) === 0 && ino.mode >= 0) c.mode |= ino.mode & S_IFMT
    const checked = checkAttrs(key, ino.t, c, ino.mode < 0)
    if (ino.mode >= 0 && checked.mode !== undefined && (checked.mode & S_IFMT) !== (ino.mode & S_IFMT)) {
      throw new FopError('EINVAL', `gfid ${key}: mode ${checked.mode.toString(8)} changes the file type`)
    }
    const a = encodeAttrs(checked)
    if (Object.keys(a).length === 0) return
    this.#journal.commit({ k: key, a })
  }
}

/** Validate attributes for an object of type `t`; `whole`: all four are required. */
function checkAttrs (key: string, t: ObjectType, a: Partial<InodeAttrs>, whole: boolean): Partial<InodeAttrs> {
  const u32 = (v: number | undefined, what: string): void => {
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 0xffffffff)) throw new FopError('EINVAL', `gfid ${key}: ${what} ${v}`)
  }
  if (whole && (a.mode === undefined || a.uid === undefined || a.gid === undefined || a.rdev === undefined)) {
    throw new FopError('EINVAL', `gfid ${key}: mode, uid, gid and rdev are all needed for an object without attributes`)
  }
  u32(a.uid, 'uid')
  u32(a.gid, 'gid')
  if (a.mode !== undefined) {
    if (!Number.isInteger(a.mode) || a.mode < 0 || a.mode > 0o177777) throw new FopError('EINVAL', `gfid ${key}: mode ${a.mode}`)
    if (!TYPE_BITS[t].includes(a.mode & S_IFMT)) throw new FopError('EINVAL', `gfid ${key}: mode ${a.mode.toString(8)} is not of type ${t}`)
  }
  if (a.rdev !== undefined && (typeof a.rdev !== 'bigint' || a.rdev < 0n || a.rdev >= 1n << 64n)) throw new FopError('EINVAL', `gfid ${key}: rdev ${a.rdev}`)
  return a
}

/**
 * A name a client may use for an entry: not empty, `.` or `..`, no `/` or NUL, at most 255
 * bytes, and not our sidecar directory in the brick root.
 */
export function checkName (parent: string, name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new FopError('EINVAL', `invalid entry name ${JSON.stringify(name)}`)
  }
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) throw new FopError('ENAMETOOLONG', 'name too long')
  if (parent === ROOT_KEY && name === SIDECAR_DIR) throw new FopError('EPERM', `${SIDECAR_DIR} is reserved`)
}
