// The `gluster-ts` command (packages/cli, built) against the REAL GlusterFS 10 cluster, with the
// FUSE mount as the oracle: every command and its flags round-trip data; cp -r of 2,000 files both
// ways is identical (diff -r) and -p keeps mode and mtime; cat completes with a brick frozen;
// failures print one line naming the file and the brick/server, with the documented exit status.
import t from 'tap'
import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile, symlink, chmod, utimes, lstat, readdir, appendFile, readlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { realCliCluster, gts, gtsSpawn, oneLine, until, walk } from './cli-helpers.js'

const exec = promisify(execFile)
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
/** the FUSE client caches attributes for 1 s: wait that out before it checks a file we changed */
const fuseSettle = (): Promise<void> => new Promise(r => setTimeout(r, 1200))

const cluster = realCliCluster('gluster-ts against the real cluster')
if (cluster !== undefined) {
  const ips = cluster.nodes.map(n => n.ip)
  const top = `gts-cli-${process.pid}`
  const base = (vol: string): string => `gluster://${ips[0]},${ips[1]}:24007/${vol}/${top}`

  t.before(async () => {
    for (const v of ['vol1', 'vol2']) {
      const mnt = await cluster.mount(v)
      await rm(join(mnt, top), { recursive: true, force: true })
      await mkdir(join(mnt, top))
    }
  })
  t.teardown(async () => {
    for (const v of ['vol1', 'vol2']) await rm(join(cluster.info.mounts[v] ?? `${cluster.root}/mnt/${v}`, top), { recursive: true, force: true })
  })

  for (const vol of ['vol1', 'vol2']) {
    t.test(`${vol}: read commands agree with the FUSE mount`, async t => {
      const mnt = join(await cluster.mount(vol), top, 'r')
      const U = `${base(vol)}/r`
      const files: Record<string, Buffer> = {
        'a.txt': Buffer.from(Array.from({ length: 40 }, (_, i) => `line ${i + 1}\n`).join('')),
        'bin/big.bin': randomBytes(3 * 1024 * 1024 + 17),
        'bin/empty': Buffer.alloc(0),
        'sub/deep/x': Buffer.from('deep\n'),
        'été café.txt': Buffer.from('utf-8 name\n'),
        '.hidden': Buffer.from('dot\n'),
      }
      for (const [p, d] of Object.entries(files)) {
        await mkdir(join(mnt, p, '..'), { recursive: true })
        await writeFile(join(mnt, p), d)
      }
      await symlink('a.txt', join(mnt, 'link'))
      await chmod(join(mnt, 'bin/big.bin'), 0o640)

      // cat: bytes identical, several files concatenated
      const c = await gts(['cat', `${U}/bin/big.bin`])
      t.equal(c.code, 0, c.stderr)
      t.equal(sha(c.stdout), sha(files['bin/big.bin']!), 'cat big.bin')
      const c2 = await gts(['cat', `${U}/a.txt`, `${U}/%C3%A9t%C3%A9%20caf%C3%A9.txt`, `${U}/link`])
      t.equal(c2.stdout.toString(), files['a.txt']!.toString() + 'utf-8 name\n' + files['a.txt']!.toString(), 'cat of three, percent-encoded name, symlink')

      // ls, ls -a, ls -l, ls -lh, ls -R, --json
      const names = (await readdir(mnt)).sort()
      const l1 = await gts(['ls', U])
      t.same(l1.stdout.toString().trim().split('\n'), names.filter(n => !n.startsWith('.')).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))), 'ls')
      const la = await gts(['ls', '-a', U])
      t.same(la.stdout.toString().trim().split('\n').sort(), names, 'ls -a')
      const ll = (await gts(['ls', '-l', `${U}/bin`])).stdout.toString().trim().split('\n')
      const bigSt = await lstat(join(mnt, 'bin/big.bin'))
      t.equal(ll[0], `total ${Math.ceil(bigSt.blocks / 2)}`, 'ls -l DIR: total in 1 KiB blocks, as ls on the mount counts them')
      t.match(ll[1], /^-rw-r----- 1 0 0 3145745 \w{3} [ \d]\d \d\d:\d\d big\.bin$/, 'ls -l row')
      t.match(ll[2], /^-rw-r--r-- 1 0 0 +0 .* empty$/)
      t.match((await gts(['ls', '-lh', `${U}/bin`])).stdout.toString(), / 3\.1M /, 'ls -lh')
      t.match((await gts(['ls', '-l', U])).stdout.toString(), /^l.* link -> a\.txt$/m, 'ls -l shows the symlink target')
      const lr = (await gts(['ls', '-R', U])).stdout.toString()
      t.match(lr, new RegExp(`^${U.replace(/[/.]/g, '\\$&')}/sub/deep:\nx$`, 'm'), 'ls -R header and entry')
      const lj = JSON.parse((await gts(['ls', '--json', '-a', `${U}/bin`])).stdout.toString()) as Array<{ name: string, size: number, mode: string, type: string }>
      for (const e of lj) {
        const st = await lstat(join(mnt, 'bin', e.name))
        t.equal(e.size, st.size, `ls --json ${e.name} size`)
        t.equal(e.mode, (st.mode & 0o7777).toString(8).padStart(4, '0'), `ls --json ${e.name} mode`)
        t.equal(e.type, 'file')
      }

      // stat --json vs lstat of the mount; human output
      const sj = JSON.parse((await gts(['stat', '--json', `${U}/bin/big.bin`, `${U}/link`])).stdout.toString()) as Array<Record<string, unknown>>
      const fst = await lstat(join(mnt, 'bin/big.bin'))
      t.equal(sj[0]!.size, fst.size)
      t.equal(sj[0]!.mode, '0640')
      t.equal(sj[0]!.nlink, fst.nlink)
      t.equal(Date.parse(String(sj[0]!.mtime)), Math.floor(fst.mtimeMs), 'stat mtime')
      t.equal(sj[1]!.type, 'symlink')
      t.equal(sj[1]!.target, 'a.txt')
      t.match((await gts(['stat', `${U}/a.txt`])).stdout.toString(), new RegExp(`Size: ${files['a.txt']!.length}\t.*Access: \\(0644/-rw-r--r--\\)`, 's'))

      // tail -n, -c
      const lines = files['a.txt']!.toString().split('\n')
      t.equal((await gts(['tail', `${U}/a.txt`])).stdout.toString(), lines.slice(-11).join('\n'), 'tail (10 lines)')
      t.equal((await gts(['tail', '-n', '3', `${U}/a.txt`])).stdout.toString(), lines.slice(-4).join('\n'), 'tail -n 3')
      t.equal(sha((await gts(['tail', '-c', '100K', `${U}/bin/big.bin`])).stdout), sha(files['bin/big.bin']!.subarray(-102400)), 'tail -c 100K')

      // du, sum
      // directories count their own size, as du --apparent-size -b on the mount does
      const dirs = ['', 'bin', 'sub', 'sub/deep']
      const dirBytes = (await Promise.all(dirs.map(async d => (await lstat(join(mnt, d))).size))).reduce((a, b) => a + b, 0)
      const total = Object.entries(files).reduce((n, [, d]) => n + d.length, 0) + 'a.txt'.length + dirBytes
      const du = JSON.parse((await gts(['du', '-s', '--json', U])).stdout.toString()) as Array<{ bytes: number, files: number }>
      t.equal(du[0]!.bytes, total, 'du -s --json bytes (apparent, symlink counted by its size, directories by theirs)')
      const { stdout: duMount } = await exec('du', ['-s', '--apparent-size', '-b', mnt])
      t.equal(du[0]!.bytes, Number(duMount.split('\t')[0]), 'the same as du --apparent-size -b on the FUSE mount')
      t.match((await gts(['du', '-sh', U])).stdout.toString(), /^3\.1M\t/)
      const duAll = (await gts(['du', U])).stdout.toString()
      t.match(duAll, new RegExp(`^${5 + (await lstat(join(mnt, 'sub/deep'))).size}\\t.*/sub/deep$`, 'm'), 'du lists subdirectories')
      const sum = (await gts(['sum', `${U}/bin/big.bin`, join(mnt, 'bin/big.bin')])).stdout.toString().trim().split('\n')
      t.equal(sum[0], `${sha(files['bin/big.bin']!)}  ${U}/bin/big.bin`)
      t.equal(sum[1]!.split(' ')[0], sha(files['bin/big.bin']!), 'sum of a local path')

      // volfile, bricks
      const vf = await gts(['volfile', `gluster://${ips[2]}/${vol}`])
      t.match(vf.stdout.toString(), new RegExp(`volume ${vol}-client-0\\n\\s+type protocol/client`))
      t.match(vf.stdout.toString(), /type cluster\/replicate/)
      const br = JSON.parse((await gts(['bricks', '--json', `gluster://${ips[1]}/${vol}`])).stdout.toString()) as { bricks: Array<{ brick: string, state: string, latencyMs: number }> }
      t.equal(br.bricks.length, cluster.volume(vol).bricks.length, 'one row per brick')
      for (const b of br.bricks) {
        t.equal(b.state, 'up', `${b.brick} up`)
        t.ok(typeof b.latencyMs === 'number' && b.latencyMs > 0, `${b.brick} latency`)
      }
      t.same(br.bricks.map(b => b.brick.replace(/:\d+:/, ':')), cluster.volume(vol).bricks.map(b => `${b.host}:${b.path}`), 'addresses in volume order')
    })
  }

  t.test('vol1: tail -f prints what FUSE appends; Ctrl-C ends it with status 0', async t => {
    const mnt = join(await cluster.mount('vol1'), top)
    await writeFile(join(mnt, 'follow.log'), 'first\n')
    const p = gtsSpawn(['tail', '-f', '--interval', '200', `${base('vol1')}/follow.log`])
    t.teardown(() => { p.proc.kill('SIGKILL') })
    await until('first line', 30_000, () => p.stdout().includes('first\n'))
    await appendFile(join(mnt, 'follow.log'), 'second\nthird\n')
    await until('appended lines', 30_000, () => p.stdout().includes('third\n'))
    t.equal(p.stdout(), 'first\nsecond\nthird\n')
    p.proc.kill('SIGINT')
    t.equal(await p.exited, 0)
  })

  t.test('vol1: write commands, checked through FUSE', async t => {
    const mnt = join(await cluster.mount('vol1'), top, 'w')
    const U = `${base('vol1')}/w`
    const data = randomBytes(300_000)
    // put: stdin, -p parents, FILE, --append, --no-clobber, -m
    t.equal((await gts(['put', `${U}/x/y/a.bin`], { input: data })).code, 3, 'put without -p into a missing directory: not found')
    const p1 = await gts(['put', '-p', '-m', '600', `${U}/x/y/a.bin`], { input: data })
    t.equal(p1.code, 0, p1.stderr)
    t.equal(sha(await readFile(join(mnt, 'x/y/a.bin'))), sha(data), 'put from stdin')
    t.equal((await lstat(join(mnt, 'x/y/a.bin'))).mode & 0o777, 0o600, 'put -m')
    const local = join(await mkdtemp(join(tmpdir(), 'gts-cli-')), 'f.txt')
    t.teardown(() => rm(join(local, '..'), { recursive: true, force: true }))
    await writeFile(local, 'from a file\n')
    t.equal((await gts(['put', local, `${U}/f.txt`])).code, 0)
    t.equal((await gts(['put', '--append', `${U}/f.txt`], { input: 'appended\n' })).code, 0)
    t.equal(await readFile(join(mnt, 'f.txt'), 'utf8'), 'from a file\nappended\n', 'put FILE, then --append')
    const nc = await gts(['put', '-n', `${U}/f.txt`], { input: 'x' })
    t.equal(nc.code, 5, 'put --no-clobber on an existing file: conflict')
    t.match(nc.stderr, /^gluster-ts put: gluster:\/\/.*\/f\.txt: EEXIST: .*\(brick [\d.]+:\d+:\/\S+\)$/m)
    t.ok(oneLine(nc.stderr))

    // mkdir -p, -m; mkdir of an existing directory without -p
    t.equal((await gts(['mkdir', '-p', `${U}/m/n/o`])).code, 0)
    t.ok((await lstat(join(mnt, 'm/n/o'))).isDirectory(), 'mkdir -p')
    t.equal((await gts(['mkdir', '-m', '700', `${U}/m/private`])).code, 0)
    t.equal((await lstat(join(mnt, 'm/private'))).mode & 0o777, 0o700, 'mkdir -m')
    const me = await gts(['mkdir', `${U}/m`])
    t.equal(me.code, 5, 'mkdir of an existing directory: conflict')
    t.ok(oneLine(me.stderr))

    // mv: rename, move into a directory
    t.equal((await gts(['mv', `${U}/f.txt`, `${U}/g.txt`])).code, 0)
    t.equal(await readFile(join(mnt, 'g.txt'), 'utf8'), 'from a file\nappended\n')
    await t.rejects(lstat(join(mnt, 'f.txt')), { code: 'ENOENT' }, 'mv: old name gone')
    t.equal((await gts(['mv', `${U}/g.txt`, `${U}/m/`])).code, 0)
    t.equal(await readFile(join(mnt, 'm/g.txt'), 'utf8'), 'from a file\nappended\n', 'mv into a directory')
    const xdev = await gts(['mv', `${U}/m/g.txt`, `${base('vol2')}/g.txt`])
    t.equal(xdev.code, 5, 'mv across volumes: EXDEV')
    t.match(xdev.stderr, /EXDEV/)

    // truncate, touch
    t.equal((await gts(['truncate', '-s', '10', `${U}/x/y/a.bin`])).code, 0)
    t.equal((await gts(['truncate', '-s', '1M', `${U}/sparse`])).code, 0)
    t.equal((await gts(['touch', `${U}/t1`])).code, 0)
    t.equal((await gts(['touch', '-d', '2021-03-04T05:06:07Z', `${U}/t1`, `${U}/t2`])).code, 0)
    t.equal((await gts(['touch', '-c', `${U}/t3`])).code, 0)
    await fuseSettle()
    t.same(await readFile(join(mnt, 'x/y/a.bin')), data.subarray(0, 10), 'truncate -s 10')
    t.equal((await lstat(join(mnt, 'sparse'))).size, 1 << 20, 'truncate creates, -s 1M')
    for (const f of ['t1', 't2']) {
      const st = await lstat(join(mnt, f))
      t.equal(st.size, 0)
      t.equal(st.mtimeMs, Date.UTC(2021, 2, 4, 5, 6, 7), `touch -d ${f}`)
    }
    await t.rejects(lstat(join(mnt, 't3')), { code: 'ENOENT' }, 'touch -c does not create')

    // rm, rm -r, rm -f
    const rd = await gts(['rm', `${U}/m`])
    t.equal(rd.code, 5, 'rm of a directory without -r')
    t.equal((await gts(['rm', `${U}/t1`, `${U}/t2`])).code, 0)
    t.equal((await gts(['rm', '-r', `${U}/m`])).code, 0)
    t.same((await readdir(mnt)).sort(), ['sparse', 'x'], 'rm and rm -r')
    t.equal((await gts(['rm', '-f', `${U}/nope`])).code, 0, 'rm -f of a missing file')
    const rn = await gts(['rm', `${U}/nope`])
    t.equal(rn.code, 3, 'rm of a missing file: not found')
    t.match(rn.stderr, /^gluster-ts rm: gluster:\/\/\S+\/w\/nope: ENOENT: .*\(brick /)
  })

  t.test('cp: single files every way, --resume, --no-clobber, volume to volume', async t => {
    const mnt1 = join(await cluster.mount('vol1'), top)
    const mnt2 = join(await cluster.mount('vol2'), top)
    const dir = await mkdtemp(join(tmpdir(), 'gts-cli-cp-'))
    t.teardown(() => rm(dir, { recursive: true, force: true }))
    const big = randomBytes(5 * 1024 * 1024 + 3)
    await writeFile(join(dir, 'big'), big)
    t.equal((await gts(['cp', join(dir, 'big'), `${base('vol1')}/`])).code, 0, 'local → remote directory')
    t.equal(sha(await readFile(join(mnt1, 'big'))), sha(big))
    t.equal((await gts(['cp', `${base('vol1')}/big`, `${base('vol2')}/big2`])).code, 0, 'volume → volume')
    t.equal(sha(await readFile(join(mnt2, 'big2'))), sha(big))
    t.equal((await gts(['cp', `${base('vol2')}/big2`, join(dir, 'back')])).code, 0, 'remote → local')
    t.equal(sha(await readFile(join(dir, 'back'))), sha(big))
    // --resume: a partial copy (a prefix) is continued, a complete one skipped
    await writeFile(join(mnt2, 'partial'), big.subarray(0, 2_000_000))
    const r = await gts(['cp', '--resume', '--json', `${base('vol1')}/big`, `${base('vol2')}/partial`])
    t.equal(r.code, 0, r.stderr)
    t.equal(JSON.parse(r.stdout.toString()).bytes, big.length - 2_000_000, '--resume sent only the missing tail')
    t.equal(sha(await readFile(join(mnt2, 'partial'))), sha(big), '--resume result')
    const r2 = JSON.parse((await gts(['cp', '--resume', '--json', `${base('vol1')}/big`, `${base('vol2')}/partial`])).stdout.toString())
    t.same([r2.skipped, r2.bytes], [1, 0], '--resume skips a complete file')
    const n = JSON.parse((await gts(['cp', '-n', '--json', join(dir, 'back'), `${base('vol1')}/big`])).stdout.toString())
    t.same([n.skipped, n.bytes], [1, 0], '--no-clobber')
    // a directory without -r
    const d = await gts(['cp', dir, `${base('vol1')}/d`])
    t.equal(d.code, 5)
    t.match(d.stderr, /EISDIR: -r not given/)
  })

  t.test('cp -r -p of 2,000 files, local → volume → local: identical, mode and mtime kept', async t => {
    const mnt = join(await cluster.mount('vol1'), top)
    const dir = await mkdtemp(join(tmpdir(), 'gts-cli-tree-'))
    t.teardown(() => rm(dir, { recursive: true, force: true }))
    const src = join(dir, 'src')
    for (let d = 0; d < 20; d++) {
      await mkdir(join(src, `d${d}`, d % 5 === 0 ? 'nested' : ''), { recursive: true })
      for (let f = 0; f < 100; f++) {
        const p = join(src, `d${d}`, d % 5 === 0 && f % 2 === 0 ? 'nested' : '', `f${f}.bin`)
        await writeFile(p, randomBytes((d * 100 + f) % 7 === 0 ? 0 : (d * 997 + f * 131) % 20000))
        await chmod(p, [0o644, 0o600, 0o755, 0o640][f % 4]!)
        await utimes(p, new Date(Date.UTC(2020, 0, 1 + f)), new Date(Date.UTC(2021, d % 12, 1 + (f % 28), 12, 0, 0, 250)))
      }
      await chmod(join(src, `d${d}`), d % 2 === 0 ? 0o755 : 0o750)
      await utimes(join(src, `d${d}`), new Date(Date.UTC(2019, 0, 1)), new Date(Date.UTC(2019, d % 12, 2)))
    }
    await symlink('d1/f1.bin', join(src, 'link'))
    const srcTree = await walk(src)
    t.equal(srcTree.filter(e => e.type === 'file').length, 2000)

    const up = await gts(['cp', '-r', '-p', '--json', src, `${base('vol1')}/tree`], { timeoutMs: 900_000 })
    t.equal(up.code, 0, up.stderr)
    t.equal(JSON.parse(up.stdout.toString()).files, 2000)
    const d1 = await exec('diff', ['-r', '--no-dereference', src, join(mnt, 'tree')], { maxBuffer: 1 << 24 }).then(() => '', (e: { stdout: string }) => e.stdout)
    t.equal(d1, '', 'diff -r local vs FUSE: identical')
    t.same(await walk(join(mnt, 'tree')), srcTree, 'types, modes, sizes, mtimes (ms) on the volume = the source')

    const down = await gts(['cp', '-rp', `${base('vol1')}/tree`, join(dir, 'back')], { timeoutMs: 900_000 })
    t.equal(down.code, 0, down.stderr)
    const d2 = await exec('diff', ['-r', '--no-dereference', src, join(dir, 'back')], { maxBuffer: 1 << 24 }).then(() => '', (e: { stdout: string }) => e.stdout)
    t.equal(d2, '', 'diff -r source vs the copy back: identical')
    t.same(await walk(join(dir, 'back')), srcTree, 'modes and mtimes survive both ways')
    t.equal(await readlink(join(dir, 'back/link')), 'd1/f1.bin', 'symlink copied as a symlink')
  })

  t.test('vol1: cat completes while one brick is frozen (SIGSTOP)', async t => {
    const mnt = join(await cluster.mount('vol1'), top)
    const data = randomBytes(20 * 1024 * 1024)
    await writeFile(join(mnt, 'frozen.bin'), data)
    await cluster.freezeBrick(1, 'vol1')
    t.teardown(() => cluster.contBrick(1, 'vol1'))
    const t0 = Date.now()
    const r = await gts(['cat', `${base('vol1')}/frozen.bin`], { timeoutMs: 120_000 })
    t.equal(r.code, 0, r.stderr)
    t.equal(sha(r.stdout), sha(data), 'every byte, with brick 1 stopped')
    t.comment(`cat of 20 MiB with a frozen brick: ${Date.now() - t0} ms`)
  })

  t.test('errors: one line naming the file and brick/server, exit status per kind', async t => {
    const nf = await gts(['cat', `${base('vol1')}/no/such/file`])
    t.equal(nf.code, 3)
    t.match(nf.stderr, /^gluster-ts cat: gluster:\/\/\S+\/no\/such\/file: ENOENT: .*\(brick [\d.]+:\d+:\/\S+\)\n$/)
    t.ok(oneLine(nf.stderr))
    const nv = await gts(['ls', `gluster://${ips[0]}/novolume/`])
    t.equal(nv.code, 6)
    t.match(nv.stderr, new RegExp(`^gluster-ts ls: gluster://${ips[0]}/novolume/: EGLUSTER_NOVOLFILE: .*${ips[0]!.replace(/\./g, '\\.')}:24007 no-such-volume`))
    t.ok(oneLine(nv.stderr))
    const down = await gts(['cat', '--timeout', '2000', `gluster://${ips[0]}:1/vol1/x`])
    t.equal(down.code, 6, 'no volfile server reachable: unavailable')
    t.match(down.stderr, new RegExp(`${ips[0]!.replace(/\./g, '\\.')}:1 refused`))
    t.ok(oneLine(down.stderr))
    const dir = await gts(['cat', `${base('vol1')}/`])
    t.equal(dir.code, 5, 'cat of a directory: EISDIR')
    t.match(dir.stderr, /EISDIR/)
    const notdir = await gts(['ls', `${base('vol1')}/frozen.bin/x`])
    t.equal(notdir.code, 3, 'a file used as a directory: ENOTDIR → not found')
    const usage = await gts(['cat', '--bogus', `${base('vol1')}/x`])
    t.equal(usage.code, 2)
    t.ok(oneLine(usage.stderr))
    const dbg = await gts(['cat', '--debug', `${base('vol1')}/no/such/file`])
    t.match(dbg.stderr, /\n\s+at /, '--debug prints the stack')
    const tr = await gts(['cat', '--trace', `${base('vol1')}/frozen.bin`])
    t.match(tr.stderr, /^trace → [\d.]+:24007 GlusterFS Handshake GETSPEC xid=\d+$/m, '--trace: the volfile fetch')
    t.match(tr.stderr, /^trace ← [\d.]+:\d+:\/\S+ GlusterFS 4\.x v1 READ xid=\d+ ok [\d.]+ ms$/m, '--trace: READs with latency')
  })
}
