// Which connections speak TLS and with which files: GlusterFS's port rule, the secure-access file,
// and the order sources are looked at (explicit option, environment, tls.dir, volfile, the
// installed GlusterFS's directory).
import t from 'tap'
import { mkdtempSync, writeFileSync, mkdirSync, copyFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TlsResolver, secureAccessDepth, ioTlsEnabled, installedGlusterTlsDir } from '@gluster-ts/volume'
import { buildClientGraph } from '@gluster-ts/volume/internals'
import { tlsFixture, tlsFixturePath, type TlsFixture } from '../../../../test-cluster/tls-fixtures.js'

const tmp = mkdtempSync(join(tmpdir(), 'gts-tls-'))
t.teardown(() => { rmSync(tmp, { recursive: true, force: true }) })

/** A directory laid out like /usr/lib/ssl: glusterfs.{pem,key,ca} of one identity. */
function sslDir (name: string, who: TlsFixture): string {
  const d = join(tmp, name)
  mkdirSync(d, { recursive: true })
  copyFileSync(tlsFixturePath(who), join(d, 'glusterfs.pem'))
  copyFileSync(tlsFixturePath(who, 'key'), join(d, 'glusterfs.key'))
  copyFileSync(tlsFixturePath('ca'), join(d, 'glusterfs.ca'))
  return d
}

const noFile = join(tmp, 'no-secure-access')
const io = (extra: Record<string, string> = {}): Map<string, string> => new Map(Object.entries({ 'transport.socket.ssl-enabled': 'on', ...extra }))

t.test('GlusterFS\'s rule: 24007 follows management TLS, other ports the volfile, volfile fetch management', async t => {
  const d = sslDir('rule', 'client')
  const off = new TlsResolver({ dir: d, secureAccessFile: noFile, env: {} })
  t.equal(off.management, false)
  t.equal(off.forManagement(), undefined)
  t.equal(off.forBrickPort(24007, io()), undefined, 'portmap stays plaintext without management TLS, even on a TLS volume')
  t.ok(off.forBrickPort(49152, io()), 'a brick port of a TLS volume is TLS')
  t.equal(off.forBrickPort(49152, new Map([['transport.socket.ssl-enabled', 'off']])), undefined)
  t.equal(off.forBrickPort(49152, new Map()), undefined)
  const on = new TlsResolver({ dir: d, management: true, secureAccessFile: noFile, env: {} })
  t.ok(on.forManagement())
  t.ok(on.forBrickPort(24007, new Map()), 'portmap is TLS with management TLS, whatever the volume says')
  t.equal(on.forBrickPort(49152, new Map()), undefined, 'a plaintext volume\'s brick stays plaintext')
  t.equal(on.forBrickPort(49152, io()), on.forBrickPort(49153, io()), 'one context per option set')
})

t.test('the secure-access file turns management TLS on and sets the depth; tls.management and the environment override it', async t => {
  const d = sslDir('sa', 'client')
  const file = join(tmp, 'secure-access')
  writeFileSync(file, '')
  t.equal(new TlsResolver({ dir: d, secureAccessFile: file, env: {} }).management, true)
  t.equal(new TlsResolver({ dir: d, secureAccessFile: file, env: {} }).forManagement()?.certDepth, 1)
  writeFileSync(file, '# comment\noption transport.socket.ssl-cert-depth 3\n')
  const r = new TlsResolver({ dir: d, secureAccessFile: file, env: {} })
  t.equal(r.forManagement()?.certDepth, 3)
  t.equal(r.forIo(io({ 'transport.socket.ssl-cert-depth': '5' })).certDepth, 3, 'with management TLS the file\'s depth wins for every connection (socket.c)')
  t.equal(new TlsResolver({ dir: d, secureAccessFile: file, management: false, env: {} }).management, false)
  t.equal(new TlsResolver({ dir: d, secureAccessFile: file, env: { GLUSTER_TS_TLS_MGMT: 'off' } }).management, false)
  t.equal(new TlsResolver({ dir: d, secureAccessFile: noFile, env: { GLUSTER_TS_TLS_MGMT: 'on' } }).management, true)
  t.equal(new TlsResolver({ dir: d, secureAccessFile: file, certDepth: 0, env: {} }).forManagement()?.certDepth, 0)
  t.equal(secureAccessDepth('option transport.socket.ssl-cert-depth 0\n'), 1, '0 means the default, 1')
  t.equal(secureAccessDepth('option transport.socket.ssl-cert-depth x\n'), 1)
  t.equal(secureAccessDepth(' option transport.socket.ssl-cert-depth 4\n'), 1, 'the line must start with the key')
  t.equal(secureAccessDepth('option transport.socket.ssl-cert-depth 4\n'), 4)
})

