// chmod(2)/fchmod(2): the mode of every file type, through symlinks, who may change it (owner and
// root), the ctime, S_ISGID dropped for an owner outside the file's group, the sticky bit, and
// S_ISUID/S_ISGID cleared when someone writes to the file.
import { G3, ROOT, TARGET_TYPES, U1, U1_G, U2, check, typeName } from '../check.js'
import type { Check } from '../check.js'
import type { Identity } from '../protocol.js'

const out: Check[] = []
const add = (name: string, run: Check['run']): void => { out.push(check('chmod', name, run)) }

for (const t of TARGET_TYPES) {
  add(`sets the mode of a ${typeName(t)}`, async c => {
    const f = await c.make(t, 'f')
    c.ok(await c.root.chmod(f, 0o111), 'chmod f 0111')
    c.mode(await c.lstat(f), 0o111, 'mode of f')
    c.ok(await c.root.chmod(f, 0o640), 'chmod f 0640')
    c.mode(await c.lstat(f), 0o640, 'mode of f')
  })
  add(`through a symlink changes the ${typeName(t)}, not the link`, async c => {
    const f = await c.make(t, 'f')
    const l = await c.make('symlink', 'l', { target: 'f' })
    const linkMode = (await c.lstat(l)).perm
    c.ok(await c.root.chmod(l, 0o222), 'chmod l 0222')
    c.mode(await c.stat(l), 0o222, 'mode through l')
    c.mode(await c.lstat(f), 0o222, 'mode of f')
    c.mode(await c.lstat(l), linkMode, 'mode of the link itself')
  })
  add(`moves the ctime of a ${typeName(t)}`, async c => {
    const f = await c.make(t, 'f')
    const before = await c.lstat(f)
    await c.settle()
    c.ok(await c.root.chmod(f, 0o111), 'chmod f 0111')
    c.later(before.ctime, (await c.lstat(f)).ctime, 'ctime of f')
  })
  add(`EPERM for a user who does not own the ${typeName(t)}; mode and ctime unchanged`, async c => {
    const f = await c.make(t, 'f', { mode: 0o644 })
    const before = await c.lstat(f)
    await c.settle()
    c.fails(await c.as(U1).chmod(f, 0o777), 'EPERM', 'chmod f 0777 as a user who does not own it')
    const after = await c.lstat(f)
    c.mode(after, 0o644, 'mode of f')
    c.same(before.ctime, after.ctime, 'ctime of f')
  })
  add(`root sets the sticky bit on a ${typeName(t)}`, async c => {
    const f = await c.make(t, 'f')
    c.ok(await c.root.chmod(f, 0o1621), 'chmod f 01621')
    c.mode(await c.lstat(f), 0o1621, 'mode of f')
  })
}

add('the owner may chmod its file; another user gets EPERM; after a chown to root the former owner does too', async c => {
  await c.make('dir', 'd', { uid: U1.uid, gid: U1.gid })
  const f = c.p('d', 'f')
  c.ok(await c.as(U1).openclose(f, ['O_CREAT', 'O_EXCL', 'O_WRONLY'], 0o644), 'create d/f as its owner-to-be')
  c.ok(await c.as(U1).chmod(f, 0o642), 'chmod d/f 0642 as its owner')
  c.mode(await c.lstat(f), 0o642, 'mode of d/f')
  c.fails(await c.as(U2).chmod(f, 0o641), 'EPERM', 'chmod d/f 0641 as another user')
  c.mode(await c.lstat(f), 0o642, 'mode of d/f')
  c.ok(await c.root.chown(f, 0, 0), 'chown d/f 0:0')
  c.fails(await c.as(U1).chmod(f, 0o641), 'EPERM', 'chmod d/f 0641 as its former owner')
  c.mode(await c.lstat(f), 0o642, 'mode of d/f')
})

add('through a symlink: the owner of the target may chmod, another user gets EPERM', async c => {
  const f = await c.make('regular', 'f', { uid: U1.uid, gid: U1.gid })
  const l = await c.make('symlink', 'l', { target: 'f' })
  c.ok(await c.as(U1).chmod(l, 0o642), 'chmod l 0642 as the owner of f')
  c.mode(await c.lstat(f), 0o642, 'mode of f')
  c.fails(await c.as(U2).chmod(l, 0o641), 'EPERM', 'chmod l 0641 as another user')
  c.mode(await c.lstat(f), 0o642, 'mode of f')
})

add('root may chmod a file it does not own', async c => {
  const f = await c.make('regular', 'f', { uid: U1.uid, gid: U1.gid, mode: 0o600 })
  c.ok(await c.root.chmod(f, 0o4751), 'chmod f 04751 as root')
  c.mode(await c.lstat(f), 0o4751, 'mode of f')
})

