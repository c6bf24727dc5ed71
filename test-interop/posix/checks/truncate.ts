// truncate(2) and ftruncate(2): sizes up and down (zeros when growing), mtime and ctime, write
// permission (checked at open for ftruncate: an fd keeps its rights), EISDIR, EINVAL on fds not
// open for writing, EFBIG, S_ISUID/S_ISGID cleared, ETXTBSY.
import { MC, U1, U2, check } from '../check.js'
import type { Caller, Res } from '../agents.js'
import type { Check, Group } from '../check.js'
import { runningCopy } from './open.js'

const out: Check[] = []
const add = (group: Group, name: string, run: Check['run']): void => { out.push(check(group, name, run)) }

/** truncate by path, or by an fd opened O_RDWR (ftruncate) */
type Cut = (who: Caller, p: string, length: number) => Promise<Res<null>>
const byPath: Cut = async (who, p, length) => who.truncate(p, length)
const byFd: Cut = async (who, p, length) => {
  const fd = await who.open(p, ['O_RDWR'])
  if (!fd.ok) return fd
  try { return await who.ftruncate(fd.value, length) } finally { await who.close(fd.value) }
}

for (const [group, cut] of [['truncate', byPath], ['ftruncate', byFd]] as const) {
  add(group, 'grows a file (the new bytes read as zeros) and shrinks it', async c => {
    const f = await c.make('regular', 'f')
    const fd = c.ok(await c.root.open(f, ['O_RDWR']), 'open f')
    c.ok(await c.root.write(fd, 'abcdef'), 'write abcdef')
    c.ok(await cut(c.root, f, 1234567), `${group} f 1234567`)
    c.equal((await c.lstat(f)).size, 1234567, 'size of f')
    c.equal(c.ok(await c.root.read(fd, 6, 0), 'read the head'), 'abcdef', 'head of f')
    c.equal(c.ok(await c.root.read(fd, 4, 1234560), 'read near the end'), '\0\0\0\0', 'bytes past the old end')
    c.ok(await cut(c.root, f, 3), `${group} f 3`)
    c.equal((await c.lstat(f)).size, 3, 'size of f')
    c.equal(c.ok(await c.root.read(fd, 10, 0), 'read'), 'abc', 'content of f')
  })
  add(group, 'moves the mtime and ctime, growing and shrinking', async c => {
    const f = await c.make('regular', 'f')
    for (const len of [123, 5]) {
      const before = await c.lstat(f)
      await c.settle()
      c.ok(await cut(c.root, f, len), `${group} f ${len}`)
      c.moved(before, await c.lstat(f), MC, `f after ${group} to ${len}`)
    }
  })
  add(group, 'EACCES for a user without write permission (owner of a 0444 file, other on 0644); size and times unchanged', async c => {
    const f = await c.make('regular', 'f', { uid: U1.uid, gid: U1.gid, mode: 0o444 })
    c.ok(await c.root.truncate(f, 10), 'truncate f 10 as root')
    const before = await c.lstat(f)
    await c.settle()
    c.fails(await cut(c.as(U1), f, 1), 'EACCES', `${group} f as its owner, f 0444`)
    c.ok(await c.root.chmod(f, 0o644), 'chmod f 0644')
    const mid = await c.lstat(f)
    await c.settle()
    c.fails(await cut(c.as(U2), f, 1), 'EACCES', `${group} f as another user, f 0644`)
    const after = await c.lstat(f)
    c.equal(after.size, 10, 'size of f')
    c.same(before.mtime, after.mtime, 'mtime of f')
    c.same(mid.ctime, after.ctime, 'ctime of f')
    c.ok(await cut(c.as(U1), f, 1), `${group} f as its owner, f 0644`)
  })
  add(group, 'a user with write permission through its group may', async c => {
    const f = await c.make('regular', 'f', { uid: U1.uid, gid: U1.gid, mode: 0o664 })
    c.ok(await cut(c.as({ uid: U2.uid, gid: U1.gid }), f, 7), `${group} f as a member of its group`)
    c.equal((await c.lstat(f)).size, 7, 'size of f')
  })
  add(group, 'a change of size by a non-root user clears S_ISUID and S_ISGID', async c => {
    const f = await c.make('regular', 'f', { uid: U1.uid, gid: U1.gid, mode: 0o6777 })
    c.ok(await cut(c.as(U2), f, 100), `${group} f 100 as another user`)
    c.mode(await c.lstat(f), 0o777, 'mode of f')
    c.ok(await c.root.chmod(f, 0o6775), 'chmod f 06775')
    c.ok(await cut(c.as(U1), f, 50), `${group} f 50 as its owner`)
    c.mode(await c.lstat(f), 0o775, 'mode of f')
  })
  add(group, 'ETXTBSY on a file that is being executed', async c => {
    await runningCopy(c, async f => {
      const size = (await c.lstat(f)).size
      c.fails(await cut(c.root, f, 10), 'ETXTBSY', `${group} the running file`)
      c.equal((await c.lstat(f)).size, size, 'size of the running file')
    })
  })
}

