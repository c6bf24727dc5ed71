import t from 'tap'
import {
  AuthFlavor, encodeCredential, decodeCredential, glusterfsV2Cred, glusterfsV3Cred, lkOwnerFromPid, maxGroups,
  isOpaqueAuth, credentialLkOwner, NULL_AUTH, MAX_AUTH_BYTES,
} from '@gluster-ts/rpc'
import type { Credential, OpaqueAuth } from '@gluster-ts/rpc'

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex')

/** {name, value, flavor, body hex}: checked by decode, encode, mirror and truncation. */
const fixtures: Array<{ name: string, value: Credential, body: string }> = [
  {
    // fact sheet §1.7 / capture mount frame 22 (GETSPEC), length 24
    name: 'AUTH_GLUSTERFS_v2, pid 0 (mount frame 22)',
    value: { flavor: 390039, pid: 0, uid: 0, gid: 0, groups: [], lk_owner: hex('00000000') },
    body: '00000000 00000000 00000000 00000000 00000004 00000000',
  },
  {
    // fact sheet §1.7 / capture read frame 44, length 40
    name: 'AUTH_GLUSTERFS_v3, pid 13984 (read frame 44)',
    value: { flavor: 390040, pid: 13984, uid: 0, gid: 0, flags: 0, ctime_nsec: 0x37056dcb, ctime_sec: 0x6b06ae9dn, groups: [], lk_owner: hex('a0360000') },
    body: '000036a0 00000000 00000000 00000000 37056dcb 00000000 6b06ae9d 00000000 00000004 a0360000',
  },
  {
    // capture mount frame 137: an internal client (pid -13) with an 8-byte lock owner
    name: 'AUTH_GLUSTERFS_v3, pid -13, 8-byte lk_owner (mount frame 137)',
    value: { flavor: 390040, pid: -13, uid: 0, gid: 0, flags: 0, ctime_nsec: 0, ctime_sec: 0n, groups: [], lk_owner: hex('78eb168c717f0000') },
    body: 'fffffff3 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000008 78eb168c 717f0000',
  },
  {
    name: 'AUTH_GLUSTERFS_v2 with groups and an odd-length lk_owner (padded)',
    value: { flavor: 390039, pid: 42, uid: 1000, gid: 100, groups: [100, 4, 27], lk_owner: hex('010203') },
    body: '0000002a 000003e8 00000064 00000003 00000064 00000004 0000001b 00000003 01020300',
  },
  {
    name: 'AUTH_UNIX (RFC 5531 authsys_parms)',
    value: { flavor: 1, stamp: 0x12345678, machinename: 'vm', uid: 0, gid: 0, gids: [0, 1] },
    body: '12345678 00000002 766d0000 00000000 00000000 00000002 00000000 00000001',
  },
  {
    name: 'AUTH_GLUSTERFS v1 (legacy: 16 group slots whatever ngrps says)',
    value: { flavor: 5, lk_owner: 0x0102030405060708n, pid: 7, uid: 1, gid: 2, groups: [10, 11] },
    body: '01020304 05060708 00000007 00000001 00000002 00000002 0000000a 0000000b' + ' 00000000'.repeat(14),
  },
]

for (const f of fixtures) {
  t.test(f.name, async t => {
    const body = hex(f.body)
    const auth: OpaqueAuth = { flavor: f.value.flavor, body }
    t.same(decodeCredential(auth), f.value, 'decode')
    const enc = encodeCredential(f.value)
    t.equal(enc.flavor, f.value.flavor)
    t.equal(enc.body.toString('hex'), body.toString('hex'), 'encode')
    t.same(decodeCredential(enc), f.value, 'mirror')
    for (let i = 0; i < body.length; i++) {
      t.throws(() => decodeCredential({ flavor: f.value.flavor, body: body.subarray(0, i) }), { name: 'GlusterError', code: 'EGLUSTER_PROTOCOL' })
    }
    t.throws(() => decodeCredential({ flavor: f.value.flavor, body: Buffer.concat([body, Buffer.alloc(4)]) }), { code: 'EGLUSTER_PROTOCOL', message: /trailing/ })
  })
}

t.test('flavor numbers follow the GlusterFS source, not Wireshark', async t => {
  t.equal(AuthFlavor.AUTH_NULL, 0)
  t.equal(AuthFlavor.AUTH_UNIX, 1)
  t.equal(AuthFlavor.AUTH_GLUSTERFS, 5)
  t.equal(AuthFlavor.AUTH_GLUSTERFS_v2, 390039)
  t.equal(AuthFlavor.AUTH_GLUSTERFS_v3, 390040)
})

