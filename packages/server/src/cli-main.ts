import { main } from './cli.js'
main().catch((err: unknown) => { process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`); process.exit(1) })
