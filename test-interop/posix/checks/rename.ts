// rename(2): every type renamed (same inode, the ctime moves, both directories' times move),
// renames over existing entries of every kind (and the errno when the kinds do not match),
// non-empty directories, a directory into itself, . and .., two names of one inode, write
// permission on both directories and on a directory moved to a new parent, the .. link and link
// counts of a moved directory, the sticky bit on either side, EXDEV.
import { ALL_TYPES, MC, NON_DIR_TYPES, U1, U2, check, typeName } from '../check.js'
import type { Check, Ctx } from '../check.js'
import type { FileType, Identity } from '../protocol.js'

const out: Check[] = []
const add = (name: string, run: Check['run']): void => { out.push(check('rename', name, run)) }

for (const t of ALL_TYPES) {
  add(`renames a ${typeName(t)}: the old name is gone, the new one is the same inode`, async c => {
    const f = await c.make(t, 'f')
    const before = await c.lstat(f)
    c.ok(await c.root.rename(f, c.p('g')), 'rename f g')
    await c.gone(f)
    const after = await c.lstat(c.p('g'))
    c.equal(`${after.type}:${after.ino}:${after.nlink}`, `${t}:${before.ino}:${before.nlink}`, 'type, inode and nlink of g')
  })
  add(`rename moves the ctime of the ${typeName(t)}`, async c => {
    const f = await c.make(t, 'f')
    const before = await c.lstat(f)
    await c.settle()
    c.ok(await c.root.rename(f, c.p('g')), 'rename f g')
    c.later(before.ctime, (await c.lstat(c.p('g'))).ctime, 'ctime of g')
  })
  add(`moving a ${typeName(t)} to another directory moves the mtime and ctime of both directories`, async c => {
    const a = await c.make('dir', 'a')
    const b = await c.make('dir', 'b')
    const f = c.p('a', 'f')
    await c.make(t, 'a/f')
    const ab = await c.lstat(a)
    const bb = await c.lstat(b)
    await c.settle()
    c.ok(await c.root.rename(f, c.p('b', 'f')), 'rename a/f b/f')
    c.moved(ab, await c.lstat(a), MC, 'a')
    c.moved(bb, await c.lstat(b), MC, 'b')
  })
}

/** make `src` of type s and `dst` of type d, with a second link to dst when it is not a directory */
async function pair (c: Ctx, s: FileType, d: FileType): Promise<{ src: string, dst: string, srcIno: string }> {
  const src = await c.make(s, 'src')
  const dst = await c.make(d, 'dst')
  return { src, dst, srcIno: (await c.lstat(src)).ino }
}

for (const s of NON_DIR_TYPES) {
  for (const d of NON_DIR_TYPES) {
    if (s !== 'regular' && d !== 'regular' && s !== d) continue // every type over a regular file, a regular file over every type, each over its own kind
    add(`a ${typeName(s)} over an existing ${typeName(d)} replaces it; the replaced file's other link stays with nlink 1`, async c => {
      const { src, dst, srcIno } = await pair(c, s, d)
      c.ok(await c.root.link(dst, c.p('keep')), 'link dst keep')
      const kept = await c.lstat(c.p('keep'))
      await c.settle()
      c.ok(await c.root.rename(src, dst), 'rename src dst')
      await c.gone(src)
      const st = await c.lstat(dst)
      c.equal(`${st.type}:${st.ino}`, `${s}:${srcIno}`, 'type and inode of dst')
      const k = await c.lstat(c.p('keep'))
      c.equal(`${k.type}:${k.ino}:${k.nlink}`, `${d}:${kept.ino}:1`, 'type, inode and nlink of keep')
      c.later(kept.ctime, k.ctime, 'ctime of keep (it lost a link)')
    })
  }
}

