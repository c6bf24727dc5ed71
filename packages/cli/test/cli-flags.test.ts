// What a shell user types first: --version, -h, and a mistyped flag. Through the built command.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { binMissing, gts, oneLine } from './built.js'

const missing = binMissing()
// each case starts the built command (a node process): on a loaded 2-core box that is seconds each,
// past tap's default 120 s for the file
t.setTimeout(600_000)
const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version

t.test('--version prints the name and the package version, status 0', { skip: missing }, async t => {
  for (const argv of [['--version'], ['ls', '--version']]) {
    const r = await gts(argv)
    t.equal(r.code, 0, argv.join(' '))
    t.equal(r.stdout.toString(), `gluster-ts ${VERSION}\n`, argv.join(' '))
    t.equal(r.stderr, '')
  }
})

t.test('-h is --help wherever it does not mean --human-readable (ls, du)', { skip: missing }, async t => {
  const top = await gts(['-h'])
  t.equal(top.code, 0, top.stderr)
  t.match(top.stdout.toString(), /^gluster-ts <command> \[options\]/)
  for (const cmd of ['cat', 'cp', 'stat', 'serve']) {
    const r = await gts([cmd, '-h'])
    t.equal(r.code, 0, `${cmd} -h: ${r.stderr}`)
    t.match(r.stdout.toString(), new RegExp(`^gluster-ts ${cmd} `), `${cmd} -h prints ${cmd}'s help`)
    t.equal(r.stderr, '')
  }
  const ls = await gts(['ls', '-h'])
  t.equal(ls.code, 2, 'ls -h is --human-readable: ls still wants a URL')
  t.match(ls.stderr, /^gluster-ts ls: EUSAGE: Not enough non-option arguments/)
})

t.test('an unknown flag is named, wherever it stands', { skip: missing }, async t => {
  const cases: Array<[string[], RegExp]> = [
    [['ls', '--bogus', 'gluster://h/v/'], /^gluster-ts ls: EUSAGE: Unknown argument: bogus \(gluster-ts ls --help\)\n$/],
    [['ls', '-l', '--bogus'], /^gluster-ts ls: EUSAGE: Unknown argument: bogus /],
    [['cat', '--nope', '--bogus', 'gluster://h/v/a'], /^gluster-ts cat: EUSAGE: Unknown arguments: nope, bogus /],
    [['cp', '-Z', 'a', 'gluster://h/v/'], /^gluster-ts cp: EUSAGE: Unknown argument: Z /],
  ]
  for (const [argv, re] of cases) {
    const r = await gts(argv)
    t.equal(r.code, 2, argv.join(' '))
    t.match(r.stderr, re, argv.join(' '))
    t.ok(oneLine(r.stderr))
    t.equal(r.stdout.length, 0)
  }
})
