#!/usr/bin/env node
// Runs the compiled CLI (pnpm build); in the repo, `tsx --conditions=gluster-ts-source packages/server/src/cli-main.ts` runs the source.
import { main } from '../dist/cli.js'
main().catch(err => { process.stderr.write(`${err?.stack ?? err}\n`); process.exit(1) })
