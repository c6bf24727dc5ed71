// Dispersed volumes (cluster/disperse) through our client against our own server on 127.0.0.1:
// the fragments our writes leave on the bricks are GlusterFS's encoding (the golden inputs of
// captures/volume-types/disperse-2+1 rebuilt byte for byte, with the captured trusted.ec.*
// values), partial-stripe overwrites, appends and truncates keep every brick's fragment equal
// to the encoding of the whole file, reads decode from any k bricks (with r stopped), and a
// write while a brick is stopped leaves the marks a self-heal daemon looks for: the stale brick
// keeps its old version, the others stay dirty.
import t from 'tap'
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import dc from 'node:diagnostics_channel'
import { CHANNEL_CALL_START, type RpcCallEvent } from '@gluster-ts/rpc'
import { startCluster } from '../../../../test-cluster/ts-cluster.js'
import { Volume } from '../../src/index.js'
import { createCodec } from '../../src/ec/index.js'
import { pat } from '../../../../test-cluster/pattern.js'
import { capturedFragment, capturedXattrs, fragmentHashes } from '../unit/ec/capture.js'

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

/** The fragments every brick must hold for `data`: the codec's encoding, cut at the fragment EOF. */
function encodeAll (data: Buffer, k: number, r: number): Buffer[] {
  const S = 512 * k
  const padded = Buffer.alloc(Math.ceil(data.length / S) * S)
  data.copy(padded)
  const codec = createCodec(k, r)
  const frags = Array.from({ length: k + r }, () => Buffer.alloc(padded.length / k))
  codec.encode(padded, frags)
  return frags
}

for (const [k, r] of [[2, 1], [4, 2]] as const) {
  t.test(`disperse ${k + r} redundancy ${r}: our writes leave GlusterFS's fragments on our bricks`, async t => {
    const c = await startCluster({ dir: t.testdir(), disperse: k + r, redundancy: r, port: 0 })
    t.teardown(() => c.close())
    const vol = await Volume.connect({ servers: c.volfileServer, volume: c.volume.name })
    t.teardown(() => vol.close())
    const root = vol.graph.root
    t.equal(root.kind, 'distribute')
    t.match(root.kind === 'distribute' ? root.children[0] : root, { kind: 'disperse', dataBricks: k, redundancy: r })
    const bricks = c.volume.bricks.map(b => b.path)
    const S = 512 * k
    const check = async (name: string, want: Buffer): Promise<void> => {
      t.equal(sha(await vol.readFile(`/${name}`) as Buffer), sha(want), `${name}: reads back`)
      t.equal((await vol.stat(`/${name}`)).size, want.length, `${name}: stat size is the logical size`)
      const frags = encodeAll(want, k, r)
      for (const [i, b] of bricks.entries()) {
        const got = await readFile(join(b, name))
        t.equal(got.length, Math.ceil(want.length / S) * 512, `${name}: brick ${i + 1} fragment file size ⌈size/S⌉·512`)
        t.ok(got.equals(frags[i]!), `${name}: brick ${i + 1} holds its fragment`)
      }
    }
    for (const n of [0, 1, 511, 512, 513, S - 1, S, S + 1, 65539, 300_001]) {
      const d = pat(n, n & 255)
      await vol.writeFile(`/f${n}.bin`, d)
      await check(`f${n}.bin`, d)
    }
    // pipeTo (decoding straight into its ring's buffers) and a read into a caller's buffer at an unaligned offset
    const big = pat(300_001, 300_001 & 255)
    const got: Buffer[] = []
    const sink = new Writable({ write (c: Buffer, _e, cb) { got.push(Buffer.from(c)); cb() } })
    t.equal(await vol.pipeTo('/f300001.bin', sink, { window: 3 }), big.length)
    t.equal(sha(Buffer.concat(got)), sha(big), 'pipeTo')
    const h = await vol.open('/f300001.bin')
    const into = Buffer.alloc(100_000)
    t.equal((await h.read(into, 0, into.length, S + 7)).bytesRead, into.length)
    t.ok(into.equals(big.subarray(S + 7, S + 7 + into.length)), 'FileHandle.read at an offset inside a stripe')
    t.equal((await h.read(into, 0, into.length, 4 * S)).bytesRead, into.length)
    t.ok(into.equals(big.subarray(4 * S, 4 * S + into.length)), 'FileHandle.read at a stripe boundary')
    await h.close()
    // unaligned overwrites (inside a stripe, across stripes, past EOF), appends, truncates
    const ow = Buffer.from(pat(6 * S + 100, 1))
    const fh = await vol.open('/ow.bin', 'w+')
    await fh.write(ow, 0, ow.length, 0)
    for (const [pos, len] of [[700, 100], [S - 3, 9], [2 * S + 5, 3 * S + 1]] as const) {
      const d = pat(len, pos & 255)
      await fh.write(d, 0, len, pos)
      d.copy(ow, pos)
    }
    await fh.close()
    await check('ow.bin', ow)
    const grown = Buffer.concat([ow, Buffer.alloc(50), pat(10, 9)])
    const fh2 = await vol.open('/ow.bin', 'r+')
    await fh2.write(pat(10, 9), 0, 10, ow.length + 50)
    await fh2.close()
    await check('ow.bin', grown)
    let ap = pat(S + 1, 2)
    await vol.writeFile('/ap.bin', ap)
    for (const n of [1, 3000, S]) { await vol.appendFile('/ap.bin', pat(n, n & 255)); ap = Buffer.concat([ap, pat(n, n & 255)]) }
    await check('ap.bin', ap)
    await vol.writeFile('/tr.bin', pat(5 * S + 300, 3))
    await vol.truncate('/tr.bin', 2 * S + 77)
    await check('tr.bin', pat(5 * S + 300, 3).subarray(0, 2 * S + 77))
    await vol.truncate('/tr.bin', 4 * S + 1)
    const trUp = Buffer.alloc(4 * S + 1)
    pat(5 * S + 300, 3).copy(trUp, 0, 0, 2 * S + 77)
    await check('tr.bin', trUp)
    // entries
    await vol.mkdir('/d/e', { recursive: true })
    await vol.rename('/f1.bin', '/d/e/moved.bin')
    await vol.symlink('e/moved.bin', '/d/link')
    t.equal(await vol.readlink('/d/link'), 'e/moved.bin')
    t.same((await vol.readdir('/d/e')).sort(), ['moved.bin'])
    await vol.unlink('/d/e/moved.bin')
    await t.rejects(vol.stat('/d/e/moved.bin'), { code: 'ENOENT' })
    await t.rejects(vol.writeFile('/d/e', 'x'), { code: 'EISDIR' })
    await t.rejects(vol.setxattr('/ap.bin', 'trusted.ec.size', Buffer.alloc(8)), { code: 'EPERM' }, 'the ec xattrs are the translator\'s')
    await vol.setxattr('/ap.bin', 'user.a', 'b')
    t.equal((await vol.getxattr('/ap.bin', 'user.a'))?.toString(), 'b')
  })
}

