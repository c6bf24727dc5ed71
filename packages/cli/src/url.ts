// What the command line names: a local path, or a file on a volume as a URL.
//
//   gluster://h1[:port],h2[:port]/volume/path     several volfile servers, [v6] literals, port 24007 by default
//   gluster+tcp://…                               QEMU's spelling, same meaning
//   glfs://…                                      alias (glusterfs-coreutils users type it)
//   gluster+unix:///volume/path?socket=/run/glusterd.socket   glusterd's unix socket (QEMU's form)
//   gluster:///volume/path                        the servers come from --servers / GLUSTER_TS_SERVERS
//
// Anything without a `scheme://` prefix is a local path. Path segments are percent-decoded
// (they are URLs: `my%20file` is "my file"); a literal space also works when the shell passes it.
import { posix } from 'node:path'
import { parseServer } from '@gluster-ts/volume'
import { CliError } from './errors.js'

export interface LocalLocation {
  kind: 'local'
  /** as the user wrote it */
  input: string
  path: string
}

export interface RemoteLocation {
  kind: 'remote'
  /** as the user wrote it */
  input: string
  /** volfile servers as Volume.connect takes them: 'host:port', '[v6]:port', 'unix:/path' */
  servers: string[]
  volume: string
  /** absolute within the volume, normalised ('/' for the root) */
  path: string
  /** the user wrote a trailing slash (cp: "into this directory") */
  trailingSlash: boolean
}

export type Location = LocalLocation | RemoteLocation

export interface UrlDefaults {
  /** used when the URL names no server (gluster:///vol/path) */
  servers?: readonly string[]
}

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i
const TCP_SCHEMES = new Set(['gluster', 'gluster+tcp', 'glfs'])

/** Does this argument look like a URL (has a scheme://)? */
export function isUrl (arg: string): boolean {
  return SCHEME.test(arg)
}

function decode (segment: string, input: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    throw new CliError('EUSAGE', `bad percent-encoding in '${input}'`)
  }
}

/** Parse one command-line argument. Throws CliError EUSAGE naming the argument when it is malformed. */
export function parseLocation (input: string, defaults: UrlDefaults = {}): Location {
  const m = SCHEME.exec(input)
  if (m === null) {
    if (input === '') throw new CliError('EUSAGE', 'empty path')
    return { kind: 'local', input, path: input }
  }
  const scheme = m[1]!.toLowerCase()
  let rest = input.slice(m[0].length)
  let query = ''
  const q = rest.indexOf('?')
  if (q >= 0) {
    query = rest.slice(q + 1)
    rest = rest.slice(0, q)
  }
  // the authority ends at the first '/' that is not inside a [v6] literal
  let slash = -1
  let inBracket = false
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i]
    if (c === '[') inBracket = true
    else if (c === ']') inBracket = false
    else if (c === '/' && !inBracket) { slash = i; break }
  }
  const authority = slash < 0 ? rest : rest.slice(0, slash)
  const pathPart = slash < 0 ? '' : rest.slice(slash + 1)
  const params = new URLSearchParams(query)

  let servers: string[]
  if (scheme === 'gluster+unix') {
    if (authority !== '') throw new CliError('EUSAGE', `'${input}': gluster+unix:// takes no host (gluster+unix:///volume/path?socket=/path)`)
    const socket = params.get('socket')
    if (socket === null || !socket.startsWith('/')) throw new CliError('EUSAGE', `'${input}': gluster+unix:// needs ?socket=/absolute/path`)
    params.delete('socket')
    servers = [`unix:${socket}`]
  } else if (TCP_SCHEMES.has(scheme)) {
    if (authority.includes('@')) throw new CliError('EUSAGE', `'${input}': user names are not supported in gluster URLs`)
    const entries = authority.split(',').filter(s => s !== '')
    if (entries.length === 0) {
      if (defaults.servers === undefined || defaults.servers.length === 0) {
        throw new CliError('EUSAGE', `'${input}' names no server: write gluster://HOST/volume/path, or set --servers or GLUSTER_TS_SERVERS`)
      }
      servers = [...defaults.servers]
    } else {
      servers = entries.map(e => {
        try {
          return parseServer(decode(e, input)).label
        } catch (err) {
          throw new CliError('EUSAGE', `'${input}': ${(err as Error).message}`)
        }
      })
    }
  } else if (scheme === 'gluster+rdma') {
    throw new CliError('EUSAGE', `'${input}': RDMA transport is not supported (use gluster:// or gluster+tcp://)`)
  } else {
    throw new CliError('EUSAGE', `'${input}': unknown scheme '${scheme}://' (gluster://, gluster+tcp://, gluster+unix://, glfs://)`)
  }
  for (const k of params.keys()) throw new CliError('EUSAGE', `'${input}': unknown URL parameter '${k}'`)

  const segments = pathPart.split('/')
  const volume = decode(segments.shift() ?? '', input)
  if (volume === '') throw new CliError('EUSAGE', `'${input}' names no volume (…://HOST/VOLUME/path)`)
  if (volume === '.' || volume === '..' || volume.includes('\0')) throw new CliError('EUSAGE', `'${input}': bad volume name '${volume}'`)
  const decoded = segments.map(s => decode(s, input))
  if (decoded.some(s => s.includes('\0'))) throw new CliError('EUSAGE', `'${input}': NUL in path`)
  const joined = '/' + decoded.join('/')
  let path = posix.normalize(joined)
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1)
  const trailingSlash = pathPart.includes('/') && pathPart.endsWith('/') && path !== '/'
  return { kind: 'remote', input, servers, volume, path, trailingSlash }
}

/** 'gluster://h1:24007,h2:24007/vol/a/b': the canonical URL of a remote location (or its path). */
export function formatLocation (loc: Location, path: string = loc.path): string {
  if (loc.kind === 'local') return path
  const enc = path.split('/').map(s => encodeURIComponent(s)).join('/')
  if (loc.servers.length === 1 && loc.servers[0]!.startsWith('unix:')) {
    return `gluster+unix:///${encodeURIComponent(loc.volume)}${enc}?socket=${loc.servers[0]!.slice(5)}`
  }
  return `gluster://${loc.servers.join(',')}/${encodeURIComponent(loc.volume)}${enc}`
}

/** The same location, another path. */
export function withPath<L extends Location> (loc: L, path: string): L {
  if (loc.kind === 'local') return { ...loc, path, input: path }
  return { ...loc, path, input: formatLocation(loc, path), trailingSlash: false }
}

/** A key that is equal for two locations on the same volume through the same servers. */
export function volumeKey (loc: RemoteLocation): string {
  return `${loc.servers.join(',')}/${loc.volume}`
}

/** Split a server list as flags and environment variables give it ('h1,h2:24008 h3'). */
export function splitServers (s: string | undefined): string[] | undefined {
  if (s === undefined) return undefined
  const list = s.split(/[\s,;]+/).filter(x => x !== '')
  return list.length > 0 ? list : undefined
}