add('a directory over an empty directory replaces it', async c => {
  const { src, dst, srcIno } = await pair(c, 'dir', 'dir')
  await c.make('regular', 'src/inside')
  c.ok(await c.root.rename(src, dst), 'rename src dst')
  await c.gone(src)
  c.equal((await c.lstat(dst)).ino, srcIno, 'inode of dst')
  c.ok(await c.root.lstat(c.p('dst', 'inside')), 'lstat dst/inside')
})

for (const t of ALL_TYPES) {
  add(`a directory over a directory that holds a ${typeName(t)}: ENOTEMPTY or EEXIST, nothing moves`, async c => {
    const { src, dst } = await pair(c, 'dir', 'dir')
    await c.make(t, 'dst/x')
    c.fails(await c.root.rename(src, dst), ['ENOTEMPTY', 'EEXIST'], 'rename src dst')
    c.ok(await c.root.lstat(src), 'lstat src')
    c.ok(await c.root.lstat(c.p('dst', 'x')), 'lstat dst/x')
  })
}

for (const t of NON_DIR_TYPES) {
  add(`EISDIR renaming a ${typeName(t)} over a directory`, async c => {
    const { src, dst } = await pair(c, t, 'dir')
    c.fails(await c.root.rename(src, dst), 'EISDIR', 'rename src dst')
    c.equal((await c.lstat(src)).type, t, 'type of src')
    c.equal((await c.lstat(dst)).type, 'dir', 'type of dst')
  })
  add(`ENOTDIR renaming a directory over a ${typeName(t)}`, async c => {
    const { src, dst } = await pair(c, 'dir', t)
    c.fails(await c.root.rename(src, dst), 'ENOTDIR', 'rename src dst')
    c.equal((await c.lstat(src)).type, 'dir', 'type of src')
    c.equal((await c.lstat(dst)).type, t, 'type of dst')
  })
}

add('EINVAL moving a directory into itself or below itself', async c => {
  await c.make('dir', 'd')
  await c.make('dir', 'd/e')
  c.fails(await c.root.rename(c.p('d'), c.p('d', 'x')), 'EINVAL', 'rename d d/x')
  c.fails(await c.root.rename(c.p('d'), c.p('d', 'e', 'x')), 'EINVAL', 'rename d d/e/x')
  c.ok(await c.root.lstat(c.p('d', 'e')), 'lstat d/e')
})

add('renaming . or .. (or onto them): EINVAL or EBUSY', async c => {
  await c.make('dir', 'd')
  await c.make('dir', 'd/e')
  const codes = ['EINVAL', 'EBUSY']
  c.fails(await c.root.rename(`${c.p('d', 'e')}/.`, c.p('x')), codes, 'rename d/e/. x')
  c.fails(await c.root.rename(`${c.p('d', 'e')}/..`, c.p('x')), codes, 'rename d/e/.. x')
  c.fails(await c.root.rename(c.p('d', 'e'), `${c.p('d')}/.`), [...codes, 'EEXIST', 'ENOTEMPTY'], 'rename d/e d/.')
  await c.gone(c.p('x'))
})

add('renaming one name of an inode over another name of it does nothing; both stay', async c => {
  const f = await c.make('regular', 'f')
  c.ok(await c.root.link(f, c.p('g')), 'link f g')
  c.ok(await c.root.rename(f, c.p('g')), 'rename f g')
  c.ok(await c.root.lstat(f), 'lstat f')
  c.equal((await c.lstat(c.p('g'))).nlink, 2, 'nlink of g')
})

add('renaming a name onto itself succeeds and changes nothing', async c => {
  const f = await c.make('regular', 'f')
  const before = await c.lstat(f)
  c.ok(await c.root.rename(f, f), 'rename f f')
  c.equal((await c.lstat(f)).ino, before.ino, 'inode of f')
})

