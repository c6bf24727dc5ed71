// The `gluster-ts` command: yargs parses (and prints --help), then the chosen command runs with a
// Session. main() never throws: it prints one line per failure and resolves with the exit status
// (docs/cli.md "Exit status").
import { setMaxListeners } from 'node:events'
import { readFileSync } from 'node:fs'
import yargs, { type Argv } from 'yargs'
import { Session, type GlobalOptions, type Io } from './session.js'
import type { RemoteLocation } from './url.js'
import type { Dispatch } from './commands/lines.js'
import { CliError, EXIT } from './errors.js'
import { parseMode, parseSizeChange, parseTailCount } from './format.js'
import { splitServers } from './url.js'
import { report } from './commands/common.js'
import { bricks, cat, sum, tail, volfile } from './commands/read.js'
import { du, ls, stat } from './commands/inspect.js'
import { mkdir, mv, put, rm, touch, truncate } from './commands/write.js'
import { cp } from './commands/cp.js'
import { sync } from './commands/sync.js'
import { buildFilter, filterArgs, joinFilterValues, type Filter } from './filter.js'
import { parseRate } from './bwlimit.js'
import type { LogLevel } from '@gluster-ts/http'
import { tlsFlags, tlsOptions } from './tls-flags.js'
import { MORE_COMMANDS, moreCommands, preArgv } from './more-commands.js'
import { COMPLETE_ENV, yargsShellEnv } from './commands/completion.js'
// serve and cluster load @gluster-ts/http (pino, prom-client) and @gluster-ts/server: imported
// when used, so `cat` and `ls` do not pay ~0.5 s of module loading for them
const serving = (): Promise<typeof import('./commands/serve.js')> => import('./commands/serve.js')
/** pino's levels (@gluster-ts/http's LOG_LEVELS, not imported here for the reason above) */
const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']

/** This package's version (package.json sits beside src/ and dist/, in the repo and in the tarball). */
export const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version

const COMMANDS = new Set(['cat', 'cp', 'ls', 'stat', 'put', 'rm', 'mkdir', 'mv', 'tail', 'truncate', 'touch', 'du', 'sum', 'volfile', 'bricks', 'serve', 'cluster', 'sync', ...MORE_COMMANDS, 'batch', 'shell'])

type Args = Record<string, unknown> & { _: Array<string | number> }
type Run = (s: Session, a: Args, dispatch: Dispatch) => Promise<number>
/** A line of batch or shell: the Session of the invocation around it. */
interface Inner { parent: Session, cwd: RemoteLocation | undefined, signal: AbortSignal }

const strs = (v: unknown): string[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]).map(String)
const num = (v: unknown, what: string): number => {
  const n = Number(v)
  if (!Number.isFinite(n) || n < 0) throw new CliError('EUSAGE', `invalid ${what} '${String(v)}'`)
  return n
}

const URL_HELP = 'URLs: gluster://HOST[:PORT][,HOST2[:PORT]…]/VOLUME/PATH (also gluster+tcp://, glfs://, ' +
  'gluster+unix:///VOLUME/PATH?socket=/run/glusterd.socket; gluster:///VOLUME/PATH takes the servers from --servers or GLUSTER_TS_SERVERS). ' +
  'Anything else is a local path.'

const EXIT_HELP = 'Exit status: 0 ok, 1 other failure, 2 usage, 3 not found, 4 permission, 5 conflict (exists, not empty, is a directory…), ' +
  '6 unavailable (no server, no quorum, timeout), 7 I/O (EIO, ENOSPC, protocol), 8 unsupported, 130 interrupted.'

/** --include/--exclude/--filter (filter.ts): the options, for each command that takes them */
const filterOptions = (y: Argv): Argv => y
  .option('include', { type: 'string', requiresArg: true, describe: 'only paths matching this glob (rclone\'s rules; then everything else is excluded)' })
  .option('exclude', { type: 'string', requiresArg: true, describe: 'leave out paths matching this glob' })
  .option('filter', { type: 'string', requiresArg: true, describe: '\'+ GLOB\' or \'- GLOB\': include or exclude; all three are tested in the order given, first match wins' })

/**
 * Every command: its yargs definition and what runs it. `argv`: the command line, for the order
 * of filter flags; `list` collects every command's name and description (catalog()).
 */
