// Issue 6 acceptance ("… read (and, once it exists, write) interop suite passes against our
// server"): packages/volume WRITES into OUR server, checked through the REAL FUSE client mounted
// on it and on the brick directories: a tree (+ a 64 MiB stream) on replica 3 and 2 x 3, the
// same bytes on every brick of the set that holds each file; rename/unlink/rmdir/truncate/chmod/
// utimes/setxattr seen from FUSE; one brick process SIGKILLed: writes go on (quorum 2 of 3).
// What volume-write.test.ts checks only a real GlusterFS has (trusted.gfid on the bricks, heal
// info, self-heal) is not here: our bricks keep gfids in their sidecar and do not heal.
import t from 'tap'
import type { Test } from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import { readFile, readdir, readlink, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Volume } from '@gluster-ts/volume'
import { fuseSkipReason, waitFor, mount, umount, startChildCluster } from './server-fuse-helpers.js'
import type { ChildCluster } from './server-fuse-helpers.js'
import { acceptanceFiles } from './volume-read-checks.js'
import { checkWriteOps } from './volume-write-checks.js'

t.setTimeout(900_000)

const reason = fuseSkipReason()
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

async function serve (t: Test, name: string, args: string[]): Promise<{ c: ChildCluster, mnt: string, vol: Volume }> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), `gts-svw-${name}-`))
  const mnt = path.join(base, 'mnt')
  fs.mkdirSync(mnt)
  const c = await startChildCluster(path.join(base, 'cluster'), ['--volume', name, ...args])
  t.teardown(async () => {
    await umount(mnt).catch(() => {})
    await c.close()
    if (process.env.GTS_KEEP === undefined) fs.rmSync(base, { recursive: true, force: true })
  })
  const vol = await Volume.connect({ servers: [`${c.host}:${c.port}`], volume: name })
  t.teardown(() => vol.close())
  await mount(c, mnt, path.join(base, 'fuse.log'))
  return { c, mnt, vol }
}

t.test('our server: volume write checks', { skip: reason ?? false }, async t => {
  for (const [name, args, sets] of [['vol1', ['--replica', '3'], 1], ['vol2', ['--replica', '3', '--distribute', '2'], 2]] as const) {
    await t.test(`${name} (${args.join(' ')}): a tree written through our API reads back identical through FUSE and on the bricks`, async t => {
      const { c, mnt, vol } = await serve(t, name, [...args])
      const files = acceptanceFiles()
      for (const [p, d] of files) {
        await vol.mkdir(`/${p}/..`, { recursive: true })
        await vol.writeFile(`/${p}`, d)
      }
      await vol.symlink('small.txt', '/link-rel')
      await vol.mkdir('/wide')
      for (let i = 0; i < 100; i++) {
        await vol.writeFile(`/wide/f-${i}`, `${i}\n`)
        files.set(`wide/f-${i}`, Buffer.from(`${i}\n`))
      }
      const big = randomBytes(64 << 20)
      const ws = vol.createWriteStream('/stream.bin')
      await pipeline(Readable.from((function * () { for (let o = 0; o < big.length; o += 1 << 20) yield big.subarray(o, o + (1 << 20)) })()), ws)
      files.set('stream.bin', big)
      // the FUSE client must not have cached anything of these: drop its caches
      await fs.promises.writeFile('/proc/sys/vm/drop_caches', '3').catch(() => {})
      for (const [p, d] of files) t.equal(sha(await readFile(path.join(mnt, p))), sha(d), `FUSE reads ${p}`)
      t.equal(await readlink(path.join(mnt, 'link-rel')), 'small.txt', 'symlink from FUSE')
      t.equal((await readdir(path.join(mnt, 'wide'))).length, 100, 'FUSE lists the directory')
      // each file whole on every brick of exactly one replica set
      const bricks = c.volume.bricks.map(b => b.path)
      for (const [p, d] of files) {
        const holders = bricks.map((b, i) => fs.existsSync(path.join(b, p)) ? i : -1).filter(i => i >= 0)
        const set = Math.floor(holders[0]! / 3)
        t.same(holders, [0, 1, 2].map(k => set * 3 + k), `${p}: on the 3 bricks of replica set ${set}`)
        for (const i of holders) t.ok(fs.readFileSync(path.join(bricks[i]!, p)).equals(d), `${p} on brick ${i}`)
      }
      if (sets === 2) {
        const perSet = [0, 1].map(s => [...files.keys()].filter(p => fs.existsSync(path.join(bricks[s * 3]!, p))).length)
        t.ok(perSet.every(n => n > 0), `files spread over both sets (${perSet.join(' + ')})`)
      }
    })
  }

  await t.test('vol1: rename, unlink, rmdir, truncate, chmod, utimes, setxattr through our API, checked from FUSE', async t => {
    const { mnt, vol } = await serve(t, 'vol1', ['--replica', '3'])
    await checkWriteOps(t, vol, mnt, '/ops')
  })

  await t.test('vol1, brick processes: one brick SIGKILLed: writes and renames go on and read back through FUSE', async t => {
    const { c, mnt, vol } = await serve(t, 'vol1', ['--replica', '3', '--brick-processes'])
    await vol.writeFile('/before', 'before\n')
    const pid = c.brickPids.get(2)!
    process.kill(pid, 'SIGKILL')
    await waitFor('our client to see brick 2 down', 20_000, () => ![...vol.bricks.values()][2]!.up)
    const data = randomBytes(2 << 20)
    await vol.writeFile('/during', data)
    await vol.rename('/before', '/renamed')
    await vol.mkdir('/dir-during')
    t.equal(sha(await readFile(path.join(mnt, 'during'))), sha(data), 'FUSE reads what was written with a brick down')
    t.equal(await readFile(path.join(mnt, 'renamed'), 'utf8'), 'before\n')
    t.ok((await stat(path.join(mnt, 'dir-during'))).isDirectory())
    t.notOk(fs.existsSync(path.join(c.volume.bricks[2]!.path, 'during')), 'the dead brick missed it')
    for (const i of [0, 1]) t.ok(fs.readFileSync(path.join(c.volume.bricks[i]!.path, 'during')).equals(data), `brick ${i} has it`)
  })
})
