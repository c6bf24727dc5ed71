// The SETVOLUME decision against the tables of gluster-shard-tls-auth.md §3.4–3.5 (addr.so,
// login.so, gf_authenticate) and glusterd's trusted-caller rule (§3.2).
import t from 'tap'
import { flatDict } from '@gluster-ts/rpc'
import {
  authenticate, addrAuth, loginAuth, authPeer, fnmatch, isTrustedCaller, authHostNames, resolveAuthHosts,
  validateAuthList, parseBoolean,
} from '@gluster-ts/server'
import type { AuthConfig, AuthPeer } from '@gluster-ts/server'

const BRICK = '/data/b0'
const USER = '12d8cede-e53b-467d-a0d9-89197e42e905'
const PASS = 'cfd5686d-c898-4775-b4ef-f5888215738b'
const v4 = (address: string, port = 49151): AuthPeer => ({ family: 'ipv4', address, port })
const v6 = (address: string, port = 49151): AuthPeer => ({ family: 'ipv6', address, port })
const unix: AuthPeer = { family: 'unix', address: '', port: 0 }
const req = (extra: Record<string, string> = {}): Map<string, Buffer> =>
  flatDict({ 'remote-subvolume': BRICK, 'process-uuid': 'CTX_ID:x', 'fops-version': '1298437', ...extra })
const creds = { username: USER, password: PASS }
/** what glusterd writes for a volume with defaults: auth.allow *, the volume's user */
const DEFAULTS: AuthConfig = { allow: '*', login: creds }

t.test('fnmatch: fnmatch(3) with no flags', async t => {
  const cases: Array<[string, string, boolean]> = [
    ['*', '', true], ['*', '10.0.0.1', true], ['10.0.0.*', '10.0.0.17', true], ['10.0.0.*', '10.0.1.17', false],
    ['10.0.?.1', '10.0.5.1', true], ['10.0.?.1', '10.0.55.1', false], ['*.1', '/tmp/sock.1', true],
    ['10.0.0.[1-3]', '10.0.0.2', true], ['10.0.0.[1-3]', '10.0.0.4', false], ['10.0.0.[!1-3]', '10.0.0.4', true],
    ['10.0.0.[^1-3]', '10.0.0.2', false], ['[]]', ']', true], ['[', '[', true], ['a\\*', 'a*', true], ['a\\*', 'ab', false],
    ['*a*b*', 'xxaybzz', true], ['*a*b', 'xxaybzz', false], ['fe80::*', 'fe80::1', true], ['::1', '::1', true],
    ['12d8cede-*', USER, true], ['', '', true], ['', 'x', false],
  ]
  for (const [p, s, want] of cases) t.equal(fnmatch(p, s), want, `${JSON.stringify(p)} ~ ${JSON.stringify(s)}`)
})