function commands (y: Argv, pick: (r: Run) => void, argv: readonly string[], list?: Array<{ name: string, desc: string }>): Argv {
  const filter = (): Filter => buildFilter(filterArgs(argv))
  const def = (cmd: string, desc: string, build: (y: Argv) => Argv, examples: Array<[string, string]>, run: Run): void => {
    list?.push({ name: cmd.split(' ')[0]!, desc })
    y.command(cmd, desc, yy => {
      const b = build(yy)
      for (const [ex, what] of examples) b.example(ex, what)
      return b
    }, () => { pick(run) })
  }
  const url = (y: Argv, name: string, desc = 'a gluster:// URL'): Argv => y.positional(name, { type: 'string', describe: desc })

  def('cat <url..>', 'print files from a volume', y => url(y, 'url', 'files (gluster:// URLs)'),
    [['$0 cat gluster://10.0.0.1/vol1/etc/motd', 'print one file'],
      ['$0 cat gluster://h1,h2:24008/vol1/a gluster://h1/vol1/b > ab', 'concatenate two files']],
    (s, a) => cat(s, strs(a.url)))

  def('cp <paths..>', 'copy files and trees between local paths and volumes, either way', y => filterOptions(y
    .positional('paths', { type: 'string', describe: 'SRC... DST (local paths or gluster:// URLs)' })
    .option('recursive', { alias: ['r', 'R'], type: 'boolean', default: false, describe: 'copy directories and their contents' })
    .option('preserve', { alias: 'p', type: 'boolean', default: false, describe: 'keep mode, atime/mtime and user.* xattrs' })
    .option('resume', { type: 'boolean', default: false, describe: 'skip files already copied whole; continue shorter ones from their length' })
    .option('no-clobber', { alias: 'n', type: 'boolean', default: false, describe: 'never overwrite an existing file' })
    .option('jobs', { alias: 'j', type: 'number', default: 32, describe: 'files copied at the same time (of files over 1 MiB, 4 at most)' })
    .option('checksum', { alias: 'c', type: 'boolean', default: false, describe: 'with --resume: check the part already copied by sha256 (and a whole file of the same size) before skipping or continuing it' })
    .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'name each file on stderr' })
),
  [['$0 cp ./report.pdf gluster://h1/vol1/docs/', 'upload one file into a directory'],
    ['$0 cp -rp gluster://h1/vol1/photos ./photos', 'download a tree, keeping modes and times'],
    ['$0 cp -r --resume ./big gluster://h1/vol1/big', 'finish an interrupted upload'],
    ['$0 cp gluster://h1/vol1/a gluster://h2/vol2/a', 'volume to volume']],
  (s, a) => {
    const p = strs(a.paths)
    if (p.length < 2) throw new CliError('EUSAGE', 'cp needs SRC... DST')
    return cp(s, p, {
      recursive: a.recursive === true, preserve: a.preserve === true, resume: a.resume === true, noClobber: a['no-clobber'] === true,
      jobs: num(a.jobs, '--jobs'), verbose: a.verbose === true, checksum: a.checksum === true, filter: filter(),
    })
  })

  // ---- sync (issue 18)
  def('sync <src> <dst>', 'make DST like SRC, one way: copy what is new or changed (and --delete what SRC lacks)', y => filterOptions(y
    .positional('src', { type: 'string', describe: 'the source tree (local directory or gluster:// URL)' })
    .positional('dst', { type: 'string', describe: 'the destination tree (created if missing)' })
    .option('checksum', { alias: 'c', type: 'boolean', default: false, describe: 'compare files of the same size by sha256, not by mtime' })
    .option('delete', { type: 'boolean', default: false, describe: 'remove what SRC lacks from DST (only after every copy succeeded; excluded paths are kept)' })
    .option('dry-run', { alias: 'n', type: 'boolean', default: false, describe: 'print the plan, change nothing' })
    .option('bwlimit', { type: 'string', describe: 'bytes per second over all transfers: 512K, 10M, 1G' })
    .option('retries', { type: 'number', default: 3, describe: 'tries again (after 0.5 s, 1 s, 2 s …) when the volume is unavailable' })
    .option('transfers', { type: 'number', default: 16, describe: 'files copied at the same time' })
    .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'print each action and a stats line' })),
  [['$0 sync ./site gluster://h1/vol1/site', 'upload what changed'],
    ['$0 sync --delete gluster://h1/vol1/photos ./photos', 'mirror a volume directory, removing what it lacks'],
    ['$0 sync -n --json --exclude \'*.tmp\' ./data gluster://h1/vol1/data', 'the plan, one JSON object per action'],
    ['$0 sync --bwlimit 10M --transfers 4 ./big gluster://h1/vol1/big', 'at most 10 MiB/s']],
  (s, a) => sync(s, String(a.src), String(a.dst), {
    checksum: a.checksum === true, delete: a.delete === true, dryRun: a['dry-run'] === true, filter: filter(),
    bwlimit: a.bwlimit !== undefined ? parseRate(String(a.bwlimit)) : 0,
    retries: num(a.retries, '--retries'), transfers: Math.max(1, num(a.transfers, '--transfers')), verbose: a.verbose === true,
  }))

  def('ls <url..>', 'list directories', y => filterOptions(url(y, 'url', 'directories or files'))
    .option('long', { alias: 'l', type: 'boolean', default: false, describe: 'mode, links, uid, gid, size, mtime (UTC)' })
    .option('all', { alias: 'a', type: 'boolean', default: false, describe: 'include names starting with .' })
    .option('human-readable', { alias: 'h', type: 'boolean', default: false, describe: 'sizes as 1.5K, 20M' })
    .option('recursive', { alias: 'R', type: 'boolean', default: false, describe: 'list subdirectories too' }),
  [['$0 ls -lh gluster://h1/vol1/', 'long listing of the volume root'],
    ['$0 ls -R --json gluster://h1/vol1/dir', 'every entry under dir, as JSON']],
  (s, a) => ls(s, strs(a.url), { long: a.long === true, all: a.all === true, human: a['human-readable'] === true, recursive: a.recursive === true, filter: filter() }))

  def('stat <url..>', 'show attributes (size, mode, times, gfid)', y => url(y, 'url')
    .option('dereference', { alias: 'L', type: 'boolean', default: false, describe: 'follow symlinks' }),
  [['$0 stat gluster://h1/vol1/a.txt', 'stat(1)-like output'], ['$0 stat --json gluster://h1/vol1/a.txt', 'as JSON']],
  (s, a) => stat(s, strs(a.url), { follow: a.dereference === true }))

  def('put <paths..>', 'write stdin (or a local FILE) to a file on a volume: put [FILE|-] URL', y => y
    .positional('paths', { type: 'string', describe: '[FILE|-] URL: the source (default stdin) and the destination' })
    .option('append', { alias: 'a', type: 'boolean', default: false, describe: 'append instead of replacing' })
    .option('no-clobber', { alias: 'n', type: 'boolean', default: false, describe: 'fail (EEXIST) if the file exists' })
    .option('parents', { alias: 'p', type: 'boolean', default: false, describe: 'create missing parent directories' })
    .option('mode', { alias: 'm', type: 'string', describe: 'mode of a new file (octal)' }),
  [['echo hello | $0 put gluster://h1/vol1/hello.txt', 'from stdin'],
    ['$0 put -p ./db.dump gluster://h1/vol1/backups/2026/db.dump', 'a file, creating the directories'],
    ['date | $0 put --append gluster://h1/vol1/log', 'append']],
  (s, a) => put(s, strs(a.paths), {
    append: a.append === true, noClobber: a['no-clobber'] === true, parents: a.parents === true,
    mode: a.mode !== undefined ? parseMode(String(a.mode)) : undefined,
  }))

  def('rm <url..>', 'remove files (and trees with -r)', y => url(y, 'url')
    .option('recursive', { alias: ['r', 'R'], type: 'boolean', default: false, describe: 'remove directories and their contents' })
    .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'no error for missing files' })
    .option('preserve-root', { type: 'boolean', default: true, describe: 'refuse to remove a volume root (--no-preserve-root)' }),
  [['$0 rm gluster://h1/vol1/tmp/a', 'one file'], ['$0 rm -rf gluster://h1/vol1/tmp', 'a tree']],
  (s, a) => rm(s, strs(a.url), { recursive: a.recursive === true, force: a.force === true, preserveRoot: a['preserve-root'] !== false }))

  def('mkdir <url..>', 'create directories', y => url(y, 'url')
    .option('parents', { alias: 'p', type: 'boolean', default: false, describe: 'create parents; no error if it exists' })
    .option('mode', { alias: 'm', type: 'string', describe: 'mode (octal)' }),
  [['$0 mkdir -p gluster://h1/vol1/a/b/c', 'a path']],
  (s, a) => mkdir(s, strs(a.url), { parents: a.parents === true, mode: a.mode !== undefined ? parseMode(String(a.mode)) : undefined }))

  def('mv <urls..>', 'rename or move within one volume', y => y
    .positional('urls', { type: 'string', describe: 'SRC... DST on the same volume' })
    .option('no-clobber', { alias: 'n', type: 'boolean', default: false, describe: 'do not replace an existing DST' }),
  [['$0 mv gluster://h1/vol1/a gluster://h1/vol1/b', 'rename'], ['$0 mv gluster://h1/vol1/a gluster://h1/vol1/x gluster://h1/vol1/dir/', 'move into a directory']],
  (s, a) => {
    const u = strs(a.urls)
    if (u.length < 2) throw new CliError('EUSAGE', 'mv needs SRC... DST')
    return mv(s, u, { noClobber: a['no-clobber'] === true })
  })

  def('tail <url>', 'print the end of a file; -f follows it', y => url(y, 'url')
    .option('lines', { alias: 'n', type: 'string', default: '10', describe: 'last N lines; +N: from line N on' })
    .option('bytes', { alias: 'c', type: 'string', describe: 'last N bytes (4K, 1M…); +N: from byte N on' })
    .option('follow', { alias: 'f', type: 'boolean', default: false, describe: 'keep printing what is appended (until Ctrl-C)' })
    .option('interval', { type: 'number', default: 1000, describe: 'with -f: poll every MS milliseconds' }),
  [['$0 tail -n 50 gluster://h1/vol1/app.log', 'last 50 lines'], ['$0 tail -n +2 gluster://h1/vol1/data.csv', 'all but the first line'],
    ['$0 tail -f gluster://h1/vol1/app.log', 'follow']],
  (s, a) => tail(s, String(a.url), {
    lines: parseTailCount(String(a.lines), '--lines'),
    bytes: a.bytes !== undefined ? parseTailCount(String(a.bytes), '--bytes') : undefined,
    follow: a.follow === true,
    intervalMs: Math.max(10, num(a.interval, '--interval')),
  }))

  def('truncate <url..>', 'set a file\'s size', y => url(y, 'url')
    .option('size', { alias: 's', type: 'string', demandOption: true, describe: 'new size (bytes; K, M, G), or relative: +N -N <N (at most) >N (at least) /N %N (round down, up)' })
    .option('no-create', { alias: 'c', type: 'boolean', default: false, describe: 'do not create missing files' }),
  [['$0 truncate -s 0 gluster://h1/vol1/app.log', 'empty a file'], ['$0 truncate -s 1G gluster://h1/vol1/sparse', 'a 1 GiB sparse file'],
    ['$0 truncate -s +1K gluster://h1/vol1/sparse', '1 KiB longer']],
  (s, a) => truncate(s, strs(a.url), { size: parseSizeChange(String(a.size)), noCreate: a['no-create'] === true }))

  def('touch <url..>', 'create empty files or set their times', y => url(y, 'url')
    .option('no-create', { alias: 'c', type: 'boolean', default: false, describe: 'do not create missing files' })
    .option('date', { alias: 'd', type: 'string', describe: 'use this time (ISO 8601) instead of now' }),
  [['$0 touch gluster://h1/vol1/.done', 'create a marker'], ['$0 touch -d 2026-01-01T00:00:00Z gluster://h1/vol1/a', 'set a time']],
  (s, a) => {
    let date: Date | undefined
    if (a.date !== undefined) {
      date = new Date(String(a.date))
      if (Number.isNaN(date.getTime())) throw new CliError('EUSAGE', `invalid --date '${String(a.date)}'`)
    }
    return touch(s, strs(a.url), { noCreate: a['no-create'] === true, date })
  })

  def('du <paths..>', 'bytes used by trees (apparent sizes)', y => filterOptions(y)
    .positional('paths', { type: 'string', describe: 'gluster:// URLs or local paths' })
    .option('summarize', { alias: 's', type: 'boolean', default: false, describe: 'only a total per argument' })
    .option('human-readable', { alias: 'h', type: 'boolean', default: false, describe: 'sizes as 1.5K, 20M' })
    .option('max-depth', { alias: 'd', type: 'number', describe: 'print directories at most N levels down' }),
  [['$0 du -sh gluster://h1/vol1/', 'the whole volume'], ['$0 du -d 1 gluster://h1/vol1/home', 'per home directory']],
  (s, a) => du(s, strs(a.paths), { summarize: a.summarize === true, human: a['human-readable'] === true, maxDepth: a['max-depth'] !== undefined ? num(a['max-depth'], '--max-depth') : undefined, filter: filter() }))

  def('sum <paths..>', 'sha256 of files (remote or local), as sha256sum prints it', y => y
    .positional('paths', { type: 'string', describe: 'gluster:// URLs or local paths' }),
  [['$0 sum gluster://h1/vol1/iso/debian.iso', 'checksum without mounting']],
  (s, a) => sum(s, strs(a.paths)))

  def('volfile <url>', 'print the client volfile glusterd serves for a volume', y => url(y, 'url', 'gluster://HOST/VOLUME'),
    [['$0 volfile gluster://h1/vol1', 'the translator graph a client would run']],
    (s, a) => volfile(s, String(a.url)))

  def('bricks <url>', 'each brick of a volume: address, state, PING latency', y => url(y, 'url', 'gluster://HOST/VOLUME')
    .option('ping-timeout', { type: 'number', default: 2000, describe: 'ms to wait for each brick\'s PING' }),
  [['$0 bricks gluster://h1/vol1', 'is every brick up?'], ['$0 bricks --json gluster://h1/vol1', 'as JSON']],
  (s, a) => bricks(s, String(a.url), { pingTimeoutMs: num(a['ping-timeout'], '--ping-timeout') }))

  def('serve [mounts..]', 'the HTTP gateway (packages/http) over one or more volumes', y => y
    .positional('mounts', { type: 'string', describe: 'PREFIX=gluster://HOST/VOLUME[/PATH] (PATH: a directory of the volume), or a bare URL for /' })
    .option('mount', { type: 'string', array: true, describe: 'a mount in the uWSGI glusterfs plugin\'s syntax: \'mountpoint=/x,volume=v,server=h1:0;h2:0\' (repeatable)' })
    .option('host', { type: 'string', describe: 'address to listen on (default 127.0.0.1, or the config file\'s)' })
    .option('port', { type: 'number', describe: 'port, 0: any free port (default 8080, or the config file\'s)' })
    .option('workers', { type: 'number', describe: 'worker processes (default 1, or the config file\'s)' })
    .option('config', { type: 'string', describe: 'gateway config file (JSON or YAML), as packages/http reads it; read again on SIGHUP' })
    .option('log-level', { type: 'string', choices: [...LOG_LEVELS], describe: 'least level logged (default info)' })
    .option('health-details', { type: 'boolean', describe: '/healthz names mounts, volumes and bricks (default: the status only)' })
    .option('demo', { type: 'boolean', default: false, describe: 'start an embedded cluster with sample files in a temp dir and serve it' })
    .option('dir', { type: 'string', describe: 'with --demo: keep the cluster in this directory' }),
  [['$0 serve --demo', 'try it: an embedded cluster and the gateway, nothing to install'],
    ['$0 serve /=gluster://h1,h2/vol1 --port 8080', 'serve a volume'],
    ['$0 serve --mount \'mountpoint=/files,volume=vol1,server=h1:0;h2:0\'', 'the uWSGI plugin\'s mount, verbatim'],
    ['$0 serve --config gateway.json', 'from a config file (kill -HUP reloads it)']],
  async (s, a) => (await serving()).serve(s, {
    mounts: [...strs(a.mounts), ...strs(a.mount)],
    host: a.host !== undefined ? String(a.host) : undefined,
    port: a.port !== undefined ? num(a.port, '--port') : undefined,
    workers: a.workers !== undefined ? num(a.workers, '--workers') : undefined,
    logLevel: a['log-level'] !== undefined ? String(a['log-level']) as LogLevel : undefined,
    healthDetails: typeof a['health-details'] === 'boolean' ? a['health-details'] : undefined,
    config: a.config !== undefined ? String(a.config) : undefined, demo: a.demo === true, dir: a.dir !== undefined ? String(a.dir) : undefined,
  }))

  def('cluster', 'run an embedded GlusterFS cluster (glusterd + bricks in TypeScript) over a directory', y => y
    .option('dir', { type: 'string', demandOption: true, describe: 'where bricks and cluster.json live' })
    .option('replica', { type: 'number', describe: 'copies of each file (default 3; 1 with --disperse)' })
    .option('disperse', { type: 'number', describe: 'a dispersed (erasure-coded) volume: bricks per set' })
    .option('redundancy', { type: 'number', describe: 'with --disperse: bricks of each set that may be lost (default 1)' })
    .option('distribute', { type: 'number', default: 1, describe: 'replica or disperse sets' })
    .option('arbiter', { type: 'number', describe: '1: the third brick of each set is an arbiter' })
    .option('port', { type: 'number', default: 24007, describe: 'glusterd port (0: any)' })
    .option('volume', { type: 'string', default: 'vol1', describe: 'volume name' })
    .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on and to put in volfiles' })
    .option('shard-block-size', { type: 'string', describe: 'shard files in blocks of this size (features.shard on): 4MB, 64MB …, or default (64MB)' })
    .option('brick-processes', { type: 'boolean', default: false, describe: 'one process per brick' })
    .option('auth-allow', { type: 'string', describe: 'addresses allowed (default 127.0.0.1,::1; * = any)' })
    .option('auth-reject', { type: 'string', describe: 'addresses refused, even with credentials' })
    .option('allow-insecure', { type: 'string', choices: ['on', 'off'], describe: 'off: refuse calls from source ports >= 1024' })
    .option('tls', { type: 'boolean', default: false, describe: 'serve TLS (client.ssl, server.ssl on) with the certificates of --tls-dir/--tls-cert/--tls-key/--tls-ca; --tls-mgmt on: glusterd too' })
    .option('ssl-allow', { type: 'string', describe: 'with --tls: client certificate CNs the bricks accept (auth.ssl-allow; globs)' }),
  [['$0 cluster --replica 3 --dir /tmp/demo --port 24100', 'then: mount -t glusterfs 127.0.0.1:24100:/vol1 /mnt, or gluster-ts ls gluster://127.0.0.1:24100/vol1/'],
    ['$0 cluster --disperse 3 --redundancy 1 --dir /tmp/ec --port 24100', 'a dispersed volume: 2 data bricks and 1 redundancy brick'],
    ['$0 cluster --dir /tmp/demo --port 24100 --tls --tls-dir /etc/ssl/gts --ssl-allow client1', 'TLS: DIR holds glusterfs.pem, .key, .ca']],
  async (s, a) => (await serving()).cluster(s, {
    dir: String(a.dir), replica: a.replica !== undefined ? num(a.replica, '--replica') : undefined, distribute: num(a.distribute, '--distribute'),
    disperse: a.disperse !== undefined ? num(a.disperse, '--disperse') : undefined, redundancy: a.redundancy !== undefined ? num(a.redundancy, '--redundancy') : undefined,
    arbiter: a.arbiter !== undefined ? num(a.arbiter, '--arbiter') : undefined, port: num(a.port, '--port'),
    volume: String(a.volume), host: String(a.host), brickProcesses: a['brick-processes'] === true,
    shardBlockSize: a['shard-block-size'] !== undefined ? String(a['shard-block-size']) : undefined,
    authAllow: a['auth-allow'] !== undefined ? String(a['auth-allow']) : undefined,
    authReject: a['auth-reject'] !== undefined ? String(a['auth-reject']) : undefined,
    allowInsecure: a['allow-insecure'] !== undefined ? a['allow-insecure'] === 'on' : undefined,
    tls: a.tls === true, sslAllow: a['ssl-allow'] !== undefined ? String(a['ssl-allow']) : undefined,
  }))
  // issue 18: chmod chown ln rmdir getfattr setfattr df find completion
  moreCommands(def, { url, strs, num })

  // batch and shell: many command lines over one connection per volume (commands/lines.ts)
  def('batch <file>', 'run gluster-ts commands, one per line, from FILE (- for stdin), over one connection per volume', y => y
    .positional('file', { type: 'string', describe: 'the commands (without `gluster-ts`), one per line; # comments; - reads stdin' })
    .option('keep-going', { alias: 'k', type: 'boolean', default: false, describe: 'run every line; exit with the last failure\'s status' }),
  [['$0 batch ./upload.gts', 'run a script; the first failure stops it'],
    ['printf \'cat gluster://h1/vol1/a\\ncat gluster://h1/vol1/b\\n\' | $0 batch -', 'from stdin'],
    ['$0 batch -k ./cleanup.gts', 'run every line, whatever fails']],
  // yargs parses a lone '-' as an empty string (an empty file name means nothing else)
  async (s, a, dispatch) => (await import('./commands/batch.js')).batch(s, a.file === '' ? '-' : String(a.file), { keepGoing: a['keep-going'] === true }, dispatch))

  def('shell <url>', 'an interactive shell on a volume directory (cd, ls, get, put… and every command), over one connection', y => url(y, 'url', 'the starting directory (gluster:// URL)')
    .option('keep-going', { alias: 'k', type: 'boolean', default: false, describe: 'when stdin is not a terminal: run every line, as batch -k' }),
  [['$0 shell gluster://h1/vol1/', 'then: cd photos, ls -l, get a.jpg, put ./b.jpg, exit'],
    ['printf \'cd docs\\nls\\n\' | $0 shell gluster://h1/vol1/', 'a script on stdin, as batch runs it']],
  async (s, a, dispatch) => (await import('./commands/shell.js')).shell(s, String(a.url), {
    keepGoing: a['keep-going'] === true, commands: catalog().filter(c => !NOT_NESTED.has(c.name)),
  }, dispatch))
  return y
}

