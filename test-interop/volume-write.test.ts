// packages/volume WRITES against the REAL GlusterFS 10 cluster (test-cluster/real): a tree (and a
// 1 GiB stream) written through our API reads back identical through the real FUSE client, every
// brick of the set holds the same gfid, `heal info` stays empty, and on vol2 each file sits on
// the subvolume the DHT hash of its parent's on-disk layout names. Rename/unlink/rmdir/truncate/
// chmod/utimes/setxattr checked from FUSE. One brick killed: writes go on, heal info lists
// exactly what we touched, and after `gluster volume heal` the three bricks are identical. One
// brick frozen (SIGSTOP): writes finish within the straggler deadline. Two bricks down: a typed
// quorum error and nothing written.
import t from 'tap'
import type { Test } from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readFile, readdir, lstat, readlink, rm } from 'node:fs/promises'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import { Volume } from '@gluster-ts/volume'
import { decodeLayoutXattr, makeLayout, hashedSubvol, DEFAULT_RSYNC_HASH_REGEX, type Layout } from '@gluster-ts/volume/internals'
import { loadRealCluster, type RealCluster } from '../test-cluster/real/index.js'
import { checkWriteOps } from './volume-write-checks.js'
import { acceptanceFiles, sha } from './volume-read-checks.js'

const exec = promisify(execFile)
const cluster = loadRealCluster()

async function xattrs (path: string): Promise<Map<string, string>> {
  const { stdout } = await exec('getfattr', ['-h', '-d', '-m', '.', '-e', 'hex', path])
  const m = new Map<string, string>()
  for (const l of stdout.split('\n')) {
    const i = l.indexOf('=')
    if (i > 0 && !l.startsWith('#')) m.set(l.slice(0, i), l.slice(i + 1))
  }
  return m
}

async function fileSha (path: string): Promise<string> {
  const h = createHash('sha256')
  for await (const c of createReadStream(path)) h.update(c as Buffer)
  return h.digest('hex')
}

/** Every file and directory under `dir` (relative paths), `.glusterfs` aside. */
async function walk (dir: string, rel = ''): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
    if (rel === '' && e.name === '.glusterfs') continue
    const p = rel === '' ? e.name : `${rel}/${e.name}`
    out.push(p)
    if (e.isDirectory()) out.push(...await walk(dir, p))
  }
  return out.sort()
}

/** What a brick holds under `top`: per path the type, mode, size, sha256 and gfid. */
async function brickState (brick: string, top: string): Promise<Map<string, string>> {
  const m = new Map<string, string>()
  for (const p of await walk(join(brick, top))) {
    const full = join(brick, top, p)
    const st = await lstat(full)
    const gfid = (await xattrs(full)).get('trusted.gfid') ?? '-'
    const body = st.isFile() ? await fileSha(full) : st.isSymbolicLink() ? await readlink(full) : ''
    m.set(p, `${st.mode.toString(8)} ${st.isDirectory() ? '' : st.size} ${body} ${gfid}`)
  }
  return m
}

async function waitFor (what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 1000))
  }
}

/** heal info entries (paths and <gfid:…>) per brick. */
async function healEntries (c: RealCluster, vol: string): Promise<string[][]> {
  const raw = (await c.healInfo(vol)).raw
  const out: string[][] = []
  for (const l of raw.split('\n')) {
    if (l.startsWith('Brick ')) out.push([])
    else if ((l.startsWith('/') || l.startsWith('<gfid:')) && out.length > 0) out[out.length - 1]!.push(l.trim())
  }
  return out
}

async function healAndWait (t: Test, c: RealCluster, vol: string): Promise<void> {
  await waitFor(`${vol} heal`, 180_000, async () => {
    await c.gl(1, 'volume', 'heal', vol).catch(() => '')
    const e = await healEntries(c, vol)
    return e.length > 0 && e.every(b => b.length === 0)
  })
  t.pass(`${vol}: heal info empty after gluster volume heal`)
}

