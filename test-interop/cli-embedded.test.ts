// The `gluster-ts` command (built) against the EMBEDDED cluster it starts itself
// (`gluster-ts cluster`), with the real FUSE client mounting that cluster as the oracle; and
// `gluster-ts serve --demo`, the README's quick start, answered over HTTP.
import t from 'tap'
import type { Test } from 'tap'
import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile, chmod, utimes, lstat, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { fuseSkipReason, isMounted, sh, umount, waitFor } from './server-fuse-helpers.js'
import { binMissing, gts, gtsSpawn, oneLine, until, walk } from './cli-helpers.js'
import { tlsFixturePath, type TlsFixture } from '../test-cluster/tls-fixtures.js'

const exec = promisify(execFile)
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
const missing = binMissing()

t.test('serve --demo: an embedded cluster with sample files behind the gateway, stopped by Ctrl-C', { skip: missing }, async t => {
  const p = gtsSpawn(['serve', '--demo', '--port', '0'])
  t.teardown(() => { p.proc.kill('SIGKILL') })
  await until('the demo to print its URLs', 60_000, () => /^Ctrl-C stops it\.$/m.test(p.stdout()) || p.proc.exitCode !== null)
  const http = /^gateway {2}(http:\/\/\S+)\/$/m.exec(p.stdout())?.[1]
  const vol = /^volume {3}(gluster:\/\/\S+\/)/m.exec(p.stdout())?.[1]
  const dir = /data in (\S+)\)/.exec(p.stdout())?.[1]
  t.ok(http !== undefined && vol !== undefined && dir !== undefined, p.stdout() + p.stderr())
  const res = await fetch(`${http!}/hello.txt`)
  t.equal(res.status, 200)
  t.equal(await res.text(), 'Hello from GlusterFS, served by gluster-ts.\n')
  const put = await gts(['put', `${vol!}new.txt`], { input: 'written by the CLI\n' })
  t.equal(put.code, 0, put.stderr)
  const res2 = await fetch(`${http!}/new.txt`)
  t.equal(await res2.text(), 'written by the CLI\n', 'a file put through the CLI is served')
  const ls = await gts(['ls', vol!])
  t.same(ls.stdout.toString().trim().split('\n'), ['docs', 'hello.txt', 'index.html', 'new.txt'])
  p.proc.kill('SIGINT')
  t.equal(await p.exited, 0, 'exits 0 on Ctrl-C')
  t.notOk(existsSync(dir!), 'the temp dir is removed')
})

const fuse = fuseSkipReason()

/** `gluster-ts cluster ARGS` until it prints `ready`; stopped (SIGTERM) at the end of the test if still running. */
async function startCli (t: Test, args: string[]): Promise<ReturnType<typeof gtsSpawn>> {
  const c = gtsSpawn(args)
  t.teardown(async () => {
    if (c.proc.exitCode === null) {
      c.proc.kill('SIGTERM')
      await c.exited
    }
  })
  await until('cluster ready', 60_000, () => /^ready$/m.test(c.stdout()) || c.proc.exitCode !== null)
  return c
}

/** `gluster-ts cluster --port 0 --replica 3 ARGS…` (startCli) */
const cliCluster = (t: Test, args: string[]): Promise<ReturnType<typeof gtsSpawn>> => startCli(t, ['cluster', '--port', '0', '--replica', '3', ...args])

