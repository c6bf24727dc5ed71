// shell URL: relative paths against the current directory, the builtins (cd pwd get put help
// exit), every command; on a terminal (driven here through streams, as readline sees a TTY):
// prompt, Tab completion of commands and remote names, history, a failed command that leaves
// the shell running, Ctrl-C that cancels the command and not the shell. In process against the
// embedded cluster.
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PassThrough, Writable } from 'node:stream'
import { main } from '../src/main.js'
import type { Io } from '../src/session.js'
import { scratch, until } from './built.js'
import { capture } from './helpers.js'
import { embedded } from './embedded.js'

const e = await embedded(t)
const U = e.url
const dir = scratch(t)

async function script (url: string, lines: string[], flags: string[] = []): Promise<{ code: number, out: string, err: string }> {
  const c = capture({ stdin: lines.join('\n') + '\n' })
  const code = await main(['shell', ...flags, url], c.io)
  return { code, out: c.out(), err: c.err() }
}

t.before(async () => {
  await e.vol.mkdir('/sh/docs/deep', { recursive: true })
  await e.vol.writeFile('/sh/docs/readme.txt', 'read me\n')
  await e.vol.writeFile('/sh/top.txt', 'top\n')
  await e.vol.writeFile('/sh/file one.txt', 'one\n')
  writeFileSync(join(dir, 'local.txt'), 'local\n')
})

t.test('not a terminal: the lines run as a script, relative to the current directory', async t => {
  const r = await script(`${U}/sh`, [
    'pwd',
    'ls',
    'cd docs',
    'pwd',
    'cat readme.txt',
    'cat ../top.txt /sh/top.txt',
    'cd deep',
    `put ${join(dir, 'local.txt')}`,
    `put file:${join(dir, 'local.txt')} renamed.txt`,
    'mkdir sub',
    'mv renamed.txt sub/',
    'stat --json sub/renamed.txt',
    `get local.txt ${join(dir, 'back.txt')}`,
    'cd',
    'cat "file one.txt"',
    `cat ${U}/sh/top.txt`,
    'du -s docs',
    'rm -r docs/deep/sub',
    'exit',
    'mkdir never',
  ])
  t.equal(r.code, 0, r.err)
  t.equal(r.err, '')
  const lines = r.out.split('\n')
  t.equal(lines[0], `${U}/sh`, 'pwd: the URL')
  t.same(lines.slice(1, 4), ['docs', 'file one.txt', 'top.txt'], 'ls alone: the current directory')
  t.equal(lines[4], `${U}/sh/docs`)
  t.same(lines.slice(5, 8), ['read me', 'top', 'top'])
  t.match(r.out, /"path": "\/sh\/docs\/deep\/sub\/renamed\.txt"/)
  t.match(r.out, /^one\ntop\n\d+\tgluster:\S+|^one\ntop\n/m)
  t.match(r.out, /^\d+\tdocs$/m, 'du names its argument as typed')
  t.equal(readFileSync(join(dir, 'back.txt'), 'utf8'), 'local\n', 'get')
  t.equal(await e.vol.readFile('/sh/docs/deep/local.txt', { encoding: 'utf8' }), 'local\n', 'put LOCAL: into the current directory')
  await t.rejects(e.vol.stat('/sh/docs/deep/sub'), { code: 'ENOENT' }, 'rm -r')
  await t.rejects(e.vol.stat('/never'), { code: 'ENOENT' }, 'nothing after exit')
  await t.rejects(e.vol.stat('/sh/never'), { code: 'ENOENT' })
})

t.test('not a terminal: the first failure stops it (status, line); -k goes on; exit N', async t => {
  const r = await script(`${U}/sh`, ['cd nowhere', 'mkdir never'])
  t.equal(r.code, 3)
  t.match(r.err, /^gluster-ts cd: nowhere: ENOENT/m)
  t.match(r.err, /^gluster-ts shell: stdin:1: 'cd nowhere' failed with status 3; stopping/m)
  await t.rejects(e.vol.stat('/sh/never'), { code: 'ENOENT' })
  const k = await script(`${U}/sh`, ['cd top.txt', 'pwd', 'cat nope', 'pwd'], ['-k'])
  t.equal(k.code, 3)
  t.match(k.err, /^gluster-ts cd: top\.txt: ENOTDIR/m)
  t.equal(k.out, `${U}/sh\n${U}/sh\n`, 'the directory did not change')
  const x = await script(`${U}/sh`, ['exit 7', 'pwd'])
  t.equal(x.code, 7)
  t.equal(x.out, '')
  const bad = await script(`${U}/sh`, ['exit nine'])
  t.equal(bad.code, 2)
  t.match(bad.err, /EUSAGE: exit takes a status 0-255/)
})

