// The BUILT `gluster-ts cluster` (node packages/cli/bin/gluster-ts.js cluster, after `pnpm build`)
// in a child process, as a user runs it; what it printed, parsed. Shared by the *-bin tests.
import type { Test } from 'tap'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { waitFor } from './rpc-attackers.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..')
const BIN = path.join(ROOT, 'packages/cli/bin/gluster-ts.js')

/** tap's `skip` for a test that needs the build */
export const needsBuild: false | string =
  existsSync(path.join(ROOT, 'packages/cli/dist/main.js')) && existsSync(path.join(ROOT, 'packages/server/dist/cluster.js'))
    ? false
    : 'packages/*/dist missing: run `pnpm build` first'

export interface BuiltCluster {
  proc: ChildProcess
  dir: string
  volfileServer: string
  glusterdPort: number
  volume: { name: string, bricks: Array<{ path: string }> }
  /** brick i's port as printed */
  brickPorts: number[]
  brickPath: string
  brickPort: number
  /** what the process printed so far */
  out: () => string
}

/** Starts `gluster-ts cluster --replica N --dir <testdir> --port 0 …args`; stopped (SIGTERM) at teardown. */
export async function startBuilt (t: Test, args: string[] = [], replica = 1): Promise<BuiltCluster> {
  const dir = t.testdir()
  const proc = spawn(process.execPath, [BIN, 'cluster', '--replica', String(replica), '--dir', dir, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  proc.stdout.on('data', (d: Buffer) => { out += d.toString() })
  proc.stderr.on('data', (d: Buffer) => { err += d.toString() })
  const exited = new Promise<number | null>(resolve => proc.once('close', code => { resolve(code) }))
  t.teardown(async () => {
    if (proc.exitCode === null) proc.kill('SIGTERM')
    await exited
  })
  await waitFor(t, '`ready` from gluster-ts cluster', () => out.includes('ready\n') || proc.exitCode !== null, 60_000)
  if (!out.includes('ready\n')) throw new Error(`gluster-ts cluster did not start (exit ${proc.exitCode}): ${err}`)
  const volfileServer = /^volfile-server (\S+)$/m.exec(out)![1]!
  const bricks = [...out.matchAll(/^brick (\d+) (\S+) port (\d+)/mg)].map(m => ({ path: m[2]!, port: Number(m[3]) }))
  const name = /^volume (\S+)$/m.exec(out)?.[1] ?? 'vol1'
  return {
    proc, dir, volfileServer,
    glusterdPort: Number(volfileServer.split(':').pop()),
    volume: { name, bricks: bricks.map(b => ({ path: b.path })) },
    brickPorts: bricks.map(b => b.port),
    brickPath: bricks[0]!.path,
    brickPort: bricks[0]!.port,
    out: () => out,
  }
}

export function rssMiB (pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m === null ? NaN : Math.round(Number(m[1]) / 1024)
}
