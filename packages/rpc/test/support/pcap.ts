/**
 * A small capture reader for tests: libpcap (classic, both byte orders, µs/ns magic) and pcapng
 * (SHB/IDB/EPB/SPB), link types Ethernet II (+802.1Q/QinQ), Linux SLL/SLL2, raw IP and BSD loopback;
 * IPv4/IPv6 + TCP; TCP reassembly per direction; ONC-RPC record marking on top.
 *
 * Reassembly: segments are ordered by (unwrapped) sequence number, bytes already seen are dropped
 * (retransmits, overlaps: the first copy wins), a frame cut by the snaplen (caplen < len) contributes
 * only its captured prefix. Any hole in the sequence space is recorded in `gaps`, and the stream is
 * `complete` only if the SYN was seen and there is no hole.
 */
import { readFileSync } from 'node:fs'

export interface Packet { frame: number, tsSec: number, tsNsec: number, linkType: number, caplen: number, len: number, data: Buffer }

/** Every packet of a libpcap or pcapng file; frames are numbered from 1 as in Wireshark. */
export function readPackets (file: Buffer): Packet[] {
  if (file.length < 4) throw new Error('pcap: file too short')
  if (file.readUInt32LE(0) === 0x0a0d0d0a) return readPcapng(file)
  let le: boolean
  let nano: boolean
  const magicLE = file.readUInt32LE(0)
  const magicBE = file.readUInt32BE(0)
  if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d) { le = true; nano = magicLE === 0xa1b23c4d } else if (magicBE === 0xa1b2c3d4 || magicBE === 0xa1b23c4d) { le = false; nano = magicBE === 0xa1b23c4d } else throw new Error(`pcap: unknown magic 0x${magicBE.toString(16)}`)
  const u32 = (o: number): number => le ? file.readUInt32LE(o) : file.readUInt32BE(o)
  const linkType = u32(20) & 0x0fffffff
  const out: Packet[] = []
  for (let off = 24; off + 16 <= file.length;) {
    const caplen = u32(off + 8)
    const end = off + 16 + caplen
    if (end > file.length) break // file cut in the middle of a record
    out.push({ frame: out.length + 1, tsSec: u32(off), tsNsec: nano ? u32(off + 4) : u32(off + 4) * 1000, linkType, caplen, len: u32(off + 12), data: file.subarray(off + 16, end) })
    off = end
  }
  return out
}

function readPcapng (file: Buffer): Packet[] {
  const out: Packet[] = []
  let le = true
  let ifaces: Array<{ linkType: number, perSec: bigint }> = []
  for (let off = 0; off + 12 <= file.length;) {
    if (file.readUInt32LE(off) === 0x0a0d0d0a) { // section header: sets byte order, resets interfaces
      le = file.readUInt32LE(off + 8) === 0x1a2b3c4d
      ifaces = []
    }
    const u32 = (o: number): number => le ? file.readUInt32LE(o) : file.readUInt32BE(o)
    const type = u32(off)
    const blen = u32(off + 4)
    if (blen < 12 || off + blen > file.length) break
    const body = file.subarray(off + 8, off + blen - 4)
    const b32 = (o: number): number => le ? body.readUInt32LE(o) : body.readUInt32BE(o)
    if (type === 1) { // interface description: link type, and if_tsresol among the options
      let perSec = 1_000_000n // default resolution: microseconds
      for (let o = 8; o + 4 <= body.length;) {
        const code = le ? body.readUInt16LE(o) : body.readUInt16BE(o)
        const olen = le ? body.readUInt16LE(o + 2) : body.readUInt16BE(o + 2)
        if (code === 0) break
        if (code === 9 && olen >= 1) { const r = body[o + 4]!; perSec = r & 0x80 ? 2n ** BigInt(r & 0x7f) : 10n ** BigInt(r) }
        o += 4 + ((olen + 3) & ~3)
      }
      ifaces.push({ linkType: le ? body.readUInt16LE(0) : body.readUInt16BE(0), perSec })
    } else if (type === 6 || type === 3) { // enhanced / simple packet
      const iface = ifaces[type === 6 ? b32(0) : 0]
      const caplen = type === 6 ? b32(12) : Math.min(b32(0), body.length - 4)
      const start = type === 6 ? 20 : 4
      const ts = type === 6 ? (BigInt(b32(4)) << 32n) | BigInt(b32(8)) : 0n
      const perSec = iface?.perSec ?? 1_000_000n
      out.push({
        frame: out.length + 1, tsSec: Number(ts / perSec), tsNsec: Number((ts % perSec) * 1_000_000_000n / perSec),
        linkType: iface?.linkType ?? 1, caplen, len: type === 6 ? b32(16) : b32(0), data: body.subarray(start, start + caplen),
      })
    }
    off += blen
  }
  return out
}

