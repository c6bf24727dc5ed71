// The test-support capture reader (test/support/pcap.ts): synthetic captures for the edge cases,
// then the real GlusterFS 10.3 captures in ../shared/captures (when present) against their
// tshark-made .summary.txt (one line per RPC message).
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { readPackets, tcpConnections, splitRecords, captureRecords, parseTcp, type Packet } from '../support/pcap.js'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..')
const capturesDir = path.resolve(repoRoot, '../shared/captures')

// ---- synthetic capture builder -------------------------------------------------------------

interface Seg { src: string, dst: string, sport: number, dport: number, seq: number, flags?: number, data?: Buffer, cut?: number, vlan?: boolean, v6?: boolean }

function ip4 (s: string): Buffer { return Buffer.from(s.split('.').map(Number)) }
function ip6 (s: string): Buffer { const b = Buffer.alloc(16); b.writeUInt16BE(0xfd00, 0); b.writeUInt16BE(Number(s.split('.').pop()), 14); return b }

/** One Ethernet frame; `cut` = bytes captured (snaplen). */
function frame (g: Seg): { bytes: Buffer, len: number } {
  const data = g.data ?? Buffer.alloc(0)
  const tcp = Buffer.alloc(20)
  tcp.writeUInt16BE(g.sport, 0); tcp.writeUInt16BE(g.dport, 2); tcp.writeUInt32BE(g.seq >>> 0, 4)
  tcp[12] = 5 << 4; tcp[13] = g.flags ?? 0x18
  let ip: Buffer
  if (g.v6 === true) {
    ip = Buffer.alloc(40); ip[0] = 0x60; ip.writeUInt16BE(20 + data.length, 4); ip[6] = 6; ip[7] = 64
    ip6(g.src).copy(ip, 8); ip6(g.dst).copy(ip, 24)
  } else {
    ip = Buffer.alloc(20); ip[0] = 0x45; ip.writeUInt16BE(20 + 20 + data.length, 2); ip[6] = 0x40; ip[8] = 64; ip[9] = 6
    ip4(g.src).copy(ip, 12); ip4(g.dst).copy(ip, 16)
  }
  const eth = Buffer.alloc(g.vlan === true ? 18 : 14)
  if (g.vlan === true) { eth.writeUInt16BE(0x8100, 12); eth.writeUInt16BE(7, 14) }
  eth.writeUInt16BE(g.v6 === true ? 0x86dd : 0x0800, eth.length - 2)
  let bytes = Buffer.concat([eth, ip, tcp, data])
  if (bytes.length < 60) bytes = Buffer.concat([bytes, Buffer.alloc(60 - bytes.length, 0xee)]) // Ethernet padding
  const len = bytes.length
  return { bytes: g.cut !== undefined ? bytes.subarray(0, g.cut) : bytes, len }
}

function pcap (segs: Seg[], opts: { be?: boolean, nano?: boolean } = {}): Buffer {
  const w32 = (b: Buffer, v: number, o: number): void => { if (opts.be === true) b.writeUInt32BE(v >>> 0, o); else b.writeUInt32LE(v >>> 0, o) }
  const w16 = (b: Buffer, v: number, o: number): void => { if (opts.be === true) b.writeUInt16BE(v, o); else b.writeUInt16LE(v, o) }
  const head = Buffer.alloc(24)
  w32(head, opts.nano === true ? 0xa1b23c4d : 0xa1b2c3d4, 0); w16(head, 2, 4); w16(head, 4, 6); w32(head, 65535, 16); w32(head, 1, 20)
  const parts: Buffer[] = [head]
  segs.forEach((g, i) => {
    const f = frame(g)
    const h = Buffer.alloc(16)
    w32(h, 1000 + i, 0); w32(h, 5, 4); w32(h, f.bytes.length, 8); w32(h, f.len, 12)
    parts.push(h, f.bytes)
  })
  return Buffer.concat(parts)
}

