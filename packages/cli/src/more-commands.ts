// The commands of issue 18 that coreutils and attr users reach for: chmod, chown, ln, rmdir,
// getfattr, setfattr, df, find, completion. Registered by main.ts's commands() through `def`;
// their argv needs (find's one-dash tests, chmod's -w) are handled by preArgv before yargs.
import type { Argv } from 'yargs'
import type { Session } from './session.js'
import { CliError } from './errors.js'
import { compileMode } from './modes.js'
import { parseOwner } from './owners.js'
import { chmod, chown } from './commands/perms.js'
import { ln, rmdir } from './commands/links.js'
import { getfattr, matchPattern, setfattr } from './commands/xattr.js'
import { df, parseBlockSize } from './commands/df.js'
import { find, findArgv } from './commands/find.js'
import { completion, SHELLS } from './commands/completion.js'

type Args = Record<string, unknown> & { _: Array<string | number> }
type Run = (s: Session, a: Args) => Promise<number>
export type Def = (cmd: string, desc: string, build: (y: Argv) => Argv, examples: Array<[string, string]>, run: Run) => void

export const MORE_COMMANDS = ['chmod', 'chown', 'ln', 'rmdir', 'getfattr', 'setfattr', 'df', 'find', 'completion']

/**
 * What yargs cannot read as written: find's `-name X` tests (→ --name=X) and chmod's modes that
 * start with a dash (`chmod -w URL`: the mode, as in coreutils, not a flag).
 */
export function preArgv (argv: readonly string[]): string[] {
  const at = commandIndex(argv)
  if (argv[at] === 'find') return findArgv(argv, at)
  if (argv[at] === 'chmod') {
    let seen = false
    return argv.map((a, i) => {
      if (i <= at || seen || !/^-[rwxXst]+([,+=-][ugoarwxXst,+=-]*)?$/.test(a)) return a
      seen = true
      return `--dash-mode=${a}`
    })
  }
  return [...argv]
}

/** Global flags written with their value as the next word (`--servers h1`). */
const VALUE_FLAGS = new Set(['--servers', '--timeout', '--tls-dir', '--tls-cert', '--tls-key', '--tls-ca', '--tls-mgmt'])

/** Where the command's name is: the first word that is neither a flag nor a global flag's value. */
function commandIndex (argv: readonly string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--') return -1
    if (!a.startsWith('-')) return i
    if (VALUE_FLAGS.has(a)) i++
  }
  return -1
}

interface Helpers {
  url: (y: Argv, name: string, desc?: string) => Argv
  strs: (v: unknown) => string[]
  num: (v: unknown, what: string) => number
}

