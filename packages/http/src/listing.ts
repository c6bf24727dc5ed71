// Directory listings, HTML or JSON (chosen by Accept, as caddy's browse does).
import escapeHtml from 'escape-html'
import Negotiator from 'negotiator'
import type { IncomingHttpHeaders } from 'node:http'
import type { Dirent } from '@gluster-ts/volume'
import { encodePath } from './path.js'

export interface ListingEntry {
  name: string
  type: 'file' | 'directory' | 'symlink' | 'other'
  size: number
  /** ISO 8601 */
  mtime: string
}

export function toListingEntries (ents: readonly Dirent[]): ListingEntry[] {
  return ents.map((d): ListingEntry => ({
    name: d.name,
    type: d.isDirectory() ? 'directory' : d.isFile() ? 'file' : d.isSymbolicLink() ? 'symlink' : 'other',
    size: d.stats?.size ?? 0,
    mtime: new Date(d.stats?.mtimeMs ?? 0).toISOString(),
  })).sort((a, b) => (a.type === 'directory' ? 0 : 1) - (b.type === 'directory' ? 0 : 1) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

export type ListingFormat = 'html' | 'json'

export function listingFormat (h: IncomingHttpHeaders): ListingFormat | undefined {
  const t = new Negotiator({ headers: h }).mediaType(['text/html', 'application/json'])
  return t === 'application/json' ? 'json' : t === 'text/html' ? 'html' : undefined
}

/** `urlPath` is the decoded URL path of the directory, ending in '/'. */
export function renderListing (format: ListingFormat, urlPath: string, entries: readonly ListingEntry[]): { type: string, body: Buffer } {
  if (format === 'json') return { type: 'application/json; charset=utf-8', body: Buffer.from(JSON.stringify(entries)) }
  const title = escapeHtml(urlPath)
  const rows = entries.map(e => {
    const href = encodePath(e.name) + (e.type === 'directory' ? '/' : '')
    const label = escapeHtml(e.name) + (e.type === 'directory' ? '/' : '')
    const size = e.type === 'directory' ? '-' : String(e.size)
    return `<tr><td><a href="${escapeHtml(href)}">${label}</a></td><td>${size}</td><td>${escapeHtml(e.mtime)}</td></tr>`
  })
  const up = urlPath === '/' ? '' : '<tr><td><a href="../">../</a></td><td></td><td></td></tr>'
  const html = `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Index of ${title}</title></head>\n` +
    `<body><h1>Index of ${title}</h1>\n<table><thead><tr><th>Name</th><th>Size</th><th>Modified</th></tr></thead><tbody>\n` +
    `${up}${rows.join('\n')}\n</tbody></table></body></html>\n`
  return { type: 'text/html; charset=utf-8', body: Buffer.from(html) }
}
