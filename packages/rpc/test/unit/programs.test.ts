// Every program's structs against bytes cut from real GlusterFS 10.3 traffic, four ways each
// (as mqtt-packet's testParseGenerate does): decode, encode (hex-equal), round-trip, and every
// truncated prefix fails with EGLUSTER_PROTOCOL.
import tap from 'tap'
import {
  CallbackProgram, DumpProgram, FopProgram, GfCbkProc, GfDumpProc, GfHndskProc, GfPmapProc, GfxFop, HandshakeProgram,
  PortmapProgram, GLUSTER_CBK_PROGRAM, GLUSTER_DUMP_PROGRAM, GLUSTER_FOP_PROGRAM, GLUSTER_HNDSK_PROGRAM,
  GLUSTER_PMAP_PROGRAM, GfxReadRsp, GfxWriteReq, PmapSigninReq, PmapSigninRsp, GfStatedump, GfxSeekRsp,
  GfGetVolumeInfoReq, GfGetVolumeInfoRsp, GfSetLkVerReq, GfProgDetail, XdrWriter, flatDict, newGfxIattx, xdr,
} from '@gluster-ts/rpc'
import type { Program } from '@gluster-ts/rpc'
import {
  type Fixture, callbackFixtures, dumpFixtures, fopFixtures, h, handshakeFixtures, portmapFixtures,
} from './fixtures/captured.js'

function checkFixture (t: Pick<typeof tap, 'test'>, f: Fixture): void {
  t.test(f.name, async t => {
    const bytes = h(f.hex.replace(/\s/g, ''))
    t.strictSame(xdr.decode(f.codec, bytes), f.value, 'decode')
    t.equal(xdr.encode(f.codec, f.value).toString('hex'), bytes.toString('hex'), 'encode')
    t.strictSame(xdr.decode(f.codec, xdr.encode(f.codec, f.value)), f.value, 'round-trip')
    const keep = bytes.length - (f.restBytes ?? 0)
    let threw = 0
    for (let i = 0; i < bytes.length; i++) {
      const prefix = bytes.subarray(0, i)
      if (i >= keep) {
        // a raw payload tail legitimately shrinks: the struct still decodes, with less data
        const v = xdr.decode(f.codec, prefix) as { data: Buffer }
        if (v.data.length !== i - keep) t.fail(`prefix ${i}: data length ${v.data.length}`)
        continue
      }
      try {
        xdr.decode(f.codec, prefix)
        t.fail(`prefix of ${i} bytes decoded`)
      } catch (err) {
        if ((err as { code?: string }).code !== 'EGLUSTER_PROTOCOL' || (err as Error).name !== 'GlusterError') {
          t.fail(`prefix of ${i} bytes threw ${String(err)}`)
        }
        threw++
      }
    }
    t.equal(threw, keep, `all ${keep} truncated prefixes throw EGLUSTER_PROTOCOL`)
  })
}

const t = tap
const tables: Array<[string, Fixture[]]> = [
  ['GF-DUMP 123451501 v1', dumpFixtures],
  ['Handshake 14398633 v2', handshakeFixtures],
  ['Portmap 34123456 v1', portmapFixtures],
  ['Callback 52743234 v1', callbackFixtures],
  ['GlusterFS 4.x fops 1298437 v400', fopFixtures],
]
for (const [name, fixtures] of tables) {
  t.test(`${name}: captured messages`, async t => {
    for (const f of fixtures) checkFixture(t, f)
  })
}

// Structs GlusterFS did not send in the captures, with bytes worked out by hand.
t.test('hand-made vectors', async t => {
  const fixtures: Fixture[] = [
    {
      name: 'pmap_signin_req',
      codec: PmapSigninReq,
      value: { brick: '/b1', port: 49152, pid: 4242 },
      hex: '00000003' + '2f623100' + '0000c000' + '00001092',
    },
    { name: 'pmap_signin_rsp', codec: PmapSigninRsp, value: { op_ret: -1, op_errno: 2 }, hex: 'ffffffff00000002' },
    { name: 'gf_statedump', codec: GfStatedump, value: { pid: 1234 }, hex: '000004d2' },
    {
      name: 'gf_set_lk_ver_req',
      codec: GfSetLkVerReq,
      value: { uid: 'abcde', lk_ver: 1 },
      hex: '00000005' + '6162636465000000' + '00000001',
    },
    {
      name: 'gfx_seek_rsp',
      codec: GfxSeekRsp,
      value: { op_ret: 0, op_errno: 0, xdata: null, offset: 4096n },
      hex: '00000000' + '00000000' + '00000000ffffffff00000000' + '0000000000001000',
    },
    {
      name: 'gf_get_volume_info_req {volname, flags}',
      codec: GfGetVolumeInfoReq,
      value: { dict: flatDict({ volname: 'v', flags: '1' }) },
      // opaque length 38 = 4 + (8 + 7 + 1 + 2) + (8 + 5 + 1 + 2), then 2 bytes of XDR padding
      hex: '00000026' + '00000002' +
        '00000007' + '00000002' + '766f6c6e616d6500' + '7600' +
        '00000005' + '00000002' + '666c61677300' + '3100' + '0000',
    },
    {
      name: 'gf_get_volume_info_rsp, flags 0: success with an empty dict',
      codec: GfGetVolumeInfoRsp,
      value: { op_ret: 0, op_errno: 0, op_errstr: '', dict: new Map() },
      hex: '00000000' + '00000000' + '00000000' + '00000000',
    },
    {
      name: 'gf_prog_detail',
      codec: GfProgDetail,
      value: { progname: 'GF-DUMP', prognum: 123451501n, progver: 1n },
      hex: '00000007' + '47462d44554d5000' + '00000000075bb86d' + '0000000000000001',
    },
    {
      name: 'gfx_read_rsp error: no data',
      codec: GfxReadRsp,
      value: { op_ret: -1, op_errno: 9, stat: newGfxIattx(), size: 0, xdata: null, data: Buffer.alloc(0) },
      hex: 'ffffffff' + '00000009' + '00'.repeat(148) + '00000000' + '00000000ffffffff00000000',
    },
  ]
  for (const f of fixtures) checkFixture(t, f)
})

