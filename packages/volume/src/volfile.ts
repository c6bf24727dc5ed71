// The volfile grammar (gluster-cluster.md §1.1): a list of `volume NAME / type T / option K V … /
// subvolumes A B … / end-volume` blocks, each child defined before its parents, the LAST volume
// the top of the graph. This file only turns text into that list; graph.ts decides what the
// translators mean to us.
import { GlusterError } from '@gluster-ts/rpc'

export interface VolfileXlator {
  name: string
  /** 'protocol/client', 'cluster/replicate' … */
  type: string
  /** options in file order; a repeated key keeps the last value */
  options: Map<string, string>
  /** the children's names, in order */
  subvolumes: string[]
  /** 1-based line of `volume NAME` */
  line: number
}

export interface Volfile {
  /** in definition order (children first) */
  xlators: VolfileXlator[]
  byName: Map<string, VolfileXlator>
  /** the last volume defined */
  top: VolfileXlator
}

type Tok = { kind: 'kw', value: 'volume' | 'type' | 'option' | 'subvolumes' | 'end-volume', line: number }
  | { kind: 'word', value: string, line: number }

const KEYWORDS = new Set(['volume', 'type', 'option', 'subvolumes', 'subvolumeS', 'end-volume'])

function syntax (message: string, line: number): GlusterError {
  return new GlusterError('EGLUSTER_VOLFILE', `volfile line ${line}: ${message}`, { syscall: 'volfile' })
}

/** Split a volfile into tokens. Quoted strings are words (`\x` gives x); `#` starts a comment. */
export function lexVolfile (text: string): Tok[] {
  const out: Tok[] = []
  let i = 0
  let line = 1
  const n = text.length
  while (i < n) {
    const c = text[i]!
    if (c === '\n') { line++; i++; continue }
    if (c === ' ' || c === '\t' || c === '\r') { i++; continue }
    if (c === '#') {
      while (i < n && text[i] !== '\n') i++
      continue
    }
    if (c === '`') throw syntax('backticks (shell preprocessing) are not supported', line)
    if (c === '"') {
      let v = ''
      i++
      for (;;) {
        if (i >= n) throw syntax('unterminated quoted string', line)
        const d = text[i]!
        if (d === '"') { i++; break }
        if (d === '\n') throw syntax('newline inside a quoted string', line)
        if (d === '\\') {
          if (i + 1 >= n) throw syntax('unterminated quoted string', line)
          v += text[i + 1]
          i += 2
          continue
        }
        v += d
        i++
      }
      out.push({ kind: 'word', value: v, line })
      continue
    }
    if (c === '\\') throw syntax('stray backslash', line)
    let j = i
    while (j < n) {
      const d = text[j]!
      if (d === ' ' || d === '\t' || d === '\r' || d === '\n' || d === '"' || d === '\\') break
      j++
    }
    const w = text.slice(i, j)
    i = j
    if (KEYWORDS.has(w)) {
      out.push({ kind: 'kw', value: (w === 'subvolumeS' ? 'subvolumes' : w) as 'volume', line })
    } else {
      out.push({ kind: 'word', value: w, line })
    }
  }
  return out
}

/** Parse a volfile. Throws EGLUSTER_VOLFILE (with the line) on any grammar or reference error. */
export function parseVolfile (text: string): Volfile {
  const toks = lexVolfile(text)
  const xlators: VolfileXlator[] = []
  const byName = new Map<string, VolfileXlator>()
  let p = 0
  const lastLine = (): number => toks[toks.length - 1]?.line ?? 1
  const word = (what: string): string => {
    const t = toks[p]
    if (t === undefined) throw syntax(`expected ${what}, found end of file`, lastLine())
    if (t.kind !== 'word') throw syntax(`expected ${what}, found keyword '${t.value}'`, t.line)
    p++
    return t.value
  }
  while (p < toks.length) {
    const start = toks[p]!
    if (start.kind !== 'kw' || start.value !== 'volume') throw syntax(`expected 'volume', found '${start.value}'`, start.line)
    p++
    const name = word('a volume name')
    if (byName.has(name)) throw syntax(`volume '${name}' is defined twice`, start.line)
    const tt = toks[p]
    if (tt === undefined || tt.kind !== 'kw' || tt.value !== 'type') throw syntax(`volume '${name}': 'type' must come first`, tt?.line ?? start.line)
    p++
    const x: VolfileXlator = { name, type: word(`the type of '${name}'`), options: new Map(), subvolumes: [], line: start.line }
    let sawSubvolumes = false
    for (;;) {
      const t = toks[p]
      if (t === undefined) throw syntax(`volume '${name}' has no 'end-volume'`, lastLine())
      if (t.kind !== 'kw') throw syntax(`unexpected '${t.value}' in volume '${name}'`, t.line)
      p++
      if (t.value === 'end-volume') break
      if (t.value === 'option') {
        const key = word('an option key')
        const value = word(`a value for option '${key}'`)
        x.options.set(key, value)
      } else if (t.value === 'subvolumes') {
        if (sawSubvolumes) throw syntax(`volume '${name}' has two 'subvolumes' lines`, t.line)
        sawSubvolumes = true
        while (toks[p]?.kind === 'word') {
          const child = toks[p]!
          p++
          if (child.value === name) throw syntax(`volume '${name}' names itself as a subvolume`, child.line)
          if (!byName.has(child.value)) throw syntax(`volume '${name}': subvolume '${child.value}' is not defined above it`, child.line)
          x.subvolumes.push(child.value)
        }
        if (x.subvolumes.length === 0) throw syntax(`volume '${name}': empty 'subvolumes'`, t.line)
      } else if (t.value === 'type') {
        throw syntax(`volume '${name}' has two 'type' lines`, t.line)
      } else {
        throw syntax(`'volume' inside volume '${name}' (missing 'end-volume')`, t.line)
      }
    }
    xlators.push(x)
    byName.set(name, x)
  }
  const top = xlators[xlators.length - 1]
  if (top === undefined) throw syntax('no volumes', 1)
  return { xlators, byName, top }
}