add('truncate', 'EISDIR on a directory', async c => {
  const d = await c.make('dir', 'd')
  c.fails(await c.root.truncate(d, 0), 'EISDIR', 'truncate d')
})

add('truncate', 'follows a symlink to its target', async c => {
  const f = await c.make('regular', 'f')
  const s = await c.make('symlink', 's', { target: 'f' })
  c.ok(await c.root.truncate(s, 77), 'truncate s 77')
  c.equal((await c.lstat(f)).size, 77, 'size of f')
})

add('truncate', 'EFBIG or EINVAL past the largest file size (2^53-1 bytes), nothing changes', async c => {
  const f = await c.make('regular', 'f')
  c.fails(await c.root.truncate(f, Number.MAX_SAFE_INTEGER), ['EFBIG', 'EINVAL'], 'truncate f 2^53-1')
  c.equal((await c.lstat(f)).size, 0, 'size of f')
})

add('ftruncate', 'through an O_WRONLY fd too', async c => {
  const f = await c.make('regular', 'f')
  const fd = c.ok(await c.root.open(f, ['O_WRONLY']), 'open f O_WRONLY')
  c.ok(await c.root.ftruncate(fd, 567), 'ftruncate 567')
  c.equal((await c.lstat(f)).size, 567, 'size of f')
})

add('ftruncate', 'EINVAL (or EBADF) on an fd opened O_RDONLY; the ctime does not move', async c => {
  const f = await c.make('regular', 'f', { mode: 0o644 })
  const u = c.as(U1)
  const fd = c.ok(await u.open(f, ['O_RDONLY']), 'open f O_RDONLY as another user')
  const before = await c.lstat(f)
  await c.settle()
  c.fails(await u.ftruncate(fd, 123), ['EINVAL', 'EBADF'], 'ftruncate 123')
  const rfd = c.ok(await c.root.open(f, ['O_RDONLY']), 'open f O_RDONLY as root')
  c.fails(await c.root.ftruncate(rfd, 123), ['EINVAL', 'EBADF'], 'ftruncate 123 as root')
  const after = await c.lstat(f)
  c.equal(after.size, 0, 'size of f')
  c.same(before.ctime, after.ctime, 'ctime of f')
})

add('ftruncate', 'an fd keeps the write permission it was opened with after the mode drops it', async c => {
  const f = await c.make('regular', 'f', { uid: U1.uid, gid: U1.gid, mode: 0o644 })
  const u = c.as(U1)
  const fd = c.ok(await u.open(f, ['O_RDWR']), 'open f O_RDWR as its owner')
  c.ok(await u.fchmod(fd, 0), 'fchmod 0')
  c.ok(await u.ftruncate(fd, 42), 'ftruncate 42 after the mode became 0')
  c.ok(await u.write(fd, 'still'), 'write after the mode became 0')
  c.equal((await c.lstat(f)).size, 42, 'size of f')
})

add('ftruncate', 'a user who opened O_CREAT with mode 0 may ftruncate that fd', async c => {
  await c.make('dir', 'd', { mode: 0o777 })
  const u = c.as(U1)
  const fd = c.ok(await u.open(c.p('d', 'f'), ['O_CREAT', 'O_RDWR'], 0), 'open d/f O_CREAT|O_RDWR 0 as U1')
  c.ok(await u.ftruncate(fd, 9), 'ftruncate 9')
  c.equal((await c.lstat(c.p('d', 'f'))).size, 9, 'size of d/f')
})

add('ftruncate', 'EINVAL on a directory fd and on a FIFO fd', async c => {
  const d = await c.make('dir', 'd')
  const p = await c.make('fifo', 'p')
  const dfd = c.ok(await c.root.open(d, ['O_RDONLY']), 'open d O_RDONLY')
  c.fails(await c.root.ftruncate(dfd, 0), ['EINVAL', 'EBADF'], 'ftruncate a directory fd')
  const pfd = c.ok(await c.root.open(p, ['O_RDWR', 'O_NONBLOCK']), 'open p O_RDWR|O_NONBLOCK')
  c.fails(await c.root.ftruncate(pfd, 0), ['EINVAL', 'EBADF'], 'ftruncate a FIFO fd')
})

export const TRUNCATE_CHECKS = out