/** Every command's name and description, in the order of --help. */
function catalog (): Array<{ name: string, desc: string }> {
  const list: Array<{ name: string, desc: string }> = []
  commands(yargs([]), () => {}, [], list)
  return list
}

/** The yargs parser. Not exported: the published types would then need @types/yargs. */
function parser (argv: readonly string[], pick: (r: Run) => void = () => {}): Argv {
  const y = tlsFlags(yargs([...argv])
    .scriptName('gluster-ts')
    .usage('$0 <command> [options]\n\nGlusterFS from the shell, no mount needed.')
    .option('servers', { type: 'string', describe: 'volfile servers for gluster:///VOLUME/PATH URLs (env GLUSTER_TS_SERVERS)', global: true })
    .option('json', { type: 'boolean', default: false, describe: 'machine-readable output', global: true })
    .option('progress', { type: 'boolean', default: true, describe: 'progress bar on stderr when it is a terminal (--no-progress)', global: true })
    .option('timeout', { type: 'number', default: 10000, describe: 'connect deadline, ms (env GLUSTER_TS_TIMEOUT)', global: true })
    .option('trace', { type: 'boolean', default: false, describe: 'print every RPC call on stderr', global: true })
    .option('debug', { type: 'boolean', default: false, describe: 'stack traces with errors', global: true }))
    .help('help')
    .alias('help', 'H')
    .version('version', 'print the version and exit', `gluster-ts ${VERSION}`)
    .strict()
    .demandCommand(1, 'name a command')
    .recommendCommands()
    .wrap(100)
    .epilogue(`${URL_HELP}\n\n${EXIT_HELP}`)
  // After running a command's handler yargs renders its whole help text and keeps it, for a
  // later showHelp() we never make (--help renders it anew): that rendering costs more than the
  // rest of the parse, paid by every command and by every line of a batch. yargs 18 has no
  // option for it: its usage instance's cacheHelpMessage is replaced by a no-op.
  const usage = (y as unknown as { getInternalMethods (): { getUsageInstance (): { cacheHelpMessage (): void } } }).getInternalMethods().getUsageInstance()
  usage.cacheHelpMessage = () => {}
  return commands(y, pick, argv)
}

