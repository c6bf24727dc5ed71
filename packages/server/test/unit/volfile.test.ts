// The client volfiles our glusterd serves, byte for byte against what real glusterd 10.3 wrote for
// the same volume (captures/volfiles/, copied into packages/volume/test/fixtures/volfiles): the
// plain one, and the trusted one, which differs only by username/password on every client.
// Also the client volfile of a sharded volume: features/shard right above cluster/distribute, with
// `option shard-block-size` only when the size was set, as glusterd 10.3 writes it
// (captures/volume-types/shard-4MB/vol4.tcp-fuse.vol; the virt group's volfile has no option);
// block sizes outside 4MB..4TB are refused. And a dispersed volume's, as glusterd wrote vol3
// (captures/volume-types/disperse-2+1/vol3.tcp-fuse.vol).
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { clientVolfile, newVolumeConfig, brickAuth, validateVolume } from '@gluster-ts/server'
import type { VolumeConfig } from '@gluster-ts/server'
import { readFileSync } from 'node:fs'
import { sizeBytes } from '../../src/volfile.js'

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

const bricks = [1, 2, 3].map(n => ({ host: `10.77.0.1${n}`, path: `/tmp/realcluster/n${n}/bricks/vol4` }))
const captured = readFileSync(new URL('../../../volume/test/fixtures/shard-4MB/vol4.tcp-fuse.vol', import.meta.url), 'utf8')
const block = (text: string, name: string): string => {
  const i = text.indexOf(`volume ${name}\n`)
  return i < 0 ? '' : text.slice(i, text.indexOf('end-volume\n', i) + 'end-volume\n'.length)
}

t.test('features/shard as glusterd writes it', async t => {
  const v = newVolumeConfig({ name: 'vol4', replica: 3, bricks, shard: { blockSize: '4MB' } })
  const text = clientVolfile(v)
  t.equal(block(text, 'vol4-shard'), block(captured, 'vol4-shard'), 'the shard xlator, byte for byte as captured')
  t.equal(block(text, 'vol4-utime'), block(captured, 'vol4-utime'), 'utime above it')
  t.match(block(text, 'vol4-dht'), /cluster\/distribute/)
  const virt = clientVolfile(newVolumeConfig({ name: 'virt', replica: 3, bricks, shard: {} }))
  t.equal(block(virt, 'virt-shard'), 'volume virt-shard\n    type features/shard\n    subvolumes virt-dht\nend-volume\n', 'default block size: no option line')
  t.notMatch(clientVolfile(newVolumeConfig({ name: 'plain', replica: 3, bricks })), /features\/shard/, 'no shard unless asked for')
})

t.test('block sizes', async t => {
  for (const [s, n] of [['4MB', 4 << 20], ['64mb', 64 << 20], ['1GB', 1 << 30], ['4194304', 4194304], ['4TB', 4 * 2 ** 40], ['x', undefined], ['1.5MB', undefined]] as const) t.equal(sizeBytes(s), n, s)
  for (const bad of ['1MB', '8TB', 'big']) t.throws(() => newVolumeConfig({ name: 'v', replica: 3, bricks, shard: { blockSize: bad } }), /shard block size/, bad)
})

t.test('cluster/disperse as glusterd writes it; geometries glusterd refuses', async t => {
  const capturedEc = readFileSync(new URL('../../../volume/test/fixtures/disperse-2+1/vol3.tcp-fuse.vol', import.meta.url), 'utf8')
  const b3 = [1, 2, 3].map(n => ({ host: `10.77.0.1${n}`, path: `/tmp/realcluster/n${n}/bricks/vol3` }))
  const text = clientVolfile(newVolumeConfig({ name: 'vol3', replica: 1, bricks: b3, disperse: { count: 3, redundancy: 1 } }))
  t.equal(block(text, 'vol3-disperse-0'), block(capturedEc, 'vol3-disperse-0'), 'the disperse xlator, byte for byte as captured')
  t.equal(block(text, 'vol3-dht'), block(capturedEc, 'vol3-dht'), 'distribute above it')
  const six = [...b3, ...b3.map(b => ({ ...b, path: `${b.path}b` }))]
  const two = clientVolfile(newVolumeConfig({ name: 'w', replica: 1, bricks: six, disperse: { count: 3, redundancy: 1 } }))
  t.match(block(two, 'w-dht'), 'subvolumes w-disperse-0 w-disperse-1', 'two sets of three')
  for (const [count, redundancy, n] of [[3, 0, 3], [4, 2, 4], [3, 1, 4], [20, 2, 20]] as const) {
    t.throws(() => newVolumeConfig({ name: 'v', replica: 1, bricks: six.concat(six, six, six).slice(0, n), disperse: { count, redundancy } }), /disperse/, `disperse ${count} redundancy ${redundancy} over ${n} bricks`)
  }
  t.throws(() => newVolumeConfig({ name: 'v', replica: 3, bricks: b3, disperse: { count: 3, redundancy: 1 } }), /cannot be combined/)
})
