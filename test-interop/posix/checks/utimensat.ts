// utimensat(2) (Node's utimes/lutimes for whole seconds, coreutils touch -c for UTIME_NOW,
// UTIME_OMIT and nanoseconds): explicit times on every type, following symlinks or not, now,
// omitted fields, mtime before atime, who may set what (explicit times: owner or root; now:
// anyone with write permission), nanoseconds kept, times past 2038, the ctime.
import { ALL_TYPES, U1, U2, check, typeName } from '../check.js'
import type { Check } from '../check.js'

const out: Check[] = []
const add = (name: string, run: Check['run']): void => { out.push(check('utimensat', name, run)) }

const DATE1 = 1_900_000_000
const DATE2 = 1_950_000_000
const ns = (s: number | string): string => {
  const [whole, frac = ''] = String(s).split('.')
  return (BigInt(whole!) * 1_000_000_000n + BigInt(frac.padEnd(9, '0'))).toString()
}
const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n

for (const t of ALL_TYPES) {
  add(`sets atime and mtime of a ${typeName(t)}${t === 'symlink' ? ' (not following it)' : ''}`, async c => {
    const f = await c.make(t, 'f')
    c.ok(await c.root.touch(f, String(DATE1), String(DATE2), { followSymlinks: false }), 'utimensat f DATE1 DATE2')
    const st = await c.lstat(f)
    c.equal(st.atime, ns(DATE1), 'atime of f')
    c.equal(st.mtime, ns(DATE2), 'mtime of f')
  })
}

add('UTIME_NOW for both sets them to now and moves the ctime', async c => {
  const f = await c.make('regular', 'f')
  c.ok(await c.root.utimes(f, DATE1, DATE1), 'utimes f DATE1 DATE1')
  const before = await c.lstat(f)
  await c.settle()
  const t0 = nowNs() - 1_000_000_000n
  c.ok(await c.root.touch(f, 'now', 'now'), 'utimensat f NOW NOW')
  const t1 = nowNs() + 1_000_000_000n
  const st = await c.lstat(f)
  c.true(BigInt(st.atime) >= t0 && BigInt(st.atime) <= t1, `atime ${st.atime} within a second of now`)
  c.true(BigInt(st.mtime) >= t0 && BigInt(st.mtime) <= t1, `mtime ${st.mtime} within a second of now`)
  c.later(before.ctime, st.ctime, 'ctime of f')
})

for (const [field, atime, mtime] of [['atime', 'now', 'omit'], ['mtime', 'omit', 'now']] as const) {
  add(`UTIME_NOW for ${field} alone leaves the other time`, async c => {
    const f = await c.make('regular', 'f')
    c.ok(await c.root.utimes(f, DATE1, DATE2), 'utimes f DATE1 DATE2')
    const t0 = nowNs() - 1_000_000_000n
    c.ok(await c.root.touch(f, atime, mtime), `utimensat f ${atime} ${mtime}`)
    const st = await c.lstat(f)
    const changed = BigInt(field === 'atime' ? st.atime : st.mtime)
    c.true(changed >= t0, `${field} ${changed} is now`)
    c.equal(field === 'atime' ? st.mtime : st.atime, ns(field === 'atime' ? DATE2 : DATE1), `the other time of f`)
  })
}

for (const [field, atime, mtime] of [['atime', 'omit', String(DATE2)], ['mtime', String(DATE1), 'omit']] as const) {
  add(`UTIME_OMIT for ${field} leaves it while the other time is set`, async c => {
    const f = await c.make('regular', 'f')
    c.ok(await c.root.utimes(f, 1_000_000_000, 1_000_000_000), 'utimes f 1e9 1e9')
    c.ok(await c.root.touch(f, atime, mtime), `utimensat f ${atime} ${mtime}`)
    const st = await c.lstat(f)
    c.equal(st.atime, atime === 'omit' ? ns(1_000_000_000) : ns(DATE1), 'atime of f')
    c.equal(st.mtime, mtime === 'omit' ? ns(1_000_000_000) : ns(DATE2), 'mtime of f')
  })
}

