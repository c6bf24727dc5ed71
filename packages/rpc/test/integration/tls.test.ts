// RpcClient over TLS against a node:tls server that hands its sockets to an RpcServer: calls,
// READs into the caller's buffer, and every way a handshake fails, each a typed EGLUSTER_TLS.
import t from 'tap'
import net from 'node:net'
import tls from 'node:tls'
import type { Test } from 'tap'
import { RpcClient, RpcServer, GlusterError, createTlsContext, type TlsContext } from '@gluster-ts/rpc'
import { TestProgram, testHandlers } from './fixtures.js'
import { tlsFixture, tlsIdentity, type TlsFixture } from '../../../../test-cluster/tls-fixtures.js'

/** A TLS RpcServer presenting `name`'s certificate and demanding a client certificate from `ca`. */
async function tlsServer (t: Test, name: TlsFixture = 'server', ca: TlsFixture = 'ca'): Promise<string> {
  const rpc = new RpcServer({ tls: createTlsContext(tlsIdentity(name, ca)) })
  rpc.register(TestProgram, testHandlers)
  t.teardown(() => rpc.close({ timeoutMs: 100 }))
  return rpc.listen(0, '127.0.0.1')
}

function ctx (name: TlsFixture = 'client', ca: TlsFixture = 'ca', certDepth?: number): TlsContext {
  return createTlsContext({ ...tlsIdentity(name, ca), ...(certDepth !== undefined ? { certDepth } : {}) })
}

async function tlsFailure (p: Promise<unknown>): Promise<GlusterError> {
  try {
    await p
  } catch (err) {
    if (err instanceof GlusterError) return err
    throw err
  }
  throw new Error('expected a failure')
}

t.test('calls and READs into the caller\'s buffer work over TLS', async t => {
  const address = await tlsServer(t)
  const c = await RpcClient.connect(address, { tls: ctx() })
  t.teardown(() => { c.destroy() })
  t.type(c.socket, tls.TLSSocket)
  const r = await c.call(TestProgram.procs.ECHO, { n: 7, s: 'over tls' })
  t.same(r, { op_ret: 0, op_errno: 0, n: 7, s: 'over tls' })
  // a 3 MiB reply is read into `into`: the payload is a view of it, not a copy
  const into = Buffer.alloc(4 << 20)
  const big = await c.call(TestProgram.procs.READ, { size: 3 << 20, fill: 0x5a }, { into })
  t.equal(big.data.length, 3 << 20)
  t.equal(big.data.buffer, into.buffer, 'payload read in place')
  t.ok(big.data.every(b => b === 0x5a))
  const many = await Promise.all(Array.from({ length: 20 }, (_, i) => c.call(TestProgram.procs.READ, { size: 100_000 + i, fill: i })))
  many.forEach((m, i) => { t.equal(m.data.length, 100_000 + i); t.ok(m.data.every(b => b === i)) })
})

t.test('a server certificate from a CA we do not trust: unknown-ca, rejected by the client', async t => {
  const address = await tlsServer(t)
  const err = await tlsFailure(RpcClient.connect(address, { tls: ctx('client', 'other-ca') }))
  t.equal(err.code, 'EGLUSTER_TLS')
  t.equal(err.tlsReason, 'unknown-ca')
  t.equal(err.rejectedBy, 'client')
  t.equal(err.peer, address)
  t.match(err.message, `we did not accept ${address}'s certificate (CN 'gts-test-server')`)
})

t.test('an expired server certificate: expired', async t => {
  const address = await tlsServer(t, 'expired')
  const err = await tlsFailure(RpcClient.connect(address, { tls: ctx() }))
  t.equal(err.code, 'EGLUSTER_TLS')
  t.equal(err.tlsReason, 'expired')
  t.equal(err.rejectedBy, 'client')
})

t.test('a server certificate not valid yet: not-yet-valid', async t => {
  const address = await tlsServer(t, 'future')
  const err = await tlsFailure(RpcClient.connect(address, { tls: ctx() }))
  t.equal(err.tlsReason, 'not-yet-valid')
})

t.test('certificate depth: two intermediate CAs pass with depth 2 and fail with the default 1', async t => {
  const address = await tlsServer(t, 'deep')
  const err = await tlsFailure(RpcClient.connect(address, { tls: ctx() }))
  t.equal(err.code, 'EGLUSTER_TLS')
  t.equal(err.tlsReason, 'chain-too-long')
  t.match(err.message, /2 intermediate CAs, certificate depth 1/)
  const c = await RpcClient.connect(address, { tls: ctx('client', 'ca', 2) })
  t.teardown(() => { c.destroy() })
  t.equal((await c.call(TestProgram.procs.ECHO, { n: 1, s: 'deep' })).s, 'deep')
  // one intermediate is within the default depth
  const mid = await tlsServer(t, 'mid')
  const c2 = await RpcClient.connect(mid, { tls: ctx() })
  t.teardown(() => { c2.destroy() })
  t.equal((await c2.call(TestProgram.procs.ECHO, { n: 1, s: 'mid' })).s, 'mid')
})

