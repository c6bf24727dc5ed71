// --tls-* flags and GLUSTER_TS_TLS_*: flags win, the environment fills in, nothing given leaves the
// library to find the installed GlusterFS's files; a bad --tls-mgmt is a usage error.
import t from 'tap'
import { tlsOptions, withTls } from '../src/tls-flags.js'
import { main } from '../src/main.js'
import { capture } from './helpers.js'

t.test('flags, then the environment; undefined when neither says anything', async t => {
  t.equal(tlsOptions({}, {}), undefined)
  t.equal(tlsOptions({}, { GLUSTER_TS_TLS_DIR: '' }), undefined, 'an empty variable is unset')
  t.same(tlsOptions({ 'tls-dir': '/a' }, {}), { dir: '/a', env: {} })
  t.same(tlsOptions({}, { GLUSTER_TS_TLS_DIR: '/e', GLUSTER_TS_TLS_CA: '/e/ca', GLUSTER_TS_TLS_MGMT: 'on' }),
    { dir: '/e', caFile: '/e/ca', management: true, env: {} })
  t.same(tlsOptions({ 'tls-dir': '/a', 'tls-cert': '/a/c', 'tls-key': '/a/k', 'tls-mgmt': 'off' }, { GLUSTER_TS_TLS_DIR: '/e', GLUSTER_TS_TLS_MGMT: 'on' }),
    { dir: '/a', certFile: '/a/c', keyFile: '/a/k', management: false, env: {} })
  t.throws(() => tlsOptions({ 'tls-mgmt': 'maybe' }, {}), { code: 'EUSAGE', message: /on or off/ })
})

t.test('serve: mounts without TLS settings of their own get the global ones', async t => {
  const tls = { dir: '/x', env: {} }
  t.same(withTls({ mountpoint: '/', volume: 'v', servers: ['h'] }, tls).volumeOptions, { tls })
  const own = { mountpoint: '/', volume: 'v', servers: ['h'], volumeOptions: { tls: { dir: '/own' }, readWindow: 2 } }
  t.equal(withTls(own, tls), own)
  t.same(withTls({ mountpoint: '/', volume: 'v', servers: ['h'], volumeOptions: { readWindow: 2 } }, tls).volumeOptions, { readWindow: 2, tls })
})

t.test('a bad --tls-mgmt is EUSAGE, status 2', async t => {
  const c = capture()
  t.equal(await main(['ls', 'gluster://127.0.0.1:1/v/', '--tls-mgmt', 'sometimes'], c.io), 2)
  t.match(c.err(), /gluster-ts ls: EUSAGE: --tls-mgmt takes on or off, not 'sometimes'/)
})

t.test('the CLI reports a TLS failure in one line with status 6', async t => {
  const c = capture()
  // a certificate directory that does not exist: the volfile server is never reached
  t.equal(await main(['ls', 'gluster://127.0.0.1:1/v/', '--tls-dir', '/nonexistent-gts-tls', '--tls-mgmt', 'on', '--timeout', '2000'], c.io), 6)
  t.match(c.err(), /EGLUSTER_TLS_CONFIG: cannot read our TLS ca '\/nonexistent-gts-tls\/glusterfs\.ca': ENOENT/)
})