t.test('every command against `gluster-ts cluster`, the FUSE mount as the oracle', { skip: missing ?? fuse }, async t => {
  const dir = await mkdtemp(join(tmpdir(), 'gts-cli-emb-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const c = await cliCluster(t, ['--dir', join(dir, 'cluster'), '--volume', 'emb'])
  const url = /^url (gluster:\/\/\S+)\/$/m.exec(c.stdout())?.[1]
  const [host, port] = (/^volfile-server (\S+):(\d+)$/m.exec(c.stdout()) ?? []).slice(1)
  t.ok(url !== undefined && port !== undefined, c.stdout() + c.stderr())
  const mnt = join(dir, 'mnt')
  await mkdir(mnt)
  await sh('glusterfs', [`--volfile-server=${host!}`, `--volfile-server-port=${port!}`, '--volfile-id=emb', `--log-file=${join(dir, 'fuse.log')}`, mnt], { timeoutMs: 30_000 })
  await waitFor('FUSE mount', 20_000, () => isMounted(mnt))
  t.teardown(() => umount(mnt))
  const U = url!

  // writes through the CLI, checked on the mount
  const data = randomBytes(2 * 1024 * 1024 + 5)
  t.equal((await gts(['put', '-p', `${U}/w/a.bin`], { input: data })).code, 0)
  t.equal(sha(await readFile(join(mnt, 'w/a.bin'))), sha(data), 'put -p')
  t.equal((await gts(['put', '--append', `${U}/w/a.bin`], { input: 'tail\n' })).code, 0)
  t.equal((await gts(['mkdir', '-p', `${U}/w/d/e`])).code, 0)
  t.equal((await gts(['touch', '-d', '2022-02-02T02:02:02Z', `${U}/w/d/t`])).code, 0)
  t.equal((await gts(['truncate', '-s', '4K', `${U}/w/d/sized`])).code, 0)
  t.equal((await gts(['mv', `${U}/w/d/t`, `${U}/w/d/e/`])).code, 0)
  t.equal((await lstat(join(mnt, 'w/d/e/t'))).mtimeMs, Date.UTC(2022, 1, 2, 2, 2, 2), 'touch -d then mv')
  t.equal((await lstat(join(mnt, 'w/d/sized'))).size, 4096, 'truncate -s 4K')
  t.ok((await lstat(join(mnt, 'w/d/e'))).isDirectory(), 'mkdir -p')

  // reads through the CLI of what FUSE wrote
  await writeFile(join(mnt, 'r.txt'), 'one\ntwo\nthree\n')
  t.equal((await gts(['cat', `${U}/r.txt`])).stdout.toString(), 'one\ntwo\nthree\n', 'cat')
  t.equal((await gts(['tail', '-n', '1', `${U}/r.txt`])).stdout.toString(), 'three\n', 'tail -n 1')
  t.same((await gts(['ls', `${U}/`])).stdout.toString().trim().split('\n'), (await readdir(mnt)).sort(), 'ls')
  const appended = Buffer.concat([data, Buffer.from('tail\n')])
  t.equal((await gts(['sum', `${U}/w/a.bin`])).stdout.toString().split(' ')[0], sha(appended), 'sum after --append')
  const st = JSON.parse((await gts(['stat', '--json', `${U}/w/a.bin`])).stdout.toString()) as Array<{ size: number }>
  t.equal(st[0]!.size, (await lstat(join(mnt, 'w/a.bin'))).size, 'stat size')
  const du = JSON.parse((await gts(['du', '-s', '--json', `${U}/w`])).stdout.toString()) as Array<{ bytes: number }>
  const dirBytes = (await Promise.all(['w', 'w/d', 'w/d/e'].map(async d => (await lstat(join(mnt, d))).size))).reduce((a, b) => a + b, 0)
  t.equal(du[0]!.bytes, appended.length + 4096 + dirBytes, 'du -s (directories count their own size)')
  t.match((await gts(['volfile', `${U}`])).stdout.toString(), /type cluster\/replicate/)
  const br = JSON.parse((await gts(['bricks', '--json', U])).stdout.toString()) as { bricks: Array<{ state: string }> }
  t.same(br.bricks.map(b => b.state), ['up', 'up', 'up'], 'bricks')

  // cp -r -p both ways, 300 files
  const src = join(dir, 'src')
  for (let i = 0; i < 300; i++) {
    const p = join(src, `d${i % 6}`, `f${i}`)
    await mkdir(join(p, '..'), { recursive: true })
    await writeFile(p, randomBytes(i * 37 % 9000))
    await chmod(p, i % 3 === 0 ? 0o600 : 0o644)
    await utimes(p, new Date(Date.UTC(2020, 1, 1)), new Date(Date.UTC(2020, 5, 1 + (i % 28), 1, 2, 3, 456)))
  }
  await exec('setfattr', ['-n', 'user.gts-test', '-v', 'kept', join(src, 'd1', 'f1')])
  const up = await gts(['cp', '-rp', src, `${U}/tree`])
  t.equal(up.code, 0, up.stderr)
  const d1 = await exec('diff', ['-r', src, join(mnt, 'tree')]).then(() => '', (e: { stdout: string }) => e.stdout)
  t.equal(d1, '', 'diff -r up')
  t.same(await walk(join(mnt, 'tree')), await walk(src), 'modes and mtimes up')
  const down = await gts(['cp', '-rp', `${U}/tree`, join(dir, 'back')])
  t.equal(down.code, 0, down.stderr)
  const d2 = await exec('diff', ['-r', src, join(dir, 'back')]).then(() => '', (e: { stdout: string }) => e.stdout)
  t.equal(d2, '', 'diff -r down')
  t.same(await walk(join(dir, 'back')), await walk(src), 'modes and mtimes down')
  for (const f of [join(mnt, 'tree/d1/f1'), join(dir, 'back/d1/f1')]) {
    const { stdout } = await exec('getfattr', ['--only-values', '-n', 'user.gts-test', f])
    t.equal(stdout, 'kept', `cp -p kept the user.* xattr: ${f}`)
  }

  // rm, then an error
  t.equal((await gts(['rm', '-r', `${U}/tree`, `${U}/w`])).code, 0)
  await t.rejects(lstat(join(mnt, 'tree')), { code: 'ENOENT' }, 'rm -r')
  const nf = await gts(['cat', `${U}/tree/d0/f0`])
  t.equal(nf.code, 3)
  t.match(nf.stderr, /^gluster-ts cat: gluster:\/\/127\.0\.0\.1:\d+\/emb\/tree\/d0\/f0: ENOENT: .*\(brick 127\.0\.0\.1:\d+:\/\S+\)\n$/)
  t.ok(oneLine(nf.stderr))

  await umount(mnt)
  c.proc.kill('SIGINT')
  t.equal(await c.exited, 0, '`gluster-ts cluster` stops cleanly on Ctrl-C')
})

t.test('cluster --tls: the CLI serves TLS with management TLS and auth.ssl-allow; the CLI reads and writes over it', { skip: missing }, async t => {
  const dir = await mkdtemp(join(tmpdir(), 'gts-cli-tls-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const id = (who: TlsFixture): string[] => ['--tls-cert', tlsFixturePath(who), '--tls-key', tlsFixturePath(who, 'key'), '--tls-ca', tlsFixturePath('ca'), '--tls-mgmt', 'on']
  const c = await cliCluster(t, ['--dir', join(dir, 'cluster'), '--volume', 'sec', '--tls', '--ssl-allow', 'gts-test-client', ...id('server')])
  const url = /^url (gluster:\/\/\S+)\/$/m.exec(c.stdout())?.[1]
  t.ok(url !== undefined, c.stdout() + c.stderr())
  const put = await gts(['put', `${url!}/a.txt`, ...id('client')], { input: 'over TLS\n' })
  t.equal(put.code, 0, put.stderr)
  const cat = await gts(['cat', `${url!}/a.txt`, ...id('client')])
  t.equal(cat.stdout.toString(), 'over TLS\n')
  const brick = join(dir, 'cluster', 'bricks', 'sec', 'b0', 'a.txt')
  t.equal(await readFile(brick, 'utf8'), 'over TLS\n', 'on the brick')
  const outsider = await gts(['cat', `${url!}/a.txt`, ...id('outsider'), '--timeout', '8000'])
  t.equal(outsider.code, 6, outsider.stderr)
  t.match(outsider.stderr, /EGLUSTER_TLS: .*CN 'gts-test-outsider'.*CN not allowed/)
  const plain = await gts(['cat', `${url!}/a.txt`, '--tls-mgmt', 'off', '--timeout', '8000'])
  t.equal(plain.code, 6, plain.stderr)
  t.match(plain.stderr, /EGLUSTER_TLS/)
  c.proc.kill('SIGINT')
  t.equal(await c.exited, 0)
})

t.test('`gluster-ts cluster --disperse 3 --redundancy 1`: a dispersed volume, written and read through the CLI', { skip: missing }, async t => {
  const dir = await mkdtemp(join(tmpdir(), 'gts-cli-ec-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const c = await startCli(t, ['cluster', '--disperse', '3', '--redundancy', '1', '--dir', join(dir, 'cluster'), '--port', '0', '--volume', 'ec'])
  const url = /^url (gluster:\/\/\S+)\/$/m.exec(c.stdout())?.[1]
  t.ok(url !== undefined, c.stdout() + c.stderr())
  t.equal([...c.stdout().matchAll(/^brick \d+ /gm)].length, 3, 'three bricks')
  const data = randomBytes(100_000)
  t.equal((await gts(['put', `${url!}/a.bin`], { input: data })).code, 0)
  const cat = await gts(['cat', `${url!}/a.bin`])
  t.equal(sha(cat.stdout), sha(data), 'cat returns what put wrote')
  // 2 data bricks: a stripe is 1024 bytes, each brick holds ⌈100000/1024⌉·512 bytes of fragments
  for (let i = 0; i < 3; i++) t.equal((await lstat(join(dir, 'cluster', 'bricks', 'ec', `b${i}`, 'a.bin'))).size, 98 * 512, `brick ${i}: a fragment, not a copy`)
  c.proc.kill('SIGINT')
  t.equal(await c.exited, 0, 'stops cleanly on Ctrl-C')
})
