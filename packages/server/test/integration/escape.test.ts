// Issue 13 item 1: nothing a client sends may change anything outside the brick directory
// (escape-attacks.ts has the attacks; attacks-bin.test.ts runs them against the built CLI). Every
// one of these failed on the path-based brick (lstat then act on a path string) this replaced.
import t from 'tap'
import { cluster } from './brick-client.js'
import { canaryDir, race, symlinkAttack, mode, owner, times, size, anyAttack, RACE_MS, LONG_RACE_MS } from './escape-attacks.js'

// the races take a minute on a quiet box, several on a loaded one
t.setTimeout(600_000)

t.test('SETATTR of the size on a symlink to a host file: EINVAL, the file is untouched', async t => {
  await symlinkAttack(t, await cluster(t))
})

for (const [name, attack] of [['MODE', mode], ['UID+GID', owner], ['times', times], ['SIZE', size]] as const) {
  t.test(`SETATTR ${name} racing a RENAME that puts a symlink on the file's path`, async t => {
    const canary = canaryDir(t)
    const c = await cluster(t)
    await Promise.all([
      race(t, c, canary, { swap: 'file', attack, ms: RACE_MS }),
      race(t, c, canary, { swap: 'dir', attack, ms: RACE_MS }),
    ])
  })
}

t.test(`every attack at once, racing both kinds of swap, for ${LONG_RACE_MS / 1000} s`, async t => {
  const canary = canaryDir(t)
  const c = await cluster(t)
  await Promise.all([
    race(t, c, canary, { swap: 'file', attack: anyAttack, ms: LONG_RACE_MS }),
    race(t, c, canary, { swap: 'dir', attack: anyAttack, ms: LONG_RACE_MS }),
  ])
})
