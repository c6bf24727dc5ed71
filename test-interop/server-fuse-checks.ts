// The FUSE checks of the real GlusterFS client on our server, shared by server-fuse (plaintext)
// and server-fuse-tls (TLS): a replica-3 volume mounted by `glusterfs`; ordinary tools on it;
// then unmount, stop, restart the server, remount: everything is still there.
import type { Test } from 'tap'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { sh, umount, pickTree, type ChildCluster } from './server-fuse-helpers.js'

type Cluster = ChildCluster

async function sha256File (p: string): Promise<string> {
  const h = createHash('sha256')
  for await (const chunk of fs.createReadStream(p, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer)
  return h.digest('hex')
}

export interface FuseCheckSetup {
  /** a fresh directory for the cluster, the mount point and the client log */
  base: string
  /** start the cluster (again) in `dir` */
  start: (dir: string) => Promise<Cluster>
  /** mount the volume at `mnt` with the client log `log` */
  mount: (c: Cluster, mnt: string, log: string) => Promise<void>
  /** MiB that dd writes and reads back */
  ddMib: number
}

/** Start, mount, run every check, leave it unmounted and stopped (in t's teardown). */
export async function fuseChecks (t: Test, o: FuseCheckSetup): Promise<void> {
  const { base, start, mount } = o
  const DD_MIB = o.ddMib
  const dir = path.join(base, 'cluster')
  const mnt = path.join(base, 'mnt')
  const log = path.join(base, 'fuse.log')
  fs.mkdirSync(mnt, { recursive: true })
  let c: Cluster | undefined = await start(dir)
  t.teardown(async () => {
    await umount(mnt).catch(() => {})
    await c?.close()
    if (process.env.GTS_KEEP === undefined) fs.rmSync(base, { recursive: true, force: true })
  })
  t.comment(`cluster ${c.host}:${c.port} (pid ${c.proc.pid}), bricks ${c.volume.bricks.map(b => b.path).join(' ')}, client log ${log}`)
  await mount(c, mnt, log)
  const tree = pickTree()
  const src = path.join(base, 'big.src')
  let bigSum = ''

  await t.test('ls of the empty volume', async t => {
    t.equal((await sh('ls', ['-A', mnt])).trim(), '')
  })

  await t.test('cp -a of a tree, diff -r, ls -lR', async t => {
    const files = Number((await sh('sh', ['-c', `find "${tree}" | wc -l`])).trim())
    const t0 = Date.now()
    await sh('cp', ['-a', tree, path.join(mnt, 'tree')], { timeoutMs: 480_000 })
    t.comment(`cp -a of ${files} entries: ${((Date.now() - t0) / 1000).toFixed(1)} s`)
    await sh('diff', ['-r', '--no-dereference', tree, path.join(mnt, 'tree')], { timeoutMs: 240_000 })
    t.pass('diff -r finds no difference')
    const local = (await sh('ls', ['-lR', '--time-style=+%s', tree])).split('\n').filter(l => !l.startsWith('/') && !l.startsWith('total')).length
    const ours = (await sh('ls', ['-lR', '--time-style=+%s', path.join(mnt, 'tree')])).split('\n').filter(l => !l.startsWith('/') && !l.startsWith('total')).length
    t.equal(ours, local, 'ls -lR lists as many lines')
    const st = fs.lstatSync(path.join(mnt, 'tree'))
    t.equal(Math.floor(st.mtimeMs / 1000), Math.floor(fs.lstatSync(tree).mtimeMs / 1000), 'cp -a kept the mtime')
  })

  await t.test('mv, chmod, truncate, ln -s, hard links, user xattrs, rm -rf', async t => {
    await sh('mv', [path.join(mnt, 'tree'), path.join(mnt, 'moved')])
    t.ok(fs.existsSync(path.join(mnt, 'moved')))
    t.notOk(fs.existsSync(path.join(mnt, 'tree')))
    const f = path.join(mnt, 'f.txt')
    fs.writeFileSync(f, 'hello, gluster-ts\n')
    await sh('chmod', ['640', f])
    t.equal(fs.statSync(f).mode & 0o777, 0o640)
    await sh('truncate', ['-s', '5', f])
    t.equal(fs.readFileSync(f, 'utf8'), 'hello')
    await sh('truncate', ['-s', '100000', f])
    t.equal(fs.statSync(f).size, 100000)
    await sh('truncate', ['-s', '5', f])
    await sh('ln', ['-s', 'f.txt', path.join(mnt, 'link')])
    t.equal(fs.readlinkSync(path.join(mnt, 'link')), 'f.txt')
    t.equal(fs.readFileSync(path.join(mnt, 'link'), 'utf8'), 'hello')
    await sh('ln', [f, path.join(mnt, 'hard')])
    t.equal(fs.statSync(f).nlink, 2)
    await sh('setfattr', ['-n', 'user.color', '-v', 'blue', f])
    t.match(await sh('getfattr', ['-n', 'user.color', '--only-values', f]), /^blue$/)
    t.match(await sh('getfattr', ['-d', f]), /user\.color="blue"/)
    await sh('setfattr', ['-x', 'user.color', f])
    await t.rejects(sh('getfattr', ['-n', 'user.color', f]), 'removed')
    await sh('setfattr', ['-n', 'user.kept', '-v', 'yes', f])
    await sh('mkdir', ['-p', path.join(mnt, 'a/b/c')])
    fs.writeFileSync(path.join(mnt, 'a/b/c/x'), 'x')
    await sh('rm', ['-rf', path.join(mnt, 'a')])
    t.notOk(fs.existsSync(path.join(mnt, 'a')))
    const t0 = Date.now()
    await sh('rm', ['-rf', path.join(mnt, 'moved')], { timeoutMs: 480_000 })
    t.comment(`rm -rf of the tree: ${((Date.now() - t0) / 1000).toFixed(1)} s`)
    t.same(fs.readdirSync(mnt).sort(), ['f.txt', 'hard', 'link'])
  })

  await t.test(`dd of ${DD_MIB} MiB in and out, sha256 equal`, async t => {
    await sh('dd', ['if=/dev/urandom', `of=${src}`, 'bs=1M', `count=${DD_MIB}`, 'status=none'], { timeoutMs: 300_000 })
    bigSum = await sha256File(src)
    let t0 = Date.now()
    await sh('dd', [`if=${src}`, `of=${path.join(mnt, 'big.bin')}`, 'bs=1M', 'conv=fsync', 'status=none'], { timeoutMs: 480_000 })
    t.comment(`write: ${(DD_MIB / ((Date.now() - t0) / 1000)).toFixed(1)} MiB/s`)
    await fs.promises.writeFile('/proc/sys/vm/drop_caches', '3').catch(() => {})
    t0 = Date.now()
    const back = path.join(base, 'big.back')
    await sh('dd', [`if=${path.join(mnt, 'big.bin')}`, `of=${back}`, 'bs=1M', 'status=none'], { timeoutMs: 480_000 })
    t.comment(`read: ${(DD_MIB / ((Date.now() - t0) / 1000)).toFixed(1)} MiB/s`)
    t.equal(await sha256File(back), bigSum)
    fs.rmSync(back)
    for (const b of c!.volume.bricks) t.equal(fs.statSync(path.join(b.path, 'big.bin')).size, DD_MIB * 1024 * 1024, `on brick ${b.path}`)
  })

  await t.test('unmount, stop, restart, remount: everything is still there', async t => {
    await umount(mnt)
    await c!.close()
    c = undefined
    c = await start(dir)
    await mount(c, mnt, log)
    t.same(fs.readdirSync(mnt).sort(), ['big.bin', 'f.txt', 'hard', 'link'])
    t.equal(fs.readFileSync(path.join(mnt, 'hard'), 'utf8'), 'hello')
    t.equal(fs.statSync(path.join(mnt, 'f.txt')).nlink, 2)
    t.equal(fs.statSync(path.join(mnt, 'f.txt')).mode & 0o777, 0o640)
    t.equal(fs.readlinkSync(path.join(mnt, 'link')), 'f.txt')
    t.match(await sh('getfattr', ['-n', 'user.kept', '--only-values', path.join(mnt, 'f.txt')]), /^yes$/)
    t.equal(await sha256File(path.join(mnt, 'big.bin')), bigSum)
  })

  const errors = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(l => / E \[/.test(l)) : []
  t.comment(`client log: ${errors.length} error lines`)
  for (const e of errors.slice(0, 10)) t.comment(e)
}
