// The real-cluster harness itself (test-cluster/real/): cluster.json, the gluster CLI on every node,
// the FUSE client, and every fault the other interop suites inject (brick SIGKILL/SIGSTOP, glusterd
// restart). If this file fails, no other interop result means anything.
import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, statSync } from 'node:fs'
import { open, readFile, unlink } from 'node:fs/promises'
import { loadRealCluster, procState, type RealCluster } from '../test-cluster/real/index.js'

const rc = loadRealCluster()
if ('skip' in rc) {
  t.test('real cluster harness', { skip: rc.skip }, async () => {})
} else {
  harness(rc)
}

function sha256 (b: Buffer): string {
  return createHash('sha256').update(b).digest('hex')
}

async function waitFor (what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 500))
  }
}

function harness (rc: RealCluster): void {
  const name = `harness-${process.pid}-${Date.now()}.bin`
  const data = randomBytes(1024 * 1024)
  const digest = sha256(data)
  let mnt = ''

  t.teardown(async () => {
    if (mnt !== '') {
      for (const f of [name, `during-${name}`]) await unlink(`${mnt}/${f}`).catch(() => {})
      await rc.umount('vol1')
    }
  })

  t.test('cluster.json is complete', async t => {
    const info = rc.info
    t.equal(info.nodes.length, 3)
    info.nodes.forEach((node, i) => {
      t.match(node, { n: i + 1, ns: `gts-n${i + 1}`, ip: `10.88.0.1${i + 1}` })
      t.ok(existsSync(node.glusterdSocket), `n${node.n} socket ${node.glusterdSocket}`)
      t.ok(existsSync(`${node.glusterdVolfileDir}/glusterd.info`), `n${node.n} working dir ${node.glusterdVolfileDir}`)
    })
    t.same(info.brickPorts, [49152, 49251])
    t.match(info.volumes.vol1, { type: 'replicate', replica: 3, distribute: 1 })
    t.match(info.volumes.vol2, { type: 'distributed-replicate', replica: 3, distribute: 2 })
    t.same(rc.volume('vol1').bricks.map(b => b.node), [1, 2, 3], 'vol1: one brick per node')
    t.same(rc.volume('vol2').bricks.map(b => b.node), [1, 2, 3, 1, 2, 3], 'vol2: two bricks per node, sets across nodes')
    for (const [vol, v] of Object.entries(info.volumes)) {
      v.bricks.forEach((b, i) => {
        t.equal(b.n, i + 1)
        t.equal(b.host, rc.node(b.node).ip)
        t.ok(statSync(b.path).isDirectory(), `${vol} brick ${b.n} dir`)
        t.ok(existsSync(b.volfile), `${vol} brick ${b.n} volfile`)
      })
      t.equal(v.clientVolfiles.length, 3)
      for (const cv of v.clientVolfiles) {
        const text = await readFile(cv.path, 'utf8')
        t.match(text, `volume ${vol}-client-0\n    type protocol/client`, `${vol} client volfile on n${cv.node}`)
        t.notMatch(text, 'option password', 'the external client volfile carries no credentials')
        t.match(await readFile(cv.trusted, 'utf8'), 'option password', 'the trusted one does')
        v.bricks.forEach((b, i) => t.match(text, `option remote-subvolume ${b.path}`, `client-${i} -> ${b.path}`))
      }
      t.equal(rc.clientVolfilePath(2, vol), v.clientVolfiles[1]?.path)
    }
  })

  t.test('each glusterd answers gluster volume info', async t => {
    for (const node of rc.nodes) {
      const out = await rc.gl(node.n, 'volume', 'info')
      t.match(out, /Volume Name: vol1\n/, `n${node.n} knows vol1`)
      t.match(out, /Volume Name: vol2\n/, `n${node.n} knows vol2`)
    }
  })

  t.test('vol1 and vol2 are Started with every brick online', async t => {
    for (const vol of ['vol1', 'vol2']) {
      t.match(await rc.gl(1, 'volume', 'info', vol), /\nStatus: Started\n/, `${vol} Started`)
      const status = await rc.volumeStatus(vol)
      t.same(status.map(s => `${s.host}:${s.path}`), rc.volume(vol).bricks.map(b => `${b.host}:${b.path}`), `${vol} bricks in order`)
      for (const [i, s] of status.entries()) {
        t.ok(s.online, `${vol} brick ${i + 1} online`)
        t.ok(s.port !== null && s.port >= 49152 && s.port <= 49251, `${vol} brick ${i + 1} port ${s.port} in 49152-49251`)
        t.equal(await rc.brickPid(i + 1, vol), s.pid, `${vol} brick ${i + 1} pid file agrees with glusterd`)
      }
    }
  })

  t.test('FUSE: 1 MiB written through vol1 reads back and lands on all 3 bricks', async t => {
    mnt = await rc.mount('vol1')
    t.equal(mnt, `${rc.root}/mnt/vol1`)
    t.equal(rc.info.mounts.vol1, mnt, 'cluster.json lists the mount')
    const fh = await open(`${mnt}/${name}`, 'w')
    await fh.writeFile(data)
    await fh.sync()
    await fh.close()
    t.equal(sha256(await readFile(`${mnt}/${name}`)), digest, 'read back through FUSE')
    for (const b of rc.volume('vol1').bricks) {
      t.equal(sha256(await readFile(`${b.path}/${name}`)), digest, `copy on brick ${b.n} (${b.host})`)
    }
  })

  t.test('SIGKILL brick 2: its pid is gone, vol1 still reads and writes', async t => {
    const pid = await rc.brickPid(2)
    t.ok(pid !== null, 'brick 2 runs')
    t.teardown(async () => { if (await rc.brickPid(2) === null) await rc.startBrick('vol1') })
    t.equal(await rc.killBrick(2), pid, 'kill-brick reports the pid it killed')
    t.equal(await rc.brickPid(2), null, 'brick-pid: not running')
    t.ok(pid !== null && [null, 'Z'].includes(procState(pid)), 'no such process in /proc')
    await waitFor('glusterd to see brick 2 offline', 30_000, async () => (await rc.volumeStatus('vol1'))[1]?.online === false)
    // a fresh mount has no page cache: the read has to come from bricks 1 and 3
    await rc.umount('vol1')
    mnt = await rc.mount('vol1')
    t.equal(sha256(await readFile(`${mnt}/${name}`)), digest, 'read with brick 2 down')
    const fh = await open(`${mnt}/during-${name}`, 'w')
    await fh.writeFile('written while brick 2 was down\n')
    await fh.close()
    t.ok((await rc.healInfo('vol1')).entries > 0, 'heal-info lists pending entries')
  })

  t.test('start-brick: brick 2 is back online and gets healed', async t => {
    await rc.startBrick('vol1')
    const pid = await rc.brickPid(2)
    t.ok(pid !== null, `brick 2 runs again (pid ${pid})`)
    t.ok((await rc.volumeStatus('vol1')).every(s => s.online), 'all vol1 bricks online')
    await waitFor('self-heal of brick 2', 120_000, async () => (await rc.healInfo('vol1')).entries === 0)
    t.equal(sha256(await readFile(`${rc.brick(2).path}/during-${name}`)), sha256(Buffer.from('written while brick 2 was down\n')),
      'the file written meanwhile was healed onto brick 2')
  })

  t.test('freeze brick 3 (SIGSTOP) and thaw it (SIGCONT)', async t => {
    const pid = await rc.freezeBrick(3)
    t.teardown(async () => { if (procState(pid) === 'T') await rc.contBrick(3) })
    t.equal(procState(pid), 'T', '/proc says stopped')
    t.equal(await rc.brickPid(3), pid, 'a frozen brick still counts as running')
    t.equal(await rc.contBrick(3), pid)
    t.match(procState(pid), /^[RSD]$/, '/proc says running again')
  })

  t.test('kill glusterd 2, start it again: volume info works again', async t => {
    const pid = await rc.killGlusterd(2)
    t.teardown(async () => { await rc.startGlusterd(2).catch(() => {}) })
    t.ok(pid > 0)
    await t.rejects(rc.gl(2, 'volume', 'info'), 'n2 does not answer')
    t.match(await rc.gl(1, 'volume', 'info', 'vol1'), /\nStatus: Started\n/, 'n1 still answers')
    await rc.startGlusterd(2)
    t.match(await rc.gl(2, 'volume', 'info', 'vol1'), /\nStatus: Started\n/, 'n2 answers again')
    const peers = await rc.gl(2, 'peer', 'status')
    t.equal(peers.match(/Peer in Cluster \(Connected\)/g)?.length, 2, 'n2 sees both peers')
    t.ok((await rc.volumeStatus('vol1', 2)).every(s => s.online), 'bricks survived their glusterd')
  })
}
