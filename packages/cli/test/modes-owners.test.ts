// chmod's MODE and chown's OWNER[:GROUP] against coreutils itself: each mode is applied to local
// files by the real chmod and by applyMode, from several starting modes, files and directories.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { compileMode, applyMode } from '../src/modes.js'
import { parseOwner } from '../src/owners.js'
import { scratch } from './built.js'

const MODES = ['755', '0644', '4755', '2750', '00755', '1777', '0', 'u+x', 'go-w', 'a=r', 'u=rwx,g=rx,o=', '+t', 'g+s', 'u+s,g-s', 'a+X', 'u=rwX,go=',
  '=', '=r', '+w', '-w', 'o=u', 'g=u-w', 'u+rw,o-rwx,g=o', 'a-st', 'ug+rwx,o-x', '-x', '+X', 'u-X', 'go=', 'u+', '+']
const STARTS = [0o644, 0o755, 0o2755, 0o4711, 0o600, 0o1777, 0o070, 0]

t.test('applyMode gives what coreutils chmod gives', async t => {
  const dir = scratch(t, 'gts-modes-')
  const umask = process.umask()
  let n = 0
  for (const start of STARTS) {
    for (const isDir of [false, true]) {
      for (const m of MODES) {
        const p = join(dir, `x${n++}`)
        if (isDir) mkdirSync(p); else writeFileSync(p, '')
        chmodSync(p, start)
        // `--` so that -w and -x are modes (chmod itself also reads them so)
        execFileSync('chmod', ['--', m, p])
        const want = statSync(p).mode & 0o7777
        const got = applyMode(compileMode(m), (isDir ? 0o040000 : 0o100000) | start, isDir, umask)
        t.equal(got.toString(8), want.toString(8), `${isDir ? 'dir' : 'file'} ${start.toString(8)} chmod ${m}`)
      }
    }
  }
})

t.test('invalid modes are usage errors', async t => {
  for (const m of ['', 'zz', 'u', '8', '77777', 'u+q', 'u+x,', 'ug', 'a+rw x', '+u+z']) {
    t.throws(() => compileMode(m), { code: 'EUSAGE', message: `invalid mode: '${m}'` }, JSON.stringify(m))
  }
})

t.test('OWNER[:GROUP] as chown reads it', async t => {
  const dir = scratch(t, 'gts-owners-')
  const files = { passwd: join(dir, 'passwd'), group: join(dir, 'group') }
  writeFileSync(files.passwd, 'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n1234:x:77:78::/:/bin/sh\nbob.smith:x:1001:100::/:/bin/sh\n')
  writeFileSync(files.group, 'root:x:0:\nusers:x:100:\nstaff:x:50:alice\n')
  t.same(parseOwner('alice', files), { uid: 1000 })
  t.same(parseOwner('alice:staff', files), { uid: 1000, gid: 50 })
  t.same(parseOwner('alice:', files), { uid: 1000, gid: 1000 }, 'OWNER: is the login group')
  t.same(parseOwner(':users', files), { gid: 100 })
  t.same(parseOwner('2000:3000', files), { uid: 2000, gid: 3000 }, 'numbers')
  t.same(parseOwner('1234', files), { uid: 77 }, 'a name wins over a number')
  t.same(parseOwner('+1234', files), { uid: 1234 }, '+N is always a number')
  t.same(parseOwner('bob.smith', files), { uid: 1001 }, 'a dotted user name')
  t.same(parseOwner('alice.users', files), { uid: 1000, gid: 100 }, 'OWNER.GROUP')
  t.same(parseOwner('', files), {})
  t.throws(() => parseOwner('nosuch', files), { code: 'EUSAGE', message: "invalid user: 'nosuch'" })
  t.throws(() => parseOwner('nosuch:users', files), { code: 'EUSAGE', message: "invalid user: 'nosuch:users'" })
  t.throws(() => parseOwner('alice:nogroup', files), { code: 'EUSAGE', message: "invalid group: 'alice:nogroup'" })
  t.throws(() => parseOwner('4000:', files), { code: 'EUSAGE', message: "invalid spec: '4000:'" }, 'a number has no login group')
  t.throws(() => parseOwner('4294967295', files), { code: 'EUSAGE' }, '(uid_t)-1 is not an owner')
})
