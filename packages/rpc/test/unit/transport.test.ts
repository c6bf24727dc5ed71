import t from 'tap'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import FakeTimers from '@sinonjs/fake-timers'
import { connect, parseAddress, formatAddress } from '@gluster-ts/rpc'

t.test('parseAddress / formatAddress', async t => {
  t.same(parseAddress('10.77.0.11:24007'), { host: '10.77.0.11', port: 24007 })
  t.same(parseAddress('gl-n1:49152'), { host: 'gl-n1', port: 49152 })
  t.same(parseAddress('[::1]:24007'), { host: '::1', port: 24007 })
  t.same(parseAddress('[fe80::1%eth0]:1'), { host: 'fe80::1%eth0', port: 1 })
  t.same(parseAddress('unix:/run/glusterd.socket'), { path: '/run/glusterd.socket' })
  t.same(parseAddress('gl-n1', 24007), { host: 'gl-n1', port: 24007 })
  t.same(parseAddress('[::1]', 24007), { host: '::1', port: 24007 })
  for (const bad of ['gl-n1', ':24007', 'h:0', 'h:65536', 'h:x', '::1:24007', '[::1', '[::1]x', 'unix:', 'h:1234567']) {
    t.throws(() => parseAddress(bad), TypeError, bad)
  }
  t.equal(formatAddress({ host: '::1', port: 5 }), '[::1]:5')
  t.equal(formatAddress({ host: 'a', port: 5 }), 'a:5')
  t.equal(formatAddress({ path: '/x' }), 'unix:/x')
})

t.test('connects over TCP and over a unix socket', async t => {
  const server = net.createServer(s => { s.end() })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const sockPath = path.join(os.tmpdir(), `gluster-ts-transport-${process.pid}-${Date.now()}.sock`)
  const unixServer = net.createServer(s => { s.end() })
  await new Promise<void>(resolve => unixServer.listen(sockPath, resolve))
  t.teardown(() => { server.close(); unixServer.close() })
  const port = (server.address() as net.AddressInfo).port
  const s1 = await connect(`127.0.0.1:${port}`)
  t.equal(s1.remotePort, port)
  s1.destroy()
  const s2 = await connect(`unix:${sockPath}`)
  t.ok(s2 instanceof net.Socket)
  s2.destroy()
})

t.test('refused and missing peers are EGLUSTER_CONNECT naming the peer', async t => {
  // a port that was just free
  const probe = net.createServer()
  await new Promise<void>(resolve => probe.listen(0, '127.0.0.1', resolve))
  const port = (probe.address() as net.AddressInfo).port
  await new Promise<void>(resolve => probe.close(() => { resolve() }))
  await t.rejects(connect(`127.0.0.1:${port}`), {
    name: 'GlusterError', code: 'EGLUSTER_CONNECT', peer: `127.0.0.1:${port}`, syscall: 'connect',
    message: new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${port}`), cause: { code: 'ECONNREFUSED' },
  })
  await t.rejects(connect(`unix:${path.join(os.tmpdir(), 'gluster-ts-no-such.sock')}`), { code: 'EGLUSTER_CONNECT', cause: { code: 'ENOENT' } })
})

t.test('a failed name lookup is EGLUSTER_CONNECT', async t => {
  const lookup: net.LookupFunction = (host, _opts, cb) => {
    const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND', syscall: 'getaddrinfo' })
    process.nextTick(() => { (cb as (e: Error) => void)(err) })
  }
  await t.rejects(connect('no-such-host.invalid:24007', { lookup }), {
    code: 'EGLUSTER_CONNECT', peer: 'no-such-host.invalid:24007', syscall: 'getaddrinfo', message: /ENOTFOUND.*name lookup failed/,
  })
})

t.test('deadline and abort', async t => {
  // a lookup that never answers keeps the connect pending until the deadline
  const hang: net.LookupFunction = () => {}
  const clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout'] })
  t.teardown(() => clock.uninstall())
  const p = connect('hangs.example:24007', { lookup: hang, timeoutMs: 5000 })
  const check = t.rejects(p, { code: 'EGLUSTER_TIMEOUT', peer: 'hangs.example:24007', message: /timed out after 5000 ms/ })
  clock.tick(4999)
  await Promise.resolve()
  clock.tick(1)
  await check
  t.equal(clock.countTimers(), 0, 'no timer left behind')

  const ac = new AbortController()
  const p2 = connect('hangs.example:24007', { lookup: hang, signal: ac.signal })
  const reason = new Error('stop')
  ac.abort(reason)
  await t.rejects(p2, reason, 'rejects with signal.reason')
  t.equal(clock.countTimers(), 0, 'the connect deadline was cleared')

  const ac2 = new AbortController()
  ac2.abort()
  await t.rejects(connect('127.0.0.1:1', { signal: ac2.signal }), { name: 'AbortError' })
  const ac3 = new AbortController()
  const p3 = connect('hangs.example:24007', { lookup: hang, timeoutMs: 0, signal: ac3.signal })
  t.equal(clock.countTimers(), 0, 'timeoutMs 0: no deadline')
  ac3.abort()
  await t.rejects(p3, { name: 'AbortError' })
})

t.test('binding a local port', async t => {
  const server = net.createServer(s => { s.end() })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  const port = (server.address() as net.AddressInfo).port
  const s = await connect(`127.0.0.1:${port}`, { localAddress: '127.0.0.1' })
  t.equal(s.localAddress, '127.0.0.1')
  s.destroy()
  if (process.getuid?.() === 0) {
    const p = await connect(`127.0.0.1:${port}`, { localPortBelow1024: true })
    t.ok(p.localPort! < 1024 && p.localPort! >= 512, `bound ${p.localPort}`)
    p.destroy()
  } else {
    await t.rejects(connect(`127.0.0.1:${port}`, { localPortBelow1024: true }), { code: 'EGLUSTER_CONNECT' })
  }
})