if ('skip' in cluster) {
  t.test('volume writes against the real cluster', { skip: `real cluster not available: ${cluster.skip}` }, async () => {})
} else {
  const servers = cluster.nodes.map(n => n.ip)
  const top = `gts-write-${process.pid}`
  const bricksOf = (vol: string): string[] => cluster.volume(vol).bricks.map(b => b.path)

  /** The acceptance tree, written through OUR API. */
  async function writeTree (vol: Volume, base: string): Promise<Map<string, Buffer>> {
    const files = acceptanceFiles()
    for (const [p, d] of files) {
      await vol.mkdir(`${base}/${p}/..`, { recursive: true })
      await vol.writeFile(`${base}/${p}`, d)
    }
    await vol.symlink('small.txt', `${base}/link-rel`)
    await vol.symlink('../../small.txt', `${base}/a/b/link-up`)
    await vol.mkdir(`${base}/wide`)
    for (let i = 0; i < 100; i++) await vol.writeFile(`${base}/wide/f-${i}`, `${i}\n`)
    for (let i = 0; i < 100; i++) files.set(`wide/f-${i}`, Buffer.from(`${i}\n`))
    return files
  }

  for (const volName of ['vol1', 'vol2']) {
    t.test(`${volName}: a tree written through our API reads back identical through FUSE, same gfid on every brick, heal info empty`, async t => {
      const vol = await Volume.connect({ servers, volume: volName })
      t.teardown(() => vol.close())
      t.teardown(() => vol.rm(`/${top}`, { recursive: true, force: true }))
      await vol.rm(`/${top}`, { recursive: true, force: true })
      const files = await writeTree(vol, `/${top}`)
      // 1 GiB through createWriteStream, generated on the fly
      const GiB = 1 << 30
      const h = createHash('sha256')
      const seed = randomBytes(1 << 20)
      async function * gen (): AsyncGenerator<Buffer> {
        for (let i = 0; i < GiB >> 20; i++) {
          const c = Buffer.from(seed)
          c.writeUInt32BE(i, 0)
          h.update(c)
          yield c
        }
      }
      const t0 = performance.now()
      const ws = vol.createWriteStream(`/${top}/gib.bin`)
      await pipeline(Readable.from(gen()), ws)
      const secs = (performance.now() - t0) / 1000
      t.equal(ws.bytesWritten, GiB, '1 GiB acknowledged')
      t.comment(`${volName}: 1 GiB through createWriteStream in ${secs.toFixed(1)} s (${(1024 / secs).toFixed(0)} MiB/s)`)

      const mnt = await cluster.mount(volName)
      for (const [p, d] of files) {
        const got = await readFile(join(mnt, top, p))
        t.equal(sha(got), sha(d), `FUSE reads ${p}`)
      }
      t.equal(await fileSha(join(mnt, top, 'gib.bin')), h.digest('hex'), 'FUSE reads the 1 GiB file')
      t.equal(await readlink(join(mnt, top, 'link-rel')), 'small.txt', 'symlink from FUSE')
      t.same((await readdir(join(mnt, top, 'wide'))).length, 100, 'FUSE lists the directory')

      // on the bricks: the same gfid everywhere the file is; on vol2, only on the hashed subvolume
      const bricks = bricksOf(volName)
      const sets = volName === 'vol1' ? [bricks] : [bricks.slice(0, 3), bricks.slice(3, 6)]
      const dhtNames = sets.map((_, s) => `${volName}-replicate-${s}`)
      const layouts = new Map<string, Layout>()
      for (const p of [...files.keys(), 'gib.bin']) {
        const dir = p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : ''
        const name = p.slice(p.lastIndexOf('/') + 1)
        let expect = 0
        if (sets.length > 1) {
          let layout = layouts.get(dir)
          if (layout === undefined) {
            const ranges = await Promise.all(sets.map(async (set, s) => {
              const v = (await xattrs(join(set[0]!, top, dir))).get('trusted.glusterfs.dht')
              return decodeLayoutXattr(v === undefined ? undefined : Buffer.from(v.slice(2), 'hex'), s)
            }))
            layout = makeLayout(ranges)
            layouts.set(dir, layout)
            t.ok(layout.complete, `${dir || '/'}: complete layout on disk`)
          }
          expect = hashedSubvol(layout, name, { rsyncRegex: new RegExp(DEFAULT_RSYNC_HASH_REGEX), extraRegex: null })
        }
        const gfids = new Set<string>()
        for (const [s, set] of sets.entries()) {
          for (const b of set) {
            const x = await xattrs(join(b, top, p)).catch(() => undefined)
            if (s === expect) {
              t.ok(x !== undefined, `${p} on ${b}`)
              gfids.add(x?.get('trusted.gfid') ?? 'none')
              t.notOk([...(x?.keys() ?? [])].some(k => k.startsWith('trusted.afr.') && x!.get(k) !== '0x000000000000000000000000'), `${p} on ${b}: AFR changelog at zero`)
            } else {
              t.equal(x, undefined, `${p} not on ${b} (${dhtNames[s]}, not the hashed subvolume)`)
            }
          }
        }
        t.equal(gfids.size, 1, `${p}: one gfid on every brick of ${dhtNames[expect]}`)
      }
      const heal = await healEntries(cluster, volName)
      t.ok(heal.length > 0 && heal.every(b => b.length === 0), `${volName}: heal info shows no entries`)
    })
  }

  t.test('vol1: rename, unlink, rmdir, truncate, chmod, utimes, setxattr through our API, checked from FUSE', async t => {
    const vol = await Volume.connect({ servers, volume: 'vol1' })
    t.teardown(() => vol.close())
    const base = `/${top}-ops`
    t.teardown(() => vol.rm(base, { recursive: true, force: true }))
    await checkWriteOps(t, vol, await cluster.mount('vol1'), base)
    const heal = await healEntries(cluster, 'vol1')
    t.ok(heal.every(b => b.length === 0), 'heal info empty')
  })

  t.test('vol1: one brick killed: writes and renames go on, heal info lists them, heal makes the bricks identical', async t => {
    const vol = await Volume.connect({ servers, volume: 'vol1' })
    t.teardown(() => vol.close())
    const base = `/${top}-kill`
    t.teardown(() => vol.rm(base, { recursive: true, force: true }))
    await vol.mkdir(`${base}/sub`, { recursive: true })
    await vol.writeFile(`${base}/before`, 'written before the kill')
    let killed = false
    t.teardown(async () => { if (killed) await cluster.startBrick('vol1') })
    await cluster.killBrick(3, 'vol1')
    killed = true
    const victim = [...vol.bricks.values()][2]!
    await waitFor('our client to see brick 3 down', 30_000, async () => !victim.up)
    const big = randomBytes(3 << 20)
    await vol.writeFile(`${base}/new1`, big)
    await vol.writeFile(`${base}/sub/new2`, 'second')
    await vol.rename(`${base}/before`, `${base}/sub/after`)
    await vol.appendFile(`${base}/sub/after`, ' and appended while brick 3 was down')
    // heal info (the two bricks that stayed up) lists the entries we touched, nothing else;
    // asked before the brick returns: once it is back the self-heal daemon starts at once
    let heal: string[][] = []
    await waitFor('heal info to see the changes', 60_000, async () => {
      heal = await healEntries(cluster, 'vol1')
      return heal.length === 3 && heal[0]!.length > 0 && heal[1]!.length > 0
    })
    t.comment(`heal info with brick 3 down: ${JSON.stringify(heal)}`)
    const gfids = new Map<string, string>()
    for (const p of [base, `${base}/new1`, `${base}/sub`, `${base}/sub/new2`, `${base}/sub/after`]) gfids.set(`<gfid:${(await vol.stat(p)).gfid}>`, p)
    const ours = (e: string): string | undefined => gfids.has(e) ? gfids.get(e) : [...gfids.values()].includes(e) ? e : undefined
    for (const [i, entries] of heal.slice(0, 2).entries()) {
      for (const e of entries) t.ok(ours(e) !== undefined, `brick ${i + 1} lists ${e}: one of ours`)
      const named = new Set(entries.map(ours))
      for (const p of [base, `${base}/new1`, `${base}/sub`, `${base}/sub/after`]) t.ok(named.has(p), `brick ${i + 1} lists ${p}`)
    }
    await cluster.startBrick('vol1')
    killed = false
    await waitFor('brick 3 back', 60_000, async () => victim.up)
    await healAndWait(t, cluster, 'vol1')
    const bricks = bricksOf('vol1')
    const states = await Promise.all(bricks.map(b => brickState(b, base.slice(1))))
    t.same([...states[1]!], [...states[0]!], 'brick 2 == brick 1')
    t.same([...states[2]!], [...states[0]!], 'brick 3 == brick 1 after heal')
    t.equal(sha(await vol.readFile(`${base}/new1`) as Buffer), sha(big), 'content')
  })

  t.test('vol1: one brick frozen (SIGSTOP): writes finish within the straggler deadline, heal levels it after SIGCONT', async t => {
    const stragglerMs = 2000
    const vol = await Volume.connect({ servers, volume: 'vol1', writeStragglerMs: stragglerMs })
    t.teardown(() => vol.close())
    const base = `/${top}-frozen`
    t.teardown(() => vol.rm(base, { recursive: true, force: true }))
    await vol.mkdir(base)
    let frozen = false
    t.teardown(async () => { if (frozen) await cluster.contBrick(2, 'vol1') })
    await cluster.freezeBrick(2, 'vol1')
    frozen = true
    const times: number[] = []
    const data = randomBytes(2 << 20)
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now()
      await vol.writeFile(`${base}/f${i}`, data)
      times.push(performance.now() - t0)
    }
    const t0 = performance.now()
    await vol.rename(`${base}/f0`, `${base}/g0`)
    times.push(performance.now() - t0)
    t.comment(`with brick 2 frozen: writeFile 2 MiB ×5 then rename took ${times.map(x => x.toFixed(0)).join(', ')} ms (straggler deadline ${stragglerMs} ms)`)
    const deadline = 4 * stragglerMs + 3000
    for (const [i, ms] of times.entries()) t.ok(ms < deadline, `op ${i}: ${ms.toFixed(0)} ms < ${deadline} ms`)
    t.ok(times.slice(2).every(ms => ms < stragglerMs), 'once the brick is known slow, writes do not wait for it')
    await cluster.contBrick(2, 'vol1')
    frozen = false
    await healAndWait(t, cluster, 'vol1')
    const bricks = bricksOf('vol1')
    const states = await Promise.all(bricks.map(b => brickState(b, base.slice(1))))
    t.same([...states[1]!], [...states[0]!], 'the frozen brick is level after heal')
    t.same([...states[2]!], [...states[0]!], 'brick 3 == brick 1')
  })

  t.test('vol1: two bricks down: a typed quorum error and nothing written', async t => {
    const vol = await Volume.connect({ servers, volume: 'vol1' })
    t.teardown(() => vol.close())
    const base = `/${top}-quorum`
    t.teardown(() => vol.rm(base, { recursive: true, force: true }))
    await vol.mkdir(base)
    let down = false
    t.teardown(async () => { if (down) await cluster.startBrick('vol1') })
    await cluster.killBrick(2, 'vol1')
    await cluster.killBrick(3, 'vol1')
    down = true
    const kids = [...vol.bricks.values()]
    await waitFor('our client to see bricks 2 and 3 down', 30_000, async () => !kids[1]!.up && !kids[2]!.up)
    await t.rejects(vol.writeFile(`${base}/nope`, randomBytes(100_000)), { code: 'EGLUSTER_NO_QUORUM' }, 'writeFile: EGLUSTER_NO_QUORUM')
    await t.rejects(vol.mkdir(`${base}/nodir`), { code: 'EGLUSTER_NO_QUORUM' }, 'mkdir: EGLUSTER_NO_QUORUM')
    const b1 = bricksOf('vol1')[0]!
    t.same(await readdir(join(b1, base)), [], 'nothing on the brick that stayed up')
    const x = await xattrs(join(b1, base))
    t.notOk([...x.entries()].some(([k, v]) => k.startsWith('trusted.afr.') && v !== '0x000000000000000000000000'), 'no changelog marks on the parent')
    await cluster.startBrick('vol1')
    down = false
    await waitFor('bricks back', 60_000, async () => kids.every(k => k.up))
    const mnt = await cluster.mount('vol1')
    t.same(await readdir(join(mnt, base)), [], 'FUSE sees nothing')
    await rm(join(mnt, base, 'nope'), { force: true })
  })
}
