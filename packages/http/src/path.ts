// Request-target → path inside a volume. Every segment is percent-decoded on its own, so '%2f'
// can never become a separator and '..' can never climb: the result is always below the mount.
import type { DotfilePolicy } from './options.js'

export type PathResult =
  | { ok: true, segments: string[], trailingSlash: boolean }
  | { ok: false, status: 400 | 403 | 404, reason: string }

/** Longest name GlusterFS bricks accept (NAME_MAX on the brick's filesystem). */
export const NAME_MAX_BYTES = 255

/**
 * Decode the part of the URL path after the mountpoint. `rest` is raw (still percent-encoded)
 * and starts with '/' or is ''.
 */
export function decodePath (rest: string): PathResult {
  const raw = rest.split('/')
  const trailingSlash = rest === '' || rest.endsWith('/')
  const segments: string[] = []
  for (const r of raw) {
    if (r === '') continue // '//' collapses, as nginx's merge_slashes does
    let s: string
    try {
      s = decodeURIComponent(r) // invalid UTF-8 and malformed escapes throw URIError
    } catch {
      return { ok: false, status: 400, reason: 'malformed percent-encoding or invalid UTF-8' }
    }
    if (s.includes('\0')) return { ok: false, status: 400, reason: 'NUL in path' }
    if (s === '.' || s === '..') return { ok: false, status: 400, reason: 'dot segment in path' }
    if (s.includes('/')) return { ok: false, status: 404, reason: 'encoded slash in a name' }
    if (s.includes('\\')) return { ok: false, status: 400, reason: 'backslash in path' }
    if (Buffer.byteLength(s) > NAME_MAX_BYTES) return { ok: false, status: 404, reason: 'name longer than 255 bytes' }
    segments.push(s)
  }
  return { ok: true, segments, trailingSlash }
}

/** '.glusterfs*' style patterns: a trailing '*' matches any tail, anything else is exact. */
export function isHidden (name: string, hidden: readonly string[]): boolean {
  for (const h of hidden) {
    if (h.endsWith('*') ? name.startsWith(h.slice(0, -1)) : name === h) return true
  }
  return false
}

/** Names starting with a dot that no dotfile policy hides: RFC 8615's well-known URIs (ACME, security.txt…). */
const ALWAYS_SERVED = new Set(['.well-known'])

/** Is `name` an ordinary dotfile, subject to the policy? */
export function isDotfile (name: string): boolean {
  return name.startsWith('.') && !ALWAYS_SERVED.has(name)
}

/** The status a path gets from the dotfile policy, or undefined when it may be served. */
export function dotfileStatus (segments: readonly string[], hidden: readonly string[], policy: DotfilePolicy): 403 | 404 | undefined {
  for (const s of segments) {
    if (isHidden(s, hidden)) return 404
    if (isDotfile(s) && policy !== 'allow') return policy === 'deny' ? 403 : 404
  }
  return undefined
}

/** Percent-encode a path for a Location header or a listing link (keeps '/'). */
export function encodePath (p: string): string {
  return p.split('/').map(s => encodeURIComponent(s)).join('/')
}
