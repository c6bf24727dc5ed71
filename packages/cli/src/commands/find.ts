// find URL… [tests]: GNU find's tests that a shell user reaches for, ANDed as find ANDs them,
// with GNU's rounding (findutils' find(1)): -size rounds a file's size UP to whole units before
// comparing (so -size -1M is only empty files), -mtime counts whole days of age, dropping the
// fraction. Paths are printed as find prints them: the starting point as given, then /sub/path.
// The walk does not follow symlinks (find's default -P).
import { lstat } from 'node:fs/promises'
import { posix } from 'node:path'
import type { Stats } from '@gluster-ts/volume'
import type { Session } from '../session.js'
import { CliError } from '../errors.js'
import { formatLocation } from '../url.js'
import { joinArg, walkTree } from '../tree.js'
import { eachArg } from './common.js'

/** find's tests written with one dash (`-name`), and whether each takes a value. */
export const FIND_PRIMARIES: Readonly<Record<string, boolean>> = {
  name: true, iname: true, type: true, size: true, mtime: true, newer: true, maxdepth: true, mindepth: true, print0: false, print: false,
}

/**
 * `find URL -name '*.c' -size -1M` as yargs can read it: `--name=*.c --size=-1M` (a value that
 * starts with a dash would otherwise be read as flags). Other one-dash words become `--word`, so
 * that an unsupported test (-exec) is reported by name as an unknown flag. `at`: where `find` is.
 */
export function findArgv (argv: readonly string[], at: number): string[] {
  const out = argv.slice(0, at + 1)
  for (let i = at + 1; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--') { out.push(...argv.slice(i)); break }
    const m = /^-([a-z][a-z0-9]+)$/.exec(a)
    if (m === null) { out.push(a); continue }
    const takes = FIND_PRIMARIES[m[1]!]
    if (takes === true && i + 1 < argv.length) out.push(`--${m[1]!}=${argv[++i]!}`)
    else out.push(`--${m[1]!}`)
  }
  return out
}

type Cmp = { op: '+' | '-' | '=', n: number }

function cmp (c: Cmp, v: number): boolean {
  return c.op === '+' ? v > c.n : c.op === '-' ? v < c.n : v === c.n
}

const SIZE_UNITS: Record<string, number> = { c: 1, w: 2, b: 512, k: 1024, M: 1024 ** 2, G: 1024 ** 3 }

/** -size [+-]N[cwbkMG] (default unit: 512-byte blocks). */
export function parseSize (text: string): Cmp & { unit: number } {
  const m = /^([+-]?)(\d+)([cwbkMG]?)$/.exec(text)
  if (m === null) throw new CliError('EUSAGE', `invalid argument '${text}' to -size`)
  return { op: (m[1] === '' ? '=' : m[1]) as Cmp['op'], n: Number(m[2]), unit: SIZE_UNITS[m[3] === '' ? 'b' : m[3]!]! }
}

/** -mtime [+-]N (days). */
export function parseDays (text: string, what: string): Cmp {
  const m = /^([+-]?)(\d+)$/.exec(text)
  if (m === null) throw new CliError('EUSAGE', `invalid argument '${text}' to ${what}`)
  return { op: (m[1] === '' ? '=' : m[1]) as Cmp['op'], n: Number(m[2]) }
}

/**
 * fnmatch(3) without FNM_PATHNAME or FNM_PERIOD, as -name uses it: `*` and `?` match any
 * character (a leading dot too), `[...]` a class (`!` or `^` negates), `\` quotes the next one.
 */
export function globRegExp (glob: string, ignoreCase: boolean): RegExp {
  let re = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '*') re += '.*'
    else if (c === '?') re += '.'
    else if (c === '\\' && i + 1 < glob.length) re += escapeRe(glob[++i]!)
    else if (c === '[') {
      let j = i + 1
      if (glob[j] === '!' || glob[j] === '^') j++
      if (glob[j] === ']') j++
      while (j < glob.length && glob[j] !== ']') {
        // a [:class:] inside the brackets ends at its own ':]'
        const end = glob.startsWith('[:', j) ? glob.indexOf(':]', j + 2) : -1
        j = end > 0 ? end + 2 : j + 1
      }
      if (j >= glob.length) { re += '\\['; continue } // no closing bracket: a literal [
      let body = glob.slice(i + 1, j)
      const negate = body.startsWith('!') || body.startsWith('^')
      if (negate) body = body.slice(1)
      body = body.replace(/\\/g, '\\\\').replace(/^\]/, '\\]').replace(/\[:([a-z]+):\]|\[/g, (m, cls?: string) => {
        if (cls === undefined) return '\\['
        const r = POSIX_CLASSES[cls]
        if (r === undefined) throw new CliError('EUSAGE', `invalid character class '[:${cls}:]' in '${glob}'`)
        return r
      })
      re += `[${negate ? '^' : ''}${body}]`
      i = j
    } else re += escapeRe(c)
  }
  return new RegExp(`^${re}$`, ignoreCase ? 'si' : 's')
}