t.test('addr: the §3.4 table', async t => {
  const addr = (cfg: AuthConfig, peer: AuthPeer, extra?: Record<string, string>): string => addrAuth(cfg, BRICK, req(extra), peer).result
  t.equal(addr({}, v4('10.0.0.1')), 'DONT_CARE', 'no allow/reject option: DONT_CARE')
  t.equal(addr({ login: creds }, v4('10.0.0.1')), 'DONT_CARE', 'login options only: addr does not care')
  t.equal(addr({ allow: '*' }, v4('10.0.0.1')), 'ACCEPT', '* accepts anyone')
  t.equal(addr({ allow: '*' }, unix), 'ACCEPT', '* accepts a unix-socket peer (empty address)')
  t.equal(addr({ allow: '10.0.0.2' }, v4('10.0.0.1')), 'DONT_CARE', 'not in the allow list: DONT_CARE, not REJECT')
  t.equal(addr({ allow: '10.0.0.2,10.0.0.1' }, v4('10.0.0.1')), 'ACCEPT', 'comma list')
  t.equal(addr({ allow: ',,10.0.0.1,' }, v4('10.0.0.1')), 'ACCEPT', 'empty entries are skipped')
  t.equal(addr({ allow: '10.0.0.*' }, v4('10.0.0.1')), 'ACCEPT', 'glob')
  t.equal(addr({ allow: '10.0.0.0/24' }, v4('10.0.0.200')), 'ACCEPT', 'CIDR')
  t.equal(addr({ allow: '10.0.0.0/24' }, v4('10.0.1.1')), 'DONT_CARE', 'outside the CIDR')
  t.equal(addr({ allow: '10.0.0.0/20' }, v4('10.0.15.1')), 'ACCEPT', 'a prefix that is not a multiple of 8: the top bits')
  t.equal(addr({ allow: '10.0.0.0/20' }, v4('10.0.16.1')), 'DONT_CARE')
  t.equal(addr({ allow: '10.0.0.1/32' }, v4('10.0.0.2')), 'DONT_CARE', '/32 is one address (10.3 would match everything)')
  t.equal(addr({ allow: '0.0.0.0/0' }, v4('192.0.2.9')), 'ACCEPT', '/0 is everything')
  t.equal(addr({ allow: '10.0.0.0/24' }, v6('::1')), 'DONT_CARE', 'an IPv4 network never matches an IPv6 peer')
  t.equal(addr({ allow: 'fd00::/8' }, v6('fd12::5')), 'ACCEPT', 'IPv6 CIDR')
  t.equal(addr({ allow: 'fd00::/8' }, v6('fe80::5')), 'DONT_CARE')
  t.equal(addr({ allow: '::1' }, v6('::1')), 'ACCEPT', 'IPv6 literal')
  t.equal(addr({ allow: '0:0:0:0:0:0:0:1' }, v6('::1')), 'DONT_CARE', 'a long-form IPv6 entry is a glob on the text, as in addr.c')
  t.equal(addr({ allow: '127.0.0.1,::1' }, v6('::1')), 'ACCEPT', 'the embedded cluster default, IPv6')
  t.equal(addr({ allow: '127.0.0.1,::1' }, v4('127.0.0.1')), 'ACCEPT', 'the embedded cluster default, IPv4')
  t.equal(addr({ allow: '127.0.0.1,::1' }, v4('127.0.0.2')), 'DONT_CARE')
  t.equal(addr({ allow: '127.0.0.1,::1' }, unix), 'DONT_CARE', 'addresses never match a unix-socket peer')
  t.equal(addr({ allow: '!10.0.0.*' }, v4('10.0.1.1')), 'ACCEPT', '! negates a glob')
  t.equal(addr({ allow: '!10.0.0.*' }, v4('10.0.0.1')), 'DONT_CARE')
  t.equal(addr({ allow: '!10.0.0.0/24' }, v4('10.0.0.1')), 'DONT_CARE', '! negates a network')
  t.equal(addr({ allow: '!10.0.0.1' }, v4('10.0.0.1')), 'DONT_CARE', '! negates an exact address')
  t.equal(addr({ allow: '!10.0.0.1' }, v4('10.0.0.2')), 'ACCEPT')
  t.equal(addr({ allow: '!10.0.0.9,10.0.0.2' }, v4('10.0.0.9')), 'DONT_CARE', '! is per entry: the next entry is not negated')
  t.equal(addr({ allow: 'localhost' }, v4('127.0.0.1')), 'DONT_CARE', 'an unresolved host name matches nothing')
  t.equal(addrAuth({ allow: 'localhost' }, BRICK, req(), v4('127.0.0.1'), new Map([['localhost', ['127.0.0.1', '::1']]])).result, 'ACCEPT',
    'a host name matches its addresses')
  t.equal(addr({ allow: '*', reject: '10.0.0.1' }, v4('10.0.0.1')), 'REJECT', 'reject is checked first')
  t.equal(addr({ reject: '10.0.0.1' }, v4('10.0.0.2')), 'DONT_CARE', 'reject only, no match: DONT_CARE')
  t.equal(addr({ allow: '*' }, v4('10.0.0.1'), { 'remote-subvolume': '/other' }), 'DONT_CARE', 'options are per brick name')
})

t.test('addr: sub-directory lists against subdir-mount', async t => {
  const addr = (list: string, peer: AuthPeer, subdir?: string): string =>
    addrAuth({ allow: list }, BRICK, req(subdir !== undefined ? { 'subdir-mount': subdir } : {}), peer).result
  t.equal(addr('/(10.0.0.1|10.0.0.2),/sub(10.0.0.3)', v4('10.0.0.2')), 'ACCEPT', 'the volume root is /')
  t.equal(addr('/(10.0.0.1|10.0.0.2),/sub(10.0.0.3)', v4('10.0.0.3')), 'DONT_CARE', 'not listed for /')
  t.equal(addr('/(10.0.0.1|10.0.0.2),/sub(10.0.0.3)', v4('10.0.0.3'), '/sub'), 'ACCEPT', 'listed for /sub')
  t.equal(addr('/sub(*)', v4('10.0.0.3'), '/sub'), 'ACCEPT')
  t.equal(addr('/sub', v4('10.0.0.3'), '/sub'), 'DONT_CARE', 'a directory without addresses matches nothing')
})