t.test('a server that refuses our certificate after the handshake: the first call fails with EGLUSTER_TLS, no hang', async t => {
  const address = await tlsServer(t)
  // TLS 1.3: our handshake completes before the server has looked at our certificate
  for (const who of ['stranger', 'expired'] as const) {
    const c = await RpcClient.connect(address, { tls: ctx(who) }).catch((e: unknown) => e)
    const err = c instanceof RpcClient
      ? await tlsFailure(c.call(TestProgram.procs.ECHO, { n: 1, s: 'x' }, { timeoutMs: 20_000 }))
      : c as GlusterError
    t.equal(err.code, 'EGLUSTER_TLS', who)
    t.equal(err.peer, address)
    t.match(err.message, /CN 'gts-test-client'/)
  }
})

t.test('a plaintext peer: the TLS client fails at connect with EGLUSTER_TLS, never hangs', async t => {
  // an RpcServer without TLS reads our ClientHello as a record header and closes
  const rpc = new RpcServer()
  rpc.register(TestProgram, testHandlers)
  const plain = await rpc.listen(0, '127.0.0.1')
  t.teardown(() => rpc.close({ timeoutMs: 100 }))
  const err = await tlsFailure(RpcClient.connect(plain, { tls: ctx(), connectTimeoutMs: 20_000 }))
  t.equal(err.code, 'EGLUSTER_TLS')
  t.ok(err.tlsReason === 'closed' || err.tlsReason === 'not-tls', String(err.tlsReason))
  // a silent one: the deadline
  const silent = net.createServer(s => { s.on('error', () => {}); t.teardown(() => { s.destroy() }) })
  await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => silent.close(() => { resolve() })))
  const addr = `127.0.0.1:${(silent.address() as net.AddressInfo).port}`
  const err2 = await tlsFailure(RpcClient.connect(addr, { tls: ctx(), connectTimeoutMs: 300 }))
  t.equal(err2.code, 'EGLUSTER_TLS')
  t.equal(err2.tlsReason, 'timeout')
  t.match(err2.message, /does the server have TLS on/)
})

t.test('a plaintext client whose peer answers with a TLS alert: tls-required', async t => {
  // what a TLS server that sends an alert to a plaintext peer looks like: bytes 15 03 03 …
  const srv = net.createServer(s => {
    s.on('error', () => {})
    s.once('data', () => { s.end(Buffer.from('15030300020232', 'hex')) })
  })
  await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => srv.close(() => { resolve() })))
  const c = await RpcClient.connect(`127.0.0.1:${(srv.address() as net.AddressInfo).port}`)
  t.teardown(() => { c.destroy() })
  const err = await tlsFailure(c.call(TestProgram.procs.ECHO, { n: 1, s: 'x' }, { timeoutMs: 20_000 }))
  t.equal(err.code, 'EGLUSTER_TLS')
  t.equal(err.tlsReason, 'tls-required')
})

t.test('bad material is EGLUSTER_TLS_CONFIG naming the source', async t => {
  t.throws(() => createTlsContext({ ca: tlsFixture('ca'), cert: 'not a pem', key: tlsFixture('client', 'key'), sources: { cert: '/x/glusterfs.pem' } }),
    { code: 'EGLUSTER_TLS_CONFIG', message: /\/x\/glusterfs\.pem/ })
  t.throws(() => createTlsContext({ ca: tlsFixture('ca'), cert: tlsFixture('client'), key: tlsFixture('server', 'key'), sources: { key: '/x/glusterfs.key' } }),
    { code: 'EGLUSTER_TLS_CONFIG', message: /\/x\/glusterfs\.key/ })
  t.throws(() => createTlsContext({ ...tlsIdentity('client'), ciphers: 'NO-SUCH-CIPHER' }), { code: 'EGLUSTER_TLS_CONFIG' })
  t.throws(() => createTlsContext({ ...tlsIdentity('client'), certDepth: -1 }), { code: 'EGLUSTER_TLS_CONFIG' })
  t.equal(createTlsContext(tlsIdentity('client')).commonName, 'gts-test-client')
})

t.test('a self-signed certificate listed in the CA file is trusted (GlusterFS\'s simplest setup)', async t => {
  const rpc = new RpcServer()
  rpc.register(TestProgram, testHandlers)
  const id = { cert: tlsFixture('selfsigned'), key: tlsFixture('selfsigned', 'key'), ca: tlsFixture('selfsigned') }
  const srv = tls.createServer({ ...id, requestCert: true, rejectUnauthorized: true }, s => { rpc.handleSocket(s) })
  await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { await rpc.close({ timeoutMs: 100 }); await new Promise<void>(resolve => srv.close(() => { resolve() })) })
  const c = await RpcClient.connect(`127.0.0.1:${(srv.address() as net.AddressInfo).port}`, { tls: createTlsContext({ ...id, certDepth: 0 }) })
  t.teardown(() => { c.destroy() })
  t.equal((await c.call(TestProgram.procs.ECHO, { n: 2, s: 'self' })).s, 'self')
})
