// What a conformance check is and what it gets to work with. A check runs in a fresh directory of
// its own (mode 0755, owned by root), makes files as root, makes calls as root or as other users
// through the agents, and asserts on errno names, stat fields and nanosecond times. The first
// assertion that does not hold ends the check with a message that says which step and why.
import fs from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { AgentPool, Caller, Res } from './agents.js'
import type { FileType, Identity, StatInfo } from './protocol.js'

/** The system-call families of the suite (after pjdfstest's test directories). */
export const GROUPS = ['chmod', 'chown', 'link', 'mkdir', 'mkfifo', 'mknod', 'open', 'rename', 'rmdir', 'symlink',
  'truncate', 'ftruncate', 'unlink', 'utimensat', 'posix_fallocate', 'granular'] as const
export type Group = (typeof GROUPS)[number]

export interface Check {
  group: Group
  /** what the check shows, unique within the suite; reported as `group: name` */
  name: string
  run: (c: Ctx) => Promise<void>
}

export function check (group: Group, name: string, run: (c: Ctx) => Promise<void>): Check {
  return { group, name, run }
}

export function checkId (k: Check): string { return `${k.group}: ${k.name}` }

export class CheckFailure extends Error {}
export class CheckSkip extends Error {}

export const ROOT: Identity = { uid: 0, gid: 0 }
/** unprivileged users and groups no file starts with (pjdfstest's choice of numbers too: nobody and below) */
export const U1: Identity = { uid: 65534, gid: 65534 }
export const U2: Identity = { uid: 65533, gid: 65533 }
/** U1 with two supplementary groups */
export const U1_G: Identity = { uid: 65534, gid: 65534, groups: [65534, 65532, 65531] }
export const G3 = 65532
export const G4 = 65531

export const ALL_TYPES: readonly FileType[] = ['regular', 'dir', 'fifo', 'block', 'char', 'socket', 'symlink']
/** every type but symlink: what a call that follows links reaches */
export const TARGET_TYPES: readonly FileType[] = ALL_TYPES.filter(t => t !== 'symlink')
/** every type that unlink removes */
export const NON_DIR_TYPES: readonly FileType[] = ALL_TYPES.filter(t => t !== 'dir')

/** How long to wait before a call whose effect on a time is checked: the coarsest clock we meet ticks every 4-10 ms. */
const SETTLE_MS = 25

const DEFAULT_MODE: Record<FileType, number> = { regular: 0o644, dir: 0o755, fifo: 0o644, block: 0o644, char: 0o644, socket: 0o755, symlink: 0o777 }

export type TimeField = 'atime' | 'mtime' | 'ctime'
/** what a change to a directory's entries moves */
export const MC: readonly TimeField[] = ['mtime', 'ctime']

export interface MakeOptions { mode?: number, uid?: number, gid?: number, target?: string }

export class Ctx {
  readonly dir: string
  readonly root: Caller
  readonly #pool: AgentPool
  #step = 0

  constructor (pool: AgentPool, dir: string) {
    this.#pool = pool
    this.dir = dir
    this.root = pool.caller({ uid: 0, gid: 0 })
  }

  as (who: Identity): Caller { return this.#pool.caller(who) }

  /** a path in this check's directory (path.join: it folds '.' and '..', so spell those out) */
  p (...parts: string[]): string { return path.join(this.dir, ...parts) }

  /** paths relative to the check's directory, runs of one character (long names) as <c×n> */
  #rel (s: string): string {
    return s.split(this.dir + '/').join('').split(this.dir).join('.').replace(/(.)\1{15,}/g, (run, ch: string) => `<${ch}×${run.length}>`)
  }

  fail (what: string): never { throw new CheckFailure(`step ${this.#step}: ${this.#rel(what)}`) }
  skip (why: string): never { throw new CheckSkip(why) }

  /** the call succeeded; its value */
  ok<T> (r: Res<T>, what: string): T {
    this.#step++
    if (!r.ok) this.fail(`${what}: expected success, got ${r.code} (${r.message})`)
    return r.value
  }

  /** the call failed with (one of) these errno names */
  fails (r: Res<unknown>, codes: string | string[], what: string): void {
    this.#step++
    const want = typeof codes === 'string' ? [codes] : codes
    if (r.ok) this.fail(`${what}: expected ${want.join(' or ')}, got success`)
    if (!want.includes(r.code)) this.fail(`${what}: expected ${want.join(' or ')}, got ${r.code} (${r.message})`)
  }

  equal<T extends string | number | boolean | null> (actual: T, expected: T, what: string): void {
    this.#step++
    if (actual !== expected) this.fail(`${what}: expected ${show(expected)}, got ${show(actual)}`)
  }

