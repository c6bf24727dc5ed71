// Runs the CLI from source: `npx tsx --conditions=gluster-ts-source packages/cli/src/main-run.ts ls gluster://…`
// (bin/gluster-ts.js runs the compiled dist/main.js the same way).
import { main } from './main.js'

main(process.argv.slice(2)).then(code => { process.exitCode = code }, (err: unknown) => {
  process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`)
  process.exitCode = 1
})
