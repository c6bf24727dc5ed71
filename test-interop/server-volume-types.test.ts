// The real FUSE client on our distributed-replicate (2 x 3), arbiter (replica 3 arbiter 1) and
// dispersed (2+1, 4+2) volumes: a small read/write smoke test each, and where the files landed
// on the bricks (for disperse: fragment files of ⌈size/S⌉·512 bytes, which our own client
// decodes to the same bytes).
import t from 'tap'
import type { Test } from 'tap'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { fuseSkipReason, sh, withVolume } from './server-fuse-helpers.js'

t.setTimeout(300_000)

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

/** Write N files of varying sizes, read them back after dropping caches. */
async function smoke (t: Test, mnt: string, n: number): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>()
  fs.mkdirSync(path.join(mnt, 'd'))
  for (let i = 0; i < n; i++) {
    const data = Buffer.alloc(1 + ((i * 7919) % 300_000), i & 0xff)
    data.write(`file ${i}`)
    files.set(`d/f${i}`, data)
    fs.writeFileSync(path.join(mnt, `d/f${i}`), data)
  }
  await fs.promises.writeFile('/proc/sys/vm/drop_caches', '3').catch(() => {})
  let ok = 0
  for (const [name, data] of files) if (sha(fs.readFileSync(path.join(mnt, name))) === sha(data)) ok++
  t.equal(ok, n, `${n} files read back equal`)
  t.same(fs.readdirSync(path.join(mnt, 'd')).sort(), [...files.keys()].map(k => k.slice(2)).sort(), 'readdir lists them all')
  fs.renameSync(path.join(mnt, 'd/f0'), path.join(mnt, 'd/renamed'))
  t.ok(fs.readFileSync(path.join(mnt, 'd/renamed')).equals(files.get('d/f0')!), 'rename keeps the data')
  files.set('d/renamed', files.get('d/f0')!)
  files.delete('d/f0')
  return files
}

const reason = fuseSkipReason()
t.test('distributed-replicate 2 x 3', { skip: reason ?? false }, async t => {
  await withVolume(t, ['--replica', '3', '--distribute', '2', '--volume', 'dr'], async (c, mnt) => {
    t.equal(c.volume.bricks.length, 6)
    const files = await smoke(t, mnt, 40)
    // each file's data is on exactly one replica set, and on all three bricks of it
    const where = new Map<string, number[]>()
    for (const name of files.keys()) {
      const on = c.volume.bricks.map((b, i) => {
        const p = path.join(b.path, name)
        return fs.existsSync(p) && fs.statSync(p).size === files.get(name)!.length ? i : -1
      }).filter(i => i >= 0)
      where.set(name, on)
    }
    const sets = [...where.values()].map(on => on.join(','))
    t.ok(sets.every(s => s === '0,1,2' || s === '3,4,5'), 'every file is whole on the three bricks of one set')
    t.ok(sets.includes('0,1,2') && sets.includes('3,4,5'), 'both replica sets hold files')
    t.comment(`set 0: ${sets.filter(s => s === '0,1,2').length} files, set 1: ${sets.filter(s => s === '3,4,5').length}`)
    await sh('rm', ['-rf', path.join(mnt, 'd')])
    t.same(fs.readdirSync(mnt), [])
  })
})

t.test('replica 3 arbiter 1', { skip: reason ?? false }, async t => {
  await withVolume(t, ['--replica', '3', '--arbiter', '1', '--volume', 'arb'], async (c, mnt) => {
    const files = await smoke(t, mnt, 20)
    for (const [name, data] of files) {
      t.equal(fs.statSync(path.join(c.volume.bricks[0]!.path, name)).size, data.length, `${name} on data brick 0`)
      t.equal(fs.statSync(path.join(c.volume.bricks[1]!.path, name)).size, data.length, `${name} on data brick 1`)
      t.equal(fs.statSync(path.join(c.volume.bricks[2]!.path, name)).size, 0, `${name} on the arbiter: name only, no data`)
    }
    await sh('rm', ['-rf', path.join(mnt, 'd')])
    t.same(fs.readdirSync(mnt), [])
  })
})

for (const [n, r] of [[3, 1], [6, 2]] as const) {
  t.test(`disperse ${n} redundancy ${r}`, { skip: reason ?? false }, async t => {
    await withVolume(t, ['--disperse', String(n), '--redundancy', String(r), '--volume', `ec${n}`], async (c, mnt) => {
      t.equal(c.volume.bricks.length, n)
      const files = await smoke(t, mnt, 12)
      const S = 512 * (n - r)
      for (const [name, data] of files) {
        const sizes = c.volume.bricks.map(b => fs.statSync(path.join(b.path, name)).size)
        t.same(sizes, sizes.map(() => Math.ceil(data.length / S) * 512), `${name}: a fragment of ⌈${data.length}/${S}⌉·512 bytes on every brick`)
      }
      const { Volume } = await import('@gluster-ts/volume')
      const vol = await Volume.connect({ servers: `${c.host}:${c.port}`, volume: c.volume.name })
      t.teardown(() => vol.close())
      let same = 0
      for (const [name, data] of files) if (sha(await vol.readFile(`/${name}`) as Buffer) === sha(data)) same++
      t.equal(same, files.size, 'our client decodes what the FUSE client encoded')
      await vol.writeFile('/d/ours.bin', Buffer.alloc(100_000, 7))
      await fs.promises.writeFile('/proc/sys/vm/drop_caches', '3').catch(() => {})
      t.ok(fs.readFileSync(path.join(mnt, 'd/ours.bin')).equals(Buffer.alloc(100_000, 7)), 'and the FUSE client reads what ours wrote')
      await sh('rm', ['-rf', path.join(mnt, 'd')])
    })
  })
}
