// Opt-in writes over the embedded cluster: PUT (temp file + rename), DELETE, MKCOL, behind a
// bearer token; preconditions; the cache sees the change at once; readers never see half a file.
import t from 'tap'
import { randomBytes, createHash } from 'node:crypto'
import { request } from 'undici'
import { serve } from './helpers.js'
import { createGateway } from '../src/index.js'

const token = 'secret-token-123'
const auth = { authorization: `Bearer ${token}` }

t.test('without the token: 401; writes off: 405', async t => {
  const s = await serve(t, { '/a.txt': 'a' }, { writes: { token } })
  for (const [method, headers] of [['PUT', {}], ['PUT', { authorization: 'Bearer wrong-token-1234' }], ['DELETE', { authorization: token }], ['MKCOL', {}]] as const) {
    const r = await request(s.url + '/a.txt', { method, headers, body: method === 'PUT' ? 'x' : null })
    t.equal(r.statusCode, 401, `${method} ${JSON.stringify(headers)}`)
    t.equal(r.headers['www-authenticate'], 'Bearer realm="gluster-ts"')
    await r.body.dump()
  }
  t.equal(await (await fetch(s.url + '/a.txt')).text(), 'a', 'unchanged')
  const o = await fetch(s.url + '/a.txt', { method: 'OPTIONS' })
  t.equal(o.headers.get('allow'), 'GET, HEAD, OPTIONS, PUT, DELETE, MKCOL')
  await t.rejects(createGateway({ mounts: [{ mountpoint: '/', volume: 'v', servers: ['h'], writes: { token: 'short' } }] }), /token of at least 8/)
})

t.test('PUT creates (201) then replaces (204); the body is exact; the cache is dropped at once', async t => {
  const s = await serve(t, { '/d/': '' }, { writes: { token }, cacheTtlMs: 60_000 })
  t.equal((await fetch(s.url + '/d/new.bin')).status, 404, 'cached as missing')
  const data = randomBytes(3 * 1024 * 1024 + 5)
  const c = await request(s.url + '/d/new.bin', { method: 'PUT', headers: auth, body: data })
  t.equal(c.statusCode, 201)
  t.match(c.headers.etag, /^"[0-9a-f]{32}-/)
  await c.body.dump()
  const g = await fetch(s.url + '/d/new.bin')
  t.equal(g.status, 200, 'the negative cache entry was dropped')
  t.equal(createHash('sha256').update(Buffer.from(await g.arrayBuffer())).digest('hex'), createHash('sha256').update(data).digest('hex'))
  const r = await request(s.url + '/d/new.bin', { method: 'PUT', headers: auth, body: 'small now' })
  t.equal(r.statusCode, 204)
  await r.body.dump()
  t.equal(await (await fetch(s.url + '/d/new.bin')).text(), 'small now')
  const list = await s.gateway.health()
  t.equal(list.mounts[0]!.state, 'up')
})

t.test('PUT preconditions, missing parent, directory target; body limit', async t => {
  const s = await serve(t, { '/f.txt': 'one', '/dir/': '' }, { writes: { token, maxBodyBytes: 1000 } })
  const etag = (await fetch(s.url + '/f.txt', { method: 'HEAD' })).headers.get('etag')!
  const put = async (path: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<number> => {
    const r = await request(s.url + path, { method: 'PUT', headers: { ...auth, ...headers }, body })
    await r.body.dump()
    return r.statusCode
  }
  t.equal(await put('/f.txt', 'two', { 'if-none-match': '*' }), 412)
  t.equal(await put('/f.txt', 'two', { 'if-match': '"stale"' }), 412)
  t.equal(await put('/f.txt', 'two', { 'if-match': etag }), 204)
  t.equal(await put('/nope/f.txt', 'x'), 409, 'no parent')
  t.equal(await put('/dir', 'x'), 409, 'a directory')
  t.equal(await put('/big', Buffer.alloc(2000)), 413)
  t.equal((await fetch(s.url + '/big')).status, 404, 'nothing left behind')
})

t.test('MKCOL and DELETE', async t => {
  const s = await serve(t, { '/full/': '', '/full/x': 'x', '/f': 'f' }, { writes: { token }, listing: true })
  const call = async (method: string, path: string): Promise<number> => {
    const r = await request(s.url + path, { method, headers: auth })
    await r.body.dump()
    return r.statusCode
  }
  t.equal(await call('MKCOL', '/newdir/'), 201)
  t.equal((await fetch(s.url + '/newdir/', { headers: { accept: 'application/json' } })).status, 200)
  t.equal(await call('MKCOL', '/newdir/'), 405, 'exists')
  t.equal(await call('MKCOL', '/a/b/'), 409, 'no parent')
  t.equal(await call('DELETE', '/full/'), 409, 'not empty')
  t.equal(await call('DELETE', '/f'), 204)
  t.equal((await fetch(s.url + '/f')).status, 404)
  t.equal(await call('DELETE', '/f'), 404)
  t.equal(await call('DELETE', '/newdir/'), 204)
  t.equal(await call('DELETE', '/'), 405)
})
