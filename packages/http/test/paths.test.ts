// Paths: percent-decoding, traversal attempts, the dotfile policy, directories (301, index.html,
// listings), with raw request targets so no client normalises them first.
import t from 'tap'
import { serve, rawGet } from './helpers.js'

const s = await serve(t, {
  '/a.txt': 'A',
  '/sp ace/é.txt': 'accent',
  '/dir/': '',
  '/dir/x.txt': 'X',
  '/dir/.hidden': 'dot',
  '/site/index.html': '<h1>home</h1>',
  '/.glusterfs-x/secret': 'no',
  '/.trashcan/old': 'no',
  '/.shard/1': 'no',
  '/.well-known/a': 'wk',
  '/list/': '',
  '/list/b.txt': 'bb',
  '/list/sub/c.txt': 'c',
  '/list/.glusterfs': 'hidden',
  '/list/<tag>&.txt': 'x',
}, { listing: true })

t.test('percent-decoded names, UTF-8', async t => {
  const r = await rawGet(s.url, '/sp%20ace/%C3%A9.txt')
  t.equal(r.status, 200)
  t.equal(r.body.toString(), 'accent')
})

t.test('traversal attempts never leave the mount and never crash', async t => {
  const cases: Array<[string, number]> = [
    ['/../a.txt', 400], ['/dir/../a.txt', 400], ['/%2e%2e/a.txt', 400], ['/dir/%2E%2E/a.txt', 400], ['/.%2e/etc/passwd', 400],
    ['/dir%2f..%2fa.txt', 404], ['/..%2fa.txt', 404], ['/dir%2Fx.txt', 404], ['/..\\a.txt', 400], ['/dir\\x.txt', 400], ['/%5c..%5ca.txt', 400],
    ['/a.txt%00.html', 400], ['/%00', 400], ['/%', 400], ['/%zz', 400], ['/%C3', 400], ['/%ff%fe', 400], ['/%C0%AE%C0%AE/a.txt', 400],
    ['/./a.txt', 400], ['/' + 'n'.repeat(256), 404], ['/' + '%C3%A9'.repeat(128), 404], ['/' + 'x/'.repeat(5000), 414],
  ]
  for (const [target, status] of cases) {
    const r = await rawGet(s.url, target)
    t.equal(r.status, status, `${target.slice(0, 60)} → ${status}`)
  }
  t.equal((await rawGet(s.url, '//a.txt')).status, 200, 'empty segments collapse')
  t.equal((await fetch(s.url + '/a.txt')).status, 200, 'still serving')
})

t.test('GlusterFS internals are hidden; ordinary dotfiles follow the policy (ignore by default)', async t => {
  for (const p of ['/.glusterfs-x/secret', '/.trashcan/old', '/.shard/1', '/.glusterfs-x/']) t.equal((await rawGet(s.url, p)).status, 404, p)
  t.equal((await rawGet(s.url, '/.well-known/a')).status, 200, '.well-known is served (RFC 8615)')
  t.equal((await rawGet(s.url, '/dir/.hidden')).status, 404)
})

t.test('a directory without the slash → 301 (query kept); index.html served; no index and no listing → 404', async t => {
  const r = await rawGet(s.url, '/site?x=1')
  t.equal(r.status, 301)
  t.match(r.head, /\r\nLocation: \/site\/\?x=1\r\n/i)
  const i = await fetch(s.url + '/site/')
  t.equal(i.status, 200)
  t.equal(i.headers.get('content-type'), 'text/html; charset=utf-8')
  t.equal(await i.text(), '<h1>home</h1>')
  t.equal((await rawGet(s.url, '/a.txt/')).status, 404, 'a file with a trailing slash')
  const enc = await rawGet(s.url, '/sp%20ace')
  t.match(enc.head, /\r\nLocation: \/sp%20ace\/\r\n/i, 'Location is percent-encoded')
})

t.test('listing: HTML (escaped) and JSON, internals left out', async t => {
  const h = await fetch(s.url + '/list/', { headers: { accept: 'text/html' } })
  t.equal(h.status, 200)
  const html = await h.text()
  t.match(html, /<a class="dir" href="sub\/">sub\/<\/a>/)
  t.match(html, /<a href="b.txt">b.txt<\/a>/)
  t.match(html, /&lt;tag&gt;&amp;.txt/)
  t.notMatch(html, /<tag>/)
  t.notMatch(html, /\.glusterfs/)
  const j = await fetch(s.url + '/list/', { headers: { accept: 'application/json' } })
  t.equal(j.headers.get('content-type'), 'application/json; charset=utf-8')
  const list = await j.json() as Array<{ name: string, type: string, size: number }>
  t.same(list.map(e => [e.name, e.type]), [['sub', 'directory'], ['<tag>&.txt', 'file'], ['b.txt', 'file']])
  t.equal(list.find(e => e.name === 'b.txt')?.size, 2)
  t.equal((await fetch(s.url + '/list/', { headers: { accept: 'image/png' } })).status, 406)
})

t.test('listing is opt-in', async t => {
  const s2 = await serve(t, { '/d/': '', '/d/f': 'f' })
  t.equal((await fetch(s2.url + '/d/')).status, 404)
})

t.test('dotfiles: deny → 403, ignore → 404', async t => {
  const deny = await serve(t, { '/.env': 'secret', '/ok': 'ok' }, { dotfiles: 'deny' })
  t.equal((await fetch(deny.url + '/.env')).status, 403)
  t.equal((await fetch(deny.url + '/ok')).status, 200)
  const ignore = await serve(t, { '/.env': 'secret' }, { dotfiles: 'ignore' })
  t.equal((await fetch(ignore.url + '/.env')).status, 404)
})
