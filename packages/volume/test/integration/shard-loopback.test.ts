// Sharded volumes (features/shard, 4 MB blocks) through our client against our own server on
// 127.0.0.1: the golden layout of captures/volume-types/shard-4MB rebuilt byte for byte (the
// base file and every block file hash as on the real cluster's bricks), holes read as zeros,
// whole-file sizes in stat and readdir, shard's own xattrs and /.shard hidden, truncate down,
// up and to an exact multiple of the block size (where GlusterFS 10.3 loses the last block and
// we keep it), unlink and rename-over leaving no block behind once the background deletion ran,
// streams and pipeTo across blocks, and names in /.shard placed by DHT on a 2 x 3 volume.
import t from 'tap'
import { createHash } from 'node:crypto'
import { readFile, readdir, stat as fsStat } from 'node:fs/promises'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { startCluster } from '../../../../test-cluster/ts-cluster.js'
import { Volume } from '../../src/index.js'
import { pat } from '../../../../test-cluster/pattern.js'

const MiB = 1 << 20
const BS = 4 * MiB
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
const FIX = new URL('../fixtures/shard-4MB/', import.meta.url)
/** name → sha256 of the backend files on the real cluster's bricks (identical on all three) */
async function golden (): Promise<Map<string, { size: number, sha?: string }>> {
  const m = new Map<string, { size: number, sha?: string }>()
  for (const line of (await readFile(new URL('backend-files.txt', FIX), 'utf8')).split('\n')) {
    const [brick, name, size, h] = line.trim().split(/\s+/)
    if (brick !== 'brick1' || name === undefined) continue
    m.set(name, { size: Number(size), ...(h !== undefined ? { sha: h } : {}) })
  }
  return m
}
async function expected (name: string): Promise<string> {
  const line = (await readFile(new URL('sha256s.txt', FIX), 'utf8')).split('\n').find(l => l.endsWith(`  ${name}`))
  return line!.split(/\s+/)[0]!
}
const exists = (p: string): Promise<boolean> => fsStat(p).then(() => true, () => false)

