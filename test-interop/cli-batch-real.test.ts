// `gluster-ts batch` and `gluster-ts shell` (built) against the REAL GlusterFS 10 cluster, with the
// FUSE mount as the oracle: a batch of puts, cats and ls whose output and files match what FUSE
// shows; one volfile fetch and one connection per brick for the whole batch (counted in --trace:
// GETSPEC and SETVOLUME calls); a shell script of cd/put/get/mv/rm; a failing line's status and
// line number.
import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { realCliCluster, gts } from './cli-helpers.js'

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
const cluster = realCliCluster('gluster-ts batch against the real cluster')
if (cluster !== undefined) {
  const ips = cluster.nodes.map(n => n.ip)
  const top = `gts-cli-batch-${process.pid}`
  const work = await mkdtemp(join(tmpdir(), 'gts-cli-batch-'))
  t.teardown(async () => {
    await rm(work, { recursive: true, force: true })
    for (const v of ['vol1', 'vol2']) await rm(join(cluster.info.mounts[v] ?? `${cluster.root}/mnt/${v}`, top), { recursive: true, force: true })
  })

  for (const vol of ['vol1', 'vol2']) {
    t.test(`${vol}: a batch of puts, cats and ls, checked against the FUSE mount`, async t => {
      const mnt = join(await cluster.mount(vol), top)
      const U = `gluster://${ips.join(',')}/${vol}/${top}`
      const src = join(work, vol)
      await rm(src, { recursive: true, force: true })
      await mkdir(src, { recursive: true })
      const files: Record<string, Buffer> = {}
      for (let i = 0; i < 30; i++) files[`f${String(i).padStart(2, '0')}.txt`] = Buffer.from(`file ${i}\n`.repeat(i + 1))
      files['big.bin'] = randomBytes((1 << 20) + 7)
      files['with space.txt'] = Buffer.from('spaced\n')
      for (const [n, d] of Object.entries(files)) await writeFile(join(src, n), d)
      const names = Object.keys(files).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
      const lines = [
        '# made by cli-batch-real.test.ts',
        `mkdir -p ${U}/b`,
        ...names.map(n => `put '${join(src, n)}' '${U}/b/${n}'`),
        ...names.filter(n => n.endsWith('.txt')).map(n => `cat "${U}/b/${n}"`),
        `ls ${U}/b`,
      ]
      const script = join(work, `${vol}.gts`)
      await writeFile(script, lines.join('\n') + '\n')
      const r = await gts(['batch', '--trace', script], { timeoutMs: 240_000 })
      t.equal(r.code, 0, r.stderr.split('\n').filter(l => !l.startsWith('trace ')).join('\n'))
      const want = Buffer.concat([...names.filter(n => n.endsWith('.txt')).map(n => files[n]!), Buffer.from(names.join('\n') + '\n')])
      t.equal(r.stdout.toString(), want.toString(), 'the output of each command, in order')
      // one volume for the whole batch: one SETVOLUME per brick; one volfile fetch (which asks a
      // second server when the first is slow to answer: GETSPECs of one fetch, at most one per server)
      const calls = (proc: string): number => r.stderr.split('\n').filter(l => l.startsWith('trace → ') && l.includes(` ${proc} `)).length
      const bricks = cluster.info.volumes[vol]!.bricks.length
      t.equal(calls('SETVOLUME'), bricks, `one connection per brick (${bricks})`)
      t.ok(calls('GETSPEC') >= 1 && calls('GETSPEC') <= ips.length, `one volfile fetch (${calls('GETSPEC')} GETSPEC)`)
      // the FUSE mount is the oracle
      t.same((await readdir(join(mnt, 'b'))).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))), names, 'FUSE lists the same names')
      for (const n of names) t.equal(sha(await readFile(join(mnt, 'b', n))), sha(files[n]!), `FUSE reads ${n} as written`)
    })
  }

  t.test('vol1: a shell script on stdin (cd, put, get, mv, rm) against FUSE', async t => {
    const mnt = join(await cluster.mount('vol1'), top)
    const U = `gluster://${ips.join(',')}/vol1/${top}`
    const local = join(work, 'shell-local.txt')
    await writeFile(local, 'from the shell\n')
    const r = await gts(['shell', `${U}/`], {
      input: ['mkdir -p s/in', 'cd s', `put file:${local} in/`, 'mv in/shell-local.txt in/moved.txt', 'cat in/moved.txt',
        `get in/moved.txt file:${join(work, 'got.txt')}`, 'rm -r in', 'pwd', ''].join('\n'),
      timeoutMs: 120_000,
    })
    t.equal(r.code, 0, r.stderr)
    // pwd prints the canonical URL: every server with its port
    t.equal(r.stdout.toString(), `from the shell\ngluster://${ips.map(ip => `${ip}:24007`).join(',')}/vol1/${top}/s\n`)
    t.equal(await readFile(join(work, 'got.txt'), 'utf8'), 'from the shell\n', 'get')
    t.same(await readdir(join(mnt, 's')), [], 'FUSE: rm -r left s/ empty')
  })

  t.test('vol1: a failing line stops the batch with its status and line number', async t => {
    const U = `gluster://${ips.join(',')}/vol1/${top}`
    const r = await gts(['batch', '-'], { input: `mkdir -p ${U}/f\ncat ${U}/f/missing\nmkdir ${U}/f/after\n`, timeoutMs: 120_000 })
    t.equal(r.code, 3)
    t.match(r.stderr, /^gluster-ts cat: \S+\/f\/missing: ENOENT/m)
    t.match(r.stderr, /^gluster-ts batch: stdin:2: /m)
    const k = await gts(['batch', '--keep-going', '-'], { input: `cat ${U}/f/missing\nmkdir ${U}/f/after\n`, timeoutMs: 120_000 })
    t.equal(k.code, 3)
    const mnt = join(await cluster.mount('vol1'), top)
    t.same(await readdir(join(mnt, 'f')), ['after'], 'only --keep-going ran the line after the failure')
  })
}