t.test('the captured 2+1 files, rebuilt through our client, hold the captured fragments and trusted.ec.* values', async t => {
  const c = await startCluster({ dir: t.testdir(), disperse: 3, redundancy: 1, port: 0 })
  t.teardown(() => c.close())
  const vol = await Volume.connect({ servers: c.volfileServer, volume: c.volume.name })
  t.teardown(() => vol.close())
  const bricks = c.volume.bricks.map(b => b.path)
  // what the capture did: cp of pat.py files, a dd of 100 bytes at 700 of f1049576, an append of 3000 to f1025
  for (const n of [1, 511, 512, 1023, 1024, 4096, 65539]) await vol.writeFile(`/f${n}.bin`, pat(n, 0))
  await vol.writeFile('/f1049576.bin', pat(1049576, 0))
  const fh = await vol.open('/f1049576.bin', 'r+')
  await fh.write(pat(100, 99), 0, 100, 700)
  await fh.close()
  await vol.writeFile('/f1025.bin', pat(1025, 0))
  await vol.appendFile('/f1025.bin', pat(3000, 5))
  const hashes = fragmentHashes()
  const xattrs = capturedXattrs(0)
  for (const name of ['f1', 'f511', 'f512', 'f1023', 'f1024', 'f4096', 'f65539', 'f1049576', 'f1025']) {
    const st = await vol.stat(`/${name}.bin`)
    const want = xattrs.get(name)!
    for (const [i, b] of bricks.entries()) {
      const got = await readFile(join(b, `${name}.bin`))
      const frag = capturedFragment(i, name)
      if (frag !== undefined) t.ok(got.equals(frag), `${name}: brick ${i + 1} equals the captured fragment`)
      t.equal(sha(got), hashes.get(`brick${i + 1}-${name}.bin`), `${name}: brick ${i + 1} has the captured fragment's sha256`)
      const store = c.bricks[i]!.store
      for (const key of ['trusted.ec.size', 'trusted.ec.config'] as const) {
        t.equal(store.getXattr(st.gfid, key)?.toString('hex'), want.get(key)!.toString('hex'), `${name}: brick ${i + 1} ${key} as captured`)
      }
      // versions count writes (ours: one per WRITE we sent, the FUSE client's: per write-behind flush); only dirty must be as captured
      const dirty = store.getXattr(st.gfid, 'trusted.ec.dirty')
      t.ok(dirty === undefined || dirty.equals(Buffer.alloc(16)), `${name}: brick ${i + 1} not dirty`)
      const v = store.getXattr(st.gfid, 'trusted.ec.version')
      t.same(v, c.bricks[0]!.store.getXattr(st.gfid, 'trusted.ec.version'), `${name}: brick ${i + 1} version equals brick 1's`)
    }
    t.equal(st.size, Number(want.get('trusted.ec.size')!.readBigUInt64BE(0)), `${name}: size as captured`)
  }
})

