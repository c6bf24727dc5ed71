// Volfile server lists, as users and glusterd write them: 'host', 'host:port' (port 0 or none =
// 24007, glusterd's port), '[v6addr]:port', a bare IPv6 literal, or 'unix:/path'.
import { formatAddress, type PeerAddress } from '@gluster-ts/rpc'

export const GLUSTERD_PORT = 24007

export interface VolfileServer {
  /** what the user wrote */
  input: string
  address: PeerAddress
  /** 'host:port', '[v6]:port' or 'unix:/path': what RpcClient.connect takes */
  label: string
}

/** Parse one server entry; throws TypeError naming the entry when it is malformed. */
export function parseServer (entry: string): VolfileServer {
  const s = entry.trim()
  if (s === '') throw new TypeError('empty volfile server entry')
  let address: PeerAddress
  if (s.startsWith('unix:')) {
    const path = s.slice(5)
    if (!path.startsWith('/')) throw new TypeError(`invalid volfile server '${entry}': unix socket path must be absolute`)
    address = { path }
  } else if (s.startsWith('[')) {
    const close = s.indexOf(']')
    if (close < 0) throw new TypeError(`invalid volfile server '${entry}': missing ']'`)
    const host = s.slice(1, close)
    if (host === '') throw new TypeError(`invalid volfile server '${entry}': empty address`)
    const tail = s.slice(close + 1)
    if (tail !== '' && !tail.startsWith(':')) throw new TypeError(`invalid volfile server '${entry}'`)
    address = { host, port: port(entry, tail === '' ? undefined : tail.slice(1)) }
  } else {
    const first = s.indexOf(':')
    const last = s.lastIndexOf(':')
    if (first >= 0 && first !== last) {
      // a bare IPv6 literal: all of it is the host
      address = { host: s, port: GLUSTERD_PORT }
    } else {
      const host = first >= 0 ? s.slice(0, first) : s
      if (host === '') throw new TypeError(`invalid volfile server '${entry}': empty host`)
      if (/\s|\//.test(host)) throw new TypeError(`invalid volfile server '${entry}': bad host`)
      address = { host, port: port(entry, first >= 0 ? s.slice(first + 1) : undefined) }
    }
  }
  return { input: entry, address, label: formatAddress(address) }
}

function port (entry: string, text: string | undefined): number {
  if (text === undefined || text === '') return GLUSTERD_PORT
  if (!/^\d{1,5}$/.test(text)) throw new TypeError(`invalid volfile server '${entry}': bad port '${text}'`)
  const n = Number(text)
  if (n === 0) return GLUSTERD_PORT
  if (n > 65535) throw new TypeError(`invalid volfile server '${entry}': port ${n} out of range`)
  return n
}

/** Parse a list (an array, or one string separated by commas/spaces/semicolons), dropping repeats. */
export function parseServers (list: string | readonly string[]): VolfileServer[] {
  const entries = typeof list === 'string' ? list.split(/[\s,;]+/).filter(s => s !== '') : list
  const out: VolfileServer[] = []
  const seen = new Set<string>()
  for (const e of entries) {
    const s = parseServer(e)
    if (seen.has(s.label)) continue
    seen.add(s.label)
    out.push(s)
  }
  if (out.length === 0) throw new TypeError('no volfile servers given')
  return out
}
