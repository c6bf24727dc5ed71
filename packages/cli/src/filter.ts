// --include / --exclude / --filter: rclone's filter rules (https://rclone.org/filtering/), written
// here because no glob library has all of them at once: picomatch and minimatch match one glob (no
// ordered +/- list, no "unanchored: matches at any directory level", no "dir/ means dir/**"), and
// rclone's own matcher is Go. Paths are relative to the root of the transfer, `/`-separated, with
// no leading slash (`dir/file.jpg`); a directory is tested as `dir/`.
//
// Glob syntax: `*` any run of characters but `/`; `**` any run including `/`; `?` one character
// but `/`; `[abc]`, `[a-z]`, `[!abc]` / `[^abc]` one character of (not of) a set; `{a,b}` one of
// the alternatives (which may hold globs); `\x` the character x. A leading `/` anchors the
// pattern to the root; without it the pattern matches the end of the path at any directory level
// (`*.jpg` matches `a.jpg` and `d/a.jpg`). A trailing `/` matches directories only, and excluding
// `dir/` excludes everything under it (rclone: `- dir/` is `- dir/**`).
//
// Order: rules are tested in the order given on the command line; the first match decides. A path
// no rule matches is included, unless an --include was given: then, as in rclone, an implied
// `- **` ends the list. A directory is not walked when the first directory rule (one ending in `/`
// or `**`) that matches it excludes it and no include rule comes before that rule.
import { CliError } from './errors.js'

export interface Rule {
  include: boolean
  /** the pattern as given (for messages) */
  glob: string
  re: RegExp
  /** ends in `/` or `**`: tested against directories too */
  dirRule: boolean
  /** an include of `dir/`: matches directories only */
  dirOnly: boolean
}

export interface Filter {
  readonly rules: readonly Rule[]
  /** true when nothing is filtered */
  readonly empty: boolean
  /** is this file (or symlink) part of the transfer? `rel`: 'a/b.txt' */
  file (rel: string): boolean
  /** is this directory walked? `rel`: 'a/b' (no trailing slash) */
  dir (rel: string): boolean
}

function bad (glob: string, why: string): CliError {
  return new CliError('EUSAGE', `invalid filter '${glob}': ${why}`)
}

const SPECIAL = /[.+^$()|\\/]/

/** The regular-expression source for a glob body (no anchoring). Exported for the unit test. */
export function globSource (glob: string, whole = glob): string {
  let out = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '\\') {
      if (i + 1 >= glob.length) throw bad(whole, 'a trailing \\ escapes nothing')
      const n = glob[++i]!
      out += /[\w]/.test(n) ? n : '\\' + n
    } else if (c === '*') {
      if (glob[i + 1] === '*') {
        out += '.*'
        i++
        if (glob[i + 1] === '*') throw bad(whole, '*** is not a pattern (use ** or *)')
      } else {
        out += '[^/]*'
      }
    } else if (c === '?') {
      out += '[^/]'
    } else if (c === '[') {
      let j = i + 1
      let neg = false
      if (glob[j] === '!' || glob[j] === '^') { neg = true; j++ }
      let body = ''
      // a ] right after [ or [! is a member, as in POSIX globs
      if (glob[j] === ']') { body += '\\]'; j++ }
      for (; j < glob.length && glob[j] !== ']'; j++) {
        const m = glob[j]!
        if (m === '\\') {
          if (j + 1 >= glob.length) break
          body += '\\' + glob[++j]!
        } else if (m === '[' || m === '^') {
          body += '\\' + m
        } else {
          body += m
        }
      }
      if (j >= glob.length) throw bad(whole, `unclosed [ at ${i + 1}`)
      if (body === '') throw bad(whole, `empty [] at ${i + 1}`)
      try {
        new RegExp(`[${body}]`) // eslint-disable-line no-new
      } catch {
        throw bad(whole, `bad character class at ${i + 1}`)
      }
      out += neg ? `[^/${body}]` : `[${body}]`
      i = j
    } else if (c === '{') {
      // split the alternatives at top-level commas; they nest
      let depth = 1
      let j = i + 1
      const alts: string[] = []
      let cur = ''
      for (; j < glob.length; j++) {
        const m = glob[j]!
        if (m === '\\' && j + 1 < glob.length) { cur += m + glob[++j]!; continue }
        if (m === '{') depth++
        if (m === '}' && --depth === 0) break
        if (m === ',' && depth === 1) { alts.push(cur); cur = ''; continue }
        cur += m
      }
      if (j >= glob.length) throw bad(whole, `unclosed { at ${i + 1}`)
      alts.push(cur)
      out += `(?:${alts.map(a => globSource(a, whole)).join('|')})`
      i = j
    } else if (c === '}' ) {
      throw bad(whole, `} without { at ${i + 1}`)
    } else {
      out += SPECIAL.test(c) || c === '{' || c === '[' || c === ']' ? '\\' + c : c
    }
  }
  return out
}