add('EACCES when the source directory denies write, and when the target directory does', async c => {
  const a = await c.make('dir', 'a', { uid: U1.uid, gid: U1.gid })
  const b = await c.make('dir', 'b', { uid: U1.uid, gid: U1.gid })
  await c.make('regular', 'a/f', { uid: U1.uid, gid: U1.gid })
  const u = c.as(U1)
  c.ok(await c.root.chmod(a, 0o555), 'chmod a 0555')
  c.fails(await u.rename(c.p('a', 'f'), c.p('b', 'f')), 'EACCES', 'rename a/f b/f as the owner of both, a 0555')
  c.ok(await c.root.chmod(a, 0o755), 'chmod a 0755')
  c.ok(await c.root.chmod(b, 0o555), 'chmod b 0555')
  c.fails(await u.rename(c.p('a', 'f'), c.p('b', 'f')), 'EACCES', 'rename a/f b/f as the owner of both, b 0555')
  c.ok(await c.root.chmod(b, 0o755), 'chmod b 0755')
  c.ok(await u.rename(c.p('a', 'f'), c.p('b', 'f')), 'rename a/f b/f as the owner of both')
})

add('a failed rename changes neither directory\'s times', async c => {
  const a = await c.make('dir', 'a', { uid: U1.uid, gid: U1.gid, mode: 0o555 })
  await c.make('regular', 'a/f')
  const before = await c.lstat(a)
  await c.settle()
  c.fails(await c.as(U1).rename(c.p('a', 'f'), c.p('a', 'g')), 'EACCES', 'rename a/f a/g as the owner of a, a 0555')
  c.kept(before, await c.lstat(a), MC, 'a')
})

add('moving a directory to another parent needs write permission on it (its .. changes); renaming it in place does not', async c => {
  await c.make('dir', 'a', { uid: U1.uid, gid: U1.gid })
  await c.make('dir', 'b', { uid: U1.uid, gid: U1.gid })
  await c.make('dir', 'a/sub', { mode: 0o755 })
  const u = c.as(U1)
  c.fails(await u.rename(c.p('a', 'sub'), c.p('b', 'sub')), 'EACCES', 'rename a/sub b/sub as U1, sub root\'s 0755')
  c.ok(await u.rename(c.p('a', 'sub'), c.p('a', 'sub2')), 'rename a/sub a/sub2 as U1')
  c.ok(await c.root.chmod(c.p('a', 'sub2'), 0o777), 'chmod a/sub2 0777')
  c.ok(await u.rename(c.p('a', 'sub2'), c.p('b', 'sub')), 'rename a/sub2 b/sub as U1, sub 0777')
})

add('moving a directory updates its ..: the old parent loses a link, the new parent gains one', async c => {
  const a = await c.make('dir', 'a')
  const b = await c.make('dir', 'b')
  await c.make('dir', 'a/sub')
  const na = (await c.lstat(a)).nlink
  const nb = (await c.lstat(b)).nlink
  c.ok(await c.root.rename(c.p('a', 'sub'), c.p('b', 'sub')), 'rename a/sub b/sub')
  c.equal((await c.lstat(a)).nlink, na - 1, 'nlink of a')
  c.equal((await c.lstat(b)).nlink, nb + 1, 'nlink of b')
  c.equal((await c.stat(`${c.p('b', 'sub')}/..`)).ino, (await c.lstat(b)).ino, 'inode of b/sub/..')
})

add('moving a directory over an empty one in another parent: link counts of both parents', async c => {
  const a = await c.make('dir', 'a')
  const b = await c.make('dir', 'b')
  await c.make('dir', 'a/sub')
  await c.make('dir', 'b/sub')
  const na = (await c.lstat(a)).nlink
  const nb = (await c.lstat(b)).nlink
  c.ok(await c.root.rename(c.p('a', 'sub'), c.p('b', 'sub')), 'rename a/sub b/sub')
  c.equal((await c.lstat(a)).nlink, na - 1, 'nlink of a')
  c.equal((await c.lstat(b)).nlink, nb, 'nlink of b')
})

// the sticky bit: in a sticky directory only the owner of an entry, the owner of the directory
// and root may remove or replace that entry
const STICKY_TYPES: FileType[] = ['regular', 'dir', 'fifo', 'symlink']

