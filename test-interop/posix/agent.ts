// One agent process per identity: `node --import tsx agent.ts UID GID GROUPS` starts as root, takes
// on that uid, gid and supplementary groups (GROUPS comma-separated, '-' for none given), says
// "ready UID GID GROUPS" on stdout, then runs one request per stdin line (protocol.ts) and answers
// one line each, in order. The kernel (and through FUSE, the file server) sees every call made
// with that identity, as a conformance suite needs: Node can only switch identity per process.
//
// Calls are synchronous on purpose: the identity is the process's, the order is the request
// order, and a call that hangs (a dead server) is seen by the parent's timeout, which kills us.
// What Node lacks runs as a coreutils/util-linux command under the same identity: mkfifo, mknod
// (device nodes), touch -c (utimensat with UTIME_NOW/UTIME_OMIT per field and nanoseconds),
// fallocate --posix. Their errno comes back as the strerror text on stderr, mapped to its name
// through a table the C library itself prints (perl's $! is strerror).
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import readline from 'node:readline'
import type { FileType, Op, OpenFlag, Reply, Request, StatInfo, TimeSpec } from './protocol.js'

const S_IFMT = 0o170000
const TYPES: Record<number, FileType> = {
  0o100000: 'regular', 0o040000: 'dir', 0o010000: 'fifo', 0o060000: 'block', 0o020000: 'char',
  0o140000: 'socket', 0o120000: 'symlink',
}

class OpError extends Error {
  constructor (readonly code: string, message: string) { super(message) }
}

/** strerror(n) text → errno name, for the commands' messages ("touch: setting times of 'x': Operation not permitted") */
function strerrorTable (): Map<string, string> {
  const out = spawnSync('perl', ['-e', 'for my $n (1..200) { $! = $n; print "$n\\t$!\\n" }'], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } })
  if (out.status !== 0) throw new Error(`perl could not print the strerror table: ${out.stderr}`)
  const byNumber = new Map<number, string>()
  for (const [name, n] of Object.entries(os.constants.errno)) if (!byNumber.has(n)) byNumber.set(n, name)
  const table = new Map<string, string>()
  for (const line of out.stdout.split('\n')) {
    const [n, text] = line.split('\t')
    const name = byNumber.get(Number(n))
    if (name !== undefined && text !== undefined && !table.has(text)) table.set(text, name)
  }
  return table
}

function statInfo (s: fs.BigIntStats): StatInfo {
  const mode = Number(s.mode)
  const rdev = s.rdev
  // glibc's gnu_dev_major/gnu_dev_minor encoding
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn))
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn))
  return {
    type: TYPES[mode & S_IFMT] ?? 'regular',
    perm: mode & 0o7777,
    uid: Number(s.uid),
    gid: Number(s.gid),
    nlink: Number(s.nlink),
    size: Number(s.size),
    ino: String(s.ino),
    rdevMajor: major,
    rdevMinor: minor,
    atime: String(s.atimeNs),
    mtime: String(s.mtimeNs),
    ctime: String(s.ctimeNs),
  }
}

function openFlags (flags: OpenFlag[]): number {
  let n = 0
  for (const f of flags) n |= fs.constants[f]
  return n
}

class Agent {
  readonly #errnoByText = strerrorTable()
  readonly #fds = new Set<number>()
  readonly #listeners = new Set<net.Server>()

