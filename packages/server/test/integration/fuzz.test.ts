// Bad input (issue 6): random and truncated RPC records sent to glusterd and to a brick, before
// and after SETVOLUME. The server answers with errors or drops that connection only, never
// crashes, and a well-behaved client on another connection keeps being served throughout.
import t from 'tap'
import net from 'node:net'
import fc from 'fast-check'
import {
  RpcClient, FopProgram, glusterfsV3Cred, getSpec, portByBrick, setVolume, ROOT_GFID,
  GLUSTER_FOP_PROGRAM, GLUSTER_FOP_VERSION, GLUSTER_DUMP_PROGRAM, GLUSTER_DUMP_VERSION,
  GLUSTER_HNDSK_PROGRAM, GLUSTER_HNDSK_VERSION, GLUSTER_PMAP_PROGRAM, GLUSTER_PMAP_VERSION,
} from '@gluster-ts/rpc'
import { startCluster } from '@gluster-ts/server'

const RUNS = Number(process.env.GTS_FUZZ_RUNS ?? 80)
const PROGRAMS: Array<[number, number]> = [
  [GLUSTER_FOP_PROGRAM, GLUSTER_FOP_VERSION], [GLUSTER_DUMP_PROGRAM, GLUSTER_DUMP_VERSION],
  [GLUSTER_HNDSK_PROGRAM, GLUSTER_HNDSK_VERSION], [GLUSTER_PMAP_PROGRAM, GLUSTER_PMAP_VERSION],
]

function pad4 (b: Buffer): Buffer { return b.length % 4 === 0 ? b : Buffer.concat([b, Buffer.alloc(4 - (b.length % 4))]) }
function u32 (n: number): Buffer { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b }

interface Input {
  kind: 'random' | 'call'
  bytes: Uint8Array
  prog: number
  vers: number
  proc: number
  flavor: number
  cred: Uint8Array
  /** cut the framed record to this fraction of its length (1 = whole) */
  cut: number
  /** lie about the fragment length by this much */
  lenDelta: number
  last: boolean
}

function record (i: Input, xid: number): Buffer {
  let body: Buffer
  if (i.kind === 'random') {
    body = Buffer.from(i.bytes)
  } else {
    const prog = PROGRAMS[i.prog % PROGRAMS.length]!
    const cred = Buffer.from(i.cred)
    body = Buffer.concat([
      u32(xid), u32(0), u32(2), u32(prog[0]), u32(i.vers % 3 === 0 ? i.vers : prog[1]), u32(i.proc),
      u32(i.flavor), u32(cred.length), pad4(cred), u32(0), u32(0), Buffer.from(i.bytes),
    ])
  }
  const len = Math.max(0, body.length + i.lenDelta) & 0x7fffffff
  const framed = Buffer.concat([u32((i.last ? 0x80000000 : 0) | len), body])
  return framed.subarray(0, Math.max(1, Math.floor(framed.length * i.cut)))
}

const input: fc.Arbitrary<Input> = fc.record({
  kind: fc.constantFrom<'random' | 'call'>('random', 'call', 'call'),
  bytes: fc.uint8Array({ maxLength: 600 }),
  prog: fc.nat(7),
  vers: fc.nat(500),
  proc: fc.oneof(fc.nat(60), fc.nat()),
  flavor: fc.constantFrom(0, 1, 390039, 390040, 7),
  cred: fc.uint8Array({ maxLength: 120 }),
  cut: fc.oneof(fc.constant(1), fc.double({ min: 0, max: 1, noNaN: true })),
  lenDelta: fc.oneof(fc.constant(0), fc.integer({ min: -16, max: 16 }), fc.constant(1 << 30)),
  last: fc.oneof(fc.constant(true), fc.boolean()),
})

/** Write `data` on `sock` and wait until the server closes it or is quiet for a moment. */
async function poke (sock: net.Socket, data: Buffer): Promise<void> {
  await new Promise<void>(resolve => {
    let timer = setTimeout(done, 30)
    function done (): void { clearTimeout(timer); sock.off('data', more); sock.off('close', done); resolve() }
    function more (): void { clearTimeout(timer); timer = setTimeout(done, 30) }
    sock.on('data', more)
    sock.once('close', done)
    sock.write(data, () => {})
  })
}

async function rawConnect (port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => { resolve(s) })
    s.on('error', () => {})
    s.once('error', reject)
  })
}

t.test('random and truncated records to glusterd and a brick: no crash, other clients keep working', async t => {
  const c = await startCluster({ dir: t.testdir(), replica: 3, port: 0 })
  t.teardown(() => c.close())
  const brickPort = c.bricks[0]!.port!
  const brickPath = c.volume.bricks[0]!.path
  // the well-behaved clients, connected before and kept through the whole run
  const mgmt = await RpcClient.connect(c.volfileServer, { cred: glusterfsV3Cred({ pid: 1 }) })
  const good = await RpcClient.connect(`127.0.0.1:${brickPort}`, { cred: glusterfsV3Cred({ pid: 1 }) })
  t.teardown(() => { mgmt.destroy(); good.destroy() })
  await setVolume(good, { remoteSubvolume: brickPath, volfileKey: 'vol1', clientName: 'vol1-client-0' })
  const check = async (): Promise<void> => {
    const st = await good.call(FopProgram.procs.STAT, { gfid: ROOT_GFID, xdata: null })
    if (st.op_ret !== 0) throw new Error(`STAT / failed: ${st.op_errno}`)
    if ((await getSpec(mgmt, 'vol1')).spec.length === 0) throw new Error('empty volfile')
    if (await portByBrick(mgmt, brickPath) !== brickPort) throw new Error('portmapper lost the brick')
  }

  let xid = 1
  let closedByServer = 0
  const t0 = Date.now()
  for (const target of ['glusterd', 'brick', 'brick after SETVOLUME'] as const) {
    await fc.assert(fc.asyncProperty(fc.array(input, { minLength: 1, maxLength: 4 }), async inputs => {
      let sock: net.Socket
      let client: RpcClient | undefined
      if (target === 'glusterd') sock = await rawConnect(c.port)
      else if (target === 'brick') sock = await rawConnect(brickPort)
      else {
        client = await RpcClient.connect(`127.0.0.1:${brickPort}`, { cred: glusterfsV3Cred({ pid: 2 }) })
        client.on('error', () => {})
        await setVolume(client, { remoteSubvolume: brickPath, volfileKey: 'vol1', clientName: 'vol1-client-0' })
        sock = client.socket
        sock.on('error', () => {})
      }
      for (const i of inputs) {
        if (sock.destroyed) break
        await poke(sock, record(i, 0x40000000 + xid++))
      }
      if (sock.destroyed) closedByServer++
      if (client !== undefined) client.destroy()
      else sock.destroy()
      await check()
      return !good.closed && !mgmt.closed
    }), { numRuns: RUNS, seed: Number(process.env.GTS_FUZZ_SEED ?? 424242), endOnFailure: true })
  }
  t.comment(`${RUNS} × 3 runs in ${((Date.now() - t0) / 1000).toFixed(1)} s; the server closed ${closedByServer} fuzzing connections; protocol errors: glusterd ${c.glusterd.rpc.stats.protocolErrors}, brick ${c.bricks[0]!.rpc.stats.protocolErrors}`)
  await check()
  t.notOk(good.closed, 'the well-behaved brick client is still connected')
  t.notOk(mgmt.closed, 'the well-behaved glusterd client is still connected')
  t.ok(closedByServer > 0, 'bad records close their connection')
})
