// chown(2)/lchown(2)/fchown(2): uid and gid of every type, through symlinks or not, the owner's
// limited rights (its own groups only, never giving the file away), S_ISUID/S_ISGID cleared by a
// change of owner, and the ctime.
import { ALL_TYPES, G3, G4, TARGET_TYPES, U1, U2, check, typeName } from '../check.js'
import type { Check } from '../check.js'
import type { Identity } from '../protocol.js'

const out: Check[] = []
const add = (name: string, run: Check['run']): void => { out.push(check('chown', name, run)) }

/** owner U1 whose primary group is U2's gid and who is also in G3 and G4 */
const OWNER_IN_GROUPS: Identity = { uid: U1.uid, gid: U2.gid, groups: [U2.gid, G3, G4] }

for (const t of ALL_TYPES) {
  add(`root lchown sets uid and gid of a ${typeName(t)}`, async c => {
    const f = await c.make(t, 'f')
    c.ok(await c.root.lchown(f, 123, 456), 'lchown f 123:456')
    let st = await c.lstat(f)
    c.equal(`${st.uid}:${st.gid}`, '123:456', 'owner of f')
    c.ok(await c.root.lchown(f, 0, 0), 'lchown f 0:0')
    st = await c.lstat(f)
    c.equal(`${st.uid}:${st.gid}`, '0:0', 'owner of f')
  })
  add(`the owner may give a ${typeName(t)} to a group it is in, and not to one it is not in`, async c => {
    const f = await c.make(t, 'f', { uid: U1.uid, gid: U2.gid })
    const u = c.as(OWNER_IN_GROUPS)
    c.ok(await u.lchown(f, -1, G3), 'lchown f -1:G3 as its owner, in G3')
    let st = await c.lstat(f)
    c.equal(`${st.uid}:${st.gid}`, `${U1.uid}:${G3}`, 'owner of f')
    c.ok(await u.lchown(f, U1.uid, G4), 'lchown f U1:G4 as its owner, in G4')
    st = await c.lstat(f)
    c.equal(`${st.uid}:${st.gid}`, `${U1.uid}:${G4}`, 'owner of f')
    c.fails(await u.lchown(f, -1, 4242), 'EPERM', 'lchown f -1:4242 as its owner, not in 4242')
    c.equal((await c.lstat(f)).gid, G4, 'group of f')
  })
}

for (const t of TARGET_TYPES) {
  add(`root chown through a symlink changes the ${typeName(t)}, not the link`, async c => {
    const f = await c.make(t, 'f')
    const l = await c.make('symlink', 'l', { target: 'f' })
    c.ok(await c.root.chown(l, U1.uid, U2.gid), 'chown l U1:U2')
    const st = await c.lstat(f)
    c.equal(`${st.uid}:${st.gid}`, `${U1.uid}:${U2.gid}`, 'owner of f')
    const ls = await c.lstat(l)
    c.equal(`${ls.uid}:${ls.gid}`, '0:0', 'owner of the link itself')
  })
  add(`root chown moves the ctime of a ${typeName(t)}`, async c => {
    const f = await c.make(t, 'f')
    const before = await c.lstat(f)
    await c.settle()
    c.ok(await c.root.chown(f, U1.uid, U1.gid), 'chown f U1:U1')
    c.later(before.ctime, (await c.lstat(f)).ctime, 'ctime of f')
  })
  add(`the owner changing the group moves the ctime of a ${typeName(t)}`, async c => {
    const f = await c.make(t, 'f', { uid: U1.uid, gid: U2.gid })
    const before = await c.lstat(f)
    await c.settle()
    c.ok(await c.as(OWNER_IN_GROUPS).chown(f, -1, G3), 'chown f -1:G3 as its owner')
    const after = await c.lstat(f)
    c.equal(after.gid, G3, 'group of f')
    c.later(before.ctime, after.ctime, 'ctime of f')
  })
  add(`EPERM for a user who does not own the ${typeName(t)}; owner and ctime unchanged`, async c => {
    const f = await c.make(t, 'f', { uid: U1.uid, gid: U1.gid })
    const before = await c.lstat(f)
    await c.settle()
    c.fails(await c.as(U2).chown(f, U2.uid, U2.gid), 'EPERM', 'chown f U2:U2 as U2')
    const after = await c.lstat(f)
    c.equal(`${after.uid}:${after.gid}`, `${U1.uid}:${U1.gid}`, 'owner of f')
    c.same(before.ctime, after.ctime, 'ctime of f')
  })
}

