// Issue 13 item 3 (brick part): one client hitting a brick limit gets an error; the others, and
// glusterd, keep being served. Counters come from Brick.stats, not from RSS.
import t from 'tap'
import type { Test } from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { randomUUID } from 'node:crypto'
import { RpcClient, setVolume, getSpec, glusterfsV3Cred, ROOT_GFID } from '@gluster-ts/rpc'
import { Brick, Budget, READDIR_MAX_BYTES } from '@gluster-ts/server'
import type { BrickLimits } from '@gluster-ts/server'
import { cluster, attach } from './brick-client.js'
import { fops } from './fops.js'

// the 20,000-call burst and the big directories take most of a minute on a quiet box
t.setTimeout(600_000)

const EMFILE = 24
const ENOMEM = 12

/** A brick of its own (own limits), and a connected client factory. */
async function ownBrick (t: Test, limits: BrickLimits): Promise<{ brick: Brick, connect: () => Promise<RpcClient> }> {
  const dir = t.testdir()
  const brick = new Brick({ dir: path.join(dir, 'b'), volume: 'v', volumeId: randomUUID(), limits })
  await brick.listen(0)
  t.teardown(() => brick.close())
  const connect = async (): Promise<RpcClient> => {
    const c = await RpcClient.connect(`127.0.0.1:${brick.port!}`, { cred: glusterfsV3Cred({ pid: 99 }) })
    t.teardown(() => { c.destroy() })
    await setVolume(c, { remoteSubvolume: brick.opts.brickPath, volfileKey: 'v', clientName: 'v-client-0' })
    return c
  }
  return { brick, connect }
}

t.test('20,000 pipelined OPENs from one client: it gets EMFILE past its cap; another client and glusterd are served', async t => {
  const c = await cluster(t)
  const brick = c.bricks[0]!
  const attackerClient = await attach(t, c)
  const attacker = fops(attackerClient)
  const other = fops(await attach(t, c))
  const f = await other.create(ROOT_GFID, 'f')
  t.equal(f.op_ret, 0)
  const cap = brick.limits.fdsPerClient
  const N = 20_000
  const replies = await Promise.all(Array.from({ length: N }, () => attacker.open(f.gfid, 0)))
  const opened = replies.filter(r => r.op_ret === 0).length
  const emfile = replies.filter(r => r.op_errno === EMFILE).length
  t.equal(opened, cap, `the attacker holds exactly its cap of ${cap} fds`)
  t.equal(emfile, N - cap, 'every other OPEN: EMFILE')
  t.ok(brick.limits.processFds.used <= brick.limits.processFds.limit, 'the process budget was never exceeded')
  // the other client is served: open, write, read, create, list
  const o = await other.open(f.gfid, 2)
  t.equal(o.op_ret, 0, 'OPEN by the other client')
  t.equal((await other.write(f.gfid, o.fd, Buffer.from('still here'))).op_ret, 10)
  t.equal((await other.read(f.gfid, o.fd, 10)).data.toString(), 'still here')
  t.equal((await other.create(ROOT_GFID, 'g')).op_ret, 0, 'CREATE by the other client')
  const d = await other.opendir(ROOT_GFID)
  t.equal(d.op_ret, 0, 'OPENDIR by the other client')
  // glusterd (same process) still opens sockets and answers
  const mgmt = await RpcClient.connect(c.volfileServer, { cred: glusterfsV3Cred({ pid: 1 }) })
  t.teardown(() => { mgmt.destroy() })
  t.match((await getSpec(mgmt, 'vol1')).spec, /vol1-client-0/, 'glusterd serves GETSPEC')
  // the attacker's fds go with its connection
  const usedBefore = brick.limits.processFds.used
  attackerClient.destroy()
  for (let i = 0; i < 200 && brick.limits.processFds.used > usedBefore - cap; i++) await new Promise(resolve => setTimeout(resolve, 50))
  t.ok(brick.limits.processFds.used <= usedBefore - cap, `fds given back on disconnect (${usedBefore} → ${brick.limits.processFds.used})`)
})

