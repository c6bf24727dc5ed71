// docs/cli.md keeps every command's --help verbatim (regenerate with test/gen-help.ts) and names
// every exit status the code has.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { COMMANDS, helpText } from './gen-help.js'
import { EXIT } from '../src/errors.js'

const doc = await readFile(new URL('../../../docs/cli.md', import.meta.url), 'utf8')

t.test('every command\'s --help is in docs/cli.md', async t => {
  for (const cmd of COMMANDS) {
    t.ok(doc.includes(`### ${cmd}\n\n\`\`\`text\n${await helpText(cmd)}\n\`\`\``), `${cmd}: docs/cli.md has its current --help (run test/gen-help.ts)`)
  }
})

t.test('every exit status is in the table', async t => {
  for (const [kind, n] of Object.entries(EXIT)) t.match(doc, new RegExp(`^\\| ${n} \\|`, 'm'), `${kind} = ${n}`)
})
