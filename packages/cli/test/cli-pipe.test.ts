// `gluster-ts … | head -1`: a reader that goes away early is not an error. The command stops at
// the broken pipe, quietly, with status 0 (docs/cli.md "Errors and exit status"), whatever it was
// printing: ls -l, ls -R, du, stat, cat. Through the built command, in a real shell pipeline.
import t from 'tap'
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { BIN, binMissing, scratch } from './built.js'
import { embedded } from './embedded.js'
import { pool } from '../src/commands/common.js'

const exec = promisify(execFile)
const missing = binMissing()

/** `gluster-ts ARGS | head -1` in bash: head's line, the command's status and stderr. */
async function headOne (dir: string, args: string[]): Promise<{ line: string, status: number, stderr: string }> {
  const err = join(dir, 'stderr')
  const script = '"$@" 2>"$ERR_FILE" | head -n 1; echo "${PIPESTATUS[0]}" >"$ERR_FILE.status"'
  const { stdout } = await exec('bash', ['-c', script, 'pipe', process.execPath, BIN, ...args], { env: { ...process.env, ERR_FILE: err }, timeout: 120_000 })
  return { line: stdout, status: Number((await readFile(err + '.status', 'utf8')).trim()), stderr: await readFile(err, 'utf8') }
}

t.test('a broken pipe ends the command quietly with status 0', { skip: missing }, async t => {
  const e = await embedded(t)
  const dir = scratch(t)
  // more output than a pipe holds (64 KiB) and head reads: the command is still writing when head exits
  const long = 'x'.repeat(200)
  await e.vol.mkdir('/many')
  const n = 500
  await pool(Array.from({ length: n }, (_, i) => i), 32, async i => {
    await e.vol.mkdir(`/many/${long}-${String(i).padStart(4, '0')}`)
  })
  const big = Buffer.alloc(4 << 20, 'line\n')
  await e.vol.writeFile('/big.txt', big)
  const stats = Array.from({ length: 250 }, (_, i) => `${e.url}/many/${long}-${String(i).padStart(4, '0')}`)
  const cases: Array<[string, string[], RegExp]> = [
    ['ls -l', ['ls', '-l', `${e.url}/many`], /^(total \d+|d[rwx-]{9} .*)\n$/],
    ['ls -R', ['ls', '-R', `${e.url}/`], /^gluster:\/\/.*:\n$/],
    ['du', ['du', `${e.url}/many`], /^\d+\tgluster:\/\/\S+\n$/],
    ['stat', ['stat', ...stats], /^ {2}File: gluster:\/\//],
    ['cat', ['cat', `${e.url}/big.txt`], /^line\n$/],
  ]
  for (const [name, args, first] of cases) {
    const r = await headOne(dir, args)
    t.match(r.line, first, `${name}: head got the first line`)
    t.equal(r.stderr, '', `${name}: nothing on stderr (no EPIPE, no stack trace)`)
    t.equal(r.status, 0, `${name}: status 0`)
  }
})
