// Issue 13's brick attacks against the BUILT `gluster-ts cluster` (after `pnpm build`), as a user
// runs it: the symlink and rename-race escapes (escape-attacks.ts), fd exhaustion by one client,
// READDIR memory, READDIRP's reply cap, journal growth from small xattr changes, and the
// authentication checks (auth-probe.ts). escape.test.ts, limits.test.ts and auth.test.ts run the
// same against startCluster() with the brick's counters in reach; here only what a peer and the
// host see is checked (replies, the process's RSS, the brick directory, canaries outside it).
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { RpcClient, getSpec, glusterfsV3Cred, ROOT_GFID } from '@gluster-ts/rpc'
import type { VolumeConfig } from '@gluster-ts/server'
import { attach } from './brick-client.js'
import { fops } from './fops.js'
import { canaryDir, race, symlinkAttack, anyAttack, RACE_MS } from './escape-attacks.js'
import { authChecks } from './auth-probe.js'
import { startBuilt, needsBuild, rssMiB } from './built-cluster.js'

t.setTimeout(600_000)

const EMFILE = 24
const journalBytes = (brick: string): number => fs.statSync(path.join(brick, '.glusterfs-ts', 'journal', 'journal.log')).size

t.test('path escapes: symlink SIZE/MODE/UID and rename races leave the host untouched', { skip: needsBuild }, async t => {
  const c = await startBuilt(t)
  await symlinkAttack(t, c)
  const canary = canaryDir(t)
  await Promise.all([
    race(t, c, canary, { swap: 'file', attack: anyAttack, ms: RACE_MS }),
    race(t, c, canary, { swap: 'dir', attack: anyAttack, ms: RACE_MS }),
  ])
  t.equal(c.proc.exitCode, null, 'the server is still running')
})

t.test('resources: fds, directory listings, READDIRP size, the journal', { skip: needsBuild }, async t => {
  const c = await startBuilt(t)
  const attackerClient = await attach(t, c)
  const attacker = fops(attackerClient)
  const other = fops(await attach(t, c))
  const f = await other.create(ROOT_GFID, 'f')
  t.equal(f.op_ret, 0)

  // 20,000 pipelined OPENs from one client: it is refused past its cap, the other client is served
  const N = 20_000
  const replies = await Promise.all(Array.from({ length: N }, () => attacker.open(f.gfid, 0)))
  const opened = replies.filter(r => r.op_ret === 0).length
  t.ok(opened > 0 && opened < N, `the attacker got ${opened} fds of ${N}`)
  t.ok(replies.every(r => r.op_ret === 0 || r.op_errno === EMFILE), 'every other OPEN: EMFILE')
  const o = await other.open(f.gfid, 2)
  t.equal(o.op_ret, 0, 'the other client still opens')
  t.equal((await other.write(f.gfid, o.fd, Buffer.from('still here'))).op_ret, 10)
  t.equal((await other.create(ROOT_GFID, 'g')).op_ret, 0, 'and creates')
  const mgmt = await RpcClient.connect(c.volfileServer, { cred: glusterfsV3Cred({ pid: 1 }) })
  t.teardown(() => { mgmt.destroy() })
  t.match((await getSpec(mgmt, c.volume.name)).spec, /-client-0/, 'glusterd serves GETSPEC')
  attackerClient.destroy()

  // 1,000 OPENDIR + READDIR(size 1) of a big directory: memory stays bounded (was +360 MiB)
  const big = await other.mkdir(ROOT_GFID, 'big')
  t.equal(big.op_ret, 0)
  let made = 0
  for (let i = 0; i < 3000; i++) if ((await other.create(big.gfid, `name-with-some-length-${String(i).padStart(5, '0')}`)).op_ret === 0) made++
  t.equal(made, 3000, '3,000 files in big/')
  const rss0 = rssMiB(c.proc.pid!)
  // (4 clients of 250: one client's fd cap is a quarter of the process's, which may be under 1,000)
  const listers = await Promise.all(Array.from({ length: 4 }, async () => fops(await attach(t, c))))
  let failed = 0
  for (let i = 0; i < 1000; i++) {
    const l = listers[i % 4]!
    const d = await l.opendir(big.gfid)
    const r = await l.readdir(big.gfid, d.fd, 1)
    if (d.op_ret !== 0 || r.op_ret < 1) failed++
  }
  t.equal(failed, 0, '1,000 OPENDIR+READDIR(size 1) answered')
  const grew = rssMiB(c.proc.pid!) - rss0
  t.ok(grew < 64, `RSS grew by ${grew} MiB holding 1,000 directory fds (limit 64)`)

  // READDIRP with size 0xffffffff: one bounded reply, not the whole directory
  const d = await other.opendir(big.gfid)
  const r = await other.readdirp(big.gfid, d.fd, 0xffffffff)
  t.ok(r.op_ret > 0 && r.op_ret < 3002, `${r.op_ret} of 3002 entries in the first reply`)

  // 40 one-byte xattr changes beside a 64 KiB value: the journal grows by far less than one re-log
  t.equal((await other.setxattr(f.gfid, { 'user.big': Buffer.alloc(65536, 0xab) })).op_ret, 0)
  const before = journalBytes(c.brickPath)
  let set = 0
  for (let i = 0; i < 40; i++) if ((await other.setxattr(f.gfid, { 'user.small': Buffer.from([i]) })).op_ret === 0) set++
  t.equal(set, 40, '40 SETXATTRs accepted')
  const logged = journalBytes(c.brickPath) - before
  t.ok(logged < 65536, `40 small SETXATTRs grew the journal by ${logged} bytes (one re-log of the record would be over 64 KiB)`)
  t.equal(c.proc.exitCode, null, 'the server is still running')
})

t.test('authentication: AUTH_NULL, wrong credentials, foreign SIGNIN/SIGNOUT', { skip: needsBuild }, async t => {
  const c = await startBuilt(t, [], 3)
  const saved = JSON.parse(fs.readFileSync(path.join(c.dir, 'cluster.json'), 'utf8')) as { volumes: VolumeConfig[] }
  const volume = saved.volumes.find(v => v.name === c.volume.name)!
  await authChecks(t, { volfileServer: c.volfileServer, volume, brickPort: i => c.brickPorts[i]! })
})
