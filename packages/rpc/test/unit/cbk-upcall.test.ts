// The CACHE_INVALIDATION upcall (GlusterFS Callback 52743234 v1, proc 5) against bytes a real
// GlusterFS 10 brick sent: vectors/upcall.records.jsonl, cut from a capture of our Volume on the
// real cluster (vol1 with features.cache-invalidation on) while the FUSE client rewrote a file the
// volume had looked up (see vectors/SOURCE.md). tshark 4.0 decodes frame 172 as: GFID
// a7c74398-52db-4522-b088-1533e26abc7e, event CACHE_INVALIDATION (1), flags 24 (SIZE, TIMES),
// expire 60, stat mode 0100644 size 0, parent stat all zero.
import t from 'tap'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  CallbackProgram, GfCbkProc, GfUpcallEvent, GfUpcallFlags, GLUSTER_CBK_PROGRAM, MsgType, decodeMessage, xdr,
} from '@gluster-ts/rpc'
import { loadVectors } from '../support/replay.js'

const vectors = loadVectors(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../vectors/upcall.records.jsonl'))
const GFID = 'a7c74398-52db-4522-b088-1533e26abc7e'
const codec = CallbackProgram.procs.CACHE_INVALIDATION.args

t.test('every captured CACHE_INVALIDATION decodes and re-encodes to the same bytes', async t => {
  t.equal(vectors.length, 6, 'one per brick (3) for the truncate and for the write')
  const sizes: bigint[] = []
  for (const v of vectors) {
    const { msg, body, bodyOffset } = decodeMessage(v.message)
    t.equal(v.side, 's2c', `frame ${v.frame}: brick → client`)
    t.equal(msg.mtype, MsgType.CALL, 'a CALL on the client\'s own connection')
    if (msg.mtype !== MsgType.CALL) continue
    t.same([msg.prog, msg.vers, msg.proc], [GLUSTER_CBK_PROGRAM, 1, GfCbkProc.CACHE_INVALIDATION])
    t.same([msg.cred.flavor, msg.verf.flavor], [0, 0], 'AUTH_NULL both ways')
    const raw = v.message.subarray(bodyOffset)
    const req = codec.decode(body)
    t.equal(body.remaining, 0, 'nothing after the struct')
    t.ok(xdr.encode(codec, req).equals(raw), `frame ${v.frame}: encode(decode(bytes)) = bytes`)
    t.equal(req.gfid, GFID, 'gfid is the 36-character text form')
    t.equal(req.event_type, GfUpcallEvent.CACHE_INVALIDATION)
    t.equal(req.flags, GfUpcallFlags.SIZE | GfUpcallFlags.TIMES, 'a write: SIZE | TIMES')
    t.equal(req.expire_time_attr, 60, 'the default cache-invalidation-timeout')
    t.equal(req.stat.ia_gfid.toString('hex'), GFID.replace(/-/g, ''), 'stat carries the same gfid, 16 bytes')
    t.equal(req.stat.mode, 0o100644, 'a regular file, 0644')
    t.ok(req.parent_stat.ia_gfid.equals(Buffer.alloc(16)) && req.oldparent_stat.ia_gfid.equals(Buffer.alloc(16)), 'no parent stats for a write')
    t.equal(req.xdata.size, 0, 'empty xdata')
    sizes.push(req.stat.ia_size)
  }
  t.same(sizes, [0n, 0n, 0n, 8n, 8n, 8n], 'truncate to 0, then the 8-byte write')
})

t.test('a cut short upcall is a protocol error, not a crash', async t => {
  const { bodyOffset } = decodeMessage(vectors[0]!.message)
  const raw = vectors[0]!.message.subarray(bodyOffset)
  for (const n of [0, 3, 39, 40, 52, 151, raw.length - 1]) {
    t.throws(() => xdr.decode(codec, raw.subarray(0, n)), { code: 'EGLUSTER_PROTOCOL' }, `${n} of ${raw.length} bytes`)
  }
})
