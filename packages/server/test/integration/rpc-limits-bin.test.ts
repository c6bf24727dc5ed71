// Issue 13's RPC-layer attacks against the BUILT `gluster-ts cluster` (node
// packages/cli/bin/gluster-ts.js cluster, after `pnpm build`) in a child process, as a user runs
// it: records declaring 60 MiB, 90 MB of unfinished records, a pipelined flood and a connection
// flood, while a well-behaved client keeps getting LOOKUP/READ from the brick and GETSPEC from
// glusterd. The child's counters are out of reach: what is checked is what a peer sees (which
// connections the server closes, who is still served) and that the process is still there.
import t from 'tap'
import { DEFAULT_SERVER_MAX_RECORD_BYTES, DEFAULT_PARTIAL_RECORD_BUDGET_BYTES, DEFAULT_MAX_CONNECTIONS_PER_PEER } from '@gluster-ts/rpc'
import { MiB, legitClients, raw, recordStart, statFlood, waitFor } from './rpc-attackers.js'
import { startBuilt, needsBuild, rssMiB } from './built-cluster.js'

t.test('attacks on the built `gluster-ts cluster`: the attackers lose, a well-behaved client is served', { skip: needsBuild }, async t => {
  const { proc, volfileServer, brickPath, brickPort, glusterdPort } = await startBuilt(t, ['--auth-allow', '127.0.0.0/8']) // the well-behaved clients: 127.0.0.2
  const legit = await legitClients(t, volfileServer, 'vol1', brickPath, brickPort)
  const rss0 = rssMiB(proc.pid!)

  // records declaring 60 MiB: closed at their headers (10 to each server)
  const big = await Promise.all(Array.from({ length: 20 }, (_, i) => raw(t, i < 10 ? brickPort : glusterdPort)))
  for (const a of big) a.s.write(recordStart(60 * MiB, Buffer.alloc(100, 1)))
  await waitFor(t, '60 MiB headers refused', () => big.every(a => a.closed()))
  t.pass('the 20 connections declaring 60 MiB were closed')
  await legit.served()

  // 90 MB of unfinished records under the cap: the process budget (64 MiB) closes the excess
  const held = await Promise.all(Array.from({ length: 90 }, (_, i) => raw(t, i % 3 === 0 ? glusterdPort : brickPort)))
  for (let i = 0; i < held.length; i++) {
    held[i]!.s.write(recordStart(DEFAULT_SERVER_MAX_RECORD_BYTES - 4096, Buffer.alloc(1_000_000, i)))
    if (i % 10 === 9) await legit.served()
  }
  const excess = Math.ceil((90 * 1_000_000 - DEFAULT_PARTIAL_RECORD_BUDGET_BYTES) / 1_000_000)
  await waitFor(t, 'the budget sheds', () => held.filter(a => a.closed()).length >= excess)
  const rssHeld = rssMiB(proc.pid!)
  t.ok(held.filter(a => a.closed()).length <= excess + 1, `${held.filter(a => a.closed()).length} of 90 closed (90 MB into 64 MiB needs ${excess})`)
  await legit.served()
  for (const a of held) a.s.destroy()

  // a pipelined flood of 10 000 STATs on one brick connection: all answered, the other client meanwhile too
  const N = 10_000
  const flood = await statFlood(t, 'vol1', brickPath, brickPort, N)
  let servedDuring = 0
  while (flood.client.pending > N / 2) {
    await legit.served()
    servedDuring++
  }
  t.ok(servedDuring >= 1, `served ${servedDuring} times while half the flood was pending`)
  t.equal(await flood.done, N)

  // a connection flood from 127.0.0.1: past the per-address cap, closed; the client from 127.0.0.2 is served
  const n = DEFAULT_MAX_CONNECTIONS_PER_PEER + 20
  const conns: Array<Awaited<ReturnType<typeof raw>>> = []
  // (the flood client above is one of 127.0.0.1's brick connections)
  for (let i = 0; i < n; i++) conns.push(await raw(t, brickPort), await raw(t, glusterdPort))
  await waitFor(t, 'refusals', () => conns.filter(a => a.closed()).length >= 41)
  t.equal(conns.filter(a => a.closed()).length, 41, '20 refused by glusterd, 21 by the brick (which also serves the flood client)')
  await legit.served()
  for (const a of conns) a.s.destroy()
  flood.client.destroy()

  t.equal(proc.exitCode, null, 'the server process is still running')
  t.notOk(legit.brick.closed || legit.mgmt.closed, 'the well-behaved clients stayed connected throughout')
  t.comment(`server RSS: ${rss0} MiB before the record attacks, ${rssHeld} MiB with 64 MiB of unfinished records held, ${rssMiB(proc.pid!)} MiB at the end`)
})
