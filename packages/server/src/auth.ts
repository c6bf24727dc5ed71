// Who may attach to a brick: the decision a GlusterFS 10.3 brick takes at SETVOLUME, and the
// trusted-caller rule glusterd applies at GETSPEC (gluster-shard-tls-auth.md §3). Pure functions:
// the brick and glusterd hand in the peer and the request, we answer, they reply.
//
//   addr  (xlators/protocol/auth/addr/src/addr.c): auth.addr.<brick>.allow / .reject lists, and
//         the source-port rule when rpc-auth-allow-insecure is off;
//   login (xlators/protocol/auth/login/src/login.c): the volume's username/password from the
//         trusted volfile, or a TLS common name against ssl-allow;
//   combination (xlators/protocol/server/src/authenticate.c, gf_authenticate): any REJECT
//         rejects, else any ACCEPT accepts, else nobody was interested and the client is rejected.
//
// Where 10.3 misbehaves we do what its options promise instead, and say so here and in
// docs/server.md: a leading `!` negates exactly its own entry (10.3 ignores it on exact addresses
// and host names and keeps it set for every later entry), and a CIDR entry compares the top
// `prefix` bits (10.3 compares low-order bits of a C `long`, which is right only for IPv4 prefixes
// that are multiples of 8 below 32, and overflows its buffer for IPv6). The TLS name only ever
// comes from the transport, never from the client's SETVOLUME dict.
import net from 'node:net'
import os from 'node:os'
import dns from 'node:dns/promises'
import { timingSafeEqual } from 'node:crypto'

export type AuthResult = 'ACCEPT' | 'REJECT' | 'DONT_CARE'

/**
 * One brick's auth options, as glusterd writes them into the brick volfile's protocol/server
 * section. An absent list is an absent option (not an empty one).
 */
export interface AuthConfig {
  /** `auth.addr.<brick>.allow`: the volume's `auth.allow` (glusterd writes `*` when unset) */
  allow?: string
  /** `auth.addr.<brick>.reject`: the volume's `auth.reject` */
  reject?: string
  /** `auth.login.<brick>.allow` = username and `auth.login.<username>.password` */
  login?: { username: string, password: string }
  /** `rpc-auth-allow-insecure` (the volume's `server.allow-insecure`); default true */
  allowInsecure?: boolean
  /** `strict-auth-accept`: clients without valid credentials are rejected */
  strictAuthAccept?: boolean
  /** `auth.login.<brick>.ssl-allow`: TLS common names (globs), for TLS connections */
  sslAllow?: string
}

/** The other end of a connection, as the brick's transport knows it. */
export interface AuthPeer {
  family: 'ipv4' | 'ipv6' | 'unix'
  /** numeric address ('10.0.0.2', '::1'); for unix sockets the peer's socket path, usually '' */
  address: string
  /** source port (0 for unix sockets) */
  port: number
  /** the TLS peer certificate's common name, when the connection is TLS */
  sslName?: string
}

/** A refusal: what goes on the wire (errno, message) and, for logs and tests, why. */
export type AuthDecision = { ok: true } | { ok: false, errno: number, message: string, reason: string }

export interface AuthenticateOptions {
  /** addresses of the host names in the lists (resolveAuthHosts); a name not here matches nothing */
  hosts?: ReadonlyMap<string, readonly string[]>
}

const EACCES = 13
/** addr.c: a TCP source port at or above this is "insecure" */
const PRIVILEGED_PORT_CEILING = 1024
/** _POSIX_HOST_NAME_MAX, the longest entry valid_host_name() accepts */
const HOST_NAME_MAX = 255

/** The peer of a socket (node:net), with IPv4-mapped IPv6 addresses turned into IPv4 as GlusterFS's transport does. */
export function authPeer (socket: { remoteAddress?: string | undefined, remotePort?: number | undefined }): AuthPeer {
  const a = socket.remoteAddress
  if (a === undefined) return { family: 'unix', address: '', port: 0 }
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a)
  if (mapped !== null) return { family: 'ipv4', address: mapped[1]!, port: socket.remotePort ?? 0 }
  return { family: net.isIPv6(a) ? 'ipv6' : 'ipv4', address: a, port: socket.remotePort ?? 0 }
}

