// Prints the --help of every command as docs/cli.md's reference section (docs.test.ts checks the
// doc against this output): `npx tsx --conditions=gluster-ts-source packages/cli/test/gen-help.ts`
import { main } from '../src/main.js'
import { capture } from './helpers.js'
import { MORE_COMMANDS } from '../src/more-commands.js'

export const COMMANDS = ['cat', 'cp', 'ls', 'stat', 'put', 'rm', 'mkdir', 'mv', 'tail', 'truncate', 'touch', 'du', 'sum', 'volfile', 'bricks', 'serve', 'cluster', 'sync', ...MORE_COMMANDS, 'batch', 'shell']

export async function helpText (cmd: string): Promise<string> {
  const c = capture()
  await main([cmd, '--help'], c.io)
  return c.out().trimEnd()
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const cmd of COMMANDS) process.stdout.write(`### ${cmd}\n\n\`\`\`text\n${await helpText(cmd)}\n\`\`\`\n\n`)
}
