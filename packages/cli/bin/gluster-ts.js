#!/usr/bin/env node
// Runs the compiled CLI (pnpm build); in the repo, `tsx --conditions=gluster-ts-source packages/cli/src/main-run.ts` runs the source.
import { main } from '../dist/main.js'
main(process.argv.slice(2)).then(code => { process.exitCode = code }, err => { process.stderr.write(`${err?.stack ?? err}\n`); process.exitCode = 1 })
