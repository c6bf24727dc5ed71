// What every call that makes a name shares (mkdir, mkfifo, mknod, open O_CREAT, symlink): the new
// file's type, mode under the umask, uid and gid (the caller's, or the directory's group when it
// is set-group-ID), its times and the directory's, EEXIST for every kind of existing name, EACCES
// when the directory denies write, and no change to the directory when the call fails.
import type { Caller, Res } from '../agents.js'
import { ALL_TYPES, MC, U1, U2, check, typeName } from '../check.js'
import type { Check, Group } from '../check.js'
import type { FileType } from '../protocol.js'

export interface CreateSubject {
  group: Group
  /** names the call in check names */
  label: string
  type: FileType
  call: (who: Caller, p: string, mode: number) => Promise<Res<unknown>>
  /** modes to try (the call takes a mode); none for symlink */
  modes?: number[]
  /** [umask, mode, expected] cases */
  umasks?: Array<[number, number, number]>
}

export function createChecks (s: CreateSubject): Check[] {
  const out: Check[] = []
  const add = (what: string, run: Check['run']): void => { out.push(check(s.group, `${s.label}: ${what}`, run)) }
  const what = typeName(s.type)

  if (s.modes !== undefined) {
    const modes = s.modes
    add(`makes a ${what} with the requested mode, owned by root`, async c => {
      for (const [i, mode] of modes.entries()) {
        const p = c.p(`n${i}`)
        c.ok(await s.call(c.root, p, mode), `${s.label} n${i} 0${mode.toString(8)}`)
        const st = await c.lstat(p)
        c.equal(st.type, s.type, `type of n${i}`)
        c.mode(st, mode, `mode of n${i}`)
        c.equal(`${st.uid}:${st.gid}`, '0:0', `owner of n${i}`)
      }
    })
  }
  if (s.umasks !== undefined) {
    const umasks = s.umasks
    add('applies the umask', async c => {
      for (const [i, [umask, mode, want]] of umasks.entries()) {
        const p = c.p(`n${i}`)
        c.ok(await s.call(c.root.withUmask(umask), p, mode), `${s.label} n${i} 0${mode.toString(8)} under umask 0${umask.toString(8)}`)
        c.mode(await c.lstat(p), want, `mode of n${i}`)
      }
    })
  }
  add(`a user's new ${what} gets its uid and its gid`, async c => {
    await c.make('dir', 'd', { mode: 0o777 })
    const p = c.p('d', 'n')
    c.ok(await s.call(c.as(U1), p, 0o644), `${s.label} d/n as U1`)
    const st = await c.lstat(p)
    c.equal(`${st.uid}:${st.gid}`, `${U1.uid}:${U1.gid}`, 'owner of d/n')
    const q = c.p('d', 'm')
    c.ok(await s.call(c.as({ uid: U2.uid, gid: U1.gid }), q, 0o644), `${s.label} d/m as U2 with U1's group`)
    const sq = await c.lstat(q)
    c.equal(`${sq.uid}:${sq.gid}`, `${U2.uid}:${U1.gid}`, 'owner of d/m')
  })
  add(`in a set-group-ID directory the new ${what} gets the directory's group`, async c => {
    await c.make('dir', 'd', { uid: U2.uid, gid: U2.gid, mode: 0o2777 })
    const p = c.p('d', 'n')
    c.ok(await s.call(c.as(U1), p, 0o755), `${s.label} d/n as U1`)
    const st = await c.lstat(p)
    c.equal(`${st.uid}:${st.gid}`, `${U1.uid}:${U2.gid}`, 'owner of d/n')
    if (s.type === 'dir') c.true((st.perm & 0o2000) !== 0, `a new directory keeps S_ISGID: mode 0${st.perm.toString(8)}`)
  })
  add(`sets the new ${what}'s times and moves the directory's mtime and ctime`, async c => {
    const d = await c.make('dir', 'd')
    const before = await c.lstat(d)
    await c.settle()
    const p = c.p('d', 'n')
    c.ok(await s.call(c.root, p, 0o644), `${s.label} d/n`)
    const st = await c.lstat(p)
    for (const f of ['atime', 'mtime', 'ctime'] as const) c.later(before.ctime, st[f], `${f} of d/n, against the ctime of d before`)
    c.moved(before, await c.lstat(d), MC, 'd')
  })
  for (const t of ALL_TYPES) {
    add(`EEXIST when the name exists as a ${typeName(t)}; the directory is unchanged`, async c => {
      const e = await c.make(t, 'e')
      const before = await c.lstat(c.dir)
      await c.settle()
      c.fails(await s.call(c.root, e, 0o644), 'EEXIST', `${s.label} e (e a ${typeName(t)})`)
      c.equal((await c.lstat(e)).type, t, 'type of e')
      c.kept(before, await c.lstat(c.dir), MC, 'the directory')
    })
  }
  add('EACCES when the directory denies write to the caller, success once it allows it', async c => {
    const d = await c.make('dir', 'd', { uid: U1.uid, gid: U1.gid, mode: 0o755 })
    const u = c.as(U1)
    c.ok(await c.root.chmod(d, 0o555), 'chmod d 0555')
    c.fails(await u.lstat(c.p('d', 'n')), 'ENOENT', 'lstat d/n as U1')
    c.fails(await s.call(u, c.p('d', 'n'), 0o644), 'EACCES', `${s.label} d/n as the owner of d, d 0555`)
    await c.gone(c.p('d', 'n'))
    c.fails(await s.call(c.as(U2), c.p('d', 'n'), 0o644), 'EACCES', `${s.label} d/n as another user, d 0555`)
    c.ok(await c.root.chmod(d, 0o777), 'chmod d 0777')
    c.ok(await s.call(c.as(U2), c.p('d', 'n'), 0o644), `${s.label} d/n as another user, d 0777`)
  })
  return out
}