export interface TcpSegment {
  frame: number, src: string, dst: string, srcPort: number, dstPort: number,
  seq: number, ack: number, flags: number, payload: Buffer, /** payload bytes lost to the snaplen */ missing: number,
}
export const SYN = 0x02
export const ACK = 0x10

/** The TCP segment a packet carries, or null (not IP/TCP, or an IP fragment other than a whole datagram). */
export function parseTcp (p: Packet): TcpSegment | null {
  const d = p.data
  let o = 0
  let etherType: number
  switch (p.linkType) {
    case 1: etherType = d.length >= 14 ? d.readUInt16BE(12) : 0; o = 14; break // Ethernet II
    case 113: etherType = d.length >= 16 ? d.readUInt16BE(14) : 0; o = 16; break // Linux SLL
    case 276: etherType = d.length >= 20 ? d.readUInt16BE(0) : 0; o = 20; break // Linux SLL2
    case 101: case 12: case 14: etherType = (d[0]! >> 4) === 6 ? 0x86dd : 0x0800; break // raw IP
    case 0: case 108: etherType = d.length >= 4 && (d[4]! >> 4) === 6 ? 0x86dd : 0x0800; o = 4; break // BSD loopback
    default: return null
  }
  while ((etherType === 0x8100 || etherType === 0x88a8) && o + 4 <= d.length) { etherType = d.readUInt16BE(o + 2); o += 4 }
  let src: string
  let dst: string
  let ipEnd: number // end of the IP datagram as the IP header says (frames may carry Ethernet padding)
  if (etherType === 0x0800) {
    if (o + 20 > d.length || d[o]! >> 4 !== 4 || d[o + 9] !== 6) return null
    const ihl = (d[o]! & 0x0f) * 4
    const total = d.readUInt16BE(o + 2)
    if ((d.readUInt16BE(o + 6) & 0x3fff) !== 0) return null // fragment
    src = `${d[o + 12]}.${d[o + 13]}.${d[o + 14]}.${d[o + 15]}`
    dst = `${d[o + 16]}.${d[o + 17]}.${d[o + 18]}.${d[o + 19]}`
    ipEnd = total === 0 ? Infinity : o + total // total 0: TSO super-packet, trust the frame length
    o += ihl
  } else if (etherType === 0x86dd) {
    if (o + 40 > d.length || d[o]! >> 4 !== 6) return null
    let next = d[o + 6]!
    const plen = d.readUInt16BE(o + 4)
    ipEnd = plen === 0 ? Infinity : o + 40 + plen
    const ip6 = (a: number): string => Array.from({ length: 8 }, (_, i) => d.readUInt16BE(a + 2 * i).toString(16)).join(':')
    src = ip6(o + 8)
    dst = ip6(o + 24)
    o += 40
    while (next === 0 || next === 43 || next === 60 || next === 44) {
      if (o + 8 > d.length || next === 44) return null // fragments not supported
      next = d[o]!
      o += (d[o + 1]! + 1) * 8
    }
    if (next !== 6) return null
  } else return null
  if (o + 20 > d.length) return null
  const off = (d[o + 12]! >> 4) * 4
  const wireEnd = ipEnd === Infinity ? d.length + (p.len - p.caplen) : ipEnd
  const capEnd = Math.min(wireEnd, d.length)
  const payload = d.subarray(Math.min(o + off, capEnd), capEnd)
  return {
    frame: p.frame, src, dst, srcPort: d.readUInt16BE(o), dstPort: d.readUInt16BE(o + 2),
    seq: d.readUInt32BE(o + 4), ack: d.readUInt32BE(o + 8), flags: d[o + 13]!, payload,
    missing: Math.max(0, wireEnd - Math.max(o + off, capEnd)),
  }
}

export interface TcpStream {
  /** The captured bytes, holes squeezed out (see `gaps`). */
  bytes: Buffer
  /** Where each captured segment starts in `bytes`, ascending; for "which frame carried byte N". */
  segments: Array<{ offset: number, frame: number }>
  /** Offsets in `bytes` where wire data is missing just before (a hole in the sequence space). */
  gaps: number[]
  /** The SYN was seen, so `bytes` starts at the first byte of the connection. */
  synSeen: boolean
  /** synSeen and no gaps. */
  complete: boolean
}

export interface TcpConnection {
  /** 0, 1, 2… in order of the first frame. */
  index: number
  /** "client ip:port>server ip:port", plus "#n" if that 4-tuple was reused. */
  id: string
  client: { ip: string, port: number }
  server: { ip: string, port: number }
  firstFrame: number
  /** The client was identified by its SYN or SYN+ACK (else by `isServerPort` or, failing that, the first sender). */
  synSeen: boolean
  c2s: TcpStream
  s2c: TcpStream
}

