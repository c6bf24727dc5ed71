// The two GlusterFS dictionary encodings (src/dict.ts): the flat serialized dict of the
// handshake programs and the typed gfx_dict of the 4.x fops. Vectors are cut from the
// captures in ../shared/captures (GlusterFS 10.3) unless marked hand-made.
import t from 'tap'
import {
  GfxDict, GfxDictType, XdrReader, decodeFlatDict, encodeFlatDict, flatDict, flatDictOpaque, flatDictSize,
  flatDictString, gfxBin, gfxDict, gfxDictBin, gfxDictBytes, gfxDictString, gfxDictUint, gfxDictXdrSize, gfxDouble,
  gfxIatt, gfxInt, gfxMdata, gfxStr, gfxStrOld, gfxUint, gfxUuid, newGfxIattx, xdr,
} from '@gluster-ts/rpc'
import type { FlatDict } from '@gluster-ts/rpc'

const h = (hex: string): Buffer => Buffer.from(hex.replace(/\s/g, ''), 'hex')

function throwsProtocol (t: Pick<typeof import('tap').default, 'throws'>, fn: () => unknown, msg: string): void {
  t.throws(fn, { name: 'GlusterError', code: 'EGLUSTER_PROTOCOL' }, msg)
}

// ---- flat dict ------------------------------------------------------------------------------

// mount frame 22: GETSPEC xdata (59 bytes inside a 60-byte opaque)
const GETSPEC_XDATA = h(
  '000000020000000e000000076d61782d6f702d76657273696f6e00313030303030000000000e000000026d696e2d6f70' +
  '2d76657273696f6e003100')
// mount frame 24: GETSPEC reply xdata
const GETSPEC_RSP_XDATA = h(
  '000000010000001900000023636c75737465722e627269636b2d766f6c2d736572766572730031302e37372e302e3132' +
  '3a32343030372031302e37372e302e31333a32343030372000')
// mount frame 103: SETVOLUME request dict, 19 pairs
const SETVOLUME_DICT = h(
  '0000001300000009000000076f7076657273696f6e00313030303030000000000f00000002636c6e742d6c6b2d766572' +
  '73696f6e0031000000001000000002766f6c66696c652d636865636b73756d0030000000000b00000005766f6c66696c' +
  '652d6b657900766f6c31000000000e00000005636c69656e742d76657273696f6e0031302e33000000000c0000006b70' +
  '726f636573732d75756964004354585f49443a61323863393264392d376434372d346636332d393465362d3239373965' +
  '356265653661642d47524150485f49443a302d5049443a31313635352d484f53543a766d2d50435f4e414d453a766f6c' +
  '312d636c69656e742d322d5245434f4e5f4e4f3a2d30000000000c00000008666f70732d76657273696f6e0031323938' +
  '343337000000000c0000000370696e672d74696d656f7574003432000000000b0000000b72656d6f74652d686f737400' +
  '31302e37372e302e313300000000100000002072656d6f74652d737562766f6c756d65002f746d702f7265616c636c75' +
  '737465722f6e332f627269636b732f766f6c31000000000e000000077472616e73706f72742d7479706500736f636b65' +
  '740000000018000000057472616e73706f72742e616464726573732d66616d696c7900696e6574000000001c00000004' +
  '7472616e73706f72742e736f636b65742e73736c2d656e61626c6564006f6666000000001a000000027472616e73706f' +
  '72742e7463702d757365722d74696d656f75740030000000001f000000037472616e73706f72742e736f636b65742e6b' +
  '656570616c6976652d74696d650032300000000023000000027472616e73706f72742e736f636b65742e6b656570616c' +
  '6976652d696e74657276616c00320000000020000000027472616e73706f72742e736f636b65742e6b656570616c6976' +
  '652d636f756e740039000000000c000000047374726963742d6c6f636b73006f666600000000090000000573656e642d' +
  '67696473007472756500')