/**
 * The brick's verdict on a SETVOLUME: `dict` is the client's request, `brickPath` the name this
 * brick answers to (its auth options are keyed by it).
 */
export function authenticate (cfg: AuthConfig, brickPath: string, dict: ReadonlyMap<string, Buffer>, peer: AuthPeer,
  opts: AuthenticateOptions = {}): AuthDecision {
  const addr = addrAuth(cfg, brickPath, dict, peer, opts.hosts ?? new Map())
  const login = loginAuth(cfg, brickPath, dict, peer)
  const results = [addr.result, login.result]
  if (results.includes('REJECT')) return refuse(addr.result === 'REJECT' ? addr.why : login.why)
  if (results.includes('ACCEPT')) return { ok: true }
  return refuse(`no authentication module is interested in accepting ${describe(peer)} (${addr.why}; ${login.why})`)
}

function refuse (reason: string): AuthDecision {
  return { ok: false, errno: EACCES, message: 'Authentication failed', reason }
}

function describe (peer: AuthPeer): string {
  if (peer.family === 'unix') return `unix socket peer ${JSON.stringify(peer.address)}`
  return peer.family === 'ipv6' ? `[${peer.address}]:${peer.port}` : `${peer.address}:${peer.port}`
}

interface Verdict { result: AuthResult, why: string }

/** auth/addr: source port, then the reject list, then the allow list. */
export function addrAuth (cfg: AuthConfig, brickPath: string, dict: ReadonlyMap<string, Buffer>, peer: AuthPeer,
  hosts: ReadonlyMap<string, readonly string[]> = new Map()): Verdict {
  // the options are keyed by brick name: a client asking for another name finds none
  if (text(dict, 'remote-subvolume') !== brickPath) return { result: 'DONT_CARE', why: 'no address rules for that subvolume' }
  if (cfg.allow === undefined && cfg.reject === undefined) return { result: 'DONT_CARE', why: 'no auth.allow/auth.reject' }
  if (peer.family !== 'unix' && peer.port >= PRIVILEGED_PORT_CEILING && cfg.allowInsecure === false) {
    return { result: 'REJECT', why: `${describe(peer)}: source port ${peer.port} is not privileged and server.allow-insecure is off` }
  }
  const subdir = text(dict, 'subdir-mount') ?? '/'
  if (cfg.reject !== undefined && listMatches(cfg.reject, peer, subdir, hosts)) {
    return { result: 'REJECT', why: `${describe(peer)} matches auth.reject ${cfg.reject}` }
  }
  if (cfg.allow !== undefined && listMatches(cfg.allow, peer, subdir, hosts)) {
    return { result: 'ACCEPT', why: `${describe(peer)} matches auth.allow ${cfg.allow}` }
  }
  return { result: 'DONT_CARE', why: `${describe(peer)} is not in auth.allow ${cfg.allow ?? '(unset)'}` }
}