t.test('sources in order: option, environment, tls.dir, volfile, default directories', async t => {
  const a = sslDir('a', 'client')
  const b = sslDir('b', 'outsider')
  const dflt = sslDir('default', 'mid')
  const vf = sslDir('volfile', 'server')
  const volfileOpts = io({
    'transport.socket.ssl-own-cert': join(vf, 'glusterfs.pem'),
    'transport.socket.ssl-private-key': join(vf, 'glusterfs.key'),
    'transport.socket.ssl-ca-list': join(vf, 'glusterfs.ca'),
  })
  const cn = (r: TlsResolver, o = volfileOpts): string => r.forIo(o).commonName
  const base = { secureAccessFile: noFile }
  const empty = join(tmp, 'empty')
  mkdirSync(empty)
  t.equal(cn(new TlsResolver({ ...base, env: {} }, [empty, dflt])), 'gts-test-server', 'the volfile names files')
  t.equal(cn(new TlsResolver({ ...base, env: {} }, [empty, dflt]), io()), 'gts-test-client', 'else the first default dir holding glusterfs.pem')
  t.equal(new TlsResolver({ ...base, env: {} }, [empty, dflt]).forIo(io()).sources.cert, join(dflt, 'glusterfs.pem'))
  t.equal(cn(new TlsResolver({ ...base, dir: b, env: {} }, [dflt])), 'gts-test-outsider', 'tls.dir beats the volfile')
  t.equal(cn(new TlsResolver({ ...base, env: { GLUSTER_TS_TLS_DIR: b } }, [dflt])), 'gts-test-outsider', 'so does GLUSTER_TS_TLS_DIR')
  t.equal(cn(new TlsResolver({ ...base, dir: b, env: { GLUSTER_TS_TLS_CERT: join(a, 'glusterfs.pem'), GLUSTER_TS_TLS_KEY: join(a, 'glusterfs.key') } })), 'gts-test-client', 'GLUSTER_TS_TLS_CERT/KEY beat a directory')
  t.equal(cn(new TlsResolver({ ...base, dir: b, certFile: join(a, 'glusterfs.pem'), keyFile: join(a, 'glusterfs.key'), env: { GLUSTER_TS_TLS_CERT: join(b, 'glusterfs.pem') } })), 'gts-test-client', 'certFile beats the environment')
  const r = new TlsResolver({ ...base, dir: b, cert: tlsFixture('client'), key: tlsFixture('client', 'key'), env: {} })
  t.equal(cn(r), 'gts-test-client', 'PEM text beats every file')
  t.same(r.forIo(volfileOpts).sources, { ca: join(b, 'glusterfs.ca'), cert: 'tls.cert option', key: 'tls.key option' })
  // management connections never read the volfile's paths (GlusterFS: issues #1114, #2684)
  t.equal(new TlsResolver({ ...base, management: true, env: {} }, [empty, dflt]).forManagement()?.commonName, 'gts-test-client')
})

t.test('the directory an installed GlusterFS reads: the path compiled into its socket.so', async t => {
  const lib = join(tmp, 'lib')
  const so = (arch: string, v: string, path: string): void => {
    const d = join(lib, arch, 'glusterfs', v, 'rpc-transport')
    mkdirSync(d, { recursive: true })
    // what strings(1) shows in Debian's builds: the three paths among other NUL-terminated text
    writeFileSync(join(d, 'socket.so'), Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1]), Buffer.from(`ssl-own-cert\0${path}/dhparam.pem\0${path}/glusterfs.pem\0${path}/glusterfs.key\0`), Buffer.alloc(64)]))
  }
  t.equal(installedGlusterTlsDir([lib]), undefined, 'no GlusterFS')
  so('x86_64-linux-gnu', '10.3', '/usr/lib/ssl')
  t.equal(installedGlusterTlsDir([lib]), '/usr/lib/ssl')
  so('x86_64-linux-gnu', '11.1', '/etc/ssl')
  t.equal(installedGlusterTlsDir([lib]), '/etc/ssl', 'the newest version installed')
  t.equal(installedGlusterTlsDir([join(tmp, 'absent')]), undefined)
})

t.test('missing or bad material is EGLUSTER_TLS_CONFIG naming the file', async t => {
  const empty = join(tmp, 'nothing')
  mkdirSync(empty)
  const r = new TlsResolver({ secureAccessFile: noFile, env: {} }, [empty, join(tmp, 'absent')])
  t.throws(() => r.forIo(io()), { code: 'EGLUSTER_TLS_CONFIG', message: new RegExp(`cannot read our TLS ca '${empty}/glusterfs.ca': ENOENT \\(no glusterfs.pem in ${empty}, `) })
  t.throws(() => new TlsResolver({ dir: join(tmp, 'absent'), secureAccessFile: noFile, env: {} }).forIo(io()), { code: 'EGLUSTER_TLS_CONFIG', message: /absent\/glusterfs\.ca': ENOENT$/ })
  const bad = sslDir('bad', 'client')
  writeFileSync(join(bad, 'glusterfs.key'), tlsFixture('server', 'key'))
  t.throws(() => new TlsResolver({ dir: bad, secureAccessFile: noFile, env: {} }).forIo(io()), { code: 'EGLUSTER_TLS_CONFIG', message: /bad\/glusterfs\.key/ })
  t.throws(() => new TlsResolver({ dir: sslDir('c', 'client'), secureAccessFile: noFile, env: {} }).forIo(io({ 'transport.socket.ssl-cipher-list': 'NOPE' })), { code: 'EGLUSTER_TLS_CONFIG', message: /cipher list/ })
})

t.test('a volfile with TLS on builds a client graph (it used to be refused)', async t => {
  const vf = `volume v-client-0
    type protocol/client
    option remote-host 10.0.0.1
    option remote-subvolume /b
    option transport.socket.ssl-enabled on
end-volume
`
  const g = buildClientGraph(vf)
  t.equal(g.clients.length, 1)
  t.ok(ioTlsEnabled(g.clients[0]!.options))
  t.notOk(ioTlsEnabled(buildClientGraph(vf.replace('ssl-enabled on', 'ssl-enabled off')).clients[0]!.options))
  t.ok(ioTlsEnabled(buildClientGraph(vf.replace('ssl-enabled on', 'ssl-enabled off'), { '*': { 'transport.socket.ssl-enabled': 'true' } }).clients[0]!.options), 'xlatorOptions can turn it on')
})
