// shell URL: an interactive shell on a volume, over one connection (as glusterfs-coreutils' gfcli
// was). Every gluster-ts command runs in it, its paths relative to the current directory (`file:`
// names a local path); cd, pwd, get, put, help and exit are the shell's own. A failed command
// prints its one line and the shell goes on; Ctrl-C cancels the running command, Ctrl-D leaves.
// When its input is not a terminal it runs the lines as `batch` does.
import { appendFileSync, readFileSync } from 'node:fs'
import { join, posix } from 'node:path'
import { createInterface, type AsyncCompleter } from 'node:readline'
import { Session } from '../session.js'
import { CliError, EXIT } from '../errors.js'
import { formatLocation, isUrl, type RemoteLocation } from '../url.js'
import { lastWord, splitWords } from '../words.js'
import { report } from './common.js'
import { linesOf, noInput, runLines, type Dispatch, type LineResult } from './lines.js'

export interface ShellOptions {
  keepGoing: boolean
  /** the commands `help` lists and Tab completes */
  commands: ReadonlyArray<{ name: string, desc: string }>
}

const BUILTINS: ReadonlyArray<{ name: string, desc: string }> = [
  { name: 'cd', desc: 'cd [DIR]: change the current directory (without DIR: back to where the shell started)' },
  { name: 'pwd', desc: 'print the current directory as a URL' },
  { name: 'get', desc: 'get [-r -p …] REMOTE [LOCAL]: copy from the volume to a local path (default: .)' },
  { name: 'put', desc: 'put [-r -p …] LOCAL [REMOTE]: copy a local file or tree to the volume (default: the current directory)' },
  { name: 'help', desc: 'help [COMMAND]: this list, or the help of one command' },
  { name: 'exit', desc: 'exit [STATUS] (also quit, Ctrl-D)' },
]
const HISTORY_LINES = 1000

