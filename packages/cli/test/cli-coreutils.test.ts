// The commands as coreutils users expect them, through the built command against an embedded
// cluster: stat's inode numbers and times, JSON that names paths one way, du's counts and
// directory sizes, tail -n +N, truncate's relative sizes, mkdir -p -m, ls -l's total, a trailing
// slash on a file, mv -n.
import t from 'tap'
import { binMissing, gts, oneLine } from './built.js'
import { embedded } from './embedded.js'

const missing = binMissing()
// ~60 runs of the command, each a node process start (slow on a loaded box)
t.setTimeout(1_200_000) // about 40 built commands against a cluster: 10 minutes on a box loaded 10 times over
if (missing !== undefined) {
  t.test('coreutils behaviour', { skip: missing }, async () => {})
} else {
  const e = await embedded(t)
  const U = e.url
  const vol = e.vol
  const json = async (args: string[]): Promise<any> => {
    const r = await gts([...args, '--json'])
    if (r.code !== 0) throw new Error(`${args.join(' ')}: ${r.code} ${r.stderr}`)
    return JSON.parse(r.stdout.toString())
  }
  /** GlusterFS's inode number: the big-endian u64 of gfid bytes 8..15 (gfid_to_ino). */
  const inoOf = (gfid: string): string => BigInt('0x' + gfid.replace(/-/g, '').slice(16)).toString()
  /** ns since the epoch as ISO 8601 with nine fraction digits */
  const isoNs = (ns: bigint): string => new Date(Number(ns / 1_000_000n)).toISOString().replace(/\.\d+Z$/, `.${String(ns % 1_000_000_000n).padStart(9, '0')}Z`)

  t.test('stat: the inode number exactly (64 bits, not through a double)', async t => {
    await vol.writeFile('/ino.txt', 'x')
    const st = await vol.stat('/ino.txt')
    const want = inoOf(st.gfid)
    t.ok(BigInt(want) > BigInt(Number.MAX_SAFE_INTEGER), 'a random gfid gives an inode number a double cannot hold')
    const r = await gts(['stat', `${U}/ino.txt`])
    t.equal(r.code, 0, r.stderr)
    t.match(r.stdout.toString(), new RegExp(`^Inode: ${want}\\t`, 'm'))
    const j = await json(['stat', `${U}/ino.txt`])
    t.equal(j[0].ino, want, 'JSON: the exact number, as a string')
    const ls = await json(['ls', `${U}/`])
    t.equal(ls.find((x: { name: string }) => x.name === 'ino.txt').ino, want, 'ls --json too')
  })

  t.test('JSON times keep their nanoseconds', async t => {
    await vol.writeFile('/times.txt', 'x')
    const st = await vol.stat('/times.txt')
    const [j] = await json(['stat', `${U}/times.txt`])
    t.equal(j.mtime, isoNs(st.mtimeNs))
    t.equal(j.ctime, isoNs(st.ctimeNs))
    t.equal(j.atime, isoNs(st.atimeNs))
    t.match(j.mtime, /\.\d{9}Z$/)
    const text = (await gts(['stat', `${U}/times.txt`])).stdout.toString()
    t.match(text, new RegExp(`^Access: ${isoNs(st.atimeNs).replace('T', ' ').replace('Z', '')} \\+0000$`, 'm'), 'stat prints atime with nanoseconds too')
  })

  t.test('JSON: `path` is the path in the volume and `url` the URL, in ls, stat, du and sum', async t => {
    await vol.mkdir('/j/sub', { recursive: true })
    await vol.writeFile('/j/sub/f', 'abc')
    const ls = await json(['ls', `${U}/j`])
    t.match(ls, [{ name: 'sub', path: '/j/sub', url: `${U}/j/sub` }])
    const st = await json(['stat', `${U}/j/sub/f`])
    t.match(st, [{ path: '/j/sub/f', url: `${U}/j/sub/f` }])
    const du = await json(['du', `${U}/j`])
    t.match(du, [{ path: '/j/sub', url: `${U}/j/sub` }, { path: '/j', url: `${U}/j` }])
    const sum = await json(['sum', `${U}/j/sub/f`])
    t.match(sum, [{ path: '/j/sub/f', url: `${U}/j/sub/f`, sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' }])
  })

  t.test('du: directories count their own size (like du --apparent-size -b); --json counts per entry', async t => {
    await vol.mkdir('/du/a/b', { recursive: true })
    await vol.writeFile('/du/a/one', Buffer.alloc(1000))
    await vol.writeFile('/du/a/b/two', Buffer.alloc(20))
    await vol.writeFile('/du/three', Buffer.alloc(300))
    const size = async (p: string): Promise<number> => (await vol.lstat(p)).size
    const b = await size('/du/a/b') + 20
    const a = await size('/du/a') + 1000 + b
    const top = await size('/du') + 300 + a
    const r = await gts(['du', `${U}/du`])
    t.equal(r.code, 0, r.stderr)
    t.equal(r.stdout.toString(), `${b}\t${U}/du/a/b\n${a}\t${U}/du/a\n${top}\t${U}/du\n`)
    t.equal((await gts(['du', '-s', `${U}/du`])).stdout.toString(), `${top}\t${U}/du\n`)
    const j = await json(['du', `${U}/du`])
    t.same(j.map((x: { path: string, bytes: number, files: number, dirs: number }) => [x.path, x.bytes, x.files, x.dirs]),
      [['/du/a/b', b, 1, 1], ['/du/a', a, 2, 2], ['/du', top, 3, 3]], 'each entry its own counts')
  })

  t.test('tail -n +N prints from line N; -c +N from byte N', async t => {
    await vol.writeFile('/lines.txt', 'one\ntwo\nthree\nfour\n')
    t.equal((await gts(['tail', '-n', '+2', `${U}/lines.txt`])).stdout.toString(), 'two\nthree\nfour\n')
    t.equal((await gts(['tail', '-n', '+1', `${U}/lines.txt`])).stdout.toString(), 'one\ntwo\nthree\nfour\n')
    t.equal((await gts(['tail', '-n', '+9', `${U}/lines.txt`])).stdout.toString(), '')
    t.equal((await gts(['tail', '-n', '2', `${U}/lines.txt`])).stdout.toString(), 'three\nfour\n', 'plain N: the last N')
    t.equal((await gts(['tail', '-n', '-2', `${U}/lines.txt`])).stdout.toString(), 'three\nfour\n', '-N: the last N')
    t.equal((await gts(['tail', '-c', '+5', `${U}/lines.txt`])).stdout.toString(), 'two\nthree\nfour\n')
    t.equal((await gts(['tail', '-c', '5', `${U}/lines.txt`])).stdout.toString(), 'four\n')
    const bad = await gts(['tail', '-n', '+x', `${U}/lines.txt`])
    t.equal(bad.code, 2)
    t.match(bad.stderr, /EUSAGE: invalid --lines '\+x'/)
  })

  t.test('truncate -s takes coreutils\' relative sizes: +N -N <N >N /N %N', async t => {
    const f = `${U}/sized`
    const size = async (): Promise<number> => (await vol.stat('/sized')).size
    const steps: Array<[string, number]> = [['100', 100], ['+1K', 1124], ['-24', 1100], ['<2000', 1100], ['<1000', 1000], ['>900', 1000], ['>1500', 1500], ['/512', 1024], ['%1000', 2000], ['%1000', 2000], ['-5000', 0]]
    for (const [s, want] of steps) {
      const r = await gts(['truncate', '-s', s, f])
      t.equal(r.code, 0, `${s}: ${r.stderr}`)
      t.equal(await size(), want, `-s ${s}`)
    }
    const r = await gts(['truncate', '-s', '+1K', `${U}/new-by-plus`])
    t.equal(r.code, 0, r.stderr)
    t.equal((await vol.stat('/new-by-plus')).size, 1024, 'a missing file counts as size 0')
    for (const bad of ['/0', '%0', '+', 'x1K']) {
      const b = await gts(['truncate', '-s', bad, f])
      t.equal(b.code, 2, `-s ${bad}`)
      t.ok(oneLine(b.stderr))
    }
  })

  t.test('mkdir -p -m MODE: the mode is for the last directory; parents get the usual mode', async t => {
    const umask = process.umask()
    const r = await gts(['mkdir', '-p', '-m', '700', `${U}/mk/a/b`])
    t.equal(r.code, 0, r.stderr)
    t.equal((await vol.stat('/mk/a/b')).mode & 0o7777, 0o700)
    t.equal((await vol.stat('/mk')).mode & 0o7777, 0o777 & ~umask, 'parent: 0777 less the umask')
    t.equal((await vol.stat('/mk/a')).mode & 0o7777, 0o777 & ~umask)
    const m = await gts(['mkdir', '-m', '777', `${U}/mk/open`])
    t.equal(m.code, 0, m.stderr)
    t.equal((await vol.stat('/mk/open')).mode & 0o7777, 0o777, '-m sets the mode exactly, whatever the umask (as chmod)')
  })

  t.test('ls -l DIR starts with `total`, in 1 KiB blocks', async t => {
    await vol.mkdir('/tot')
    await vol.writeFile('/tot/a', Buffer.alloc(5000, 1))
    await vol.writeFile('/tot/b', Buffer.alloc(100, 1))
    const want = Math.ceil((await vol.lstat('/tot/a')).blocks / 2) + Math.ceil((await vol.lstat('/tot/b')).blocks / 2)
    const lines = (await gts(['ls', '-l', `${U}/tot`])).stdout.toString().split('\n')
    t.equal(lines[0], `total ${want}`)
    t.match(lines[1], / a$/)
    const file = (await gts(['ls', '-l', `${U}/tot/a`])).stdout.toString()
    t.notMatch(file, /^total/, 'a file argument: no total')
  })

  t.test('a trailing slash on a file: ENOTDIR (ls, stat, cat)', async t => {
    await vol.writeFile('/plain.txt', 'p')
    for (const cmd of ['ls', 'stat', 'cat']) {
      const r = await gts([cmd, `${U}/plain.txt/`])
      t.equal(r.code, 3, `${cmd}: status 3 (not found)`)
      t.match(r.stderr, new RegExp(`^gluster-ts ${cmd}: ${U.replace(/[/.]/g, '\\$&')}/plain\\.txt/: ENOTDIR: `), cmd)
      t.equal(r.stdout.length, 0)
      t.ok(oneLine(r.stderr))
    }
    t.equal((await gts(['ls', `${U}/j/`])).stdout.toString(), 'sub\n', 'a directory with a slash is fine')
  })

  t.test('mv -n skips an existing destination, as cp -n does (status 0, source kept)', async t => {
    await vol.writeFile('/mv-src', 'new')
    await vol.writeFile('/mv-dst', 'old')
    const r = await gts(['mv', '-n', `${U}/mv-src`, `${U}/mv-dst`])
    t.equal(r.code, 0, r.stderr)
    t.equal(r.stderr, '')
    t.equal(await vol.readFile('/mv-dst', { encoding: 'utf8' }), 'old')
    t.equal(await vol.readFile('/mv-src', { encoding: 'utf8' }), 'new')
    const c = await gts(['cp', '-n', `${U}/mv-src`, `${U}/mv-dst`])
    t.equal(c.code, 0, 'cp -n, for comparison')
  })
}
