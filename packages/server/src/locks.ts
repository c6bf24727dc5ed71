// Lock tables of one brick, with the semantics of GlusterFS's features/locks as clients rely on
// them (gluster-cluster.md §7.1 item 7):
//  * inodelk (INODELK/FINODELK): byte ranges per (gfid, domain), shared/exclusive, owned by
//    (connection, lk_owner); SETLK fails with EAGAIN on conflict, SETLKW queues.
//  * entrylk (ENTRYLK/FENTRYLK): per (directory gfid, domain), on a basename or the whole
//    directory (name null); LOCK_NB fails with EAGAIN, LOCK queues.
//  * posix locks (LK): byte ranges per gfid with POSIX rules (a new lock of the same owner
//    replaces what it overlaps; unlock splits ranges); GETLK reports a conflicting lock.
// Every lock and waiter of a connection goes away when it disconnects.
import { FopError } from './store/fop-error.js'

/** Who holds a lock: the connection (any object identifying it) and the lock owner bytes as hex. */
export interface LockOwner { conn: object, owner: string }

export const RDLCK = 0
export const WRLCK = 1
export const UNLCK = 2

export const RANGE_MAX = 0xffff_ffff_ffff_ffffn

export interface RangeLock {
  owner: LockOwner
  type: number
  start: bigint
  /** inclusive */
  end: bigint
  pid: number
}

interface Waiter<L> {
  lock: L
  resolve: () => void
  reject: (err: Error) => void
}

interface Queue<L> { granted: L[], waiting: Array<Waiter<L>> }

const sameOwner = (a: LockOwner, b: LockOwner): boolean => a.conn === b.conn && a.owner === b.owner

/** [start, end] from a flock's start and len (len 0 = to the end of the file). */
export function lockRange (start: bigint, len: bigint): { start: bigint, end: bigint } {
  if (len === 0n) return { start, end: RANGE_MAX }
  const end = start + len - 1n
  return { start, end: end > RANGE_MAX ? RANGE_MAX : end }
}

function rangesConflict (a: RangeLock, b: RangeLock): boolean {
  if (sameOwner(a.owner, b.owner)) return false
  if (a.end < b.start || b.end < a.start) return false
  return a.type === WRLCK || b.type === WRLCK
}

abstract class Table<L extends { owner: LockOwner }> {
  protected readonly queues = new Map<string, Queue<L>>()

  protected queue (key: string): Queue<L> {
    let q = this.queues.get(key)
    if (q === undefined) this.queues.set(key, q = { granted: [], waiting: [] })
    return q
  }

  protected abstract conflicts (a: L, b: L): boolean

  protected blockedBy (q: Queue<L>, lock: L): L | undefined {
    return q.granted.find(g => this.conflicts(g, lock))
  }

  /** Take `lock` now, or fail with EAGAIN (blocking false), or wait for it (blocking true). */
  protected acquire (key: string, lock: L, blocking: boolean): Promise<void> | undefined {
    const q = this.queue(key)
    if (this.blockedBy(q, lock) === undefined && (q.waiting.length === 0 || !blocking)) {
      this.grant(q, lock)
      return undefined
    }
    if (this.blockedBy(q, lock) === undefined) {
      // free, but others queued before us: only jump the queue when nobody waiting conflicts
      if (!q.waiting.some(w => this.conflicts(w.lock, lock))) {
        this.grant(q, lock)
        return undefined
      }
    }
    if (!blocking) {
      this.drop(key)
      throw new FopError('EAGAIN', 'lock held by another owner')
    }
    return new Promise<void>((resolve, reject) => { q.waiting.push({ lock, resolve, reject }) })
  }

  protected grant (q: Queue<L>, lock: L): void { q.granted.push(lock) }

  /** Grant waiters that no longer conflict, in arrival order. */
  protected wake (key: string): void {
    const q = this.queues.get(key)
    if (q === undefined) return
    let i = 0
    while (i < q.waiting.length) {
      const w = q.waiting[i]!
      const earlier = q.waiting.slice(0, i)
      if (this.blockedBy(q, w.lock) === undefined && !earlier.some(e => this.conflicts(e.lock, w.lock))) {
        q.waiting.splice(i, 1)
        this.grant(q, w.lock)
        w.resolve()
      } else {
        i++
      }
    }
    this.drop(key)
  }

  protected drop (key: string): void {
    const q = this.queues.get(key)
    if (q !== undefined && q.granted.length === 0 && q.waiting.length === 0) this.queues.delete(key)
  }

