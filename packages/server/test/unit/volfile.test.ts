// The client volfiles our glusterd serves, byte for byte against what real glusterd 10.3 wrote for
// the same volume (captures/volfiles/, copied into packages/volume/test/fixtures/volfiles): the
// plain one, and the trusted one, which differs only by username/password on every client.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { clientVolfile, newVolumeConfig, brickAuth, validateVolume } from '@gluster-ts/server'
import type { VolumeConfig } from '@gluster-ts/server'

const fixture = (name: string): Promise<string> => readFile(new URL(`../../../volume/test/fixtures/volfiles/${name}`, import.meta.url), 'utf8')

/** vol1 of the capture: `vol1.info.txt` (id, username, password) and its three bricks */
const vol1: VolumeConfig = {
  name: 'vol1', id: 'f9dbfbeb-31cf-49b0-8faa-66ece9a1e036', replica: 3,
  username: '12d8cede-e53b-467d-a0d9-89197e42e905', password: 'cfd5686d-c898-4775-b4ef-f5888215738b',
  bricks: [1, 2, 3].map(n => ({ host: `10.77.0.1${n}`, path: `/tmp/realcluster/n${n}/bricks/vol1` })),
}

t.test('plain and trusted volfiles are what glusterd 10.3 writes', async t => {
  t.equal(clientVolfile(vol1), await fixture('vol1.tcp-fuse.vol'), 'vol1.tcp-fuse.vol')
  t.equal(clientVolfile(vol1, { trusted: true }), await fixture('vol1.trusted-tcp-fuse.vol'), 'trusted-vol1.tcp-fuse.vol')
  t.equal(clientVolfile(vol1, { glusterdPort: 24007, trusted: true }), await fixture('vol1.trusted-tcp-fuse.vol'), 'port 24007 adds no remote-port')
})

t.test('new volumes get credentials; brickAuth is what glusterd writes into brick volfiles', async t => {
  const v = newVolumeConfig({ name: 'v', replica: 1, bricks: [{ host: 'h', path: '/b' }] })
  t.match(v, { username: /^[0-9a-f-]{36}$/, password: /^[0-9a-f-]{36}$/ })
  t.not(v.username, v.password)
  t.same(brickAuth(v), { allow: '*', allowInsecure: true, login: { username: v.username, password: v.password } }, 'defaults: auth.allow *, allow-insecure on')
  t.same(brickAuth({ ...v, options: { 'auth.allow': '10.0.0.0/8', 'auth.reject': '10.1.*', 'server.allow-insecure': 'off' } }),
    { allow: '10.0.0.0/8', reject: '10.1.*', allowInsecure: false, login: { username: v.username, password: v.password } })
})

t.test('credentials and options that would break a volfile are refused', async t => {
  const base = newVolumeConfig({ name: 'v', replica: 1, bricks: [{ host: 'h', path: '/b' }] })
  t.throws(() => { validateVolume({ ...base, password: 'two words' }) }, /password must be/)
  t.throws(() => { validateVolume({ ...base, username: 'a\noption evil x' }) }, /username must be/)
  t.throws(() => { validateVolume({ ...base, options: { 'auth.allow': '10.0.0.1 10.0.0.2' } }) }, /auth\.allow: bad entry/)
  t.throws(() => { validateVolume({ ...base, options: { 'server.allow-insecure': 'maybe' } }) }, /server\.allow-insecure/)
})