/** One rule from a glob. */
export function compileRule (include: boolean, glob: string): Rule {
  if (glob === '') throw bad(glob, 'empty pattern')
  if (glob.includes('{{')) throw bad(glob, 'rclone\'s {{regexp}} is not supported')
  let g = glob
  let dirOnly = false
  if (g.endsWith('/') && !g.endsWith('\\/')) {
    if (include) dirOnly = true
    else g += '**' // rclone: excluding dir/ excludes everything under it
  }
  const anchored = g.startsWith('/')
  const body = globSource(anchored ? g.slice(1) : g, glob)
  const re = new RegExp(`${anchored ? '^' : '(?:^|/)'}${body}$`)
  return { include, glob, re, dirRule: dirOnly || g.endsWith('**'), dirOnly }
}

/** `--filter` values: '+ GLOB' or '- GLOB' (rclone's spelling; one space after the sign). */
export function parseFilterRule (text: string): Rule {
  const m = /^([+-]) (.*)$/.exec(text)
  if (m === null) throw bad(text, "a --filter rule is '+ PATTERN' or '- PATTERN'")
  return compileRule(m[1] === '+', m[2]!)
}

export type FilterArg = { kind: 'include' | 'exclude' | 'filter', value: string }

/** The rules, in command-line order (see filterArgs), plus the implied `- **` after any --include. */
export function buildFilter (args: readonly FilterArg[]): Filter {
  const rules = args.map(a => a.kind === 'filter' ? parseFilterRule(a.value) : compileRule(a.kind === 'include', a.value))
  if (args.some(a => a.kind === 'include')) rules.push({ ...compileRule(false, '**'), dirRule: false })
  return {
    rules,
    empty: rules.length === 0,
    file (rel) {
      for (const r of rules) if (!r.dirOnly && r.re.test(rel)) return r.include
      return true
    },
    dir (rel) {
      const d = rel + '/'
      for (const r of rules) {
        if (r.include && !r.dirRule) return true // an earlier include may match something inside
        if (r.dirRule && r.re.test(d)) return r.include
      }
      return true
    },
  }
}

export const NO_FILTER: Filter = buildFilter([])

const FLAGS: Record<string, FilterArg['kind']> = { '--include': 'include', '--exclude': 'exclude', '--filter': 'filter' }

/**
 * --include/--exclude/--filter in the order they appear in argv (yargs keeps each flag's values
 * in order, but not how they interleave, and the order decides). `--` ends the options.
 */
export function filterArgs (argv: readonly string[]): FilterArg[] {
  const out: FilterArg[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--') break
    const eq = a.indexOf('=')
    const name = eq > 0 ? a.slice(0, eq) : a
    const kind = FLAGS[name]
    if (kind === undefined) continue
    if (eq > 0) { out.push({ kind, value: a.slice(eq + 1) }); continue }
    const v = argv[i + 1]
    if (v === undefined) throw new CliError('EUSAGE', `${name} needs a pattern`)
    out.push({ kind, value: v })
    i++
  }
  return out
}

/**
 * `--filter '- *.jpg'` → `--filter=- *.jpg`: yargs would take a value starting with '-' for a flag
 * (and an array option would swallow the positionals after it); joined, the value is one word.
 */
export function joinFilterValues (argv: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--') { out.push(...argv.slice(i)); break }
    if (FLAGS[a] !== undefined && i + 1 < argv.length) out.push(`${a}=${argv[++i]!}`)
    else out.push(a)
  }
  return out
}
