// open(2): O_CREAT as every creating call (create.ts) and on an existing file, O_TRUNC, the
// permission classes (owner, group by egid or by a supplementary group, other) for reading and
// writing, root's override, EISDIR, O_NOFOLLOW, O_DIRECTORY, FIFOs without a reader, sockets,
// files past 2 GiB, a file made with mode 0, O_APPEND, ETXTBSY.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import { ALL_TYPES, MC, U1, U2, check, typeName } from '../check.js'
import type { Check, Ctx } from '../check.js'
import type { Identity, OpenFlag } from '../protocol.js'
import { createChecks } from './create.js'

const out: Check[] = createChecks({
  group: 'open',
  label: 'open O_CREAT|O_EXCL',
  type: 'regular',
  call: (w, p, mode) => w.openclose(p, ['O_CREAT', 'O_EXCL', 'O_WRONLY'], mode),
  modes: [0o755, 0o151, 0o644, 0o4755],
  umasks: [[0o077, 0o151, 0o100], [0o070, 0o345, 0o305], [0o501, 0o345, 0o244]],
})
const add = (name: string, run: Check['run']): void => { out.push(check('open', name, run)) }

add('O_CREAT on an existing file opens it and changes no time, mode or owner', async c => {
  const f = await c.make('regular', 'f', { uid: U1.uid, gid: U1.gid, mode: 0o600 })
  const before = await c.lstat(f)
  const dirBefore = await c.lstat(c.dir)
  await c.settle()
  c.ok(await c.root.openclose(f, ['O_CREAT', 'O_RDWR'], 0o777), 'open f O_CREAT|O_RDWR 0777')
  const after = await c.lstat(f)
  c.mode(after, 0o600, 'mode of f')
  c.equal(`${after.uid}:${after.gid}`, `${U1.uid}:${U1.gid}`, 'owner of f')
  c.kept(before, after, MC, 'f')
  c.kept(dirBefore, await c.lstat(c.dir), MC, 'the directory')
})

add('O_TRUNC empties a file and moves its mtime and ctime', async c => {
  const f = await c.make('regular', 'f')
  const fd = c.ok(await c.root.open(f, ['O_WRONLY']), 'open f')
  c.ok(await c.root.write(fd, 'some data'), 'write')
  c.ok(await c.root.close(fd), 'close')
  const before = await c.lstat(f)
  c.equal(before.size, 9, 'size of f')
  await c.settle()
  c.ok(await c.root.openclose(f, ['O_WRONLY', 'O_TRUNC']), 'open f O_WRONLY|O_TRUNC')
  const after = await c.lstat(f)
  c.equal(after.size, 0, 'size of f')
  c.moved(before, after, MC, 'f')
})

add('O_TRUNC on an empty file moves its mtime and ctime', async c => {
  const f = await c.make('regular', 'f')
  const before = await c.lstat(f)
  await c.settle()
  c.ok(await c.root.openclose(f, ['O_RDWR', 'O_TRUNC']), 'open f O_RDWR|O_TRUNC')
  c.moved(before, await c.lstat(f), MC, 'f')
})

/** the classes a caller can be in for a file owned by U1 with group G (U1's gid) */
const CLASSES: Array<{ label: string, who: Identity, shift: number }> = [
  { label: 'its owner', who: U1, shift: 6 },
  { label: 'a member of its group (egid)', who: { uid: U2.uid, gid: U1.gid }, shift: 3 },
  { label: 'a member of its group (supplementary)', who: { uid: U2.uid, gid: U2.gid, groups: [U2.gid, U1.gid] }, shift: 3 },
  { label: 'any other user', who: U2, shift: 0 },
]
const ACCESS: Array<{ label: string, bits: number }> = [
  { label: 'no', bits: 0 }, { label: 'read-only', bits: 4 }, { label: 'write-only', bits: 2 }, { label: 'read-write', bits: 6 },
]
const FLAGS: Array<[OpenFlag, number]> = [['O_RDONLY', 4], ['O_WRONLY', 2], ['O_RDWR', 6]]

for (const cls of CLASSES) {
  for (const acc of ACCESS) {
    // the caller's class gets `bits`, every other class everything: only the right class may count
    const mode = (0o777 & ~(7 << cls.shift)) | (acc.bits << cls.shift)
    add(`${acc.label} access (mode 0${mode.toString(8).padStart(3, '0')}) for ${cls.label}: O_RDONLY, O_WRONLY, O_RDWR`, async c => {
      const f = await c.make('regular', 'f', { uid: U1.uid, gid: U1.gid, mode })
      const u = c.as(cls.who)
      for (const [flag, need] of FLAGS) {
        const r = await u.openclose(f, [flag])
        if ((acc.bits & need) === need) c.ok(r, `open f ${flag} as ${cls.label}`)
        else c.fails(r, 'EACCES', `open f ${flag} as ${cls.label}`)
      }
    })
  }
}

