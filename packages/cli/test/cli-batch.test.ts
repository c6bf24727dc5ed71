// batch FILE|-: one command per line, in order, over one connection (cli-connections.test.ts
// counts them); the first failure stops it with its status and line; --keep-going runs every
// line and exits with the last failure's status; bad input is a usage error naming the line.
// In process against the embedded cluster.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { main } from '../src/main.js'
import { scratch } from './built.js'
import { capture } from './helpers.js'
import { embedded } from './embedded.js'

const e = await embedded(t)
const U = e.url
const dir = scratch(t)

async function batch (script: string, flags: string[] = [], o: { file?: boolean, stdin?: string } = {}): Promise<{ code: number, out: string, err: string }> {
  let argv: string[]
  let stdin = script
  if (o.file === true) {
    const f = join(dir, `script-${Math.random().toString(36).slice(2)}.gts`)
    writeFileSync(f, script)
    argv = ['batch', ...flags, f]
    stdin = o.stdin ?? ''
  } else {
    argv = ['batch', ...flags, '-']
  }
  const c = capture({ stdin })
  const code = await main(argv, c.io)
  return { code, out: c.out(), err: c.err() }
}

t.test('the output of each command, in order; comments, blank lines, quoting', async t => {
  writeFileSync(join(dir, 'a b.txt'), 'spaced\n')
  writeFileSync(join(dir, 'plain.txt'), 'plain\n')
  const r = await batch([
    '# upload two files, then read them back',
    `mkdir -p ${U}/b1`,
    '',
    `put '${join(dir, 'a b.txt')}' "${U}/b1/a b.txt"`,
    `put ${join(dir, 'plain.txt')} ${U}/b1/plain.txt   # trailing comment`,
    `cat "${U}/b1/a b.txt"`,
    `cat ${U}/b1/plain.txt \\`,
    `    ${U}/b1/plain.txt`,
    `ls ${U}/b1`,
    `stat --json ${U}/b1/plain.txt`,
  ].join('\n') + '\n')
  t.equal(r.code, 0, r.err)
  t.equal(r.err, '')
  const [head, json] = [r.out.slice(0, r.out.indexOf('[')), r.out.slice(r.out.indexOf('['))]
  t.equal(head, 'spaced\nplain\nplain\na b.txt\nplain.txt\n')
  t.match(JSON.parse(json), [{ path: '/b1/plain.txt', size: 6 }])
  t.equal(await e.vol.readFile('/b1/a b.txt', { encoding: 'utf8' }), 'spaced\n')
})

t.test('the first failure stops it: its status, and the line', async t => {
  const r = await batch([`mkdir -p ${U}/b2`, `cat ${U}/b2/missing`, `mkdir ${U}/b2/after`].join('\n'), [], { file: true })
  t.equal(r.code, 3, 'ENOENT: status 3')
  t.match(r.err, /^gluster-ts cat: gluster:\/\/\S+\/b2\/missing: ENOENT/m)
  t.match(r.err, /^gluster-ts batch: \S+\.gts:2: 'cat gluster:\/\/\S+\/b2\/missing' failed with status 3; stopping \(--keep-going runs the rest\)$/m)
  await t.rejects(e.vol.stat('/b2/after'), { code: 'ENOENT' }, 'line 3 did not run')
})

t.test('--keep-going runs every line and exits with the last failure\'s status', async t => {
  const r = await batch([`mkdir -p ${U}/b3`, `cat ${U}/b3/missing`, `mkdir ${U}/b3`, `mkdir ${U}/b3/after`, ''].join('\n'), ['--keep-going'])
  t.equal(r.code, 5, 'the last failure: mkdir of an existing directory, EEXIST (5)')
  t.match(r.err, /stdin:2: 'cat \S+' failed with status 3\n/)
  t.match(r.err, /stdin:3: 'mkdir \S+' failed with status 5\n/)
  t.match(r.err, /^gluster-ts batch: 2 commands failed \(lines 2, 3\)$/m)
  t.ok((await e.vol.stat('/b3/after')).isDirectory(), 'line 4 ran')
  const k = await batch(`cat ${U}/b3/missing\nmkdir ${U}/b3/k\n`, ['-k'])
  t.equal(k.code, 3, '-k: a failure then a success: the failure\'s status')
})

