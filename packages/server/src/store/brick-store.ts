// The brick's metadata: which gfid each object has, where it lives (its links: parent gfid +
// name, like the `.glusterfs/xx/yy/<gfid>` handles of a real brick), and its extended
// attributes. Node has no xattr calls, so everything GlusterFS keeps in xattrs lives here, in a
// Journal under `<brick>/.glusterfs-ts/`. Paths are never taken from the client: they are built
// from validated names along the gfid chain, so nothing can point outside the brick directory.
import fs from 'node:fs'
import path from 'node:path'
import { randomUUID } from 'node:crypto'
import { Journal } from './journal.js'
import type { JournalOptions } from './journal.js'
import { FopError } from './fop-error.js'

/** The sidecar directory in the brick root; hidden from clients (lookup → EPERM, readdir skips it). */
export const SIDECAR_DIR = '.glusterfs-ts'
export const ROOT_KEY = '00000000-0000-0000-0000-000000000001'
export const NULL_KEY = '00000000-0000-0000-0000-000000000000'
const MAX_DEPTH = 4096
const MAX_NAME_BYTES = 255

export type ObjectType = 'd' | 'f' | 'l' | 'o'

/** What the journal holds per gfid. Xattr values are base64. */
interface StoredObject {
  /** d = directory, f = regular file, l = symlink, o = other (fifo, device, socket) */
  t: ObjectType
  /** [parent gfid, name] for every link; empty for the root (and for a file whose last link is gone but is still open) */
  l: Array<[string, string]>
  x: Record<string, string>
}

