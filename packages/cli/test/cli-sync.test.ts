// sync in process against the embedded cluster: what is copied, updated and deleted (and what is
// not), both ways and volume to volume, --checksum, --dry-run, filters, leftovers of an interrupted
// run, deletes held back after a failed copy, bad input with its exit status; cp --resume
// --checksum and the filters of cp, ls and du.
import t from 'tap'
import { mkdir, readFile, readdir, readlink, stat, symlink, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { main } from '../src/main.js'
import { capture } from './helpers.js'
import { embedded } from './embedded.js'
import { scratch } from './built.js'

t.setTimeout(600_000)
const e = await embedded(t)
const U = e.url
const vol = e.vol

interface Run { code: number, out: string, err: string }
async function gts (args: string[], o: { tty?: boolean } = {}): Promise<Run> {
  const c = capture(o)
  const code = await main(args, c.io)
  return { code, out: c.out(), err: c.err() }
}
interface Act { path: string, action: string, bytes: number }
interface Summary { copy: number, update: number, delete: number, mkdir: number, unchanged: number, bytes: number, errors: number, swept: number, dryRun: boolean, ok: boolean }
async function syncJson (args: string[], want = 0): Promise<{ acts: Act[], summary: Summary, err: string }> {
  const r = await gts(['sync', '--json', ...args])
  if (r.code !== want) throw new Error(`sync ${args.join(' ')}: ${r.code} ${r.err}`)
  const lines = r.out.trim().split('\n').map(l => JSON.parse(l) as Act | { summary: Summary })
  const last = lines.pop() as { summary: Summary }
  return { acts: lines as Act[], summary: last.summary, err: r.err }
}
const byAction = (acts: Act[]): Record<string, string[]> => {
  const m: Record<string, string[]> = {}
  for (const a of acts) (m[a.action] ??= []).push(a.path)
  for (const k of Object.keys(m)) m[k]!.sort()
  return m
}

/** a local tree: { 'a/b.txt': 'content', 'l': { link: 'target' } } */
async function tree (root: string, files: Record<string, string | { link: string }>): Promise<void> {
  for (const [rel, v] of Object.entries(files)) {
    const p = join(root, rel)
    await mkdir(join(p, '..'), { recursive: true })
    if (typeof v === 'string') await writeFile(p, v)
    else await symlink(v.link, p)
  }
}
/** every entry under a local dir: path → content / ->target / dir */
async function localTree (root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const rel of (await readdir(root, { recursive: true })).sort()) {
    const p = join(root, rel)
    const st = await import('node:fs/promises').then(f => f.lstat(p))
    out[rel] = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? `-> ${await readlink(p)}` : await readFile(p, 'utf8')
  }
  return out
}
async function volumeTree (root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  const walk = async (rel: string): Promise<void> => {
    const dir = rel === '' ? root : `${root}/${rel}`
    for (const ent of await vol.readdir(dir, { withFileTypes: true })) {
      if (ent.name === '.' || ent.name === '..') continue
      const r = rel === '' ? ent.name : `${rel}/${ent.name}`
      const p = `${root}/${r}`
      const st = await vol.lstat(p)
      if (st.isDirectory()) { out[r] = 'dir'; await walk(r) } else if (st.isSymbolicLink()) out[r] = `-> ${await vol.readlink(p)}`
      else out[r] = (await vol.readFile(p)).toString('utf8')
    }
  }
  await walk('')
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))
}

const FILES: Record<string, string | { link: string }> = {
  'top.txt': 'top',
  'empty': '',
  'a/one.txt': 'one',
  'a/two.txt': 'two',
  'a/b/three.txt': 'three',
  'a/b/c/four.jpg': 'four',
  'logs/x.log': 'log',
  'link': { link: 'top.txt' },
}