add('root opens a mode 0000 file for reading and writing', async c => {
  const f = await c.make('regular', 'f', { uid: U1.uid, gid: U1.gid, mode: 0 })
  for (const [flag] of FLAGS) c.ok(await c.root.openclose(f, [flag]), `open f ${flag} as root`)
})

for (const cls of [CLASSES[0]!, CLASSES[1]!, CLASSES[3]!]) {
  add(`O_TRUNC without write permission: EACCES for ${cls.label}, and the data stays`, async c => {
    const f = await c.make('regular', 'f', { uid: U1.uid, gid: U1.gid, mode: 0o444 })
    const fd = c.ok(await c.root.open(f, ['O_WRONLY']), 'open f as root')
    c.ok(await c.root.write(fd, 'keep'), 'write')
    c.ok(await c.root.close(fd), 'close')
    c.fails(await c.as(cls.who).openclose(f, ['O_RDONLY', 'O_TRUNC']), 'EACCES', `open f O_RDONLY|O_TRUNC as ${cls.label}`)
    c.equal((await c.lstat(f)).size, 4, 'size of f')
  })
}

add('EISDIR opening a directory for writing; O_RDONLY works', async c => {
  const d = await c.make('dir', 'd')
  c.ok(await c.root.openclose(d, ['O_RDONLY']), 'open d O_RDONLY')
  c.fails(await c.root.openclose(d, ['O_WRONLY']), 'EISDIR', 'open d O_WRONLY')
  c.fails(await c.root.openclose(d, ['O_RDWR']), 'EISDIR', 'open d O_RDWR')
  c.fails(await c.root.openclose(d, ['O_RDONLY', 'O_TRUNC']), 'EISDIR', 'open d O_RDONLY|O_TRUNC')
  c.fails(await c.root.openclose(d, ['O_CREAT', 'O_RDONLY'], 0o644), 'EISDIR', 'open d O_CREAT|O_RDONLY')
})

add('O_NOFOLLOW on a symlink: ELOOP, with and without O_CREAT', async c => {
  await c.make('regular', 'f')
  const s = await c.make('symlink', 's', { target: 'f' })
  c.fails(await c.root.openclose(s, ['O_RDONLY', 'O_NOFOLLOW']), 'ELOOP', 'open s O_RDONLY|O_NOFOLLOW')
  c.fails(await c.root.openclose(s, ['O_RDWR', 'O_NOFOLLOW']), 'ELOOP', 'open s O_RDWR|O_NOFOLLOW')
  c.fails(await c.root.openclose(s, ['O_CREAT', 'O_WRONLY', 'O_NOFOLLOW'], 0o644), 'ELOOP', 'open s O_CREAT|O_WRONLY|O_NOFOLLOW')
  c.ok(await c.root.openclose(c.p('f'), ['O_RDONLY', 'O_NOFOLLOW']), 'open f O_RDONLY|O_NOFOLLOW')
})

add('O_DIRECTORY on a regular file: ENOTDIR; on a directory it opens', async c => {
  const f = await c.make('regular', 'f')
  const d = await c.make('dir', 'd')
  c.fails(await c.root.openclose(f, ['O_RDONLY', 'O_DIRECTORY']), 'ENOTDIR', 'open f O_DIRECTORY')
  c.ok(await c.root.openclose(d, ['O_RDONLY', 'O_DIRECTORY']), 'open d O_DIRECTORY')
})

add('a FIFO with no reader: O_WRONLY|O_NONBLOCK gives ENXIO, O_RDONLY|O_NONBLOCK opens at once', async c => {
  const f = await c.make('fifo', 'f', { mode: 0o666 })
  c.fails(await c.root.openclose(f, ['O_WRONLY', 'O_NONBLOCK']), 'ENXIO', 'open f O_WRONLY|O_NONBLOCK')
  c.ok(await c.root.openclose(f, ['O_RDONLY', 'O_NONBLOCK']), 'open f O_RDONLY|O_NONBLOCK')
})

add('opening a UNIX socket: ENXIO', async c => {
  const s = await c.make('socket', 's')
  c.fails(await c.root.openclose(s, ['O_RDONLY']), 'ENXIO', 'open s O_RDONLY')
  c.fails(await c.root.openclose(s, ['O_RDWR']), 'ENXIO', 'open s O_RDWR')
})

for (const t of ALL_TYPES) {
  add(`O_CREAT|O_EXCL on an existing ${typeName(t)}: EEXIST, nothing made through it`, async c => {
    const e = await c.make(t, 'e', { target: 'target' })
    c.fails(await c.root.openclose(e, ['O_CREAT', 'O_EXCL', 'O_RDWR'], 0o644), 'EEXIST', 'open e O_CREAT|O_EXCL|O_RDWR')
    if (t === 'symlink') await c.gone(c.p('target'))
  })
}

