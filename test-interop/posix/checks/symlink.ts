// symlink(2): what every creating call shares (create.ts), the link's text (dangling, relative,
// up to PATH_MAX-1 bytes), its mode, and that calls through it reach the target.
import { U1, check } from '../check.js'
import type { Check } from '../check.js'
import { createChecks } from './create.js'
import { PATH_MAX, nameOf } from './paths.js'

const out: Check[] = createChecks({
  group: 'symlink',
  label: 'symlink',
  type: 'symlink',
  call: (w, p) => w.symlink('target', p),
})
const add = (name: string, run: Check['run']): void => { out.push(check('symlink', name, run)) }

add('makes a link with the given text; lstat sees the link, stat the target', async c => {
  const f = await c.make('regular', 'f', { mode: 0o600, uid: U1.uid })
  c.ok(await c.root.symlink('f', c.p('s')), 'symlink f s')
  const ls = await c.lstat(c.p('s'))
  c.equal(ls.type, 'symlink', 'type of s')
  c.equal(ls.size, 1, 'size of s (length of its text)')
  c.equal(c.ok(await c.root.readlink(c.p('s')), 'readlink s'), 'f', 'text of s')
  const st = await c.stat(c.p('s'))
  const ft = await c.lstat(f)
  c.equal(`${st.type}:${st.ino}:${st.uid}`, `regular:${ft.ino}:${U1.uid}`, 'what stat s reaches')
})

add('a dangling link is made and reads back; stat through it says ENOENT', async c => {
  c.ok(await c.root.symlink('nowhere/at/all', c.p('s')), 'symlink nowhere/at/all s')
  c.equal(c.ok(await c.root.readlink(c.p('s')), 'readlink s'), 'nowhere/at/all', 'text of s')
  c.fails(await c.root.stat(c.p('s')), 'ENOENT', 'stat s')
})

add('a relative link resolves from the link\'s directory, an absolute one from /', async c => {
  await c.make('dir', 'd')
  await c.make('regular', 'd/f')
  c.ok(await c.root.symlink('f', c.p('d', 'rel')), 'symlink f d/rel')
  c.ok(await c.root.symlink(c.p('d', 'f'), c.p('abs')), 'symlink <absolute d/f> abs')
  const ino = (await c.lstat(c.p('d', 'f'))).ino
  c.equal((await c.stat(c.p('d', 'rel'))).ino, ino, 'what d/rel reaches')
  c.equal((await c.stat(c.p('abs'))).ino, ino, 'what abs reaches')
})

add('a link\'s mode is 0777 whatever the umask', async c => {
  c.ok(await c.root.withUmask(0o077).symlink('x', c.p('s')), 'symlink x s under umask 077')
  c.mode(await c.lstat(c.p('s')), 0o777, 'mode of s')
})

add(`a text of PATH_MAX-1 (${PATH_MAX - 1}) bytes is kept whole; PATH_MAX bytes: ENAMETOOLONG`, async c => {
  const text = Array.from({ length: 16 }, () => nameOf(255, 'x')).join('/').slice(0, PATH_MAX - 1)
  c.ok(await c.root.symlink(text, c.p('s')), `symlink <${text.length} bytes> s`)
  const back = c.ok(await c.root.readlink(c.p('s')), 'readlink s')
  c.equal(back.length, text.length, 'length of the text read back')
  c.true(back === text, 'the text read back is the text written')
  c.fails(await c.root.symlink(text + 'y', c.p('t')), 'ENAMETOOLONG', `symlink <${text.length + 1} bytes> t`)
})

add('a link inside the tree works as a path component', async c => {
  await c.make('dir', 'd')
  await c.make('regular', 'd/f')
  c.ok(await c.root.symlink('d', c.p('s')), 'symlink d s')
  c.ok(await c.root.openclose(c.p('s', 'f'), ['O_RDONLY']), 'open s/f')
  c.ok(await c.root.openclose(c.p('s', 'g'), ['O_CREAT', 'O_WRONLY'], 0o644), 'create s/g')
  c.ok(await c.root.lstat(c.p('d', 'g')), 'lstat d/g')
})

export const SYMLINK_CHECKS = out
