// chmod, chown, ln, rmdir, getfattr, setfattr, df and find through the BUILT command against the
// REAL GlusterFS 10 cluster, with the FUSE mount as the oracle: what each command does is read
// back through FUSE (stat -c, readlink, getfattr -d -e hex, df -B1, GNU find on the mount), and
// what FUSE writes is what our getfattr and find see. Failures: one line, documented status.
import t, { type Test } from 'tap'
import { execFile } from 'node:child_process'
import { mkdir, rm, writeFile, symlink, utimes, lstat, access } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { realCliCluster, gts, oneLine } from './cli-helpers.js'

const exec = promisify(execFile)
/** the FUSE client caches attributes for 1 s: wait that out before it checks a file we changed */
const fuseSettle = (): Promise<void> => new Promise(r => setTimeout(r, 1200))
const sh = async (cmd: string, args: string[]): Promise<string> => (await exec(cmd, args, { maxBuffer: 16 << 20 })).stdout

const cluster = realCliCluster('issue 18 commands against the real cluster')
if (cluster !== undefined) {
  // about 50 runs of the built command: well under a minute on CI, several on a box loaded 10 times over
  t.setTimeout(600_000)
  const ips = cluster.nodes.map(n => n.ip)
  const top = `gts-cmds18-${process.pid}`
  const volUrl = (vol: string): string => `gluster://${ips[0]},${ips[1]}:24007/${vol}`
  const U = `${volUrl('vol1')}/${top}`
  let mnt = ''
  const run = async (args: string[]): Promise<{ code: number | null, out: string, err: string }> => {
    const r = await gts(args)
    return { code: r.code, out: r.stdout.toString(), err: r.stderr }
  }
  const ok = async (t: Test, args: string[]): Promise<string> => {
    const r = await run(args)
    t.equal(r.code, 0, `${args.join(' ')}: ${r.err}`)
    return r.out
  }

  t.before(async () => {
    mnt = join(await cluster.mount('vol1'), top)
    await rm(mnt, { recursive: true, force: true })
    await mkdir(mnt)
  })
  t.teardown(async () => { if (mnt !== '') await rm(mnt, { recursive: true, force: true }) })

  t.test('chmod: what FUSE stat shows, octal, symbolic, X, -R', async t => {
    const d = join(mnt, 'cm')
    await mkdir(join(d, 'sub'), { recursive: true })
    await writeFile(join(d, 'f'), 'x')
    await writeFile(join(d, 'sub/g'), 'x')
    await writeFile(join(d, 'sub/x'), 'x')
    await exec('chmod', ['755', join(d, 'sub/x')])
    const modes = async (): Promise<string> => { await fuseSettle(); return await sh('stat', ['-c', '%a %n', join(d, 'f'), join(d, 'sub'), join(d, 'sub/g'), join(d, 'sub/x')]) }
    await ok(t, ['chmod', '640', `${U}/cm/f`])
    await ok(t, ['chmod', 'g+s,+t', `${U}/cm/sub`])
    t.match(await modes(), `640 ${join(d, 'f')}\n3755 ${join(d, 'sub')}\n`)
    await ok(t, ['chmod', '-R', 'u=rwX,go=', `${U}/cm`])
    // coreutils' chmod on the FUSE mount gives the same from the same start
    const ours = await modes()
    await exec('chmod', ['640', join(d, 'f')])
    await exec('chmod', ['3755', join(d, 'sub')])
    await exec('chmod', ['0755', join(d, 'sub/x')])
    await exec('chmod', ['0644', join(d, 'sub/g')])
    await exec('chmod', ['0755', d])
    await exec('chmod', ['-R', 'u=rwX,go=', d])
    t.equal(ours, await modes(), 'chmod -R u=rwX,go= as coreutils chmod does it on the mount')
    const bad = await run(['chmod', 'a+q', `${U}/cm/f`])
    t.equal(bad.code, 2)
    t.ok(oneLine(bad.err))
    const gone = await run(['chmod', '600', `${U}/cm/nope`])
    t.equal(gone.code, 3)
    t.match(gone.err, `${U}/cm/nope: ENOENT`)
  })

  t.test('chown: numbers, names, :GROUP, -h, -R, seen by FUSE stat', async t => {
    const d = join(mnt, 'co')
    await mkdir(join(d, 'sub'), { recursive: true })
    await writeFile(join(d, 'f'), 'x')
    await symlink('f', join(d, 'ln'))
    const ids = async (...p: string[]): Promise<string[]> => { await fuseSettle(); return (await sh('stat', ['-c', '%u:%g', ...p.map(x => join(d, x))])).trim().split('\n') }
    await ok(t, ['chown', '1234:5678', `${U}/co/f`])
    t.same(await ids('f'), ['1234:5678'])
    await ok(t, ['chown', ':42', `${U}/co/f`])
    t.same(await ids('f'), ['1234:42'])
    const daemon = (await sh('id', ['-u', 'daemon'])).trim()
    const daemonGid = (await sh('id', ['-g', 'daemon'])).trim()
    await ok(t, ['chown', 'daemon:', `${U}/co/ln`])
    t.same(await ids('f', 'ln'), [`${daemon}:${daemonGid}`, '0:0'], 'a symlink named: what it points to')
    await ok(t, ['chown', '-h', '7:8', `${U}/co/ln`])
    t.same(await ids('f', 'ln'), [`${daemon}:${daemonGid}`, '7:8'], '-h: the symlink itself')
    await ok(t, ['chown', '-R', '100:200', `${U}/co`])
    t.same(await ids('', 'sub', 'f', 'ln'), ['100:200', '100:200', '100:200', '100:200'])
    const bad = await run(['chown', 'no-such-user-x', `${U}/co/f`])
    t.equal(bad.code, 2)
    t.equal(bad.err, "gluster-ts chown: EUSAGE: invalid user: 'no-such-user-x'\n")
  })

  t.test('ln and rmdir: FUSE readlink, inode numbers and link counts, directories gone', async t => {
    const d = join(mnt, 'ln')
    await mkdir(d)
    await writeFile(join(d, 'a'), 'abc')
    await ok(t, ['ln', '-s', '../some/./where', `${U}/ln/s`])
    await ok(t, ['ln', `${U}/ln/a`, `${U}/ln/h`])
    await fuseSettle()
    t.equal((await sh('readlink', [join(d, 's')])).trim(), '../some/./where', 'the target stored verbatim')
    const [a, h] = (await sh('stat', ['-c', '%i %h', join(d, 'a'), join(d, 'h')])).trim().split('\n')
    t.equal(a, h, 'the same inode, two links')
    t.match(a, / 2$/)
    t.equal((await run(['ln', '-s', 'x', `${U}/ln/s`])).code, 5, 'exists: 5')
    await ok(t, ['ln', '-sf', 'x', `${U}/ln/s`])
    await fuseSettle()
    t.equal((await sh('readlink', [join(d, 's')])).trim(), 'x')
    await mkdir(join(d, 'p/q/r'), { recursive: true })
    t.equal((await run(['rmdir', `${U}/ln/p`])).code, 5, 'not empty: 5')
    await ok(t, ['rmdir', '-p', '--ignore-fail-on-non-empty', `${U}/ln/p/q/r`])
    await fuseSettle()
    await t.rejects(access(join(d, 'p')), { code: 'ENOENT' }, 'r, q and p gone; ln (not empty) stays')
    await access(d)
    t.equal((await run(['rmdir', `${U}/ln/p`])).code, 3)
  })

  t.test('setfattr/getfattr: what FUSE getfattr -d -e hex shows, both ways', async t => {
    const f = join(mnt, 'xa')
    await writeFile(f, 'x')
    await ok(t, ['setfattr', '-n', 'user.text', '-v', 'hello', `${U}/xa`])
    await ok(t, ['setfattr', '-n', 'user.bin', '-v', '0x00ff01', `${U}/xa`])
    await ok(t, ['setfattr', '-n', 'user.b64', '-v', '0sYWJj', `${U}/xa`])
    await ok(t, ['setfattr', '-n', 'user.q', '-v', '"a\\012b"', `${U}/xa`])
    await exec('setfattr', ['-n', 'user.fuse', '-v', 'from fuse', f])
    const body = (s: string): string => s.split('\n').slice(1).join('\n')
    for (const enc of ['hex', 'base64', 'text']) {
      const fuse = await sh('getfattr', ['-d', '-e', enc, '--absolute-names', f])
      const ours = await ok(t, ['getfattr', '-d', '-e', enc, `${U}/xa`])
      t.equal(ours.split('\n')[0], `# file: ${U}/xa`)
      t.equal(body(ours), body(fuse), `getfattr -d -e ${enc}: the same attributes and values as on the mount`)
    }
    const fuseDefault = await sh('getfattr', ['-d', '--absolute-names', f])
    t.equal(body(await ok(t, ['getfattr', '-d', `${U}/xa`])), body(fuseDefault), 'the default encoding too')
    t.equal(await ok(t, ['getfattr', '-n', 'user.fuse', '--only-values', `${U}/xa`]), 'from fuse')
    await ok(t, ['setfattr', '-x', 'user.text', `${U}/xa`])
    const after = await sh('getfattr', ['-d', '-e', 'hex', '--absolute-names', f])
    t.notMatch(after, /user\.text/, '-x removed it')
    t.equal((await run(['getfattr', '-n', 'user.text', `${U}/xa`])).code, 1, 'no such attribute: 1, as getfattr')
  })

  t.test('df -B1: the volume as df on the FUSE mount shows it; --bricks', async t => {
    for (const vol of ['vol1', 'vol2']) {
      const m = await cluster.mount(vol)
      const ours = (await ok(t, ['df', '-B1', '--bricks', volUrl(vol)])).trimEnd().split('\n')
      const fuse = (await sh('df', ['-B1', '--output=size,used,avail,pcent', m])).trimEnd().split('\n')
      const [size, used, avail] = fuse[1]!.trim().split(/\s+/).map(Number)
      const row = ours[1]!.split(/\s+/)
      t.equal(row[0], volUrl(vol))
      t.equal(Number(row[1]), size, `${vol}: size as df on the mount`)
      // used and available move with everything else written to the disk the bricks share
      t.ok(Math.abs(Number(row[2]) - used!) < 256 << 20, `${vol}: used ${row[2]} ≈ ${used}`)
      t.ok(Math.abs(Number(row[3]) - avail!) < 256 << 20, `${vol}: available ${row[3]} ≈ ${avail}`)
      const bricks = cluster.volumes[vol]!.bricks
      t.equal(ours.length, 2 + bricks.length, `${vol}: a line per brick`)
      for (const l of ours.slice(2)) t.match(l, /^\S+:\d+:\/\S+ +\d+ +\d+ +\d+ +\d+%$/, `${vol}: brick line ${l}`)
    }
  })

  t.test('find: the same paths as GNU find on the FUSE mount', async t => {
    const d = join(mnt, 'fd')
    await mkdir(join(d, 'sub/deep'), { recursive: true })
    await writeFile(join(d, 'empty'), '')
    await writeFile(join(d, 'one.c'), 'x')
    await writeFile(join(d, 'K.C'), Buffer.alloc(1024))
    await writeFile(join(d, 'sub/k1.c'), Buffer.alloc(1025))
    await writeFile(join(d, 'sub/deep/big'), Buffer.alloc(2 * 1024 * 1024 + 1))
    await symlink('one.c', join(d, 'link'))
    const old = Date.now() / 1000 - 3.5 * 86400
    await utimes(join(d, 'sub/k1.c'), old, old)
    const ref = join(mnt, 'ref')
    await writeFile(ref, '')
    await utimes(ref, old + 86400, old + 86400)
    await fuseSettle()
    // the tests ANDed in groups: each group is two processes (ours and GNU find) on a loaded box
    for (const tests of [[], ['-name', '*.c', '-size', '-3'], ['-iname', '*.c', '-type', 'f'], ['-type', 'd', '-mindepth', '1'], ['-size', '-1M'],
      ['-size', '+2M'], ['-size', '1k', '-type', 'f,l'], ['-size', '1025c', '-mtime', '+2'], ['-mtime', '-1', '-newer', ref, '-maxdepth', '1'],
      ['-maxdepth', '1', '-type', 'f', '-name', '[eo]*']]) {
      const gnu = (await sh('find', [d, ...tests])).split('\n').filter(x => x !== '').map(p => p.slice(d.length)).sort()
      const ours = (await ok(t, ['find', `${U}/fd`, ...tests])).split('\n').filter(x => x !== '').map(p => p.slice(`${U}/fd`.length)).sort()
      t.same(ours, gnu, `find ${tests.join(' ')}`)
    }
    const z = await ok(t, ['find', `${U}/fd`, '-name', 'one.c', '-print0'])
    t.equal(z, `${U}/fd/one.c\0`)
    t.equal((await run(['find', `${U}/fd`, '-size', '1x'])).code, 2)
    const gone = await run(['find', `${U}/nope`])
    t.equal(gone.code, 3)
    t.ok(oneLine(gone.err))
    t.ok((await lstat(d)).isDirectory())
  })
}
