/**
 * Cut vectors from a capture that gluster-ts made itself against the real GlusterFS 10 cluster of
 * test-cluster/real (our RpcClient and the FUSE client, talking to real glusterds and bricks):
 *
 *   GTS_KEEP_PCAP=/tmp/own.pcap pnpm test:interop        # test-interop/rpc-real.test.ts keeps its capture
 *   npx tsx packages/rpc/test/vectors/extract-own.ts /tmp/own.pcap
 *
 * Writes `own-interop.records.jsonl` (same line format as the shared captures' vectors). To keep the
 * file small, of the call/reply pairs whose messages exceed 64 KiB (READ replies, WRITE calls) only
 * the first on each connection is kept; every other message is kept.
 */
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { captureRecords } from '../support/pcap.js'
import { toLine } from './extract-vectors.js'

export const OWN_VECTORS = 'own-interop.records.jsonl'
const BIG = 64 * 1024

function main (): void {
  const pcap = process.argv[2]
  if (pcap === undefined) throw new Error('usage: extract-own.ts FILE.pcap')
  const cap = captureRecords(pcap)
  const lines = cap.records.map(toLine)
  // pair calls and replies by connection and xid; drop big pairs after the first per connection
  const key = (l: { conn: string, xid: number }): string => `${l.conn} ${l.xid}`
  const big = new Set<string>()
  for (const l of lines) if (l.hex.length / 2 > BIG) big.add(key(l))
  const keptBig = new Set<string>()
  const drop = new Set<string>()
  for (const l of lines) {
    const k = key(l)
    if (!big.has(k) || l.dir !== 'call') continue
    if (keptBig.has(l.conn)) drop.add(k)
    else keptBig.add(l.conn)
  }
  const out = lines.filter(l => !drop.has(key(l)))
  const here = path.dirname(fileURLToPath(import.meta.url))
  writeFileSync(path.join(here, OWN_VECTORS), out.map(l => JSON.stringify(l) + '\n').join(''))
  console.log(`${out.length} of ${lines.length} messages written (${drop.size} big call/reply pairs left out)`)
}

// Not when tap runs it: `tap packages/rpc/test` runs every .ts file under the directory, and
// without a pcap argument main() can only fail.
if (process.env.TAP !== '1' && process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main()
