// What the benches against the real cluster share: the cluster (or a clean exit saying why there
// is none) and a bounded child process.
import { execFile } from 'node:child_process'
import { loadRealCluster, type RealCluster } from '../../test-cluster/real/index.js'

/** The real cluster GTS_REAL_ID names; without one, print why and exit 0 (benches are optional). */
export function realClusterOrExit (bench: string): RealCluster {
  const loaded = loadRealCluster()
  if ('skip' in loaded) {
    console.log(`bench/${bench}: skipped: ${loaded.skip}`)
    process.exit(0)
  }
  return loaded
}

/** Run `cmd` (no shell), SIGKILLed after `timeoutMs`; rejects with its stderr on failure. */
export function run (cmd: string, args: string[], timeoutMs = 120_000): Promise<{ stdout: string, stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`))
      else resolve({ stdout, stderr })
    })
  })
}