/**
 * What the completion scripts ask (commands/completion.ts): yargs's completions of these words,
 * one per line, formatted for the shell the script names (yargs reads $SHELL when it builds).
 */
async function complete (words: readonly string[], io: Io): Promise<number> {
  const saved = process.env.SHELL
  process.env.SHELL = yargsShellEnv(io.env[COMPLETE_ENV])
  try {
    // yargs answers --get-yargs-completions while parsing (a command's own flags are known
    // only inside that command's builder); with a parse callback its answer is the output
    let output = ''
    parser(['--get-yargs-completions', ...words]).parse(['--get-yargs-completions', ...words], {}, (_err: unknown, _a: unknown, out: string) => { output = out })
    if (output !== '') io.stdout.write(output.endsWith('\n') ? output : output + '\n')
    return EXIT.OK
  } finally {
    if (saved === undefined) delete process.env.SHELL
    else process.env.SHELL = saved
  }
}

function defaultIo (): Io {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env }
}

/**
 * Flags in the parsed arguments that the command does not define. yargs checks the number of
 * positionals before it looks for unknown flags, and `ls --bogus URL` takes the URL as the value
 * of --bogus: the user would hear about a missing URL instead of the flag they mistyped.
 */
function unknownFlags (y: Argv, a: Args): string[] {
  const o = (y as unknown as { getOptions (): { key: Record<string, unknown>, alias: Record<string, string[]> } }).getOptions()
  const known = new Set<string>(['_', '$0'])
  const camel = (k: string): string => k.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())
  for (const k of [...Object.keys(o.key), ...Object.entries(o.alias).flatMap(([k, v]) => [k, ...v])]) known.add(k).add(camel(k))
  return Object.keys(a).filter(k => !known.has(k))
}

