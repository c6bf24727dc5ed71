// mknod(2) (coreutils mknod): FIFOs as every creating call (create.ts), and device nodes: root
// makes character and block devices whose numbers survive, other users get EPERM.
import { U1, check } from '../check.js'
import type { Check } from '../check.js'
import { createChecks } from './create.js'

const out: Check[] = createChecks({
  group: 'mknod',
  label: 'mknod fifo',
  type: 'fifo',
  call: (w, p, mode) => w.mknod(p, 'p', mode),
  modes: [0o644, 0o600, 0o440],
  umasks: [[0o022, 0o666, 0o644], [0o077, 0o666, 0o600]],
})
const add = (name: string, run: Check['run']): void => { out.push(check('mknod', name, run)) }

for (const [kind, type] of [['c', 'char'], ['b', 'block']] as const) {
  const what = `${type} device`
  out.push(...createChecks({
    group: 'mknod',
    label: `mknod ${what}`,
    type,
    call: (w, p, mode) => w.mknod(p, kind, mode, 1, 3),
    modes: [0o644, 0o600],
  }).filter(k => !k.name.includes('a user\'s new') && !k.name.includes('set-group-ID') && !k.name.includes('EACCES')))

  add(`root makes a ${what} whose major and minor numbers survive`, async c => {
    for (const [i, [major, minor]] of [[1, 3], [4095, 255], [4095, 1048575], [254, 70000]].entries()) {
      const p = c.p(`n${i}`)
      c.ok(await c.root.mknod(p, kind, 0o640, major, minor), `mknod n${i} ${kind} ${major} ${minor}`)
      const st = await c.lstat(p)
      c.equal(st.type, type, `type of n${i}`)
      c.equal(`${st.rdevMajor}:${st.rdevMinor}`, `${major}:${minor}`, `device numbers of n${i}`)
      c.mode(st, 0o640, `mode of n${i}`)
    }
  })
  add(`EPERM for a user who makes a ${what}, even in a directory it may write`, async c => {
    await c.make('dir', 'd', { mode: 0o777 })
    c.fails(await c.as(U1).mknod(c.p('d', 'n'), kind, 0o644, 1, 3), 'EPERM', `mknod d/n ${kind} 1 3 as U1`)
    await c.gone(c.p('d', 'n'))
  })
  add(`a ${what} can be renamed, linked and removed, and keeps its numbers`, async c => {
    const p = c.p('n')
    c.ok(await c.root.mknod(p, kind, 0o644, 7, 9), `mknod n ${kind} 7 9`)
    c.ok(await c.root.rename(p, c.p('m')), 'rename n m')
    c.ok(await c.root.link(c.p('m'), c.p('l')), 'link m l')
    const st = await c.lstat(c.p('l'))
    c.equal(`${st.type}:${st.rdevMajor}:${st.rdevMinor}:${st.nlink}`, `${type}:7:9:2`, 'type, numbers and nlink of l')
    c.ok(await c.root.unlink(c.p('m')), 'unlink m')
    c.ok(await c.root.unlink(c.p('l')), 'unlink l')
    await c.gone(c.p('l'))
  })
}

add('a user may make a FIFO with mknod in a directory it may write', async c => {
  await c.make('dir', 'd', { mode: 0o777 })
  c.ok(await c.as(U1).mknod(c.p('d', 'n'), 'p', 0o640), 'mknod d/n p as U1')
  const st = await c.lstat(c.p('d', 'n'))
  c.equal(`${st.type}:${st.uid}`, `fifo:${U1.uid}`, 'type and owner of d/n')
})

export const MKNOD_CHECKS = out