t.test('replica 3, 4 MB shards: the golden layout, holes, sizes, hidden internals', async t => {
  const c = await startCluster({ dir: t.testdir(), replica: 3, port: 0, shardBlockSize: '4MB' })
  t.teardown(() => c.close())
  const vol = await Volume.connect({ servers: c.volfileServer, volume: c.volume.name })
  t.teardown(() => vol.close())
  t.equal(vol.graph.root.kind, 'shard', 'the graph runs features/shard')
  const bricks = c.volume.bricks.map(b => b.path)
  const g = await golden()

  // vm.img as captured: pat(10485883, 3), then pat(5000, 9) at 4 MiB − 2000 (across blocks 0|1)
  const vm = pat(10485883, 3)
  await vol.writeFile('/vm.img', vm)
  const fh = await vol.open('/vm.img', 'r+')
  await fh.write(pat(5000, 9), 0, 5000, BS - 2000)
  await fh.close()
  pat(5000, 9).copy(vm, BS - 2000)
  t.equal(sha(vm), await expected('exp-shard.bin'), 'the expected content (sha256s.txt exp-shard.bin)')
  t.equal(sha(await vol.readFile('/vm.img') as Buffer), sha(vm), 'reads back identical')
  const st = await vol.stat('/vm.img')
  t.equal(st.size, 10485883, 'stat: the whole file\'s size')
  const gfid = st.gfid
  for (const b of bricks) {
    const base = await readFile(join(b, 'vm.img'))
    t.equal(base.length, g.get('vm.img')!.size, `brick ${bricks.indexOf(b)}: base file = block 0`)
    t.equal(sha(base), g.get('vm.img')!.sha, `brick ${bricks.indexOf(b)}: base file bytes as on the real bricks`)
    for (const n of [1, 2]) {
      const f = await readFile(join(b, '.shard', `${gfid}.${n}`))
      const want = g.get(`28c1cb5a-b1ed-430c-846b-85cfbd482d4e.${n}`)!
      t.equal(f.length, want.size, `brick ${bricks.indexOf(b)}: block ${n} size`)
      t.equal(sha(f), want.sha, `brick ${bricks.indexOf(b)}: block ${n} bytes as on the real bricks`)
    }
  }

  // sparse.img as captured: truncate -s 20M, then "tail" at 13 MiB: only block 3 exists
  await vol.writeFile('/sparse.img', '')
  await vol.truncate('/sparse.img', 20 * MiB)
  const sh = await vol.open('/sparse.img', 'r+')
  await sh.write(Buffer.from('tail'), 0, 4, 13 * MiB)
  await sh.close()
  const sparseGfid = (await vol.stat('/sparse.img')).gfid
  for (const b of bricks) {
    t.equal((await fsStat(join(b, 'sparse.img'))).size, 0, `brick ${bricks.indexOf(b)}: sparse base file empty`)
    const f = await readFile(join(b, '.shard', `${sparseGfid}.3`))
    t.equal(sha(f), g.get('d1630ef7-4271-4fc8-87dd-37726544fa66.3')!.sha, `brick ${bricks.indexOf(b)}: sparse block 3 as on the real bricks`)
    for (const n of [1, 2, 4]) t.notOk(await exists(join(b, '.shard', `${sparseGfid}.${n}`)), `brick ${bricks.indexOf(b)}: hole block ${n} not made`)
  }
  const sparse = await vol.readFile('/sparse.img') as Buffer
  const want = Buffer.alloc(20 * MiB)
  want.write('tail', 13 * MiB)
  t.equal(sparse.length, 20 * MiB)
  t.ok(sparse.equals(want), 'holes read as zeros')
  for (const b of bricks) for (const n of [1, 2, 4]) t.notOk(await exists(join(b, '.shard', `${sparseGfid}.${n}`)), `brick ${bricks.indexOf(b)}: reading holes made no block ${n}`)

  // what users see of the internals
  t.same((await vol.readdir('/')).sort(), ['sparse.img', 'vm.img'], '/.shard hidden in the root listing')
  const ents = await vol.readdir('/', { withFileTypes: true, stats: true })
  t.same(ents.map(e => [e.name, e.stats?.size]).sort(), [['sparse.img', 20 * MiB], ['vm.img', 10485883]], 'readdir sizes of the whole files')
  await t.rejects(vol.stat('/.shard'), { code: 'EPERM' }, '/.shard cannot be looked up')
  t.notOk((await vol.listxattr('/vm.img')).some(k => k.includes('shard')), 'shard xattrs not listed')
  await t.rejects(vol.getxattr('/vm.img', 'trusted.glusterfs.shard.file-size'), { code: 'ENODATA' })
  await t.rejects(vol.setxattr('/vm.img', 'trusted.glusterfs.shard.file-size', Buffer.alloc(32)), { code: 'EPERM' })

  // streams and pipeTo across blocks, from an offset inside block 1 to inside block 2
  const parts: Buffer[] = []
  for await (const chunk of vol.createReadStream('/vm.img', { start: BS + 100, end: 2 * BS + 5000 })) parts.push(chunk as Buffer)
  t.ok(Buffer.concat(parts).equals(vm.subarray(BS + 100, 2 * BS + 5001)), 'createReadStream across a block boundary')
  const got: Buffer[] = []
  const sink = new Writable({ write (c: Buffer, _e, cb) { got.push(Buffer.from(c)); cb() } })
  const n = await vol.pipeTo('/vm.img', sink, { window: 6 })
  t.equal(n, vm.length)
  t.equal(sha(Buffer.concat(got)), sha(vm), 'pipeTo with several blocks in flight')
  const h = await vol.open('/vm.img')
  const into = Buffer.alloc(3 * MiB)
  const { bytesRead } = await h.read(into, 0, into.length, BS - MiB)
  t.equal(bytesRead, into.length)
  t.ok(into.equals(vm.subarray(BS - MiB, BS + 2 * MiB)), 'FileHandle.read into one buffer across blocks')
  await h.close()
})