t.test('reads with r bricks stopped; a write while one is stopped leaves it stale and the others dirty', async t => {
  const c = await startCluster({ dir: t.testdir(), disperse: 6, redundancy: 2, port: 0 })
  t.teardown(() => c.close())
  const vol = await Volume.connect({ servers: c.volfileServer, volume: c.volume.name, pingTimeoutMs: 2000 })
  t.teardown(() => vol.close())
  const S = 2048
  const data = pat(9 * S + 123, 7)
  await vol.writeFile('/x.bin', data)
  for (const stopped of [[0, 1], [2, 5], [4, 3]]) {
    for (const i of stopped) await c.stopBrick(i)
    const fresh = await Volume.connect({ servers: c.volfileServer, volume: c.volume.name })
    t.equal(sha(await fresh.readFile('/x.bin') as Buffer), sha(data), `reads with bricks ${stopped.map(i => i + 1).join(',')} stopped`)
    await fresh.close()
    for (const i of stopped) await c.startBrick(i)
  }
  await c.stopBrick(3)
  const fresh = await Volume.connect({ servers: c.volfileServer, volume: c.volume.name })
  t.teardown(() => fresh.close())
  const more = pat(S + 5, 8)
  await fresh.appendFile('/x.bin', more)
  t.equal(sha(await fresh.readFile('/x.bin') as Buffer), sha(Buffer.concat([data, more])), 'the append reads back with brick 4 stopped')
  // the heal marks (gluster-disperse.md §7): the bricks that took the append stay dirty and
  // move on to a new version and size; the stopped brick keeps the old ones
  const gfid = (await fresh.stat('/x.bin')).gfid
  const xa = (i: number, name: string): string | undefined => c.bricks[i]?.store.getXattr(gfid, name)?.toString('hex')
  await c.startBrick(3)
  for (const i of [0, 1, 2, 4, 5]) {
    t.equal(xa(i, 'trusted.ec.dirty'), '0000000000000001' + '0000000000000001', `brick ${i + 1}: dirty {1,1}`)
    t.equal(xa(i, 'trusted.ec.size'), (data.length + more.length).toString(16).padStart(16, '0'), `brick ${i + 1}: the new size`)
    t.equal(xa(i, 'trusted.ec.version'), xa(0, 'trusted.ec.version'), `brick ${i + 1}: brick 1's version`)
  }
  t.equal(xa(3, 'trusted.ec.size'), data.length.toString(16).padStart(16, '0'), 'brick 4: the old size')
  t.not(xa(3, 'trusted.ec.version'), xa(0, 'trusted.ec.version'), 'brick 4: an older version')
  t.ok(xa(3, 'trusted.ec.dirty') === undefined || xa(3, 'trusted.ec.dirty') === '0'.repeat(32), 'brick 4: not dirty (it took nothing)')
  await c.stopBrick(3)
  await t.rejects(Promise.all([c.stopBrick(0), c.stopBrick(1)]).then(() => fresh.appendFile('/x.bin', 'no quorum')), { code: 'ENOTCONN' }, 'fewer than k bricks: ENOTCONN')
})

t.test('a READ asks exactly k bricks for their fragments: none is read only because another came first', async t => {
  const c = await startCluster({ dir: t.testdir(), disperse: 6, redundancy: 2, port: 0 })
  t.teardown(() => c.close())
  // no hedging: a loaded box must not add READs of its own to the count
  const vol = await Volume.connect({ servers: c.volfileServer, volume: c.volume.name, hedgeAfterMs: 0, readChunkBytes: 256 * 1024 })
  t.teardown(() => vol.close())
  const data = pat(1 << 20, 3)
  await vol.writeFile('/k.bin', data)
  let reads = 0
  const count = (m: unknown): void => { if ((m as RpcCallEvent).procedure === 'READ') reads++ }
  dc.subscribe(CHANNEL_CALL_START, count)
  t.teardown(() => dc.unsubscribe(CHANNEL_CALL_START, count))
  t.equal(sha(await vol.readFile('/k.bin') as Buffer), sha(data), 'readFile')
  t.equal(reads, 4 * 4, 'readFile: 4 READs of 256 KiB, 4 fragments each (not all 6)')
  reads = 0
  const got: Buffer[] = []
  const sink = new Writable({ write (b: Buffer, _e, cb) { got.push(Buffer.from(b)); cb() } })
  t.equal(await vol.pipeTo('/k.bin', sink), data.length)
  t.equal(sha(Buffer.concat(got)), sha(data), 'pipeTo')
  t.equal(reads, 4 * 4, 'pipeTo: 4 fragments per READ')
  // with one brick down the READ still needs only k of the 5 left
  await c.stopBrick(2)
  const fresh = await Volume.connect({ servers: c.volfileServer, volume: c.volume.name, hedgeAfterMs: 0, readChunkBytes: 256 * 1024 })
  t.teardown(() => fresh.close())
  reads = 0
  t.equal(sha(await fresh.readFile('/k.bin') as Buffer), sha(data), 'readFile with brick 3 stopped')
  t.equal(reads, 4 * 4, 'brick 3 stopped: still 4 fragments per READ')
})
