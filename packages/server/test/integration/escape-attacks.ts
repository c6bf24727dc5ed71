// The path-escape attacks of issue 13 as functions, run by escape.test.ts against startCluster()
// and by attacks-bin.test.ts against the built `gluster-ts cluster`: a SETATTR of the size (and
// mode, owner, times) on a symlink to a host file; SETATTR, TRUNCATE, OPEN+WRITE and LINK racing
// RENAMEs that put a symlink where a file or a directory was. Canaries live outside the brick.
import type { Test } from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ROOT_GFID } from '@gluster-ts/rpc'
import { attach } from './brick-client.js'
import type { AttachTarget } from './brick-client.js'
import { fops, snapshot, makeCanaries, V } from './fops.js'

const EINVAL = 22
const ELOOP = 40
/** how long each race runs (the chmod race hit in under 2 s on the old brick) */
export const RACE_MS = Number(process.env.GTS_RACE_MS ?? 6000)
/** the combined race: at least 30 s (issue 13 acceptance) */
/** attack calls sent at once (pipelined; the server runs up to 64 per connection) */
const BURST = Number(process.env.GTS_RACE_BURST ?? 64)
export const LONG_RACE_MS = Math.max(30_000, Number(process.env.GTS_LONG_RACE_MS ?? 30_000))

export function canaryDir (t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gts-canary-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return makeCanaries(dir)
}

/** SETATTR SIZE/MODE/UID/times, TRUNCATE and OPEN on a symlink to a host file: refused or harmless. */
export async function symlinkAttack (t: Test, c: AttachTarget): Promise<void> {
  const canary = canaryDir(t)
  const before = snapshot(canary)
  const f = fops(await attach(t, c))
  const l = await f.symlink(ROOT_GFID, 'x', path.join(canary, 'secret'))
  t.equal(l.op_ret, 0)
  const r = await f.setattr(l.gfid, V.SIZE, { ia_size: 0n })
  t.equal(r.op_errno, EINVAL, 'SETATTR SIZE of a symlink')
  t.equal((await f.truncate(l.gfid, 3n)).op_errno, EINVAL, 'TRUNCATE of a symlink')
  t.equal((await f.open(l.gfid, 0o2)).op_errno, ELOOP, 'OPEN of a symlink')
  t.equal((await f.setattr(l.gfid, V.MODE, { mode: 0o4777 })).op_ret, 0, 'MODE of a symlink: accepted, changes nothing outside')
  t.equal((await f.setattr(l.gfid, V.UID | V.GID, { ia_uid: 4242, ia_gid: 4242 })).op_ret, 0)
  t.equal((await f.setattr(l.gfid, V.ATIME | V.MTIME, { ia_atime: 1n, ia_mtime: 1n })).op_ret, 0)
  t.same(snapshot(canary), before, 'nothing outside the brick changed')
}

type Fops = ReturnType<typeof fops>

export interface RaceOpts {
  /** where the swap happens: the file's own name, or the directory on its path */
  swap: 'file' | 'dir'
  /** one call racing the swap, on the file's gfid */
  attack: (f: Fops, gfid: Buffer, i: number) => Promise<unknown>
  ms: number
}

/**
 * One race, in rounds: each round the swapper connection puts a symlink to the canaries where
 * F's name was (`file`: a symlink renamed over F) or where F's directory was (`dir`: the
 * directory renamed away, a symlink put at its name), while the victim connection sends a burst
 * of BURST `attack` calls on F's gfid at the same moment (pipelined: the server has them all in
 * flight while the swap happens); then things are put back. A brick that checks a path and then
 * acts on it (lstat, then chmod/truncate/…) lets some of the burst act through the symlink.
 * Runs until `ms` passed, or stops early once anything outside the brick changed.
 */
export async function race (t: Test, c: AttachTarget, canary: string, o: RaceOpts): Promise<void> {
  const before = JSON.stringify(snapshot(canary))
  const victim = fops(await attach(t, c))
  const swapper = fops(await attach(t, c))
  const deadline = Date.now() + o.ms
  let attacks = 0
  let rounds = 0
  const tag = Math.random().toString(36).slice(2, 8)
  const dname = `d${tag}`
  const dir = o.swap === 'dir' ? (await swapper.mkdir(ROOT_GFID, dname)).gfid : ROOT_GFID
  const fname = o.swap === 'dir' ? 'f' : `f${tag}`
  const F = (await swapper.create(dir, fname)).gfid
  const burst = (): Promise<unknown> => {
    const n = rounds * BURST
    attacks += BURST
    return Promise.all(Array.from({ length: BURST }, (_, j) => o.attack(victim, F, n + j)))
  }
  while (Date.now() < deadline) {
    if (o.swap === 'file') {
      await swapper.symlink(ROOT_GFID, `l${tag}`, path.join(canary, 'f'))
      await Promise.all([swapper.rename(ROOT_GFID, `l${tag}`, ROOT_GFID, fname), burst()])
      await swapper.unlink(ROOT_GFID, fname)
      // F again under its name (its record went with its last link): gfid-req F
      const r = await swapper.createAs(F, ROOT_GFID, fname)
      if (r.op_ret === 0) await swapper.release(F, r.fd)
    } else {
      await Promise.all([swapper.rename(ROOT_GFID, dname, ROOT_GFID, `${dname}-away`), swapper.symlink(ROOT_GFID, dname, canary), burst()])
      await swapper.unlink(ROOT_GFID, dname)
      await swapper.rename(ROOT_GFID, `${dname}-away`, ROOT_GFID, dname)
    }
    rounds++
    if (JSON.stringify(snapshot(canary)) !== before) break
  }
  t.same(snapshot(canary), JSON.parse(before), `nothing outside the brick changed (${o.swap} swap: ${attacks} attacks in ${rounds} rounds)`)
}

// Each attribute change is sent with a size change (SETATTR valid X|SIZE, as the FUSE client
// sends for an open with O_TRUNC that also kills a set-uid bit): such SETATTRs are queued per
// file behind each other, so they reach the backend spread over the whole swap.
export const mode: RaceOpts['attack'] = (f, g, i) => f.setattr(g, V.MODE | V.SIZE, { mode: 0o100000 | (i % 2 === 0 ? 0o4777 : 0o6755), ia_size: 9n })
export const owner: RaceOpts['attack'] = (f, g, i) => f.setattr(g, V.UID | V.GID | V.SIZE, { ia_uid: 4242 + (i % 2), ia_gid: 4242, ia_size: 9n })
export const times: RaceOpts['attack'] = (f, g, i) => f.setattr(g, V.ATIME | V.MTIME | V.SIZE, { ia_atime: BigInt(1000 + i), ia_mtime: BigInt(1000 + i), ia_size: 9n })
export const size: RaceOpts['attack'] = (f, g, i) => i % 2 === 0 ? f.setattr(g, V.SIZE, { ia_size: 1n }) : f.truncate(g, 2n)
export const openWrite: RaceOpts['attack'] = async (f, g) => {
  const r = await f.open(g, 0o1 | 0o1000) // O_WRONLY|O_TRUNC
  if (r.op_ret === 0) { await f.write(g, r.fd, Buffer.from('pwned')); await f.release(g, r.fd) }
}
export const link: RaceOpts['attack'] = async (f, g, i) => {
  const r = await f.link(g, ROOT_GFID, `hl${i}`)
  if (r.op_ret === 0) await f.unlink(ROOT_GFID, `hl${i}`)
}

/** every attack, in turn */
export const anyAttack: RaceOpts['attack'] = (f, g, i) => { const all = [mode, owner, times, size, openWrite, link]; return all[i % all.length]!(f, g, i) }
