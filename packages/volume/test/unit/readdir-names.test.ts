// A brick (hostile or broken) that lists a name which is not one path component: '', 'a/b',
// '../x', or one with NUL. Callers join names to paths (cp -r and sync write local files under
// them), so the listing fails with EIO naming the brick, as Linux's FUSE does for such an entry.
import t from 'tap'
import { FopProgram, GlusterError } from '@gluster-ts/rpc'
import { ClientLayer } from '../../src/client-layer.js'
import type { BrickClient } from '../../src/brick.js'
import type { Inode } from '../../src/layer.js'

function layerListing (names: string[]): { layer: ClientLayer, released: () => number } {
  let released = 0
  const brick = {
    label: 'h1:49152:/b1',
    spec: { name: 'v-client-0' },
    async call (proc: { name: string }) {
      if (proc === FopProgram.procs.OPENDIR) return { op_ret: 0, op_errno: 0, fd: 7n, xdata: new Map() }
      if (proc === FopProgram.procs.RELEASEDIR) { released++; return { op_ret: 0, op_errno: 0, xdata: new Map() } }
      if (proc === FopProgram.procs.READDIRP) {
        return {
          op_ret: names.length, op_errno: 2, xdata: new Map(),
          reply: names.map((name, i) => ({ d_ino: BigInt(i + 1), d_off: BigInt(i + 1), d_len: name.length, d_type: 8, name, stat: {}, dict: new Map() })),
        }
      }
      throw new Error(`unexpected ${proc.name}`)
    },
  } as unknown as BrickClient
  return { layer: new ClientLayer(brick, { attemptTimeoutMs: 1000 }), released: () => released }
}

const dir = { gfid: Buffer.alloc(16, 1), stat: {}, xdata: new Map() } as unknown as Inode

t.test('ordinary names are listed', async t => {
  const { layer, released } = layerListing(['.', '..', 'a', 'b.txt', '...'])
  const got: string[] = []
  for await (const page of layer.readdir(dir, { path: '/d' })) got.push(...page.map(e => e.name))
  t.same(got, ['a', 'b.txt', '...'])
  t.equal(released(), 1)
})

for (const bad of ['', 'a/b', '../../etc/cron.d/x', '/abs', 'nul\0name']) {
  t.test(`a listed name ${JSON.stringify(bad)} is EIO naming the brick`, async t => {
    const { layer, released } = layerListing(['ok', bad])
    const err = await (async () => { for await (const _ of layer.readdir(dir, { path: '/d' })) { /* drain */ } })().then(() => undefined, (e: unknown) => e)
    t.ok(err instanceof GlusterError, 'a typed error')
    t.match(err, { code: 'EIO', brick: 'h1:49152:/b1', syscall: 'readdir', path: '/d' })
    await new Promise(r => setImmediate(r))
    t.equal(released(), 1, 'the directory fd is released')
  })
}