t.test('AUTH_NULL and unknown flavors', async t => {
  t.same(decodeCredential(NULL_AUTH), { flavor: 0 })
  t.equal(encodeCredential({ flavor: 0 }), NULL_AUTH)
  const raw = { flavor: 6, body: hex('01020304') }
  t.equal(decodeCredential(raw), raw, 'an unmodelled flavor comes back as the raw opaque_auth')
  t.equal(encodeCredential(raw), raw, 'and encodes as itself')
  t.ok(isOpaqueAuth(raw))
  t.notOk(isOpaqueAuth({ flavor: 0 }))
  t.throws(() => decodeCredential({ flavor: 0, body: hex('00000000') }), { code: 'EGLUSTER_PROTOCOL' })
})

t.test('default lk_owner is the pid, 4 bytes little-endian', async t => {
  t.equal(lkOwnerFromPid(11686).toString('hex'), 'a62d0000', 'mount frame 180')
  t.equal(lkOwnerFromPid(13984).toString('hex'), 'a0360000', 'read frame 44')
  t.equal(lkOwnerFromPid(-13).toString('hex'), 'f3ffffff')
  t.same(glusterfsV2Cred({ pid: 11686 }).lk_owner, hex('a62d0000'))
  t.same(glusterfsV2Cred(), { flavor: 390039, pid: 0, uid: 0, gid: 0, groups: [], lk_owner: hex('00000000') })
  t.equal(encodeCredential(glusterfsV2Cred()).body.toString('hex'), fixtures[0]!.body.replace(/ /g, ''), 'default = what GETSPEC sent')
})

t.test('v3 credentials carry the time, nanoseconds first', async t => {
  const c = glusterfsV3Cred({ pid: 13984, ctime_sec: 0x6b06ae9dn, ctime_nsec: 0x37056dcb })
  t.equal(encodeCredential(c).body.toString('hex'), fixtures[1]!.body.replace(/ /g, ''))
  const before = BigInt(Math.floor(Date.now() / 1000))
  const now = glusterfsV3Cred({ uid: 5, flags: 3 })
  t.ok(now.ctime_sec >= before && now.ctime_sec <= before + 2n)
  t.ok(now.ctime_nsec >= 0 && now.ctime_nsec < 1e9)
  t.equal(now.flags, 3)
  t.equal(now.uid, 5)
})

t.test('groups are capped as GlusterFS caps them, and the body stays within 400 bytes', async t => {
  t.equal(maxGroups(390039, 4), 91)
  t.equal(maxGroups(390040, 4), 87)
  t.equal(maxGroups(390040, 8), 83)
  t.equal(maxGroups(390039, 1024), 0)
  const many = Array.from({ length: 200 }, (_, i) => i)
  const v2 = glusterfsV2Cred({ pid: 1, groups: many })
  t.equal(v2.groups.length, 91)
  t.ok(encodeCredential(v2).body.length <= MAX_AUTH_BYTES)
  const v3 = glusterfsV3Cred({ pid: 1, groups: many, lk_owner: Buffer.alloc(8) })
  t.equal(v3.groups.length, 83)
  t.ok(encodeCredential(v3).body.length <= MAX_AUTH_BYTES)
  // a hand-built credential that is too big is refused
  t.throws(() => encodeCredential({ flavor: 390039, pid: 0, uid: 0, gid: 0, groups: many, lk_owner: Buffer.alloc(4) }), RangeError)
  t.throws(() => encodeCredential({ flavor: 1, stamp: 0, machinename: 'x', uid: 0, gid: 0, gids: many.slice(0, 17) }), RangeError)
  t.throws(() => encodeCredential({ flavor: 1, stamp: 0, machinename: 'x'.repeat(256), uid: 0, gid: 0, gids: [] }), RangeError)
  t.throws(() => encodeCredential({ flavor: 5, lk_owner: 0n, pid: 0, uid: 0, gid: 0, groups: many.slice(0, 17) }), RangeError)
  t.throws(() => encodeCredential({ flavor: 77 } as unknown as Credential), RangeError)
})

t.test('malformed bodies', async t => {
  // v1 with ngrps 17
  t.throws(() => decodeCredential({ flavor: 5, body: hex('0000000000000000 00000000 00000000 00000000 00000011' + ' 00000000'.repeat(16)) }), { code: 'EGLUSTER_PROTOCOL' })
  // AUTH_UNIX with 17 gids
  t.throws(() => decodeCredential({ flavor: 1, body: hex('00000000 00000000 00000000 00000000 00000011' + ' 00000000'.repeat(17)) }), { code: 'EGLUSTER_PROTOCOL' })
  // a group count far beyond the body
  t.throws(() => decodeCredential({ flavor: 390039, body: hex('00000000 00000000 00000000 7fffffff') }), { code: 'EGLUSTER_PROTOCOL' })
})

t.test('credentialLkOwner', async t => {
  t.same(credentialLkOwner(fixtures[2]!.value), hex('78eb168c717f0000'))
  t.equal(credentialLkOwner({ flavor: 0 }), undefined)
  t.equal(credentialLkOwner({ flavor: 9, body: Buffer.alloc(0) }), undefined)
  t.same(credentialLkOwner(fixtures[5]!.value), hex('0102030405060708'))
})
