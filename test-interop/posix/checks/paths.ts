// The path-resolution errors every call that takes a path shares, generated for each such call
// ("subject"): a prefix component that is a file (ENOTDIR) or missing (ENOENT), a missing final
// name, names of NAME_MAX and NAME_MAX+1 bytes, paths of PATH_MAX-1 and PATH_MAX bytes, a prefix
// the caller may not search (EACCES, then success once it may), symlink loops in the prefix and,
// for calls that follow a final symlink, at the end (ELOOP).
import path from 'node:path'
import type { Caller, Res } from '../agents.js'
import { U1, check } from '../check.js'
import type { Check, Ctx, Group } from '../check.js'

export const NAME_MAX = 255
export const PATH_MAX = 4096

/** a name of exactly n bytes */
export function nameOf (n: number, fill = 'n'): string { return fill.repeat(n) }

/**
 * A relative path of exactly `total` bytes: 200-byte directory names, then a last name of 20-220
 * bytes. Returns the directories to make (each relative, parents first) and the whole path.
 */
export function longPath (total: number): { dirs: string[], path: string } {
  const n = Math.floor((total - 20) / 201)
  const dirs: string[] = []
  let prefix = ''
  for (let i = 0; i < n; i++) {
    prefix += `${nameOf(199, 'd')}${i % 10}/`
    dirs.push(prefix.slice(0, -1))
  }
  return { dirs, path: prefix + nameOf(total - prefix.length, 'f') }
}

/** make the directories of a longPath() under c.dir (relative calls: their absolute paths are too long) */
export async function makeLongDirs (c: Ctx, dirs: string[]): Promise<void> {
  const r = c.root.in(c.dir)
  for (const d of dirs) c.ok(await r.mkdir(d, 0o755), `mkdir ${d.length}-byte path`)
}

export interface PathSubject {
  group: Group
  /** names the call in check names: 'chmod', 'link (new name)' … */
  label: string
  /** 'existing': the path names a file of `type` the call acts on; 'new': the call makes the path */
  kind: 'existing' | 'new'
  type?: 'regular' | 'dir'
  /** the call follows a final symlink (ELOOP for a loop at the end) */
  follows: boolean
  /** other files the call needs, made in `base` (given to `owner`) before it */
  setup?: (c: Ctx, base: string, owner: number) => Promise<void>
  call: (who: Caller, p: string, base: string) => Promise<Res<unknown>>
  /** cases that do not apply ('missing': the call creates a missing file, e.g. fallocate(1) opens O_CREAT) */
  omit?: Array<'missing'>
}

async function makeTarget (c: Ctx, s: PathSubject, who: Caller, p: string, owner: number): Promise<void> {
  if (s.kind === 'new') return
  if (s.type === 'dir') c.ok(await who.mkdir(p, 0o755), `mkdir ${p}`)
  else c.ok(await who.openclose(p, ['O_CREAT', 'O_EXCL', 'O_WRONLY'], 0o644), `create ${p}`)
  if (owner !== 0) c.ok(await who.lchown(p, owner, owner), `chown ${p}`)
}

/** after a call that should have worked, the path is there */
async function expectDone (c: Ctx, s: PathSubject, who: Caller, p: string): Promise<void> {
  if (s.kind === 'new') c.ok(await who.lstat(p), `lstat ${p.length > 300 ? `${p.length}-byte path` : p} after ${s.label}`)
}