  /** run a coreutils/util-linux command; its failure becomes the errno its message names */
  #command (cmd: string, args: string[], umask?: number): null {
    const saved = umask === undefined ? undefined : process.umask(umask)
    try {
      const r = spawnSync(cmd, args, { encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' }, timeout: 20_000, killSignal: 'SIGKILL' })
      if (r.error !== undefined) throw new OpError('ECOMMAND', `${cmd}: ${r.error.message}`)
      if (r.status === 0) return null
      const msg = r.stderr.trim().split('\n').pop() ?? ''
      const text = msg.slice(msg.lastIndexOf(': ') + 2)
      const code = this.#errnoByText.get(text)
      throw new OpError(code ?? 'ECOMMAND', `${cmd} ${args.join(' ')}: ${msg || `exit ${String(r.status ?? r.signal)}`}`)
    } finally {
      if (saved !== undefined) process.umask(saved)
    }
  }

  /**
   * mkfifo/mknod under the caller's umask. The commands create with 0666 & ~umask; when the wanted
   * mode fits in 0666 we get it that way, in one mknod(2). Only a mode with execute or set-id
   * bits needs -m, and then the command adds a chmod after the mknod.
   */
  #makeNode (cmd: string, path: string, mode: number, umask: number, extra: string[]): null {
    const want = mode & ~umask & 0o7777
    if ((want & ~0o666) === 0) return this.#command(cmd, ['--', path, ...extra], 0o777 & ~want)
    return this.#command(cmd, ['-m', want.toString(8), '--', path, ...extra])
  }

