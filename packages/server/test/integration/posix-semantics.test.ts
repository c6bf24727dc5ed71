// Issue 13 item 4, over RPC with the credentials a FUSE client sends (AUTH_GLUSTERFS v3 uid,
// gid, groups): permission checks, ownership rules, set-uid clearing, sticky directories,
// special files, rename over existing entries, and the virtual attributes (what clients set is in
// the store; the backend files stay the server's own).
import t from 'tap'
import type { Test } from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { ROOT_GFID } from '@gluster-ts/rpc'
import { cluster, attach } from './brick-client.js'
import { fops, as, V } from './fops.js'

const EPERM = 1
const EACCES = 13
const EEXIST = 17
const ENOTDIR = 20
const EISDIR = 21
const EINVAL = 22
const ENOTEMPTY = 39

async function setup (t: Test): Promise<{ root: ReturnType<typeof fops>, alice: ReturnType<typeof fops>, bob: ReturnType<typeof fops>, brickDir: string }> {
  const c = await cluster(t)
  const conn = await attach(t, c)
  return {
    root: fops(conn, as(0, 0)),
    alice: fops(conn, as(1000, 1000, [1000, 2000])),
    bob: fops(conn, as(1001, 1001, [1001])),
    brickDir: c.volume.bricks[0]!.path,
  }
}

t.test('permissions: create, lookup, open and readdir need the mode bits; root passes', async t => {
  const { root, alice, bob } = await setup(t)
  const d = await root.mkdir(ROOT_GFID, 'd', 0o755)
  t.equal((await alice.create(d.gfid, 'f')).op_errno, EACCES, 'no write permission on the parent')
  t.equal((await root.setattr(d.gfid, V.UID | V.GID, { ia_uid: 1000, ia_gid: 1000 })).op_ret, 0)
  const f = await alice.create(d.gfid, 'f', 0o600)
  t.equal(f.op_ret, 0, 'the owner of the directory creates')
  t.equal(f.stat.ia_uid, 1000, 'owned by its creator')
  t.equal(f.stat.mode & 0o7777, 0o600)
  t.equal((await bob.open(f.gfid, 0)).op_errno, EACCES, 'others may not read a 0600 file')
  t.equal((await root.open(f.gfid, 2)).op_ret, 0, 'root may')
  t.equal((await alice.setattr(d.gfid, V.MODE, { mode: 0o700 })).op_ret, 0)
  t.equal((await bob.lookup(d.gfid, 'f')).op_errno, EACCES, 'no search permission on the parent')
  t.equal((await bob.opendir(d.gfid)).op_errno, EACCES, 'no read permission on the directory')
  t.equal((await bob.access(f.gfid, 4)).op_errno, EACCES)
  t.equal((await root.setattr(f.gfid, V.MODE, { mode: 0o644 })).op_ret, 0)
  t.equal((await root.access(f.gfid, 1)).op_errno, EACCES, 'root may not execute a file without any x bit')
})

