// rmdir(2): removing an empty directory (the parent's link count and times), ENOTEMPTY for every
// kind of entry, . and .., ENOTDIR, EACCES, and the sticky bit.
import { ALL_TYPES, MC, U1, U2, check, typeName } from '../check.js'
import type { Check } from '../check.js'
import type { Identity } from '../protocol.js'

const out: Check[] = []
const add = (name: string, run: Check['run']): void => { out.push(check('rmdir', name, run)) }

add('removes an empty directory; the parent loses a link and its mtime and ctime move', async c => {
  const p = await c.make('dir', 'p')
  await c.make('dir', 'p/d')
  const before = await c.lstat(p)
  await c.settle()
  c.ok(await c.root.rmdir(c.p('p', 'd')), 'rmdir p/d')
  await c.gone(c.p('p', 'd'))
  const after = await c.lstat(p)
  c.equal(after.nlink, before.nlink - 1, 'nlink of p')
  c.moved(before, after, MC, 'p')
})

for (const t of ALL_TYPES) {
  add(`ENOTEMPTY or EEXIST when the directory holds a ${typeName(t)}`, async c => {
    const d = await c.make('dir', 'd')
    await c.make(t, 'd/x')
    c.fails(await c.root.rmdir(d), ['ENOTEMPTY', 'EEXIST'], 'rmdir d')
    c.ok(await c.root.lstat(c.p('d', 'x')), 'lstat d/x')
  })
}

add('EINVAL for a final "."; ENOTEMPTY, EEXIST or EBUSY for a final ".."', async c => {
  await c.make('dir', 'd')
  await c.make('dir', 'd/e')
  c.fails(await c.root.rmdir(c.p('d', 'e') + '/.'), ['EINVAL', 'EBUSY'], 'rmdir d/e/.')
  c.fails(await c.root.rmdir(c.p('d', 'e') + '/..'), ['ENOTEMPTY', 'EEXIST', 'EBUSY'], 'rmdir d/e/..')
  c.ok(await c.root.lstat(c.p('d', 'e')), 'lstat d/e')
})

add('ENOTDIR on a regular file and on a symlink to a directory', async c => {
  const f = await c.make('regular', 'f')
  await c.make('dir', 'd')
  const s = await c.make('symlink', 's', { target: 'd' })
  c.fails(await c.root.rmdir(f), 'ENOTDIR', 'rmdir f')
  c.fails(await c.root.rmdir(s), 'ENOTDIR', 'rmdir s (a symlink to d)')
  c.ok(await c.root.lstat(c.p('d')), 'lstat d')
})

add('EACCES when the parent denies write, success once it allows it', async c => {
  const p = await c.make('dir', 'p', { uid: U1.uid, gid: U1.gid, mode: 0o555 })
  await c.make('dir', 'p/d', { uid: U1.uid, gid: U1.gid })
  c.fails(await c.as(U1).rmdir(c.p('p', 'd')), 'EACCES', 'rmdir p/d as the owner of p and d, p 0555')
  c.ok(await c.root.chmod(p, 0o755), 'chmod p 0755')
  c.fails(await c.as(U2).rmdir(c.p('p', 'd')), 'EACCES', 'rmdir p/d as another user, p 0755')
  c.ok(await c.as(U1).rmdir(c.p('p', 'd')), 'rmdir p/d as the owner of p')
})

add('sticky parent: EPERM or EACCES for a user who owns neither the parent nor the directory', async c => {
  await c.make('dir', 's', { mode: 0o1777 })
  await c.make('dir', 's/d', { uid: U1.uid, gid: U1.gid })
  c.fails(await c.as(U2).rmdir(c.p('s', 'd')), ['EPERM', 'EACCES'], 'rmdir s/d as U2')
  c.ok(await c.root.lstat(c.p('s', 'd')), 'lstat s/d')
})

const stickyRights: Array<[string, number, Identity]> = [
  ['the owner of the directory', 0, U1],
  ['the owner of the parent', U2.uid, U2],
  ['root', 0, { uid: 0, gid: 0 }],
]
for (const [who, parentOwner, me] of stickyRights) {
  add(`sticky parent: ${who} may remove it`, async c => {
    await c.make('dir', 's', { uid: parentOwner, gid: parentOwner, mode: 0o1777 })
    await c.make('dir', 's/d', { uid: U1.uid, gid: U1.gid })
    c.ok(await c.as(me).rmdir(c.p('s', 'd')), `rmdir s/d as ${who}`)
    await c.gone(c.p('s', 'd'))
  })
}

add('a failed rmdir changes the parent\'s times not at all', async c => {
  const p = await c.make('dir', 'p')
  await c.make('dir', 'p/d')
  await c.make('regular', 'p/d/x')
  const before = await c.lstat(p)
  await c.settle()
  c.fails(await c.root.rmdir(c.p('p', 'd')), ['ENOTEMPTY', 'EEXIST'], 'rmdir p/d')
  c.kept(before, await c.lstat(p), MC, 'p')
})

export const RMDIR_CHECKS = out
