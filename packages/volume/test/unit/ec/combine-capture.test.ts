// Combining brick answers as ec does, on the real answers of the 2+1 capture
// (../shared/captures/volume-types/disperse-2+1/ec-write-read.pcap): every LOOKUP and pre-op
// XATTROP fan-out of the FUSE client, then the same answers with one brick made stale.
import t from 'tap'
import { existsSync } from 'node:fs'
import { decodeMessage, FopProgram, GfxDictType, MsgType, xdr, type GfxDict, type GfxIattx } from '@gluster-ts/rpc'
import { captureRecords } from '../../../../rpc/test/support/pcap.js'
import {
  combineLookup, combinePreop, encodeEcPair, firstReadBrick, fragmentSizeConsistent, groupAnswers, pickReadBricks,
  type LookupAnswer, type PreopAnswer,
} from '../../../src/ec/index.js'
import { SHARED } from './capture.js'

const PCAP = SHARED + 'ec-write-read.pcap'

interface FanOut { proc: 'LOOKUP' | 'FXATTROP' | 'XATTROP', key: string, gfid: Buffer, bname: string, answers: Map<number, { op_ret: number, op_errno: number, xdata: GfxDict, dict?: GfxDict, stat?: GfxIattx, postparent?: GfxIattx }> }

/** The FUSE client's (10.77.0.1) LOOKUP and XATTROP fan-outs with their replies; brick = last octet − 11. */
function fanOuts (): FanOut[] {
  const cap = captureRecords(PCAP)
  const out: FanOut[] = []
  const pending = new Map<string, { f: FanOut, brick: number }>()
  for (const r of cap.records) {
    const [client, server] = r.conn.split('>')
    if (!client!.startsWith('10.77.0.1:') || server!.endsWith(':24007')) continue
    const brick = Number(server!.split(':')[0]!.split('.')[3]) - 11
    const { msg, bodyOffset } = decodeMessage(r.message)
    const body = r.message.subarray(bodyOffset)
    if (msg.mtype === MsgType.CALL && r.dir === 'c2s') {
      if (msg.prog !== FopProgram.prog) continue
      const name = FopProgram.byNum.get(msg.proc)?.name
      if (name !== 'LOOKUP' && name !== 'FXATTROP' && name !== 'XATTROP') continue
      const args = xdr.decode(FopProgram.procs[name].args as typeof FopProgram.procs.LOOKUP.args, body) as unknown as { gfid: Buffer, pargfid?: Buffer, bname?: string, flags: number, dict?: GfxDict, xdata: GfxDict }
      const key = [name, args.gfid.toString('hex'), args.pargfid?.toString('hex'), args.bname, args.flags, JSON.stringify([...(args.dict ?? [])], (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))].join('|')
      let f = out.findLast(x => x.key === key && !x.answers.has(brick) && ![...pending.values()].some(p => p.f === x && p.brick === brick))
      if (f === undefined || out.length - out.indexOf(f) > 12) { f = { proc: name, key, gfid: args.gfid, bname: args.bname ?? '', answers: new Map() }; out.push(f) }
      pending.set(`${r.conn}|${msg.xid}`, { f, brick })
    } else if (msg.mtype === MsgType.REPLY) {
      const p = pending.get(`${r.conn}|${msg.xid}`)
      if (p === undefined) continue
      pending.delete(`${r.conn}|${msg.xid}`)
      if (p.f.proc === 'LOOKUP') {
        const rsp = xdr.decode(FopProgram.procs.LOOKUP.res, body)
        p.f.answers.set(p.brick, { op_ret: rsp.op_ret, op_errno: rsp.op_errno, xdata: rsp.xdata, stat: rsp.prestat, postparent: rsp.poststat })
      } else {
        const rsp = xdr.decode(FopProgram.procs.FXATTROP.res, body)
        p.f.answers.set(p.brick, { op_ret: rsp.op_ret, op_errno: rsp.op_errno, xdata: rsp.xdata, dict: rsp.dict })
      }
    }
  }
  return out.filter(f => f.answers.size === 3)
}

const lookupAnswers = (f: FanOut): LookupAnswer[] => [...f.answers].map(([brick, a]) => ({ brick, ...a }))
const preopAnswers = (f: FanOut): PreopAnswer[] => [...f.answers].map(([brick, a]) => ({ brick, op_ret: a.op_ret, op_errno: a.op_errno, xdata: a.xdata, dict: a.dict ?? null }))

