// The deployment examples of docs/http.md ("Running it"): the systemd unit passes
// `systemd-analyze verify` and its ExecStart / ExecReload / stop behave as the unit says (the built
// command, an embedded cluster); the repository's Dockerfile runs the CLI as a non-root
// entrypoint, and is built and run where a container engine answers (none here: skipped, saying so).
import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { BIN, binMissing, gtsSpawn, reap, scratch, until } from './built.js'
import { embedded } from './embedded.js'

const exec = promisify(execFile)
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const missing = binMissing()
t.setTimeout(600_000)

/** The ```ini block of docs/http.md that holds the unit. */
function unitFromDocs (): string {
  const md = readFileSync(join(ROOT, 'docs/http.md'), 'utf8')
  const m = /```ini\n(# \/etc\/systemd\/system\/gluster-ts\.service\n[\s\S]*?)```/.exec(md)
  if (m === null) throw new Error('docs/http.md has no gluster-ts.service block')
  return m[1]!
}

function directive (unit: string, key: string): string {
  const m = new RegExp(`^${key}=(.*)$`, 'm').exec(unit)
  if (m === null) throw new Error(`the unit has no ${key}=`)
  return m[1]!
}

const analyze = await exec('systemd-analyze', ['--version']).then(() => undefined, () => 'systemd-analyze is not installed (apt-get install systemd)')
// where CI installed systemd (GTS_DEPLOY_REQUIRED=1), its absence fails the test instead of skipping it
if (analyze !== undefined && process.env.GTS_DEPLOY_REQUIRED === '1') t.fail(analyze)

t.test('the systemd unit of docs/http.md passes systemd-analyze verify', { skip: analyze }, async t => {
  const unit = unitFromDocs()
  const exe = directive(unit, 'ExecStart').split(' ')[0]!
  t.equal(exe, '/usr/local/bin/gluster-ts', 'where `npm install --global` puts the command')
  // verify checks that the program exists: this machine has the built command, not an install
  const dir = scratch(t)
  const file = join(dir, 'gluster-ts.service')
  await writeFile(file, unit.replace(`ExecStart=${exe} `, `ExecStart=${process.execPath} ${BIN} `))
  const r = await exec('systemd-analyze', ['verify', file]).then(x => ({ code: 0, ...x }), (e: { code: number, stdout: string, stderr: string }) => e)
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stderr, '', 'no warning either (an unknown key or a bad value is only a warning)')
  t.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m)
  t.match(unit, /^KillMode=mixed$/m)
  t.match(unit, /^DynamicUser=yes$/m, 'no root')
})

t.test('the unit\'s command serves, reloads on SIGHUP (ExecReload) and stops on SIGTERM within TimeoutStopSec', { skip: missing }, async t => {
  const unit = unitFromDocs()
  const args = directive(unit, 'ExecStart').split(' ').slice(1)
  t.same(args, ['serve', '--config', '/etc/gluster-ts/gateway.yaml'])
  const e = await embedded(t)
  await e.vol.writeFile('/hello.txt', 'hello\n')
  const dir = scratch(t)
  const cfg = join(dir, 'gateway.yaml')
  await writeFile(cfg, `port: 0\nworkers: 2\nmounts:\n  - mountpoint=/files,volume=vol1,server=${e.cluster.volfileServer}\n`)
  const p = gtsSpawn(args.map(a => a === '/etc/gluster-ts/gateway.yaml' ? cfg : a))
  reap(t, p)
  await until('listening', 60_000, () => /"msg":"listening"/.test(p.stdout()) || p.proc.exitCode !== null)
  const url = /"url":"(http:[^"]+)"/.exec(p.stdout())?.[1]
  t.ok(url, p.stdout() + p.stderr())
  t.equal(await (await fetch(`${url!}/files/hello.txt`)).text(), 'hello\n')
  p.proc.kill('SIGHUP')
  await until('reloaded', 60_000, () => /"msg":"reloaded/.test(p.stdout()) || p.proc.exitCode !== null)
  t.equal(await (await fetch(`${url!}/files/hello.txt`)).text(), 'hello\n', 'serving after the reload')
  const stopSec = Number(directive(unit, 'TimeoutStopSec'))
  const t0 = Date.now()
  p.proc.kill('SIGTERM')
  t.equal(await p.exited, 0)
  t.ok(Date.now() - t0 < stopSec * 1000, `stopped within TimeoutStopSec=${stopSec}`)
  t.match(p.stdout(), /"msg":"stopped"/)
})

t.test('Dockerfile: the CLI is the entrypoint and runs as a non-root user', async t => {
  const df = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
  const stages = df.split(/^FROM /m).slice(1)
  t.equal(stages.length, 2, 'a build stage and a runtime stage')
  const final = stages.at(-1)!
  t.match(final, /^node:20-bookworm-slim$/m, 'Node 20 (engines >=20.19)')
  t.match(final, /^USER node$/m, 'runs as node, not root')
  t.match(final, /^ENTRYPOINT \["gluster-ts"\]$/m)
  t.match(final, /npm install --global --omit=dev \/pkgs\/\*\.tgz/, 'installs the packed tarballs, as a registry user would')
  t.match(readFileSync(join(ROOT, '.dockerignore'), 'utf8'), /^\*\*\/node_modules$/m)
})

const engine = await exec('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 20_000 }).then(() => undefined,
  (e: { stderr?: string, message: string }) => `no container engine answers here (docker info: ${(e.stderr ?? e.message).trim().split('\n')[0]})`)

t.test('docker build, then the image runs gluster-ts', { skip: engine }, async t => {
  const tag = `gluster-ts-test:${process.pid}`
  t.teardown(() => exec('docker', ['rmi', '-f', tag]).catch(() => {}))
  await exec('docker', ['build', '-t', tag, ROOT], { timeout: 900_000, maxBuffer: 64 << 20 })
  const v = await exec('docker', ['run', '--rm', tag, '--version'])
  const version = (JSON.parse(readFileSync(join(ROOT, 'packages/cli/package.json'), 'utf8')) as { version: string }).version
  t.equal(v.stdout, `gluster-ts ${version}\n`)
  const who = await exec('docker', ['run', '--rm', '--entrypoint', 'id', tag, '-u'])
  t.not(who.stdout.trim(), '0', 'not root')
})

t.test('docs name the files these tests check', async t => {
  t.ok(existsSync(join(ROOT, 'Dockerfile')))
  t.match(readFileSync(join(ROOT, 'docs/http.md'), 'utf8'), /The repository's `Dockerfile`/)
})