add('mtime may be set before atime and after it', async c => {
  const f = await c.make('regular', 'f')
  c.ok(await c.root.utimes(f, DATE2, DATE1), 'utimes f DATE2 DATE1')
  let st = await c.lstat(f)
  c.equal(`${st.atime}/${st.mtime}`, `${ns(DATE2)}/${ns(DATE1)}`, 'atime/mtime of f')
  c.ok(await c.root.utimes(f, DATE1, DATE2), 'utimes f DATE1 DATE2')
  st = await c.lstat(f)
  c.equal(`${st.atime}/${st.mtime}`, `${ns(DATE1)}/${ns(DATE2)}`, 'atime/mtime of f')
})

add('follows a symlink by default; AT_SYMLINK_NOFOLLOW sets the link\'s own times', async c => {
  const f = await c.make('regular', 'f')
  const s = await c.make('symlink', 's', { target: 'f' })
  c.ok(await c.root.utimes(f, 1_000_000_000, 1_000_000_000), 'utimes f 1e9 1e9')
  const linkBefore = await c.lstat(s)
  c.ok(await c.root.touch(s, String(DATE1), String(DATE2)), 'utimensat s DATE1 DATE2 (following)')
  let st = await c.lstat(f)
  c.equal(`${st.atime}/${st.mtime}`, `${ns(DATE1)}/${ns(DATE2)}`, 'atime/mtime of f')
  c.equal((await c.lstat(s)).mtime, linkBefore.mtime, 'mtime of the link itself')
  c.ok(await c.root.touch(s, String(DATE2), String(DATE1), { followSymlinks: false }), 'utimensat s DATE2 DATE1 AT_SYMLINK_NOFOLLOW')
  const ls = await c.lstat(s)
  c.equal(`${ls.atime}/${ls.mtime}`, `${ns(DATE2)}/${ns(DATE1)}`, 'atime/mtime of the link')
  st = await c.lstat(f)
  c.equal(`${st.atime}/${st.mtime}`, `${ns(DATE1)}/${ns(DATE2)}`, 'atime/mtime of f')
})

add('UTIME_NOW: EACCES for a user who neither owns the file nor may write it', async c => {
  const f = await c.make('regular', 'f', { mode: 0o644 })
  c.ok(await c.root.utimes(f, DATE1, DATE1), 'utimes f DATE1 DATE1')
  c.fails(await c.as(U1).touch(f, 'now', 'now'), 'EACCES', 'utimensat f NOW NOW as another user, f 0644')
  c.equal((await c.lstat(f)).mtime, ns(DATE1), 'mtime of f')
})

add('UTIME_NOW: the owner may, even without write permission', async c => {
  const f = await c.make('regular', 'f', { uid: U1.uid, gid: U1.gid, mode: 0o444 })
  c.ok(await c.root.utimes(f, DATE1, DATE1), 'utimes f DATE1 DATE1')
  c.ok(await c.as(U1).touch(f, 'now', 'now'), 'utimensat f NOW NOW as its owner, f 0444')
  c.true((await c.lstat(f)).mtime !== ns(DATE1), 'mtime of f changed')
})

add('UTIME_NOW: a user who may write the file may, without owning it', async c => {
  const f = await c.make('regular', 'f', { mode: 0o666 })
  c.ok(await c.root.utimes(f, DATE1, DATE1), 'utimes f DATE1 DATE1')
  c.ok(await c.as(U1).touch(f, 'now', 'now'), 'utimensat f NOW NOW as another user, f 0666')
  c.true((await c.lstat(f)).mtime !== ns(DATE1), 'mtime of f changed')
  const g = await c.make('regular', 'g', { uid: U2.uid, gid: U1.gid, mode: 0o464 })
  c.ok(await c.as(U1).touch(g, 'now', 'now'), 'utimensat g NOW NOW as a member of its group, g 0464')
})

