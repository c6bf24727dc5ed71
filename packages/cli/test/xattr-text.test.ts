// getfattr's value encodings and setfattr's decoding against the attr package's own tools on a
// local file (skipped where they or user xattrs are missing).
import t, { type Test } from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { decodeValue, defaultEncoding, encodeValue, xquote } from '../src/xattr-text.js'
import { scratch } from './built.js'

const VALUES: Buffer[] = [
  Buffer.from('hello'), Buffer.from([0, 0xff, 1]), Buffer.from('a"b\\c\nd'), Buffer.alloc(0), Buffer.from('abcdefgh\n'),
  Buffer.from('abc\t'), Buffer.from('abcdefghijklmnopqrst\t'), Buffer.from('a\0'), Buffer.from('a\0\0'), Buffer.from('abcdefghi\0j'),
  Buffer.from('héllo wörld'), Buffer.from('\r'), Buffer.from('x'.repeat(300)),
]

/** An empty local file that can hold user.* attributes, or why there is none (the test is then skipped). */
function localFile (t: Test): string | undefined {
  const f = join(scratch(t, 'gts-xattr-'), 'f')
  writeFileSync(f, '')
  const r = spawnSync('setfattr', ['-n', 'user.probe', '-v', '1', f])
  const skip = r.error !== undefined ? 'the attr tools are not installed' : r.status !== 0 ? `no user xattrs here: ${r.stderr.toString().trim()}` : undefined
  if (skip === undefined) return f
  t.plan(0, skip)
  return undefined
}

t.test('encodeValue prints what getfattr prints, for each encoding', async t => {
  const f = localFile(t)
  if (f === undefined) return
  for (const v of VALUES) {
    execFileSync('setfattr', ['-n', 'user.v', '-v', `0x${v.toString('hex')}`, f])
    for (const enc of [undefined, 'text', 'hex', 'base64'] as const) {
      const out = execFileSync('getfattr', ['-n', 'user.v', '--absolute-names', ...(enc !== undefined ? ['-e', enc] : []), f])
      const line = out.subarray(out.indexOf('\n') + 1, out.length - 2) // after '# file: …\n', before '\n\n'
      t.equal(Buffer.concat([Buffer.from('user.v='), encodeValue(v, enc)]).toString('latin1'), line.toString('latin1'), `${JSON.stringify(v.toString('latin1'))} -e ${enc ?? '(default)'}`)
    }
  }
})

t.test('decodeValue reads -v as setfattr does', async t => {
  const f = localFile(t)
  if (f === undefined) return
  for (const text of ['plain', '"quoted"', '"a\\012b\\"c\\\\d"', 'no\\quote\\101', '"abc', 'abc"', '"', '0x00ff01', '0X 61 62', '0sAP8B', '0sYWJj', '0s YWJj  YWJj ',
    '\\7x', '\\1234', 'a\\qb', '0x', '0s', '""']) {
    execFileSync('setfattr', ['-n', 'user.v', '-v', text, f])
    // --only-values is the raw bytes whatever -e says
    const want = execFileSync('getfattr', ['-n', 'user.v', '--only-values', '--absolute-names', f])
    t.equal(decodeValue(text).toString('hex'), want.toString('hex'), JSON.stringify(text))
  }
  for (const bad of ['0x6', '0x6g', '0sYW=', '0sY', '0s!!!!', '0s YW Jj']) {
    t.equal(spawnSync('setfattr', ['-n', 'user.v', '-v', bad, f]).status, 1, `setfattr refuses ${bad}`)
    t.throws(() => decodeValue(bad), { name: 'BadEncoding' }, `and so do we: ${bad}`)
  }
})

t.test('the default encoding: text unless more than one byte in eight is not printable', async t => {
  t.equal(defaultEncoding(Buffer.from('abcdefgh\n')), 'text')
  t.equal(defaultEncoding(Buffer.from('abc\t')), 'base64')
  t.equal(defaultEncoding(Buffer.from('a\0')), 'text', 'a C string terminator does not count')
  t.equal(xquote('a=b\\c\nd', '=\n\r'), 'a\\075b\\134c\\012d')
})
