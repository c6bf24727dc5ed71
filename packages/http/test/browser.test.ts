// Directory listings and error pages in a real browser (Debian's chromium, headless, driven by
// playwright-core): readable (human sizes and dates, breadcrumbs, sortable columns), styled by
// their inline stylesheet with nothing refused by their Content-Security-Policy, names escaped,
// and HTML from the volume in an origin of its own. Screenshots go to the test's artefacts:
// $GTS_ARTEFACTS (CI: the logs directory), else $TMPDIR/gluster-ts-artefacts.
import t, { type Test } from 'tap'
import { existsSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { serve } from './helpers.js'

// what the page functions below use in the browser (this package compiles without the DOM lib)
declare const document: { title: string }
declare function getComputedStyle (e: unknown): { textAlign: string, fontWeight: string, margin: string }

const CHROMIUM = process.env.GTS_CHROMIUM ?? '/usr/bin/chromium'
const ARTEFACTS = process.env.GTS_ARTEFACTS ?? join(tmpdir(), 'gluster-ts-artefacts')
// where the browser must run (CI installs it), its absence fails the test instead of skipping it
const required = process.env.GTS_BROWSER_REQUIRED === '1'
const missing = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is not installed (apt-get install chromium)`
if (missing !== undefined && required) t.fail(missing)
t.setTimeout(300_000)

/** The flags that work in this sandbox (no GPU, no network beyond loopback, root). */
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage']

interface Watched { page: Page, problems: string[] }

async function open (t: Test, browser: Browser): Promise<Watched> {
  const ctx = await browser.newContext({ viewport: { width: 900, height: 700 } })
  t.teardown(() => ctx.close())
  const page = await ctx.newPage()
  const problems: string[] = []
  page.on('console', m => {
    // Chromium reports every 4xx/5xx document on the console; that one is the point of an error page
    if (/^Failed to load resource: the server responded with a status of \d+/.test(m.text())) return
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`)
  })
  page.on('pageerror', e => { problems.push(`page error: ${e.message}`) })
  page.on('dialog', d => { problems.push(`dialog: ${d.message()}`); void d.dismiss() })
  return { page, problems }
}