t.test('bad input: unknown command, unbalanced quote, operators, missing file, nested serve', async t => {
  const unknown = await batch(`mkdir -p ${U}/b4\nfrobnicate ${U}/b4\nmkdir ${U}/b4/no\n`)
  t.equal(unknown.code, 2)
  t.match(unknown.err, /^gluster-ts: EUSAGE: Unknown arguments?: frobnicate/m)
  t.match(unknown.err, /stdin:2: 'frobnicate \S+' failed with status 2; stopping/)
  await t.rejects(e.vol.stat('/b4/no'), { code: 'ENOENT' })

  const quote = await batch(`mkdir -p ${U}/b4\ncat '${U}/b4/x\nmkdir ${U}/b4/no\n`)
  t.equal(quote.code, 2)
  t.match(quote.err, /^gluster-ts batch: stdin:2: EUSAGE: unbalanced ' quote at column 5$/m)
  await t.rejects(e.vol.stat('/b4/no'), { code: 'ENOENT' })

  const pipe = await batch(`cat ${U}/b4/x | head\n`)
  t.equal(pipe.code, 2)
  t.match(pipe.err, /stdin:1: EUSAGE: '\|' at column \d+: pipes, redirections/)

  const trailing = await batch(`cat ${U}/b4/x \\`)
  t.equal(trailing.code, 2)
  t.match(trailing.err, /stdin:1: EUSAGE: a backslash at the end of the last line/)

  const missing = await batch('', [], { file: true })
  t.equal(missing.code, 0, 'an empty script does nothing')
  const c = capture()
  t.equal(await main(['batch', join(dir, 'no-such.gts')], c.io), 3)
  t.match(c.err(), /^gluster-ts batch: \S+no-such\.gts: ENOENT: no such file or directory/)
  const d = capture()
  t.equal(await main(['batch', dir], d.io), 5, 'a directory: EISDIR')
  t.match(d.err(), /EISDIR/)

  for (const cmd of ['serve', 'cluster --dir /tmp/x', 'shell ' + U, 'batch -']) {
    const r = await batch(`${cmd}\n`)
    t.equal(r.code, 2, cmd)
    t.match(r.err, /does not run inside batch or shell/)
  }
  const none = capture()
  t.equal(await main(['batch'], none.io), 2, 'no FILE')
  t.match(none.err(), /^gluster-ts batch: EUSAGE: Not enough non-option arguments/)
})

t.test('global flags of batch apply to every line; a line\'s own win', async t => {
  await e.vol.writeFile('/b5.txt', 'x')
  const r = await batch(`stat ${U}/b5.txt\n`, ['--json'])
  t.equal(r.code, 0, r.err)
  t.match(JSON.parse(r.out), [{ path: '/b5.txt' }])
  const servers = await batch('cat gluster:///vol1/b5.txt\n', ['--servers', e.cluster.volfileServer])
  t.equal(servers.code, 0, servers.err)
  t.equal(servers.out, 'x')
  const own = await batch(`cat --servers ${e.cluster.volfileServer} gluster:///vol1/b5.txt\n`, ['--servers', '127.0.0.1:1'])
  t.equal(own.code, 0, own.err)
})

t.test('batch FILE: a command may read the batch\'s stdin; batch -: its commands read nothing', async t => {
  const r = await batch(`put ${U}/b6.txt\ncat ${U}/b6.txt\n`, [], { file: true, stdin: 'from stdin\n' })
  t.equal(r.code, 0, r.err)
  t.equal(r.out, 'from stdin\n')
  const s = await batch(`put ${U}/b7.txt\ncat ${U}/b7.txt\n`)
  t.equal(s.code, 0, s.err)
  t.equal(s.out, '', 'put read an empty stdin, not the script')
  t.equal((await e.vol.stat('/b7.txt')).size, 0)
})

t.test('help inside batch, and CRLF line ends', async t => {
  const r = await batch(`cat --help\r\nls ${U}/\r\n`)
  t.equal(r.code, 0, r.err)
  t.match(r.out, /^gluster-ts cat <url\.\.>/)
  t.match(r.out, /^b5\.txt$/m)
})

t.test('Ctrl-C stops the batch (status 130), even in a command that ends well on it', async t => {
  await e.vol.writeFile('/b8.log', 'first\n')
  const ac = new AbortController()
  const c = capture({ stdin: `tail -f --interval 20 ${U}/b8.log\nmkdir ${U}/b8.after\n`, signal: ac.signal })
  const running = main(['batch', '-'], c.io)
  const end = Date.now() + 60_000
  while (!c.out().includes('first') && Date.now() < end) await new Promise(resolve => setTimeout(resolve, 20))
  ac.abort(Object.assign(new Error('interrupted'), { code: 'ABORT_ERR', name: 'AbortError' }))
  t.equal(await running, 130, c.err())
  t.match(c.err(), /stdin:1: interrupted/)
  await t.rejects(e.vol.stat('/b8.after'), { code: 'ENOENT' }, 'the next line did not run')
})
