// Permission bits, class by class, where pjdfstest's "granular" directory checks NFSv4 ACLs (which
// Linux file systems and GlusterFS do not have): what read, write and search on a directory each
// allow, access(2) for every class, root's override and its limit (execute needs some x bit),
// supplementary groups, write permission versus ownership.
import { G3, U1, U1_G, U2, check } from '../check.js'
import type { Check } from '../check.js'

const R_OK = 4
const W_OK = 2
const X_OK = 1

const out: Check[] = []
const add = (name: string, run: Check['run']): void => { out.push(check('granular', name, run)) }

add('a directory with write but no search permission: nothing can be made or removed in it', async c => {
  await c.make('dir', 'd', { uid: U1.uid, gid: U1.gid, mode: 0o755 })
  await c.make('regular', 'd/f', { uid: U1.uid, gid: U1.gid })
  c.ok(await c.root.chmod(c.p('d'), 0o622), 'chmod d 0622')
  const u = c.as(U1)
  c.fails(await u.openclose(c.p('d', 'g'), ['O_CREAT', 'O_WRONLY'], 0o644), 'EACCES', 'create d/g as the owner of d, d 0622')
  c.fails(await u.unlink(c.p('d', 'f')), 'EACCES', 'unlink d/f as the owner of d, d 0622')
  c.fails(await u.mkdir(c.p('d', 'e'), 0o755), 'EACCES', 'mkdir d/e as the owner of d, d 0622')
})

add('a directory with search but no read permission: names are found but not listed', async c => {
  await c.make('dir', 'd', { uid: U1.uid, gid: U1.gid, mode: 0o311 })
  await c.make('regular', 'd/f')
  const u = c.as(U1)
  c.fails(await u.readdir(c.p('d')), 'EACCES', 'readdir d as its owner, d 0311')
  c.ok(await u.lstat(c.p('d', 'f')), 'lstat d/f as the owner of d')
  c.ok(await u.openclose(c.p('d', 'f'), ['O_RDONLY']), 'open d/f O_RDONLY as the owner of d')
})

add('a directory with read but no search permission: names are listed, not reached', async c => {
  await c.make('dir', 'd', { uid: U1.uid, gid: U1.gid, mode: 0o755 })
  await c.make('regular', 'd/f')
  c.ok(await c.root.chmod(c.p('d'), 0o644), 'chmod d 0644')
  const u = c.as(U1)
  c.equal(JSON.stringify(c.ok(await u.readdir(c.p('d')), 'readdir d as its owner, d 0644')), '["f"]', 'names in d')
  c.fails(await u.lstat(c.p('d', 'f')), 'EACCES', 'lstat d/f as the owner of d')
})

const classes = [
  { label: 'its owner', who: U1, shift: 6 },
  { label: 'a member of its group', who: { uid: U2.uid, gid: U1.gid }, shift: 3 },
  { label: 'any other user', who: U2, shift: 0 },
]
for (const cls of classes) {
  add(`access(2) for ${cls.label} follows that class's bits alone`, async c => {
    const f = await c.make('regular', 'f', { uid: U1.uid, gid: U1.gid })
    for (const bits of [0, 1, 2, 4, 5, 6, 7]) {
      const mode = (0o777 & ~(7 << cls.shift)) | (bits << cls.shift)
      c.ok(await c.root.chmod(f, mode), `chmod f 0${mode.toString(8)}`)
      for (const [name, want] of [['R_OK', R_OK], ['W_OK', W_OK], ['X_OK', X_OK]] as const) {
        const r = await c.as(cls.who).access(f, want)
        if ((bits & want) !== 0) c.ok(r, `access f ${name} as ${cls.label}, f 0${mode.toString(8)}`)
        else c.fails(r, 'EACCES', `access f ${name} as ${cls.label}, f 0${mode.toString(8)}`)
      }
    }
  })
}

add('root may read and write a mode 0000 file; it may execute only a file with some execute bit', async c => {
  const f = await c.make('regular', 'f', { uid: U1.uid, gid: U1.gid, mode: 0 })
  c.ok(await c.root.access(f, R_OK | W_OK), 'access f R_OK|W_OK as root, f 0000')
  c.fails(await c.root.access(f, X_OK), 'EACCES', 'access f X_OK as root, f 0000')
  c.ok(await c.root.chmod(f, 0o001), 'chmod f 0001')
  c.ok(await c.root.access(f, X_OK), 'access f X_OK as root, f 0001')
})