/** auth/login: the TLS name against ssl-allow, or username/password against the brick's user. */
export function loginAuth (cfg: AuthConfig, brickPath: string, dict: ReadonlyMap<string, Buffer>, peer: AuthPeer): Verdict {
  // the module is loaded only when the brick has auth.login.* options
  if (cfg.login === undefined && cfg.sslAllow === undefined) return { result: 'DONT_CARE', why: 'no auth.login options' }
  const strict = cfg.strictAuthAccept === true
  const sub = text(dict, 'remote-subvolume')
  if (peer.sslName !== undefined) {
    if (sub === undefined) return { result: 'REJECT', why: 'no remote-subvolume' }
    if (sub !== brickPath || cfg.sslAllow === undefined) return { result: 'DONT_CARE', why: 'no ssl-allow list' }
    // with TLS, a list means you must be on it
    if (splitNames(cfg.sslAllow).some(n => fnmatch(n, peer.sslName!))) return { result: 'ACCEPT', why: `TLS name ${peer.sslName} is allowed` }
    return { result: 'REJECT', why: `TLS name ${peer.sslName} is not in auth.ssl-allow` }
  }
  const username = text(dict, 'username')
  const password = text(dict, 'password')
  if (username === undefined || password === undefined) {
    const missing = username === undefined ? 'username' : 'password'
    return strict ? { result: 'REJECT', why: `no ${missing} and strict-auth-accept is on` } : { result: 'DONT_CARE', why: `no ${missing}` }
  }
  if (sub === undefined) return { result: 'REJECT', why: 'no remote-subvolume' }
  if (sub !== brickPath || cfg.login === undefined) return { result: 'DONT_CARE', why: 'no login list for that subvolume' }
  for (const allowed of splitNames(cfg.login.username)) {
    if (!fnmatch(allowed, username)) continue
    // the password option is keyed by the client's username: only the brick's user has one
    if (username !== cfg.login.username) return { result: 'REJECT', why: `no password for user ${username}` }
    return sameSecret(password, cfg.login.password)
      ? { result: 'ACCEPT', why: `user ${username} authenticated` }
      : { result: 'REJECT', why: `wrong password for user ${username}` }
  }
  return strict ? { result: 'REJECT', why: `unknown user ${username}` } : { result: 'DONT_CARE', why: `unknown user ${username}` }
}

