// READDIR and READDIRP on the anonymous fd (-2) of a directory, as protocol/server resolves it
// for every fd-addressed fop (server-resolve.c `server_resolve_anonfd`). GlusterFS's shard
// translator lists `/.shard/.remove_me` this way for its background deletion, and removes each
// listed marker before it asks for the next page: every entry must still come exactly once.
import t from 'tap'
import { GF_ANON_FD, ROOT_GFID } from '@gluster-ts/rpc'
import { cluster, attach } from './brick-client.js'
import { fops, as } from './fops.js'

const ENOENT = 2
const EBADF = 9
const EACCES = 13
const ENOTDIR = 20
const ESTALE = 116

t.test('READDIRP pages through the anonymous fd while the lister removes what it was given', async t => {
  const c = await cluster(t)
  const f = fops(await attach(t, c))
  const rm = await f.mkdir(ROOT_GFID, 'remove_me')
  t.equal(rm.op_ret, 0)
  const names = Array.from({ length: 150 }, (_, i) => `${String(i).padStart(8, '0')}-4b5a-6978-8796-a5b4c3d2e1f0`)
  for (const n of names) t.equal((await f.create(rm.gfid, n)).op_ret, 0, `create ${n}`, { diagnostic: false })

  const seen: string[] = []
  let offset = 0n
  let pages = 0
  for (;;) {
    const r = await f.readdirp(rm.gfid, GF_ANON_FD, 1024, offset)
    t.equal(r.op_ret, r.reply.length, `page ${pages}: no error (${r.op_errno})`, { diagnostic: false })
    pages++
    for (const e of r.reply) {
      if (e.name === '.' || e.name === '..') continue
      seen.push(e.name)
      // what shard_delete_shards does with each marker before it reads on
      t.equal((await f.unlink(rm.gfid, e.name)).op_ret, 0, `unlink ${e.name}`, { diagnostic: false })
    }
    if (r.op_errno === ENOENT || r.reply.length === 0) break
    offset = r.reply.at(-1)!.d_off
    if (pages > 1000) { t.fail('no end of the listing'); break }
  }
  t.ok(pages > 3, `several pages (${pages})`)
  t.same(seen.sort(), [...names].sort(), 'every entry exactly once')

  // a new listing (offset 0) sees the directory as it is now
  const again = await f.readdirp(rm.gfid, GF_ANON_FD, 65536, 0n)
  t.same(again.reply.map(e => e.name), ['.', '..'], 'offset 0 lists afresh: empty now')
  t.equal(again.op_errno, ENOENT, 'and says it is the end')
  const plain = await f.readdir(ROOT_GFID, GF_ANON_FD, 65536, 0n)
  t.same(plain.reply.map(e => e.name), ['.', '..', 'remove_me'], 'READDIR on the anonymous fd of the root too')
})

t.test('the anonymous fd of what is no directory, of no object, and unknown fd numbers are refused', async t => {
  const c = await cluster(t)
  const f = fops(await attach(t, c))
  const file = await f.create(ROOT_GFID, 'file')
  const notDir = await f.readdirp(file.gfid, GF_ANON_FD)
  t.same([notDir.op_ret, notDir.op_errno], [-1, ENOTDIR], 'a regular file: ENOTDIR')
  const gone = await f.readdirp(Buffer.alloc(16, 7), GF_ANON_FD)
  t.same([gone.op_ret, gone.op_errno], [-1, ESTALE], 'a gfid the brick does not have: ESTALE')
  const bad = await f.readdirp(ROOT_GFID, 77n)
  t.same([bad.op_ret, bad.op_errno], [-1, EBADF], 'an fd number never opened: EBADF')
  const alsoBad = await f.readdir(ROOT_GFID, -1n)
  t.same([alsoBad.op_ret, alsoBad.op_errno], [-1, EBADF], 'fd -1 is not the anonymous fd: EBADF')
})

t.test('reading a directory through the anonymous fd needs read permission, as through an opened one', async t => {
  const c = await cluster(t)
  const client = await attach(t, c)
  const root = fops(client)
  const priv = await root.mkdir(ROOT_GFID, 'private', 0o700)
  const user = fops(client, as(1000, 1000))
  const r = await user.readdirp(priv.gfid, GF_ANON_FD)
  t.same([r.op_ret, r.op_errno], [-1, EACCES], 'mode 0700, another user: EACCES')
  t.equal((await root.readdirp(priv.gfid, GF_ANON_FD)).op_ret, 2, 'its owner lists it')
})

t.test('the listings kept for anonymous fds are bounded per client and go with the client', async t => {
  const c = await cluster(t)
  const brick = c.bricks[0]!
  const client = await attach(t, c)
  const f = fops(client)
  const dirs: Buffer[] = []
  for (let i = 0; i < 40; i++) {
    const d = await f.mkdir(ROOT_GFID, `d${i}`)
    await f.create(d.gfid, 'x')
    dirs.push(d.gfid)
  }
  for (const d of dirs) t.ok((await f.readdirp(d, GF_ANON_FD, 1)).op_ret > 0, 'first page')
  t.ok(brick.stats.listings <= 16, `at most 16 listings held (${brick.stats.listings})`)
  t.ok(brick.stats.listings > 0, 'the recent ones are kept for their next page')
  // a page after offset 0 of a listing that was dropped reads the current one: still correct
  const first = await f.readdirp(dirs[0]!, GF_ANON_FD, 65536, 1n)
  t.same(first.reply.map(e => e.name), ['..', 'x'], 'the evicted directory\'s next page')
  client.destroy()
  for (let i = 0; i < 500 && brick.stats.listings > 0; i++) await new Promise(resolve => setTimeout(resolve, 10))
  t.equal(brick.stats.listings, 0, 'none left once the client is gone')
})
