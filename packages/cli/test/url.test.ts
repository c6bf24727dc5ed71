// URL parsing: every spelling the CLI accepts, and the one-line usage errors for the rest.
import t from 'tap'
import { parseLocation, formatLocation, splitServers, volumeKey, isUrl, type RemoteLocation } from '../src/url.js'

const remote = (s: string, d = {}): RemoteLocation => {
  const l = parseLocation(s, d)
  if (l.kind !== 'remote') throw new Error(`${s} parsed as local`)
  return l
}

t.test('gluster:// with several servers, ports and the default port', async t => {
  const l = remote('gluster://h1,h2:24008/vol1/a/b.txt')
  t.same(l.servers, ['h1:24007', 'h2:24008'])
  t.equal(l.volume, 'vol1')
  t.equal(l.path, '/a/b.txt')
  t.equal(l.trailingSlash, false)
})

t.test('[v6] literals, with and without port', async t => {
  t.same(remote('gluster://[fd00::1]:24010,[::1]/v/x').servers, ['[fd00::1]:24010', '[::1]:24007'])
})

t.test('aliases: gluster+tcp://, glfs://, case of the scheme', async t => {
  for (const s of ['gluster+tcp://h/v/p', 'glfs://h/v/p', 'GLUSTER://h/v/p']) {
    const l = remote(s)
    t.same([l.servers, l.volume, l.path], [['h:24007'], 'v', '/p'], s)
  }
})

t.test('gluster+unix:// takes the socket from ?socket=', async t => {
  const l = remote('gluster+unix:///vol1/dir/f?socket=/run/glusterd.socket')
  t.same(l.servers, ['unix:/run/glusterd.socket'])
  t.equal(l.path, '/dir/f')
  t.equal(formatLocation(l), 'gluster+unix:///vol1/dir/f?socket=/run/glusterd.socket')
  t.throws(() => parseLocation('gluster+unix:///vol1/f'), { code: 'EUSAGE' })
  t.throws(() => parseLocation('gluster+unix://host/vol1/f?socket=/s'), { code: 'EUSAGE' })
})

t.test('volume root, trailing slash, normalisation, percent-decoding', async t => {
  t.equal(remote('gluster://h/v').path, '/')
  t.equal(remote('gluster://h/v/').path, '/')
  const d = remote('gluster://h/v/dir/')
  t.equal(d.path, '/dir')
  t.equal(d.trailingSlash, true)
  t.equal(remote('gluster://h/v/a/../b/./c//d').path, '/b/c/d')
  t.equal(remote('gluster://h/v/../../etc').path, '/etc', 'never above the volume root')
  t.equal(remote('gluster://h/v/my%20file').path, '/my file')
  t.equal(remote('gluster://h/v/été café').path, '/été café')
  t.equal(formatLocation(remote('gluster://h/v/my%20file')), 'gluster://h:24007/v/my%20file')
})

t.test('servers from defaults when the URL names none', async t => {
  t.same(remote('gluster:///v/p', { servers: ['a', 'b:1'] }).servers, ['a', 'b:1'])
  t.throws(() => parseLocation('gluster:///v/p'), { code: 'EUSAGE', message: /GLUSTER_TS_SERVERS/ })
  t.same(splitServers('a, b;c  d'), ['a', 'b', 'c', 'd'])
  t.equal(splitServers(''), undefined)
  t.equal(splitServers(undefined), undefined)
})

t.test('local paths are plain paths', async t => {
  for (const s of ['./x', '/tmp/a', 'rel/path', 'foo:/bar', 'C:thing']) {
    t.same(parseLocation(s), { kind: 'local', input: s, path: s }, s)
    t.equal(isUrl(s), false)
  }
})

t.test('malformed URLs are usage errors naming the argument', async t => {
  const bad = ['gluster://h', 'gluster://h/', 'http://h/v/p', 'gluster+rdma://h/v/p', 'gluster://h:99999/v', 'gluster://h:x/v',
    'gluster://[::1/v', 'gluster://u@h/v/p', 'gluster://h/v/%zz', 'gluster://h/v/p?x=1', 'gluster://h/../p']
  for (const s of bad) t.throws(() => parseLocation(s), { code: 'EUSAGE', message: new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').slice(0, 12)) }, s)
})

t.test('volumeKey is equal for the same servers and volume', async t => {
  t.equal(volumeKey(remote('gluster://h/v/a')), volumeKey(remote('glfs://h:24007/v/b')))
  t.not(volumeKey(remote('gluster://h/v/a')), volumeKey(remote('gluster://h/w/a')))
})
