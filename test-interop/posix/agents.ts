// The suite's side of the agents (agent.ts): one child process per identity, started on first use
// and kept for the run, and `Caller`, the typed face of one identity (optionally in a working
// directory and under a umask). A request that gets no answer within REQUEST_TIMEOUT_MS (a call
// stuck on a dead mount) fails with ETIMEDOUT_AGENT and the agent is killed; the next request for
// that identity starts a new one.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import path from 'node:path'
import readline from 'node:readline'
import { fileURLToPath } from 'node:url'
import { identityKey } from './protocol.js'
import type { Identity, Op, OpenFlag, Reply, Request, StatInfo, TimeSpec } from './protocol.js'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const AGENT = path.join(HERE, 'agent.ts')
/** the repository root: `--import tsx` resolves from the child's working directory */
const REPO = path.resolve(HERE, '../..')
const START_TIMEOUT_MS = 60_000
export const REQUEST_TIMEOUT_MS = 30_000

export type Res<T> = { ok: true, value: T } | { ok: false, code: string, message: string }

class AgentProcess {
  readonly #proc: ChildProcess
  readonly #pending = new Map<number, (r: Reply) => void>()
  #nextId = 1
  #dead: string | undefined

  private constructor (proc: ChildProcess) {
    this.#proc = proc
  }

  static async start (who: Identity): Promise<AgentProcess> {
    const groups = who.groups === undefined ? '-' : who.groups.join(',')
    const proc = spawn(process.execPath, ['--import', 'tsx', AGENT, String(who.uid), String(who.gid), groups],
      { cwd: REPO, stdio: ['pipe', 'pipe', 'inherit'] })
    const agent = new AgentProcess(proc)
    const lines = readline.createInterface({ input: proc.stdout! })
    const ready = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`agent ${identityKey(who)} did not start`)) }, START_TIMEOUT_MS)
      lines.once('line', line => { clearTimeout(timer); resolve(line) })
      proc.once('exit', code => { clearTimeout(timer); reject(new Error(`agent ${identityKey(who)} exited with ${String(code)} before it was ready`)) })
    })
    const first = await ready
    const want = `ready ${who.uid} ${who.gid}`
    if (!first.startsWith(want)) { proc.kill('SIGKILL'); throw new Error(`agent ${identityKey(who)} said ${JSON.stringify(first)}`) }
    lines.on('line', line => {
      const reply = JSON.parse(line) as Reply
      const done = agent.#pending.get(reply.id)
      agent.#pending.delete(reply.id)
      done?.(reply)
    })
    proc.once('exit', (code, signal) => { agent.#fail(`agent exited (${String(code ?? signal)})`) })
    return agent
  }

  get dead (): boolean { return this.#dead !== undefined }

  #fail (why: string): void {
    this.#dead ??= why
    for (const [id, done] of this.#pending) done({ id, ok: false, code: 'EAGENT_EXIT', message: why })
    this.#pending.clear()
  }

  request (op: Op, opts: { cwd?: string, umask?: number }): Promise<Reply> {
    const id = this.#nextId++
    if (this.#dead !== undefined) return Promise.resolve({ id, ok: false, code: 'EAGENT_EXIT', message: this.#dead })
    const req: Request = { id, op, ...opts }
    return new Promise(resolve => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        resolve({ id, ok: false, code: 'ETIMEDOUT_AGENT', message: `${op.op} got no answer in ${REQUEST_TIMEOUT_MS} ms` })
        this.kill()
      }, REQUEST_TIMEOUT_MS)
      this.#pending.set(id, r => { clearTimeout(timer); resolve(r) })
      this.#proc.stdin!.write(JSON.stringify(req) + '\n')
    })
  }

  kill (): void {
    this.#fail('agent killed')
    this.#proc.kill('SIGKILL')
  }
}

export class AgentPool {
  readonly #agents = new Map<string, Promise<AgentProcess>>()
  /** identities whose agent may hold an fd or a socket listener since the last closeAll */
  readonly #holding = new Set<string>()

