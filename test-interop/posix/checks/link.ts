// link(2): hard links to every type but directories, link counts up and down, the ctime of the
// file and the times of the directory that gets the name, EEXIST for every kind of existing name,
// EPERM for a directory, EACCES without write permission, no following of a symlink source,
// protected_hardlinks, EXDEV.
import fs from 'node:fs'
import { ALL_TYPES, MC, NON_DIR_TYPES, U1, U2, check, typeName } from '../check.js'
import type { Check } from '../check.js'

const out: Check[] = []
const add = (name: string, run: Check['run']): void => { out.push(check('link', name, run)) }

for (const t of NON_DIR_TYPES) {
  add(`a hard link to a ${typeName(t)} is the same inode; nlink goes 1, 2, 3 and back`, async c => {
    const f = await c.make(t, 'f')
    const st0 = await c.lstat(f)
    c.equal(st0.nlink, 1, 'nlink of a new f')
    c.ok(await c.root.link(f, c.p('l1')), 'link f l1')
    let st = await c.lstat(f)
    c.equal(st.nlink, 2, 'nlink of f after one link')
    const l1 = await c.lstat(c.p('l1'))
    c.equal(l1.type, t, 'type of l1')
    c.equal(l1.ino, st0.ino, 'inode of l1')
    c.ok(await c.root.link(c.p('l1'), c.p('l2')), 'link l1 l2')
    c.equal((await c.lstat(c.p('l2'))).nlink, 3, 'nlink of l2')
    c.ok(await c.root.unlink(f), 'unlink f')
    c.equal((await c.lstat(c.p('l1'))).nlink, 2, 'nlink of l1 after unlink f')
    c.ok(await c.root.unlink(c.p('l2')), 'unlink l2')
    st = await c.lstat(c.p('l1'))
    c.equal(st.nlink, 1, 'nlink of l1 after unlink l2')
    c.equal(st.ino, st0.ino, 'inode of l1')
  })
  add(`link moves the ctime of the ${typeName(t)} and the mtime and ctime of the new name's directory`, async c => {
    const f = await c.make(t, 'f')
    const d = await c.make('dir', 'd')
    const fb = await c.lstat(f)
    const db = await c.lstat(d)
    await c.settle()
    c.ok(await c.root.link(f, c.p('d', 'l')), 'link f d/l')
    c.moved(fb, await c.lstat(f), ['ctime'], 'f')
    c.moved(db, await c.lstat(d), MC, 'd')
  })
  add(`unlinking one of two names of a ${typeName(t)} moves its ctime`, async c => {
    const f = await c.make(t, 'f')
    c.ok(await c.root.link(f, c.p('l')), 'link f l')
    const before = await c.lstat(f)
    await c.settle()
    c.ok(await c.root.unlink(c.p('l')), 'unlink l')
    const after = await c.lstat(f)
    c.equal(after.nlink, 1, 'nlink of f')
    c.later(before.ctime, after.ctime, 'ctime of f')
  })
}

for (const t of ALL_TYPES) {
  add(`EEXIST when the new name exists as a ${typeName(t)}`, async c => {
    const f = await c.make('regular', 'f')
    const e = await c.make(t, 'e')
    const before = await c.lstat(f)
    c.fails(await c.root.link(f, e), 'EEXIST', `link f e (e a ${typeName(t)})`)
    c.equal((await c.lstat(f)).nlink, before.nlink, 'nlink of f')
    c.equal((await c.lstat(e)).type, t, 'type of e')
  })
}

add('EPERM when the source is a directory, for root and for its owner', async c => {
  const d = await c.make('dir', 'd', { uid: U1.uid, gid: U1.gid, mode: 0o777 })
  c.fails(await c.root.link(d, c.p('l')), 'EPERM', 'link d l as root')
  c.fails(await c.as(U1).link(d, c.p('d', 'l')), 'EPERM', 'link d d/l as the owner of d')
  await c.gone(c.p('l'))
})

add('EACCES when the new name\'s directory denies write; nothing changes', async c => {
  const d = await c.make('dir', 'd', { uid: U1.uid, gid: U1.gid, mode: 0o755 })
  const f = await c.make('regular', 'f', { uid: U1.uid, gid: U1.gid })
  const u = c.as(U1)
  c.ok(await u.link(f, c.p('d', 'l1')), 'link f d/l1 as the owner of d')
  c.ok(await c.root.chmod(d, 0o555), 'chmod d 0555')
  const before = await c.lstat(f)
  await c.settle()
  c.fails(await u.link(f, c.p('d', 'l2')), 'EACCES', 'link f d/l2 as the owner of d, d 0555')
  const after = await c.lstat(f)
  c.equal(after.nlink, 2, 'nlink of f')
  c.same(before.ctime, after.ctime, 'ctime of f')
  c.fails(await c.as(U2).link(f, c.p('l3')), ['EACCES', 'EPERM'], 'link f l3 as another user in a root 0755 directory')
})

add('link does not follow a symlink given as the source', async c => {
  await c.make('regular', 'f')
  const s = await c.make('symlink', 's', { target: 'f' })
  c.ok(await c.root.link(s, c.p('l')), 'link s l')
  const st = await c.lstat(c.p('l'))
  c.equal(st.type, 'symlink', 'type of l')
  c.equal(st.ino, (await c.lstat(s)).ino, 'inode of l')
  c.equal(c.ok(await c.root.readlink(c.p('l')), 'readlink l'), 'f', 'text of l')
  c.equal((await c.lstat(c.p('f'))).nlink, 1, 'nlink of f')
})

add('a link to a dangling symlink works', async c => {
  const s = await c.make('symlink', 's', { target: 'nothing' })
  c.ok(await c.root.link(s, c.p('l')), 'link s l')
  c.equal((await c.lstat(s)).nlink, 2, 'nlink of s')
})

add('a user links its own file into a directory it may write; the new name is the same file', async c => {
  await c.make('dir', 'd', { mode: 0o777 })
  const f = await c.make('regular', 'f', { uid: U1.uid, gid: U1.gid, mode: 0o600 })
  c.ok(await c.as(U1).link(f, c.p('d', 'l')), 'link f d/l as the owner of f')
  const st = await c.lstat(c.p('d', 'l'))
  c.equal(`${st.uid}:${st.gid}:${st.nlink}`, `${U1.uid}:${U1.gid}:2`, 'owner and nlink of d/l')
})

add('with fs.protected_hardlinks a user may not link a file it neither owns nor may read and write', async c => {
  const sysctl = '/proc/sys/fs/protected_hardlinks'
  if (!fs.existsSync(sysctl) || fs.readFileSync(sysctl, 'utf8').trim() !== '1') c.skip(`${sysctl} is not 1`)
  await c.make('dir', 'd', { mode: 0o777 })
  const f = await c.make('regular', 'f', { mode: 0o644 })
  c.fails(await c.as(U1).link(f, c.p('d', 'l')), 'EPERM', 'link a root 0644 file as another user')
  c.ok(await c.root.chmod(f, 0o666), 'chmod f 0666')
  c.ok(await c.as(U1).link(f, c.p('d', 'l')), 'link a root 0666 file as another user')
})

add('EXDEV when the new name is on another file system', async c => {
  const f = await c.make('regular', 'f')
  await c.elsewhere(async dst => { c.fails(await c.root.link(f, dst), 'EXDEV', `link f ${dst}`) })
})

export const LINK_CHECKS = out