  /** the mode bits, compared in octal */
  mode (st: StatInfo, expected: number, what: string): void {
    this.#step++
    if (st.perm !== expected) this.fail(`${what}: expected mode 0${expected.toString(8)}, got 0${st.perm.toString(8)}`)
  }

  true (cond: boolean, what: string): void {
    this.#step++
    if (!cond) this.fail(what)
  }

  /** a time (ns string) moved forward */
  later (before: string, after: string, what: string): void {
    this.#step++
    if (!(BigInt(after) > BigInt(before))) this.fail(`${what}: expected a later time than ${before}, got ${after}`)
  }

  /** these times of a file moved forward between two stats of it */
  moved (before: StatInfo, after: StatInfo, fields: readonly TimeField[], what: string): void {
    for (const f of fields) this.later(before[f], after[f], `${f} of ${what}`)
  }

  /** these times of a file did not move between two stats of it */
  kept (before: StatInfo, after: StatInfo, fields: readonly TimeField[], what: string): void {
    for (const f of fields) this.same(before[f], after[f], `${f} of ${what}`)
  }

  /** a time (ns string) did not move */
  same (before: string, after: string, what: string): void {
    this.#step++
    if (BigInt(after) !== BigInt(before)) this.fail(`${what}: expected it to stay ${before}, got ${after}`)
  }

  async lstat (p: string): Promise<StatInfo> { return this.ok(await this.root.lstat(p), `lstat ${p}`) }
  async stat (p: string): Promise<StatInfo> { return this.ok(await this.root.stat(p), `stat ${p}`) }

  /** the entry is gone */
  async gone (p: string): Promise<void> { this.fails(await this.root.lstat(p), 'ENOENT', `lstat ${p} after its removal`) }

  /** wait until a time taken after this is surely later than one taken before */
  async settle (): Promise<void> { await sleep(SETTLE_MS) }

  /**
   * Make a file of this type as root (its default mode, or opts.mode exactly, set-id bits too),
   * then give it to opts.uid/gid. A symlink points at opts.target (default: a name that does not exist).
   */
  async make (type: FileType, name: string, opts: MakeOptions = {}): Promise<string> {
    const p = this.p(name)
    const mode = opts.mode ?? DEFAULT_MODE[type]
    const r = this.root
    const what = `make ${type} ${name}`
    switch (type) {
      case 'regular': this.ok(await r.openclose(p, ['O_CREAT', 'O_EXCL', 'O_WRONLY'], mode & 0o777), what); break
      case 'dir': this.ok(await r.mkdir(p, mode & 0o777), what); break
      case 'fifo': this.ok(await r.mkfifo(p, mode & 0o777), what); break
      case 'block': this.ok(await r.mknod(p, 'b', mode & 0o777, 1, 2), what); break
      case 'char': this.ok(await r.mknod(p, 'c', mode & 0o777, 1, 3), what); break
      case 'socket': this.ok(await r.socket(p), what); break
      case 'symlink': this.ok(await r.symlink(opts.target ?? 'nowhere', p), what); break
    }
    if (opts.uid !== undefined || opts.gid !== undefined) this.ok(await r.lchown(p, opts.uid ?? -1, opts.gid ?? -1), `${what}: lchown`)
    // after the chown, which may clear set-id bits
    if (type !== 'symlink' && (type === 'socket' || (mode & ~0o777) !== 0)) this.ok(await r.chmod(p, mode), `${what}: chmod 0${mode.toString(8)}`)
    return p
  }

  /**
   * Run fn with a path on another file system (in /dev/shm, removed after), or skip the check
   * when there is none.
   */
  async elsewhere (fn: (p: string) => Promise<void>): Promise<void> {
    const other = '/dev/shm'
    if (!fs.existsSync(other) || fs.statSync(other).dev === fs.statSync(this.dir).dev) this.skip(`${other} is missing or on the same file system`)
    const p = path.join(other, `gts-posix-${process.pid}-${Date.now()}`)
    try { await fn(p) } finally { fs.rmSync(p, { force: true }) }
  }

  /** remove what make() made, as root */
  async remove (p: string): Promise<void> {
    const st = await this.lstat(p)
    this.ok(st.type === 'dir' ? await this.root.rmdir(p) : await this.root.unlink(p), `remove ${p}`)
  }
}

function show (v: unknown): string { return typeof v === 'string' ? JSON.stringify(v) : String(v) }

/** the one-word name a check uses for a type */
export function typeName (t: FileType): string { return t === 'regular' ? 'regular file' : t === 'dir' ? 'directory' : t === 'block' ? 'block device' : t === 'char' ? 'char device' : t }