// mount frame 114: SETVOLUME reply dict, 6 pairs
const SETVOLUME_RSP_DICT = h(
  '000000060000000d000000107472616e73706f72742d70747200313430303732333035363439393434000000000f0000' +
  '0002636c6e742d6c6b2d76657273696f6e0030000000000c0000002570726f636573732d757569640038303032623036' +
  '352d343966342d346465362d383637322d3432633032623337636432640000000005000000084552524f520053756363' +
  '657373000000000900000025766f6c756d652d69640066396462666265622d333163662d343962302d386661612d3636' +
  '656365396131653033360000000008000000026368696c645f7570003100')

t.test('flat dict: GETSPEC xdata', async t => {
  const d = decodeFlatDict(GETSPEC_XDATA)
  t.strictSame(d, flatDict({ 'max-op-version': '100000', 'min-op-version': '1' }))
  t.strictSame(d.get('max-op-version'), Buffer.from('100000\0'), 'values keep their NUL (vallen 7)')
  t.equal(flatDictString(d, 'min-op-version'), '1')
  t.equal(flatDictString(d, 'absent'), undefined)
  t.equal(encodeFlatDict(d).toString('hex'), GETSPEC_XDATA.toString('hex'))
  t.equal(flatDictSize(d), 59)
  // inside the opaque<>: length 59, one byte of XDR padding after the blob, none inside it
  const op = xdr.encode(flatDictOpaque, d)
  t.equal(op.toString('hex'), '0000003b' + GETSPEC_XDATA.toString('hex') + '00')
  t.strictSame(xdr.decode(flatDictOpaque, op), d)
})

t.test('flat dict: GETSPEC reply xdata (other volfile servers, trailing space kept)', async t => {
  const d = decodeFlatDict(GETSPEC_RSP_XDATA)
  t.equal(flatDictString(d, 'cluster.brick-vol-servers'), '10.77.0.12:24007 10.77.0.13:24007 ')
  t.equal(encodeFlatDict(d).toString('hex'), GETSPEC_RSP_XDATA.toString('hex'))
})

t.test('flat dict: SETVOLUME request (19 pairs) and reply (6 pairs)', async t => {
  const req = decodeFlatDict(SETVOLUME_DICT)
  t.equal(req.size, 19)
  t.strictSame([...req.keys()], [
    'opversion', 'clnt-lk-version', 'volfile-checksum', 'volfile-key', 'client-version', 'process-uuid',
    'fops-version', 'ping-timeout', 'remote-host', 'remote-subvolume', 'transport-type',
    'transport.address-family', 'transport.socket.ssl-enabled', 'transport.tcp-user-timeout',
    'transport.socket.keepalive-time', 'transport.socket.keepalive-interval', 'transport.socket.keepalive-count',
    'strict-locks', 'send-gids',
  ], 'wire order is Map order')
  t.equal(flatDictString(req, 'fops-version'), '1298437')
  t.equal(flatDictString(req, 'remote-subvolume'), '/tmp/realcluster/n3/bricks/vol1')
  t.match(flatDictString(req, 'process-uuid'), /^CTX_ID:.*-PC_NAME:vol1-client-2-RECON_NO:-0$/)
  t.equal(encodeFlatDict(req).toString('hex'), SETVOLUME_DICT.toString('hex'))

  const rsp = decodeFlatDict(SETVOLUME_RSP_DICT)
  t.strictSame(rsp, flatDict({
    'transport-ptr': '140072305649944',
    'clnt-lk-version': '0',
    'process-uuid': '8002b065-49f4-4de6-8672-42c02b37cd2d',
    ERROR: 'Success',
    'volume-id': 'f9dbfbeb-31cf-49b0-8faa-66ece9a1e036',
    child_up: '1',
  }))
  t.equal(encodeFlatDict(rsp).toString('hex'), SETVOLUME_RSP_DICT.toString('hex'))
})