  async #agent (who: Identity): Promise<AgentProcess> {
    const key = identityKey(who)
    let p = this.#agents.get(key)
    if (p !== undefined) {
      const a = await p.catch(() => undefined)
      if (a !== undefined && !a.dead) return a
    }
    p = AgentProcess.start(who)
    this.#agents.set(key, p)
    return p
  }

  async request (who: Identity, op: Op, opts: { cwd?: string, umask?: number } = {}): Promise<Reply> {
    if (op.op === 'open' || op.op === 'socket') this.#holding.add(identityKey(who))
    return (await this.#agent(who)).request(op, opts)
  }

  caller (who: Identity): Caller { return new Caller(this, who, {}) }

  /** close every fd and socket listener the agents hold (between checks; only agents that opened something are asked) */
  async closeAll (): Promise<void> {
    const keys = [...this.#holding]
    this.#holding.clear()
    await Promise.all(keys.map(async key => {
      const a = await this.#agents.get(key)?.catch(() => undefined)
      if (a !== undefined && !a.dead) await a.request({ op: 'closeAll' }, {})
    }))
  }

  async close (): Promise<void> {
    for (const p of this.#agents.values()) (await p.catch(() => undefined))?.kill()
    this.#agents.clear()
  }
}

/** One identity's system calls, each resolving with its result or its errno name. */
export class Caller {
  readonly #pool: AgentPool
  readonly who: Identity
  readonly #opts: { cwd?: string, umask?: number }

  constructor (pool: AgentPool, who: Identity, opts: { cwd?: string, umask?: number }) {
    this.#pool = pool
    this.who = who
    this.#opts = opts
  }

  /** the same identity, with relative paths starting at `cwd` */
  in (cwd: string): Caller { return new Caller(this.#pool, this.who, { ...this.#opts, cwd }) }
  /** the same identity under this umask (the default is 0) */
  withUmask (umask: number): Caller { return new Caller(this.#pool, this.who, { ...this.#opts, umask }) }

  async #call<T> (op: Op): Promise<Res<T>> {
    const r = await this.#pool.request(this.who, op, this.#opts)
    return r.ok ? { ok: true, value: r.value as T } : { ok: false, code: r.code, message: r.message }
  }

  stat (path: string): Promise<Res<StatInfo>> { return this.#call({ op: 'stat', path }) }
  lstat (path: string): Promise<Res<StatInfo>> { return this.#call({ op: 'lstat', path }) }
  fstat (fd: number): Promise<Res<StatInfo>> { return this.#call({ op: 'fstat', fd }) }
  chmod (path: string, mode: number): Promise<Res<null>> { return this.#call({ op: 'chmod', path, mode }) }
  fchmod (fd: number, mode: number): Promise<Res<null>> { return this.#call({ op: 'fchmod', fd, mode }) }
  chown (path: string, uid: number, gid: number): Promise<Res<null>> { return this.#call({ op: 'chown', path, uid, gid }) }
  lchown (path: string, uid: number, gid: number): Promise<Res<null>> { return this.#call({ op: 'lchown', path, uid, gid }) }
  fchown (fd: number, uid: number, gid: number): Promise<Res<null>> { return this.#call({ op: 'fchown', fd, uid, gid }) }
  mkdir (path: string, mode: number): Promise<Res<null>> { return this.#call({ op: 'mkdir', path, mode }) }
  rmdir (path: string): Promise<Res<null>> { return this.#call({ op: 'rmdir', path }) }
  unlink (path: string): Promise<Res<null>> { return this.#call({ op: 'unlink', path }) }
  readlink (path: string): Promise<Res<string>> { return this.#call({ op: 'readlink', path }) }
  readdir (path: string): Promise<Res<string[]>> { return this.#call({ op: 'readdir', path }) }
  rename (from: string, to: string): Promise<Res<null>> { return this.#call({ op: 'rename', from, to }) }
  link (from: string, to: string): Promise<Res<null>> { return this.#call({ op: 'link', from, to }) }
  symlink (target: string, path: string): Promise<Res<null>> { return this.#call({ op: 'symlink', target, path }) }
  open (path: string, flags: OpenFlag[], mode?: number): Promise<Res<number>> { return this.#call({ op: 'open', path, flags, mode }) }
  openclose (path: string, flags: OpenFlag[], mode?: number): Promise<Res<null>> { return this.#call({ op: 'openclose', path, flags, mode }) }
  close (fd: number): Promise<Res<null>> { return this.#call({ op: 'close', fd }) }
  fsync (fd: number): Promise<Res<null>> { return this.#call({ op: 'fsync', fd }) }
  write (fd: number, data: string, position?: number): Promise<Res<number>> { return this.#call({ op: 'write', fd, data, position }) }
  read (fd: number, length: number, position?: number): Promise<Res<string>> { return this.#call({ op: 'read', fd, length, position }) }
  truncate (path: string, length: number): Promise<Res<null>> { return this.#call({ op: 'truncate', path, length }) }
  ftruncate (fd: number, length: number): Promise<Res<null>> { return this.#call({ op: 'ftruncate', fd, length }) }
  utimes (path: string, atime: number, mtime: number): Promise<Res<null>> { return this.#call({ op: 'utimes', path, atime, mtime }) }
  lutimes (path: string, atime: number, mtime: number): Promise<Res<null>> { return this.#call({ op: 'lutimes', path, atime, mtime }) }
  /** utimensat(AT_FDCWD, path, {atime, mtime}, followSymlinks ? 0 : AT_SYMLINK_NOFOLLOW) */
  touch (path: string, atime: TimeSpec, mtime: TimeSpec, opts: { followSymlinks?: boolean } = {}): Promise<Res<null>> {
    return this.#call({ op: 'touch', path, atime, mtime, followSymlinks: opts.followSymlinks ?? true })
  }
  mkfifo (path: string, mode: number): Promise<Res<null>> { return this.#call({ op: 'mkfifo', path, mode }) }
  mknod (path: string, kind: 'p' | 'c' | 'b', mode: number, major?: number, minor?: number): Promise<Res<null>> {
    return this.#call({ op: 'mknod', path, kind, mode, major, minor })
  }
  socket (path: string): Promise<Res<null>> { return this.#call({ op: 'socket', path }) }
  fallocate (path: string, offset: number, length: number): Promise<Res<null>> { return this.#call({ op: 'fallocate', path, offset, length }) }
  access (path: string, mode: number): Promise<Res<null>> { return this.#call({ op: 'access', path, mode }) }
}