t.test('local → volume: copies all, then nothing; then only the changed, new and (with --delete) removed', async t => {
  const src = scratch(t)
  await tree(src, FILES)
  const first = await syncJson([src, `${U}/s1`])
  t.same(byAction(first.acts), {
    mkdir: ['.', 'a', 'a/b', 'a/b/c', 'logs'],
    copy: ['a/b/c/four.jpg', 'a/b/three.txt', 'a/one.txt', 'a/two.txt', 'empty', 'link', 'logs/x.log', 'top.txt'],
  })
  t.same(await volumeTree('/s1'), await localTree(src), 'the volume holds the tree')
  const st = await stat(join(src, 'a/one.txt'))
  t.equal(Math.floor((await vol.stat('/s1/a/one.txt')).mtimeMs), Math.floor(st.mtimeMs), 'the source\'s mtime, kept')

  const again = await syncJson([src, `${U}/s1`])
  t.same(again.acts, [], 'a second run finds nothing to do')
  t.equal(again.summary.unchanged, 8)

  await writeFile(join(src, 'a/one.txt'), 'ONE') // same size, newer mtime
  await writeFile(join(src, 'a/two.txt'), 'two, longer')
  await writeFile(join(src, 'a/new.txt'), 'new')
  await import('node:fs/promises').then(f => f.rm(join(src, 'logs'), { recursive: true }))
  await import('node:fs/promises').then(f => f.unlink(join(src, 'top.txt')))
  await utimes(join(src, 'a/one.txt'), new Date('2020-01-01T00:00:00Z'), new Date('2020-01-01T00:00:00Z'))
  const noDelete = await syncJson([src, `${U}/s1`])
  t.same(byAction(noDelete.acts), { copy: ['a/new.txt'], update: ['a/one.txt', 'a/two.txt'] }, 'without --delete: nothing removed')
  t.equal((await vol.readFile('/s1/top.txt')).toString(), 'top')
  await writeFile(join(src, 'a/new.txt'), 'NEW')
  await utimes(join(src, 'a/new.txt'), new Date('2021-01-01T00:00:00Z'), new Date('2021-01-01T00:00:00Z'))
  const dry = await syncJson(['--dry-run', '--delete', src, `${U}/s1`])
  t.same(byAction(dry.acts), { update: ['a/new.txt'], delete: ['logs', 'logs/x.log', 'top.txt'] }, 'the plan')
  t.equal(dry.summary.dryRun, true)
  t.equal((await vol.readFile('/s1/a/new.txt')).toString(), 'new', '--dry-run changed nothing')
  t.equal((await vol.readFile('/s1/top.txt')).toString(), 'top', '--dry-run deleted nothing')
  const text = await gts(['sync', '-n', '--delete', src, `${U}/s1`])
  t.equal(text.code, 0, text.err)
  t.equal(text.out, 'update a/new.txt (3 bytes)\ndelete logs/x.log (3 bytes)\ndelete top.txt (3 bytes)\ndelete logs/\n', 'the plan as text')
  t.match(text.err, /would transfer 1 files \(3 bytes: 0 new, 1 changed\), 0 directories made, 3 deleted, \d+ unchanged, 0 errors/)
  const del = await syncJson(['--delete', src, `${U}/s1`])
  t.same(byAction(del.acts), { update: ['a/new.txt'], delete: ['logs', 'logs/x.log', 'top.txt'] })
  t.same(await volumeTree('/s1'), await localTree(src), 'identical after --delete')
  for (const d of ['a', '.']) {
    t.equal(Math.floor((await vol.stat(`/s1/${d}`)).mtimeMs), Math.floor((await stat(join(src, d))).mtimeMs), `directory ${d}: the source's mtime, as rsync -a sets it`)
  }
})

