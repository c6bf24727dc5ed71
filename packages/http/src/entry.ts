// One LOOKUP per file: stat and, for small files, the content (quick-read's `glusterfs.content`),
// through Volume.lookup, plus a TTL cache of the answers that GlusterFS upcalls can invalidate.
import type { InvalidateEvent, VolumeEntry } from '@gluster-ts/volume'

export type Entry = VolumeEntry

interface Slot { at: number, entry?: Entry, error?: unknown, bytes: number }

/**
 * Entries (and lookup failures such as ENOENT) kept for `ttlMs`; the oldest go first when
 * `maxEntries` or `maxBytes` of content is exceeded. Only answers, never in-flight work, so a
 * failure that is not a clean "no such file" is not cached. Entries are indexed by gfid, so an
 * upcall drops them (invalidate()); `generation` lets a caller skip storing a LOOKUP answer that
 * an invalidation overtook.
 */
export class EntryCache {
  #ttl: number
  readonly #maxEntries: number
  readonly #maxBytes: number
  readonly #now: () => number
  #map = new Map<string, Slot>()
  #byGfid = new Map<string, Set<string>>()
  #bytes = 0
  /** bumped by every invalidation */
  generation = 0
  hits = 0
  misses = 0

  constructor (o: { ttlMs: number, maxEntries: number, maxBytes: number, now?: () => number }) {
    this.#ttl = o.ttlMs
    this.#maxEntries = o.maxEntries
    this.#maxBytes = o.maxBytes
    this.#now = o.now ?? (() => performance.now())
  }

  get size (): number { return this.#map.size }
  get ttlMs (): number { return this.#ttl }
  /** Change the lifetime (upcalls found on or gone); entries already cached keep their age. */
  set ttlMs (ms: number) { this.#ttl = ms; if (ms <= 0) this.clear() }

  get (key: string): Slot | undefined {
    if (this.#ttl <= 0) return undefined
    const s = this.#map.get(key)
    if (s === undefined) { this.misses++; return undefined }
    if (this.#now() - s.at >= this.#ttl) { this.#drop(key, s); this.misses++; return undefined }
    this.hits++
    return s
  }

  /** Cache `entry`; skipped when `since` (a generation read before the LOOKUP) is no longer current. */
  setEntry (key: string, entry: Entry, since = this.generation): void {
    if (this.#ttl <= 0 || since !== this.generation) return
    const bytes = entry.content?.length ?? 0
    this.#put(key, { at: this.#now(), entry: bytes <= this.#maxBytes / 16 ? entry : { ...entry, content: undefined } as Entry, bytes: bytes <= this.#maxBytes / 16 ? bytes : 0 })
  }

  setError (key: string, error: unknown, since = this.generation): void {
    if (this.#ttl <= 0 || since !== this.generation) return
    this.#put(key, { at: this.#now(), error, bytes: 0 })
  }

  delete (key: string): void {
    const s = this.#map.get(key)
    if (s !== undefined) this.#drop(key, s)
  }

  /** Forget every key equal to or below `prefix` (writes, renames). */
  deleteTree (prefix: string): void {
    for (const [k, s] of this.#map) if (k === prefix || k.startsWith(prefix.endsWith('/') ? prefix : prefix + '/')) this.#drop(k, s)
  }

  clear (): void { this.#map.clear(); this.#byGfid.clear(); this.#bytes = 0; this.generation++ }

  /**
   * A cache-invalidation upcall: drop the entries of that gfid (a directory: with everything
   * cached below it), and everything below `path` when the volume knew it. A directory that is
   * none of ours changed (an entry created or removed in it): drop the cached "no such file"
   * answers, which are the ones a create makes wrong. Returns the number of entries dropped.
   */
  invalidate (e: Pick<InvalidateEvent, 'gfid' | 'path' | 'type'>): number {
    this.generation++
    const before = this.#map.size
    const keys = this.#byGfid.get(e.gfid)
    const placed = keys !== undefined || e.path !== undefined
    for (const k of keys ?? []) {
      const s = this.#map.get(k)
      if (s?.entry?.stats.isDirectory() === true) this.deleteTree(k)
      else this.delete(k)
    }
    if (e.path !== undefined) this.deleteTree(e.path)
    if (!placed && (e.type === 'directory' || e.type === 'unknown')) {
      for (const [k, s] of this.#map) if (s.error !== undefined) this.#drop(k, s)
    }
    return before - this.#map.size
  }

  #put (key: string, s: Slot): void {
    this.delete(key)
    this.#map.set(key, s)
    this.#bytes += s.bytes
    const g = s.entry?.stats.gfid
    if (g !== undefined) {
      let set = this.#byGfid.get(g)
      if (set === undefined) this.#byGfid.set(g, set = new Set())
      set.add(key)
    }
    for (const [k, old] of this.#map) {
      if (this.#map.size <= this.#maxEntries && this.#bytes <= this.#maxBytes) break
      this.#drop(k, old)
    }
  }

  #drop (key: string, s: Slot): void {
    this.#map.delete(key)
    this.#bytes -= s.bytes
    const g = s.entry?.stats.gfid
    const set = g !== undefined ? this.#byGfid.get(g) : undefined
    if (set !== undefined) { set.delete(key); if (set.size === 0) this.#byGfid.delete(g!) }
  }
}