function sameSecret (a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

function text (dict: ReadonlyMap<string, Buffer>, key: string): string | undefined {
  const v = dict.get(key)
  if (v === undefined) return undefined
  // flat dict values are NUL-terminated text
  return (v.length > 0 && v[v.length - 1] === 0 ? v.subarray(0, v.length - 1) : v).toString('utf8')
}

/** login.c splits its lists on spaces and commas. */
function splitNames (list: string): string[] {
  return list.split(/[ ,]/).filter(s => s !== '')
}

/**
 * An address list: `a,b,c`, or the sub-directory form `/dir(a|b),/other(c)` matched against the
 * client's `subdir-mount` (default `/`).
 */
function listMatches (list: string, peer: AuthPeer, subdir: string, hosts: ReadonlyMap<string, readonly string[]>): boolean {
  if (!list.startsWith('/') && !list.includes('(')) return list.split(',').some(e => e !== '' && entryMatches(e, peer, hosts))
  for (const entry of list.split(',')) {
    if (entry === '') continue
    const open = entry.indexOf('(')
    const dir = open < 0 ? entry : entry.slice(0, open)
    // a malformed entry ends the list, as addr.c stops parsing there
    if (!dir.startsWith('/')) return false
    if (dir !== subdir) continue
    const close = entry.indexOf(')', open + 1)
    const addrs = open < 0 ? '' : entry.slice(open + 1, close < 0 ? undefined : close)
    if (addrs === '') return false
    if (addrs.split('|').some(e => e !== '' && entryMatches(e, peer, hosts))) return true
  }
  return false
}

function entryMatches (entry: string, peer: AuthPeer, hosts: ReadonlyMap<string, readonly string[]>): boolean {
  const negate = entry.startsWith('!')
  const body = negate ? entry.slice(1) : entry
  let match: boolean
  if (!body.startsWith('*') && isHostName(body)) {
    // an address or a name: compared as addresses (getaddrinfo on both sides in addr.c)
    const addrs = net.isIP(body) !== 0 ? [body] : hosts.get(body) ?? []
    match = addrs.some(a => sameAddress(a, peer))
  } else if (body.includes('/')) {
    match = inSubnet(body, peer)
  } else {
    match = fnmatch(body, peer.address)
  }
  return negate ? !match : match
}

/** valid_host_name() of libglusterfs: dot-separated labels of letters, digits and inner '-'. */
function isHostName (s: string): boolean {
  if (s.length < 1 || s.length > HOST_NAME_MAX || s.includes('..')) return false
  if (!/[A-Za-z0-9*]$/.test(s)) return false
  return s.split('.').filter(l => l !== '').every(l => /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/.test(l))
}

function sameAddress (address: string, peer: AuthPeer): boolean {
  const fam = net.isIPv6(address) ? 'ipv6' : net.isIPv4(address) ? 'ipv4' : undefined
  if (fam === undefined || fam !== peer.family) return false
  try {
    const b = new net.BlockList()
    b.addAddress(address, fam)
    return b.check(peer.address, fam)
  } catch {
    return false
  }
}

/** `net/bits`, both families; the peer must be of the network's family. */
function inSubnet (cidr: string, peer: AuthPeer): boolean {
  const slash = cidr.indexOf('/')
  const network = cidr.slice(0, slash)
  const bits = cidr.slice(slash + 1)
  const fam = net.isIPv6(network) ? 'ipv6' : net.isIPv4(network) ? 'ipv4' : undefined
  if (fam === undefined || fam !== peer.family || !/^\d{1,3}$/.test(bits)) return false
  const prefix = Number(bits)
  if (prefix > (fam === 'ipv4' ? 32 : 128)) return false
  try {
    const b = new net.BlockList()
    b.addSubnet(network, prefix, fam)
    return b.check(peer.address, fam)
  } catch {
    return false
  }
}

/**
 * fnmatch(3) with no flags: `*` any run of characters (including '/' and '.'), `?` one character,
 * `[...]` a set (`!` or `^` negates, `a-z` ranges), `\` quotes the next character.
 */
export function fnmatch (pattern: string, s: string): boolean {
  let p = 0
  let i = 0
  // where to resume after the last '*': pattern position and string position
  let starP = -1
  let starI = 0
  while (i < s.length) {
    if (p < pattern.length) {
      const c = pattern[p]!
      if (c === '*') {
        starP = ++p
        starI = i
        continue
      }
      if (c === '?') { p++; i++; continue }
      if (c === '[') {
        const set = matchSet(pattern, p, s[i]!)
        if (set !== undefined) {
          if (set.matched) { p = set.end; i++; continue }
        } else if (s[i] === '[') { p++; i++; continue }
      } else {
        const lit = c === '\\' && p + 1 < pattern.length ? pattern[p + 1]! : c
        if (lit === s[i]) { p += c === '\\' && p + 1 < pattern.length ? 2 : 1; i++; continue }
      }
    }
    if (starP < 0) return false
    p = starP
    i = ++starI
  }
  while (pattern[p] === '*') p++
  return p === pattern.length
}

/** The bracket expression at `pattern[p]` against `ch`; undefined when it is not closed (then '[' is literal). */
function matchSet (pattern: string, p: number, ch: string): { matched: boolean, end: number } | undefined {
  let j = p + 1
  const negate = pattern[j] === '!' || pattern[j] === '^'
  if (negate) j++
  let matched = false
  let first = true
  while (j < pattern.length && (first || pattern[j] !== ']')) {
    first = false
    let lo = pattern[j]!
    if (lo === '\\' && j + 1 < pattern.length) lo = pattern[++j]!
    j++
    let hi = lo
    if (pattern[j] === '-' && j + 1 < pattern.length && pattern[j + 1] !== ']') {
      hi = pattern[j + 1]!
      if (hi === '\\' && j + 2 < pattern.length) { hi = pattern[j + 2]!; j++ }
      j += 2
    }
    if (lo <= ch && ch <= hi) matched = true
  }
  if (j >= pattern.length) return undefined
  return { matched: matched !== negate, end: j + 1 }
}

/** The host names (not addresses, not globs, not networks) in the address lists: resolve these. */
export function authHostNames (cfg: AuthConfig): string[] {
  const names = new Set<string>()
  for (const list of [cfg.allow, cfg.reject]) {
    if (list === undefined) continue
    for (const e of listEntries(list)) {
      const body = e.startsWith('!') ? e.slice(1) : e
      if (!body.startsWith('*') && isHostName(body) && net.isIP(body) === 0) names.add(body)
    }
  }
  return [...names]
}

/** The address entries of a list, in either form. */
function listEntries (list: string): string[] {
  if (!list.startsWith('/') && !list.includes('(')) return list.split(',').filter(e => e !== '')
  const out: string[] = []
  for (const m of list.matchAll(/\(([^)]*)\)?/g)) out.push(...m[1]!.split('|').filter(e => e !== ''))
  return out
}