// S_ISGID on a file: kept when the caller is root or in the file's group (by egid or a
// supplementary group); an owner outside the group succeeds but loses the bit
const sgidCases: Array<[string, number, Identity, number]> = [
  ['the owner in the file\'s group (egid)', U1.gid, U1, 0o2755],
  ['the owner in the file\'s group through a supplementary group', G3, U1_G, 0o2755],
  ['an owner outside the file\'s group (chmod succeeds, the bit is dropped)', U1.gid, { uid: U1.uid, gid: U2.gid, groups: [U2.gid] }, 0o755],
  ['root, whatever the file\'s group', U1.gid, ROOT, 0o2755],
]
for (const [who, gid, caller, want] of sgidCases) {
  add(`chmod 02755 by ${who}: mode 0${want.toString(8)}`, async c => {
    const f = await c.make('regular', 'f', { uid: U1.uid, gid, mode: 0o755 })
    c.ok(await c.as(caller).chmod(f, 0o2755), `chmod f 02755 as ${who}`)
    c.mode(await c.lstat(f), want, 'mode of f')
  })
}

add('the owner of a directory may set its sticky bit, through a symlink too', async c => {
  const d = await c.make('dir', 'd', { uid: U1.uid, gid: U1.gid })
  const l = await c.make('symlink', 'l', { target: 'd' })
  c.ok(await c.as(U1).chmod(d, 0o1755), 'chmod d 01755 as its owner')
  c.mode(await c.lstat(d), 0o1755, 'mode of d')
  c.ok(await c.as(U1).chmod(l, 0o1700), 'chmod l 01700 as the owner of d')
  c.mode(await c.lstat(d), 0o1700, 'mode of d')
})

for (const t of TARGET_TYPES.filter(t => t !== 'dir')) {
  add(`the non-root owner of a ${typeName(t)} may set its sticky bit (Linux keeps it)`, async c => {
    const f = await c.make(t, 'f', { uid: U1.uid, gid: U1.gid, mode: 0o640 })
    c.ok(await c.as(U1).chmod(f, 0o1644), 'chmod f 01644 as its owner')
    c.mode(await c.lstat(f), 0o1644, 'mode of f')
  })
}

const clearCases: Array<[string, number, 'O_WRONLY' | 'O_RDWR']> = [['S_ISUID', 0o4777, 'O_WRONLY'], ['S_ISGID', 0o2777, 'O_RDWR'], ['S_ISUID and S_ISGID', 0o6777, 'O_RDWR']]
for (const [bits, mode, flag] of clearCases) {
  add(`a write by a user who does not own the file clears ${bits}`, async c => {
    const f = await c.make('regular', 'f', { mode })
    const u = c.as(U1)
    const fd = c.ok(await u.open(f, [flag]), `open f ${flag} as another user`)
    c.ok(await u.write(fd, 'x'), 'write x')
    c.mode(c.ok(await u.fstat(fd), 'fstat'), 0o777, 'mode of f seen through the fd')
    c.ok(await u.close(fd), 'close')
    c.mode(await c.stat(f), 0o777, 'mode of f')
  })
}

add('a write by the non-root owner clears S_ISUID', async c => {
  const f = await c.make('regular', 'f', { uid: U1.uid, gid: U1.gid, mode: 0o4755 })
  const u = c.as(U1)
  const fd = c.ok(await u.open(f, ['O_WRONLY']), 'open f O_WRONLY as its owner')
  c.ok(await u.write(fd, 'x'), 'write x')
  c.ok(await u.close(fd), 'close')
  c.mode(await c.stat(f), 0o755, 'mode of f')
})

add('a write by root keeps S_ISUID and S_ISGID', async c => {
  const f = await c.make('regular', 'f', { uid: U1.uid, gid: U1.gid, mode: 0o6755 })
  const fd = c.ok(await c.root.open(f, ['O_WRONLY']), 'open f O_WRONLY as root')
  c.ok(await c.root.write(fd, 'x'), 'write x')
  c.ok(await c.root.close(fd), 'close')
  c.mode(await c.stat(f), 0o6755, 'mode of f')
})

add('fchmod on an open fd sets the mode and moves the ctime', async c => {
  const f = await c.make('regular', 'f', { uid: U1.uid, gid: U1.gid })
  const u = c.as(U1)
  const fd = c.ok(await u.open(f, ['O_RDONLY']), 'open f O_RDONLY as its owner')
  const before = await c.lstat(f)
  await c.settle()
  c.ok(await u.fchmod(fd, 0o600), 'fchmod 0600')
  const after = await c.lstat(f)
  c.mode(after, 0o600, 'mode of f')
  c.later(before.ctime, after.ctime, 'ctime of f')
})

add('fchmod on an fd by a user who does not own the file: EPERM', async c => {
  const f = await c.make('regular', 'f', { mode: 0o644 })
  const u = c.as(U1)
  const fd = c.ok(await u.open(f, ['O_RDONLY']), 'open f O_RDONLY as another user')
  c.fails(await u.fchmod(fd, 0o666), 'EPERM', 'fchmod 0666')
  c.mode(await c.lstat(f), 0o644, 'mode of f')
})

export const CHMOD_CHECKS = out
