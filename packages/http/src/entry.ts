// One LOOKUP per file: stat and, for small files, the content (quick-read's `glusterfs.content`),
// through Volume.lookup, plus a TTL cache of the answers.
import type { VolumeEntry } from '@gluster-ts/volume'

export type Entry = VolumeEntry

interface Slot { at: number, entry?: Entry, error?: unknown, bytes: number }

/**
 * Entries (and lookup failures such as ENOENT) kept for `ttlMs`; the oldest go first when
 * `maxEntries` or `maxBytes` of content is exceeded. Only answers, never in-flight work, so a
 * failure that is not a clean "no such file" is not cached.
 */
export class EntryCache {
  readonly #ttl: number
  readonly #maxEntries: number
  readonly #maxBytes: number
  readonly #now: () => number
  #map = new Map<string, Slot>()
  #bytes = 0
  hits = 0
  misses = 0

  constructor (o: { ttlMs: number, maxEntries: number, maxBytes: number, now?: () => number }) {
    this.#ttl = o.ttlMs
    this.#maxEntries = o.maxEntries
    this.#maxBytes = o.maxBytes
    this.#now = o.now ?? (() => performance.now())
  }

  get size (): number { return this.#map.size }

  get (key: string): Slot | undefined {
    if (this.#ttl <= 0) return undefined
    const s = this.#map.get(key)
    if (s === undefined) { this.misses++; return undefined }
    if (this.#now() - s.at >= this.#ttl) { this.#drop(key, s); this.misses++; return undefined }
    this.hits++
    return s
  }

  setEntry (key: string, entry: Entry): void {
    if (this.#ttl <= 0) return
    const bytes = entry.content?.length ?? 0
    this.#put(key, { at: this.#now(), entry: bytes <= this.#maxBytes / 16 ? entry : { ...entry, content: undefined } as Entry, bytes: bytes <= this.#maxBytes / 16 ? bytes : 0 })
  }

  setError (key: string, error: unknown): void {
    if (this.#ttl <= 0) return
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

  clear (): void { this.#map.clear(); this.#bytes = 0 }

  #put (key: string, s: Slot): void {
    this.delete(key)
    this.#map.set(key, s)
    this.#bytes += s.bytes
    for (const [k, old] of this.#map) {
      if (this.#map.size <= this.#maxEntries && this.#bytes <= this.#maxBytes) break
      this.#drop(k, old)
    }
  }

  #drop (key: string, s: Slot): void {
    this.#map.delete(key)
    this.#bytes -= s.bytes
  }
}
