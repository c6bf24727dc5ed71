// Shared by the benches: the machine header and the one result table they print
// (style.md §8: name | ops/s or MiB/s | ±% | × vs baseline).
import os from 'node:os'
import { execFileSync } from 'node:child_process'
import { Bench } from 'tinybench'

export interface Machine { node: string, cpu: string, cores: number, os: string, commit: string, date: string, load: string }

export function machine (): Machine {
  const cpus = os.cpus()
  let commit = 'unknown'
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    if (dirty.length > 0) commit += ' (+ uncommitted changes)'
  } catch { /* not a git checkout */ }
  return {
    node: process.version,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism?.() ?? cpus.length,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    commit,
    date: new Date().toISOString(),
    load: loadavg(),
  }
}

/** 1-minute load average and core count: other processes on the machine skew every figure. */
export function loadavg (): string { return os.loadavg().map(n => n.toFixed(2)).join(' ') }

export function printMachine (title: string, m: Machine = machine()): Machine {
  console.log(`# ${title}`)
  console.log(`node ${m.node} | ${m.cpu} | ${m.cores} cores | ${m.os}`)
  console.log(`commit ${m.commit} | ${m.date} | load average ${m.load} at start`)
  console.log('')
  return m
}

export type Row = Record<string, string>

/** A Markdown table (also readable on a terminal), columns in the order of `columns`. */
export function printTable (columns: string[], rows: Row[]): void {
  const widths = columns.map(c => Math.max(c.length, ...rows.map(r => (r[c] ?? '').length)))
  const numeric = columns.map(c => rows.every(r => /^[\d.,×+\-±% ]*[\d]/.test(r[c] ?? '') || (r[c] ?? '') === ''))
  const line = (cells: string[]): string => '| ' + cells.map((s, i) => numeric[i] === true && i > 0 ? s.padStart(widths[i]!) : s.padEnd(widths[i]!)).join(' | ') + ' |'
  console.log(line(columns))
  console.log('|' + widths.map((w, i) => numeric[i] === true && i > 0 ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2)).join('|') + '|')
  for (const r of rows) console.log(line(columns.map(c => r[c] ?? '')))
}

/** 1234567.8 → '1,234,568'; small values keep two significant decimals. */
export function fmtNum (n: number): string {
  if (!Number.isFinite(n)) return String(n)
  if (n >= 100) return Math.round(n).toLocaleString('en-US')
  return n.toFixed(n >= 10 ? 1 : 2)
}

export function fmtPct (n: number): string { return `±${n.toFixed(2)}%` }
export function fmtRatio (n: number): string { return `${n.toFixed(2)}×` }
export function fmtMiB (bytes: number): string { return `${(bytes / 1048576).toFixed(0)} MiB` }

/** Two-sided 95 % Student t critical values for df = 1..30 (df above 30: 1.96). */
const T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042]

export function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const h = s.length >> 1
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2
}

/** Mean and relative margin of error (95 %, in percent) of a few samples. */
export function meanRme (xs: number[]): { mean: number, rme: number } {
  const n = xs.length
  const mean = xs.reduce((a, b) => a + b, 0) / n
  if (n < 2) return { mean, rme: 0 }
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)
  const sem = Math.sqrt(variance / n)
  const t = T95[n - 2] ?? 1.96
  return { mean, rme: mean === 0 ? Infinity : 100 * t * sem / mean }
}

/** Results of batched operations land here, so the optimizer can't drop the work. */
export const sink = { n: 0 }

/**
 * `op(arg)` run `n` times per call, as one tinybench sample. Each call of batched() compiles a fresh
 * function: closures made from one function literal share V8's type feedback, so a single
 * literal for every task would make its inner call site megamorphic and the figures depend on
 * task order.
 */
export function batched<A> (op: (arg: A) => unknown, arg: A, n: number): () => void {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval, no-new-func
  const make = new Function('op', 'arg', 'sink', 'n', `
    return function batch () {
      let x = 0
      for (let i = 0; i < n; i++) { if (op(arg) !== undefined) x++ }
      sink.n += x
    }`) as (op: (arg: A) => unknown, arg: A, s: typeof sink, n: number) => () => void
  return make(op, arg, sink, n)
}

export interface TaskResult { ops: number, rme: number }

/**
 * Run the tasks `rounds` times (a fresh tinybench each round, tasks in the same order) and keep,
 * per task, the round with the highest rate. Other processes on a shared machine only ever slow
 * a round down, so the best round is the least disturbed one. `perCall` = operations per call.
 */
export async function bestOfRounds (tasks: Array<[string, () => void]>, opts: {
  rounds: number, timeMs: number, warmupMs: number, perCall: number
}): Promise<Map<string, TaskResult>> {
  const best = new Map<string, TaskResult>()
  for (let round = 0; round < opts.rounds; round++) {
    const bench = new Bench({ time: opts.timeMs, warmupTime: opts.warmupMs, warmupIterations: 16, iterations: 32, throws: true })
    for (const [name, fn] of tasks) bench.add(name, fn)
    await bench.run()
    for (const [name] of tasks) {
      const r = bench.getTask(name)?.result
      if (r === undefined || !('latency' in r)) throw new Error(`task ${name} has no result (${r?.state ?? 'missing'})`)
      const cur = { ops: opts.perCall * 1000 / r.latency.mean, rme: r.latency.rme }
      const prev = best.get(name)
      if (prev === undefined || cur.ops > prev.ops) best.set(name, cur)
    }
  }
  return best
}