t.test('volume → local and volume → volume', async t => {
  await vol.mkdir('/s2/d/e', { recursive: true })
  await vol.writeFile('/s2/d/e/f.txt', 'f')
  await vol.writeFile('/s2/g.txt', 'g'.repeat(3 << 20)) // streamed (over 1 MiB)
  await vol.symlink('d/e/f.txt', '/s2/lnk')
  // the embedded bricks each stamp their own mtime on a write (no ctime translator): one setattr
  // makes the three copies agree, as the real cluster's features.ctime keeps them
  for (const f of ['/s2/d/e/f.txt', '/s2/g.txt']) await vol.utimes(f, 1.7e9, 1.7e9)
  const dst = join(scratch(t), 'down')
  const r = await syncJson([`${U}/s2`, dst])
  t.equal(r.summary.copy, 3)
  t.same(await localTree(dst), await volumeTree('/s2'))
  t.equal(Math.floor((await stat(join(dst, 'g.txt'))).mtimeMs), Math.floor((await vol.stat('/s2/g.txt')).mtimeMs), 'mtime kept')
  t.same((await syncJson([`${U}/s2`, dst])).acts, [], 'and unchanged on the next run')
  const vv = await syncJson(['--transfers', '1', `${U}/s2`, `${U}/s2copy`])
  t.equal(vv.summary.copy, 3)
  t.same(await volumeTree('/s2copy'), await volumeTree('/s2'))
  t.same((await syncJson([`${U}/s2`, `${U}/s2copy`])).acts, [], 'volume to volume: unchanged on the next run')
})

t.test('a local symlink where the source now has a directory: refused, nothing written through it', async t => {
  const base = scratch(t)
  const outside = join(base, 'outside')
  await mkdir(outside)
  await tree(join(base, 'src'), { a: { link: outside } })
  await vol.mkdir('/s3')
  t.equal((await syncJson([join(base, 'src'), `${U}/s3/t`])).summary.copy, 1, 'the symlink goes up')
  const dst = join(base, 'down')
  t.equal((await syncJson([`${U}/s3/t`, dst])).summary.copy, 1, 'and comes down as a symlink')
  // the volume's 'a' becomes a directory holding a file: the next sync down meets the symlink
  await vol.unlink('/s3/t/a')
  await vol.mkdir('/s3/t/a')
  await vol.writeFile('/s3/t/a/x', 'x')
  const r = await gts(['sync', `${U}/s3/t`, dst])
  t.equal(r.code, 5, 'conflict status')
  t.match(r.err, /a directory in the source, a symlink in the destination/)
  t.same(await readdir(outside), [], 'nothing written where the symlink points')
  t.equal(await readlink(join(dst, 'a')), outside, 'the symlink left as it was')
})

t.test('--checksum sees a change that keeps size and mtime', async t => {
  const src = scratch(t)
  await tree(src, { 'f.txt': 'aaaa' })
  const when = new Date('2024-02-03T04:05:06.789Z')
  await utimes(join(src, 'f.txt'), when, when)
  await syncJson([src, `${U}/s3`])
  await writeFile(join(src, 'f.txt'), 'bbbb')
  await utimes(join(src, 'f.txt'), when, when)
  t.same((await syncJson([src, `${U}/s3`])).acts, [], 'size and mtime alike: not copied by default')
  const c = await syncJson(['--checksum', src, `${U}/s3`])
  t.same(byAction(c.acts), { update: ['f.txt'] })
  t.equal((await vol.readFile('/s3/f.txt')).toString(), 'bbbb')
  t.same((await syncJson(['--checksum', src, `${U}/s3`])).acts, [], 'then equal')
})

t.test('filters: excluded paths are neither copied nor deleted', async t => {
  const src = scratch(t)
  await tree(src, FILES)
  const r = await syncJson(['--exclude', 'logs/', '--exclude', '*.jpg', src, `${U}/s4`])
  t.notOk(r.acts.some(a => a.path.startsWith('logs') || a.path.endsWith('.jpg')), JSON.stringify(r.acts))
  t.equal(r.summary.copy, 6)
  await vol.writeFile('/s4/keep.jpg', 'k')
  const d = await syncJson(['--delete', '--filter', '- *.jpg', '--filter', '- logs/**', src, `${U}/s4`])
  t.same(d.acts.filter(a => a.action === 'delete'), [], 'keep.jpg is excluded: --delete leaves it')
  t.equal((await vol.readFile('/s4/keep.jpg')).toString(), 'k')
  const only = await syncJson(['--include', '*.jpg', src, `${U}/s4only`])
  t.same(byAction(only.acts), { mkdir: ['.', 'a', 'a/b', 'a/b/c', 'logs'], copy: ['a/b/c/four.jpg'] })
})

