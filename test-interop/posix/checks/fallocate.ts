// posix_fallocate(3) (util-linux fallocate --posix, which opens O_RDWR|O_CREAT): sizes (from an
// empty file, past the end, inside the file), zeros, the ctime, write permission, S_ISUID cleared.
// (Not ESPIPE on a FIFO: util-linux answers that itself, with EINVAL from its own fallback.)
import { U1, U2, check } from '../check.js'
import type { Check } from '../check.js'

const out: Check[] = []
const add = (name: string, run: Check['run']): void => { out.push(check('posix_fallocate', name, run)) }

add('extends an empty file to offset + length', async c => {
  const f = await c.make('regular', 'f')
  c.ok(await c.root.fallocate(f, 0, 567), 'posix_fallocate f 0 567')
  c.equal((await c.lstat(f)).size, 567, 'size of f')
})

add('past the end the file grows to offset + length, the data before stays and the rest reads as zeros', async c => {
  const f = await c.make('regular', 'f')
  const fd = c.ok(await c.root.open(f, ['O_RDWR']), 'open f')
  c.ok(await c.root.write(fd, 'x'.repeat(12345)), 'write 12345 bytes')
  c.ok(await c.root.fallocate(f, 20000, 3456), 'posix_fallocate f 20000 3456')
  c.equal((await c.lstat(f)).size, 23456, 'size of f')
  c.equal(c.ok(await c.root.read(fd, 2, 12344), 'read across the old end'), 'x\0', 'bytes at the old end')
  c.equal(c.ok(await c.root.read(fd, 3, 23453), 'read the new end'), '\0\0\0', 'bytes at the new end')
})

add('inside the file the size and data stay', async c => {
  const f = await c.make('regular', 'f')
  const fd = c.ok(await c.root.open(f, ['O_RDWR']), 'open f')
  c.ok(await c.root.write(fd, 'abcdefghij'), 'write 10 bytes')
  c.ok(await c.root.fallocate(f, 2, 5), 'posix_fallocate f 2 5')
  c.equal((await c.lstat(f)).size, 10, 'size of f')
  c.equal(c.ok(await c.root.read(fd, 10, 0), 'read'), 'abcdefghij', 'content of f')
})

add('moves the ctime and mtime when it extends the file', async c => {
  const f = await c.make('regular', 'f')
  const before = await c.lstat(f)
  await c.settle()
  c.ok(await c.root.fallocate(f, 0, 123), 'posix_fallocate f 0 123')
  c.moved(before, await c.lstat(f), ['ctime', 'mtime'], 'f')
})

add('a user who may write the file may; one who may not gets EACCES and the size stays', async c => {
  const f = await c.make('regular', 'f', { uid: U1.uid, gid: U1.gid, mode: 0o644 })
  c.ok(await c.as(U1).fallocate(f, 0, 100), 'posix_fallocate f 0 100 as its owner')
  c.fails(await c.as(U2).fallocate(f, 0, 200), 'EACCES', 'posix_fallocate f 0 200 as another user, f 0644')
  c.equal((await c.lstat(f)).size, 100, 'size of f')
  c.ok(await c.root.chmod(f, 0o666), 'chmod f 0666')
  c.ok(await c.as(U2).fallocate(f, 0, 300), 'posix_fallocate f 0 300 as another user, f 0666')
  c.equal((await c.lstat(f)).size, 300, 'size of f')
})

add('a user makes and allocates a new file in a directory it may write', async c => {
  await c.make('dir', 'd', { mode: 0o777 })
  c.ok(await c.as(U1).fallocate(c.p('d', 'f'), 0, 1), 'posix_fallocate d/f 0 1 as U1 (fallocate creates d/f)')
  const st = await c.lstat(c.p('d', 'f'))
  c.equal(`${st.uid}:${st.size}`, `${U1.uid}:1`, 'owner and size of d/f')
})

add('a non-root user extending the file clears S_ISUID', async c => {
  const f = await c.make('regular', 'f', { uid: U1.uid, gid: U1.gid, mode: 0o4777 })
  c.ok(await c.as(U2).fallocate(f, 0, 4096), 'posix_fallocate f 0 4096 as another user')
  const st = await c.lstat(f)
  c.equal(st.size, 4096, 'size of f')
  c.mode(st, 0o777, 'mode of f')
})

export const FALLOCATE_CHECKS = out