/** The same frames as pcapng: SHB, one IDB (if_tsresol 9 = ns when `nano`), one EPB per frame. */
function pcapng (segs: Seg[], opts: { be?: boolean, nano?: boolean } = {}): Buffer {
  const be = opts.be === true
  const block = (type: number, body: Buffer): Buffer => {
    const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length & 3)) & 3)])
    const b = Buffer.alloc(12 + padded.length)
    const w = (v: number, o: number): void => { if (be) b.writeUInt32BE(v >>> 0, o); else b.writeUInt32LE(v >>> 0, o) }
    w(type, 0); w(b.length, 4); padded.copy(b, 8); w(b.length, b.length - 4)
    return b
  }
  const u32s = (...v: number[]): Buffer => { const b = Buffer.alloc(4 * v.length); v.forEach((x, i) => { if (be) b.writeUInt32BE(x >>> 0, 4 * i); else b.writeUInt32LE(x >>> 0, 4 * i) }); return b }
  const u16s = (...v: number[]): Buffer => { const b = Buffer.alloc(2 * v.length); v.forEach((x, i) => { if (be) b.writeUInt16BE(x, 2 * i); else b.writeUInt16LE(x, 2 * i) }); return b }
  const shb = block(0x0a0d0d0a, Buffer.concat([u32s(0x1a2b3c4d), u16s(1, 0), Buffer.alloc(8, 0xff)]))
  const opts9 = opts.nano === true ? Buffer.concat([u16s(9, 1), Buffer.from([9, 0, 0, 0]), u16s(0, 0)]) : Buffer.alloc(0)
  const idb = block(1, Buffer.concat([u16s(1, 0), u32s(65535), opts9]))
  const epbs = segs.map((g, i) => {
    const f = frame(g)
    const ts = BigInt(1000 + i) * (opts.nano === true ? 1_000_000_000n : 1_000_000n) + 5n
    return block(6, Buffer.concat([u32s(0, Number(ts >> 32n), Number(ts & 0xffffffffn), f.bytes.length, f.len), f.bytes]))
  })
  return Buffer.concat([shb, idb, ...epbs])
}

/** An RPC message (xid, CALL, rpcvers 2, prog 7 …) of `n` bytes, in record marking. */
function rpcCall (xid: number, n: number, lastFrag = true): Buffer {
  const m = Buffer.alloc(4 + n, 0xab)
  m.writeUInt32BE(((lastFrag ? 0x80000000 : 0) | n) >>> 0, 0)
  m.writeUInt32BE(xid, 4); m.writeUInt32BE(0, 8); m.writeUInt32BE(2, 12); m.writeUInt32BE(7, 16)
  return m
}

const C = '10.0.0.1'
const S = '10.0.0.2'
const cs = (seq: number, data?: Buffer, extra: Partial<Seg> = {}): Seg => ({ src: C, dst: S, sport: 40000, dport: 24007, seq, ...(data ? { data } : {}), ...extra })
const sc = (seq: number, data?: Buffer, extra: Partial<Seg> = {}): Seg => ({ src: S, dst: C, sport: 24007, dport: 40000, seq, ...(data ? { data } : {}), ...extra })

// ---- synthetic tests --------------------------------------------------------------------------

t.test('file header: both byte orders, µs and ns magic', async t => {
  for (const be of [false, true]) {
    for (const nano of [false, true]) {
      const p = readPackets(pcap([cs(1, Buffer.from('hi'))], { be, nano }))
      t.equal(p.length, 1)
      t.equal(p[0]!.frame, 1)
      t.equal(p[0]!.tsSec, 1000)
      t.equal(p[0]!.tsNsec, nano ? 5 : 5000)
      t.equal(parseTcp(p[0]!)?.payload.toString(), 'hi')
    }
  }
  t.throws(() => readPackets(Buffer.from('not a pcap file')), /unknown magic/)
})

t.test('pcapng: both byte orders, µs and ns resolution, same packets as pcap', async t => {
  const segs = [cs(1, Buffer.from('hello')), sc(9, Buffer.from('world'), { cut: 14 + 20 + 20 + 2 })]
  for (const be of [false, true]) {
    for (const nano of [false, true]) {
      const p = readPackets(pcapng(segs, { be, nano }))
      t.same(p, readPackets(pcap(segs, { nano })), `be=${be} nano=${nano}`)
      t.same([p[1]!.caplen, p[1]!.len], [56, 60])
    }
  }
})

t.test('802.1Q, IPv6 and Ethernet padding', async t => {
  const p = readPackets(pcap([cs(1, Buffer.from('x'), { vlan: true }), cs(1, Buffer.from('y'), { v6: true })]))
  const a = parseTcp(p[0]!)!
  t.same([a.src, a.dst, a.srcPort, a.dstPort, a.payload.toString()], [C, S, 40000, 24007, 'x']) // padding not in payload
  const b = parseTcp(p[1]!)!
  t.equal(b.src, 'fd00:0:0:0:0:0:0:1')
  t.equal(b.payload.toString(), 'y')
})

