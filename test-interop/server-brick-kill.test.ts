// Issue 6 acceptance: one process per brick. SIGKILL one brick process during a FUSE `cp -a` of a
// few thousand files: the copy completes (AFR writes to the two survivors and marks pending
// counters on them by XATTROP). Restart the brick: it is registered with our portmapper on a new port, the
// FUSE client reconnects (it retries every 3 s through PORTBYBRICK), and reads are correct although
// the restarted brick misses what was written while it was down (no self-heal): AFR picks the good
// copies from the pending xattrs that LOOKUP returns.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fuseSkipReason, sh, waitFor, mount, umount, startChildCluster, pickTree } from './server-fuse-helpers.js'
import type { ChildCluster } from './server-fuse-helpers.js'

t.setTimeout(600_000)

function alive (pid: number): boolean {
  try { process.kill(pid, 0); return true } catch { return false }
}

function countFiles (dir: string): number {
  let n = 0
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === '.glusterfs-ts') continue
    n++
    if (e.isDirectory()) n += countFiles(path.join(dir, e.name))
  }
  return n
}

const reason = fuseSkipReason()
t.test('SIGKILL a brick process during a FUSE copy, restart it, reads stay correct', { skip: reason ?? false }, async t => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'gts-brick-kill-'))
  const dir = path.join(base, 'cluster')
  const mnt = path.join(base, 'mnt')
  const log = path.join(base, 'fuse.log')
  fs.mkdirSync(mnt)
  const c: ChildCluster = await startChildCluster(dir, ['--replica', '3', '--volume', 'vol1', '--brick-processes'])
  const pidsStarted = new Set<number>()
  t.teardown(async () => {
    await umount(mnt).catch(() => {})
    for (const pid of c.brickPids.values()) pidsStarted.add(pid)
    await c.close()
    // brick processes stop with the cluster; make sure none outlives the test (only ours, by pid)
    for (const pid of pidsStarted) if (alive(pid)) { try { process.kill(pid, 'SIGKILL') } catch {} }
    if (process.env.GTS_KEEP === undefined) fs.rmSync(base, { recursive: true, force: true })
  })
  t.equal(c.brickPids.size, 3, 'three brick processes')
  for (const pid of c.brickPids.values()) { pidsStarted.add(pid); t.not(pid, c.proc.pid, 'a brick runs in its own process') }
  t.comment(`cluster ${c.host}:${c.port} (pid ${c.proc.pid}), bricks ${[...c.brickPids].map(([i, p]) => `${i}:pid ${p} port ${c.brickPorts.get(i)}`).join(', ')}, client log ${log}`)
  await mount(c, mnt, log)

  const tree = pickTree()
  const files = Number((await sh('sh', ['-c', `find "${tree}" | wc -l`])).trim())
  const victim = 1
  const victimPid = c.brickPids.get(victim)!
  const oldPort = c.brickPorts.get(victim)!
  const t0 = Date.now()
  const copy = sh('cp', ['-a', tree, path.join(mnt, 'tree')], { timeoutMs: 480_000 })
  // kill once the copy is under way
  await waitFor('the copy to start', 60_000, () => fs.existsSync(path.join(c.volume.bricks[0]!.path, 'tree')) && countFiles(path.join(c.volume.bricks[0]!.path, 'tree')) > 200)
  process.kill(victimPid, 'SIGKILL')
  const killedAt = Date.now()
  t.comment(`SIGKILLed brick ${victim} (pid ${victimPid}) ${((killedAt - t0) / 1000).toFixed(1)} s into the copy`)
  await copy
  t.comment(`cp -a of ${files} entries: ${((Date.now() - t0) / 1000).toFixed(1)} s (brick ${victim} down for the last ${((Date.now() - killedAt) / 1000).toFixed(1)} s)`)
  t.notOk(alive(victimPid), 'the brick process is gone')
  await sh('diff', ['-r', '--no-dereference', tree, path.join(mnt, 'tree')], { timeoutMs: 240_000 })
  t.pass('diff -r after the copy with one brick down: identical')

  const onVictim = countFiles(path.join(c.volume.bricks[victim]!.path, 'tree'))
  const onGood = countFiles(path.join(c.volume.bricks[0]!.path, 'tree'))
  t.ok(onVictim < onGood, `the killed brick misses entries (${onVictim} < ${onGood})`)

  // restart: the CLI restarts dead bricks on SIGUSR2; the new process signs in on a new port
  const logBefore = fs.readFileSync(log, 'utf8').length
  const t1 = Date.now()
  c.brickPids.delete(victim)
  process.kill(c.proc.pid!, 'SIGUSR2')
  await waitFor('the brick to restart', 30_000, () => c.brickPids.has(victim))
  const newPid = c.brickPids.get(victim)!
  pidsStarted.add(newPid)
  t.not(newPid, victimPid, 'a new brick process')
  t.comment(`brick ${victim} restarted: pid ${newPid}, port ${c.brickPorts.get(victim)} (was ${oldPort})`)
  // the client retries every 3 s: PORTBYBRICK from our glusterd, then SETVOLUME on the new port
  await waitFor('the FUSE client to reconnect', 30_000, () => {
    const tail = fs.readFileSync(log, 'utf8').slice(logBefore)
    return /vol1-client-1.*(Connected|attached to remote volume)/.test(tail) || /attached to remote volume.*vol1-client-1/.test(tail)
  })
  t.comment(`FUSE client reconnected ${((Date.now() - t1) / 1000).toFixed(1)} s after the restart`)
  t.pass('the FUSE client reconnected to the restarted brick')

  await fs.promises.writeFile('/proc/sys/vm/drop_caches', '3').catch(() => {})
  await sh('diff', ['-r', '--no-dereference', tree, path.join(mnt, 'tree')], { timeoutMs: 240_000 })
  t.pass('diff -r after the restart: identical (reads come from the good copies)')
  // new writes reach all three bricks again
  fs.writeFileSync(path.join(mnt, 'after.txt'), 'after the restart\n')
  t.equal(fs.readFileSync(path.join(mnt, 'after.txt'), 'utf8'), 'after the restart\n')
  await waitFor('after.txt on the restarted brick', 10_000, () => fs.existsSync(path.join(c.volume.bricks[victim]!.path, 'after.txt')))
  t.pass('a new file reaches the restarted brick')
  await sh('rm', ['-rf', path.join(mnt, 'tree')], { timeoutMs: 480_000 })
  t.same(fs.readdirSync(mnt), ['after.txt'])
})
