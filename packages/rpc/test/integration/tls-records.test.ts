// A TLS record never carries bytes of two RPC messages (tls.ts keepMessagesApart): GlusterFS reads
// one message per poll-in event, and a second message already decrypted into OpenSSL's buffer waits
// for the next bytes on the wire. A TCP proxy between client and server reads the TLS 1.2 record
// headers the client sends and checks every message boundary is a record boundary.
import t from 'tap'
import net from 'node:net'
import tls from 'node:tls'
import { RpcClient, RpcServer, XdrWriter, createTlsContext, encodeCallRecord, type BoundProc } from '@gluster-ts/rpc'
import { TestProgram, testHandlers } from './fixtures.js'
import { tlsIdentity } from '../../../../test-cluster/tls-fixtures.js'

/** AES-GCM in TLS 1.2: an 8-byte explicit nonce and a 16-byte tag around each record's plaintext. */
const GCM12_OVERHEAD = 24

t.test('pipelined calls and a large WRITE: every message starts and ends on a TLS record boundary', async t => {
  const rpc = new RpcServer()
  rpc.register(TestProgram, testHandlers)
  const server = tls.createServer({
    ...tlsIdentity('server'), requestCert: true, rejectUnauthorized: true,
    maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  }, s => { rpc.handleSocket(s) })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  // client -> proxy -> server; the proxy parses the client's TLS records
  const appData: number[] = []
  let pending = Buffer.alloc(0)
  const sockets = new Set<net.Socket>()
  const proxy = net.createServer(c => {
    const s = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1')
    for (const x of [c, s]) { sockets.add(x); x.on('error', () => {}) }
    c.on('data', d => {
      pending = Buffer.concat([pending, d])
      while (pending.length >= 5) {
        const len = pending.readUInt16BE(3)
        if (pending.length < 5 + len) break
        if (pending[0] === 23) appData.push(len - GCM12_OVERHEAD)
        pending = pending.subarray(5 + len)
      }
      s.write(d)
    })
    s.pipe(c)
  })
  await new Promise<void>(resolve => proxy.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    for (const x of sockets) x.destroy()
    await rpc.close({ timeoutMs: 100 })
    await new Promise<void>(resolve => server.close(() => { resolve() }))
    await new Promise<void>(resolve => proxy.close(() => { resolve() }))
  })

  const c = await RpcClient.connect(`127.0.0.1:${(proxy.address() as net.AddressInfo).port}`, { tls: createTlsContext(tlsIdentity('client')) })
  t.teardown(() => { c.destroy() })
  t.equal((c.socket as tls.TLSSocket).getProtocol(), 'TLSv1.2')
  // five calls in one tick: small, larger, a WRITE over several TLS records, small, small WRITE
  const args: Array<['ECHO' | 'WRITE', unknown]> = [
    ['ECHO', { n: 1, s: 'a' }], ['ECHO', { n: 2, s: 'bb'.repeat(100) }], ['WRITE', { size: 100_000, data: Buffer.alloc(100_000, 3) }],
    ['ECHO', { n: 3, s: 'c' }], ['WRITE', { size: 20, data: Buffer.alloc(20, 4) }],
  ]
  await Promise.all(args.map(([name, a]) => c.call(TestProgram.procs[name] as BoundProc, a)))
  // each message's length on the wire (record mark included): encode the same calls again
  const w = new XdrWriter()
  const cred = { flavor: 0, body: Buffer.alloc(0) }
  const sizes: number[] = []
  for (const [name, a] of args) {
    const p = TestProgram.procs[name] as BoundProc
    const chunks = encodeCallRecord(w, { xid: 1, prog: TestProgram.prog, vers: TestProgram.vers, proc: p.num, cred }, p.args, a)
    sizes.push(chunks.reduce((n, b) => n + b.length, 0))
  }
  const total = sizes.reduce((a, b) => a + b, 0)
  t.equal(appData.reduce((a, b) => a + b, 0), total, 'the proxy saw every byte of the five calls as application data')
  const recordEnds = new Set<number>()
  appData.reduce((at, len) => { recordEnds.add(at + len); return at + len }, 0)
  let at = 0
  for (const [i, n] of sizes.entries()) {
    at += n
    t.ok(recordEnds.has(at), `message ${i + 1} (${n} bytes) ends where a TLS record ends`)
  }
})