/**
 * Resolve the host names of the lists (each time, as addr.c calls getaddrinfo at every
 * SETVOLUME). A name that does not resolve within `timeoutMs` matches nothing.
 */
export async function resolveAuthHosts (cfg: AuthConfig, opts: { timeoutMs?: number } = {}): Promise<Map<string, string[]>> {
  const names = authHostNames(cfg)
  const out = new Map<string, string[]>()
  if (names.length === 0) return out
  const signal = AbortSignal.timeout(opts.timeoutMs ?? 5000)
  const expired = new Promise<undefined>(resolve => { signal.addEventListener('abort', () => { resolve(undefined) }, { once: true }) })
  await Promise.all(names.map(async name => {
    const found = await Promise.race([dns.lookup(name, { all: true }).catch(() => undefined), expired])
    if (found !== undefined) out.set(name, found.map(a => a.address))
  }))
  return out
}

/**
 * Throws when an auth.allow / auth.reject value cannot be what the user meant: empty entries
 * only, spaces, a network with a bad prefix, characters no address, name or glob has.
 */
export function validateAuthList (key: string, list: string): void {
  const entries = listEntries(list)
  if (entries.length === 0) throw new Error(`${key}: empty list`)
  for (const e of entries) {
    const body = e.startsWith('!') ? e.slice(1) : e
    if (!/^[A-Za-z0-9.:*?[\]^!\-/_%]+$/.test(body)) throw new Error(`${key}: bad entry ${JSON.stringify(e)}`)
    if (body.includes('/')) {
      const [network, bits, more] = body.split('/')
      const max = net.isIPv4(network!) ? 32 : net.isIPv6(network!) ? 128 : -1
      if (max < 0 || more !== undefined || !/^\d{1,3}$/.test(bits!) || Number(bits) > max) {
        throw new Error(`${key}: bad network ${JSON.stringify(e)} (want ADDRESS/BITS)`)
      }
    }
  }
}

/** gf_string2boolean: on/off, yes/no, true/false, enable/disable, 1/0. Undefined for anything else. */
export function parseBoolean (s: string): boolean | undefined {
  const v = s.trim().toLowerCase()
  if (['on', 'yes', 'true', 'enable', '1'].includes(v)) return true
  if (['off', 'no', 'false', 'disable', '0'].includes(v)) return false
  return undefined
}

/**
 * glusterd's trusted caller (glusterd-handshake.c __server_getspec, glusterd_gf_is_local_addr):
 * a unix-socket peer, or one whose address is loopback (127/8, ::1) or assigned to an interface
 * of this host. Trusted callers get the volfile with the volume's credentials.
 */
export function isTrustedCaller (peer: AuthPeer, interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]> = os.networkInterfaces()): boolean {
  if (peer.family === 'unix') return true
  if (peer.family === 'ipv4' && peer.address.startsWith('127.')) return true
  if (peer.family === 'ipv6' && sameAddress('::1', peer)) return true
  for (const list of Object.values(interfaces)) {
    for (const a of list ?? []) {
      const addr = a.address.replace(/%.*$/, '')
      if (sameAddress(addr, { ...peer, address: peer.address.replace(/%.*$/, '') })) return true
    }
  }
  return false
}