const POSIX_CLASSES: Record<string, string> = {
  alpha: 'a-zA-Z', digit: '0-9', alnum: 'a-zA-Z0-9', upper: 'A-Z', lower: 'a-z', space: ' \\t\\n\\r\\f\\v',
  blank: ' \\t', punct: '!-/:-@\\[-`{-~', xdigit: '0-9A-Fa-f', cntrl: '\\x00-\\x1f\\x7f', print: ' -~', graph: '!-~',
}

const escapeRe = (c: string): string => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')

const TYPE_OF: Record<string, (st: Stats) => boolean> = {
  f: st => st.isFile(), d: st => st.isDirectory(), l: st => st.isSymbolicLink(), b: st => st.isBlockDevice(),
  c: st => st.isCharacterDevice(), p: st => st.isFIFO(), s: st => st.isSocket(),
}

export interface FindOptions {
  name: string[]
  iname: string[]
  type?: string | undefined
  size: string[]
  mtime: string[]
  newer: string[]
  maxDepth?: number | undefined
  minDepth: number
  print0: boolean
}

export async function find (s: Session, args: string[], o: FindOptions): Promise<number> {
  // the tests, compiled once: bad input fails before anything is walked
  const names = [...o.name.map(g => globRegExp(g, false)), ...o.iname.map(g => globRegExp(g, true))]
  let types: Array<(st: Stats) => boolean> | undefined
  if (o.type !== undefined) {
    types = o.type.split(',').map(t => {
      const f = TYPE_OF[t]
      if (f === undefined) throw new CliError('EUSAGE', `unknown argument to -type: ${t}`)
      return f
    })
  }
  const sizes = o.size.map(parseSize)
  const ages = o.mtime.map(t => parseDays(t, '-mtime'))
  const now = Date.now()
  // -newer: the reference's mtime, a gluster:// URL or a local file (lstat: find's -P)
  const newer: bigint[] = []
  for (const ref of o.newer) {
    const loc = s.loc(ref)
    newer.push(loc.kind === 'remote'
      ? (await (await s.volume(loc)).lstat(loc.path, { signal: s.signal })).mtimeNs
      : (await lstat(loc.path, { bigint: true })).mtimeNs)
  }
  const test = (name: string, st: Stats): boolean =>
    names.every(r => r.test(name)) &&
    (types === undefined || types.some(f => f(st))) &&
    sizes.every(c => cmp(c, c.unit === 1 ? st.size : Math.ceil(st.size / c.unit))) &&
    ages.every(c => cmp(c, Math.floor((now - st.mtimeMs) / 86_400_000))) &&
    newer.every(t => st.mtimeNs > t)
  const json: Array<Record<string, unknown>> = []
  const code = await eachArg(s, 'find', args, async arg => {
    const loc = s.remote(arg, 'find')
    const vol = await s.volume(loc)
    const st = await vol.lstat(loc.path, { signal: s.signal })
    for await (const e of walkTree(vol, loc.path, st, { signal: s.signal, maxDepth: o.maxDepth })) {
      if (e.depth < o.minDepth) continue
      const name = e.depth === 0 ? (loc.path === '/' ? '/' : posix.basename(loc.path)) : posix.basename(e.path)
      if (!test(name, e.st)) continue
      const shown = joinArg(arg, e.rel)
      if (s.opts.json) json.push({ name: shown, path: e.path, url: formatLocation(loc, e.path) })
      else s.out(shown + (o.print0 ? '\0' : '\n'))
    }
  })
  if (s.opts.json) s.json(json)
  return code
}
