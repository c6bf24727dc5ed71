// Run the BUILT `gluster-ts` command as a user would (node packages/cli/bin/gluster-ts.js, after
// `pnpm build`), against an embedded cluster this test process starts. Shared with
// test-interop/cli-helpers.ts.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'

const PACKAGES = fileURLToPath(new URL('../../', import.meta.url))
/**
 * The command under test. GTS_CLI_BIN runs the tests against another build (an older commit's,
 * to see a test fail without the fix it tests).
 */
export const BIN = process.env.GTS_CLI_BIN ?? join(PACKAGES, 'cli/bin/gluster-ts.js')

/** Newest mtime of the .ts files under dir. */
function newestSource (dir: string): number {
  let newest = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p))
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs)
  }
  return newest
}

/**
 * Why the built command cannot be trusted (dist/ missing, or a package's sources changed after its
 * last build), or undefined. A stale build would test yesterday's code.
 */
export function binMissing (): string | undefined {
  if (process.env.GTS_CLI_BIN !== undefined) return existsSync(BIN) ? undefined : `GTS_CLI_BIN=${BIN} does not exist`
  if (!existsSync(join(PACKAGES, 'cli/dist/main.js'))) return 'packages/cli/dist/main.js is missing: run `pnpm build` first'
  for (const p of ['rpc', 'volume', 'server', 'http', 'cli']) {
    const info = join(PACKAGES, p, 'tsconfig.tsbuildinfo')
    if (!existsSync(info) || statSync(info).mtimeMs < newestSource(join(PACKAGES, p, 'src'))) {
      return `packages/${p}/src changed after its last build: run \`pnpm build\` first`
    }
  }
  return undefined
}

export interface RunResult { code: number | null, signal: NodeJS.Signals | null, stdout: Buffer, stderr: string }

/** Run `gluster-ts ...args`; stdin from `input` (or nothing). Kills it after timeoutMs. */
export function gts (args: string[], o: { input?: Buffer | string, timeoutMs?: number, env?: NodeJS.ProcessEnv, cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...o.env }, ...(o.cwd !== undefined ? { cwd: o.cwd } : {}) })
    const out: Buffer[] = []
    let err = ''
    p.stdout.on('data', (d: Buffer) => out.push(d))
    p.stderr.on('data', (d: Buffer) => { err += d.toString() })
    const timer = setTimeout(() => { p.kill('SIGKILL') }, o.timeoutMs ?? 300_000)
    p.on('error', e => { clearTimeout(timer); reject(e) })
    p.on('close', (code, signal) => {
      clearTimeout(timer)
      resolvePromise({ code, signal, stdout: Buffer.concat(out), stderr: err })
    })
    p.stdin.on('error', () => {})
    p.stdin.end(o.input ?? '')
  })
}

export interface Spawned { proc: ChildProcess, stdout: () => string, stderr: () => string, exited: Promise<number | null> }

/** A long-running `gluster-ts` (tail -f, serve, cluster): its process and what it printed so far. */
export function gtsSpawn (args: string[], o: { env?: NodeJS.ProcessEnv, stdin?: 'ignore' | 'pipe', bin?: string } = {}): Spawned {
  const proc = spawn(process.execPath, [o.bin ?? BIN, ...args], { stdio: [o.stdin ?? 'ignore', 'pipe', 'pipe'], env: { ...process.env, ...o.env } })
  let out = ''
  let err = ''
  proc.stdout!.on('data', (d: Buffer) => { out += d.toString() })
  proc.stderr!.on('data', (d: Buffer) => { err += d.toString() })
  const exited = new Promise<number | null>(r => proc.once('close', code => { r(code) }))
  return { proc, stdout: () => out, stderr: () => err, exited }
}

/** Kill a spawned command at teardown if it is still running, and wait for it. */
export function reap (t: Test, p: Spawned): void {
  t.teardown(async () => {
    if (p.proc.exitCode === null && p.proc.signalCode === null) {
      p.proc.kill('SIGKILL')
      await p.exited
    }
  })
}

export async function until (what: string, ms: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise(r => setTimeout(r, 50))
  }
}

/** One line on stderr, no stack trace. */
export function oneLine (stderr: string): boolean {
  return stderr.trimEnd().split('\n').length === 1 && !/\n\s+at /.test(stderr)
}

/** A fresh directory removed at teardown. */
export function scratch (t: Test, prefix = 'gts-cli-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => rmSync(d, { recursive: true, force: true }))
  return d
}

/** A TCP port free on 127.0.0.1 just now (for a command told to listen on it). */
export async function freePort (): Promise<number> {
  const s = net.createServer()
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as net.AddressInfo).port
  await new Promise<void>(resolve => s.close(() => resolve()))
  return port
}

/** Until a gateway on 127.0.0.1:port answers 200 for path (or p exited): for one that logs nothing. */
export async function untilServes (p: Spawned | ChildProcess, port: number, path: string, ms = 60_000): Promise<void> {
  const proc = 'proc' in p ? p.proc : p
  await until(`127.0.0.1:${port}${path} to answer 200`, ms, async () => proc.exitCode !== null ||
    await fetch(`http://127.0.0.1:${port}${path}`).then(async r => { await r.text(); return r.status === 200 }, () => false))
}
