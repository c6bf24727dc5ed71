// serve's mount arguments: PREFIX=URL, a bare URL, the uWSGI plugin's key=value list.
import t from 'tap'
import { mountFromArg } from '../src/commands/serve.js'

t.test('PREFIX=gluster://… and a bare URL', async t => {
  t.same(mountFromArg('/files=gluster://h1,h2:24008/vol1', {}), { mountpoint: '/files', volume: 'vol1', servers: ['h1:24007', 'h2:24008'], listing: true })
  t.same(mountFromArg('gluster://h/vol2/', {}), { mountpoint: '/', volume: 'vol2', servers: ['h:24007'], listing: true })
  t.same(mountFromArg('/x/=gluster:///v', { servers: ['a:1'] }), { mountpoint: '/x', volume: 'v', servers: ['a:1'], listing: true })
})

t.test('the plugin syntax goes to packages/http', async t => {
  const m = mountFromArg('mountpoint=/foo,volume=v2,server=a:0;b:0', {})
  t.equal(m.mountpoint, '/foo')
  t.equal(m.volume, 'v2')
  t.equal(m.servers.length, 2)
})

t.test('a path after the volume: that directory of the volume (subdir)', async t => {
  t.same(mountFromArg('/docs=gluster://h/v/site/docs/', {}), { mountpoint: '/docs', volume: 'v', servers: ['h:24007'], listing: true, subdir: '/site/docs' })
})

t.test('usage errors', async t => {
  for (const bad of ['files=gluster://h/v', '/f:gluster://h/v', 'mountpoint=/x', '/f=./local', 'mountpoint=x,volume=v', 'volume=v,server=gl1', '/a/../b=gluster://h/v']) {
    t.throws(() => mountFromArg(bad, {}), { code: 'EUSAGE' }, bad)
  }
})