t.test('READ reply: data is located after xdata by its xdr_size and is a subarray of the record', async t => {
  const rsp = fopFixtures.find(f => f.name.startsWith('READ reply'))!
  const bytes = h(rsp.hex)
  const v = xdr.decode(GfxReadRsp, bytes)
  t.equal(bytes.length - v.data.length, 172, 'op_ret, op_errno, iattx, size, NULL xdata = 172 bytes')
  t.equal(v.data.buffer, bytes.buffer, 'no copy')
  t.equal(v.data.byteOffset, bytes.byteOffset + 172)
  // a reply with xdata: the payload starts at 172 + xdr_size
  const withX = {
    ...v,
    xdata: new Map([['glusterfs.content-hint', { type: 5 as const, value: 'x' }]]),
    data: Buffer.from('payload'),
  }
  const enc = xdr.encode(GfxReadRsp, withX)
  const xdrSize = enc.readUInt32BE(160)
  t.equal(enc.length, 172 + xdrSize + 7)
  t.equal(enc.subarray(172 + xdrSize).toString(), 'payload')
  t.strictSame(xdr.decode(GfxReadRsp, enc), withX)
})

t.test('WRITE request: payload is raw after xdata, unpadded, and passed through as its own chunk', async t => {
  const big = Buffer.alloc(70000, 0xab)
  const v = { gfid: h('28f7a13cf33c4059afcb976a284d5e82'), fd: -2n, offset: 0n, size: big.length, flag: 0x8001, xdata: null, data: big }
  const w = new XdrWriter()
  GfxWriteReq.encode(w, v)
  const chunks = w.finishChunks()
  t.equal(chunks.length, 2)
  t.equal(chunks[0]!.length, 16 + 8 + 8 + 4 + 4 + 12)
  t.equal(chunks[1], big, 'the payload itself, not a copy')
  t.throws(() => xdr.encode(GfxWriteReq, { ...v, size: 1 }), RangeError, 'size must match the payload')
  const odd = xdr.encode(GfxWriteReq, { ...v, size: 3, data: Buffer.from('abc') })
  t.equal(odd.length, 52 + 3, 'no padding after an odd payload')
})

t.test('program tables: numbers, names and procedure numbers', async t => {
  t.equal(FopProgram.prog, GLUSTER_FOP_PROGRAM)
  t.equal(FopProgram.prog, 1298437)
  t.equal(FopProgram.vers, 400)
  t.equal(FopProgram.name, 'GlusterFS 4.x v1')
  t.equal(FopProgram.procs.RELEASE.num, 41)
  t.equal(FopProgram.procs.RELEASEDIR.num, 42)
  t.equal(FopProgram.procs.COPY_FILE_RANGE.num, 56)
  t.equal(FopProgram.byNum.has(GfxFop.COMPOUND), false, 'COMPOUND has no entry')
  t.equal(FopProgram.byNum.has(GfxFop.PUT), false, 'PUT has no entry')
  // every GfxFop but COMPOUND and PUT is in the table under its own name and number
  for (const [name, num] of Object.entries(GfxFop)) {
    if (name === 'COMPOUND' || name === 'PUT') continue
    t.equal((FopProgram.procs as Record<string, { num: number }>)[name]?.num, num, name)
  }
  t.equal(FopProgram.byNum.size, 55)

  t.strictSame([DumpProgram.prog, DumpProgram.vers], [GLUSTER_DUMP_PROGRAM, 1])
  t.strictSame([DumpProgram.procs.DUMP.num, DumpProgram.procs.PING.num], [GfDumpProc.DUMP, GfDumpProc.PING])
  t.strictSame([HandshakeProgram.prog, HandshakeProgram.vers], [GLUSTER_HNDSK_PROGRAM, 2])
  for (const [name, num] of Object.entries(GfHndskProc)) {
    t.equal((HandshakeProgram.procs as Record<string, { num: number }>)[name]?.num, num, `handshake ${name}`)
  }
  t.strictSame([PortmapProgram.prog, PortmapProgram.vers], [GLUSTER_PMAP_PROGRAM, 1])
  t.equal(PortmapProgram.procs.PORTBYBRICK.num, GfPmapProc.PORTBYBRICK)
  t.equal(PortmapProgram.procs.SIGNIN.num, 4)
  t.equal(PortmapProgram.procs.SIGNOUT.num, 5)
  t.strictSame([CallbackProgram.prog, CallbackProgram.vers], [GLUSTER_CBK_PROGRAM, 1])
  for (const [name, num] of Object.entries(GfCbkProc)) {
    if (name === 'NULL') continue
    const p = (CallbackProgram.procs as Record<string, { num: number, oneway: boolean }>)[name]
    t.equal(p?.num, num, `callback ${name}`)
    t.equal(p?.oneway, true, `callback ${name} is one-way`)
  }
  const all: Program[] = [FopProgram, DumpProgram, HandshakeProgram, PortmapProgram, CallbackProgram]
  for (const p of all) {
    for (const [num, proc] of p.byNum) t.equal(proc.num, num)
  }
})
