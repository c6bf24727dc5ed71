// unlink(2): removing every type but directories (the parent's times), one of several links (the
// file's nlink and ctime), EISDIR, EACCES, the sticky bit for every type, an open file that
// outlives its last name, a symlink removed and not its target.
import { MC, NON_DIR_TYPES, U1, U2, check, typeName } from '../check.js'
import type { Check } from '../check.js'
import type { FileType, Identity } from '../protocol.js'

const out: Check[] = []
const add = (name: string, run: Check['run']): void => { out.push(check('unlink', name, run)) }

for (const t of NON_DIR_TYPES) {
  add(`removes a ${typeName(t)}; the directory's mtime and ctime move`, async c => {
    const d = await c.make('dir', 'd')
    await c.make(t, 'd/f')
    const before = await c.lstat(d)
    await c.settle()
    c.ok(await c.root.unlink(c.p('d', 'f')), 'unlink d/f')
    await c.gone(c.p('d', 'f'))
    c.moved(before, await c.lstat(d), MC, 'd')
  })
  add(`removing one of three links of a ${typeName(t)} leaves the others with nlink 2 and a later ctime`, async c => {
    const f = await c.make(t, 'f')
    c.ok(await c.root.link(f, c.p('g')), 'link f g')
    c.ok(await c.root.link(f, c.p('h')), 'link f h')
    const before = await c.lstat(f)
    await c.settle()
    c.ok(await c.root.unlink(c.p('g')), 'unlink g')
    const after = await c.lstat(c.p('h'))
    c.equal(`${after.type}:${after.nlink}:${after.ino}`, `${t}:2:${before.ino}`, 'type, nlink and inode of h')
    c.later(before.ctime, after.ctime, 'ctime of h')
  })
}

add('EISDIR (or EPERM) on a directory, which stays', async c => {
  const d = await c.make('dir', 'd')
  c.fails(await c.root.unlink(d), ['EISDIR', 'EPERM'], 'unlink d')
  c.ok(await c.root.lstat(d), 'lstat d')
})

add('EACCES when the directory denies write; the file stays', async c => {
  const d = await c.make('dir', 'd', { uid: U1.uid, gid: U1.gid, mode: 0o555 })
  await c.make('regular', 'd/f', { uid: U1.uid, gid: U1.gid })
  c.fails(await c.as(U1).unlink(c.p('d', 'f')), 'EACCES', 'unlink d/f as the owner of d and f, d 0555')
  c.ok(await c.root.chmod(d, 0o755), 'chmod d 0755')
  c.fails(await c.as(U2).unlink(c.p('d', 'f')), 'EACCES', 'unlink d/f as another user, d 0755')
  c.ok(await c.root.lstat(c.p('d', 'f')), 'lstat d/f')
})

add('a failed unlink changes the directory\'s times not at all', async c => {
  const d = await c.make('dir', 'd', { uid: U1.uid, gid: U1.gid, mode: 0o555 })
  await c.make('regular', 'd/f')
  const before = await c.lstat(d)
  await c.settle()
  c.fails(await c.as(U1).unlink(c.p('d', 'f')), 'EACCES', 'unlink d/f as the owner of d, d 0555')
  c.kept(before, await c.lstat(d), MC, 'd')
})

for (const t of NON_DIR_TYPES) {
  add(`sticky directory: EPERM or EACCES removing another user's ${typeName(t)}`, async c => {
    await c.make('dir', 's', { mode: 0o1777 })
    await c.make(t, 's/f', { uid: U1.uid, gid: U1.gid })
    c.fails(await c.as(U2).unlink(c.p('s', 'f')), ['EPERM', 'EACCES'], 'unlink s/f as a user who owns neither s nor f')
    c.ok(await c.root.lstat(c.p('s', 'f')), 'lstat s/f')
  })
}

const stickyRights: Array<[string, number, Identity, FileType]> = [
  ['the owner of a regular file', 0, U1, 'regular'],
  ['the owner of a symlink', 0, U1, 'symlink'],
  ['the owner of a fifo', 0, U1, 'fifo'],
  ['the owner of the directory', U2.uid, U2, 'regular'],
  ['root', 0, { uid: 0, gid: 0 }, 'regular'],
]
for (const [who, dirOwner, me, t] of stickyRights) {
  add(`sticky directory: ${who} may remove the ${typeName(t)}`, async c => {
    await c.make('dir', 's', { uid: dirOwner, gid: dirOwner, mode: 0o1777 })
    await c.make(t, 's/f', { uid: U1.uid, gid: U1.gid })
    c.ok(await c.as(me).unlink(c.p('s', 'f')), `unlink s/f as ${who}`)
    await c.gone(c.p('s', 'f'))
  })
}

add('without the sticky bit any user who may write the directory removes others\' files', async c => {
  await c.make('dir', 'd', { mode: 0o777 })
  await c.make('regular', 'd/f', { uid: U1.uid, gid: U1.gid, mode: 0o600 })
  c.ok(await c.as(U2).unlink(c.p('d', 'f')), 'unlink d/f as a user who does not own f')
})

add('an open file outlives its last name: read, write and fstat (nlink 0) through the fd', async c => {
  const f = await c.make('regular', 'f')
  const fd = c.ok(await c.root.open(f, ['O_RDWR']), 'open f O_RDWR')
  c.ok(await c.root.write(fd, 'before'), 'write before')
  c.ok(await c.root.unlink(f), 'unlink f')
  await c.gone(f)
  c.ok(await c.root.write(fd, ' after'), 'write after')
  c.equal(c.ok(await c.root.read(fd, 20, 0), 'read'), 'before after', 'content through the fd')
  const st = c.ok(await c.root.fstat(fd), 'fstat')
  c.equal(`${st.nlink}:${st.size}`, '0:12', 'nlink and size through the fd')
})

add('unlink of a symlink removes the link, not its target', async c => {
  const f = await c.make('regular', 'f')
  const s = await c.make('symlink', 's', { target: 'f' })
  c.ok(await c.root.unlink(s), 'unlink s')
  await c.gone(s)
  c.equal((await c.lstat(f)).nlink, 1, 'nlink of f')
})

export const UNLINK_CHECKS = out
