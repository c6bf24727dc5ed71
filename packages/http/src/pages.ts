// The pages the gateway writes itself (error pages, directory listings): one small stylesheet
// inline, no script, no external asset, and a Content-Security-Policy that allows exactly that
// stylesheet (by its hash) and nothing else, so a name in a listing can never run code.
import { createHash } from 'node:crypto'
import { STATUS_CODES, type IncomingHttpHeaders } from 'node:http'
import escapeHtml from 'escape-html'
import Negotiator from 'negotiator'

const CSS = `:root{color-scheme:light dark;--fg:#1f2328;--muted:#59636e;--bg:#fff;--line:#d1d9e0;--row:#f6f8fa;--link:#0969da}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;--line:#3d444d;--row:#151b23;--link:#4493f8}}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:60rem;margin:0 auto;padding:1.5rem 1rem}h1{font-size:1.35rem;font-weight:600;margin:0 0 1rem;overflow-wrap:anywhere}
a{color:var(--link);text-decoration:none}a:hover{text-decoration:underline}
nav.crumbs{margin:0 0 1rem;font-weight:600;overflow-wrap:anywhere}
table{width:100%;border-collapse:collapse}th,td{padding:.35rem .6rem;border-bottom:1px solid var(--line);text-align:left}
th{font-weight:600;white-space:nowrap}th a{color:var(--fg)}tbody tr:nth-child(even){background:var(--row)}
td.size,th.size{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}td.mtime{white-space:nowrap;color:var(--muted)}
td.name{overflow-wrap:anywhere}td.name a.dir{font-weight:600}p.muted,footer{color:var(--muted)}footer{margin-top:1rem;font-size:.85rem}
@media (max-width:34rem){td.mtime,th.mtime{display:none}}`

/** CSP of every page we write: our stylesheet (by hash) and nothing else. */
export const PAGE_CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(CSS).digest('base64')}'; ` +
  "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/** Headers every page carries besides its Content-Type and Content-Length. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': PAGE_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
}

/** A whole HTML document around `body` (already escaped). */
export function page (title: string, body: string): Buffer {
  return Buffer.from('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${escapeHtml(title)}</title><style>${CSS}</style></head>\n<body><main>\n${body}\n` +
    '<footer>gluster-ts</footer>\n</main></body></html>\n')
}

/** One sentence per status: what it means to the person reading, without our internals. */
const EXPLAIN: Record<number, string> = {
  400: 'The address could not be understood.',
  403: 'You may not read this.',
  404: 'There is nothing here by that name.',
  405: 'This method is not allowed here.',
  406: 'Listings are offered as HTML and JSON only.',
  408: 'The request took too long to arrive.',
  409: 'That conflicts with what is there.',
  412: 'A precondition of the request failed.',
  413: 'The request body is too large.',
  414: 'The address is too long.',
  416: 'The requested range is outside the file.',
  500: 'Something went wrong in the gateway.',
  501: 'The gateway cannot do that here.',
  502: 'The storage failed to read this.',
  503: 'The storage behind this address is not reachable right now. Please try again in a few seconds.',
  504: 'The storage did not answer in time.',
  507: 'The storage is full.',
}

/**
 * The body of an error answer: an HTML page for a browser (Accept prefers text/html), else the
 * status line as text, for curl and scripts.
 */
export function errorBody (status: number, headers: IncomingHttpHeaders): { type: string, body: Buffer, html: boolean } {
  const reason = STATUS_CODES[status] ?? ''
  const html = headers.accept !== undefined && new Negotiator({ headers }).mediaType(['text/plain', 'text/html']) === 'text/html'
  if (!html) return { type: 'text/plain; charset=utf-8', body: Buffer.from(`${status} ${reason}\n`), html }
  const title = `${status} ${reason}`
  const body = `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(EXPLAIN[status] ?? '')}</p>`
  return { type: 'text/html; charset=utf-8', body: page(title, body), html }
}
