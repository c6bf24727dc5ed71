// Shared by the cli-* suites: run the BUILT `gluster-ts` command as a user would (node
// packages/cli/bin/gluster-ts.js, after `pnpm build`), and walk a local or FUSE tree.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { lstat, readdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'

export const BIN = resolve('packages/cli/bin/gluster-ts.js')

/** Why the suite cannot run the command (dist/ missing), or undefined. */
export function binMissing (): string | undefined {
  return existsSync(resolve('packages/cli/dist/main.js')) ? undefined : 'packages/cli/dist/main.js is missing: run `pnpm build` first'
}

export interface RunResult { code: number | null, signal: NodeJS.Signals | null, stdout: Buffer, stderr: string }

/** Run `gluster-ts ...args`; stdin from `input` (or nothing). Kills it after timeoutMs. */
export function gts (args: string[], o: { input?: Buffer | string, timeoutMs?: number, env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...o.env } })
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

/** A long-running `gluster-ts` (tail -f, serve, cluster): its process and what it printed so far. */
export function gtsSpawn (args: string[]): { proc: ChildProcess, stdout: () => string, stderr: () => string, exited: Promise<number | null> } {
  const proc = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  proc.stdout!.on('data', (d: Buffer) => { out += d.toString() })
  proc.stderr!.on('data', (d: Buffer) => { err += d.toString() })
  const exited = new Promise<number | null>(r => proc.once('close', code => { r(code) }))
  return { proc, stdout: () => out, stderr: () => err, exited }
}

export async function until (what: string, ms: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise(r => setTimeout(r, 100))
  }
}

export interface TreeEntry { rel: string, type: 'file' | 'dir' | 'symlink', mode: number, size: number, mtimeMs: number }

/** Every entry under root (relative paths, sorted), from lstat; a symlink's own mtime is left out (cp -p does not keep it). */
export async function walk (root: string): Promise<TreeEntry[]> {
  const out: TreeEntry[] = []
  const go = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const r = rel === '' ? name : `${rel}/${name}`
      const st = await lstat(join(root, r))
      const type = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'file'
      out.push({ rel: r, type, mode: st.mode & 0o7777, size: st.size, mtimeMs: type === 'symlink' ? 0 : Math.floor(st.mtimeMs) })
      if (type === 'dir') await go(r)
    }
  }
  await go('')
  return out
}

/** One line on stderr, no stack trace. */
export function oneLine (stderr: string): boolean {
  return stderr.trimEnd().split('\n').length === 1 && !/\n\s+at /.test(stderr)
}