t.test('addr: source ports when rpc-auth-allow-insecure is off (§3.5)', async t => {
  const addr = (cfg: AuthConfig, peer: AuthPeer): string => addrAuth(cfg, BRICK, req(), peer).result
  t.equal(addr({ allow: '*' }, v4('10.0.0.1', 49151)), 'ACCEPT', 'allowInsecure defaults to on, as real bricks')
  t.equal(addr({ allow: '*', allowInsecure: false }, v4('10.0.0.1', 1024)), 'REJECT', 'port 1024 is not privileged')
  t.equal(addr({ allow: '*', allowInsecure: false }, v4('10.0.0.1', 1023)), 'ACCEPT', 'port 1023 is')
  t.equal(addr({ allow: '*', allowInsecure: false }, v6('::1', 40000)), 'REJECT', 'IPv6 too')
  t.equal(addr({ allow: '*', allowInsecure: false }, unix), 'ACCEPT', 'unix sockets have no port')
  t.equal(addr({ login: creds, allowInsecure: false }, v4('10.0.0.1', 40000)), 'DONT_CARE', 'the rule lives in addr: without address options it is not applied')
})

t.test('login: the §3.4 table', async t => {
  const login = (cfg: AuthConfig, extra: Record<string, string>, peer: AuthPeer = v4('10.0.0.1')): string =>
    loginAuth(cfg, BRICK, req(extra), peer).result
  t.equal(login({ allow: '*' }, { username: USER, password: PASS }), 'DONT_CARE', 'no auth.login options: not loaded')
  t.equal(login(DEFAULTS, {}), 'DONT_CARE', 'no username (the plain volfile)')
  t.equal(login(DEFAULTS, { username: USER }), 'DONT_CARE', 'no password')
  t.equal(login(DEFAULTS, { username: USER, password: PASS }), 'ACCEPT', 'the volume user and its password')
  t.equal(login(DEFAULTS, { username: USER, password: 'x' + PASS.slice(1) }), 'REJECT', 'wrong password')
  t.equal(login(DEFAULTS, { username: USER, password: '' }), 'REJECT', 'empty password')
  t.equal(login(DEFAULTS, { username: 'someone', password: PASS }), 'DONT_CARE', 'unknown user: DONT_CARE')
  t.equal(login({ ...DEFAULTS, strictAuthAccept: true }, {}), 'REJECT', 'strict-auth-accept: no username rejects')
  t.equal(login({ ...DEFAULTS, strictAuthAccept: true }, { username: 'someone', password: PASS }), 'REJECT', 'strict: unknown user rejects')
  t.equal(login({ ...DEFAULTS, strictAuthAccept: true }, { username: USER, password: PASS }), 'ACCEPT')
  t.equal(login(DEFAULTS, { username: USER, password: PASS, 'remote-subvolume': '/other' }), 'DONT_CARE', 'credentials are per brick name')
  t.equal(loginAuth(DEFAULTS, BRICK, flatDict({ username: USER, password: PASS }), v4('10.0.0.1')).result, 'REJECT', 'no remote-subvolume')
  t.equal(login({ login: { username: 'u*', password: PASS } }, { username: 'ux', password: PASS }), 'REJECT',
    'a glob in the allow list matches, but only the listed user has a password')
})

t.test('login: TLS names against ssl-allow; ssl-name from the client dict is ignored', async t => {
  const tls = (name: string): AuthPeer => ({ ...v4('10.0.0.1'), sslName: name })
  const login = (cfg: AuthConfig, peer: AuthPeer, extra: Record<string, string> = {}): string => loginAuth(cfg, BRICK, req(extra), peer).result
  t.equal(login({ sslAllow: 'gl-server,ts-*' }, tls('ts-client')), 'ACCEPT', 'a listed glob')
  t.equal(login({ sslAllow: 'gl-server ts-client' }, tls('ts-client')), 'ACCEPT', 'space-separated')
  t.equal(login({ sslAllow: 'gl-server' }, tls('mallory')), 'REJECT', 'with TLS, a list means you must be on it')
  t.equal(login({ login: creds }, tls('anyone')), 'DONT_CARE', 'TLS without ssl-allow: DONT_CARE')
  t.equal(login({ login: creds }, tls('anyone'), { username: USER, password: 'wrong' }), 'DONT_CARE', 'TLS: username/password not looked at')
  t.equal(login({ sslAllow: 'gl-server', login: creds }, v4('10.0.0.1'), { 'ssl-name': 'gl-server' }), 'DONT_CARE', 'a plaintext client cannot claim a TLS name')
})