async function stickyDir (c: Ctx, owner = 0): Promise<string> {
  return c.make('dir', 's', { uid: owner, gid: owner, mode: 0o1777 })
}

for (const t of STICKY_TYPES) {
  add(`sticky source directory: EPERM or EACCES moving another user's ${typeName(t)} out`, async c => {
    await stickyDir(c)
    await c.make('dir', 'to', { mode: 0o777 })
    await c.make(t, 's/f', { uid: U1.uid, gid: U1.gid, mode: t === 'dir' ? 0o777 : undefined })
    c.fails(await c.as(U2).rename(c.p('s', 'f'), c.p('to', 'f')), ['EPERM', 'EACCES'], 'rename s/f to/f as a user who owns neither')
    c.fails(await c.as(U2).rename(c.p('s', 'f'), c.p('s', 'g')), ['EPERM', 'EACCES'], 'rename s/f s/g as a user who owns neither')
    c.ok(await c.root.lstat(c.p('s', 'f')), 'lstat s/f')
  })
  add(`sticky source directory: the owner of the ${typeName(t)} may move it`, async c => {
    await stickyDir(c)
    await c.make('dir', 'to', { mode: 0o777 })
    await c.make(t, 's/f', { uid: U1.uid, gid: U1.gid, mode: t === 'dir' ? 0o777 : undefined })
    c.ok(await c.as(U1).rename(c.p('s', 'f'), c.p('s', 'g')), 'rename s/f s/g as its owner')
    c.ok(await c.as(U1).rename(c.p('s', 'g'), c.p('to', 'f')), 'rename s/g to/f as its owner')
  })
  add(`sticky target directory: EPERM or EACCES replacing another user's ${typeName(t)}`, async c => {
    await stickyDir(c)
    await c.make(t, 's/dst', { uid: U1.uid, gid: U1.gid, mode: t === 'dir' ? 0o777 : undefined })
    await c.make(t, 's/src', { uid: U2.uid, gid: U2.gid, mode: t === 'dir' ? 0o777 : undefined })
    c.fails(await c.as(U2).rename(c.p('s', 'src'), c.p('s', 'dst')), ['EPERM', 'EACCES'], 'rename s/src s/dst as the owner of src only')
    c.equal((await c.lstat(c.p('s', 'dst'))).uid, U1.uid, 'owner of s/dst')
  })
}

const stickyRights: Array<[string, (c: Ctx) => Promise<Identity>]> = [
  ['the owner of the directory', async c => { await stickyDir(c, U2.uid); return U2 }],
  ['root', async c => { await stickyDir(c); return { uid: 0, gid: 0 } }],
]
for (const [who, setup] of stickyRights) {
  add(`sticky directory: ${who} may move and replace another user's entries`, async c => {
    const me = await setup(c)
    await c.make('regular', 's/f', { uid: U1.uid, gid: U1.gid })
    await c.make('regular', 's/g', { uid: U1.uid, gid: U1.gid })
    c.ok(await c.as(me).rename(c.p('s', 'f'), c.p('s', 'f2')), `rename s/f s/f2 as ${who}`)
    c.ok(await c.as(me).rename(c.p('s', 'f2'), c.p('s', 'g')), `rename s/f2 s/g (replacing) as ${who}`)
  })
}

add('a directory without the sticky bit lets any user with write permission move others\' files', async c => {
  await c.make('dir', 'd', { mode: 0o777 })
  await c.make('regular', 'd/f', { uid: U1.uid, gid: U1.gid })
  c.ok(await c.as(U2).rename(c.p('d', 'f'), c.p('d', 'g')), 'rename d/f d/g as a user who does not own f')
})

add('EXDEV when the new name is on another file system', async c => {
  const f = await c.make('regular', 'f')
  await c.elsewhere(async dst => { c.fails(await c.root.rename(f, dst), 'EXDEV', `rename f ${dst}`) })
  c.ok(await c.root.lstat(f), 'lstat f')
})

export const RENAME_CHECKS = out
