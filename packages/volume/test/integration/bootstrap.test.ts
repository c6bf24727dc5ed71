// Volfile bootstrap over loopback: a fake glusterd (our RpcServer with GETSPEC), a silent TCP
// server, a closed port. Happy eyeballs, the first volfile wins, typed failures per address.
import t from 'tap'
import type { Test } from 'tap'
import net from 'node:net'
import { RpcServer, HandshakeProgram, GlusterError, flatDict } from '@gluster-ts/rpc'
import { fetchVolfile, failureReason } from '../../src/bootstrap.js'
import { parseServer } from '../../src/servers.js'

async function glusterd (t: Test, volumes: Record<string, string>, peers = ''): Promise<string> {
  const server = new RpcServer()
  server.register(HandshakeProgram, {
    GETSPEC: ({ key }) => {
      const spec = volumes[key.replace(/^\//, '')]
      if (spec === undefined) return { op_ret: -1, op_errno: 2, spec: '', xdata: new Map() }
      return { op_ret: spec.length, op_errno: 0, spec, xdata: peers !== '' ? flatDict({ 'cluster.brick-vol-servers': peers }) : new Map() }
    },
  })
  const addr = await server.listen(0, '127.0.0.1')
  t.teardown(() => server.close({ timeoutMs: 100 }))
  return addr
}

async function silent (t: Test): Promise<string> {
  const socks = new Set<net.Socket>()
  const s = net.createServer(c => { socks.add(c); c.on('error', () => {}) })
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => { for (const c of socks) c.destroy(); s.close(() => resolve()) }))
  return `127.0.0.1:${(s.address() as net.AddressInfo).port}`
}

async function closedPort (): Promise<string> {
  const s = net.createServer()
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as net.AddressInfo).port
  await new Promise<void>(resolve => s.close(() => resolve()))
  return `127.0.0.1:${port}`
}

t.test('a silent first server does not hold up the second (staggered start)', async t => {
  const quiet = await silent(t)
  const good = await glusterd(t, { vol1: 'volume x\n type t\nend-volume\n' }, '10.0.0.2:24007 10.0.0.3:24007 ')
  const t0 = performance.now()
  const r = await fetchVolfile([parseServer(quiet), parseServer(good)], { volume: 'vol1', staggerMs: 50, attemptTimeoutMs: 5000 })
  const ms = performance.now() - t0
  t.ok(ms < 1000, `volfile after ${ms.toFixed(0)} ms, long before the silent server's 5 s timeout`)
  t.equal(r.server.label, good)
  t.match(r.spec, /volume x/)
  t.same(r.learned.map(s => s.label), ['10.0.0.2:24007', '10.0.0.3:24007'])
  t.notOk(r.client.closed, 'the connection stays open for FETCHSPEC')
  r.client.destroy()
})

t.test('a refused server starts the next at once', async t => {
  const refused = await closedPort()
  const good = await glusterd(t, { v: 'volume y\n type t\nend-volume\n' })
  const t0 = performance.now()
  const r = await fetchVolfile([parseServer(refused), parseServer(good)], { volume: 'v', staggerMs: 2000 })
  t.ok(performance.now() - t0 < 1000, 'did not wait for the stagger')
  r.client.destroy()
})

t.test('every server fails: EGLUSTER_NOVOLFILE listing each address and why', async t => {
  const refused = await closedPort()
  const quiet = await silent(t)
  const wrong = await glusterd(t, { other: 'volume z\n type t\nend-volume\n' })
  const err = await fetchVolfile([parseServer(refused), parseServer(quiet), parseServer(wrong)], { volume: 'vol9', staggerMs: 10, attemptTimeoutMs: 300, timeoutMs: 2000 })
    .then(() => null, (e: unknown) => e as GlusterError & { cause: AggregateError })
  t.equal(err?.code, 'EGLUSTER_NOVOLFILE')
  t.ok(err instanceof GlusterError)
  const errs = err!.cause.errors as Array<Error & { reason: string, address: string }>
  t.same(errs.map(e => e.address), [refused, quiet, wrong])
  t.same(errs.map(e => e.reason), ['refused', 'timeout', 'no-such-volume'])
  t.match(err!.message, /connection refused.*timed out.*no such volume/)
})

t.test('the overall deadline bounds the bootstrap', async t => {
  const quiet = await silent(t)
  const t0 = performance.now()
  const err = await fetchVolfile([parseServer(quiet)], { volume: 'v', attemptTimeoutMs: 10_000, timeoutMs: 200 }).then(() => null, (e: unknown) => e as GlusterError & { cause: AggregateError })
  t.equal(err?.code, 'EGLUSTER_NOVOLFILE')
  t.ok(performance.now() - t0 < 1500)
  t.same((err!.cause.errors as Array<{ reason: string }>).map(e => e.reason), ['timeout'])
  const ac = new AbortController()
  const p = fetchVolfile([parseServer(quiet)], { volume: 'v', signal: ac.signal })
  ac.abort()
  await t.rejects(p, { name: 'AbortError' })
})

t.test('failureReason tells DNS, refused, unreachable, timeout and wrong volume apart', async t => {
  const sys = (code: string, syscall = 'connect'): GlusterError => new GlusterError('EGLUSTER_CONNECT', 'x', { syscall }, { cause: Object.assign(new Error(code), { code }) })
  t.equal(failureReason(sys('ENOTFOUND', 'getaddrinfo')), 'dns')
  t.equal(failureReason(sys('ECONNREFUSED')), 'refused')
  t.equal(failureReason(sys('EHOSTUNREACH')), 'unreachable')
  t.equal(failureReason(new GlusterError('EGLUSTER_TIMEOUT', 'x')), 'timeout')
  t.equal(failureReason(new GlusterError('ENOENT', 'x', { syscall: 'GETSPEC' })), 'no-such-volume')
  t.equal(failureReason(new GlusterError('EGLUSTER_PROG_UNAVAIL', 'x')), 'protocol')
  t.equal(failureReason(new Error('x')), 'other')
})
