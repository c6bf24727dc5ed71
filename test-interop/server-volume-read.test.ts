// Issue 6 acceptance: packages/volume's read interop checks (volume-read-checks.ts, the ones
// volume-read.test.ts runs against real GlusterFS) against OUR server. The tree is written
// through the REAL FUSE client mounted on our server, then read through our Volume API and
// compared with it: replica 3 and 2 x 3; a brick process SIGKILLed mid 100 MiB stream; a brick
// process SIGSTOPped while 20 files are read. The server runs as a child process
// (`--brick-processes`: one process per brick, so one brick can be killed or frozen alone).
import t from 'tap'
import type { Test } from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Volume } from '@gluster-ts/volume'
import { fuseSkipReason, waitFor, mount, umount, startChildCluster } from './server-fuse-helpers.js'
import type { ChildCluster } from './server-fuse-helpers.js'
import { writeTree, checkTree, checkBrickKillMidStream, checkFrozenBrick, brickList } from './volume-read-checks.js'

t.setTimeout(900_000)

const reason = fuseSkipReason()
const top = `gts-volume-${process.pid}`

interface Served { c: ChildCluster, mnt: string, vol: Volume }

/** Start our cluster (child process) with `args`, FUSE-mount it, connect a Volume; all undone in teardown. */
async function serve (t: Test, name: string, args: string[]): Promise<Served> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), `gts-svr-${name}-`))
  const mnt = path.join(base, 'mnt')
  fs.mkdirSync(mnt)
  const c = await startChildCluster(path.join(base, 'cluster'), ['--volume', name, ...args])
  const started = new Set(c.brickPids.values())
  t.teardown(async () => {
    await umount(mnt).catch(() => {})
    // a brick we froze or whose restart raced the end: ours, by pid
    for (const pid of [...started, ...c.brickPids.values()]) { try { process.kill(pid, 'SIGCONT') } catch {} }
    await c.close()
    for (const pid of [...started, ...c.brickPids.values()]) { try { process.kill(pid, 'SIGKILL') } catch {} }
    if (process.env.GTS_KEEP === undefined) fs.rmSync(base, { recursive: true, force: true })
  })
  await mount(c, mnt, path.join(base, 'fuse.log'))
  const vol = await Volume.connect({ servers: [`${c.host}:${c.port}`], volume: name })
  t.teardown(() => vol.close())
  t.comment(`our cluster ${c.host}:${c.port} (pid ${c.proc.pid}), mount ${mnt}`)
  return { c, mnt, vol }
}

/** Restart the bricks whose process died (the CLI does it on SIGUSR2) and wait for brick `i`'s new pid. */
async function restartBrick (c: ChildCluster, i: number, oldPid: number): Promise<void> {
  if (c.brickPids.get(i) === oldPid) c.brickPids.delete(i)
  process.kill(c.proc.pid!, 'SIGUSR2')
  await waitFor(`brick ${i} to restart`, 30_000, () => c.brickPids.has(i))
}

t.test('our server: volume read checks', { skip: reason ?? false }, async t => {
  for (const [name, args] of [['vol1', ['--replica', '3', '--brick-processes']], ['vol2', ['--replica', '3', '--distribute', '2']]] as const) {
    await t.test(`${name} (${args.join(' ')}): a tree written through FUSE reads back identical`, async t => {
      const { mnt, vol } = await serve(t, name, [...args])
      const files = await writeTree(path.join(mnt, top))
      await checkTree(t, vol, mnt, top, files)
    })
  }

  await t.test('replica 3, brick processes: SIGKILL, then SIGSTOP, one brick', async t => {
    const { c, mnt, vol } = await serve(t, 'vol1', ['--replica', '3', '--brick-processes'])
    t.equal(c.brickPids.size, 3, 'three brick processes')
    await t.test('SIGKILL the brick a 100 MiB stream reads from: it completes with the right sha256', async t => {
      let victim: { i: number, pid: number } | undefined
      await checkBrickKillMidStream(t, vol, mnt, {
        name: `${top}-100m.bin`,
        kill: async i => {
          const pid = c.brickPids.get(i)!
          process.kill(pid, 'SIGKILL')
          victim = { i, pid }
          return pid
        },
        restart: async () => {
          if (victim === undefined) return
          await restartBrick(c, victim.i, victim.pid)
          // our client finds the new port through our glusterd's portmapper
          await waitFor(`the client to reconnect to brick ${victim.i}`, 30_000, () => brickList(vol)[victim!.i]!.up)
          victim = undefined
        },
      })
    })
    await t.test('one brick SIGSTOPped: 20 reads complete quickly (worst latency measured)', async t => {
      const pid = c.brickPids.get(1)!
      await checkFrozenBrick(t, vol, mnt, {
        dir: `${top}-hung`,
        freeze: async () => { process.kill(pid, 'SIGSTOP') },
        thaw: async () => { process.kill(pid, 'SIGCONT') },
      })
    })
  })
})