t.test('an interrupted run\'s leftovers are swept and never copied on', async t => {
  const src = scratch(t)
  await tree(src, { 'x.txt': 'x', '.gts-sync-0123456789ab.partial': 'half' })
  await vol.mkdir('/s5')
  await vol.writeFile('/s5/.gts-sync-aaaaaaaaaaaa.partial', 'half a file')
  const r = await syncJson(['--delete', src, `${U}/s5`])
  t.same(byAction(r.acts), { copy: ['x.txt'] }, 'the source\'s leftover is not copied; the destination\'s is not a delete action')
  t.equal(r.summary.swept, 1)
  t.same(await volumeTree('/s5'), { 'x.txt': 'x' }, 'swept')
})

t.test('deletes are held back when a copy failed', async t => {
  const src = scratch(t)
  await tree(src, { 'ok.txt': 'ok', 'clash': 'a file here' })
  await vol.mkdir('/s6/clash', { recursive: true })
  await vol.writeFile('/s6/extra.txt', 'extra')
  const r = await syncJson(['--delete', src, `${U}/s6`], 5)
  t.match(r.err, /^gluster-ts sync: clash: EISDIR: a file in the source, a directory in the destination/m)
  t.match(r.err, /not deleting 1 entry: 1 error before/)
  t.same(byAction(r.acts), { copy: ['ok.txt'] }, 'the rest is copied')
  t.equal(r.summary.ok, false)
  t.equal((await vol.readFile('/s6/extra.txt')).toString(), 'extra', 'nothing deleted')
})

