// Issue 13 item 1, as a property: random fop sequences from three connections at once, on a
// small pool of names in the brick root and one subdirectory, where symlinks point at canary
// files and directories outside the brick and renames move them over files and directories
// that other connections are changing. Whatever the interleaving: nothing outside the brick
// changes (content, mode, owner, times, no new entries) and the brick keeps serving.
// GTS_FUZZ_RUNS (default 100), GTS_FUZZ_SEED.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import { ROOT_GFID } from '@gluster-ts/rpc'
import { cluster, attach } from './brick-client.js'
import { fops, snapshot, makeCanaries, V } from './fops.js'

const RUNS = Number(process.env.GTS_FUZZ_RUNS ?? 100)
const SEED = process.env.GTS_FUZZ_SEED !== undefined ? Number(process.env.GTS_FUZZ_SEED) : undefined
const NAMES = ['a', 'b', 'c', 'l']

type Fops = ReturnType<typeof fops>
type Where = 'root' | 'sub'
interface Cmd { op: string, where: Where, name: string, other: string, n: number }

const cmd: fc.Arbitrary<Cmd> = fc.record({
  op: fc.constantFrom('symlinkFile', 'symlinkDir', 'create', 'mkdir', 'mknod', 'rename', 'renameAcross', 'unlink', 'rmdir', 'link',
    'mode', 'owner', 'times', 'size', 'truncate', 'openWrite', 'createTrunc', 'readlink', 'readdirp', 'setxattr'),
  where: fc.constantFrom<Where>('root', 'sub'),
  name: fc.constantFrom(...NAMES),
  other: fc.constantFrom(...NAMES),
  n: fc.nat(0xffff),
})

t.test('random fops from three connections never change anything outside the brick', async t => {
  const canary = makeCanaries(fs.mkdtempSync(path.join(os.tmpdir(), 'gts-canary-')))
  t.teardown(() => fs.rmSync(canary, { recursive: true, force: true }))
  const before = snapshot(canary)
  const c = await cluster(t)
  const conns = [fops(await attach(t, c)), fops(await attach(t, c)), fops(await attach(t, c))]
  const probe = conns[0]!
  let sub = (await probe.mkdir(ROOT_GFID, 'sub')).gfid

  const gfidOf = async (f: Fops, parent: Buffer, name: string): Promise<Buffer | undefined> => {
    const r = await f.lookup(parent, name)
    return r.op_ret === 0 ? r.prestat.ia_gfid : undefined
  }
  const run = async (f: Fops, k: Cmd): Promise<void> => {
    const parent = k.where === 'root' ? ROOT_GFID : sub
    const g = (): Promise<Buffer | undefined> => gfidOf(f, parent, k.name)
    switch (k.op) {
      case 'symlinkFile': await f.symlink(parent, k.name, path.join(canary, k.n % 2 === 0 ? 'f' : 'secret')); break
      case 'symlinkDir': await f.symlink(parent, k.name, k.n % 2 === 0 ? canary : path.join(canary, 'sub')); break
      case 'create': { const r = await f.create(parent, k.name); if (r.op_ret === 0) await f.release(r.gfid, r.fd); break }
      case 'mkdir': await f.mkdir(parent, k.name); break
      case 'mknod': await f.mknod(parent, k.name, 0o100644); break
      case 'rename': await f.rename(parent, k.name, parent, k.other); break
      case 'renameAcross': await f.rename(parent, k.name, k.where === 'root' ? sub : ROOT_GFID, k.other); break
      case 'unlink': await f.unlink(parent, k.name); break
      case 'rmdir': await f.rmdir(parent, k.name); break
      case 'link': { const x = await g(); if (x !== undefined) await f.link(x, parent, k.other); break }
      case 'mode': { const x = await g(); if (x !== undefined) await f.setattr(x, V.MODE, { mode: 0o4777 }); break }
      case 'owner': { const x = await g(); if (x !== undefined) await f.setattr(x, V.UID | V.GID, { ia_uid: 4242, ia_gid: 4242 }); break }
      case 'times': { const x = await g(); if (x !== undefined) await f.setattr(x, V.ATIME | V.MTIME, { ia_atime: 7n, ia_mtime: 7n }); break }
      case 'size': { const x = await g(); if (x !== undefined) await f.setattr(x, V.SIZE | V.MODE, { ia_size: BigInt(k.n % 3), mode: 0o100600 }); break }
      case 'truncate': { const x = await g(); if (x !== undefined) await f.truncate(x, 1n); break }
      case 'openWrite': {
        const x = await g()
        if (x === undefined) break
        const r = await f.open(x, 0o1 | 0o1000)
        if (r.op_ret === 0) { await f.write(x, r.fd, Buffer.from('pwned')); await f.release(x, r.fd) }
        break
      }
      case 'createTrunc': { const r = await f.create(parent, k.name, 0o644, 0o1 | 0o100 | 0o1000); if (r.op_ret === 0) { await f.write(r.gfid, r.fd, Buffer.from('x')); await f.release(r.gfid, r.fd) } break }
      case 'readlink': { const x = await g(); if (x !== undefined) await f.stat(x); break }
      case 'readdirp': { const d = await f.opendir(parent); if (d.op_ret === 0) { await f.readdirp(parent, d.fd); await f.releasedir(parent, d.fd) } break }
      case 'setxattr': { const x = await g(); if (x !== undefined) await f.setattr(x, V.MTIME_NOW | V.ATIME_NOW, {}); break }
    }
  }

  let runs = 0
  await fc.assert(fc.asyncProperty(fc.tuple(fc.array(cmd, { maxLength: 40 }), fc.array(cmd, { maxLength: 40 }), fc.array(cmd, { maxLength: 40 })), async lanes => {
    runs++
    await Promise.all(lanes.map(async (cmds, i) => { for (const k of cmds) await run(conns[i]!, k) }))
    if ((await probe.stat(ROOT_GFID)).op_ret !== 0) return false
    // the subdirectory may have been renamed or replaced: find or make it again
    sub = (await gfidOf(probe, ROOT_GFID, 'sub')) ?? (await probe.mkdir(ROOT_GFID, 'sub')).gfid
    const now = snapshot(canary)
    return JSON.stringify(now) === JSON.stringify(before)
  }), { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) })
  t.same(snapshot(canary), before, `canaries unchanged after ${runs} runs`)
})