t.test('flat dict: empty dict is a zero-length opaque<>, both ways', async t => {
  t.equal(xdr.encode(flatDictOpaque, new Map()).toString('hex'), '00000000')
  t.strictSame(xdr.decode(flatDictOpaque, h('00000000')), new Map())
  t.strictSame(decodeFlatDict(Buffer.alloc(0)), new Map())
  t.equal(encodeFlatDict(new Map()).toString('hex'), '00000000', 'the serialized form alone is the count 0')
  t.strictSame(decodeFlatDict(h('00000000')), new Map())
})

t.test('flat dict: binary values are raw; builders', async t => {
  const d: FlatDict = flatDict([['uuid', h('00112233445566778899aabbccddeeff')], ['s', 'é']])
  t.strictSame(d.get('s'), Buffer.from('c3a900', 'hex'), 'UTF-8 plus NUL')
  const enc = encodeFlatDict(d)
  t.equal(enc.toString('hex'),
    '00000002' + '00000004' + '00000010' + '7575696400' + '00112233445566778899aabbccddeeff' +
    '00000001' + '00000003' + '7300' + 'c3a900')
  t.strictSame(decodeFlatDict(enc), d)
  t.equal(flatDictString(d, 's'), 'é')
  t.equal(flatDictString(flatDict({ bin: Buffer.from('no-nul') }), 'bin'), 'no-nul', 'no NUL: whole value')
  t.equal(flatDictString(undefined, 'x'), undefined)
})

t.test('flat dict: malformed input is EGLUSTER_PROTOCOL', async t => {
  for (let i = 1; i < GETSPEC_XDATA.length; i++) {
    throwsProtocol(t, () => decodeFlatDict(GETSPEC_XDATA.subarray(0, i)), `prefix of ${i} bytes`)
  }
  throwsProtocol(t, () => decodeFlatDict(Buffer.concat([GETSPEC_XDATA, h('00')])), 'a trailing byte')
  const noNul = Buffer.from(GETSPEC_XDATA)
  noNul[12 + 14] = 0x41 // the byte after "max-op-version"
  throwsProtocol(t, () => decodeFlatDict(noNul), 'key without its NUL')
  throwsProtocol(t, () => decodeFlatDict(h('ffffffff00000000')), 'count larger than the bytes can hold')
  throwsProtocol(t, () => decodeFlatDict(h('00000001' + 'ffffffff' + '00000000' + '6100')), 'key length past the end')
  throwsProtocol(t, () => decodeFlatDict(h('00000001' + '00000001' + 'ffffffff' + '6100')), 'value length past the end')
  throwsProtocol(t, () => decodeFlatDict(h('000001')), 'shorter than the count')
  throwsProtocol(t, () => xdr.decode(flatDictOpaque, h('00000004' + '00000001')), 'inside the opaque too')
})

t.test('flat dict: a repeated key keeps its last value', async t => {
  const d = decodeFlatDict(h('00000002' + '00000001' + '00000002' + '6100' + '3100' + '00000001' + '00000002' + '6100' + '3200'))
  t.equal(flatDictString(d, 'a'), '2')
})

// ---- gfx_dict -------------------------------------------------------------------------------

const dec = (hex: string | Buffer): GfxDict => xdr.decode(GfxDict, typeof hex === 'string' ? h(hex) : hex)
const enc = (d: GfxDict): string => xdr.encode(GfxDict, d).toString('hex')

