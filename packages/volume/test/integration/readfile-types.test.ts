// readFile is typed as fs/promises types it (issue 17): Promise<string> when an encoding is
// given, Promise<Buffer> when none is, Buffer | string only when the encoding is not known
// statically. The type half is checked by `pnpm typecheck` (tsc -p packages/volume/test): with
// the old signature (Buffer | string whatever the options) the assertions below do not compile.
// The run half checks that the values are what the types say, on a loopback cluster.
import t from 'tap'
import { startCluster } from '../../../../test-cluster/ts-cluster.js'
import { Volume } from '../../src/index.js'

/** true when A and B are the same type (not merely assignable either way). */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
function sameType<T extends true> (_: T): void {}

t.test('readFile: a string with an encoding, a Buffer without, as fs/promises', async t => {
  const c = await startCluster({ dir: t.testdir(), replica: 3, port: 0 })
  t.teardown(() => c.close())
  const vol = await Volume.connect({ servers: c.volfileServer, volume: c.volume.name })
  t.teardown(() => vol.close())
  await vol.writeFile('/t.txt', 'héllo\n')

  const s = await vol.readFile('/t.txt', { encoding: 'utf8' })
  sameType<Same<typeof s, string>>(true)
  t.equal(s, 'héllo\n')

  const latin = await vol.readFile('/t.txt', { encoding: 'latin1' })
  sameType<Same<typeof latin, string>>(true)
  t.equal(latin, Buffer.from('héllo\n').toString('latin1'))

  const b = await vol.readFile('/t.txt')
  sameType<Same<typeof b, Buffer>>(true)
  t.ok(Buffer.isBuffer(b))
  t.equal(b.toString('utf8'), 'héllo\n')

  const n = await vol.readFile('/t.txt', { encoding: null })
  sameType<Same<typeof n, Buffer>>(true)
  t.ok(Buffer.isBuffer(n), 'encoding null: a Buffer, as fs')

  // an encoding known only at run time: either, as fs/promises' last overload
  const enc = (process.env.GTS_NO_SUCH_VARIABLE === undefined ? 'hex' : null) as BufferEncoding | null
  const either = await vol.readFile('/t.txt', { encoding: enc })
  sameType<Same<typeof either, Buffer | string>>(true)
  t.equal(either, Buffer.from('héllo\n').toString('hex'))
})
