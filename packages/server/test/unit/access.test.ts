// The permission rules of src/access.ts, case by case, as Linux and posix-acl decide them.
import t from 'tap'
import {
  permits, stickyPermits, openWants, killSuid, modeAfterWrite, checkSetattr, newAttrs, onlyKillsPrivileges,
  checkXattrWrite, checkXattrRead, xattrListed, R, W, X,
} from '../../src/access.js'
import type { Principal } from '../../src/access.js'

const root: Principal = { uid: 0, gid: 0, groups: [], pid: 1 }
const alice: Principal = { uid: 1000, gid: 1000, groups: [1000, 2000], pid: 10 }
const bob: Principal = { uid: 1001, gid: 1001, groups: [], pid: 11 }
const shd: Principal = { uid: 1001, gid: 1001, groups: [], pid: -6 }
const file = (mode: number, uid = 1000, gid = 1000) => ({ mode: 0o100000 | mode, uid, gid, rdev: 0n })
const dir = (mode: number, uid = 1000, gid = 1000) => ({ mode: 0o040000 | mode, uid, gid, rdev: 0n })

t.test('permits: owner class, then group (primary or supplementary), then other; root and daemons', async t => {
  t.ok(permits(alice, file(0o600), R | W))
  t.notOk(permits(alice, file(0o060), R), 'the owner class decides for the owner, even when the group class would allow')
  t.ok(permits(alice, file(0o040, 5, 2000), R), 'a supplementary group')
  t.notOk(permits(bob, file(0o640), R), 'other')
  t.ok(permits(root, file(0o000), R | W), 'root reads and writes anything')
  t.notOk(permits(root, file(0o666), X), 'root executes only with some x bit')
  t.ok(permits(root, file(0o100), X))
  t.ok(permits(root, dir(0o000), X), 'root searches any directory')
  t.ok(permits(shd, file(0o000), R | W | X), 'a negative pid (self-heal) is not checked')
})

t.test('sticky directories and open flags', async t => {
  const tmp = dir(0o1777, 0, 0)
  t.notOk(stickyPermits(bob, tmp, file(0o644)), 'not the entry\'s owner')
  t.ok(stickyPermits(alice, tmp, file(0o644)), 'the entry\'s owner')
  t.ok(stickyPermits(bob, dir(0o1777, 1001), file(0o644)), 'the directory\'s owner')
  t.ok(stickyPermits(bob, dir(0o777, 0), file(0o644)), 'not sticky')
  t.equal(openWants(0), R)
  t.equal(openWants(1), W)
  t.equal(openWants(2), R | W)
  t.equal(openWants(0o1000), R | W, 'O_TRUNC needs write')
  t.equal(openWants(0o40), X, 'FMODE_EXEC')
})

t.test('set-uid clearing and setattr rules', async t => {
  t.equal(killSuid(0o106755), 0o100755)
  t.equal(killSuid(0o102745), 0o102745, 'set-gid without group execute stays')
  t.equal(modeAfterWrite(bob, file(0o4777)), 0o100777)
  t.equal(modeAfterWrite(root, file(0o4777)), undefined, 'root keeps it')
  t.equal(modeAfterWrite(bob, dir(0o2777)), undefined, 'never for directories')
  t.throws(() => checkSetattr(bob, file(0o644), { mode: 0o600 }), { code: 'EPERM' })
  t.same(checkSetattr(bob, file(0o4755), { mode: 0o755 }), { mode: 0o100755 }, 'dropping set-uid is allowed to the writer')
  t.ok(onlyKillsPrivileges(0o6755, 0o2755) && !onlyKillsPrivileges(0o4755, 0o4777))
  t.same(checkSetattr(alice, file(0o644, 1000, 3000), { mode: 0o2755 }), { mode: 0o100755 }, 'set-gid dropped outside the group')
  t.throws(() => checkSetattr(alice, file(0o644), { uid: 0 }), { code: 'EPERM' })
  t.same(checkSetattr(alice, file(0o644), { uid: 1000 }), {}, 'the same uid is a no-op')
  t.throws(() => checkSetattr(alice, file(0o644), { gid: 3000 }), { code: 'EPERM' })
  t.same(checkSetattr(alice, file(0o4755), { gid: 2000 }), { mode: 0o100755 }, 'chgrp to a member group clears set-uid')
  t.throws(() => checkSetattr(bob, file(0o666), { times: 'explicit' }), { code: 'EPERM' })
  t.same(checkSetattr(bob, file(0o666), { times: 'now' }), {})
  t.throws(() => checkSetattr(bob, file(0o644), { times: 'now' }), { code: 'EACCES' })
  t.throws(() => checkSetattr(bob, file(0o644), { size: true }), { code: 'EACCES' })
  t.same(checkSetattr(bob, file(0o644), { size: true }, true), {}, 'through a writable fd')
})

t.test('new objects and xattr namespaces', async t => {
  t.same(newAttrs(alice, dir(0o2775, 0, 4000), 0o040755), { mode: 0o042755, uid: 1000, gid: 4000, rdev: 0n }, 'set-gid parent: group and bit')
  t.same(newAttrs(alice, dir(0o755, 0, 0), 0o100644), { mode: 0o100644, uid: 1000, gid: 1000, rdev: 0n })
  t.equal(newAttrs(bob, dir(0o2777, 0, 4000), 0o102755).mode, 0o100755, 'a file\'s set-gid of a group the creator is not in is dropped')
  t.throws(() => checkXattrWrite(alice, file(0o666), 'trusted.x'), { code: 'EPERM' })
  t.throws(() => checkXattrRead(alice, file(0o666), 'trusted.x'), { code: 'ENODATA' })
  t.notOk(xattrListed(alice, 'trusted.afr.dirty'))
  t.ok(xattrListed(root, 'trusted.afr.dirty'))
  t.doesNotThrow(() => checkXattrWrite(bob, file(0o666), 'user.x'))
  t.throws(() => checkXattrWrite(bob, file(0o644), 'user.x'), { code: 'EACCES' })
  t.throws(() => checkXattrWrite(alice, { mode: 0o120777, uid: 1000, gid: 1000, rdev: 0n }, 'user.x'), { code: 'EPERM' }, 'user xattrs only on files and directories')
  t.throws(() => checkXattrWrite(bob, file(0o666), 'system.posix_acl_access'), { code: 'EPERM' })
})