interface Dir {
  /** The 32-bit sequence number of stream byte 0 (ISN + 1 after a SYN, else the first data seen). */
  origin: number | null
  synSeen: boolean
  lastAbs: number
  segs: Array<{ abs: number, frame: number, payload: Buffer, missing: number }>
}
type Building = { conn: Omit<TcpConnection, 'c2s' | 's2c'>, c2s: Dir, s2c: Dir }

/**
 * Every TCP connection in the packets, with its two reassembled streams. `isServerPort` decides
 * the server side for connections whose SYN is not in the capture.
 */
export function tcpConnections (packets: Packet[], isServerPort: (port: number) => boolean = () => false): TcpConnection[] {
  const live = new Map<string, Building>()
  const all: Building[] = []
  const reuse = new Map<string, number>()
  const newDir = (): Dir => ({ origin: null, synSeen: false, lastAbs: 0, segs: [] })
  for (const p of packets) {
    const s = parseTcp(p)
    if (s === null) continue
    const a = `${s.src}:${s.srcPort}`
    const b = `${s.dst}:${s.dstPort}`
    const key = a < b ? `${a}|${b}` : `${b}|${a}`
    const pureSyn = (s.flags & (SYN | ACK)) === SYN
    let c = live.get(key)
    // a SYN that is not a retransmission of this connection's own SYN: the 4-tuple was reused
    if (c !== undefined && pureSyn && (c.c2s.synSeen ? c.c2s.origin !== ((s.seq + 1) >>> 0) : c.c2s.segs.length + c.s2c.segs.length > 0)) c = undefined
    if (c === undefined) {
      const clientIsSrc = pureSyn || ((s.flags & SYN) === 0 && (isServerPort(s.dstPort) || !isServerPort(s.srcPort)))
      const [cip, cport, sip, sport] = clientIsSrc ? [s.src, s.srcPort, s.dst, s.dstPort] : [s.dst, s.dstPort, s.src, s.srcPort]
      const base = `${cip}:${cport}>${sip}:${sport}`
      const n = reuse.get(base) ?? 0
      reuse.set(base, n + 1)
      c = {
        conn: { index: all.length, id: n === 0 ? base : `${base}#${n}`, client: { ip: cip, port: cport }, server: { ip: sip, port: sport }, firstFrame: p.frame, synSeen: pureSyn },
        c2s: newDir(), s2c: newDir(),
      }
      live.set(key, c)
      all.push(c)
    }
    const dir = s.src === c.conn.client.ip && s.srcPort === c.conn.client.port ? c.c2s : c.s2c
    if ((s.flags & SYN) !== 0) {
      if (dir.origin === null) { dir.origin = (s.seq + 1) >>> 0; dir.synSeen = true }
      continue // GlusterFS never sends data on a SYN
    }
    if (s.payload.length === 0 && s.missing === 0) continue
    if (dir.origin === null) dir.origin = s.seq
    // unwrap the 32-bit sequence number against the last one seen in this direction
    const abs = dir.lastAbs + ((s.seq - ((dir.origin + dir.lastAbs) >>> 0)) | 0)
    dir.lastAbs = abs
    dir.segs.push({ abs, frame: p.frame, payload: s.payload, missing: s.missing })
  }
  return all.map(({ conn, c2s, s2c }) => ({ ...conn, synSeen: c2s.synSeen || s2c.synSeen, c2s: assemble(c2s), s2c: assemble(s2c) }))
}

function assemble (dir: Dir): TcpStream {
  const segs = dir.segs.slice().sort((x, y) => x.abs - y.abs || x.frame - y.frame)
  const synSeen = dir.synSeen
  const parts: Buffer[] = []
  const segments: TcpStream['segments'] = []
  const gaps: number[] = []
  let cursor = synSeen ? 0 : (segs[0]?.abs ?? 0) // next sequence number wanted
  let length = 0
  for (const g of segs) {
    if (g.payload.length === 0) continue // all of it lost to the snaplen: only counts for the tail check below
    const end = g.abs + g.payload.length
    if (end <= cursor) continue // duplicate
    if (g.abs > cursor) { gaps.push(length); cursor = g.abs }
    const piece = g.payload.subarray(cursor - g.abs)
    segments.push({ offset: length, frame: g.frame })
    parts.push(piece)
    length += piece.length
    cursor = end
  }
  // a segment cut by the snaplen whose remainder never came: the stream has a hole at its end
  const last = segs.reduce((m, g) => Math.max(m, g.abs + g.payload.length + g.missing), cursor)
  if (last > cursor) gaps.push(length)
  return { bytes: Buffer.concat(parts, length), segments, gaps, synSeen, complete: synSeen && gaps.length === 0 }
}