// mount frame 127: the 13-key xdata of the FUSE client's first LOOKUP (xdr_size 520)
const LOOKUP_XDATA = h(
  '000002080000000d0000000d0000000b6c696e6b2d636f756e740000000000050000001e676c757374657266732e7861' +
  '7474726f705f696e6465785f636f756e7400000000000019676c757374657266732e706172656e742d656e7472796c6b' +
  '0000000000000003000000000000000000000018676c757374657266732e656e7472796c6b2d636f756e740000000003' +
  '000000000000000000000018676c757374657266732e696e6f64656c6b2d636f756e7400000000030000000000000000' +
  '0000000b6c6973742d7861747472000000000002000000000000000100000012747275737465642e6166722e64697274' +
  '7900000000000003000000000000000c0000001a747275737465642e6166722e766f6c312d636c69656e742d32000000' +
  '00000003000000000000000c0000001a747275737465642e6166722e766f6c312d636c69656e742d3100000000000003' +
  '000000000000000c0000001a747275737465642e6166722e766f6c312d636c69656e742d300000000000000300000000' +
  '0000000c0000001473656375726974792e6361706162696c697479000000000200000000000000000000000d73656375' +
  '726974792e696d610000000000000002000000000000000000000012676c757374657266732e636f6e74656e74000000' +
  '00000003000000000001000000000018747275737465642e676c757374657266732e6d64617461000000000200000000' +
  '00000001')
const LOOKUP_XDATA_VALUE = gfxDict({
  'link-count': gfxStr('glusterfs.xattrop_index_count'),
  'glusterfs.parent-entrylk': gfxUint(0n),
  'glusterfs.entrylk-count': gfxUint(0n),
  'glusterfs.inodelk-count': gfxUint(0n),
  'list-xattr': gfxInt(1n),
  'trusted.afr.dirty': gfxUint(12n),
  'trusted.afr.vol1-client-2': gfxUint(12n),
  'trusted.afr.vol1-client-1': gfxUint(12n),
  'trusted.afr.vol1-client-0': gfxUint(12n),
  'security.capability': gfxInt(0n),
  'security.ima': gfxInt(0n),
  'glusterfs.content': gfxUint(65536n),
  'trusted.glusterfs.mdata': gfxInt(1n),
})
// write frame 54: the FXATTROP dict of AFR's pre-op (binary values, xdr_size 200)
const FXATTROP_DICT = h(
  '000000c8000000040000000400000012747275737465642e6166722e6469727479000000000000060000000c00000001' +
  '00000000000000000000001a747275737465642e6166722e766f6c312d636c69656e742d32000000000000060000000c' +
  '0000000000000000000000000000001a747275737465642e6166722e766f6c312d636c69656e742d3100000000000006' +
  '0000000c0000000000000000000000000000001a747275737465642e6166722e766f6c312d636c69656e742d30000000' +
  '000000060000000c000000000000000000000000')
// write frame 30: CREATE xdata with gfid-req (GFUUID, 16 bytes, no length word)
const CREATE_XDATA = h('00000024000000010000000100000009676669642d72657100000000000000072d35e5d60e0148d1bfc3764b2d575e3a')
// mount frame 148: SETXATTR dict {set-ctime-mdata: MDATA}
const MDATA_DICT = h(
  '0000003c0000000100000001000000107365742d6374696d652d6d646174610000000009000000006b06ae3000000000' +
  '6b06ae33000000006b06ae33025b4d551ff1e15e1ff1e15e')

t.test('gfx_dict: the NULL dict and the empty dict', async t => {
  t.equal(enc(null), '00000000ffffffff00000000')
  t.equal(dec('00000000ffffffff00000000'), null)
  t.equal(enc(new Map()), '000000000000000000000000')
  t.strictSame(dec('000000000000000000000000'), new Map())
  t.equal(gfxDictXdrSize(null), 0)
  t.equal(gfxDictBytes(new Map()), 12)
})

t.test('gfx_dict: LOOKUP xdata, 13 pairs (STR, INT, UINT)', async t => {
  const d = dec(LOOKUP_XDATA)
  t.strictSame(d, LOOKUP_XDATA_VALUE)
  t.equal(enc(LOOKUP_XDATA_VALUE), LOOKUP_XDATA.toString('hex'))
  t.equal(gfxDictXdrSize(LOOKUP_XDATA_VALUE), 520)
  t.equal(gfxDictBytes(LOOKUP_XDATA_VALUE), LOOKUP_XDATA.length)
  t.equal(gfxDictString(d, 'link-count'), 'glusterfs.xattrop_index_count')
  t.equal(gfxDictUint(d, 'glusterfs.content'), 65536n)
  t.equal(gfxDictUint(d, 'list-xattr'), 1n, 'INT counts as well')
  t.equal(gfxDictUint(d, 'link-count'), undefined, 'not a number')
  t.equal(gfxDictBin(d, 'link-count'), undefined, 'STR is not binary')
  t.equal(gfxDictString(d, 'glusterfs.content'), undefined)
  t.equal(gfxDictString(d, 'absent'), undefined)
  t.equal(gfxDictUint(null, 'x'), undefined)
})

