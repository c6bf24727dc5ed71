// Runs the checks in a directory (a local file system, a FUSE mount, anything) one after another,
// each in a fresh subdirectory, and tallies them. Also the comparison of two runs (the reference
// and ours) and the text both the test and the CLI print.
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { AgentPool } from './agents.js'
import { CheckFailure, CheckSkip, Ctx, GROUPS, ROOT, checkId } from './check.js'
import type { Check, Group } from './check.js'
import { ALL_CHECKS } from './checks/index.js'

/** a check that takes longer than this (a call stuck on a dead mount past the agent's own timeout) fails */
const CHECK_TIMEOUT_MS = 120_000

export type Status = 'pass' | 'fail' | 'skip'
export interface CheckResult { id: string, group: Group, status: Status, detail?: string, ms: number }
export interface SuiteRun {
  label: string
  dir: string
  results: CheckResult[]
  ms: number
  /** rm -rf of the suite's tree failed: why */
  cleanupError?: string
}

export interface SelectOptions {
  /** only these groups (names from GROUPS) */
  groups?: readonly string[]
  /** only checks whose `group: name` contains this text */
  grep?: string
}

export function selectChecks (opts: SelectOptions = {}, checks: readonly Check[] = ALL_CHECKS): Check[] {
  const unknown = (opts.groups ?? []).filter(g => !(GROUPS as readonly string[]).includes(g))
  if (unknown.length > 0) throw new RangeError(`unknown group ${unknown.join(', ')} (have ${GROUPS.join(', ')})`)
  return checks.filter(k => (opts.groups === undefined || opts.groups.includes(k.group)) &&
    (opts.grep === undefined || checkId(k).includes(opts.grep)))
}

/** rm -rf (it walks with *at calls: paths deeper than PATH_MAX, which fs.rmSync cannot remove); resolves with the error, if any */
function removeTree (dir: string): Promise<string | undefined> {
  return new Promise(resolve => {
    execFile('rm', ['-rf', '--', dir], { encoding: 'utf8', timeout: 300_000, killSignal: 'SIGKILL' }, (err, _stdout, stderr) => {
      resolve(err === null ? undefined : (stderr.trim() || err.message))
    })
  })
}

/** Every ancestor of dir must let other users search it, or their checks fail for the wrong reason. */
function searchableByAll (dir: string): string | undefined {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if ((fs.statSync(d).mode & 0o001) === 0) return d
    if (d === '/') return undefined
  }
}

export interface RunOptions extends SelectOptions {
  /** where to run: a directory the suite makes its own subdirectory in */
  dir: string
  /** a name for the run in reports ('local', 'real GlusterFS' …) */
  label: string
  checks?: readonly Check[]
  /** called after each check */
  onResult?: (r: CheckResult) => void
  /** agents to use (several runs can share them: starting one costs a Node start); default: own, closed at the end */
  pool?: AgentPool
}

