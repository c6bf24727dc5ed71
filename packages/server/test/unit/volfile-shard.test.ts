// The client volfile of a sharded volume: features/shard right above cluster/distribute, with
// `option shard-block-size` only when the size was set, as glusterd 10.3 writes it
// (captures/volume-types/shard-4MB/vol4.tcp-fuse.vol; the virt group's volfile has no option);
// block sizes outside 4MB..4TB are refused.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { clientVolfile, newVolumeConfig, sizeBytes } from '../../src/volfile.js'

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
