// `gluster-ts sync` (packages/cli, built) against the REAL GlusterFS 10 cluster, with the FUSE mount
// as the oracle: a 2,000-file tree both ways, then 10 changed, 5 deleted, 5 new files: only those
// 20 are transferred and --delete leaves the trees identical (diff -r); --dry-run changes nothing;
// filters; a sync interrupted by SIGINT leaves no partial file under a real name, and the re-run
// finishes the job.
import t from 'tap'
import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, readdir, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { realCliCluster, gts, gtsSpawn, until, walk } from './cli-helpers.js'

const exec = promisify(execFile)
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
/** the FUSE client caches attributes for 1 s: wait that out before it checks what we changed */
const fuseSettle = (): Promise<void> => new Promise(r => setTimeout(r, 1200))

interface Act { path: string, action: string, bytes: number }
interface Summary { copy: number, update: number, delete: number, mkdir: number, unchanged: number, errors: number, swept: number }

async function sync (args: string[]): Promise<{ acts: Act[], summary: Summary }> {
  const r = await gts(['sync', '--json', ...args], { timeoutMs: 900_000 })
  if (r.code !== 0) throw new Error(`sync ${args.join(' ')}: exit ${r.code}: ${r.stderr}`)
  const lines = r.stdout.toString().trim().split('\n').map(l => JSON.parse(l) as Act | { summary: Summary })
  const last = lines.pop() as { summary: Summary }
  return { acts: lines as Act[], summary: last.summary }
}
const pick = (acts: Act[], action: string): string[] => acts.filter(a => a.action === action).map(a => a.path).sort()
async function diffR (a: string, b: string): Promise<string> {
  return await exec('diff', ['-r', '--no-dereference', a, b], { maxBuffer: 1 << 24 }).then(() => '', (e: { stdout: string, stderr: string }) => e.stdout + e.stderr)
}

/** 2,000 files in 20 directories (4 with a nested one), sizes 0-20 KB, fixed mtimes; one symlink */
async function makeTree (src: string): Promise<void> {
  for (let d = 0; d < 20; d++) {
    await mkdir(join(src, `d${d}`, d % 5 === 0 ? 'nested' : ''), { recursive: true })
    await Promise.all(Array.from({ length: 100 }, async (_, f) => {
      const p = join(src, `d${d}`, d % 5 === 0 && f % 2 === 0 ? 'nested' : '', `f${f}.bin`)
      await writeFile(p, randomBytes((d * 100 + f) % 7 === 0 ? 0 : (d * 997 + f * 131) % 20000))
      await utimes(p, new Date(Date.UTC(2020, 0, 1 + f)), new Date(Date.UTC(2021, d % 12, 1 + (f % 28), 12, 0, 0, 250)))
    }))
  }
  const { symlink } = await import('node:fs/promises')
  await symlink('d1/f1.bin', join(src, 'link'))
}

/** 10 changed (5 same size, other bytes and mtime; 5 longer), 5 deleted, 5 new: the 20 paths */
async function change (root: string, seed: number): Promise<{ update: string[], delete: string[], copy: string[] }> {
  const update = Array.from({ length: 10 }, (_, i) => `d${(i * 2 + seed) % 20}/f${(i * 7 + seed) % 100}.bin`)
    .map(p => p.replace(/^(d(?:0|5|10|15))\/f(\d*[02468])\.bin$/, '$1/nested/f$2.bin'))
  const del = Array.from({ length: 5 }, (_, i) => `d${(i * 3 + 1 + seed) % 20}/f${(i * 11 + 50 + seed) % 100}.bin`)
    .map(p => p.replace(/^(d(?:0|5|10|15))\/f(\d*[02468])\.bin$/, '$1/nested/f$2.bin'))
  const copy = Array.from({ length: 5 }, (_, i) => `d${(i * 4) % 20}/new-${seed}-${i}.bin`)
  for (const [i, p] of update.entries()) {
    const old = await readFile(join(root, p))
    await writeFile(join(root, p), i < 5 && old.length > 0 ? Buffer.from(old.map(b => b ^ 0xff)) : Buffer.concat([old, randomBytes(100)]))
    await utimes(join(root, p), new Date(Date.UTC(2022, 5, 1)), new Date(Date.UTC(2022, 5, 1 + i, 0, 0, 0, 500)))
  }
  for (const p of del) await unlink(join(root, p))
  for (const p of copy) await writeFile(join(root, p), randomBytes(1000))
  return { update: update.sort(), delete: del.sort(), copy: copy.sort() }
}