t.test('truncate down, to an exact block multiple, up; unlink and rename leave no block', async t => {
  const c = await startCluster({ dir: t.testdir(), replica: 3, port: 0, shardBlockSize: '4MB' })
  t.teardown(() => c.close())
  const vol = await Volume.connect({ servers: c.volfileServer, volume: c.volume.name })
  t.teardown(() => vol.close())
  const bricks = c.volume.bricks.map(b => b.path)
  const blocksOf = async (gfid: string): Promise<string[]> => (await readdir(join(bricks[0]!, '.shard'))).filter(n => n.startsWith(gfid)).sort()

  const ten = pat(10 * MiB, 5)
  await vol.writeFile('/t.bin', ten)
  const gfid = (await vol.stat('/t.bin')).gfid
  t.same(await blocksOf(gfid), [`${gfid}.1`, `${gfid}.2`])

  // the case GlusterFS 10.3 gets wrong: to exactly one block, whose bytes must stay
  await vol.truncate('/t.bin', BS)
  t.equal((await vol.stat('/t.bin')).size, BS)
  t.ok((await vol.readFile('/t.bin') as Buffer).equals(ten.subarray(0, BS)), 'truncate to 4 MiB keeps the first 4 MiB')
  t.same(await blocksOf(gfid), [], 'blocks past the end removed')
  for (const b of bricks) t.equal((await fsStat(join(b, 't.bin'))).size, BS, `brick ${bricks.indexOf(b)}: block 0 kept whole`)

  await vol.writeFile('/t.bin', ten)
  await vol.truncate('/t.bin', 2 * BS)
  t.ok((await vol.readFile('/t.bin') as Buffer).equals(ten.subarray(0, 2 * BS)), 'truncate to 8 MiB keeps block 1 whole')
  t.same(await blocksOf(gfid), [`${gfid}.1`])
  await vol.truncate('/t.bin', 5 * MiB + 7)
  t.ok((await vol.readFile('/t.bin') as Buffer).equals(ten.subarray(0, 5 * MiB + 7)), 'truncate down inside block 1')
  await vol.truncate('/t.bin', 9 * MiB)
  const up = await vol.readFile('/t.bin') as Buffer
  t.equal(up.length, 9 * MiB)
  t.ok(up.subarray(0, 5 * MiB + 7).equals(ten.subarray(0, 5 * MiB + 7)) && up.subarray(5 * MiB + 7).every(x => x === 0), 'truncate up: a hole of zeros')
  t.same(await blocksOf(gfid), [`${gfid}.1`], 'truncate up makes no block')

  // ftruncate through a handle, and 'w' on an existing sharded file
  const fh = await vol.open('/t.bin', 'r+')
  await fh.truncate(3)
  await fh.close()
  t.same(await vol.readFile('/t.bin'), ten.subarray(0, 3))
  t.same(await blocksOf(gfid), [])
  await vol.writeFile('/t.bin', ten)
  await vol.writeFile('/t.bin', 'short')
  t.equal((await vol.readFile('/t.bin')).toString(), 'short', "'w' truncates a sharded file")
  t.same(await blocksOf(gfid), [])

  // unlink: the base file goes at once, the blocks once the background deletion ran
  await vol.writeFile('/u.bin', ten)
  const ug = (await vol.stat('/u.bin')).gfid
  t.equal((await blocksOf(ug)).length, 2)
  await vol.unlink('/u.bin')
  await t.rejects(vol.stat('/u.bin'), { code: 'ENOENT' })
  await vol.settled()
  t.same(await blocksOf(ug), [], 'unlink: every block deleted')
  t.same(await readdir(join(bricks[0]!, '.shard', '.remove_me')), [], 'no marker left')

  // rename over a sharded file: the victim's blocks go
  await vol.writeFile('/a.bin', pat(6 * MiB, 1))
  await vol.writeFile('/b.bin', ten)
  const bg = (await vol.stat('/b.bin')).gfid
  await vol.rename('/a.bin', '/b.bin')
  await vol.settled()
  t.ok((await vol.readFile('/b.bin') as Buffer).equals(pat(6 * MiB, 1)), 'the renamed file reads back')
  t.same(await blocksOf(bg), [], 'the replaced file\'s blocks deleted')
  t.equal((await blocksOf((await vol.stat('/b.bin')).gfid)).length, 1, 'the renamed file keeps its block')
  t.same(await readdir(join(bricks[0]!, '.shard', '.remove_me')), [])

  // a hard-linked sharded file keeps its blocks when one name goes
  await vol.link('/b.bin', '/c.bin')
  await vol.unlink('/b.bin')
  await vol.settled()
  t.ok((await vol.readFile('/c.bin') as Buffer).equals(pat(6 * MiB, 1)), 'the other link still reads every block')
})