t.test('chmod, chown and utimes rules; set-uid cleared by a write or truncate of a non-root user and by chown', async t => {
  const { root, alice, bob } = await setup(t)
  const f = await root.create(ROOT_GFID, 'f', 0o666)
  await root.setattr(f.gfid, V.UID | V.GID, { ia_uid: 1000, ia_gid: 1000 })
  t.equal((await bob.setattr(f.gfid, V.MODE, { mode: 0o777 })).op_errno, EPERM, 'chmod by another user')
  t.equal((await alice.setattr(f.gfid, V.UID, { ia_uid: 0 })).op_errno, EPERM, 'only root gives a file away')
  t.equal((await alice.setattr(f.gfid, V.GID, { ia_gid: 3000 })).op_errno, EPERM, 'chgrp to a group the owner is not in')
  t.equal((await alice.setattr(f.gfid, V.GID, { ia_gid: 2000 })).op_ret, 0, 'chgrp to a supplementary group')
  t.equal((await bob.setattr(f.gfid, V.ATIME | V.MTIME, { ia_atime: 5n, ia_mtime: 5n })).op_errno, EPERM, 'explicit times: owner only')
  t.equal((await bob.setattr(f.gfid, V.ATIME_NOW | V.MTIME_NOW, {})).op_ret, 0, 'times to now with write permission')
  t.equal((await alice.setattr(f.gfid, V.MODE, { mode: 0o6777 })).op_ret, 0)
  t.equal((await alice.stat(f.gfid)).stat.mode & 0o7777, 0o6777, 'set-gid kept: the owner is in the file\'s group')
  await root.setattr(f.gfid, V.GID, { ia_gid: 3000 })
  t.equal((await alice.setattr(f.gfid, V.MODE, { mode: 0o6777 })).op_ret, 0)
  t.equal((await alice.stat(f.gfid)).stat.mode & 0o7777, 0o4777, 'set-gid dropped: the owner is not in group 3000')
  const o = await bob.open(f.gfid, 2)
  await bob.write(f.gfid, o.fd, Buffer.from('x'))
  t.equal((await root.stat(f.gfid)).stat.mode & 0o7000, 0, 'a write by another user clears set-uid')
  await alice.setattr(f.gfid, V.MODE, { mode: 0o4755 })
  await root.setattr(f.gfid, V.UID, { ia_uid: 1001 })
  t.equal((await root.stat(f.gfid)).stat.mode & 0o7777, 0o755, 'chown clears set-uid, also by root')
  await root.setattr(f.gfid, V.MODE, { mode: 0o4777 })
  t.equal((await alice.truncate(f.gfid, 0n)).op_ret, 0)
  t.equal((await root.stat(f.gfid)).stat.mode & 0o7777, 0o777, 'a truncate by another user clears it too')
})

t.test('sticky directories, set-gid directories, special files, hard links', async t => {
  const { root, alice, bob } = await setup(t)
  const tmp = await root.mkdir(ROOT_GFID, 'tmp', 0o1777)
  const a = await alice.create(tmp.gfid, 'a')
  t.equal(a.op_ret, 0)
  t.equal((await bob.unlink(tmp.gfid, 'a')).op_errno, EACCES, 'sticky: not the owner of the entry')
  t.equal((await bob.rename(tmp.gfid, 'a', tmp.gfid, 'b')).op_errno, EACCES, 'sticky: no rename either')
  t.equal((await alice.unlink(tmp.gfid, 'a')).op_ret, 0, 'the owner removes it')
  const g = await root.mkdir(ROOT_GFID, 'g', 0o2777)
  await root.setattr(g.gfid, V.GID, { ia_gid: 4000 })
  const sub = await alice.mkdir(g.gfid, 'sub')
  t.equal(sub.stat.ia_gid, 4000, 'a set-gid directory passes its group on')
  t.equal(sub.stat.mode & 0o2000, 0o2000, 'and its set-gid bit, to directories')
  const fifo = await bob.mknod(tmp.gfid, 'p', 0o010644)
  t.equal(fifo.op_ret, 0, 'anyone makes a fifo')
  t.equal(fifo.stat.mode & 0o170000, 0o010000, 'it is a fifo to clients')
  t.equal((await bob.mknod(tmp.gfid, 'c', 0o020644, 0x103n)).op_errno, EPERM, 'device nodes: root only')
  const dev = await root.mknod(tmp.gfid, 'c', 0o020644, 0x103n)
  t.equal(dev.stat.ia_rdev, (1n << 32n) | 3n, 'major 1, minor 3, as GlusterFS carries them')
  t.equal((await root.open(dev.gfid, 0)).op_errno, EINVAL, 'a device is not opened by the brick')
  const f = await root.create(ROOT_GFID, 'f')
  t.equal((await root.link(f.gfid, ROOT_GFID, 'f2')).op_ret, 0)
  t.equal((await root.stat(f.gfid)).stat.ia_nlink, 2, 'two links')
  await root.unlink(ROOT_GFID, 'f')
  t.equal((await root.stat(f.gfid)).stat.ia_nlink, 1, 'one left')
})