export function moreCommands (def: Def, { url, strs, num }: Helpers): void {
  const int = (v: unknown, what: string): number => {
    const n = num(v, what)
    if (!Number.isInteger(n)) throw new CliError('EUSAGE', `invalid ${what} '${String(v)}'`)
    return n
  }

  def('chmod <args..>', 'change modes: chmod [-R] MODE URL... (octal, or symbolic: u+x, go-w, a=r, u=rwx,g=rx,o=, +t, g+s, X)', y => y
    .positional('args', { type: 'string', describe: 'MODE then gluster:// URLs' })
    .option('recursive', { alias: 'R', type: 'boolean', default: false, describe: 'change directories and their contents (symlinks inside are skipped)' })
    .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'name every file processed' })
    .option('changes', { alias: 'c', type: 'boolean', default: false, describe: 'name the files whose mode changed' })
    .option('dash-mode', { type: 'string', hidden: true }),
  [['$0 chmod 640 gluster://h1/vol1/secret.txt', 'octal'], ['$0 chmod -R u=rwX,go= gluster://h1/vol1/private', 'symbolic, a tree'],
    ['$0 chmod +t gluster://h1/vol1/shared', 'sticky bit']],
  (s, a) => {
    const p = strs(a.args)
    const text = a['dash-mode'] !== undefined ? String(a['dash-mode']) : p.shift()
    if (text === undefined || p.length === 0) throw new CliError('EUSAGE', 'chmod needs MODE URL...')
    return chmod(s, compileMode(text), p, { recursive: a.recursive === true, verbose: a.verbose === true, changes: a.changes === true })
  })

  def('chown <args..>', 'change owner and group: chown [-R] [-h] OWNER[:GROUP] URL... (names from this machine\'s /etc/passwd and /etc/group, or numbers)', y => y
    .positional('args', { type: 'string', describe: 'OWNER[:GROUP], OWNER:, or :GROUP, then gluster:// URLs' })
    .option('recursive', { alias: 'R', type: 'boolean', default: false, describe: 'change directories and their contents (symlinks themselves)' })
    .option('no-dereference', { alias: 'h', type: 'boolean', default: false, describe: 'change a symlink itself, not what it points to' }),
  [['$0 chown 1000:1000 gluster://h1/vol1/home/alice', 'numeric ids'], ['$0 chown -R daemon:daemon gluster://h1/vol1/srv', 'names, a tree'],
    ['$0 chown :100 gluster://h1/vol1/shared', 'the group only']],
  (s, a) => {
    const p = strs(a.args)
    if (p.length < 2) throw new CliError('EUSAGE', 'chown needs OWNER[:GROUP] URL...')
    const owner = parseOwner(p.shift()!)
    return chown(s, owner, p, { recursive: a.recursive === true, noDereference: a['no-dereference'] === true })
  })

  def('ln <paths..>', 'make links: ln [-s] [-f] TARGET LINK, or TARGET... DIR (hard links by default, within one volume)', y => y
    .positional('paths', { type: 'string', describe: 'TARGET... then LINK or DIR (gluster:// URLs; with -s TARGET is stored as written)' })
    .option('symbolic', { alias: 's', type: 'boolean', default: false, describe: 'make symbolic links' })
    .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'replace an existing LINK' })
    .option('no-dereference', { alias: 'n', type: 'boolean', default: false, describe: 'a LINK that is a symlink to a directory is replaced, not entered' })
    .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'name each link made' }),
  [['$0 ln -s ../data/current gluster://h1/vol1/app/data', 'a relative symlink, stored as written'],
    ['$0 ln gluster://h1/vol1/a gluster://h1/vol1/b', 'a hard link'], ['$0 ln -sf v2 gluster://h1/vol1/current', 'replace a symlink']],
  (s, a) => {
    const p = strs(a.paths)
    if (p.length < 2) throw new CliError('EUSAGE', 'ln needs TARGET... LINK')
    return ln(s, p, { symbolic: a.symbolic === true, force: a.force === true, noDereference: a['no-dereference'] === true, verbose: a.verbose === true })
  })

  def('rmdir <url..>', 'remove empty directories', y => url(y, 'url')
    .option('parents', { alias: 'p', type: 'boolean', default: false, describe: 'then each parent named in the path (rmdir -p a/b/c: a/b/c, a/b, a)' })
    .option('ignore-fail-on-non-empty', { type: 'boolean', default: false, describe: 'no error for a directory that is not empty' }),
  [['$0 rmdir gluster://h1/vol1/tmp/empty', 'one directory'], ['$0 rmdir -p gluster://h1/vol1/a/b/c', 'and its parents']],
  (s, a) => rmdir(s, strs(a.url), { parents: a.parents === true, ignoreNonEmpty: a['ignore-fail-on-non-empty'] === true }))

  def('getfattr <url..>', 'print extended attributes, as getfattr (# file: blocks)', y => url(y, 'url')
    .option('name', { alias: 'n', type: 'string', describe: 'this attribute\'s value' })
    .option('dump', { alias: 'd', type: 'boolean', default: false, describe: 'every matching attribute with its value' })
    .option('match', { alias: 'm', type: 'string', describe: 'names matching this regular expression (default ^user\\.; - for all)' })
    .option('encoding', { alias: 'e', type: 'string', choices: ['text', 'hex', 'base64'], describe: 'values as "text", 0x hex or 0s base64 (default: text when printable)' })
    .option('only-values', { type: 'boolean', default: false, describe: 'the bare values, nothing else' })
    .option('no-dereference', { alias: 'h', type: 'boolean', default: false, describe: 'a symlink itself (which holds no user.* attributes)' })
    .option('absolute-names', { alias: 'a', type: 'boolean', default: false, describe: 'accepted for getfattr\'s sake: URLs are printed as given' })
    .option('recursive', { alias: 'R', type: 'boolean', default: false, describe: 'directories and their contents' }),
  [['$0 getfattr -d gluster://h1/vol1/a.txt', 'every user.* attribute'], ['$0 getfattr -n user.tag -e hex gluster://h1/vol1/a.txt', 'one, in hex'],
    ['$0 getfattr -R -d -m - gluster://h1/vol1/dir', 'every attribute in a tree']],
  (s, a) => getfattr(s, strs(a.url), {
    name: a.name !== undefined ? String(a.name) : undefined,
    dump: a.dump === true,
    match: matchPattern(a.match !== undefined ? String(a.match) : undefined),
    encoding: a.encoding as 'text' | 'hex' | 'base64' | undefined,
    onlyValues: a['only-values'] === true,
    noDereference: a['no-dereference'] === true,
    recursive: a.recursive === true,
  }))

  def('setfattr <url..>', 'set or remove an extended attribute, as setfattr', y => url(y, 'url')
    .option('name', { alias: 'n', type: 'string', describe: 'set this attribute' })
    .option('value', { alias: 'v', type: 'string', describe: 'its value: text, "quoted text" (\\ooo escapes), 0x hex or 0s base64 (default empty)' })
    .option('remove', { alias: 'x', type: 'string', describe: 'remove this attribute' })
    .option('no-dereference', { alias: 'h', type: 'boolean', default: false, describe: 'the symlink itself' })
    .option('raw', { type: 'boolean', default: false, describe: 'the value as written, not decoded' }),
  [['$0 setfattr -n user.tag -v blue gluster://h1/vol1/a.txt', 'set'], ['$0 setfattr -n user.blob -v 0x00ff gluster://h1/vol1/a.txt', 'bytes, in hex'],
    ['$0 setfattr -x user.tag gluster://h1/vol1/a.txt', 'remove']],
  (s, a) => setfattr(s, strs(a.url), {
    name: a.name !== undefined ? String(a.name) : undefined,
    value: a.value !== undefined ? String(a.value) : undefined,
    remove: a.remove !== undefined ? String(a.remove) : undefined,
    noDereference: a['no-dereference'] === true,
    raw: a.raw === true,
  }))

  def('df <url..>', 'size, used and available space of volumes (statfs), and of each brick with --bricks', y => url(y, 'url', 'gluster://HOST/VOLUME (or a path in it)')
    .option('bricks', { type: 'boolean', default: false, describe: 'a line per brick too (its own statfs)' })
    .option('human-readable', { alias: 'h', type: 'boolean', default: false, describe: 'sizes as 1.5K, 20M, 3G' })
    .option('block-size', { alias: 'B', type: 'string', default: '1K', describe: 'units: 1, 1K, 1M, 1KB… (df -B1: bytes)' })
    .option('inodes', { alias: 'i', type: 'boolean', default: false, describe: 'inode counts instead of blocks' }),
  [['$0 df -h gluster://h1/vol1', 'as df -h'], ['$0 df -B1 --bricks gluster://h1/vol1', 'bytes, and each brick']],
  (s, a) => df(s, strs(a.url), { bricks: a.bricks === true, human: a['human-readable'] === true, blockSize: parseBlockSize(String(a['block-size'])), inodes: a.inodes === true }))

  def('find <url..>', 'list a tree, filtered: find URL [-name G] [-iname G] [-type f|d|l] [-size [+-]N[ckMG]] [-mtime [+-]N] [-newer F] [-maxdepth N] [-mindepth N] [-print0]', y => url(y, 'url', 'starting points (gluster:// URLs)')
    .option('name', { type: 'string', array: true, describe: 'base name matches this glob (-name)' })
    .option('iname', { type: 'string', array: true, describe: 'the same, ignoring case (-iname)' })
    .option('type', { type: 'string', describe: 'f file, d directory, l symlink (b c p s), or a list: f,l (-type)' })
    .option('size', { type: 'string', array: true, describe: '[+-]N[cwbkMG]: size in units rounded up, more (+), less (-) or exactly N; default unit 512 B (-size)' })
    .option('mtime', { type: 'string', array: true, describe: '[+-]N: modified N whole days ago, more (+), less (-) (-mtime)' })
    .option('newer', { type: 'string', array: true, describe: 'modified after this gluster:// URL or local file (-newer)' })
    .option('maxdepth', { type: 'number', describe: 'descend at most N levels (-maxdepth)' })
    .option('mindepth', { type: 'number', default: 0, describe: 'print nothing above level N (-mindepth)' })
    .option('print0', { type: 'boolean', default: false, describe: 'end each path with NUL, for xargs -0 (-print0)' })
    .option('print', { type: 'boolean', default: false, describe: 'print each path (the default; -print)' }),
  [['$0 find gluster://h1/vol1/src -name \'*.c\' -size -1M', 'small C files'], ['$0 find gluster://h1/vol1/ -type d -maxdepth 1', 'top-level directories'],
    ['$0 find gluster://h1/vol1/logs -mtime +30 -print0 | xargs -0 -n1 echo', 'older than 30 days, NUL-separated']],
  (s, a) => find(s, strs(a.url), {
    name: strs(a.name), iname: strs(a.iname), type: a.type !== undefined ? String(a.type) : undefined,
    size: strs(a.size), mtime: strs(a.mtime), newer: strs(a.newer),
    maxDepth: a.maxdepth !== undefined ? int(a.maxdepth, '-maxdepth') : undefined,
    minDepth: int(a.mindepth, '-mindepth'),
    print0: a.print0 === true,
  }))

  def('completion [shell]', 'print a completion script for bash, zsh or fish', y => y
    .positional('shell', { type: 'string', choices: [...SHELLS], describe: 'default: the shell $SHELL names' }),
  [['eval "$($0 completion bash)"', 'complete commands and flags in this bash'], ['$0 completion fish > ~/.config/fish/completions/gluster-ts.fish', 'fish']],
  (s, a) => completion(s, a.shell !== undefined ? String(a.shell) : undefined))
}