t.test('reassembly: SYN, out of order, retransmits, overlaps, sequence wrap', async t => {
  const isn = 0xfffffff0 // wraps inside the stream
  const d = Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789')
  const at = (i: number): number => (isn + 1 + i) >>> 0
  const segs: Seg[] = [
    sc(500, undefined, { flags: 0x12 }), // the SYN+ACK before the SYN: the reader must still pick the SYN sender as client
    cs(isn, undefined, { flags: 0x02 }),
    cs(at(10), d.subarray(10, 20)), // out of order
    cs(at(0), d.subarray(0, 10)),
    cs(at(0), d.subarray(0, 10)), // retransmit
    cs(at(5), d.subarray(5, 25)), // overlap
    cs(at(25), d.subarray(25)),
  ]
  const conns = tcpConnections(readPackets(pcap(segs)))
  t.equal(conns.length, 1)
  const c = conns[0]!
  t.same([c.client, c.server, c.synSeen], [{ ip: C, port: 40000 }, { ip: S, port: 24007 }, true])
  t.equal(c.c2s.bytes.toString(), d.toString())
  t.same(c.c2s.gaps, [])
  t.equal(c.c2s.complete, true)
  t.same(c.c2s.segments, [{ offset: 0, frame: 4 }, { offset: 10, frame: 6 }, { offset: 25, frame: 7 }])
})

t.test('records: several per segment, one across segments, multi-fragment, frame numbers', async t => {
  const r1 = rpcCall(1, 28)
  const r2 = rpcCall(2, 40)
  const frag1 = rpcCall(3, 32, false)
  const frag2 = Buffer.alloc(4 + 12, 0xcd); frag2.writeUInt32BE((0x80000000 | 12) >>> 0, 0)
  const stream = Buffer.concat([r1, r2, frag1, frag2])
  const segs: Seg[] = [cs(99, undefined, { flags: 0x02 }), cs(100, stream.subarray(0, 40)), cs(140, stream.subarray(40, 80)), cs(180, stream.subarray(80))]
  const c = tcpConnections(readPackets(pcap(segs)))[0]!
  const { records, incomplete } = splitRecords(c, 'c2s')
  t.equal(incomplete, 0)
  t.same(records.map(r => [r.frame, r.lastFrame, r.offset, r.wireLength, r.fragments, r.message.length, r.resynced]), [
    [2, 2, 0, 32, 1, 28, false],
    [2, 3, 32, 44, 1, 40, false],
    [3, 4, 76, 52, 2, 44, false],
  ])
  t.same(records[2]!.message, Buffer.concat([frag1.subarray(4), frag2.subarray(4)]))
})

t.test('a hole or a truncated frame ends the run; the next record is found again by resync', async t => {
  const r1 = rpcCall(1, 28)
  const r2 = rpcCall(2, 60)
  const r3 = rpcCall(3, 28)
  // r2's frame is cut by the snaplen, r3 follows in its own frame
  const segs: Seg[] = [cs(0, undefined, { flags: 0x02 }), cs(1, r1), cs(33, r2, { cut: 14 + 20 + 20 + 16 }), cs(97, r3)]
  const c = tcpConnections(readPackets(pcap(segs)))[0]!
  t.same(c.c2s.gaps, [32 + 16])
  t.equal(c.c2s.complete, false)
  const { records, incomplete } = splitRecords(c, 'c2s')
  t.equal(incomplete, 1)
  t.same(records.map(r => [r.message.readUInt32BE(0), r.frame, r.resynced]), [[1, 2, false], [3, 4, true]])

  // no SYN (capture started mid-connection) and the first segment is the tail of a record
  const mid = tcpConnections(readPackets(pcap([cs(1000, r1.subarray(10)), cs(1022, r2), cs(1086, r3)])), p => p === 24007)[0]!
  t.equal(mid.synSeen, false)
  t.same(mid.server, { ip: S, port: 24007 })
  const m = splitRecords(mid, 'c2s')
  t.same(m.records.map(r => [r.message.readUInt32BE(0), r.resynced]), [[2, true], [3, true]])
})

t.test('a reused 4-tuple is a new connection', async t => {
  const segs: Seg[] = [cs(10, undefined, { flags: 0x02 }), cs(11, rpcCall(1, 28)), cs(5000, undefined, { flags: 0x02 }), cs(5001, rpcCall(2, 28))]
  const conns = tcpConnections(readPackets(pcap(segs)))
  t.same(conns.map(c => c.id), ['10.0.0.1:40000>10.0.0.2:24007', '10.0.0.1:40000>10.0.0.2:24007#1'])
  t.same(conns.map(c => splitRecords(c, 'c2s').records.map(r => r.message.readUInt32BE(0))), [[1], [2]])
})

