// Transfers as a shell user sees them: `put` from a pipe shows its progress on a terminal, and
// Ctrl-C in `cp` says how to finish the partial copy. Through the built command.
import t from 'tap'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { BIN, binMissing, gts, gtsSpawn, reap, scratch, until } from './built.js'
import { embedded } from './embedded.js'

const exec = promisify(execFile)
const missing = binMissing()
t.setTimeout(600_000)

t.test('put from a pipe draws bytes and rate on a terminal (no total, no ETA)', { skip: missing }, async t => {
  const e = await embedded(t)
  // script(1) gives the command a pseudo-terminal as stderr; stdin stays the pipe from the shell.
  // Two MiB, a second apart, so that a frame shows what came through the pipe so far.
  const cmd = `{ head -c 1048576 /dev/zero; sleep 1.5; head -c 1048576 /dev/zero; } | '${process.execPath}' '${BIN}' put '${e.url}/piped.bin'`
  const { stdout } = await exec('script', ['-qefc', cmd, '/dev/null'], { timeout: 120_000 })
  // cli-progress redraws a frame after ESC[1G (column 1) and ends it with ESC[0K
  const frames = stdout.split(/\r|\n|\u001b\[[0-9;?]*[A-Za-z]|\u001b[78]/).map(f => f.trim()).filter(f => f.startsWith('put '))
  t.ok(frames.some(f => /^put 1\.00 MiB [\d.]+ \S*B\/s$/.test(f)), `a frame with the first MiB: ${JSON.stringify(frames)}`)
  t.notOk(frames.some(f => /ETA|\[#/.test(f)), 'no bar and no ETA for a stream of unknown size')
  t.equal((await e.vol.stat('/piped.bin')).size, 2 << 20)
})

t.test('Ctrl-C in cp: status 130, and a hint to finish with --resume', { skip: missing }, async t => {
  const e = await embedded(t)
  const dir = scratch(t)
  const src = join(dir, 'big.bin')
  const size = 256 << 20
  const fh = await open(src, 'w')
  const block = Buffer.alloc(1 << 20)
  for (let i = 0; i < size / block.length; i++) { block.fill(i & 0xff); await fh.write(block) }
  await fh.close()
  const p = gtsSpawn(['cp', src, `${e.url}/big.bin`])
  reap(t, p)
  await until('part of the file on the volume', 120_000, async () => (await e.vol.stat('/big.bin').then(st => st.size, () => 0)) > (8 << 20) || p.proc.exitCode !== null)
  p.proc.kill('SIGINT')
  t.equal(await p.exited, 130, p.stderr())
  const partial = (await e.vol.stat('/big.bin')).size
  t.ok(partial < size, `a partial file is left (${partial} of ${size} bytes)`)
  t.match(p.stderr(), /^gluster-ts cp: interrupted: 1 file partly copied \(.*big\.bin\); run the same command with --resume to finish it$/m)
  const again = await gts(['cp', '--resume', src, `${e.url}/big.bin`])
  t.equal(again.code, 0, again.stderr)
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
  const want = createHash('sha256')
  for (let i = 0; i < size / block.length; i++) want.update(block.fill(i & 0xff))
  t.equal(sha(await e.vol.readFile('/big.bin')), want.digest('hex'), '--resume finished it')
})