t.test('authenticate: the combination and the reply', async t => {
  const auth = (cfg: AuthConfig, peer: AuthPeer, extra: Record<string, string> = {}): boolean => authenticate(cfg, BRICK, req(extra), peer).ok
  const good = { username: USER, password: PASS }
  const bad = { username: USER, password: 'wrong' }
  t.ok(auth(DEFAULTS, v4('192.0.2.1')), 'defaults: anyone reachable, with or without credentials')
  t.ok(auth(DEFAULTS, v4('192.0.2.1'), good))
  t.notOk(auth(DEFAULTS, v4('192.0.2.1'), bad), 'wrong credentials: REJECT wins over the allow list')
  const local: AuthConfig = { allow: '127.0.0.1,::1', login: creds }
  t.ok(auth(local, v4('127.0.0.1')), 'allowed address, no credentials')
  t.notOk(auth(local, v4('10.99.5.2')), 'address not allowed, no credentials: nobody accepts ⇒ rejected')
  t.ok(auth(local, v4('10.99.5.2'), good), 'address not allowed but the trusted credentials: accepted')
  t.notOk(auth({ ...local, reject: '10.99.5.*' }, v4('10.99.5.2'), good), 'a rejected address is refused even with credentials')
  t.notOk(auth({ ...local, allowInsecure: false }, v4('127.0.0.1', 50000), good), 'an insecure port is refused even with credentials')
  t.notOk(auth({}, v4('127.0.0.1'), good), 'a brick without auth options refuses everyone')
  t.notOk(auth({ login: creds }, v4('127.0.0.1')), 'credentials only, none sent: rejected')
  const d = authenticate(local, BRICK, req(bad), v4('127.0.0.1'))
  t.same(d, { ok: false, errno: 13, message: 'Authentication failed', reason: `wrong password for user ${USER}` }, 'EACCES, the real ERROR text')
  const e = authenticate(local, BRICK, req(), v4('10.99.5.2', 40000))
  t.match(e, { ok: false, reason: /no authentication module is interested in accepting 10\.99\.5\.2:40000/ })
})

t.test('authPeer: node:net sockets, IPv4-mapped addresses, unix sockets', async t => {
  t.same(authPeer({ remoteAddress: '::ffff:10.0.0.1', remotePort: 5 }), { family: 'ipv4', address: '10.0.0.1', port: 5 })
  t.same(authPeer({ remoteAddress: '::1', remotePort: 6 }), { family: 'ipv6', address: '::1', port: 6 })
  t.same(authPeer({ remoteAddress: '10.0.0.1', remotePort: 7 }), { family: 'ipv4', address: '10.0.0.1', port: 7 })
  t.same(authPeer({}), { family: 'unix', address: '', port: 0 })
})

t.test('isTrustedCaller: unix socket, loopback, or an address of this host (glusterd_gf_is_local_addr)', async t => {
  const ifs = { eth0: [{ address: '10.99.5.1', family: 'IPv4' }, { address: 'fe80::1%eth0', family: 'IPv6' }] } as never
  t.ok(isTrustedCaller(unix, ifs))
  t.ok(isTrustedCaller(v4('127.0.0.1'), ifs))
  t.ok(isTrustedCaller(v4('127.5.6.7'), ifs), '127/8')
  t.ok(isTrustedCaller(v6('::1'), ifs))
  t.ok(isTrustedCaller(v4('10.99.5.1'), ifs), 'an interface address')
  t.ok(isTrustedCaller(v6('fe80::1'), ifs), 'an interface address with a scope')
  t.notOk(isTrustedCaller(v4('10.99.5.2'), ifs), 'a neighbour on the same subnet is not trusted')
  t.notOk(isTrustedCaller(v6('::2'), ifs))
  t.ok(isTrustedCaller(v4('127.0.0.1')), 'with this host\'s interfaces')
})

t.test('host names are resolved for the lists; validation of lists; booleans', async t => {
  t.same(authHostNames({ allow: 'localhost,10.0.0.1,10.*,!gateway,fd00::/8', reject: 'localhost,h3' }), ['localhost', 'gateway', 'h3'])
  t.same(authHostNames({ allow: '/x(h1|10.0.0.1),/y(h2)' }), ['h1', 'h2'], 'the sub-directory form')
  const hosts = await resolveAuthHosts({ allow: 'localhost' })
  t.ok(hosts.get('localhost')?.includes('127.0.0.1'), 'localhost resolves')
  t.same(await resolveAuthHosts({ allow: '*' }), new Map(), 'nothing to resolve')
  for (const ok of ['*', '127.0.0.1,::1', '10.0.0.0/8,!10.1.*', 'fd00::/8', 'host-1.example', '/(1.2.3.4|5.6.7.8)']) {
    t.doesNotThrow(() => { validateAuthList('auth.allow', ok) }, ok)
  }
  for (const bad of ['', ',', '10.0.0.1, 10.0.0.2', '10.0.0.0/33', 'fd00::/200', '10.0.0.0/x', 'a;b', '1.2.3.4/8/8']) {
    t.throws(() => { validateAuthList('auth.allow', bad) }, JSON.stringify(bad))
  }
  t.equal(parseBoolean('on'), true)
  t.equal(parseBoolean('OFF'), false)
  t.equal(parseBoolean('maybe'), undefined)
})
