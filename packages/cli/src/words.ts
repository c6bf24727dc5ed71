// A command line of `batch` and `shell` split into words as a POSIX shell splits them, without
// the rest of a shell (no variables, globs, pipes or redirections): blanks separate words; '…'
// keeps everything literally; "…" keeps everything but \" \\ \$ \` (a backslash before another
// character stays); a backslash outside quotes keeps the next character (a backslash-newline
// continues the line); # at the start of a word begins a comment (POSIX.1-2017, XCU 2.2 and 2.3).
import { CliError } from './errors.js'

const BLANK = /[ \t\r\n]/
/** characters a POSIX shell would give a meaning we do not implement */
const OPERATOR = new Set(['|', '&', ';', '<', '>', '(', ')'])

/**
 * The words of `line` ([] for a blank line or a comment). Throws CliError EUSAGE on an unbalanced
 * quote, a trailing backslash, or an unquoted operator (| & ; < > ( )), which would mean
 * something else in a shell.
 */
export function splitWords (line: string): string[] {
  const words: string[] = []
  let word: string | undefined
  let i = 0
  const n = line.length
  while (i < n) {
    const c = line[i]!
    if (BLANK.test(c)) {
      if (word !== undefined) { words.push(word); word = undefined }
      i++
    } else if (c === '#' && word === undefined) {
      break
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1)
      if (end < 0) throw new CliError('EUSAGE', `unbalanced ' quote at column ${i + 1}`)
      word = (word ?? '') + line.slice(i + 1, end)
      i = end + 1
    } else if (c === '"') {
      let j = i + 1
      let w = ''
      for (;;) {
        if (j >= n) throw new CliError('EUSAGE', `unbalanced " quote at column ${i + 1}`)
        const d = line[j]!
        if (d === '"') break
        if (d === '\\' && j + 1 < n && '"\\$`\n'.includes(line[j + 1]!)) {
          if (line[j + 1] !== '\n') w += line[j + 1]
          j += 2
        } else {
          w += d
          j++
        }
      }
      word = (word ?? '') + w
      i = j + 1
    } else if (c === '\\') {
      if (i + 1 >= n) throw new CliError('EUSAGE', 'a backslash at the end of the line')
      if (line[i + 1] !== '\n') word = (word ?? '') + line[i + 1]
      i += 2
    } else if (OPERATOR.has(c)) {
      throw new CliError('EUSAGE', `'${c}' at column ${i + 1}: pipes, redirections, ; and & are not supported here (quote it to mean the character)`)
    } else {
      word = (word ?? '') + c
      i++
    }
  }
  if (word !== undefined) words.push(word)
  return words
}

/** The word being typed at the end of `line` (for completion): '' after a blank. Quotes are not undone. */
export function lastWord (line: string): string {
  const m = /(?:^|[ \t])([^ \t]*)$/.exec(line)
  return m?.[1] ?? ''
}
