// mkdir(2): what every creating call shares (create.ts), plus what is particular to directories:
// link counts of the new directory and its parent, the sticky bit kept from the mode, and S_ISGID
// inherited from a set-group-ID parent.
import { U1, U2, check } from '../check.js'
import type { Check } from '../check.js'
import { createChecks } from './create.js'

const out: Check[] = createChecks({
  group: 'mkdir',
  label: 'mkdir',
  type: 'dir',
  call: (w, p, mode) => w.mkdir(p, mode),
  modes: [0o755, 0o151, 0o700, 0o1777],
  umasks: [[0o077, 0o151, 0o100], [0o070, 0o345, 0o305], [0o501, 0o345, 0o244], [0o022, 0o777, 0o755]],
})
const add = (name: string, run: Check['run']): void => { out.push(check('mkdir', name, run)) }

add('a new directory has nlink 2 and its parent\'s nlink grows by one', async c => {
  const d = await c.make('dir', 'd')
  const before = await c.lstat(d)
  c.ok(await c.root.mkdir(c.p('d', 'n'), 0o755), 'mkdir d/n')
  c.equal((await c.lstat(c.p('d', 'n'))).nlink, 2, 'nlink of d/n')
  c.equal((await c.lstat(d)).nlink, before.nlink + 1, 'nlink of d')
})

add('a directory made in a set-group-ID directory is set-group-ID too, and so are its own children', async c => {
  await c.make('dir', 'd', { uid: U2.uid, gid: U2.gid, mode: 0o2777 })
  const n = c.p('d', 'n')
  c.ok(await c.as(U1).mkdir(n, 0o755), 'mkdir d/n as U1')
  const st = await c.lstat(n)
  c.mode(st, 0o2755, 'mode of d/n')
  c.ok(await c.as(U1).mkdir(c.p('d', 'n', 'm'), 0o700), 'mkdir d/n/m as U1')
  const sm = await c.lstat(c.p('d', 'n', 'm'))
  c.equal(`${sm.uid}:${sm.gid}`, `${U1.uid}:${U2.gid}`, 'owner of d/n/m')
  c.mode(sm, 0o2700, 'mode of d/n/m')
})

add('the directory is empty: only . and .. (readdir lists nothing)', async c => {
  const n = c.p('n')
  c.ok(await c.root.mkdir(n, 0o755), 'mkdir n')
  c.equal(JSON.stringify(c.ok(await c.root.readdir(n), 'readdir n')), '[]', 'entries of n')
  c.equal((await c.stat(`${n}/..`)).ino, (await c.lstat(c.dir)).ino, 'inode of n/..')
})

export const MKDIR_CHECKS = out