export async function shell (s: Session, url: string, o: ShellOptions, dispatch: Dispatch): Promise<number> {
  let cwd: RemoteLocation
  try {
    const loc = s.remote(url, 'shell')
    cwd = { ...loc, trailingSlash: false }
    await enterable(s, cwd)
  } catch (err) {
    return report(s, 'shell', url, err)
  }
  const home = cwd
  let last: number = EXIT.OK

  /** A Session for one builtin, over the shell's volumes, relative to the current directory. */
  const withSession = async <T>(signal: AbortSignal, fn: (b: Session) => Promise<T>): Promise<T> => {
    const b = new Session({ ...s.io, signal }, s.opts, { connections: s.connections, cwd })
    try { return await fn(b) } finally { await b.close() }
  }

  const exec = async (words: string[], signal: AbortSignal): Promise<LineResult> => {
    const [cmd, ...args] = words as [string, ...string[]]
    const flags = args.filter(x => x.startsWith('-') && x !== '-')
    const paths = args.filter(x => !x.startsWith('-') || x === '-')
    const local = (p: string): string => p.startsWith('file:') ? p : `file:${p}`
    switch (cmd) {
      case 'exit':
      case 'quit': {
        const code = args[0] !== undefined ? Number(args[0]) : last
        if (!Number.isInteger(code) || code < 0 || code > 255) return { code: usage(s, cmd, `exit takes a status 0-255, not '${args[0]}'`) }
        return { code, exit: true }
      }
      case 'pwd':
        s.out(formatLocation(cwd) + '\n')
        return { code: EXIT.OK }
      case 'cd':
        if (args.length > 1) return { code: usage(s, 'cd', 'cd takes one directory') }
        return await withSession(signal, async b => {
          try {
            const to = args[0] !== undefined ? b.loc(args[0]) : home
            if (to.kind !== 'remote') throw new CliError('EUSAGE', `cd takes a directory on a volume, not the local path '${args[0]}'`)
            const next = { ...to, trailingSlash: false }
            await enterable(b, next)
            cwd = next
            return { code: EXIT.OK }
          } catch (err) {
            return { code: report(b, 'cd', args[0] ?? formatLocation(home), err) }
          }
        })
      case 'get':
        if (paths.length < 1 || paths.length > 2) return { code: usage(s, 'get', 'get [-r -p …] REMOTE [LOCAL]') }
        return { code: await dispatch(['cp', ...flags, paths[0]!, local(paths[1] ?? '.')], { cwd, signal, stdin: noInput() }) }
      case 'put':
        if (paths.length < 1 || paths.length > 2) return { code: usage(s, 'put', 'put [-r -p …] LOCAL [REMOTE]') }
        return { code: await dispatch(['cp', ...flags, local(paths[0]!), paths[1] ?? '.'], { cwd, signal, stdin: noInput() }) }
      case 'help':
        if (args.length === 0) {
          s.out(helpText(o.commands))
          return { code: EXIT.OK }
        }
        if (BUILTINS.some(b => b.name === args[0])) {
          s.out(BUILTINS.find(b => b.name === args[0])!.desc + '\n')
          return { code: EXIT.OK }
        }
        return { code: await dispatch([args[0]!, '--help'], { cwd, signal, stdin: noInput() }) }
      default:
        return { code: await dispatch(words, { cwd, signal, stdin: noInput() }) }
    }
  }

  const stdin = s.io.stdin as typeof s.io.stdin & { isTTY?: boolean }
  if (stdin.isTTY !== true) {
    // a script on stdin: batch's rules (stop at the first failure unless --keep-going)
    const lines = linesOf(stdin)
    try {
      return await runLines(s, lines, { command: 'shell', source: '-', keepGoing: o.keepGoing }, async words => {
        const r = await exec(words, s.signal)
        last = r.code
        return r
      })
    } finally {
      lines.close()
    }
  }

  // interactive
  const names = [...o.commands.map(c => c.name), ...BUILTINS.map(b => b.name), 'quit'].sort()
  const completer: AsyncCompleter = (line, cb) => {
    const word = lastWord(line)
    if (line.trimStart() === word) {
      cb(null, [names.filter(n => n.startsWith(word)), word])
      return
    }
    if (word.startsWith('-') || word.startsWith('file:') || isUrl(word)) { cb(null, [[], word]); return }
    const slash = word.lastIndexOf('/')
    const dirPart = word.slice(0, slash + 1)
    const base = word.slice(slash + 1)
    const dir = posix.resolve(cwd.path, dirPart === '' ? '.' : dirPart)
    s.volume(cwd)
      .then(vol => vol.readdir(dir, { withFileTypes: true, signal: s.signal }))
      .then(entries => {
        const hits = entries
          .filter(e => e.name.startsWith(base) && (base.startsWith('.') || !e.name.startsWith('.')))
          .map(e => dirPart + e.name.replace(/([\s'"\\|&;<>()#])/g, '\\$1') + (e.isDirectory() ? '/' : ''))
          .sort()
        cb(null, [hits, word])
      }, () => { cb(null, [[], word]) })
  }
  const histFile = s.io.env.GLUSTER_TS_HISTORY ?? (s.io.env.HOME !== undefined && s.io.env.HOME !== '' ? join(s.io.env.HOME, '.gluster-ts_history') : '')
  const rl = createInterface({
    input: stdin,
    output: s.io.stdout,
    terminal: true,
    completer,
    history: loadHistory(histFile),
    historySize: HISTORY_LINES,
    removeHistoryDuplicates: true,
  })
  const prompt = (): string => `${cwd.volume}:${cwd.path}> `
  let running: AbortController | undefined
  rl.on('SIGINT', () => {
    if (running !== undefined) {
      // Ctrl-C cancels the command, not the shell
      running.abort(Object.assign(new Error('interrupted'), { code: 'ABORT_ERR', name: 'AbortError' }))
      return
    }
    // at the prompt: drop what was typed, as bash does
    rl.write('', { ctrl: true, name: 'e' })
    rl.write('', { ctrl: true, name: 'u' })
    s.io.stdout.write('^C\n')
    rl.prompt()
  })
  s.out(`gluster-ts shell on ${formatLocation(cwd)} (help: the commands; exit or Ctrl-D: leave)\n`)
  rl.setPrompt(prompt())
  rl.prompt()
  try {
    for await (const line of rl) {
      if (s.signal.aborted) return EXIT.INTERRUPTED
      let words: string[] = []
      try {
        words = splitWords(line)
      } catch (err) {
        last = report(s, 'shell', undefined, err)
      }
      if (words.length > 0) {
        if (histFile !== '') try { appendFileSync(histFile, line + '\n', { mode: 0o600 }) } catch {}
        running = new AbortController()
        const r = await exec(words, AbortSignal.any([s.signal, running.signal]))
        running = undefined
        s.connections.forgetFailed()
        last = r.code
        if (r.exit === true) return r.code
        if (s.signal.aborted) return EXIT.INTERRUPTED
      }
      rl.setPrompt(prompt())
      rl.prompt()
    }
    // Ctrl-D
    s.io.stdout.write('\n')
    return last
  } finally {
    rl.close()
  }
}

/** The location must be a directory on its volume (connects to it first). */
async function enterable (s: Session, loc: RemoteLocation): Promise<void> {
  const vol = await s.volume(loc)
  const st = await vol.stat(loc.path, { signal: s.signal })
  if (!st.isDirectory()) throw new CliError('ENOTDIR', `ENOTDIR: not a directory: '${loc.path}'`, { path: loc.path })
}

function usage (s: Session, cmd: string, msg: string): number {
  return report(s, cmd, undefined, new CliError('EUSAGE', msg))
}

function helpText (commands: ReadonlyArray<{ name: string, desc: string }>): string {
  const all = [...commands, ...BUILTINS]
  const w = Math.max(...all.map(c => c.name.length))
  const rows = (list: ReadonlyArray<{ name: string, desc: string }>): string => list.map(c => `  ${c.name.padEnd(w)}  ${c.desc}\n`).join('')
  return 'Commands (COMMAND --help for its flags; paths are relative to the current directory, file:PATH is local):\n' +
    rows(commands) + 'Shell:\n' + rows(BUILTINS)
}

/** The history file's last lines, newest first (readline's order); none when it cannot be read. */
function loadHistory (file: string): string[] {
  if (file === '') return []
  try {
    return readFileSync(file, 'utf8').split('\n').filter(l => l.trim() !== '').slice(-HISTORY_LINES).reverse()
  } catch {
    return []
  }
}