/** The frame that carried byte `offset` of the stream. */
export function frameAt (s: TcpStream, offset: number): number {
  let lo = 0
  let hi = s.segments.length - 1
  while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (s.segments[mid]!.offset <= offset) lo = mid; else hi = mid - 1 }
  return s.segments[lo]?.frame ?? 0
}

export interface RpcRecord {
  conn: string
  /** 'c2s' = client → server (TCP client = SYN sender). */
  dir: 'c2s' | 's2c'
  /** Frame carrying the first byte of the record marker, and the one carrying its last byte. */
  frame: number
  lastFrame: number
  /** Offset of the record marker in the stream's `bytes`. */
  offset: number
  /** Bytes on the wire, markers included. */
  wireLength: number
  fragments: number
  /** The RPC message: all fragments concatenated, without the 4-byte markers. */
  message: Buffer
  /** The record was found by scanning for a plausible RPC header after a hole or a missed SYN. */
  resynced: boolean
}

export interface SplitResult { records: RpcRecord[], /** records cut by a hole or the capture end */ incomplete: number }

/** Whether an RPC record plausibly starts at `o` (used to find the first boundary after a hole). */
function plausible (b: Buffer, o: number, end: number): boolean {
  if (o + 16 > end) return false
  const mark = b.readUInt32BE(o)
  const len = mark & 0x7fffffff
  if (len < 24 || len > 64 << 20) return false
  const type = b.readUInt32BE(o + 8)
  if (type === 0) return b.readUInt32BE(o + 12) === 2 // CALL: rpcvers
  return type === 1 && b.readUInt32BE(o + 12) <= 1 // REPLY: reply_stat
}

/** Split one direction of a connection into RPC records (record marking, RFC 5531 §11). */
export function splitRecords (conn: TcpConnection, dir: 'c2s' | 's2c'): SplitResult {
  const s = conn[dir]
  const b = s.bytes
  const records: RpcRecord[] = []
  let incomplete = 0
  const bounds = [0, ...s.gaps, b.length]
  for (let run = 0; run + 1 < bounds.length; run++) {
    const runStart = bounds[run]!
    const runEnd = bounds[run + 1]!
    let o = runStart
    const resynced = !(run === 0 && s.synSeen)
    if (resynced) { // try segment starts until one looks like a record marker
      const starts = s.segments.filter(g => g.offset >= runStart && g.offset < runEnd).map(g => g.offset)
      const found = starts.find(x => plausible(b, x, runEnd))
      if (found === undefined) { if (runEnd > runStart) incomplete++; continue }
      o = found
    }
    while (o < runEnd) {
      const start = o
      const frags: Buffer[] = []
      let last = false
      while (!last && o + 4 <= runEnd) {
        const mark = b.readUInt32BE(o)
        const len = mark & 0x7fffffff
        if (o + 4 + len > runEnd) break
        last = (mark & 0x80000000) !== 0
        frags.push(b.subarray(o + 4, o + 4 + len))
        o += 4 + len
      }
      if (!last) { incomplete++; break }
      records.push({
        conn: conn.id, dir, frame: frameAt(s, start), lastFrame: frameAt(s, o - 1), offset: start, wireLength: o - start,
        fragments: frags.length, message: frags.length === 1 ? frags[0]! : Buffer.concat(frags), resynced,
      })
    }
  }
  return { records, incomplete }
}

/** Gluster RPC ports: glusterd 24007 and the brick range realcluster.sh pins (49152-49251). */
export const isGlusterPort = (port: number): boolean => port === 24007 || (port >= 49152 && port <= 49251)

export interface CaptureRecords { connections: TcpConnection[], records: RpcRecord[], incomplete: number }

/**
 * All RPC records of a capture on connections whose server port passes `isServerPort`, in the
 * order their last byte was captured (then stream order), which is the order a receiver saw them.
 */
export function captureRecords (file: string | Buffer, isServerPort: (port: number) => boolean = isGlusterPort): CaptureRecords {
  const packets = readPackets(typeof file === 'string' ? readFileSync(file) : file)
  const connections = tcpConnections(packets, isServerPort).filter(c => isServerPort(c.server.port))
  const records: RpcRecord[] = []
  let incomplete = 0
  for (const c of connections) {
    for (const dir of ['c2s', 's2c'] as const) {
      const r = splitRecords(c, dir)
      records.push(...r.records)
      incomplete += r.incomplete
    }
  }
  const conns = new Map(connections.map(c => [c.id, c.index]))
  records.sort((x, y) => x.lastFrame - y.lastFrame || conns.get(x.conn)! - conns.get(y.conn)! || (x.dir < y.dir ? -1 : x.dir > y.dir ? 1 : 0) || x.offset - y.offset)
  return { connections, records, incomplete }
}