add('O_CREAT through a dangling symlink makes its target', async c => {
  const s = await c.make('symlink', 's', { target: 'target' })
  c.ok(await c.root.openclose(s, ['O_CREAT', 'O_WRONLY'], 0o640), 'open s O_CREAT|O_WRONLY')
  const st = await c.lstat(c.p('target'))
  c.equal(st.type, 'regular', 'type of target')
  c.mode(st, 0o640, 'mode of target')
  c.equal((await c.lstat(s)).type, 'symlink', 'type of s')
})

add('a user creates a file with mode 0000 and still writes and reads it through that fd', async c => {
  await c.make('dir', 'd', { mode: 0o777 })
  const u = c.as(U1)
  const f = c.p('d', 'f')
  const fd = c.ok(await u.open(f, ['O_CREAT', 'O_RDWR'], 0), 'open d/f O_CREAT|O_RDWR 0 as U1')
  c.ok(await u.write(fd, 'written'), 'write')
  c.ok(await u.ftruncate(fd, 3), 'ftruncate 3')
  c.equal(c.ok(await u.read(fd, 10, 0), 'read'), 'wri', 'bytes read back')
  c.ok(await u.close(fd), 'close')
  const st = await c.lstat(f)
  c.mode(st, 0, 'mode of d/f')
  c.equal(st.size, 3, 'size of d/f')
  c.fails(await u.openclose(f, ['O_RDONLY']), 'EACCES', 'open d/f O_RDONLY again as U1')
})

add('O_APPEND writes go to the end of the file whatever the offset', async c => {
  const f = await c.make('regular', 'f')
  const fd = c.ok(await c.root.open(f, ['O_WRONLY', 'O_APPEND']), 'open f O_WRONLY|O_APPEND')
  c.ok(await c.root.write(fd, 'abc'), 'write abc')
  c.ok(await c.root.write(fd, 'def', 0), 'write def at offset 0')
  c.ok(await c.root.close(fd), 'close')
  const rd = c.ok(await c.root.open(f, ['O_RDONLY']), 'open f O_RDONLY')
  c.equal(c.ok(await c.root.read(rd, 10, 0), 'read'), 'abcdef', 'content of f')
})

add('a file past 2 GiB and 4 GiB: writes at large offsets, size and data read back', async c => {
  const f = await c.make('regular', 'f')
  const fd = c.ok(await c.root.open(f, ['O_RDWR']), 'open f O_RDWR')
  for (const off of [2 ** 31 + 5, 2 ** 32 + 7]) {
    c.equal(c.ok(await c.root.write(fd, 'big', off), `write at ${off}`), 3, `bytes written at ${off}`)
    c.equal(c.ok(await c.root.read(fd, 3, off), `read at ${off}`), 'big', `bytes read at ${off}`)
  }
  c.ok(await c.root.close(fd), 'close')
  c.equal((await c.lstat(f)).size, 2 ** 32 + 10, 'size of f')
  c.ok(await c.root.truncate(f, 2 ** 31 + 6), 'truncate f to 2 GiB + 6')
  const rd = c.ok(await c.root.open(f, ['O_RDONLY']), 'open f O_RDONLY')
  c.equal(c.ok(await c.root.read(rd, 10, 2 ** 31 + 5), 'read the tail'), 'b', 'tail of f')
})

add('ETXTBSY opening for writing a file that is being executed', async c => {
  await runningCopy(c, async f => {
    c.fails(await c.root.openclose(f, ['O_WRONLY']), 'ETXTBSY', 'open the running file O_WRONLY')
    c.fails(await c.root.openclose(f, ['O_RDWR']), 'ETXTBSY', 'open the running file O_RDWR')
    c.ok(await c.root.openclose(f, ['O_RDONLY']), 'open the running file O_RDONLY')
  })
})

/** copy /bin/sleep into the check's directory, run it, call fn on its path while it runs */
export async function runningCopy (c: Ctx, fn: (f: string) => Promise<void>): Promise<void> {
  const src = ['/bin/sleep', '/usr/bin/sleep'].find(p => fs.existsSync(p))
  if (src === undefined) c.skip('no sleep binary to copy')
  const f = c.p('sleep')
  fs.copyFileSync(src, f)
  fs.chmodSync(f, 0o755)
  const child = spawn(f, ['30'], { stdio: 'ignore' })
  try {
    await new Promise<void>((resolve, reject) => { child.once('spawn', resolve); child.once('error', reject) })
    await fn(f)
  } finally {
    child.kill('SIGKILL')
    await new Promise(resolve => { if (child.exitCode !== null || child.signalCode !== null) resolve(null); else child.once('exit', resolve) })
  }
}

export const OPEN_CHECKS = out
