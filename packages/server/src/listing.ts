// Directory listings for READDIR/READDIRP. A directory fd reads its directory once (at offset 0)
// and pages through the sorted names by index (the d_off cookies), so a listing is held while
// the fd is open. Listings are shared: every fd that starts reading an unchanged directory gets
// the same one (the brick knows when a directory changes: every entry operation goes through it).
// Their memory is charged to the client whose fds hold them (each listing once per client) and to
// the process; past either budget the READDIR fails with ENOMEM, so a client opening thousands of
// directory fds on a big directory costs itself an error, not the server its memory.
import { FopError } from './store/fop-error.js'
import type { Budget } from './limits.js'

export interface Listing {
  readonly key: string
  /** '.', '..', then the names in byte order */
  readonly names: readonly string[]
  readonly bytes: number
  refs: number
}

/** What one client's directory fds hold. */
export interface ListingHolder {
  listings: Map<Listing, number>
  listingBytes: number
}

/** Rough heap bytes of a listing: the array slot, the string header, UTF-16 text. */
function sizeOf (names: readonly string[]): number {
  let n = 64
  for (const s of names) n += 40 + 2 * s.length
  return n
}

export class Listings {
  readonly #process: Budget
  readonly #perClient: number
  /** directory → its listing, while the directory has not changed since it was taken */
  readonly #current = new Map<string, Listing>()
  readonly #reading = new Map<string, Promise<Listing>>()
  #count = 0
  #bytes = 0

  constructor (processBytes: Budget, perClientBytes: number) {
    this.#process = processBytes
    this.#perClient = perClientBytes
  }

  /** Listings held and their bytes (every brick fd included). */
  get count (): number { return this.#count }
  get bytes (): number { return this.#bytes }

  /** The entries of directory `key` changed: fds that start reading it from now get a new listing. */
  changed (key: string): void { this.#current.delete(key) }

  /** The listing of `key` for a holder: the current one when the directory is unchanged, else `read()` it. */
  async acquire (key: string, holder: ListingHolder, read: () => Promise<string[]>): Promise<Listing> {
    let l = this.#current.get(key)
    if (l === undefined) {
      let p = this.#reading.get(key)
      if (p === undefined) {
        p = this.#read(key, read)
        this.#reading.set(key, p)
        const done = (): void => { if (this.#reading.get(key) === p) this.#reading.delete(key) }
        p.then(done, done)
      }
      l = await p
    }
    const held = holder.listings.get(l)
    if (held === undefined) {
      if (holder.listingBytes + l.bytes > this.#perClient) {
        if (l.refs === 0) this.#drop(l)
        throw new FopError('ENOMEM', `directory listings of this client would take ${holder.listingBytes + l.bytes} bytes, the limit is ${this.#perClient}`)
      }
      holder.listingBytes += l.bytes
    }
    holder.listings.set(l, (held ?? 0) + 1)
    l.refs++
    return l
  }

  async #read (key: string, read: () => Promise<string[]>): Promise<Listing> {
    const names = await read()
    names.sort(byBytes)
    const all = ['.', '..', ...names]
    const bytes = sizeOf(all)
    this.#process.take(bytes, 'ENOMEM')
    const l: Listing = { key, names: all, bytes, refs: 0 }
    this.#count++
    this.#bytes += bytes
    this.#current.set(key, l)
    return l
  }

  release (l: Listing, holder: ListingHolder): void {
    const held = holder.listings.get(l)
    if (held === undefined) return
    if (held <= 1) {
      holder.listings.delete(l)
      holder.listingBytes -= l.bytes
    } else {
      holder.listings.set(l, held - 1)
    }
    l.refs--
    if (l.refs <= 0) this.#drop(l)
  }

  #drop (l: Listing): void {
    if (this.#current.get(l.key) === l) this.#current.delete(l.key)
    this.#count--
    this.#bytes -= l.bytes
    this.#process.give(l.bytes)
  }
}

/** Names in byte order (what sort() gives for ASCII, and stable for any UTF-8). */
function byBytes (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
