/**
 * Cut the Gluster RPC messages out of the shared GlusterFS 10.3 captures into committed vectors.
 *
 *   npx tsx packages/rpc/test/vectors/extract-vectors.ts [capturesDir]     (default ../shared/captures)
 *
 * Writes `<capture>.records.jsonl` next to this script: one JSON object per RPC message, in the order
 * the receiver got them (by the frame carrying the message's last byte). See SOURCE.md for the fields.
 * The output is deterministic: running it again on the same captures gives byte-identical files.
 */
import { writeFileSync, existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { captureRecords, type CaptureRecords, type RpcRecord } from '../support/pcap.js'

export const VECTOR_CAPTURES = ['mount', 'read', 'write', 'failover', 'vol2-read', 'volset-fetchspec'] as const

export interface VectorLine {
  /** Frame carrying the first byte of the record marker, and the one carrying the last byte (= tshark's frame). */
  frame: number
  last: number
  /** TCP connection "clientIp:port>serverIp:port" (client = SYN sender, else the non-Gluster-port side). */
  conn: string
  /** TCP direction: c2s = client → server. */
  side: 'c2s' | 's2c'
  /** RPC msg_type: call (0), reply (1), else 'other'. */
  dir: 'call' | 'reply' | 'other'
  xid: number
  /** For calls: program, version, procedure (also in hex; here for grep and the per-proc table). */
  prog?: number
  vers?: number
  proc?: number
  /** The RPC message without the 4-byte record marker (every message is a single last fragment). */
  hex: string
}

export function toLine (r: RpcRecord): VectorLine {
  const m = r.message
  const type = m.length >= 8 ? m.readUInt32BE(4) : -1
  const line: VectorLine = {
    frame: r.frame, last: r.lastFrame, conn: r.conn, side: r.dir,
    dir: type === 0 ? 'call' : type === 1 ? 'reply' : 'other', xid: m.length >= 4 ? m.readUInt32BE(0) : 0,
    ...(type === 0 && m.length >= 24 ? { prog: m.readUInt32BE(12), vers: m.readUInt32BE(16), proc: m.readUInt32BE(20) } : {}),
    hex: m.toString('hex'),
  }
  return line
}

export function toJsonl (cap: CaptureRecords): string {
  for (const r of cap.records) if (r.fragments !== 1) throw new Error(`frame ${r.frame}: ${r.fragments} fragments; the vector format assumes one`)
  return cap.records.map(r => JSON.stringify(toLine(r)) + '\n').join('')
}

function main (): void {
  const here = path.dirname(fileURLToPath(import.meta.url))
  const repoRoot = path.resolve(here, '../../../..')
  const dir = path.resolve(process.argv[2] ?? path.resolve(repoRoot, '../shared/captures'))
  for (const name of VECTOR_CAPTURES) {
    const pcap = path.join(dir, `${name}.pcap`)
    if (!existsSync(pcap)) throw new Error(`missing ${pcap}`)
    const cap = captureRecords(pcap)
    const text = toJsonl(cap)
    const out = path.join(here, `${name}.records.jsonl`)
    writeFileSync(out, text)
    const calls = cap.records.filter(r => r.message.readUInt32BE(4) === 0).length
    console.log(`${name}: ${cap.records.length} messages (${calls} calls, ${cap.records.length - calls} replies), ` +
      `${cap.connections.length} connections, ${cap.incomplete} incomplete, ${text.length} bytes -> ${path.relative(repoRoot, out)}`)
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main()