t.test('rename over existing entries: the errno of each kind', async t => {
  const { root } = await setup(t)
  const d = await root.mkdir(ROOT_GFID, 'd')
  const full = await root.mkdir(ROOT_GFID, 'full')
  await root.create(full.gfid, 'x')
  await root.mkdir(ROOT_GFID, 'empty')
  await root.create(ROOT_GFID, 'f')
  await root.create(ROOT_GFID, 'f2')
  t.equal((await root.rename(ROOT_GFID, 'd', ROOT_GFID, 'full')).op_errno, ENOTEMPTY)
  t.equal((await root.rename(ROOT_GFID, 'f', ROOT_GFID, 'empty')).op_errno, EISDIR)
  t.equal((await root.rename(ROOT_GFID, 'd', ROOT_GFID, 'f')).op_errno, ENOTDIR)
  t.equal((await root.rename(ROOT_GFID, 'd', d.gfid, 'in')).op_errno, EINVAL, 'a directory into itself')
  t.equal((await root.rename(ROOT_GFID, 'd', ROOT_GFID, 'empty')).op_ret, 0, 'a directory over an empty one')
  t.equal((await root.link((await root.lookup(ROOT_GFID, 'f')).prestat.ia_gfid, ROOT_GFID, 'f-too')).op_ret, 0)
  t.equal((await root.rename(ROOT_GFID, 'f', ROOT_GFID, 'f-too')).op_ret, 0, 'two names of one inode: nothing happens')
  t.equal((await root.lookup(ROOT_GFID, 'f')).op_ret, 0, 'both names stay')
  t.equal((await root.rename(ROOT_GFID, 'f', ROOT_GFID, 'f2')).op_ret, 0, 'a file over a file')
  t.equal((await root.mkdir(ROOT_GFID, 'f2')).op_errno, EEXIST)
})

t.test('virtual attributes: the backend files are the server\'s, 0600/0700; ctime moves on chmod and chown', async t => {
  const { root, alice, brickDir } = await setup(t)
  const d = await root.mkdir(ROOT_GFID, 'd', 0o777)
  const f = await alice.create(d.gfid, 'f', 0o4755)
  const me = process.getuid!()
  const bf = fs.lstatSync(path.join(brickDir, 'd', 'f'))
  t.equal(bf.mode & 0o7777, 0o600, 'backend file 0600')
  t.equal(bf.uid, me, 'owned by the server user')
  t.equal(fs.lstatSync(path.join(brickDir, 'd')).mode & 0o7777, 0o700, 'backend directory 0700')
  t.equal((await root.stat(f.gfid)).stat.ia_uid, 1000, 'clients see the owner they set')
  const before = (await root.stat(f.gfid)).stat
  await new Promise(resolve => setTimeout(resolve, 20))
  await alice.setattr(f.gfid, V.MODE, { mode: 0o640 })
  const after = (await root.stat(f.gfid)).stat
  t.ok(after.ia_ctime * 1_000_000_000n + BigInt(after.ia_ctime_nsec) > before.ia_ctime * 1_000_000_000n + BigInt(before.ia_ctime_nsec), 'chmod moved the ctime')
  t.equal(fs.lstatSync(path.join(brickDir, 'd', 'f')).mode & 0o7777, 0o600, 'the backend mode did not change')
  const s = await root.setattr(f.gfid, V.ATIME | V.MTIME, { ia_atime: 1900000000n, ia_atime_nsec: 123456789, ia_mtime: 1900000001n, ia_mtime_nsec: 987654321 })
  t.equal(s.poststat.ia_mtime_nsec, 987654321, 'times kept to the nanosecond')
})