t.test('the process fd cap: past it every client gets ENFILE, and gets fds again once they are closed', async t => {
  const processFds = new Budget('test process fds', 40)
  const { brick, connect } = await ownBrick(t, { processFds, fdsPerClient: 1000, dirFdCache: 8 })
  const a = fops(await connect())
  const b = fops(await connect())
  const f = await a.create(ROOT_GFID, 'f')
  await a.release(f.gfid, f.fd)
  const got = await Promise.all(Array.from({ length: 60 }, () => a.open(f.gfid, 0)))
  const opened = got.filter(r => r.op_ret === 0)
  t.ok(opened.length > 0 && opened.length < 40, `some opened (${opened.length}), the rest refused`)
  t.ok(got.filter(r => r.op_ret !== 0).every(r => r.op_errno === 23), 'refused with ENFILE')
  t.ok(processFds.used <= processFds.limit)
  for (const r of opened) await a.release(f.gfid, r.fd)
  t.equal((await b.open(f.gfid, 0)).op_ret, 0, 'fds again once released')
  t.ok(brick.stats.dirFds <= 9, 'the directory fd cache stays within its size')
})

t.test('1,000 OPENDIR+READDIR(size 1) of one big unchanged directory share one listing', async t => {
  const { brick, connect } = await ownBrick(t, {})
  const a = fops(await connect())
  const big = await a.mkdir(ROOT_GFID, 'big')
  const dirPath = path.join(brick.opts.dir, 'big')
  for (let i = 0; i < 3000; i++) fs.writeFileSync(path.join(dirPath, `name-with-some-length-${String(i).padStart(5, '0')}`), '')
  const fds: bigint[] = []
  for (let i = 0; i < 1000; i++) {
    const d = await a.opendir(big.gfid)
    const r = await a.readdir(big.gfid, d.fd, 1)
    if (d.op_ret !== 0 || r.op_ret < 1) t.fail(`OPENDIR/READDIR ${i}: ${d.op_errno} ${r.op_ret}/${r.op_errno}`)
    fds.push(d.fd)
  }
  t.equal(brick.stats.listings, 1, 'one listing for 1,000 directory fds')
  t.ok(brick.stats.listingBytes < 1024 * 1024, `its bytes: ${brick.stats.listingBytes}`)
  for (const fd of fds) await a.releasedir(big.gfid, fd)
  t.equal(brick.stats.listings, 0, 'the listing goes with the last fd')
})

t.test('directory listings past a client\'s budget: ENOMEM for it, another client lists', async t => {
  const { brick, connect } = await ownBrick(t, { listingBytesPerClient: 600_000 })
  const a = fops(await connect())
  const b = fops(await connect())
  const big = await a.mkdir(ROOT_GFID, 'big')
  const dirPath = path.join(brick.opts.dir, 'big')
  for (let i = 0; i < 3000; i++) fs.writeFileSync(path.join(dirPath, `n${i}`), '')
  // each round changes the directory, so every new fd needs a listing of its own
  let enomem = 0
  for (let i = 0; i < 40 && enomem === 0; i++) {
    await a.create(big.gfid, `c${i}`)
    const d = await a.opendir(big.gfid)
    const r = await a.readdir(big.gfid, d.fd, 1)
    if (r.op_errno === ENOMEM) enomem++
  }
  t.equal(enomem, 1, 'the client over its listing budget gets ENOMEM')
  t.ok(brick.stats.listingBytes <= 600_000 + 200_000, `listing bytes bounded: ${brick.stats.listingBytes}`)
  const d = await b.opendir(big.gfid)
  const r = await b.readdirp(big.gfid, d.fd, 4096)
  t.ok(r.op_ret > 0, 'another client lists the same directory')
})

t.test('READDIRP with size 0xffffffff: one reply of at most 128 KiB of entries, as protocol/server caps it', async t => {
  const { brick, connect } = await ownBrick(t, {})
  const a = fops(await connect())
  const big = await a.mkdir(ROOT_GFID, 'big')
  const dirPath = path.join(brick.opts.dir, 'big')
  for (let i = 0; i < 4000; i++) fs.writeFileSync(path.join(dirPath, `${'x'.repeat(100)}-${i}`), '')
  const d = await a.opendir(big.gfid)
  const r = await a.readdirp(big.gfid, d.fd, 0xffffffff)
  t.ok(r.op_ret > 0 && r.op_ret < 4002, `${r.op_ret} of 4002 entries in the first reply`)
  t.not(r.op_errno, 2, 'not the end yet')
  t.ok(r.op_ret * (32 + 104 + 200) <= READDIR_MAX_BYTES + 400, 'within the cap (by the brick\'s own estimate)')
})
