// Argument parsing through main(): usage errors are one line with exit status 2, --help of every
// command has examples, global flags and environment defaults reach the Session.
import t from 'tap'
import { main } from '../src/main.js'
import { capture } from './helpers.js'

const COMMANDS = ['cat', 'cp', 'ls', 'stat', 'put', 'rm', 'mkdir', 'mv', 'tail', 'truncate', 'touch', 'du', 'sum', 'volfile', 'bricks', 'serve', 'cluster']

t.test('--help lists every command; each command has --help with examples', async t => {
  const c = capture()
  t.equal(await main(['--help'], c.io), 0)
  for (const cmd of COMMANDS) t.match(c.out(), new RegExp(`gluster-ts ${cmd}\\b`), cmd)
  t.match(c.out(), /Exit status: 0 ok/)
  for (const cmd of COMMANDS) {
    const h = capture()
    t.equal(await main([cmd, '--help'], h.io), 0, `${cmd} --help exits 0`)
    t.match(h.out(), /Examples:\n {2}.*gluster-ts /, `${cmd} --help has examples`)
    t.equal(h.err(), '', `${cmd} --help writes nothing on stderr`)
  }
})

t.test('usage errors: one line on stderr, exit status 2, nothing on stdout', async t => {
  const cases: Array<[string[], RegExp]> = [
    [[], /^gluster-ts: EUSAGE: name a command/],
    [['frob'], /^gluster-ts: EUSAGE: Unknown argument: frob/],
    [['cat'], /^gluster-ts cat: EUSAGE: Not enough non-option arguments/],
    [['cp', 'gluster://h/v/a'], /^gluster-ts cp: EUSAGE: cp needs SRC\.\.\. DST/],
    [['ls', '--nope', 'x', 'gluster://h/v/'], /^gluster-ts ls: EUSAGE: Unknown argument/],
    [['cat', 'http://h/v/a'], /^gluster-ts cat: http:\/\/h\/v\/a: EUSAGE: 'http:\/\/h\/v\/a': unknown scheme/],
    [['cat', './local'], /^gluster-ts cat: \.\/local: EUSAGE: cat takes a gluster:\/\/ URL, not the local path '\.\/local'/],
    [['cat', 'gluster:///v/a'], /names no server/],
    [['tail', '-n', 'x', 'gluster://h/v/a'], /^gluster-ts tail: EUSAGE: invalid --lines 'x'/],
    [['tail', '-c', '1Q', 'gluster://h/v/a'], /^gluster-ts tail: EUSAGE: invalid --bytes '1Q'/],
    [['truncate', 'gluster://h/v/a'], /^gluster-ts truncate: EUSAGE: Missing required argument: size/],
    [['truncate', '-s', 'big', 'gluster://h/v/a'], /^gluster-ts truncate: EUSAGE: invalid size 'big'/],
    [['mkdir', '-m', '999', 'gluster://h/v/a'], /EUSAGE: invalid mode '999'/],
    [['touch', '-d', 'yesterday-ish', 'gluster://h/v/a'], /EUSAGE: invalid --date/],
    [['rm', 'gluster://h/v/'], /EUSAGE: refusing to remove the volume root/],
    [['serve'], /EUSAGE: serve needs a mount/],
    [['serve', '--mount', 'mountpoint=x,volume=v'], /EUSAGE: mount 'mountpoint=x,volume=v': mountpoint must start with '\/'/],
    [['cluster'], /EUSAGE: Missing required argument: dir/],
  ]
  for (const [argv, re] of cases) {
    const c = capture()
    const code = await main(argv, c.io)
    t.equal(code, 2, `${argv.join(' ')}: exit 2`)
    t.match(c.err(), re, `${argv.join(' ')}: message`)
    t.equal(c.err().trimEnd().split('\n').length, 1, `${argv.join(' ')}: one line`)
    t.equal(c.out(), '', `${argv.join(' ')}: no stdout`)
  }
})

t.test('GLUSTER_TS_SERVERS gives the servers of gluster:/// URLs (unreachable: exit 6, naming the server)', async t => {
  const c = capture({ env: { GLUSTER_TS_SERVERS: '127.0.0.1:1' } })
  const code = await main(['cat', '--timeout', '1000', 'gluster:///vol1/a'], c.io)
  t.equal(code, 6)
  t.match(c.err(), /^gluster-ts cat: gluster:\/\/\/vol1\/a: EGLUSTER_NOVOLFILE: .*127\.0\.0\.1:1/)
  t.equal(c.err().trimEnd().split('\n').length, 1)
  const d = capture({ env: { GLUSTER_TS_SERVERS: 'nowhere' } })
  t.equal(await main(['cat', '--servers', '127.0.0.1:1', '--timeout', '1000', 'gluster:///vol1/a'], d.io), 6, '--servers wins over the environment')
  t.match(d.err(), /127\.0\.0\.1:1/)
  t.notMatch(d.err(), /nowhere/)
})

t.test('--debug adds the stack; without it there is none', async t => {
  const c = capture()
  await main(['cat', '--timeout', '500', 'gluster://127.0.0.1:1/v/a'], c.io)
  t.notMatch(c.err(), /\n\s+at /)
  const d = capture()
  await main(['cat', '--debug', '--timeout', '500', 'gluster://127.0.0.1:1/v/a'], d.io)
  t.match(d.err(), /\n\s+at /)
})
