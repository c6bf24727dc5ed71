// splitWords: batch's and shell's lines split as a POSIX shell splits words (checked against bash
// where bash has the same rule), and what we refuse instead of guessing.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { lastWord, splitWords } from '../src/words.js'

/** How bash splits the same line (printf one word per line, NUL separated, after a first word of ours). */
function bashWords (line: string): string[] {
  const out = execFileSync('bash', ['-c', `printf '%s\\0' FIRST ${line}`], { encoding: 'utf8' })
  return out.split('\0').slice(1, -1)
}

t.test('words as bash splits them', async t => {
  const lines = [
    'cat gluster://h1/vol1/a gluster://h1/vol1/b',
    '  ls   -l\tgluster://h1/vol1/  ',
    `put './a b.txt' "gluster://h1/vol1/a b.txt"`,
    `cat "a \\"quoted\\" name" 'single "double" inside'`,
    'cat a\\ b c\\\\d',
    `cat "back\\slash stays" "dollar \\$ and \\\` escaped"`,
    `cat x'y'"z" ''`,
    'cat a#b  # a comment',
    "cat '#not a comment'",
    '# only a comment',
    '',
  ]
  for (const line of lines) t.same(splitWords(line), bashWords(line), line)
})

t.test('a backslash-newline inside a line joins it', async t => {
  t.same(splitWords('cat a\\\nb'), ['cat', 'ab'])
  t.same(splitWords('cat "a\\\nb"'), ['cat', 'ab'])
})

t.test('refused: unbalanced quotes, a trailing backslash, shell operators', async t => {
  t.throws(() => splitWords("cat 'a"), { code: 'EUSAGE', message: /unbalanced ' quote at column 5/ })
  t.throws(() => splitWords('cat "a'), { code: 'EUSAGE', message: /unbalanced " quote at column 5/ })
  t.throws(() => splitWords('cat "a\\"'), { code: 'EUSAGE', message: /unbalanced "/ })
  t.throws(() => splitWords('cat a\\'), { code: 'EUSAGE', message: /backslash at the end/ })
  for (const op of ['|', '>', '<', ';', '&', '(', ')']) {
    t.throws(() => splitWords(`cat a ${op} b`), { code: 'EUSAGE', message: /not supported/ }, op)
    t.same(splitWords(`cat 'a ${op} b'`), ['cat', `a ${op} b`], `quoted ${op} is a character`)
  }
})

t.test('lastWord: what Tab completes', async t => {
  t.equal(lastWord('ca'), 'ca')
  t.equal(lastWord('cat dir/fi'), 'dir/fi')
  t.equal(lastWord('cat '), '')
  t.equal(lastWord('ls -l\td'), 'd')
})