t.test('listings and error pages in headless Chromium', { skip: required ? undefined : missing }, async t => {
  mkdirSync(ARTEFACTS, { recursive: true })
  const s = await serve(t, {
    '/docs/sub/deep.txt': 'deep',
    '/docs/a-small.txt': 'x'.repeat(10),
    '/docs/b-medium.bin': Buffer.alloc(1536, 1),
    '/docs/c-large.bin': Buffer.alloc(3 * 1024 * 1024 + 512 * 1024, 2),
    '/docs/<img src=x onerror=alert(1)>.txt': 'xss',
    '/docs/été café.txt': 'é',
    '/docs/.env': 'SECRET',
    '/app.html': '<!doctype html><p id="o">?</p><script>document.getElementById("o").textContent = self.origin; ' +
      'fetch("/docs/?format=json").then(() => { document.title = "read" }, () => { document.title = "blocked" })</script>',
  }, { listing: true })
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS })
  t.teardown(() => browser.close())

  // --- the listing ---
  const { page, problems } = await open(t, browser)
  const res = await page.goto(`${s.url}/docs/`)
  t.equal(res?.status(), 200)
  t.equal(res?.headers()['content-type'], 'text/html; charset=utf-8')
  t.equal(await page.title(), 'Index of /docs/')
  t.equal(await page.locator('h1').textContent(), 'Index of /docs/')
  const crumbs = await page.locator('nav.crumbs > *').evaluateAll(els => els.map(e => [e.tagName, e.textContent, e.getAttribute('href')]))
  t.same(crumbs, [['A', '/', '/'], ['SPAN', 'docs/', null]], 'breadcrumbs: the root a link, this directory not')
  const rows = async (): Promise<string[][]> => await page.locator('tbody tr').evaluateAll(trs => trs.map(tr => [...tr.querySelectorAll('td')].map(td => td.textContent ?? '')))
  const names = async (): Promise<string[]> => (await rows()).map(r => r[0]!)
  t.same(await names(), ['../', 'sub/', '<img src=x onerror=alert(1)>.txt', 'a-small.txt', 'b-medium.bin', 'c-large.bin', 'été café.txt'], 'directories first, then by name; .env left out')
  const byName = Object.fromEntries((await rows()).map(r => [r[0], r]))
  t.equal(byName['b-medium.bin']![1], '1.5 KiB', 'human size')
  t.equal(byName['c-large.bin']![1], '3.5 MiB')
  t.equal(byName['a-small.txt']![1], '10 B')
  t.equal(byName['sub/']![1], '—', 'directories have no size')
  t.match(byName['a-small.txt']![2], /^\d{4}-\d\d-\d\d \d\d:\d\d$/, 'human date')
  t.equal(await page.locator('tr', { hasText: 'a-small.txt' }).locator('td.size span').getAttribute('title'), '10 bytes', 'the exact size on hover')
  // the inline stylesheet applied (the CSP allows it by its hash)
  t.equal(await page.locator('td.size').first().evaluate(e => getComputedStyle(e).textAlign), 'right', 'sizes right-aligned: the stylesheet is applied')
  t.equal(await page.locator('th').first().evaluate(e => getComputedStyle(e).fontWeight), '600')
  await page.screenshot({ path: join(ARTEFACTS, 'listing.png'), fullPage: true })

  // sorting by a column: links, no script
  await page.locator('th.size a').click()
  await page.waitForURL(/\?sort=size&order=asc$/)
  t.same((await names()).slice(2), ['été café.txt', '<img src=x onerror=alert(1)>.txt', 'a-small.txt', 'b-medium.bin', 'c-large.bin'], 'by size, ascending (2, 3, 10… bytes)')
  t.equal(await page.locator('th.size').getAttribute('aria-sort'), 'ascending')
  await page.locator('th.size a').click()
  await page.waitForURL(/\?sort=size&order=desc$/)
  t.same((await names()).slice(1, 3), ['sub/', 'c-large.bin'], 'descending; directories still first')
  await page.screenshot({ path: join(ARTEFACTS, 'listing-by-size.png'), fullPage: true })

  // into a directory through its link, and back up through the breadcrumbs
  await page.goto(`${s.url}/docs/`)
  await page.locator('a.dir', { hasText: 'sub/' }).click()
  await page.waitForURL(`${s.url}/docs/sub/`)
  t.same(await names(), ['../', 'deep.txt'])
  await page.locator('nav.crumbs a', { hasText: 'docs/' }).click()
  await page.waitForURL(`${s.url}/docs/`)
  t.same(problems, [], 'no console errors (nothing refused by the CSP), no script ran')

  // --- JSON of the same listing ---
  const j = await page.goto(`${s.url}/docs/?format=json`)
  t.equal(j?.headers()['content-type'], 'application/json; charset=utf-8')
  t.match(JSON.parse(await page.locator('body').innerText()), [{ name: 'sub', type: 'directory' }])

  // --- an error page ---
  const e = await open(t, browser)
  const r404 = await e.page.goto(`${s.url}/docs/nope.txt`)
  t.equal(r404?.status(), 404)
  t.equal(await e.page.title(), '404 Not Found')
  t.equal(await e.page.locator('h1').textContent(), '404 Not Found')
  t.match(await e.page.locator('main p').first().textContent(), /nothing here by that name/i)
  t.equal(await e.page.locator('body').evaluate(b => getComputedStyle(b).margin), '0px', 'styled by the inline stylesheet')
  await e.page.screenshot({ path: join(ARTEFACTS, 'error-404.png'), fullPage: true })
  t.same(e.problems, [])

  // --- HTML from the volume runs, but not in the gateway's origin ---
  const a = await open(t, browser)
  await a.page.goto(`${s.url}/app.html`)
  await a.page.waitForFunction(() => document.title !== '')
  t.equal(await a.page.locator('#o').textContent(), 'null', 'its origin is opaque (sandbox)')
  t.equal(await a.page.title(), 'blocked', 'it cannot read the gateway\'s listings')
  t.comment(`screenshots in ${ARTEFACTS}`)
})