  /** Drop every lock and waiter of a connection (waiters are rejected with ENOTCONN). */
  releaseConnection (conn: object): void {
    for (const [key, q] of [...this.queues]) {
      const before = q.granted.length
      q.granted = q.granted.filter(l => l.owner.conn !== conn)
      const gone = q.waiting.filter(w => w.lock.owner.conn === conn)
      q.waiting = q.waiting.filter(w => w.lock.owner.conn !== conn)
      for (const w of gone) w.reject(new FopError('ENOTCONN', 'connection closed'))
      if (q.granted.length !== before || gone.length > 0) this.wake(key)
    }
  }

  get size (): number {
    let n = 0
    for (const q of this.queues.values()) n += q.granted.length
    return n
  }
}

/** INODELK / FINODELK. */
export class InodeLocks extends Table<RangeLock & { domain: string }> {
  protected conflicts (a: RangeLock, b: RangeLock): boolean { return rangesConflict(a, b) }

  /** Lock, or unlock when type is UNLCK. Resolves when granted. */
  lock (gfid: string, domain: string, l: RangeLock, blocking: boolean): Promise<void> | undefined {
    const key = `${gfid}\0${domain}`
    if (l.type === UNLCK) {
      const q = this.queues.get(key)
      if (q !== undefined) {
        q.granted = q.granted.filter(g => !(sameOwner(g.owner, l.owner) && !(g.end < l.start || l.end < g.start)))
        this.wake(key)
      }
      return undefined
    }
    return this.acquire(key, { ...l, domain }, blocking)
  }

  /** Granted locks on `gfid` (in `domain`, or in every domain). */
  count (gfid: string, domain?: string): number {
    if (domain !== undefined) return this.queues.get(`${gfid}\0${domain}`)?.granted.length ?? 0
    let n = 0
    const prefix = `${gfid}\0`
    for (const [k, q] of this.queues) if (k.startsWith(prefix)) n += q.granted.length
    return n
  }
}

export interface EntryLock { owner: LockOwner, name: string | null, type: number }

/** ENTRYLK / FENTRYLK (type 0 = shared, 1 = exclusive). */
export class EntryLocks extends Table<EntryLock> {
  protected conflicts (a: EntryLock, b: EntryLock): boolean {
    if (sameOwner(a.owner, b.owner)) return false
    if (a.name !== null && b.name !== null && a.name !== b.name) return false
    return a.type === WRLCK || b.type === WRLCK
  }

  lock (gfid: string, domain: string, l: EntryLock, blocking: boolean): Promise<void> | undefined {
    return this.acquire(`${gfid}\0${domain}`, l, blocking)
  }

  unlock (gfid: string, domain: string, l: EntryLock): void {
    const key = `${gfid}\0${domain}`
    const q = this.queues.get(key)
    if (q === undefined) return
    const i = q.granted.findIndex(g => sameOwner(g.owner, l.owner) && g.name === l.name)
    if (i >= 0) q.granted.splice(i, 1)
    this.wake(key)
  }

  /** Granted entry locks on directory `gfid` (any domain), or only those on `name`. */
  count (gfid: string, name?: string): number {
    let n = 0
    const prefix = `${gfid}\0`
    for (const [k, q] of this.queues) {
      if (!k.startsWith(prefix)) continue
      n += name === undefined ? q.granted.length : q.granted.filter(g => g.name === name || g.name === null).length
    }
    return n
  }
}

/** POSIX record locks (LK). */
export class PosixLocks extends Table<RangeLock> {
  protected conflicts (a: RangeLock, b: RangeLock): boolean { return rangesConflict(a, b) }

  /** The first lock of another owner that conflicts with `l`, for GETLK. */
  test (gfid: string, l: RangeLock): RangeLock | undefined {
    const q = this.queues.get(gfid)
    return q === undefined ? undefined : this.blockedBy(q, l)
  }

  /** SETLK / SETLKW (UNLCK unlocks the range). */
  set (gfid: string, l: RangeLock, blocking: boolean): Promise<void> | undefined {
    if (l.type === UNLCK) {
      const q = this.queues.get(gfid)
      if (q !== undefined) {
        q.granted = this.#carve(q.granted, l)
        this.wake(gfid)
      }
      return undefined
    }
    return this.acquire(gfid, l, blocking)
  }

  protected override grant (q: Queue<RangeLock>, lock: RangeLock): void {
    q.granted = this.#carve(q.granted, lock)
    q.granted.push(lock)
  }

  /** Remove [l.start, l.end] from l.owner's locks, splitting those that stick out. */
  #carve (granted: RangeLock[], l: RangeLock): RangeLock[] {
    const out: RangeLock[] = []
    for (const g of granted) {
      if (!sameOwner(g.owner, l.owner) || g.end < l.start || l.end < g.start) {
        out.push(g)
        continue
      }
      if (g.start < l.start) out.push({ ...g, end: l.start - 1n })
      if (g.end > l.end) out.push({ ...g, start: l.end + 1n })
    }
    return out
  }
}
