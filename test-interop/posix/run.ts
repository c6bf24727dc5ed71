// Run the POSIX conformance suite on any directory (a mount, a local file system), as root:
//
//   node --import tsx test-interop/posix/run.ts [--group chmod,open] [--grep text] [--json out.json] [--list] DIR
//
// Prints each check that does not pass as it goes, then the tally per group; exits 0 only when
// every check passed. --json writes every result ({ id, group, status, detail, ms }) for comparing
// runs; --list prints the checks' names and exits.
import fs from 'node:fs'
import { parseArgs } from 'node:util'
import { checkId } from './check.js'
import { formatTally, runSuite, selectChecks } from './runner.js'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    group: { type: 'string' },
    grep: { type: 'string' },
    json: { type: 'string' },
    list: { type: 'boolean' },
    verbose: { type: 'boolean', short: 'v' },
  },
})
const sel = { groups: values.group?.split(','), grep: values.grep }
const checks = selectChecks(sel)
if (values.list === true) {
  for (const k of checks) console.log(checkId(k))
  process.exit(0)
}
const dir = positionals[0]
if (dir === undefined || positionals.length > 1) {
  console.error('usage: run.ts [--group g1,g2] [--grep text] [--json out.json] [--list] [-v] DIR')
  process.exit(2)
}
const run = await runSuite({
  dir, label: dir, checks,
  onResult: r => {
    if (r.status !== 'pass') console.log(`${r.status === 'skip' ? 'SKIP' : 'FAIL'} ${r.id}: ${r.detail ?? ''}`)
    else if (values.verbose === true) console.log(`ok   ${r.id} (${r.ms} ms)`)
  },
})
console.log(formatTally(run))
if (values.json !== undefined) fs.writeFileSync(values.json, JSON.stringify(run, null, 1) + '\n')
process.exit(run.results.every(r => r.status !== 'fail') ? 0 : 1)