t.test('captured answers', { skip: existsSync(PCAP) ? false : 'needs ../shared/captures (the pcap is not copied into the repository)' }, async t => {
  const all = fanOuts()
  const lookups = all.filter(f => f.proc === 'LOOKUP')
  const preops = all.filter(f => f.proc !== 'LOOKUP' && f.answers.get(0)?.dict?.has('trusted.ec.config') === true)
  t.ok(lookups.length >= 60, `${lookups.length} LOOKUP fan-outs answered by all 3 bricks`)
  t.ok(preops.length >= 10, `${preops.length} pre-op FXATTROP fan-outs (with the config probe)`)

  t.test('every LOOKUP: the 3 bricks agree; a file\'s size is its trusted.ec.size', async t => {
    let files = 0
    for (const f of lookups) {
      const res = combineLookup(lookupAnswers(f), 2, 3)
      t.same([res.good, res.bad, res.missing, res.quorum], [[0, 1, 2], [], [], true], `${f.bname || f.gfid.toString('hex')}`)
      if (res.op_ret >= 0 && res.stat !== undefined && (res.stat.mode & 0o170000) === 0o100000 && res.size !== undefined) {
        files++
        const brickSizes = [...f.answers.values()].map(a => a.stat!.ia_size)
        t.equal(res.stat.ia_size, res.size, `${f.bname}: size ${res.size} (bricks hold ${brickSizes[0]})`)
        t.ok(fragmentSizeConsistent(res.size, brickSizes[0]!, 2), `${f.bname}: fragment file is ⌈size/1024⌉·512`)
        const blocks = [...f.answers.values()].reduce((s, a) => s + a.stat!.ia_blocks, 0n)
        t.equal(res.stat.ia_blocks, (blocks * 2n + 2n) / 3n, 'blocks scaled by k / answers')
      }
    }
    t.ok(files >= 5, `${files} regular-file LOOKUPs with a size`)
  })

  t.test('every pre-op: one group, config 3/1, fragment size matches size', async t => {
    for (const f of preops) {
      const res = combinePreop(preopAnswers(f), { k: 2, n: 3, regularFile: true })
      t.same([res.good, res.quorum, res.error], [[0, 1, 2], true, undefined])
      t.ok(res.fragmentSize !== undefined && res.size !== undefined && fragmentSizeConsistent(res.size, res.fragmentSize, 2), `size ${res.size}, fragments ${res.fragmentSize}`)
    }
  })

  t.test('one brick with a stale version is the bad one; the other two win', async t => {
    const f = lookups.find(x => x.answers.get(0)!.op_ret >= 0 && x.answers.get(0)!.xdata?.has('trusted.ec.version') === true)!
    const answers = lookupAnswers(f)
    const stale = answers.find(a => a.brick === 1)!
    stale.xdata = new Map(stale.xdata!)
    stale.xdata.set('trusted.ec.version', { type: GfxDictType.PTR, value: encodeEcPair({ data: 999n, meta: 999n }) })
    const res = combineLookup(answers, 2, 3)
    t.same([res.good, res.bad, res.quorum, res.healNeeded], [[0, 2], [1], true, true])
    const p = preops[0]!
    const pa = preopAnswers(p)
    const bad = pa.find(a => a.brick === 0)!
    bad.dict = new Map(bad.dict!)
    bad.dict.set('trusted.ec.size', { type: GfxDictType.PTR, value: Buffer.from('00000000000000ff', 'hex') })
    const pre = combinePreop(pa, { k: 2, n: 3, regularFile: true })
    t.same([pre.good, pre.bad], [[1, 2], [0]])
    // a dirty mark alone does not split the group, but is reported
    const d = lookupAnswers(f)
    d[2]!.xdata = new Map(d[2]!.xdata!)
    d[2]!.xdata.set('trusted.ec.dirty', { type: GfxDictType.PTR, value: encodeEcPair({ data: 1n, meta: 0n }) })
    const dr = combineLookup(d, 2, 3)
    t.same([dr.good, dr.dirty, dr.healNeeded], [[0, 1, 2], [d[2]!.brick], true])
  })

  t.test('read-policy gfid-hash picks the bricks the capture read from', async t => {
    // gluster-disperse.md §6: f1 → 1,2; f511 → 2,3; f65539 → 3,1 (1-based)
    const gfids: Record<string, [string, number[]]> = {
      'f1.bin': ['593eba8225384a3ebe05e23a067be0b4', [0, 1]],
      'f511.bin': ['f8d77e77ca514f17af6733f309f2b59f', [1, 2]],
      'f65539.bin': ['4ff17d75b56a41bfb874b70881cc4325', [2, 0]],
    }
    for (const [name, [gfid, bricks]] of Object.entries(gfids)) {
      t.same(pickReadBricks(firstReadBrick(Buffer.from(gfid, 'hex'), 3), 2, [true, true, true]), bricks, name)
    }
  })
})

t.test('grouping follows ec_combine: largest first, ties to the group that got there first', async t => {
  const same = (a: { v: number }, b: { v: number }): boolean => a.v === b.v
  const g = groupAnswers([{ brick: 0, v: 1 }, { brick: 1, v: 2 }, { brick: 2, v: 2 }, { brick: 3, v: 1 }, { brick: 4, v: 3 }], same)
  t.same(g.map(x => x.bricks), [[1, 2], [0, 3], [4]])
  const h = groupAnswers([{ brick: 2, v: 5 }, { brick: 0, v: 6 }, { brick: 1, v: 7 }], same)
  t.same(h.map(x => x.bricks), [[2], [0], [1]])
  t.same(pickReadBricks(2, 2, [true, false, true]), [2, 0])
  t.equal(pickReadBricks(0, 3, [true, false, true]), null, 'fewer than k usable')
  t.throws(() => combineLookup([], 2, 3), { code: 'ENOTCONN' })
})