export async function runSuite (opts: RunOptions): Promise<SuiteRun> {
  if (process.getuid?.() !== 0) throw new Error('the POSIX suite runs as root (its agents switch to other users)')
  const checks = opts.checks ?? selectChecks(opts)
  const ids = new Set<string>()
  for (const k of checks) {
    if (ids.has(checkId(k))) throw new Error(`two checks are named ${checkId(k)}`)
    ids.add(checkId(k))
  }
  const closed = searchableByAll(opts.dir)
  if (closed !== undefined) throw new Error(`${closed} is not searchable by other users (mode o+x needed on every ancestor of ${opts.dir})`)
  const top = path.join(opts.dir, `posix-${process.pid}-${Date.now()}`)
  const pool = opts.pool ?? new AgentPool()
  // through the root agent, not this process: a call stuck on a dead mount times out there
  const root = pool.caller(ROOT)
  const mkdir = async (d: string): Promise<void> => {
    const r = await root.mkdir(d, 0o755) // the agents' umask is 0: mode 0755 exactly
    if (!r.ok) throw new CheckFailure(`cannot make ${d}: ${r.code} (${r.message})`)
  }
  const results: CheckResult[] = []
  const cleanupErrors: string[] = []
  let removing: Promise<string | undefined> = Promise.resolve(undefined)
  const t0 = Date.now()
  try {
    await mkdir(top)
    for (const [i, k] of checks.entries()) {
      const dir = path.join(top, String(i))
      const started = Date.now()
      let status: Status = 'pass'
      let detail: string | undefined
      try {
        await mkdir(dir)
        let timer: NodeJS.Timeout | undefined
        const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new CheckFailure(`no result in ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS) })
        try { await Promise.race([k.run(new Ctx(pool, dir)), timeout]) } finally { clearTimeout(timer) }
      } catch (err) {
        if (err instanceof CheckSkip) { status = 'skip'; detail = err.message } else {
          status = 'fail'
          detail = err instanceof CheckFailure ? err.message : `threw ${(err as Error).stack ?? String(err)}`
        }
      }
      await pool.closeAll()
      // a check's directory is removed while the next check runs (through FUSE, rm -rf of all of
      // them at the end took a third of the run); one removal at a time
      const failed = await removing
      if (failed !== undefined) cleanupErrors.push(failed)
      removing = removeTree(dir)
      const r: CheckResult = { id: checkId(k), group: k.group, status, ms: Date.now() - started, ...(detail === undefined ? {} : { detail }) }
      results.push(r)
      opts.onResult?.(r)
    }
  } finally {
    if (opts.pool === undefined) await pool.close()
  }
  for (const failed of [await removing, await removeTree(top)]) if (failed !== undefined) cleanupErrors.push(failed)
  const cleanupError = cleanupErrors.length === 0 ? undefined : cleanupErrors.join('; ')
  return { label: opts.label, dir: opts.dir, results, ms: Date.now() - t0, ...(cleanupError === undefined ? {} : { cleanupError }) }
}

export interface Tally { pass: number, fail: number, skip: number }

export function tally (results: readonly CheckResult[]): Tally {
  const t = { pass: 0, fail: 0, skip: 0 }
  for (const r of results) t[r.status]++
  return t
}

/** one line per group: `chmod     41/45 pass, 4 fail` */
export function formatTally (run: SuiteRun): string {
  const lines = [`${run.label}: ${fmt(tally(run.results))} (${run.results.length} checks in ${(run.ms / 1000).toFixed(1)} s, ${run.dir})`]
  for (const g of GROUPS) {
    const rs = run.results.filter(r => r.group === g)
    if (rs.length > 0) lines.push(`  ${g.padEnd(16)} ${fmt(tally(rs))}`)
  }
  return lines.join('\n')
}

function fmt (t: Tally): string {
  const n = t.pass + t.fail + t.skip
  return `${t.pass}/${n} pass${t.fail > 0 ? `, ${t.fail} fail` : ''}${t.skip > 0 ? `, ${t.skip} skipped` : ''}`
}

export function formatFailures (results: readonly CheckResult[]): string {
  return results.filter(r => r.status !== 'pass').map(r => `  ${r.status === 'skip' ? 'SKIP' : 'FAIL'} ${r.id}: ${r.detail ?? ''}`).join('\n')
}

export interface Comparison {
  /** passes on the reference, not on ours: what ours must fix */
  regressions: Array<{ id: string, group: Group, detail: string }>
  /** passes on ours, not on the reference */
  better: string[]
  /** in one run and not the other (different selections) */
  unmatched: string[]
}

export function compareRuns (reference: SuiteRun, ours: SuiteRun): Comparison {
  const mine = new Map(ours.results.map(r => [r.id, r]))
  const theirs = new Map(reference.results.map(r => [r.id, r]))
  const out: Comparison = { regressions: [], better: [], unmatched: [] }
  for (const r of reference.results) {
    const o = mine.get(r.id)
    if (o === undefined) { out.unmatched.push(r.id); continue }
    if (r.status === 'pass' && o.status !== 'pass') out.regressions.push({ id: r.id, group: r.group, detail: o.detail ?? o.status })
    if (r.status === 'fail' && o.status === 'pass') out.better.push(r.id)
  }
  for (const o of ours.results) if (!theirs.has(o.id)) out.unmatched.push(o.id)
  return out
}

/** the regressions grouped by system call, with each one's failure on ours */
export function formatRegressions (c: Comparison): string {
  const lines: string[] = []
  for (const g of GROUPS) {
    const rs = c.regressions.filter(r => r.group === g)
    if (rs.length === 0) continue
    lines.push(`${g} (${rs.length}):`)
    for (const r of rs) lines.push(`  ${r.id.slice(g.length + 2)} -- ${r.detail}`)
  }
  return lines.join('\n')
}