add('root may search and write a mode 0000 directory', async c => {
  const d = await c.make('dir', 'd', { uid: U1.uid, gid: U1.gid, mode: 0 })
  c.ok(await c.root.access(d, R_OK | W_OK | X_OK), 'access d R_OK|W_OK|X_OK as root, d 0000')
  c.ok(await c.root.openclose(c.p('d', 'f'), ['O_CREAT', 'O_WRONLY'], 0o644), 'create d/f as root')
})

add('a supplementary group gives its members the group\'s access to a directory', async c => {
  await c.make('dir', 'd', { uid: U2.uid, gid: G3, mode: 0o070 })
  c.ok(await c.as(U1_G).openclose(c.p('d', 'f'), ['O_CREAT', 'O_WRONLY'], 0o644), 'create d/f as U1 in G3, d G3 0070')
  c.fails(await c.as(U1).openclose(c.p('d', 'g'), ['O_CREAT', 'O_WRONLY'], 0o644), 'EACCES', 'create d/g as U1 without G3')
  const st = await c.lstat(c.p('d', 'f'))
  c.equal(`${st.uid}:${st.gid}`, `${U1.uid}:${U1.gid}`, 'owner of d/f')
})

add('the owner class decides for the owner even when the others may more (mode 0077)', async c => {
  await c.make('dir', 'd', { uid: U1.uid, gid: U1.gid, mode: 0o077 })
  c.fails(await c.as(U1).readdir(c.p('d')), 'EACCES', 'readdir d as its owner, d 0077')
  c.ok(await c.as(U2).readdir(c.p('d')), 'readdir d as another user, d 0077')
})

add('an execute-only file cannot be opened for reading by its owner', async c => {
  const f = await c.make('regular', 'f', { uid: U1.uid, gid: U1.gid, mode: 0o100 })
  c.fails(await c.as(U1).openclose(f, ['O_RDONLY']), 'EACCES', 'open f O_RDONLY as its owner, f 0100')
  c.ok(await c.as(U1).access(f, X_OK), 'access f X_OK as its owner')
})

add('the owner of a mode 0000 directory may chmod it back and then use it', async c => {
  const d = await c.make('dir', 'd', { uid: U1.uid, gid: U1.gid, mode: 0 })
  const u = c.as(U1)
  c.fails(await u.readdir(d), 'EACCES', 'readdir d as its owner, d 0000')
  c.ok(await u.chmod(d, 0o700), 'chmod d 0700 as its owner')
  c.ok(await u.readdir(d), 'readdir d as its owner, d 0700')
})

add('write permission on a file is not ownership: chmod and chown by a writer get EPERM', async c => {
  const f = await c.make('regular', 'f', { mode: 0o666 })
  const u = c.as(U1)
  c.ok(await u.openclose(f, ['O_RDWR']), 'open f O_RDWR as another user, f 0666')
  c.fails(await u.chmod(f, 0o777), 'EPERM', 'chmod f 0777 as another user')
  c.fails(await u.chown(f, U1.uid, -1), 'EPERM', 'chown f U1 as another user')
  c.mode(await c.lstat(f), 0o666, 'mode of f')
})

add('a change of mode applies at once to the next open of another user', async c => {
  const f = await c.make('regular', 'f', { mode: 0o644 })
  const u = c.as(U1)
  c.ok(await u.openclose(f, ['O_RDONLY']), 'open f O_RDONLY as another user, f 0644')
  c.ok(await c.root.chmod(f, 0o640), 'chmod f 0640')
  c.fails(await u.openclose(f, ['O_RDONLY']), 'EACCES', 'open f O_RDONLY as another user, f 0640')
  c.ok(await c.root.chmod(f, 0o646), 'chmod f 0646')
  c.ok(await u.openclose(f, ['O_WRONLY']), 'open f O_WRONLY as another user, f 0646')
})

export const GRANULAR_CHECKS = out