for (const t of TARGET_TYPES.filter(t => t !== 'dir')) {
  add(`a change of owner or group by the non-root owner clears S_ISUID and S_ISGID of a ${typeName(t)}`, async c => {
    const f = await c.make(t, 'f', { uid: U1.uid, gid: U2.gid, mode: 0o6555 })
    const u = c.as(OWNER_IN_GROUPS)
    c.ok(await u.chown(f, U1.uid, G3), 'chown f U1:G3 as its owner')
    let st = await c.lstat(f)
    c.mode(st, 0o555, 'mode of f after the owner changed its group')
    c.ok(await c.root.chmod(f, 0o6555), 'chmod f 06555')
    c.ok(await u.chown(f, -1, G4), 'chown f -1:G4 as its owner')
    st = await c.lstat(f)
    c.mode(st, 0o555, 'mode of f after the owner changed its group')
  })
}

add('root chown of an executable regular file leaves no S_ISUID without S_ISGID (both cleared or both kept)', async c => {
  const f = await c.make('regular', 'f', { uid: U1.uid, gid: U2.gid, mode: 0o6555 })
  c.ok(await c.root.chown(f, U2.uid, G3), 'chown f U2:G3 as root')
  const st = await c.lstat(f)
  c.equal(`${st.uid}:${st.gid}`, `${U2.uid}:${G3}`, 'owner of f')
  c.true(st.perm === 0o6555 || st.perm === 0o555, `mode of f: expected 06555 or 0555, got 0${st.perm.toString(8)}`)
})

add('chown -1:-1 by a user who does not own the file succeeds and changes nothing', async c => {
  const f = await c.make('regular', 'f')
  const l = await c.make('symlink', 'l', { target: 'f' })
  c.ok(await c.as(U1).chown(f, -1, -1), 'chown f -1:-1 as another user')
  c.ok(await c.as(U1).chown(l, -1, -1), 'chown l -1:-1 as another user')
  c.ok(await c.as(U1).lchown(l, -1, -1), 'lchown l -1:-1 as another user')
  const st = await c.lstat(f)
  c.equal(`${st.uid}:${st.gid}`, '0:0', 'owner of f')
})

add('the owner may not give its file to another user', async c => {
  const f = await c.make('regular', 'f', { uid: U1.uid, gid: U1.gid })
  c.fails(await c.as(U1).chown(f, U2.uid, -1), 'EPERM', 'chown f U2:-1 as its owner')
  c.fails(await c.as(U1).chown(f, 0, 0), 'EPERM', 'chown f 0:0 as its owner')
  const st = await c.lstat(f)
  c.equal(`${st.uid}:${st.gid}`, `${U1.uid}:${U1.gid}`, 'owner of f')
})

add('a user who does not own the file may not change its group, even to its own group', async c => {
  const f = await c.make('regular', 'f', { uid: U1.uid, gid: U1.gid })
  c.fails(await c.as(U2).chown(f, -1, U2.gid), 'EPERM', 'chown f -1:U2 as U2')
  c.fails(await c.as({ uid: U2.uid, gid: U1.gid }).chown(f, -1, U1.gid), 'EPERM', 'chown f -1:U1 as U2 in f\'s group')
  c.equal((await c.lstat(f)).gid, U1.gid, 'group of f')
})

add('a user may not take a file by chown to its own uid', async c => {
  const f = await c.make('regular', 'f')
  c.fails(await c.as(U1).chown(f, U1.uid, U1.gid), 'EPERM', 'chown f U1:U1 as U1')
  c.fails(await c.as(U1).chown(f, U1.uid, -1), 'EPERM', 'chown f U1:-1 as U1')
  c.equal((await c.lstat(f)).uid, 0, 'owner of f')
})

add('lchown by the owner of a symlink sets its group, not the target\'s', async c => {
  await c.make('regular', 'f')
  const l = await c.make('symlink', 'l', { target: 'f', uid: U1.uid, gid: U2.gid })
  c.ok(await c.as(OWNER_IN_GROUPS).lchown(l, -1, G3), 'lchown l -1:G3 as its owner')
  c.equal((await c.lstat(l)).gid, G3, 'group of the link')
  c.equal((await c.lstat(c.p('f'))).gid, 0, 'group of f')
})

add('fchown on an fd: root sets the owner and the ctime moves', async c => {
  const f = await c.make('regular', 'f')
  const fd = c.ok(await c.root.open(f, ['O_RDONLY']), 'open f')
  const before = await c.lstat(f)
  await c.settle()
  c.ok(await c.root.fchown(fd, U1.uid, U2.gid), 'fchown U1:U2')
  const after = await c.lstat(f)
  c.equal(`${after.uid}:${after.gid}`, `${U1.uid}:${U2.gid}`, 'owner of f')
  c.later(before.ctime, after.ctime, 'ctime of f')
})

add('fchown on an fd by a user who does not own the file: EPERM', async c => {
  const f = await c.make('regular', 'f', { mode: 0o666 })
  const u = c.as(U1)
  const fd = c.ok(await u.open(f, ['O_RDWR']), 'open f O_RDWR as another user')
  c.fails(await u.fchown(fd, U1.uid, U1.gid), 'EPERM', 'fchown U1:U1')
  c.equal((await c.lstat(f)).uid, 0, 'owner of f')
})

export const CHOWN_CHECKS = out
