// Directory listings: JSON (by Accept, or ?format=json) or an HTML page a person can read, with
// breadcrumbs, human sizes and dates, and columns sorted by links (?sort=name|size|mtime
// &order=asc|desc, as Caddy's browse: no script needed). Directories come first in every order.
import escapeHtml from 'escape-html'
import Negotiator from 'negotiator'
import type { IncomingHttpHeaders } from 'node:http'
import type { Dirent } from '@gluster-ts/volume'
import { encodePath } from './path.js'
import { page } from './pages.js'

export interface ListingEntry {
  name: string
  type: 'file' | 'directory' | 'symlink' | 'other'
  size: number
  /** ISO 8601 */
  mtime: string
}

export type SortKey = 'name' | 'size' | 'mtime'
export interface ListingSort { key: SortKey, order: 'asc' | 'desc' }

export function toListingEntries (ents: readonly Dirent[]): ListingEntry[] {
  return ents.map((d): ListingEntry => ({
    name: d.name,
    type: d.isDirectory() ? 'directory' : d.isFile() ? 'file' : d.isSymbolicLink() ? 'symlink' : 'other',
    size: d.stats?.size ?? 0,
    mtime: new Date(d.stats?.mtimeMs ?? 0).toISOString(),
  }))
}

/** Directories first, then by the key (name as a tie-break), in the order asked. */
export function sortEntries (entries: readonly ListingEntry[], s: ListingSort): ListingEntry[] {
  const byName = (a: ListingEntry, b: ListingEntry): number => a.name < b.name ? -1 : a.name > b.name ? 1 : 0
  const cmp = (a: ListingEntry, b: ListingEntry): number =>
    s.key === 'size' ? a.size - b.size : s.key === 'mtime' ? (a.mtime < b.mtime ? -1 : a.mtime > b.mtime ? 1 : 0) : 0
  const dir = s.order === 'desc' ? -1 : 1
  return [...entries].sort((a, b) =>
    (a.type === 'directory' ? 0 : 1) - (b.type === 'directory' ? 0 : 1) || dir * (cmp(a, b) || byName(a, b)))
}

export type ListingFormat = 'html' | 'json'

/** The query's sort and format (unknown values fall back to the defaults). */
export function listingQuery (query: string): { sort: ListingSort, format?: ListingFormat } {
  const p = new URLSearchParams(query.startsWith('?') ? query.slice(1) : query)
  const key = p.get('sort')
  const order = p.get('order')
  const format = p.get('format')
  return {
    sort: { key: key === 'size' || key === 'mtime' ? key : 'name', order: order === 'desc' ? 'desc' : 'asc' },
    ...(format === 'json' || format === 'html' ? { format } : {}),
  }
}

export function listingFormat (h: IncomingHttpHeaders): ListingFormat | undefined {
  const t = new Negotiator({ headers: h }).mediaType(['text/html', 'application/json'])
  return t === 'application/json' ? 'json' : t === 'text/html' ? 'html' : undefined
}

/** 1536 → '1.5 KiB', 512 → '512 B' */
export function humanBytes (n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']
  let v = n
  let u = 0
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++ }
  return u === 0 ? `${n} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]!}`
}

/** '2026-12-07 11:22' (UTC: the gateway does not know the reader's zone; the full time is in the title) */
function humanDate (iso: string): string {
  return iso.slice(0, 16).replace('T', ' ')
}

export interface ListingPage {
  /** the decoded URL path of the directory, ending in '/' */
  urlPath: string
  /** the URL path of the mount's root, ending in '/' (breadcrumbs start there) */
  rootPath: string
  entries: readonly ListingEntry[]
  sort: ListingSort
}

/** Breadcrumbs from the mount's root to this directory, read as the path: each level a link, the last one not. */
function crumbs (urlPath: string, rootPath: string): string {
  const segs = urlPath.slice(rootPath.length).split('/').filter(s => s !== '')
  const parts = [{ label: rootPath, href: encodePath(rootPath) }]
  let acc = rootPath
  for (const s of segs) {
    acc += s + '/'
    parts.push({ label: s + '/', href: encodePath(acc) })
  }
  return '<nav class="crumbs" aria-label="Breadcrumbs">' + parts.map((p, i) => i === parts.length - 1
    ? `<span aria-current="page">${escapeHtml(p.label)}</span>`
    : `<a href="${escapeHtml(p.href)}">${escapeHtml(p.label)}</a>`).join('') + '</nav>'
}

export function renderListing (format: ListingFormat, l: ListingPage): { type: string, body: Buffer } {
  const entries = sortEntries(l.entries, l.sort)
  if (format === 'json') return { type: 'application/json; charset=utf-8', body: Buffer.from(JSON.stringify(entries)) }
  const head = (key: SortKey, label: string, cls: string): string => {
    const active = l.sort.key === key
    const next = active && l.sort.order === 'asc' ? 'desc' : 'asc'
    const arrow = active ? (l.sort.order === 'asc' ? ' ▲' : ' ▼') : ''
    const aria = active ? ` aria-sort="${l.sort.order === 'asc' ? 'ascending' : 'descending'}"` : ''
    return `<th class="${cls}"${aria}><a href="?sort=${key}&amp;order=${next}">${label}${arrow}</a></th>`
  }
  const rows = entries.map(e => {
    const dir = e.type === 'directory'
    const href = encodePath(e.name) + (dir ? '/' : '')
    const label = escapeHtml(e.name) + (dir ? '/' : '')
    const size = dir ? '—' : `<span title="${e.size} bytes">${humanBytes(e.size)}</span>`
    return `<tr><td class="name"><a${dir ? ' class="dir"' : ''} href="${escapeHtml(href)}">${label}</a></td>` +
      `<td class="size">${size}</td><td class="mtime"><time datetime="${escapeHtml(e.mtime)}" title="${escapeHtml(e.mtime)}">${humanDate(e.mtime)}</time></td></tr>`
  })
  if (l.urlPath !== l.rootPath) rows.unshift('<tr><td class="name"><a class="dir" href="../">../</a></td><td class="size"></td><td class="mtime"></td></tr>')
  const dirs = entries.filter(e => e.type === 'directory').length
  const files = entries.length - dirs
  const count = `${dirs} ${dirs === 1 ? 'directory' : 'directories'}, ${files} ${files === 1 ? 'file' : 'files'}`
  const body = `<h1>Index of ${escapeHtml(l.urlPath)}</h1>\n${crumbs(l.urlPath, l.rootPath)}\n` +
    `<table><thead><tr>${head('name', 'Name', 'name')}${head('size', 'Size', 'size')}${head('mtime', 'Modified (UTC)', 'mtime')}</tr></thead>\n<tbody>\n` +
    `${rows.join('\n')}\n</tbody></table>\n<p class="muted">${count}</p>`
  return { type: 'text/html; charset=utf-8', body: page(`Index of ${l.urlPath}`, body) }
}