t.test('bad input: the documented exit statuses', async t => {
  const src = scratch(t)
  await tree(src, { 'f.txt': 'f' })
  const cases: Array<[string[], number, RegExp]> = [
    [['sync', join(src, 'missing'), `${U}/x`], 3, /^gluster-ts sync: ENOENT: no such file or directory/],
    [['sync', `${U}/missing`, join(src, 'x')], 3, /ENOENT/],
    [['sync', join(src, 'f.txt'), `${U}/x`], 3, /ENOTDIR: source .* is not a directory/],
    [['sync', src, `${U}/s1/a/one.txt`], 3, /ENOTDIR: destination/],
    [['sync', '--exclude', '[abc', src, `${U}/x`], 2, /EUSAGE: invalid filter '\[abc': unclosed \[/],
    [['sync', '--filter', '*.jpg', src, `${U}/x`], 2, /EUSAGE: invalid filter '\*\.jpg': a --filter rule is/],
    [['sync', '--bwlimit', 'fast', src, `${U}/x`], 2, /EUSAGE: invalid --bwlimit 'fast'/],
    [['sync', '--retries', '-1', src, `${U}/x`], 2, /EUSAGE: invalid --retries/],
    [['sync', src], 2, /EUSAGE/],
    [['sync', `${U}/s1`, `${U}/s1/a/inside`], 5, /EINVAL: .* overlap/],
    [['sync', src, join(src, 'sub')], 5, /EINVAL/],
    [['sync', '--retries', '0', '--timeout', '2000', src, 'gluster://127.0.0.1:1/vol1/x'], 6, /^gluster-ts sync: EGLUSTER_/],
  ]
  for (const [args, code, msg] of cases) {
    const r = await gts(args)
    t.equal(r.code, code, `${args.join(' ')}: ${r.err}`)
    t.match(r.err, msg)
    t.equal(r.err.trim().split('\n').length, 1, 'one line')
  }
  const retried = await gts(['sync', '--retries', '1', '--timeout', '2000', src, 'gluster://127.0.0.1:1/vol1/x'])
  t.equal(retried.code, 6)
  t.match(retried.err, /try 2 of 2 in 0\.5 s/, 'unavailable: tried again after 0.5 s')
})

t.test('--bwlimit, --transfers and the progress bar: the same result', async t => {
  const src = scratch(t)
  const files: Record<string, string> = {}
  for (let i = 0; i < 12; i++) files[`f${i}.bin`] = String(i).repeat(4000)
  await tree(src, files)
  const r = await gts(['sync', '--bwlimit', '1M', '--transfers', '3', src, `${U}/s7`], { tty: true })
  t.equal(r.code, 0, r.err)
  t.match(r.err, /sync \[[#-]{24}\] \d+\/12 files /, 'the bar counts files')
  t.same(await volumeTree('/s7'), await localTree(src))
})

t.test('cp --resume --checksum: a wrong prefix is copied again, a right one continued', async t => {
  const src = scratch(t)
  const data = Buffer.alloc(3 << 20, 7)
  await writeFile(join(src, 'big.bin'), data)
  await vol.writeFile('/cpr-bad.bin', Buffer.alloc(1 << 20, 9))
  await vol.writeFile('/cpr-good.bin', data.subarray(0, 1 << 20))
  const plain = await gts(['cp', '--resume', '--json', join(src, 'big.bin'), `${U}/cpr-plain.bin`])
  t.equal(plain.code, 0, plain.err)
  await vol.writeFile('/cpr-plain.bin', Buffer.alloc(1 << 20, 9))
  const noCheck = await gts(['cp', '--resume', '--json', join(src, 'big.bin'), `${U}/cpr-plain.bin`])
  t.equal(JSON.parse(noCheck.out).bytes, 2 << 20, 'without --checksum the wrong prefix is trusted (by size)')
  const bad = await gts(['cp', '--resume', '--checksum', '--json', join(src, 'big.bin'), `${U}/cpr-bad.bin`])
  t.equal(bad.code, 0, bad.err)
  t.equal(JSON.parse(bad.out).bytes, 3 << 20, 'the wrong prefix: copied whole')
  t.ok((await vol.readFile('/cpr-bad.bin')).equals(data))
  const good = await gts(['cp', '--resume', '--checksum', '--json', join(src, 'big.bin'), `${U}/cpr-good.bin`])
  t.equal(JSON.parse(good.out).bytes, 2 << 20, 'the right prefix: continued')
  t.ok((await vol.readFile('/cpr-good.bin')).equals(data))
  await vol.writeFile('/cpr-same.bin', Buffer.alloc(3 << 20, 1))
  const same = await gts(['cp', '--resume', '--checksum', '--json', join(src, 'big.bin'), `${U}/cpr-same.bin`])
  t.equal(JSON.parse(same.out).bytes, 3 << 20, 'same size, other bytes: copied again')
  t.ok((await vol.readFile('/cpr-same.bin')).equals(data))
})

t.test('cp, ls and du take the same filters', async t => {
  const src = scratch(t)
  await tree(src, FILES)
  const r = await gts(['cp', '-r', '--exclude', '*.txt', '--exclude', 'logs/', src, `${U}/f1`])
  t.equal(r.code, 0, r.err)
  t.same(Object.keys(await volumeTree('/f1')), ['a', 'a/b', 'a/b/c', 'a/b/c/four.jpg', 'empty', 'link'])
  await gts(['cp', '-r', src, `${U}/f2`])
  const ls = await gts(['ls', '--include', '*.txt', `${U}/f2/a`])
  t.equal(ls.out, 'b\none.txt\ntwo.txt\n', 'ls: the included files, and the directories (no rule prunes b)')
  const lsR = await gts(['ls', '-R', '--exclude', 'b/', `${U}/f2/a`])
  t.notMatch(lsR.out, /three|four/)
  const du = await gts(['du', '-s', '--json', '--include', '*.jpg', `${U}/f2`])
  t.equal(JSON.parse(du.out)[0].files, 1, 'du counts only the included files')
  const bad = await gts(['ls', '--exclude', 'a{b', `${U}/f2`])
  t.equal(bad.code, 2)
})