  #touch (path: string, atime: TimeSpec, mtime: TimeSpec, followSymlinks: boolean): null {
    const base = ['-c', ...(followSymlinks ? [] : ['-h'])]
    const at = (t: TimeSpec): string[] => (t === 'now' ? [] : ['-d', `@${t}`])
    if (atime === 'omit' && mtime === 'omit') return null // utimensat with both UTIME_OMIT does nothing
    // both UTIME_NOW: touch passes NULL times (allowed with write permission alone)
    if (atime === 'now' && mtime === 'now') return this.#command('touch', [...base, '--', path])
    if (atime === mtime) return this.#command('touch', [...base, ...at(atime), '--', path])
    // the other field UTIME_OMIT in each call: -a sets only atime, -m only mtime
    if (atime !== 'omit') this.#command('touch', [...base, '-a', ...at(atime), '--', path])
    if (mtime !== 'omit') this.#command('touch', [...base, '-m', ...at(mtime), '--', path])
    return null
  }

  async #socket (path: string): Promise<null> {
    const server = net.createServer()
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => { reject(new OpError(err.code ?? 'EIO', err.message)) })
      server.listen(path, resolve)
    })
    // closing the listener would unlink the path (libuv does): keep it until closeAll
    this.#listeners.add(server)
    return null
  }

  async #closeAll (): Promise<null> {
    for (const fd of this.#fds) { try { fs.closeSync(fd) } catch {} }
    this.#fds.clear()
    await Promise.all([...this.#listeners].map(s => new Promise(resolve => s.close(resolve))))
    this.#listeners.clear()
    return null
  }

  async run (o: Op, umask: number): Promise<unknown> {
    switch (o.op) {
      case 'stat': return statInfo(fs.statSync(o.path, { bigint: true }))
      case 'lstat': return statInfo(fs.lstatSync(o.path, { bigint: true }))
      case 'fstat': return statInfo(fs.fstatSync(o.fd, { bigint: true }))
      case 'chmod': fs.chmodSync(o.path, o.mode); return null
      case 'fchmod': fs.fchmodSync(o.fd, o.mode); return null
      case 'chown': fs.chownSync(o.path, o.uid, o.gid); return null
      case 'lchown': fs.lchownSync(o.path, o.uid, o.gid); return null
      case 'fchown': fs.fchownSync(o.fd, o.uid, o.gid); return null
      case 'mkdir': fs.mkdirSync(o.path, { mode: o.mode }); return null
      case 'rmdir': fs.rmdirSync(o.path); return null
      case 'unlink': fs.unlinkSync(o.path); return null
      case 'readlink': return fs.readlinkSync(o.path)
      case 'readdir': return fs.readdirSync(o.path).sort()
      case 'rename': fs.renameSync(o.from, o.to); return null
      case 'link': fs.linkSync(o.from, o.to); return null
      case 'symlink': fs.symlinkSync(o.target, o.path); return null
      case 'open': {
        const fd = fs.openSync(o.path, openFlags(o.flags), o.mode ?? 0o644)
        this.#fds.add(fd)
        return fd
      }
      case 'openclose': fs.closeSync(fs.openSync(o.path, openFlags(o.flags), o.mode ?? 0o644)); return null
      case 'close': fs.closeSync(o.fd); this.#fds.delete(o.fd); return null
      case 'fsync': fs.fsyncSync(o.fd); return null
      case 'write': {
        const b = Buffer.from(o.data)
        return fs.writeSync(o.fd, b, 0, b.length, o.position ?? null)
      }
      case 'read': {
        const b = Buffer.alloc(o.length)
        return b.subarray(0, fs.readSync(o.fd, b, 0, o.length, o.position ?? null)).toString('latin1')
      }
      case 'truncate': fs.truncateSync(o.path, o.length); return null
      case 'ftruncate': fs.ftruncateSync(o.fd, o.length); return null
      case 'utimes': fs.utimesSync(o.path, o.atime, o.mtime); return null
      case 'lutimes': fs.lutimesSync(o.path, o.atime, o.mtime); return null
      case 'touch': return this.#touch(o.path, o.atime, o.mtime, o.followSymlinks)
      case 'mkfifo': return this.#makeNode('mkfifo', o.path, o.mode, umask, [])
      case 'mknod': return this.#makeNode('mknod', o.path, o.mode, umask, o.kind === 'p' ? ['p'] : [o.kind, String(o.major ?? 0), String(o.minor ?? 0)])
      case 'socket': return await this.#socket(o.path)
      case 'fallocate': return this.#command('fallocate', ['--posix', '-o', String(o.offset), '-l', String(o.length), '--', o.path])
      case 'access': fs.accessSync(o.path, o.mode); return null
      case 'closeAll': return await this.#closeAll()
    }
  }

  async handle (req: Request): Promise<Reply> {
    const umask = req.umask ?? 0
    try {
      if (req.cwd !== undefined) {
        try { process.chdir(req.cwd) } catch (err) { throw new OpError((err as NodeJS.ErrnoException).code ?? 'EIO', `chdir ${req.cwd}: ${(err as Error).message}`) }
      }
      process.umask(umask)
      return { id: req.id, ok: true, value: await this.run(req.op, umask) }
    } catch (err) {
      const e = err as NodeJS.ErrnoException
      return { id: req.id, ok: false, code: typeof e.code === 'string' ? e.code : 'EAGENT', message: e.message }
    } finally {
      process.umask(0)
      if (req.cwd !== undefined) process.chdir('/')
    }
  }
}

function main (): void {
  const [uidArg, gidArg, groupsArg] = process.argv.slice(2)
  const uid = Number(uidArg)
  const gid = Number(gidArg)
  const agent = new Agent() // reads the strerror table while still root
  const { setgroups, setgid, setuid, geteuid, getegid, getgroups } = process
  if (setgroups === undefined || setgid === undefined || setuid === undefined || geteuid === undefined || getegid === undefined || getgroups === undefined) {
    throw new Error('the agent needs POSIX identity calls (Linux)')
  }
  if (groupsArg !== undefined && groupsArg !== '-') setgroups(groupsArg === '' ? [] : groupsArg.split(',').map(Number))
  else if (uid !== 0) setgroups([gid])
  setgid(gid)
  setuid(uid)
  process.umask(0)
  process.chdir('/')
  process.stdout.write(`ready ${geteuid()} ${getegid()} ${getgroups().join(',')}\n`)
  const lines = readline.createInterface({ input: process.stdin })
  let chain = Promise.resolve()
  lines.on('line', line => {
    const req = JSON.parse(line) as Request
    chain = chain.then(async () => { process.stdout.write(JSON.stringify(await agent.handle(req)) + '\n') })
  })
  lines.on('close', () => { void chain.then(() => process.exit(0)) })
}

main()
