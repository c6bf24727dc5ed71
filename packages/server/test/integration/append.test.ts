// WRITEs on an O_APPEND fd as the FUSE client sends them (docs/server.md "Appends ahead of
// earlier writes"): at the offset its kernel chose, one WRITE per page, possibly ahead of the
// pages of an earlier write on another fd, and several at once; and what must stay atomic per
// file while they run (the end of file an append takes, a SETATTR of the size).
import t from 'tap'
import { FopProgram, GfOpenFlags, GfSetattrValid } from '@gluster-ts/rpc'
import type { RpcClient } from '@gluster-ts/rpc'
import { cluster, attach, createFile } from './brick-client.js'

async function openAppend (b: RpcClient, gfid: Buffer): Promise<bigint> {
  const r = await b.call(FopProgram.procs.OPEN, { gfid, flags: GfOpenFlags.WRONLY | GfOpenFlags.APPEND, xdata: null })
  if (r.op_ret !== 0) throw new Error(`OPEN: errno ${r.op_errno}`)
  return r.fd
}

async function write (b: RpcClient, gfid: Buffer, fd: bigint, offset: number, data: Buffer): Promise<{ op_ret: number, pre: bigint, post: bigint }> {
  const r = await b.call(FopProgram.procs.WRITE, { gfid, fd, offset: BigInt(offset), size: data.length, flag: 0, xdata: null, data })
  return { op_ret: r.op_ret, pre: r.prestat.ia_size, post: r.poststat.ia_size }
}

async function readAll (b: RpcClient, gfid: Buffer, fd: bigint): Promise<Buffer> {
  const r = await b.call(FopProgram.procs.READ, { gfid, fd, offset: 0n, size: 1 << 20, flag: 0, xdata: null })
  if (r.op_ret < 0) throw new Error(`READ: errno ${r.op_errno}`)
  return r.data
}

t.test('an append sent ahead of the last page of an earlier write lands where the client put it, not inside that write', async t => {
  const c = await cluster(t)
  const b = await attach(t, c)
  const { gfid, fd } = await createFile(b, 'f')
  const app = await openAppend(b, gfid)
  // the kernel's pages of a 6000-byte write at 0 (4096 + 1904), then of an append at 6000 (2192 + 10);
  // write-behind sent the append's first page before the write's second page (seen from the real client)
  const w1 = Buffer.alloc(4096, 0x61)
  const w2 = Buffer.alloc(1904, 0x62)
  const a1 = Buffer.alloc(2192, 0x63)
  const a2 = Buffer.alloc(10, 0x64)
  t.equal((await write(b, gfid, fd, 0, w1)).op_ret, 4096)
  const first = await write(b, gfid, app, 6000, a1)
  t.same(first, { op_ret: 2192, pre: 4096n, post: 8192n }, 'the append is at 6000, above the end of file (4096)')
  t.equal((await write(b, gfid, fd, 4096, w2)).op_ret, 1904)
  t.same(await write(b, gfid, app, 8192, a2), { op_ret: 10, pre: 8192n, post: 8202n })
  const got = await readAll(b, gfid, fd)
  t.ok(got.equals(Buffer.concat([w1, w2, a1, a2])), `8202 bytes in order (got ${got.length})`)
})

t.test('appends at a stale offset land at the end of file: 60 concurrent ones from two connections, each whole, none overlapping', async t => {
  const c = await cluster(t)
  const b1 = await attach(t, c)
  const b2 = await attach(t, c)
  const { gfid, fd } = await createFile(b1, 'log')
  t.equal((await write(b1, gfid, fd, 0, Buffer.alloc(1000, 0xff))).op_ret, 1000)
  const fds = [await openAppend(b1, gfid), await openAppend(b2, gfid)]
  const conns = [b1, b2]
  const chunks = Array.from({ length: 60 }, (_, i) => Buffer.alloc(3000 + 37 * i, i + 1))
  // offsets 0, 250, 500: sizes the client may have known, all below the true end
  const replies = await Promise.all(chunks.map((d, i) => write(conns[i % 2]!, gfid, fds[i % 2]!, (i % 3) * 250, d)))
  t.ok(replies.every((r, i) => r.op_ret === chunks[i]!.length), 'every WRITE wrote all its bytes')
  t.ok(replies.every(r => r.post - r.pre === BigInt(r.op_ret)), 'each grew the file by its own length (pre/post of one step)')
  const got = await readAll(b1, gfid, fd)
  const total = 1000 + chunks.reduce((s, d) => s + d.length, 0)
  t.equal(got.length, total)
  t.ok(got.subarray(0, 1000).every(x => x === 0xff), 'the first 1000 bytes are untouched')
  // the rest is the 60 chunks back to back, in some order, each in one piece
  const seen = new Set<number>()
  let pos = 1000
  while (pos < got.length) {
    const v = got[pos]!
    const want = chunks[v - 1]
    if (want === undefined || seen.has(v) || !got.subarray(pos, pos + want.length).equals(want)) break
    seen.add(v)
    pos += want.length
  }
  t.equal(seen.size, 60, 'all 60 appends whole and apart')
})

t.test('a SETATTR of the size runs in order with the WRITEs around it', async t => {
  const c = await cluster(t)
  const b = await attach(t, c)
  const { gfid, fd } = await createFile(b, 's')
  const st = (await b.call(FopProgram.procs.FSTAT, { gfid, fd, xdata: null })).stat
  // sent together: a large write, a shrink to 100, a write at 100
  const [w, s, w2] = await Promise.all([
    write(b, gfid, fd, 0, Buffer.alloc(256 * 1024, 0x41)),
    b.call(FopProgram.procs.FSETATTR, { gfid, fd, stbuf: { ...st, ia_size: 100n }, valid: GfSetattrValid.SIZE, xdata: null }),
    write(b, gfid, fd, 100, Buffer.alloc(10, 0x42)),
  ])
  t.equal(w.op_ret, 256 * 1024)
  t.same([s.op_ret, s.prestat.ia_size, s.poststat.ia_size], [0, 256n * 1024n, 100n], 'the shrink came after the first write')
  t.same([w2.pre, w2.post], [100n, 110n], 'and before the second')
  const got = await readAll(b, gfid, fd)
  t.ok(got.equals(Buffer.concat([Buffer.alloc(100, 0x41), Buffer.alloc(10, 0x42)])), `110 bytes (got ${got.length})`)
})