const cluster = realCliCluster('gluster-ts sync against the real cluster')
if (cluster !== undefined) {
  const ips = cluster.nodes.map(n => n.ip)
  const top = `gts-sync-${process.pid}`
  const U = `gluster://${ips[0]},${ips[1]}:24007/vol1/${top}`
  let mnt = ''
  let dir = ''
  t.before(async () => {
    mnt = join(await cluster.mount('vol1'), top)
    await rm(mnt, { recursive: true, force: true })
    await mkdir(mnt)
    dir = await mkdtemp(join(tmpdir(), 'gts-sync-real-'))
  })
  t.teardown(async () => {
    await rm(mnt, { recursive: true, force: true })
    await rm(dir, { recursive: true, force: true })
  })

  t.test('2,000 files up, then only the 20 changed, deleted and new; --delete leaves the trees identical', async t => {
    const src = join(dir, 'up')
    await makeTree(src)
    const first = await sync([src, `${U}/up`])
    t.equal(first.summary.copy, 2001, '2,000 files and a symlink')
    t.equal(first.summary.errors, 0)
    t.equal(await diffR(src, join(mnt, 'up')), '', 'diff -r local vs FUSE: identical')
    const again = await sync([src, `${U}/up`])
    t.same(again.acts, [], 'a second run transfers nothing')
    t.equal(again.summary.unchanged, 2001)

    const want = await change(src, 0)
    const dry = await sync(['--dry-run', '--delete', src, `${U}/up`])
    t.same({ update: pick(dry.acts, 'update'), delete: pick(dry.acts, 'delete'), copy: pick(dry.acts, 'copy') }, want, 'the plan: exactly the 20')
    t.equal(dry.acts.length, 20)
    // had --dry-run copied anything, the next run would not find all 15 to do
    const noDel = await sync([src, `${U}/up`])
    t.same({ update: pick(noDel.acts, 'update'), copy: pick(noDel.acts, 'copy') }, { update: want.update, copy: want.copy }, 'without --delete: the 15 copies only (--dry-run changed nothing)')
    t.equal(pick(noDel.acts, 'delete').length, 0)
    await fuseSettle()
    for (const p of want.delete) t.ok((await stat(join(mnt, 'up', p))).isFile(), `${p}: still on the volume`)
    const del = await sync(['--delete', src, `${U}/up`])
    t.same(del.acts.map(a => a.action), ['delete', 'delete', 'delete', 'delete', 'delete'], 'then only the 5 deletions')
    t.same(pick(del.acts, 'delete'), want.delete)
    await fuseSettle()
    t.equal(await diffR(src, join(mnt, 'up')), '', 'diff -r after --delete: identical')
    t.same(await walk(join(mnt, 'up')), await walk(src), 'mtimes (ms) and sizes too, as the FUSE mount shows them')
  })

  t.test('2,000 files down, then only the 20 changed on the volume', async t => {
    const back = join(dir, 'down')
    const first = await sync([`${U}/up`, back])
    t.equal(first.summary.copy, 2001)
    t.equal(await diffR(join(mnt, 'up'), back), '', 'diff -r FUSE vs local: identical')
    const want = await change(join(mnt, 'up'), 1) // through FUSE, as another client would
    await fuseSettle()
    const r = await sync(['--delete', `${U}/up`, back])
    t.same({ update: pick(r.acts, 'update'), delete: pick(r.acts, 'delete'), copy: pick(r.acts, 'copy') }, want, 'only the 20')
    t.equal(r.acts.length, 20)
    t.equal(await diffR(join(mnt, 'up'), back), '', 'diff -r: identical')
  })

  t.test('filters: excluded paths are not copied, and --delete keeps them', async t => {
    const src = join(dir, 'fl')
    for (const p of ['d1/a.bin', 'd1/b.bin', 'd2/f1.bin', 'd2/f10.bin', 'd2/f2.bin', 'd3/nested/x.bin', 'd3/y.bin', 'top.bin']) {
      await mkdir(join(src, p, '..'), { recursive: true })
      await writeFile(join(src, p), randomBytes(100))
    }
    const r = await sync(['--exclude', 'd1/**', '--exclude', 'nested/', '--filter', '+ d2/f1*.bin', '--filter', '- d2/**', src, `${U}/filtered`])
    const copied = pick(r.acts, 'copy')
    t.same(copied, ['d2/f1.bin', 'd2/f10.bin', 'd3/y.bin', 'top.bin'], 'd1 and nested left out; d2: only f1*.bin')
    await fuseSettle()
    const onMount = (await walk(join(mnt, 'filtered'))).filter(e => e.type !== 'dir').map(e => e.rel).sort()
    t.same(onMount, copied, 'the mount holds exactly what was copied')
    await writeFile(join(mnt, 'filtered', 'd2', 'mine.txt'), 'not in the source, but excluded')
    await fuseSettle()
    const d = await sync(['--delete', '--exclude', 'd1/**', '--exclude', 'nested/', '--filter', '+ d2/f1*.bin', '--filter', '- d2/**', src, `${U}/filtered`])
    t.same(d.acts, [], '--delete leaves the excluded d2/mine.txt')
    t.equal(await readFile(join(mnt, 'filtered', 'd2', 'mine.txt'), 'utf8'), 'not in the source, but excluded')
  })

  t.test('SIGINT mid-sync: no partial file under a real name; the re-run finishes the job', async t => {
    const src = join(dir, 'big')
    await mkdir(src)
    const files: Record<string, string> = {}
    for (let i = 0; i < 16; i++) {
      const data = randomBytes(2 << 20)
      await writeFile(join(src, `b${i}.bin`), data)
      files[`b${i}.bin`] = sha(data)
    }
    // 4 MiB/s over 32 MiB: about 8 s, interrupted after a few files
    const p = gtsSpawn(['sync', '--bwlimit', '4M', '--transfers', '4', src, `${U}/big`])
    t.teardown(() => { if (p.proc.exitCode === null) p.proc.kill('SIGKILL') })
    await until('a file or two synced', 120_000, async () => {
      const names = await readdir(join(mnt, 'big')).catch(() => [] as string[])
      return names.filter(n => n.endsWith('.bin')).length >= 2 || p.proc.exitCode !== null
    })
    p.proc.kill('SIGINT')
    t.equal(await p.exited, 130, p.stderr())
    await fuseSettle()
    const names = await readdir(join(mnt, 'big'))
    const complete = names.filter(n => n.endsWith('.bin'))
    t.ok(complete.length < 16, `interrupted before the end (${complete.length} of 16 in place)`)
    for (const n of complete) t.equal(sha(await readFile(join(mnt, 'big', n))), files[n], `${n}: under its real name only when complete`)
    const r = await sync([src, `${U}/big`])
    t.equal(r.summary.copy, 16 - complete.length, 'the re-run copies the rest')
    await fuseSettle()
    t.same((await readdir(join(mnt, 'big'))).sort(), Object.keys(files).sort(), 'no temporary file left')
    t.equal(await diffR(src, join(mnt, 'big')), '', 'diff -r: identical')
  })
}