export function pathChecks (s: PathSubject): Check[] {
  const name = (what: string): string => `${s.label}: ${what}`
  const out: Check[] = []
  const add = (what: string, run: (c: Ctx) => Promise<void>): void => { out.push(check(s.group, name(what), run)) }
  const setup = async (c: Ctx, base: string, owner: number): Promise<void> => { if (s.setup !== undefined) await s.setup(c, base, owner) }

  add('ENOTDIR when a component of the path prefix is a regular file', async c => {
    await setup(c, c.dir, 0)
    await c.make('regular', 'file')
    c.fails(await s.call(c.root, c.p('file', 'x'), c.dir), 'ENOTDIR', `${s.label} file/x`)
  })
  add('ENOENT when a component of the path prefix does not exist', async c => {
    await setup(c, c.dir, 0)
    c.fails(await s.call(c.root, c.p('missing', 'x'), c.dir), 'ENOENT', `${s.label} missing/x`)
  })
  if (s.kind === 'existing' && !(s.omit ?? []).includes('missing')) {
    add('ENOENT when the named file does not exist', async c => {
      await setup(c, c.dir, 0)
      c.fails(await s.call(c.root, c.p('missing'), c.dir), 'ENOENT', `${s.label} missing`)
    })
  }
  add(`a name of NAME_MAX (${NAME_MAX}) bytes works`, async c => {
    await setup(c, c.dir, 0)
    const p = c.p(nameOf(NAME_MAX))
    await makeTarget(c, s, c.root, p, 0)
    c.ok(await s.call(c.root, p, c.dir), `${s.label} on a ${NAME_MAX}-byte name`)
    await expectDone(c, s, c.root, p)
  })
  add(`ENAMETOOLONG for a name of NAME_MAX+1 (${NAME_MAX + 1}) bytes`, async c => {
    await setup(c, c.dir, 0)
    c.fails(await s.call(c.root, c.p(nameOf(NAME_MAX + 1)), c.dir), 'ENAMETOOLONG', `${s.label} on a ${NAME_MAX + 1}-byte name`)
  })
  add(`a relative path of PATH_MAX-1 (${PATH_MAX - 1}) bytes works`, async c => {
    await setup(c, c.dir, 0)
    const lp = longPath(PATH_MAX - 1)
    await makeLongDirs(c, lp.dirs)
    const r = c.root.in(c.dir)
    await makeTarget(c, s, r, lp.path, 0)
    c.ok(await s.call(r, lp.path, c.dir), `${s.label} on a ${lp.path.length}-byte path`)
    await expectDone(c, s, r, lp.path)
  })
  add(`ENAMETOOLONG for a path of PATH_MAX (${PATH_MAX}) bytes`, async c => {
    await setup(c, c.dir, 0)
    const lp = longPath(PATH_MAX)
    c.fails(await s.call(c.root.in(c.dir), lp.path, c.dir), 'ENAMETOOLONG', `${s.label} on a ${lp.path.length}-byte path`)
  })
  add('EACCES when a directory of the path prefix denies search, success once it allows it', async c => {
    const d = await c.make('dir', 'dir', { uid: U1.uid, gid: U1.gid })
    await setup(c, d, U1.uid)
    const p = path.join(d, 'x')
    await makeTarget(c, s, c.root, p, U1.uid)
    c.ok(await c.root.chmod(d, 0o644), 'chmod dir 0644')
    const u = c.as(U1)
    c.fails(await s.call(u, p, d), 'EACCES', `${s.label} dir/x as the owner of dir, dir mode 0644`)
    c.ok(await c.root.chmod(d, 0o755), 'chmod dir 0755')
    c.ok(await s.call(u, p, d), `${s.label} dir/x as the owner of dir, dir mode 0755`)
    await expectDone(c, s, u, p)
  })
  add('ELOOP when the path prefix runs through a symlink loop', async c => {
    await setup(c, c.dir, 0)
    await c.make('symlink', 'loop1', { target: 'loop2' })
    await c.make('symlink', 'loop2', { target: 'loop1' })
    c.fails(await s.call(c.root, c.p('loop1', 'x'), c.dir), 'ELOOP', `${s.label} loop1/x`)
  })
  if (s.follows) {
    add('ELOOP when the final name is a symlink loop', async c => {
      await setup(c, c.dir, 0)
      await c.make('symlink', 'loop1', { target: 'loop2' })
      await c.make('symlink', 'loop2', { target: 'loop1' })
      c.fails(await s.call(c.root, c.p('loop1'), c.dir), 'ELOOP', `${s.label} loop1`)
    })
  }
  return out
}

