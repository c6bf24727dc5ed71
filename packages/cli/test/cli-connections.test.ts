// One connection per invocation: whatever the number of URL arguments (or of lines of batch and
// shell) on the same servers+volume, one invocation opens one Volume: one volfile connection to
// glusterd and one connection per brick (each brick's connect asks glusterd's portmapper for the
// brick's port first, on a short connection of its own, as GlusterFS's protocol/client does).
// Counted by the embedded cluster's servers (RpcServerStats.connections), in process.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { main } from '../src/main.js'
import { scratch } from './built.js'
import { capture } from './helpers.js'
import { embedded } from './embedded.js'

const e = await embedded(t)
const U = e.url
const BRICKS = e.cluster.bricks.length
const counts = (): { mgmt: number, bricks: number } => ({
  mgmt: e.cluster.glusterd.rpc.stats.connections,
  bricks: e.cluster.bricks.reduce((n, b) => n + (b?.rpc.stats.connections ?? 0), 0),
})
const dir = scratch(t)
writeFileSync(join(dir, 'up.txt'), 'up\n')

/** Run one invocation; its exit status and the connections it opened. */
async function opened (argv: string[], stdin?: string): Promise<{ code: number, mgmt: number, bricks: number, err: string }> {
  const c = capture(stdin !== undefined ? { stdin } : {})
  const before = counts()
  const code = await main(argv, c.io)
  const after = counts()
  return { code, mgmt: after.mgmt - before.mgmt, bricks: after.bricks - before.bricks, err: c.err() }
}

t.before(async () => {
  await e.vol.mkdir('/c/d/e', { recursive: true })
  for (const f of ['a', 'b', 'c', 'd/x', 'd/e/y', 'mv1', 'mv2', 'rm1', 'rm2']) await e.vol.writeFile(`/c/${f}`, `${f}\n`)
  await e.vol.mkdir('/c/into')
})

// each: several URL arguments on the one volume (the commands that take one take one)
const CASES: Array<{ argv: string[], stdin?: string }> = [
  { argv: ['cat', `${U}/c/a`, `${U}/c/b`, `${U}/c/c`] },
  { argv: ['ls', '-R', `${U}/c`, `${U}/c/d`, `${U}/c/a`] },
  { argv: ['stat', `${U}/c/a`, `${U}/c/b`, `${U}/c/d`] },
  { argv: ['du', `${U}/c`, `${U}/c/d`] },
  { argv: ['sum', `${U}/c/a`, `${U}/c/b`] },
  { argv: ['cp', `${U}/c/a`, `${U}/c/a.copy`] },
  { argv: ['cp', '-r', `${U}/c/d`, `${U}/c/d.copy`] },
  { argv: ['cp', `${U}/c/a`, `${U}/c/b`, `${U}/c/into/`] },
  { argv: ['cp', `${U}/c/a`, `${U}/c/b`, dir] },
  { argv: ['cp', join(dir, 'up.txt'), `${U}/c/up.txt`] },
  { argv: ['mv', `${U}/c/mv1`, `${U}/c/mv2`, `${U}/c/into/`] },
  { argv: ['rm', `${U}/c/rm1`, `${U}/c/rm2`] },
  { argv: ['mkdir', `${U}/c/m1`, `${U}/c/m2`] },
  { argv: ['touch', `${U}/c/t1`, `${U}/c/t2`] },
  { argv: ['truncate', '-s', '3', `${U}/c/t1`, `${U}/c/t2`] },
  { argv: ['put', `${U}/c/p1`], stdin: 'p1\n' },
  { argv: ['tail', '-n', '1', `${U}/c/a`] },
  { argv: ['bricks', U] },
  { argv: ['batch', '-'], stdin: `cat ${U}/c/a\nls ${U}/c\nstat ${U}/c/b\ncp -r ${U}/c/d ${U}/c/d.batch\nrm -r ${U}/c/d.batch\ndu ${U}/\n` },
  { argv: ['shell', `${U}/c`], stdin: 'ls\ncd d\ncat x\nstat e/y\ncd /c\nget a file:' + dir + '/got\nput file:' + join(dir, 'up.txt') + ' up2.txt\n' },
]

for (const { argv, stdin } of CASES) {
  t.test(argv.map(a => a.replace(U, 'URL')).join(' '), async t => {
    const r = await opened(argv, stdin)
    t.equal(r.code, 0, r.err)
    t.equal(r.bricks, BRICKS, `one connection per brick (${BRICKS})`)
    t.equal(r.mgmt, 1 + BRICKS, 'one volfile connection to glusterd (+ one portmap query per brick)')
  })
}

t.test('the same with one argument: the count does not grow with the arguments', async t => {
  const one = await opened(['cat', `${U}/c/a`])
  const many = await opened(['cat', ...Array.from({ length: 20 }, () => `${U}/c/a`)])
  t.equal(one.code, 0, one.err)
  t.equal(many.code, 0, many.err)
  t.same({ mgmt: many.mgmt, bricks: many.bricks }, { mgmt: one.mgmt, bricks: one.bricks })
  const lines = Array.from({ length: 20 }, (_, i) => `cat ${U}/c/${'abc'[i % 3]!}`).join('\n') + '\n'
  const batch = await opened(['batch', '-'], lines)
  t.equal(batch.code, 0, batch.err)
  t.same({ mgmt: batch.mgmt, bricks: batch.bricks }, { mgmt: one.mgmt, bricks: one.bricks }, '20 lines of batch: one volume too')
})

t.test('a line that could not connect does not keep the next lines from trying again', async t => {
  // the first line names a server where nothing listens: it fails (6); the next lines connect
  const r = await opened(['batch', '-k', '--timeout', '1500', '-'], `cat gluster://127.0.0.1:1/vol1/a\ncat ${U}/c/a\ncat ${U}/c/b\n`)
  t.equal(r.code, 6, r.err)
  t.match(r.err, /stdin:1/)
  t.equal(r.bricks, BRICKS)
})