t.test('help lists the commands and the shell\'s own; help CMD prints its help', async t => {
  const r = await script(`${U}/sh`, ['help', 'help cat', 'help cd'])
  t.equal(r.code, 0, r.err)
  t.match(r.out, /^ {2}cat +print files from a volume$/m)
  t.match(r.out, /^ {2}cd +cd \[DIR\]/m)
  t.notMatch(r.out, /^ {2}serve /m, 'serve does not run in the shell')
  t.match(r.out, /^gluster-ts cat <url\.\.>/m)
})

t.test('shell on a file, a missing directory, a local path, a server that is not there', async t => {
  t.equal((await script(`${U}/sh/top.txt`, [])).code, 3)
  t.equal((await script(`${U}/sh/none`, [])).code, 3)
  const local = await script('/tmp', [])
  t.equal(local.code, 2)
  t.match(local.err, /shell takes a gluster:\/\/ URL/)
  t.equal((await script('gluster://127.0.0.1:1/vol1/', [], ['--timeout', '1000'])).code, 6)
})

/** A terminal for the shell: what readline needs of a TTY on both sides. */
function terminal (env: NodeJS.ProcessEnv): { io: Io, type (s: string): void, screen (): string, err (): string } {
  const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode () { return this } })
  let out = ''
  let err = ''
  const stdout = Object.assign(new Writable({ write (c: Buffer, _e, cb) { out += c.toString(); cb() } }), { isTTY: true, columns: 200 })
  const stderr = Object.assign(new Writable({ write (c: Buffer, _e, cb) { err += c.toString(); cb() } }), { isTTY: false })
  return {
    io: { stdin, stdout, stderr, env },
    type: s => { stdin.write(s) },
    // without the cursor movements readline draws the line with
    screen: () => out.replace(/\u001b\[[0-9;]*[A-Za-z]/g, ''),
    err: () => err,
  }
}

t.test('on a terminal: prompt, completion, history, errors and Ctrl-C leave the shell running', async t => {
  await e.vol.writeFile('/sh/follow.log', 'first line\n')
  const hist = join(dir, 'history')
  const term = terminal({ GLUSTER_TS_HISTORY: hist })
  const done = main(['shell', `${U}/sh`], term.io)
  const see = (what: string, re: RegExp): Promise<void> => until(what, 20_000, () => re.test(term.screen())).catch((err: Error) => { throw new Error(`${err.message}: ${JSON.stringify(term.screen())}`) })
  await see('the prompt', /vol1:\/sh> $/)

  term.type('ca\t')
  await see('cat completed', /vol1:\/sh> cat$/)
  term.type(' fo\t')
  await see('follow.log completed', /cat follow\.log$/)
  term.type('\r')
  await see('the file', /^first line$/m)

  term.type('cd d\t')
  await see('docs/ completed', /cd docs\/$/)
  term.type('\r')
  await see('the new prompt', /vol1:\/sh\/docs> $/)
  term.type('cd ..\r')

  term.type('cat nope\r')
  await until('the error', 60_000, () => /ENOENT/.test(term.err()))
  t.match(term.err(), /^gluster-ts cat: nope: ENOENT/)
  t.equal(term.err().split('\n').length, 2, 'one line')

  // a command that runs until stopped; Ctrl-C ends it and the shell goes on
  term.type('tail -f --interval 20 follow.log\r')
  await until('tail -f printing', 60_000, () => term.screen().split('first line').length >= 3)
  term.type('\u0003')
  term.type('pwd\r')
  await until('pwd after Ctrl-C', 20_000, () => term.screen().includes(`${U}/sh\n`))

  // up arrow: the last line again
  term.type('\u001b[A\r')
  await until('pwd twice', 60_000, () => term.screen().split(`${U}/sh\n`).length >= 3)

  // Ctrl-C at the prompt drops what was typed
  term.type('mkdir dropped')
  term.type('\u0003')
  await see('^C', /\^C\n/)
  term.type('exit 4\r')
  t.equal(await done, 4)
  await t.rejects(e.vol.stat('/sh/dropped'), { code: 'ENOENT' }, 'the dropped line did not run')
  const history = readFileSync(hist, 'utf8').split('\n')
  t.ok(history.includes('cat follow.log') && history.includes('tail -f --interval 20 follow.log') && history.includes('exit 4'), history.join('|'))
  t.notOk(history.includes('mkdir dropped'))
})

t.test('on a terminal: history from the file; Ctrl-D leaves with the last status', async t => {
  const hist = join(dir, 'history2')
  writeFileSync(hist, 'cat top.txt\n')
  const term = terminal({ GLUSTER_TS_HISTORY: hist })
  const done = main(['shell', `${U}/sh`], term.io)
  await until('the prompt', 60_000, () => /vol1:\/sh> $/.test(term.screen()))
  term.type('\u001b[A\r')
  await until('top.txt', 60_000, () => /^top$/m.test(term.screen()))
  term.type('cat nope\r')
  await until('the error', 60_000, () => /ENOENT/.test(term.err()))
  term.type('\u0004')
  t.equal(await done, 3, 'the last command\'s status')
})