/** Run the command line `argv` (without node and script); resolves with the exit status. */
export async function main (argv: readonly string[], io: Io = defaultIo()): Promise<number> {
  if (argv[0] === '--get-yargs-completions') return await complete(argv.slice(1), io)
  return await execute(argv, io, undefined)
}

/** Commands that do not run as a line of `batch` or `shell`: they run until stopped, or read lines themselves. */
const NOT_NESTED = new Set(['serve', 'cluster', 'batch', 'shell'])
/** Commands that, in the shell and given no path, work on the current directory. */
const CWD_DEFAULT = new Set(['ls', 'du', 'df', 'find', 'bricks', 'volfile'])

/**
 * Parse and run one command line. `inner`: a line of `batch` or `shell`, run with the
 * invocation's volumes, signal and global flags (the line's own flags win).
 */
async function execute (rawArgv: readonly string[], io: Io, inner: Inner | undefined): Promise<number> {
  // find's one-dash tests and `chmod -w` (preArgv); `--filter '- *.jpg'`: one word for yargs,
  // which would take '- *.jpg' for a flag
  const argv = joinFilterValues(preArgv(rawArgv))
  let run: Run | undefined
  let parsed: Args | undefined
  let usageError: Error | undefined
  let output = ''
  let unknown: string[] = []
  const y = parser(argv, r => { run = r })
  try {
    y.parse([...argv], {}, (err: Error | undefined, a: Args, out: string) => {
      usageError = err ?? undefined
      parsed = a
      output = out
      // here the command's own options are still defined; strict mode already refuses unknown
      // flags when nothing else failed
      if (err != null) unknown = unknownFlags(y, a)
    })
  } catch (err) {
    usageError = err as Error
  }
  const dashDash = argv.indexOf('--')
  const shortH = argv.findIndex((x, i) => x === '-h' && (dashDash < 0 || i < dashDash))
  if (unknown.includes('h') && shortH >= 0) {
    // -h is --help, except in the commands where it is --human-readable (ls, du), as in coreutils
    return await execute(argv.map((x, i) => i === shortH ? '--help' : x), io, inner)
  }
  if (unknown.length > 0) usageError = new Error(`Unknown argument${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`)
  const named = typeof parsed?._[0] === 'string' && COMMANDS.has(parsed._[0]) ? parsed._[0] : undefined
  if (usageError === undefined && inner !== undefined && named !== undefined && NOT_NESTED.has(named) && run !== undefined) {
    usageError = new Error(`${named} does not run inside batch or shell`)
  }
  if (usageError !== undefined && inner?.cwd !== undefined && named !== undefined && CWD_DEFAULT.has(named) &&
    /^Not enough non-option arguments: got 0\b/.test(usageError.message)) {
    // in the shell, `ls` alone lists the current directory
    return await execute([...argv, '.'], io, inner)
  }
  if (usageError !== undefined) {
    // one line, like every other error; the full help is one --help away
    const hint = /^Did you mean .*$/m.exec(output)?.[0]
    const cmd = named !== undefined ? ` ${named}` : ''
    io.stderr.write(`gluster-ts${cmd}: EUSAGE: ${usageError.message.replace(/\s*\n\s*/g, ' ')}${hint !== undefined ? ` ${hint}` : ''} (gluster-ts${cmd} --help)\n`)
    return EXIT.USAGE
  }
  if (run === undefined || parsed === undefined) {
    // --help (or a command's --help): yargs produced the text
    if (output !== '') io.stdout.write(output + '\n')
    return EXIT.OK
  }
  const a = parsed
  const command = String(a._[0] ?? '')
  let opts: GlobalOptions
  try {
    opts = globalOptions(a, io.env, inner?.parent.opts)
  } catch (err) {
    io.stderr.write(`gluster-ts ${command}: EUSAGE: ${(err as Error).message}\n`)
    return EXIT.USAGE
  }
  const ownSignal = io.signal === undefined && inner === undefined
  const ac = new AbortController()
  // every transfer in flight listens on the one run-wide signal (cp -j 32 …)
  setMaxListeners(0, ac.signal)
  const onSig = (signal: NodeJS.Signals): void => { ac.abort(Object.assign(new Error('interrupted'), { code: 'ABORT_ERR', name: 'AbortError', signal })) }
  if (ownSignal) {
    // `on`, not `once`: a second SIGINT (a terminal's Ctrl-C reaches tsx and its child alike, and
    // tsx relays it again) must not kill the process while it cleans up
    process.on('SIGINT', onSig)
    process.on('SIGTERM', onSig)
  }
  const s = inner === undefined
    ? new Session({ ...io, signal: io.signal ?? ac.signal }, opts)
    : new Session({ ...io, signal: inner.signal }, opts, { connections: inner.parent.connections, cwd: inner.cwd })
  // batch and shell run their lines through this, with the volumes of this Session
  const dispatch: Dispatch = (line, o) => execute(line, { ...io, stdin: o.stdin ?? io.stdin }, { parent: s, cwd: o.cwd, signal: o.signal ?? s.signal })
  try {
    const code = await run(s, a, dispatch)
    return s.brokenPipe ? EXIT.OK : code
  } catch (err) {
    return report(s, command, undefined, err)
  } finally {
    if (ownSignal) {
      process.off('SIGINT', onSig)
      process.off('SIGTERM', onSig)
    }
    await s.close()
  }
}

/** The global flags of a parsed line; a line of batch or shell takes what it does not set from the invocation's. */
function globalOptions (a: Args, env: NodeJS.ProcessEnv, outer: GlobalOptions | undefined): GlobalOptions {
  const envTimeout = env.GLUSTER_TS_TIMEOUT
  const tls = tlsOptions(a, env) ?? outer?.tls
  const servers = a.servers !== undefined ? splitServers(String(a.servers)) : outer?.servers ?? splitServers(env.GLUSTER_TS_SERVERS)
  const timeoutMs = a.timeout !== 10000 ? Number(a.timeout) : outer?.timeoutMs ?? (envTimeout === undefined ? 10000 : Number(envTimeout))
  return {
    tls,
    servers,
    json: a.json === true || outer?.json === true,
    debug: a.debug === true || outer?.debug === true,
    // the invocation already prints every call when it has --trace
    trace: a.trace === true && outer?.trace !== true,
    progress: a.progress !== false && outer?.progress !== false,
    timeoutMs,
  }
}