for (const [label, atime, mtime] of [['both times', String(DATE1), String(DATE2)], ['atime alone', String(DATE1), 'omit'], ['mtime alone', 'omit', String(DATE2)]] as const) {
  add(`explicit ${label}: EPERM for a user who does not own the file, even with write permission`, async c => {
    const f = await c.make('regular', 'f', { mode: 0o644 })
    c.ok(await c.root.utimes(f, 1_000_000_000, 1_000_000_000), 'utimes f 1e9 1e9')
    c.fails(await c.as(U1).touch(f, atime, mtime), 'EPERM', `utimensat f ${atime} ${mtime} as another user, f 0644`)
    c.ok(await c.root.chmod(f, 0o666), 'chmod f 0666')
    c.fails(await c.as(U1).touch(f, atime, mtime), 'EPERM', `utimensat f ${atime} ${mtime} as another user, f 0666`)
    const st = await c.lstat(f)
    c.equal(`${st.atime}/${st.mtime}`, `${ns(1_000_000_000)}/${ns(1_000_000_000)}`, 'atime/mtime of f')
  })
}

add('explicit times: the owner may on its read-only file, and root on anyone\'s', async c => {
  const f = await c.make('regular', 'f', { uid: U1.uid, gid: U1.gid, mode: 0o444 })
  c.ok(await c.as(U1).utimes(f, DATE1, DATE2), 'utimes f DATE1 DATE2 as its owner, f 0444')
  let st = await c.lstat(f)
  c.equal(`${st.atime}/${st.mtime}`, `${ns(DATE1)}/${ns(DATE2)}`, 'atime/mtime of f')
  c.ok(await c.root.utimes(f, DATE2, DATE1), 'utimes f DATE2 DATE1 as root')
  st = await c.lstat(f)
  c.equal(`${st.atime}/${st.mtime}`, `${ns(DATE2)}/${ns(DATE1)}`, 'atime/mtime of f')
})

add('nanoseconds are kept', async c => {
  const f = await c.make('regular', 'f')
  const a = '1900000000.123456789'
  const m = '1950000000.987654321'
  c.ok(await c.root.touch(f, a, m), `utimensat f ${a} ${m}`)
  const st = await c.lstat(f)
  c.equal(st.atime, ns(a), 'atime of f')
  c.equal(st.mtime, ns(m), 'mtime of f')
  c.ok(await c.root.touch(f, '1000000000.000000001', '1000000000.999999999'), 'utimensat f 1e9+1ns 1e9+999999999ns')
  const s2 = await c.lstat(f)
  c.equal(`${s2.atime}/${s2.mtime}`, `${ns('1000000000.000000001')}/${ns('1000000000.999999999')}`, 'atime/mtime of f')
})

// seconds + nanoseconds as one double lose the last digits, downwards for these (1700000000.3 is
// 1700000000.299999952…): a server that converts so gives back 299999952 ns, or 299999000 at µs
add('tenths of a second come back exactly (nothing rounded through a double on the way)', async c => {
  const f = await c.make('regular', 'f')
  const a = '1700000000.3'
  const m = '1650000000.1'
  c.ok(await c.root.touch(f, a, m), `utimensat f ${a} ${m}`)
  const st = await c.lstat(f)
  c.equal(`${st.atime}/${st.mtime}`, `${ns(a)}/${ns(m)}`, 'atime/mtime of f')
})

add('times past 2038 (2^31 s) and 2106 (2^32 s) are kept', async c => {
  const f = await c.make('regular', 'f')
  c.ok(await c.root.utimes(f, 2 ** 31, 2 ** 32), 'utimes f 2^31 2^32')
  const st = await c.lstat(f)
  c.equal(`${st.atime}/${st.mtime}`, `${ns(2 ** 31)}/${ns(2 ** 32)}`, 'atime/mtime of f')
})

add('a successful utimensat moves the ctime; a refused one does not', async c => {
  const f = await c.make('regular', 'f')
  const s0 = await c.lstat(f)
  await c.settle()
  c.ok(await c.root.utimes(f, DATE1, DATE2), 'utimes f DATE1 DATE2')
  const s1 = await c.lstat(f)
  c.later(s0.ctime, s1.ctime, 'ctime of f after utimes')
  await c.settle()
  c.fails(await c.as(U1).utimes(f, DATE2, DATE1), 'EPERM', 'utimes f as another user')
  c.same(s1.ctime, (await c.lstat(f)).ctime, 'ctime of f after the refused utimes')
})

export const UTIMENSAT_CHECKS = out
