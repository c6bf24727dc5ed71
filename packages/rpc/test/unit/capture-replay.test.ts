// THE acceptance test for our codecs: every Gluster RPC message in the real GlusterFS 10.3
// captures decodes with our codecs and re-encodes to identical bytes (record mark included).
// Always run on the committed vectors (test/vectors/*.records.jsonl, see SOURCE.md); also on the
// live pcaps in ../shared/captures when that directory exists, which additionally checks that
// the committed vectors are what the extractor makes of the pcaps, and runs RecordDecoder over
// the captured TCP segment boundaries.
import t, { type Test } from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  loadVectors, replayMessages, replayCapture, formatResult, formatMismatch, mergeResults, emptyResult,
  MODELLED_PROGRAMS, type ReplayResult,
} from '../support/replay.js'
import { captureRecords } from '../support/pcap.js'
import { toJsonl, VECTOR_CAPTURES } from '../vectors/extract-vectors.js'
import { defineProgram } from '../../src/programs/program.js'
import type { Codec } from '../../src/xdr/codec.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const repoRoot = path.resolve(here, '../../../..')
const vectorsDir = path.resolve(here, '../vectors')
const capturesDir = path.resolve(repoRoot, '../shared/captures')

/** What each capture holds (captures/README and summary.txt): messages, and how many are header-only. */
const EXPECTED: Record<string, { total: number, opaque: number }> = {
  mount: { total: 132, opaque: 0 },
  read: { total: 114, opaque: 0 },
  write: { total: 282, opaque: 0 },
  failover: { total: 1124, opaque: 56 }, // glusterd mgmt v2/v3 between peers for `volume start force`
  'vol2-read': { total: 1688, opaque: 0 },
  'volset-fetchspec': { total: 40, opaque: 16 }, // glusterd mgmt v2/v3 for `volume set`
}

const opaqueCount = (r: ReplayResult): number => Object.values(r.opaque).reduce((n, c) => n + c.call + c.reply, 0)

function reportMismatches (t: Test, r: ReplayResult, what: string): void {
  for (const m of r.mismatches.slice(0, 20)) t.fail(formatMismatch(m))
  t.equal(r.mismatches.length, 0, `${what}: every message re-encodes to the bytes on the wire`)
}

t.test('committed vectors: decode and re-encode every message', async t => {
  const all = emptyResult()
  for (const name of VECTOR_CAPTURES) {
    const file = path.join(vectorsDir, `${name}.records.jsonl`)
    t.ok(existsSync(file), `${name}.records.jsonl is committed`)
    if (!existsSync(file)) continue
    const r = replayMessages(loadVectors(file))
    const want = EXPECTED[name]!
    t.equal(r.total, want.total, `${name}: ${want.total} messages`)
    t.equal(opaqueCount(r), want.opaque, `${name}: ${want.opaque} messages of programs we do not model`)
    t.equal(r.orphanReplies, 0, `${name}: every reply has its call in the vectors`)
    reportMismatches(t, r, name)
    t.comment(formatResult(r, name))
    mergeResults(all, r)
  }
  t.comment(formatResult(all, 'all vectors'))
  // every program we model and that GlusterFS 10.3 used in these scenarios was exercised
  const progsSeen = new Set(Object.keys(all.byProc).map(k => k.split(' ')[0]))
  for (const p of MODELLED_PROGRAMS) t.ok(progsSeen.has(`${p.prog}/${p.vers}`), `${p.name} (${p.prog}/${p.vers}) appears in the vectors`)
  t.same(Object.keys(all.errorReplies), [], 'no error replies in these captures (captures README)')
})

t.test('live captures in ../shared/captures', { skip: existsSync(capturesDir) ? false : `no ${capturesDir}` }, async t => {
  for (const name of [...VECTOR_CAPTURES, 'hung-brick-pt10']) {
    const pcap = path.join(capturesDir, `${name}.pcap`)
    if (!existsSync(pcap)) { t.comment(`${name}.pcap: not present`); continue }
    const r = replayCapture(pcap)
    if (name === 'hung-brick-pt10') {
      // snaplen 256: only the messages that fit whole are replayed
      t.equal(r.total + r.incomplete, 1400, `${name}: ${r.total} whole + ${r.incomplete} cut by the snaplen`)
    } else {
      t.equal(r.total, EXPECTED[name]!.total, `${name}: messages`)
      t.equal(r.incomplete, 0, `${name}: nothing cut`)
      const file = path.join(vectorsDir, `${name}.records.jsonl`)
      if (existsSync(file)) {
        // compare as a whole, but report only the first differing line (the files are megabytes)
        const fresh = toJsonl(captureRecords(pcap)).split('\n')
        const committed = readFileSync(file, 'utf8').split('\n')
        const i = fresh.findIndex((l, k) => l !== committed[k])
        t.equal(i === -1 && fresh.length === committed.length ? -1 : i, -1,
          `${name}: committed vectors are up to date (first differing line ${i + 1}); regenerate with extract-vectors.ts`)
      }
    }
    t.equal(r.recordDecoderChecked, r.total, `${name}: RecordDecoder, fed the captured TCP segments, yields the same ${r.total} records`)
    reportMismatches(t, r, `${name}.pcap`)
    t.comment(`${name}.pcap: ${r.connections} connections, ${r.total} messages replayed, ${opaqueCount(r)} header-only, ${r.incomplete} cut`)
  }
})

t.test('the checker catches a codec that does not round-trip', async t => {
  // GETSPEC args decoded by a codec that forgets `flags` (1 in mount.pcap frame 22) and writes 0
  const lossy: Codec<Buffer> = {
    decode: r => { r.u32(); return r.rest() },
    encode: (w, v) => { w.u32(0); w.raw(v) },
  }
  const broken = defineProgram({ name: 'broken handshake', prog: 14398633, vers: 2, procs: { GETSPEC: { num: 2, args: lossy, res: lossy } } })
  const msgs = loadVectors(path.join(vectorsDir, 'mount.records.jsonl')).filter(m => m.frame === 22)
  const r = replayMessages(msgs, [broken])
  t.equal(r.mismatches.length, 1)
  const m = r.mismatches[0]!
  t.match(m, { source: 'mount.records.jsonl', frame: 22, xid: 2, part: 'body', codec: 'GETSPEC.args', bodyOffset: 3 })
  t.match(formatMismatch(m), /frame 22 .* differs at message offset \d+ \(body offset 3\)/)
})