// a stream's own abort signal goes with every fop it has in flight: a window of writes or
// reads cut at block boundaries must not trip Node's listener-leak warning
const listenerWarnings: string[] = []
process.on('warning', w => { if (w.name === 'MaxListenersExceededWarning') listenerWarnings.push(w.message) })

t.test('2 x 3, 4 MB shards: blocks placed by DHT, a write stream across blocks', async t => {
  const c = await startCluster({ dir: t.testdir(), replica: 3, distribute: 2, port: 0, shardBlockSize: '4MB' })
  t.teardown(() => c.close())
  const vol = await Volume.connect({ servers: c.volfileServer, volume: c.volume.name })
  t.teardown(() => vol.close())
  const data = pat(41 * MiB + 3, 7)
  const ws = vol.createWriteStream('/big.bin')
  await pipeline(async function * () { for (let i = 0; i < data.length; i += 300_000) yield data.subarray(i, i + 300_000) }, ws)
  t.equal(sha(await vol.readFile('/big.bin') as Buffer), sha(data), 'reads back identical')
  t.equal((await vol.stat('/big.bin')).size, data.length)
  const wide = await Volume.connect({ servers: c.volfileServer, volume: c.volume.name, readWindow: 16, readChunkBytes: 512 * 1024 })
  t.teardown(() => wide.close())
  const read: Buffer[] = []
  for await (const chunk of wide.createReadStream('/big.bin')) read.push(chunk as Buffer)
  t.equal(sha(Buffer.concat(read)), sha(data), 'a read stream with 16 READs in flight')
  const piped: Buffer[] = []
  await wide.pipeTo('/big.bin', new Writable({ write (c: Buffer, _e, cb) { piped.push(Buffer.from(c)); cb() } }))
  t.equal(sha(Buffer.concat(piped)), sha(data), 'pipeTo with 16 READs in flight')
  await new Promise(resolve => setImmediate(resolve))
  t.same(listenerWarnings, [], 'no MaxListenersExceededWarning from the streams\' abort signals')
  const gfid = (await vol.stat('/big.bin')).gfid
  const sets = [0, 3].map(i => c.volume.bricks[i]!.path)
  const where = await Promise.all(sets.map(async b => (await readdir(join(b, '.shard')).catch(() => [])).filter(n => n.startsWith(gfid))))
  t.equal(where[0]!.length + where[1]!.length, 10, 'blocks 1..10, each on one replica set')
  t.ok(where[0]!.length > 0 && where[1]!.length > 0, 'spread over both sets')
  await vol.rm('/big.bin')
  await vol.settled()
  const left = await Promise.all(sets.map(async b => (await readdir(join(b, '.shard'))).filter(n => n.startsWith(gfid))))
  t.same(left, [[], []], 'rm: every block deleted on both sets')
})

t.test('the background deletion of a file of many blocks stays within its signal\'s listener bound', async t => {
  // shard-deletion-rate (100) block removals run at once, each listening on the deleter's
  // signal: more than Node's default of 10 must not be reported as a leak
  const warnings: Error[] = []
  const onWarning = (w: Error): void => { if (w.name === 'MaxListenersExceededWarning') warnings.push(w) }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })
  const c = await startCluster({ dir: t.testdir(), replica: 3, port: 0, shardBlockSize: '4MB' })
  t.teardown(() => c.close())
  const vol = await Volume.connect({ servers: c.volfileServer, volume: c.volume.name })
  t.teardown(() => vol.close())
  const fh = await vol.open('/many.bin', 'w')
  await fh.write(Buffer.from('x'), 0, 1, 20 * BS) // a sparse file whose last byte is in block 20
  await fh.close()
  await vol.unlink('/many.bin')
  await vol.settled()
  await new Promise(resolve => setImmediate(resolve)) // warnings are emitted on the next tick
  t.same(warnings.map(w => w.message), [], 'no MaxListenersExceededWarning')
  t.same((await readdir(join(c.volume.bricks[0]!.path, '.shard'))).filter(n => n !== '.remove_me'), [], 'the blocks are gone')
})