// ---- the real captures ------------------------------------------------------------------------

/** The summary's lines as "frame src>dst CALL|REPLY xid fraglen" (frame = the one completing the message). */
function summaryLines (file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter(l => /^\s*\d/.test(l)).map(l => {
    const m = /^\s*(\d+)\s+\S+\s+(\S+) -> (\S+) (CALL|REPLY)\b.*\bxid=0x([0-9a-f]+).*\bfraglen=(\d+)/.exec(l)
    return m === null ? `unparsed: ${l}` : `${m[1]} ${m[2]}>${m[3]} ${m[4]} ${m[5]} ${m[6]}`
  })
}

const CAPTURES = ['mount', 'read', 'write', 'failover', 'vol2-read', 'volset-fetchspec', 'hung-brick-pt10']
const have = existsSync(capturesDir)

t.test('real GlusterFS 10.3 captures: one record per RPC message tshark saw', { skip: have ? false : `no ${capturesDir}` }, async t => {
  for (const name of CAPTURES) {
    const pcapFile = path.join(capturesDir, `${name}.pcap`)
    const summary = path.join(capturesDir, `${name}.summary.txt`)
    if (!existsSync(pcapFile) || !existsSync(summary)) { t.comment(`${name}: not present`); continue }
    const cap = captureRecords(pcapFile)
    const byId = new Map(cap.connections.map(c => [c.id, c]))
    const ours = cap.records.map(r => {
      const c = byId.get(r.conn)!
      const [s, d] = r.dir === 'c2s' ? [c.client, c.server] : [c.server, c.client]
      const type = r.message.readUInt32BE(4) === 0 ? 'CALL' : 'REPLY'
      return `${r.lastFrame} ${s.ip}:${s.port}>${d.ip}:${d.port} ${type} ${r.message.readUInt32BE(0).toString(16).padStart(8, '0')} ${r.message.length}`
    })
    const theirs = summaryLines(summary)
    const theirSet = new Set(theirs)
    t.same(ours.filter(l => !theirSet.has(l)), [], `${name}: every record we found is a message tshark found`)
    t.equal(cap.records.filter(r => r.fragments !== 1).length, 0, `${name}: single-fragment records only (captures README fact 2)`)
    if (name === 'hung-brick-pt10') {
      // snaplen 256: tshark lists the messages whose head it saw; we only return whole messages
      // and count the cut ones
      t.equal(cap.records.length + cap.incomplete, theirs.length, `${name}: ${cap.records.length} whole + ${cap.incomplete} cut = ${theirs.length} summary lines`)
    } else {
      t.equal(cap.incomplete, 0, `${name}: nothing cut`)
      t.same(ours, theirs, `${name}: ${theirs.length} messages, same frames, ends, xids and lengths, same order`)
    }
    t.comment(`${name}: ${cap.connections.length} connections, ${cap.records.length} RPC messages` +
      `${cap.incomplete > 0 ? `, ${cap.incomplete} cut by the snaplen` : ''}, ${cap.records.filter(r => r.resynced).length} on connections opened before the capture`)
  }
  // captures/README: "FIRST-ever FUSE mount … 132 RPC messages"
  if (existsSync(path.join(capturesDir, 'mount.pcap'))) t.equal(captureRecords(path.join(capturesDir, 'mount.pcap')).records.length, 132)
})

t.test('every TCP frame of the real captures is parsed (counts from `tshark -Y tcp` / capinfos)', { skip: have ? false : `no ${capturesDir}` }, async t => {
  const expected: Record<string, [frames: number, tcp: number]> = {
    mount: [249, 239], read: [168, 164], write: [390, 388], failover: [1575, 1565],
    'vol2-read': [2158, 2143], 'volset-fetchspec': [75, 75], 'hung-brick-pt10': [2167, 2161],
  }
  for (const [name, [frames, tcp]] of Object.entries(expected)) {
    const file = path.join(capturesDir, `${name}.pcap`)
    if (!existsSync(file)) continue
    const p: Packet[] = readPackets(readFileSync(file))
    t.equal(p.length, frames, `${name}: frames`)
    t.equal(p.filter(x => parseTcp(x) !== null).length, tcp, `${name}: TCP frames (the rest is ARP, UDP, ICMP)`)
  }
})
