import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ERROR_CODES, GlusterError, toGlusterError, errnoName, errnoNumber } from '@gluster-ts/rpc'

const doc = readFileSync(fileURLToPath(new URL('../../../../docs/errors.md', import.meta.url)), 'utf8')
const documented = new Set([...doc.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map(m => m[1]))

t.test('docs/errors.md has one row per code and no stale rows', async t => {
  for (const code of ERROR_CODES) t.ok(documented.has(code), `${code} is documented`)
  for (const code of documented) t.ok((ERROR_CODES as readonly string[]).includes(code!), `${code} exists in ERROR_CODES`)
})

t.test('every errno-derived code in ERROR_CODES is in the errno table', async t => {
  for (const code of ERROR_CODES) {
    if (code.startsWith('EGLUSTER_') || code === 'ABORT_ERR') continue
    t.ok(errnoNumber(code) !== undefined, `${code} has a wire number`)
  }
})

t.test('toGlusterError maps op_errno to a code and names the brick', async t => {
  const e = toGlusterError(2, { syscall: 'stat', path: '/a/b', brick: '10.0.0.1:49152:/b1' })
  t.equal(e.code, 'ENOENT')
  t.equal(e.errno, 2)
  t.match(e.message, /ENOENT: stat '\/a\/b' \(brick 10.0.0.1:49152:\/b1\)/)
  t.ok(e instanceof GlusterError)
  t.ok(e instanceof Error)
  const u = toGlusterError(4242)
  t.equal(u.code, 'EGLUSTER_ERRNO')
  t.equal(u.errno, 4242)
  t.equal(errnoName(95), 'EOPNOTSUPP')
  t.equal(errnoNumber('ENOTSUP'), 95)
  t.notOk({ code: 'ENOENT' } instanceof GlusterError, 'plain objects are not GlusterErrors')
})