/** ftruncate and utimensat-style calls that need an fd: open, call, close */
export async function withFd<T> (who: Caller, p: string, flags: Parameters<Caller['open']>[1], fn: (fd: number) => Promise<Res<T>>): Promise<Res<T>> {
  const fd = await who.open(p, flags)
  if (!fd.ok) return fd
  try { return await fn(fd.value) } finally { await who.close(fd.value) }
}

/** the path subjects of every group */
export const PATH_SUBJECTS: PathSubject[] = [
  { group: 'chmod', label: 'chmod', kind: 'existing', follows: true, call: (w, p) => w.chmod(p, 0o640) },
  { group: 'chown', label: 'chown', kind: 'existing', follows: true, call: (w, p) => w.chown(p, w.who.uid, w.who.gid) },
  { group: 'chown', label: 'lchown', kind: 'existing', follows: false, call: (w, p) => w.lchown(p, w.who.uid, w.who.gid) },
  {
    group: 'link', label: 'link (existing name)', kind: 'existing', follows: false,
    call: (w, p, base) => w.link(p, path.join(base, 'newlink')),
  },
  {
    group: 'link', label: 'link (new name)', kind: 'new', follows: false,
    setup: async (c, base, owner) => { await makeOwned(c, path.join(base, 'src'), owner) },
    call: (w, p, base) => w.link(path.join(base, 'src'), p),
  },
  { group: 'mkdir', label: 'mkdir', kind: 'new', follows: false, call: (w, p) => w.mkdir(p, 0o755) },
  { group: 'mkfifo', label: 'mkfifo', kind: 'new', follows: false, call: (w, p) => w.mkfifo(p, 0o644) },
  { group: 'mknod', label: 'mknod fifo', kind: 'new', follows: false, call: (w, p) => w.mknod(p, 'p', 0o644) },
  { group: 'open', label: 'open O_RDONLY', kind: 'existing', follows: true, call: (w, p) => w.openclose(p, ['O_RDONLY']) },
  { group: 'open', label: 'open O_CREAT', kind: 'new', follows: true, call: (w, p) => w.openclose(p, ['O_CREAT', 'O_WRONLY'], 0o644) },
  {
    group: 'rename', label: 'rename (old name)', kind: 'existing', follows: false,
    call: (w, p, base) => w.rename(p, path.join(base, 'renamed')),
  },
  {
    group: 'rename', label: 'rename (new name)', kind: 'new', follows: false,
    setup: async (c, base, owner) => { await makeOwned(c, path.join(base, 'src'), owner) },
    call: (w, p, base) => w.rename(path.join(base, 'src'), p),
  },
  { group: 'rmdir', label: 'rmdir', kind: 'existing', type: 'dir', follows: false, call: (w, p) => w.rmdir(p) },
  { group: 'symlink', label: 'symlink', kind: 'new', follows: false, call: (w, p) => w.symlink('target', p) },
  { group: 'truncate', label: 'truncate', kind: 'existing', follows: true, call: (w, p) => w.truncate(p, 123) },
  {
    group: 'ftruncate', label: 'open+ftruncate', kind: 'existing', follows: true,
    call: (w, p) => withFd(w, p, ['O_RDWR'], fd => w.ftruncate(fd, 123)),
  },
  { group: 'unlink', label: 'unlink', kind: 'existing', follows: false, call: (w, p) => w.unlink(p) },
  { group: 'utimensat', label: 'utimensat', kind: 'existing', follows: true, call: (w, p) => w.utimes(p, 1_000_000_000, 1_000_000_000) },
  {
    group: 'posix_fallocate', label: 'posix_fallocate', kind: 'existing', follows: true, omit: ['missing'],
    call: (w, p) => w.fallocate(p, 0, 4096),
  },
]

async function makeOwned (c: Ctx, p: string, owner: number): Promise<void> {
  c.ok(await c.root.openclose(p, ['O_CREAT', 'O_EXCL', 'O_WRONLY'], 0o644), `create ${p}`)
  if (owner !== 0) c.ok(await c.root.lchown(p, owner, owner), `chown ${p}`)
}

export const PATH_CHECKS: Check[] = PATH_SUBJECTS.flatMap(pathChecks)