t.test('gfx_dict: FXATTROP dict (binary values)', async t => {
  const d = dec(FXATTROP_DICT)
  const zero12 = Buffer.alloc(12)
  t.strictSame(d, gfxDict({
    'trusted.afr.dirty': gfxBin(h('000000010000000000000000')),
    'trusted.afr.vol1-client-2': zero12,
    'trusted.afr.vol1-client-1': zero12,
    'trusted.afr.vol1-client-0': zero12,
  }))
  t.equal(enc(d), FXATTROP_DICT.toString('hex'))
  t.equal(gfxDictXdrSize(d), 200)
  t.strictSame(gfxDictBin(d, 'trusted.afr.dirty'), h('000000010000000000000000'))
})

t.test('gfx_dict: GFUUID and MDATA values', async t => {
  const c = dec(CREATE_XDATA)
  t.strictSame(c, gfxDict({ 'gfid-req': gfxUuid(h('2d35e5d60e0148d1bfc3764b2d575e3a')) }))
  t.equal(enc(c), CREATE_XDATA.toString('hex'))
  t.strictSame(gfxDictBin(c, 'gfid-req'), h('2d35e5d60e0148d1bfc3764b2d575e3a'))
  const m = dec(MDATA_DICT)
  t.strictSame(m, gfxDict({
    'set-ctime-mdata': gfxMdata({
      ia_atime: 1795599920n,
      ia_mtime: 1795599923n,
      ia_ctime: 1795599923n,
      ia_atime_nsec: 39538005,
      ia_mtime_nsec: 535945566,
      ia_ctime_nsec: 535945566,
    }),
  }))
  t.equal(enc(m), MDATA_DICT.toString('hex'))
})

t.test('gfx_dict: DOUBLE, STR_OLD, STR, IATT (hand-made)', async t => {
  const cases: Array<[string, GfxDict, string]> = [
    ['DOUBLE 1.5', gfxDict({ d: gfxDouble(1.5) }),
      '00000014' + '00000001' + '00000001' + '00000002' + '64000000' + '00000004' + '3ff8000000000000'],
    ['STR_OLD "abc"', gfxDict({ o: gfxStrOld(Buffer.from('abc')) }),
      '00000014' + '00000001' + '00000001' + '00000002' + '6f000000' + '00000001' + '00000003' + '61626300'],
    ['STR "hi": length 3 with the NUL', gfxDict({ s: 'hi' }),
      '00000014' + '00000001' + '00000001' + '00000002' + '73000000' + '00000005' + '00000003' + '68690000'],
    ['empty binary', gfxDict({ e: Buffer.alloc(0) }),
      '00000010' + '00000001' + '00000001' + '00000002' + '65000000' + '00000006' + '00000000'],
    ['negative INT', gfxDict({ n: gfxInt(-2) }),
      '00000014' + '00000001' + '00000001' + '00000002' + '6e000000' + '00000002' + 'fffffffffffffffe'],
    ['IATT', gfxDict({ i: gfxIatt(newGfxIattx({ ia_ino: 1n, mode: 0o40755 })) }),
      '000000a0' + '00000001' + '00000001' + '00000002' + '69000000' + '00000008' +
      '00'.repeat(24) + '0000000000000001' + '00'.repeat(144 - 32) + '000041ed'],
  ]
  for (const [name, d, hex] of cases) {
    t.equal(enc(d), hex, `${name}: encode`)
    t.strictSame(dec(hex), d, `${name}: decode`)
    t.equal(gfxDictBytes(d), hex.length / 2, `${name}: size`)
  }
  t.equal(gfxDictString(gfxDict({ o: gfxStrOld(Buffer.from('abc\0')) }), 'o'), 'abc', 'STR_OLD read as text')
})