/** gfid bytes → canonical UUID text (the key everywhere in the store). */
export function gfidKey (gfid: Buffer): string {
  if (gfid.length !== 16) throw new FopError('EINVAL', `gfid must be 16 bytes, got ${gfid.length}`)
  const h = gfid.toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
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

export interface BrickStoreOptions extends JournalOptions {
  /** the volume's UUID text; stored as trusted.glusterfs.volume-id on the root */
  volumeId?: string
}

export class BrickStore {
  /** the brick directory (absolute) */
  readonly root: string
  readonly #journal: Journal<StoredObject>
  /** parent gfid → (name → gfid) */
  readonly #dirs = new Map<string, Map<string, string>>()

  constructor (root: string, opts: BrickStoreOptions = {}) {
    this.root = path.resolve(root)
    fs.mkdirSync(this.root, { recursive: true })
    const st = fs.lstatSync(this.root)
    if (!st.isDirectory()) throw new Error(`brick ${this.root} is not a directory`)
    this.#journal = Journal.open<StoredObject>(path.join(this.root, SIDECAR_DIR, 'journal'), opts)
    for (const [key, rec] of this.#journal.entries()) {
      for (const [p, n] of rec.l) this.#setChild(p, n, key)
    }
    if (!this.#journal.has(ROOT_KEY)) {
      const x: Record<string, string> = {}
      if (opts.volumeId !== undefined) x['trusted.glusterfs.volume-id'] = gfidBytes(opts.volumeId).toString('base64')
      this.#journal.put(ROOT_KEY, { t: 'd', l: [], x })
    } else if (opts.volumeId !== undefined) {
      const have = this.getXattr(ROOT_KEY, 'trusted.glusterfs.volume-id')
      if (have !== undefined && !have.equals(gfidBytes(opts.volumeId))) {
        throw new Error(`brick ${this.root} belongs to volume ${gfidKey(have)}, not ${opts.volumeId}`)
      }
      if (have === undefined) this.setXattrs(ROOT_KEY, new Map([['trusted.glusterfs.volume-id', gfidBytes(opts.volumeId)]]))
    }
  }

  get journalRecovery (): Journal<StoredObject>['recovery'] { return this.#journal.recovery }
  get objectCount (): number { return this.#journal.size }

  close (): void { this.#journal.close() }
  /** Write a snapshot and empty the log now. */
  compact (): void { this.#journal.compact() }

  has (key: string): boolean { return this.#journal.has(key) }
  type (key: string): ObjectType | undefined { return this.#journal.get(key)?.t }
  links (key: string): ReadonlyArray<readonly [string, string]> { return this.#journal.get(key)?.l ?? [] }

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
      const rec = this.#journal.get(k)
      if (rec === undefined) throw new FopError('ESTALE', `gfid ${k} is not on this brick`)
      const link = rec.l[0]
      if (link === undefined) throw new FopError('ENOENT', `gfid ${k} has no name left`)
      parts.push(link[1])
      k = link[0]
      if (depth > 0 && this.#journal.get(k)?.t !== 'd' && k !== ROOT_KEY) throw new FopError('ESTALE', `gfid ${k} is not a directory`)
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
  child (parent: string, name: string): string | undefined { return this.#dirs.get(parent)?.get(name) }

  /** Children of a directory known to the store: name → gfid (do not modify). */
  childrenOf (parent: string): ReadonlyMap<string, string> { return this.#dirs.get(parent) ?? new Map() }

  #setChild (parent: string, name: string, key: string): void {
    let d = this.#dirs.get(parent)
    if (d === undefined) this.#dirs.set(parent, d = new Map())
    d.set(name, key)
  }

  #deleteChild (parent: string, name: string): void {
    const d = this.#dirs.get(parent)
    if (d === undefined) return
    d.delete(name)
    if (d.size === 0) this.#dirs.delete(parent)
  }

  /** Record a new object (or a new link of an existing one when it exists already). */
  addObject (key: string, t: ObjectType, parent: string, name: string, xattrs?: Map<string, Buffer>): void {
    const old = this.#journal.get(key)
    if (old !== undefined) {
      this.addLink(key, parent, name)
      return
    }
    const x: Record<string, string> = {}
    if (xattrs !== undefined) for (const [k, v] of xattrs) x[k] = v.toString('base64')
    this.#unlinkName(parent, name)
    this.#journal.put(key, { t, l: [[parent, name]], x })
    this.#setChild(parent, name, key)
  }

  addLink (key: string, parent: string, name: string): void {
    const rec = this.#journal.get(key)
    if (rec === undefined) throw new FopError('ESTALE', `gfid ${key} is not on this brick`)
    this.#unlinkName(parent, name)
    this.#journal.put(key, { ...rec, l: [...rec.l.filter(([p, n]) => !(p === parent && n === name)), [parent, name]] })
    this.#setChild(parent, name, key)
  }

  /** Forget the link `parent/name`. Returns the gfid it named and how many links it has left. */
  removeLink (parent: string, name: string, opts: { keepRecord?: boolean } = {}): { key: string, linksLeft: number } | undefined {
    const key = this.child(parent, name)
    if (key === undefined) return undefined
    this.#deleteChild(parent, name)
    const rec = this.#journal.get(key)
    if (rec === undefined) return { key, linksLeft: 0 }
    const l = rec.l.filter(([p, n]) => !(p === parent && n === name))
    if (l.length === 0 && opts.keepRecord !== true) this.#journal.delete(key)
    else this.#journal.put(key, { ...rec, l })
    return { key, linksLeft: l.length }
  }

  /** Drop an object with no links left (a file unlinked while open, on its last close). */
  forget (key: string): void {
    const rec = this.#journal.get(key)
    if (rec !== undefined && rec.l.length === 0 && key !== ROOT_KEY) this.#journal.delete(key)
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
    const rec = this.#journal.get(key)!
    const l = rec.l.map(([p, n]): [string, string] => (p === oldParent && n === oldName) ? [newParent, newName] : [p, n])
    this.#journal.put(key, { ...rec, l })
    this.#deleteChild(oldParent, oldName)
    this.#setChild(newParent, newName, key)
    return out
  }

  #unlinkName (parent: string, name: string): void {
    if (this.child(parent, name) !== undefined) this.removeLink(parent, name)
  }

  getXattr (key: string, name: string): Buffer | undefined {
    const v = this.#journal.get(key)?.x[name]
    return v === undefined ? undefined : Buffer.from(v, 'base64')
  }

  xattrs (key: string): Map<string, Buffer> {
    const rec = this.#journal.get(key)
    const out = new Map<string, Buffer>()
    if (rec !== undefined) for (const [k, v] of Object.entries(rec.x)) out.set(k, Buffer.from(v, 'base64'))
    return out
  }

  /** Set (Buffer) or remove (null) several xattrs in one journal record. */
  setXattrs (key: string, changes: Map<string, Buffer | null>): void {
    const rec = this.#journal.get(key)
    if (rec === undefined) throw new FopError('ESTALE', `gfid ${key} is not on this brick`)
    const x = { ...rec.x }
    for (const [k, v] of changes) {
      if (v === null) delete x[k]
      else x[k] = v.toString('base64')
    }
    this.#journal.put(key, { ...rec, x })
  }
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
