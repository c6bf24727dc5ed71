// packages/rpc against a REAL GlusterFS 10 cluster (test-cluster/real): the handshake programs,
// a brick connection, LOOKUP and OPEN+READ; and our codecs on a capture of this very run.
import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { readFile, writeFile, rm, mkdtemp, copyFile } from 'node:fs/promises'
import { spawn, type ChildProcess } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  RpcClient, glusterfsV2Cred, glusterfsV3Cred, getSpec, dump, isGlusterd, servesFopV400, portByBrick,
  setVolume, getVolumeId, ping, FopProgram, ROOT_GFID, GfxDictType, type GfxDict,
} from '@gluster-ts/rpc'
import { loadRealCluster } from '../test-cluster/real/index.js'
import { replayCapture } from '../packages/rpc/test/support/replay.js'

const cluster = loadRealCluster()
if ('skip' in cluster) {
  t.test('rpc against the real cluster', { skip: `real cluster not available: ${cluster.skip}` }, async () => {})
} else {
  const v2 = () => glusterfsV2Cred({ pid: process.pid })
  const v3 = () => glusterfsV3Cred({ pid: process.pid })
  const nullDict: GfxDict = null
  const work = await mkdtemp(join(tmpdir(), 'gts-interop-rpc-'))
  const pcap = join(work, 'rpc-real.pcap')
  t.teardown(() => rm(work, { recursive: true, force: true }))

  // Capture our own traffic on the cluster bridge for the whole file (replayed at the end).
  const cap: ChildProcess = spawn('dumpcap', ['-q', '-i', cluster.bridge, '-P', '-s', '0', '-f', `net ${cluster.subnet}`, '-w', pcap], { stdio: ['ignore', 'ignore', 'pipe'] })
  let capErr = ''
  cap.stderr?.on('data', (d: Buffer) => { capErr += d.toString() })
  t.teardown(() => { if (cap.exitCode === null) cap.kill('SIGTERM') })
  await new Promise(resolve => setTimeout(resolve, 1500))

  const mgmt = async (host: string): Promise<RpcClient> => {
    const c = await RpcClient.connect(`${host}:24007`, { cred: v2, timeoutMs: 20_000, connectTimeoutMs: 10_000 })
    t.teardown(() => c.close())
    return c
  }

  t.test('GETSPEC: vol1 and vol2 from each glusterd match the volfiles glusterd keeps', async t => {
    for (const node of cluster.nodes) {
      const c = await mgmt(node.ip)
      for (const vol of ['vol1', 'vol2']) {
        const got = await getSpec(c, vol)
        const onDisk = await readFile(cluster.clientVolfilePath(node.n, vol), 'utf8')
        t.equal(got.spec, onDisk, `${vol} from ${node.ip} equals ${cluster.clientVolfilePath(node.n, vol)}`)
        t.match(got.spec, /type protocol\/client/)
        const others = cluster.nodes.filter(n => n.n !== node.n).map(n => `${n.ip}:24007`).sort()
        t.same([...got.servers].sort(), others, 'cluster.brick-vol-servers names the other glusterds')
      }
      await c.close()
    }
  })

  t.test('GETSPEC of a volume that does not exist: a typed error naming volume and server', async t => {
    const c = await mgmt(cluster.nodes[0]!.ip)
    const err = await getSpec(c, 'no-such-volume').then(() => null, (e: unknown) => e as Error & { code: string, peer?: string })
    t.ok(err, 'rejected')
    // glusterd 10.3 with connected peers answers op_ret -1, op_errno ENOENT, spec "" (ENOMEM only when it has no peers)
    t.equal(err?.code, 'ENOENT')
    t.match(err?.message, /no-such-volume/)
    t.equal(err?.peer, `${cluster.nodes[0]!.ip}:24007`)
  })

  t.test('DUMP lists the programs glusterd serves', async t => {
    const c = await mgmt(cluster.nodes[1]!.ip)
    const progs = await dump(c)
    t.ok(isGlusterd(progs), 'glusterd lists the portmapper')
    const names = progs.map(p => `${p.progname} ${p.prognum}/${p.progver}`)
    t.ok(names.includes('GF-DUMP 123451501/1'), names.join(', '))
    t.ok(names.some(n => n.endsWith(' 14398633/2')), 'handshake 14398633/2')
    t.ok(names.some(n => n.endsWith(' 34123456/1')), 'portmap 34123456/1')
    t.ok(await ping(c) >= 0, 'PING answered')
  })

  const status = new Map<string, number | null>() // 'host:path' -> port, from `gluster volume status`
  t.before(async () => {
    for (const vol of ['vol1', 'vol2']) {
      for (const b of await cluster.volumeStatus(vol)) status.set(`${b.host}:${b.path}`, b.port)
    }
  })

  t.test('PORTBYBRICK returns each brick\'s port, as `gluster volume status` shows it', async t => {
    for (const vol of ['vol1', 'vol2']) {
      for (const b of cluster.volumes[vol]!.bricks) {
        const c = await mgmt(b.host)
        const port = await portByBrick(c, b.path)
        t.equal(port, status.get(`${b.host}:${b.path}`), `${vol} ${b.host}:${b.path} → ${port}`)
        await c.close()
      }
    }
    const c = await mgmt(cluster.nodes[0]!.ip)
    await t.rejects(portByBrick(c, '/no/such/brick'), { code: 'ENOENT', path: '/no/such/brick' })
  })

  /** Connect to a vol1 brick the way a GlusterFS client does; returns the attached client. */
  async function attach (brick: { host: string, path: string }, volfileKey = 'vol1'): Promise<RpcClient> {
    const m = await mgmt(brick.host)
    const port = await portByBrick(m, brick.path)
    await m.close()
    const c = await RpcClient.connect(`${brick.host}:${port}`, { cred: v2, timeoutMs: 20_000, firstXid: m.nextXid })
    t.teardown(() => c.close())
    const progs = await dump(c)
    if (!servesFopV400(progs) || isGlusterd(progs)) throw new Error(`${brick.host}:${port} is not a v400 brick`)
    c.setCredential(v3)
    await setVolume(c, { remoteSubvolume: brick.path, volfileKey, clientName: `${volfileKey}-client-0` })
    return c
  }

  t.test('SETVOLUME on every vol1 brick succeeds and reports the volume id', async t => {
    const info = await cluster.gl(1, 'volume', 'info', 'vol1')
    const id = /Volume ID: ([0-9a-f-]+)/.exec(info)?.[1]
    t.ok(id, 'volume info has an id')
    const c0 = await mgmt(cluster.nodes[0]!.ip)
    t.equal(await getVolumeId(c0, 'vol1'), id, 'GET_VOLUME_INFO agrees')
    for (const b of cluster.volumes.vol1!.bricks) {
      const m = await mgmt(b.host)
      const port = await portByBrick(m, b.path)
      const c = await RpcClient.connect(`${b.host}:${port}`, { cred: v2, timeoutMs: 20_000 })
      t.teardown(() => c.close())
      t.ok(servesFopV400(await dump(c)))
      c.setCredential(v3)
      const r = await setVolume(c, { remoteSubvolume: b.path, volfileKey: 'vol1', clientName: 'vol1-client-0' })
      t.equal(r.volumeId, id, `${b.host}:${b.path} volume-id`)
      t.ok(r.childUp)
      t.ok(await ping(c) >= 0)
    }
  })

  t.test('SETVOLUME with a wrong brick path: a typed error with the brick\'s message', async t => {
    const b = cluster.volumes.vol1!.bricks[0]!
    const m = await mgmt(b.host)
    const port = await portByBrick(m, b.path)
    const c = await RpcClient.connect(`${b.host}:${port}`, { cred: v3, timeoutMs: 20_000 })
    t.teardown(() => c.close())
    const err = await setVolume(c, { remoteSubvolume: '/not/this/brick', volfileKey: 'vol1' }).then(() => null, (e: unknown) => e as Error & { code: string, serverMessage?: string })
    t.ok(err, 'rejected')
    t.equal(err?.code, 'ENOENT')
    t.match(err?.serverMessage, /not found/i, `server said: ${err?.serverMessage}`)
    t.match(err?.message, /server said/)
  })

  t.test('LOOKUP of the root returns gfid 00…01 on every vol1 brick', async t => {
    for (const b of cluster.volumes.vol1!.bricks) {
      const c = await attach(b)
      const r = await c.call(FopProgram.procs.LOOKUP, { gfid: ROOT_GFID, pargfid: Buffer.alloc(16), flags: 0, bname: '', xdata: nullDict })
      t.equal(r.op_ret, 0)
      t.equal(r.prestat.ia_gfid.toString('hex'), '00000000000000000000000000000001')
      t.equal(r.prestat.mode & 0o170000, 0o040000, 'a directory')
      t.equal(r.prestat.ia_ino, 1n)
    }
  })

  t.test('OPEN+READ of a file written through FUSE returns the same bytes (1 MiB in 128 KiB READs)', async t => {
    const mnt = await cluster.mount('vol1')
    const data = randomBytes(1024 * 1024)
    const name = `rpc-read-${process.pid}.bin`
    await writeFile(join(mnt, name), data)
    t.teardown(() => rm(join(mnt, name), { force: true }))
    for (const b of cluster.volumes.vol1!.bricks) {
      const c = await attach(b)
      const look = await c.call(FopProgram.procs.LOOKUP, { gfid: Buffer.alloc(16), pargfid: ROOT_GFID, flags: 0, bname: name, xdata: nullDict })
      t.equal(look.op_ret, 0, `LOOKUP ${name} on ${b.host}`)
      t.equal(look.prestat.ia_size, BigInt(data.length))
      const gfid = look.prestat.ia_gfid
      const open = await c.call(FopProgram.procs.OPEN, { gfid, flags: 0, xdata: nullDict })
      t.equal(open.op_ret, 0)
      const chunks: Buffer[] = []
      const CHUNK = 128 * 1024
      const replies = await Promise.all(Array.from({ length: data.length / CHUNK }, (_, i) =>
        c.call(FopProgram.procs.READ, { gfid, fd: open.fd, offset: BigInt(i * CHUNK), size: CHUNK, flag: 0x8000, xdata: nullDict })))
      for (const r of replies) {
        t.equal(r.op_ret, CHUNK)
        chunks.push(r.data)
      }
      t.equal(createHash('sha256').update(Buffer.concat(chunks)).digest('hex'), createHash('sha256').update(data).digest('hex'), `bytes from ${b.host} match`)
      const eof = await c.call(FopProgram.procs.READ, { gfid, fd: open.fd, offset: BigInt(data.length), size: CHUNK, flag: 0x8000, xdata: nullDict })
      t.equal(eof.op_ret, 0, 'READ at EOF returns 0 bytes')
      const fl = await c.call(FopProgram.procs.FLUSH, { gfid, fd: open.fd, xdata: nullDict })
      t.equal(fl.op_ret, 0)
      const rel = await c.call(FopProgram.procs.RELEASE, { gfid, fd: open.fd, xdata: nullDict })
      t.equal(rel.op_ret, 0)
      // the brick keeps the gfid in the same place on every replica
      t.equal(gfid.length, 16)
      t.not(look.xdata === undefined, true)
      void GfxDictType
    }
  })

  t.test('our codecs decode and re-encode every Gluster RPC message of this run\'s capture', async t => {
    cap.kill('SIGTERM')
    await new Promise(resolve => cap.once('exit', resolve))
    // GTS_KEEP_PCAP=FILE keeps this run's capture (packages/rpc/test/vectors/SOURCE.md: own captures)
    if (process.env.GTS_KEEP_PCAP !== undefined) await copyFile(pcap, process.env.GTS_KEEP_PCAP)
    t.equal(capErr.includes('rror'), false, `dumpcap: ${capErr.trim()}`)
    const res = await replayCapture(pcap)
    t.ok(res.total > 100, `${res.total} messages replayed`)
    t.same(res.mismatches, [], 'every message re-encodes to the captured bytes')
    t.comment(JSON.stringify(res.byProc))
  })
}
