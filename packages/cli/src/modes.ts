// chmod's MODE argument, as GNU chmod reads it (coreutils' chmod(1), "SYMBOLIC MODES" and
// "SETUID AND SETGID BITS"): octal, or comma-separated clauses [ugoa]*([-+=]([rwxXst]*|[ugo]))+.
// A mode is compiled once into changes, then applied to each file's current mode.
import { CliError } from './errors.js'

const S_ISUID = 0o4000
const S_ISGID = 0o2000
const S_ISVTX = 0o1000
const ALL = 0o7777
const RWX_UGO = 0o777
const R = 0o444
const W = 0o222
const X = 0o111

/** One `who op perms` step. */
interface Change {
  op: '=' | '+' | '-'
  /** the bits the `who` letters name; 0: none given (then the umask decides) */
  who: number
  /** the permission bits the clause sets, clears or assigns */
  value: number
  /** 'X': execute only where some execute bit is set or on a directory; 'u'/'g'/'o': copy that class */
  kind: 'plain' | 'X' | 'copy'
  /** bits the clause names explicitly: a directory keeps its set-id bits under `=` unless named */
  mentioned: number
}

export interface CompiledMode { changes: Change[], text: string }

function invalid (text: string): CliError {
  return new CliError('EUSAGE', `invalid mode: '${text}'`)
}

/** Parse MODE; an invalid one is a usage error (exit 2), as chmod says "invalid mode". */
export function compileMode (text: string): CompiledMode {
  if (/^[0-7]+$/.test(text)) {
    const value = parseInt(text, 8)
    if (value > ALL) throw invalid(text)
    // fewer than 5 digits: a directory's setuid/setgid bits stay unless the digits set them
    const mentioned = text.length < 5 ? (value & (S_ISUID | S_ISGID)) | S_ISVTX | RWX_UGO : ALL
    return { text, changes: [{ op: '=', who: ALL, value, kind: 'plain', mentioned }] }
  }
  if (text === '') throw invalid(text)
  const changes: Change[] = []
  for (const clause of text.split(',')) {
    let i = 0
    let who = 0
    for (; i < clause.length && 'ugoa'.includes(clause[i]!); i++) {
      const c = clause[i]!
      who |= c === 'u' ? S_ISUID | 0o700 : c === 'g' ? S_ISGID | 0o070 : c === 'o' ? S_ISVTX | 0o007 : ALL
    }
    if (i >= clause.length) throw invalid(text)
    while (i < clause.length) {
      const op = clause[i]!
      if (op !== '=' && op !== '+' && op !== '-') throw invalid(text)
      i++
      let value = 0
      let kind: Change['kind'] = 'plain'
      if (i < clause.length && 'ugo'.includes(clause[i]!)) {
        const c = clause[i++]!
        value = c === 'u' ? 0o700 : c === 'g' ? 0o070 : 0o007
        kind = 'copy'
      } else {
        for (; i < clause.length && 'rwxXst'.includes(clause[i]!); i++) {
          const c = clause[i]!
          if (c === 'r') value |= R
          else if (c === 'w') value |= W
          else if (c === 'x') value |= X
          else if (c === 'X') { value |= X; kind = 'X' }
          else if (c === 's') value |= S_ISUID | S_ISGID
          else value |= S_ISVTX
        }
      }
      changes.push({ op, who, value, kind, mentioned: who !== 0 ? who & value : value })
    }
  }
  return { text, changes }
}

/** The new mode (permission bits only) of a file whose mode is `mode`. */
export function applyMode (m: CompiledMode, mode: number, isDir: boolean, umask: number): number {
  let cur = mode & ALL
  for (const c of m.changes) {
    let value = c.value
    if (c.kind === 'copy') {
      // u, g or o on the right: that class's current bits, copied to every class
      const bits = cur & value
      value = (bits & R ? R : 0) | (bits & W ? W : 0) | (bits & X ? X : 0)
    } else if (c.kind === 'X' && (cur & X) === 0 && !isDir) {
      value &= ~X
    }
    const keep = isDir ? (S_ISUID | S_ISGID) & ~c.mentioned : 0
    // no `who`: as `a`, except the bits the umask masks
    value &= (c.who !== 0 ? c.who : ~umask & ALL) & ~keep
    if (c.op === '+') cur |= value
    else if (c.op === '-') cur &= ~value
    else cur = (cur & ((c.who !== 0 ? ~c.who & ALL : 0) | keep)) | value
  }
  return cur
}
