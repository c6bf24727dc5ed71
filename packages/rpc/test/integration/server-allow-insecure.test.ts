// RpcServer({ allowInsecure: false }): GlusterFS's rpc-auth-allow-insecure off (rpcsvc.c,
// rpcsvc_handle_rpc_call): a call from a TCP source port >= 1024 is answered MSG_DENIED /
// AUTH_ERROR / AUTH_REJECTEDCRED after the program and procedure lookups and before the handler.
import t from 'tap'
import { RpcClient } from '@gluster-ts/rpc'
import { startPair, TestProgram, UnknownProgram } from './fixtures.js'

t.test('allowInsecure false: unprivileged ports are refused before the handler', async t => {
  let handled = 0
  const { client, server, address } = await startPair(t, {
    server: { allowInsecure: false },
    handlers: { ECHO: ({ n, s }) => { handled++; return { op_ret: 0, op_errno: 0, n, s } } },
  })
  await t.rejects(client.call(TestProgram.procs.ECHO, { n: 1, s: 'x' }), { code: 'EGLUSTER_AUTH', message: /AUTH_ERROR \(AUTH_REJECTEDCRED\)/ })
  t.equal(handled, 0, 'the handler never ran')
  await t.rejects(client.call(UnknownProgram.procs.ECHO, { n: 1, s: 'x' }), { code: 'EGLUSTER_PROG_UNAVAIL' }, 'an unknown program is still PROG_UNAVAIL')
  t.equal(server.stats.refused, 2)
  if (process.getuid?.() === 0) {
    const priv = await RpcClient.connect(address, { localPortBelow1024: true })
    t.teardown(() => { priv.destroy() })
    t.same(await priv.call(TestProgram.procs.ECHO, { n: 2, s: 'y' }), { op_ret: 0, op_errno: 0, n: 2, s: 'y' }, 'a port below 1024 is served')
    t.equal(handled, 1)
  }
})

t.test('allowInsecure false: unix-socket peers have no port and are served', async t => {
  const { client } = await startPair(t, { unix: true, server: { allowInsecure: false } })
  t.same(await client.call(TestProgram.procs.ECHO, { n: 3, s: 'z' }), { op_ret: 0, op_errno: 0, n: 3, s: 'z' })
})

t.test('the default serves unprivileged ports', async t => {
  const { client } = await startPair(t)
  t.same(await client.call(TestProgram.procs.ECHO, { n: 4, s: '' }), { op_ret: 0, op_errno: 0, n: 4, s: '' })
})
