// Issue 13: a POSIX conformance run through the real FUSE client, on real GlusterFS 10.3 and on our
// server, in one test run. Our own suite (test-interop/posix/, after pjdfstest's behaviours) runs
// three times, sharing its agents (one process per uid/gid/groups):
//   1. on a local directory (os.tmpdir()): every check must pass there, or the check is wrong;
//   2. on vol1 of the real cluster (test-cluster/real, replica 3), mounted with the FUSE client;
//   3. on a replica-3 volume of our server (`gluster-ts-cluster` in a child process), same client.
// Then: every check that passes on real GlusterFS must pass on ours (no failure real GlusterFS
// does not also have). Both tallies and the differences are printed (t.comment).
//
// GTS_POSIX_GROUPS=chmod,rename runs only those groups, GTS_POSIX_GREP=text only checks whose name
// holds the text, GTS_POSIX_JSON_DIR=dir writes each run's results there (local/real/ours.json). To run the suite on any other directory: test-interop/posix/run.ts.
import t from 'tap'
import type { Test } from 'tap'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { loadRealCluster } from '../test-cluster/real/index.js'
import { AgentPool } from './posix/agents.js'
import { compareRuns, formatFailures, formatRegressions, formatTally, runSuite, selectChecks, tally } from './posix/runner.js'
import type { SuiteRun } from './posix/runner.js'
import { fuseSkipReason, mount, startChildCluster, umount } from './server-fuse-helpers.js'
import type { ChildCluster } from './server-fuse-helpers.js'

t.setTimeout(3_600_000)
const exec = promisify(execFile)

const checks = selectChecks({ groups: process.env.GTS_POSIX_GROUPS?.split(','), grep: process.env.GTS_POSIX_GREP })

const JSON_DIR = process.env.GTS_POSIX_JSON_DIR

/** the run's tally, its failures and skips (with why) and its time, as comments; GTS_POSIX_JSON_DIR: every result as JSON there */
function report (t: Test, run: SuiteRun, file: string): void {
  if (JSON_DIR !== undefined) fs.writeFileSync(path.join(JSON_DIR, `${file}.json`), JSON.stringify(run, null, 1) + '\n')
  t.comment(formatTally(run))
  const bad = formatFailures(run.results)
  if (bad !== '') t.comment(`not passing on ${run.label}:\n${bad}`)
  t.equal(run.cleanupError, undefined, 'the suite\'s directory was removed')
  t.equal(run.results.length, checks.length, 'every check ran')
}

/** a directory other users may reach (mkdtemp makes 0700) */
function openTmpDir (prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  fs.chmodSync(d, 0o755)
  return d
}

const rootReason = process.getuid?.() === 0 ? undefined : 'needs root (its agents switch uid and gid)'
t.test('POSIX conformance through the FUSE client', { skip: rootReason ?? false }, async t => {
  const pool = new AgentPool()
  t.teardown(() => pool.close())
  t.comment(`${checks.length} checks`)
  let real: SuiteRun | undefined
  let ours: SuiteRun | undefined

  await t.test('the suite passes on a local file system (checks the checks)', async t => {
    const dir = openTmpDir('gts-posix-local-')
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
    const run = await runSuite({ dir, label: `local (${dir})`, checks, pool })
    report(t, run, 'local')
    for (const r of run.results) if (r.status === 'fail') t.fail(`${r.id}: ${r.detail ?? ''}`, { diagnostic: false })
    t.equal(tally(run.results).fail, 0, 'no check fails on the local file system')
  })

  await t.test('run.ts, the command docs/server.md gives for any directory, on a local one', async t => {
    const dir = openTmpDir('gts-posix-cli-')
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
    const json = path.join(dir, 'out.json')
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', 'test-interop/posix/run.ts', '--group', 'granular', '--json', json, dir], { timeout: 300_000 })
    const n = selectChecks({ groups: ['granular'] }).length
    t.match(stdout, `: ${n}/${n} pass`, 'it prints the tally')
    const run = JSON.parse(fs.readFileSync(json, 'utf8')) as SuiteRun
    t.equal(run.results.filter(r => r.status === 'pass').length, n, 'every granular check passes, in the JSON')
    t.same(fs.readdirSync(dir), ['out.json'], 'it removed its tree')
  })

  const cluster = loadRealCluster()
  await t.test('real GlusterFS 10.3: vol1 (replica 3) through FUSE', { skip: 'skip' in cluster ? cluster.skip : false }, async t => {
    if ('skip' in cluster) return
    const mnt = await cluster.mount('vol1')
    real = await runSuite({ dir: mnt, label: 'real GlusterFS vol1', checks, pool })
    report(t, real, 'real')
  })

  const fuseReason = fuseSkipReason()
  await t.test('our server: a replica-3 volume through FUSE', { skip: fuseReason ?? false }, async t => {
    const base = openTmpDir('gts-posix-ours-')
    const mnt = path.join(base, 'mnt')
    fs.mkdirSync(mnt, { mode: 0o755 })
    let c: ChildCluster | undefined
    t.teardown(async () => {
      await umount(mnt).catch(() => {})
      await c?.close()
      if (process.env.GTS_KEEP === undefined) fs.rmSync(base, { recursive: true, force: true })
    })
    c = await startChildCluster(path.join(base, 'cluster'), ['--replica', '3', '--volume', 'vol1'])
    await mount(c, mnt, path.join(base, 'fuse.log'))
    ours = await runSuite({ dir: mnt, label: 'our server vol1', checks, pool })
    report(t, ours, 'ours')
  })

  const missing = real === undefined ? 'no run on real GlusterFS' : ours === undefined ? 'no run on our server' : undefined
  await t.test('every check that passes on real GlusterFS passes on our server', { skip: missing ?? false }, async t => {
    if (real === undefined || ours === undefined) return
    const cmp = compareRuns(real, ours)
    const r = tally(real.results)
    const o = tally(ours.results)
    t.comment(`real GlusterFS: ${r.pass} pass, ${r.fail} fail, ${r.skip} skipped; our server: ${o.pass} pass, ${o.fail} fail, ${o.skip} skipped`)
    if (cmp.regressions.length > 0) t.comment(`${cmp.regressions.length} pass on real GlusterFS and not on ours:\n${formatRegressions(cmp)}`)
    if (cmp.better.length > 0) t.comment(`${cmp.better.length} fail on real GlusterFS and pass on ours:\n  ${cmp.better.join('\n  ')}`)
    t.same(cmp.unmatched, [], 'both runs ran the same checks')
    for (const x of cmp.regressions) t.fail(`${x.id}: passes on real GlusterFS, not on ours: ${x.detail}`, { diagnostic: false })
    t.equal(cmp.regressions.length, 0, 'no check fails on our server that passes on real GlusterFS')
  })
})