t.test('gfx_dict: strict where GlusterFS relies on it', async t => {
  const lie = (delta: number): Buffer => {
    const b = Buffer.from(LOOKUP_XDATA)
    b.writeUInt32BE(520 + delta, 0)
    return b
  }
  throwsProtocol(t, () => dec(Buffer.concat([lie(4), Buffer.alloc(8)])), 'xdr_size larger than the pairs')
  throwsProtocol(t, () => dec(lie(-4)), 'xdr_size smaller than the pairs')
  throwsProtocol(t, () => dec(lie(1000)), 'xdr_size past the end')
  throwsProtocol(t, () => dec('00000000' + 'ffffffff' + '00000001'), 'NULL dict with pairs')
  throwsProtocol(t, () => dec('00000004' + 'ffffffff' + '00000000'), 'NULL dict with an xdr_size')
  throwsProtocol(t, () => dec('00000000' + 'fffffffe' + '00000000'), 'count -2')
  throwsProtocol(t, () => dec('00000000' + '00000001' + '00000000'), 'count 1 but no pairs')
  throwsProtocol(t, () => dec('00000010' + '00000001' + '00000001' + '00000002' + '65000000' + '00000000' + '00000000'), 'type 0 (UNKNOWN)')
  throwsProtocol(t, () => dec('00000010' + '00000001' + '00000001' + '00000002' + '65000000' + '0000000a' + '00000000'), 'type 10')
  throwsProtocol(t, () => dec('00000010' + '00000001' + '00000001' + '00000002' + '65660000' + '00000006' + '00000000'), 'key without its NUL')
  throwsProtocol(t, () => dec('0000000c' + '00000001' + '00000001' + '00000000' + '00000006' + '00000000'), 'empty key')
  throwsProtocol(t, () => dec('7fffffff' + '7fffffff' + '7fffffff'), 'absurd sizes')
  for (let i = 0; i < LOOKUP_XDATA.length; i++) {
    throwsProtocol(t, () => dec(LOOKUP_XDATA.subarray(0, i)), `prefix of ${i} bytes`)
  }
})

t.test('gfx_dict: tolerated quirks', async t => {
  t.strictSame(dec('00000014' + '00000001' + '00000001' + '00000002' + '73000000' + '00000005' + '00000002' + '68690000'),
    gfxDict({ s: 'hi' }), 'a STR without its NUL is read whole')
  t.strictSame(dec('00000028' + '00000002' + '00000002' +
    '00000002' + '61000000' + '00000003' + '0000000000000001' +
    '00000002' + '61000000' + '00000003' + '0000000000000002'), gfxDict({ a: gfxUint(2) }), 'a repeated key keeps the last value')
})

t.test('gfx_dict: builders', async t => {
  const d = gfxDict({ s: 'text', b: Buffer.from([1]), u: gfxUint(5) })
  t.strictSame(d.get('s'), { type: GfxDictType.STR, value: 'text' })
  t.strictSame(d.get('b'), { type: GfxDictType.PTR, value: Buffer.from([1]) })
  t.strictSame(d.get('u'), { type: GfxDictType.UINT, value: 5n })
  t.throws(() => gfxUuid(Buffer.alloc(15)), RangeError)
  t.throws(() => enc(new Map([['u', { type: GfxDictType.GFUUID, value: Buffer.alloc(3) }]])), RangeError)
  t.throws(() => enc(new Map([['x', { type: 42 } as never]])), RangeError)
  // decoding straight from a reader leaves it right after the dict
  const r = new XdrReader(Buffer.concat([CREATE_XDATA, h('cafebabe')]))
  GfxDict.decode(r)
  t.equal(r.u32(), 0xcafebabe)
})
