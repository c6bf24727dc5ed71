// Vectors cut from a capture gluster-ts made itself against the real GlusterFS 10 cluster
// (test-interop/rpc-real.test.ts with GTS_KEEP_PCAP, then vectors/extract-own.ts): our RpcClient's
// handshake and fops, the FUSE client's writes, and the real glusterd's and bricks' replies. Every
// message must decode with our codecs and re-encode to the captured bytes.
import t from 'tap'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadVectors, replayMessages, formatMismatch, formatResult } from '../support/replay.js'
import { OWN_VECTORS } from '../vectors/extract-own.js'

const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../vectors', OWN_VECTORS)

t.test('own capture against real GlusterFS 10: every message round-trips', async t => {
  const r = replayMessages(loadVectors(file))
  t.equal(r.total, 336, '336 messages')
  for (const m of r.mismatches.slice(0, 20)) t.fail(formatMismatch(m))
  t.equal(r.mismatches.length, 0, 'no mismatch')
  // the FUSE mount's connections were open before dumpcap started: 4 replies answer calls sent earlier
  t.equal(r.orphanReplies, 4, 'replies without their call: only the 4 to calls made before the capture began')
  const procs = Object.keys(r.byProc).join('\n')
  for (const p of ['GETSPEC', 'GET_VOLUME_INFO', 'SETVOLUME', 'PORTBYBRICK', 'DUMP', 'PING', 'LOOKUP', 'OPEN', 'READ', 'WRITE', 'CREATE', 'FXATTROP', 'RELEASE']) {
    t.match(procs, new RegExp(` ${p}$`, 'm'), `${p} is in the capture`)
  }
  t.comment(formatResult(r, OWN_VECTORS))
})
