// `gluster-ts serve` as an operator runs it (the built command, an embedded cluster): the
// uWSGI plugin's --mount form, a config file's host/port/workers, usage errors with status 2,
// a directory of a volume, pino JSON logs with levels on stdout, SIGTERM draining, and SIGHUP
// reloading the config with workers restarted gracefully (a download in flight completes), a
// failed reload keeping the old configuration, a dead worker replaced, pino-pretty on a terminal.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { request, Agent } from 'undici'
import { BIN, binMissing, freePort, gts, gtsSpawn, reap, scratch, until, untilServes, type Spawned } from './built.js'
import { embedded } from './embedded.js'

const missing = binMissing()
t.setTimeout(900_000)

interface Line { level: number, msg: string, [k: string]: unknown }

/** `serve --port P ARGS` until it serves `path`, then SIGTERM (exit 0 checked): what it printed on stdout. */
async function servedStdout (t: Test, args: string[], path: string): Promise<string> {
  const port = await freePort()
  const p = gtsSpawn(['serve', '--port', String(port), ...args])
  reap(t, p)
  await untilServes(p, port, path)
  p.proc.kill('SIGTERM')
  t.equal(await p.exited, 0)
  return p.stdout()
}

/** stdout as pino lines; fails the test on anything that is not one. */
function lines (t: Test, p: Spawned): Line[] {
  return p.stdout().split('\n').filter(l => l !== '').map(l => {
    try {
      const j = JSON.parse(l) as Line
      if (typeof j.level !== 'number' || typeof j.msg !== 'string' || typeof j.time !== 'number') t.fail(`not a pino line: ${l}`)
      return j
    } catch {
      t.fail(`not JSON: ${l}`)
      return { level: 0, msg: '' }
    }
  })
}

async function line (t: Test, p: Spawned, what: string, pred: (l: Line) => boolean, ms = 60_000): Promise<Line> {
  await until(what, ms, () => lines(t, p).some(pred) || p.proc.exitCode !== null)
  const l = lines(t, p).find(pred)
  if (l === undefined) throw new Error(`${what}: exited ${p.proc.exitCode}\n${p.stdout()}\n${p.stderr()}`)
  return l
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

if (missing !== undefined) {
  t.test('gluster-ts serve', { skip: missing }, async () => {})
} else {
  const e = await embedded(t)
  const server = e.cluster.volfileServer
  const big = randomBytes(48 << 20)
  await e.vol.mkdir('/site/sub', { recursive: true })
  await e.vol.writeFile('/site/a.txt', 'in a\n')
  await e.vol.writeFile('/site/sub/b.txt', 'in b\n')
  await e.vol.writeFile('/big.bin', big)

  t.test('--mount takes the uWSGI plugin\'s mount verbatim; the listening line is pino JSON on stdout', async t => {
    const p = gtsSpawn(['serve', '--port', '0', '--mount', `mountpoint=/files,volume=vol1,server=${server}`])
    reap(t, p)
    const l = await line(t, p, 'listening', x => x.msg === 'listening')
    t.equal(l.level, 30, 'level info')
    t.match(l, { workers: 1, mounts: ['/files → vol1'] })
    t.equal(await (await fetch(`${String(l.url)}/files/site/a.txt`)).text(), 'in a\n')
    t.same(await (await fetch(`${String(l.url)}/healthz`)).json(), { status: 'ok' }, '/healthz names nothing internal by default')
    t.same(await (await fetch(`${String(l.url)}/readyz`)).json(), { status: 'ready' }, '/readyz')
    t.equal(p.stderr(), '', 'nothing on stderr')
    p.proc.kill('SIGTERM')
    t.equal(await p.exited, 0)
  })

  t.test('--config: the file\'s host, port and workers are used; flags given win', async t => {
    const dir = scratch(t)
    const port = await freePort()
    const cfg = join(dir, 'gw.json')
    await writeFile(cfg, JSON.stringify({ host: '127.0.0.1', port, workers: 2, mounts: [`mountpoint=/v,volume=vol1,server=${server}`] }))
    const p = gtsSpawn(['serve', '--config', cfg])
    reap(t, p)
    const l = await line(t, p, 'listening', x => x.msg === 'listening')
    t.match(l, { url: `http://127.0.0.1:${port}`, workers: 2 })
    const workers = new Set<string>()
    for (let i = 0; i < 20 && workers.size < 2; i++) {
      const m = await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { connection: 'close' } })).text()
      const w = /worker="(\d+)"/.exec(m)?.[1]
      if (w !== undefined) workers.add(w)
    }
    t.equal(workers.size, 2, 'two workers answer')
    p.proc.kill('SIGTERM')
    t.equal(await p.exited, 0)
    const q = gtsSpawn(['serve', '--config', cfg, '--port', '0', '--workers', '1'])
    reap(t, q)
    const lq = await line(t, q, 'listening', x => x.msg === 'listening')
    t.notMatch(String(lq.url), new RegExp(`:${port}$`), '--port wins over the file')
    t.equal(lq.workers, 1, '--workers wins over the file')
    q.proc.kill('SIGTERM')
    t.equal(await q.exited, 0)
  })

  t.test('bad mounts are usage errors (status 2), before anything starts', async t => {
    const cases: Array<[string[], RegExp]> = [
      [['--mount', `mountpoint=files,volume=vol1,server=${server}`], /^gluster-ts serve: EUSAGE: mount 'mountpoint=files,.*mountpoint must start with '\/'/],
      [['--mount', 'mountpoint=/f,volume=vol1,server=gl1'], /EUSAGE: .*server entry "gl1" has no port.*write gl1:0/],
      [[`/a=gluster://${server}/vol1`, `/a/=gluster://${server}/vol1`], /EUSAGE: two mounts at \/a/],
    ]
    for (const [args, re] of cases) {
      const r = await gts(['serve', '--port', '0', ...args], { timeoutMs: 60_000 })
      t.equal(r.code, 2, args.join(' '))
      t.match(r.stderr, re)
      t.equal(r.stdout.length, 0)
    }
  })

  t.test('PREFIX=gluster://HOST/VOLUME/PATH serves that directory of the volume; --health-details', async t => {
    const p = gtsSpawn(['serve', '--port', '0', '--health-details', `/s=gluster://${server}/vol1/site`])
    reap(t, p)
    const url = String((await line(t, p, 'listening', x => x.msg === 'listening')).url)
    t.match(await (await fetch(`${url}/healthz`)).json(), { status: 'ok', mounts: [{ mountpoint: '/s', volume: 'vol1', bricks: [{ state: 'up' }] }] }, '--health-details: mounts and bricks')
    t.equal(await (await fetch(`${url}/s/sub/b.txt`)).text(), 'in b\n')
    t.equal((await fetch(`${url}/s/big.bin`)).status, 404, 'nothing outside the directory')
    p.proc.kill('SIGTERM')
    t.equal(await p.exited, 0)
  })

  t.test('logs: every line pino JSON with a level; request lines count streamed bytes; SIGTERM drains and says so; --log-level', async t => {
    const p = gtsSpawn(['serve', '--port', '0', `/=gluster://${server}/vol1`])
    reap(t, p)
    const url = String((await line(t, p, 'listening', x => x.msg === 'listening')).url)
    const r = await fetch(`${url}/big.bin`)
    t.equal(sha(Buffer.from(await r.arrayBuffer())), sha(big))
    const req = await line(t, p, 'the request line', x => x.msg === 'request' && x.url === '/big.bin')
    t.match(req, { level: 30, status: 200, bytes: big.length, mount: '/' }, 'the access log counts the streamed body')
    await (await fetch(`${url}/site`)).text()
    t.ok((await line(t, p, '301 line', x => x.msg === 'request' && x.url === '/site')).bytes as number > 0, 'a 301 logs its body')
    p.proc.kill('SIGTERM')
    t.equal(await p.exited, 0)
    t.match(lines(t, p).find(x => x.msg === 'shutting down: draining requests in flight'), { level: 30, signal: 'SIGTERM' })
    t.equal(lines(t, p).at(-1)?.msg, 'stopped')
    t.equal(p.stderr(), '')
    t.equal(await servedStdout(t, ['--log-level', 'warn', `/=gluster://${server}/vol1`], '/site/a.txt'), '', '--log-level warn: no info lines')
  })

  t.test('config logLevel: the file\'s level is used, --log-level wins, a reload applies a new one', async t => {
    const dir = scratch(t)
    const cfg = join(dir, 'gw.yaml')
    const port = await freePort()
    await writeFile(cfg, `port: ${port}\nworkers: 1\nlogLevel: warn\nmounts:\n  - mountpoint=/v,volume=vol1,server=${server}\n`)
    const p = gtsSpawn(['serve', '--config', cfg])
    reap(t, p)
    await untilServes(p, port, '/v/site/a.txt')
    t.equal(p.stdout(), '', 'logLevel: warn in the file: no info lines (listening, requests)')
    // the level of the file read again on SIGHUP
    await writeFile(cfg, `port: ${port}\nworkers: 1\nlogLevel: info\nmounts:\n  - mountpoint=/w,volume=vol1,server=${server}\n`)
    p.proc.kill('SIGHUP')
    await untilServes(p, port, '/w/site/a.txt')
    await line(t, p, 'a request line after the reload', x => x.msg === 'request' && x.url === '/w/site/a.txt')
    p.proc.kill('SIGTERM')
    t.equal(await p.exited, 0)
    t.equal(await servedStdout(t, ['--config', cfg, '--log-level', 'error'], '/w/site/a.txt'), '', '--log-level error wins over the file\'s info')
  })

  t.test('a reload that fails (a config that does not load) is logged and the old configuration keeps serving', async t => {
    const dir = scratch(t)
    const cfg = join(dir, 'gw.yaml')
    await writeFile(cfg, `port: 0\nworkers: 1\nmounts:\n  - mountpoint=/v,volume=vol1,server=${server}\n`)
    const p = gtsSpawn(['serve', '--config', cfg])
    reap(t, p)
    const url = String((await line(t, p, 'listening', x => x.msg === 'listening')).url)
    await writeFile(cfg, 'port: 0\nmounts:\n  - mountpoint=nope,volume=vol1\n')
    p.proc.kill('SIGHUP')
    const failed = await line(t, p, 'reload failed', x => x.msg === 'reload failed; the previous configuration keeps serving')
    t.equal(failed.level, 50, 'level error')
    t.match(failed, { err: { message: /mountpoint/ } }, 'says why')
    t.equal(p.proc.exitCode, null, 'still running')
    t.equal(await (await fetch(`${url}/v/site/a.txt`)).text(), 'in a\n', 'the old mount still serves')
    await writeFile(cfg, 'port: 0\n: [\n')
    p.proc.kill('SIGHUP')
    await until('the second failure', 60_000, () => lines(t, p).filter(x => x.msg.startsWith('reload failed')).length === 2 || p.proc.exitCode !== null)
    t.equal(await (await fetch(`${url}/v/site/a.txt`)).text(), 'in a\n', 'a YAML syntax error: still the old mount')
    p.proc.kill('SIGTERM')
    t.equal(await p.exited, 0)
    t.equal(p.stderr(), '')
  })

  t.test('on a terminal, with pino-pretty installed, the lines are pretty-printed (JSON through a pipe)', async t => {
    // script(1) gives the command a pseudo-terminal as stdout; the shell writes its pid (exec'd
    // into the command) so that SIGTERM reaches the gateway itself
    const dir = scratch(t)
    const pidFile = join(dir, 'pid')
    const port = await freePort()
    const cmd = `echo $$ > ${pidFile}; exec ${process.execPath} ${BIN} serve --port ${port} /=gluster://${server}/vol1`
    const p = spawn('script', ['-qefc', cmd, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    p.stdout.on('data', (d: Buffer) => { out += d.toString() })
    const exited = new Promise<number | null>(resolve => p.once('close', code => { resolve(code) }))
    t.teardown(() => { if (p.exitCode === null) p.kill('SIGKILL') })
    await untilServes(p, port, '/site/a.txt')
    // eslint-disable-next-line no-control-regex
    const plain = (): string => out.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r/g, '')
    await until('the request line', 30_000, () => /request/.test(plain()) || p.exitCode !== null)
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM')
    t.equal(await exited, 0, 'SIGTERM: drained, exit 0')
    t.match(plain(), /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: listening$/m, 'pino-pretty\'s format, not JSON')
    t.match(plain(), /INFO: request\n\s+method: "GET"\n\s+url: "\/site\/a\.txt"/)
    t.match(plain(), /INFO: stopped$/m)
    t.notMatch(plain(), /^\{"level"/m, 'no JSON line')
  })

  t.test('workers: one that dies is replaced, with a warning; the gateway keeps serving', async t => {
    const p = gtsSpawn(['serve', '--port', '0', '--workers', '2', `/=gluster://${server}/vol1`])
    reap(t, p)
    const url = String((await line(t, p, 'listening', x => x.msg === 'listening')).url)
    const primary = p.proc.pid!
    // a request line carries the pid of the worker that served it
    await (await fetch(`${url}/site/a.txt`)).text()
    const victim = Number((await line(t, p, 'a request line', x => x.msg === 'request')).pid)
    t.not(victim, primary, 'served by a worker')
    process.kill(victim, 'SIGKILL')
    const w = await line(t, p, 'the restart warning', x => x.msg === 'worker exited; starting another')
    t.match(w, { level: 40, workerPid: victim, signal: 'SIGKILL' })
    // the replacement serves: requests on fresh connections reach both workers, none is refused
    const pids = new Set<number>()
    await until('a request served by the replacement', 60_000, async () => {
      await (await fetch(`${url}/site/a.txt`, { headers: { connection: 'close' } })).text()
      for (const l of lines(t, p)) if (l.msg === 'request' && l.pid !== victim) pids.add(Number(l.pid))
      return pids.size >= 2 || p.proc.exitCode !== null
    })
    t.equal(pids.size, 2, 'two live workers serve (the survivor and the replacement)')
    t.notOk(pids.has(primary), 'the primary serves nothing itself')
    p.proc.kill('SIGTERM')
    t.equal(await p.exited, 0)
  })

  for (const workers of [2, 1]) {
    t.test(`SIGHUP (workers ${workers}): the config is read again, a download in flight completes, the new mounts serve`, async t => {
      const dir = scratch(t)
      const cfg = join(dir, 'gw.yaml')
      const port = await freePort()
      await writeFile(cfg, `workers: ${workers}\nport: ${port}\nshutdownTimeoutMs: 60000\nmounts:\n  - mountpoint=/old,volume=vol1,server=${server}\n`)
      const p = gtsSpawn(['serve', '--config', cfg])
      reap(t, p)
      const url = String((await line(t, p, 'listening', x => x.msg === 'listening')).url)
      // a download that stalls: the client reads one chunk and waits
      const agent = new Agent({ pipelining: 0 })
      t.teardown(() => agent.close())
      const dl = await request(`${url}/old/big.bin`, { dispatcher: agent })
      t.equal(dl.statusCode, 200)
      const it = dl.body[Symbol.asyncIterator]()
      const first = await it.next()
      await writeFile(cfg, `workers: ${workers}\nport: ${port}\nmounts:\n  - mountpoint=/new,volume=vol1,server=${server}\n`)
      p.proc.kill('SIGHUP')
      await line(t, p, 'reloaded', x => x.msg.startsWith('reloaded'))
      t.match(lines(t, p).find(x => x.msg === 'reloading'), { level: 30, signal: 'SIGHUP' })
      t.equal(p.proc.exitCode, null, 'still running')
      t.equal(await (await fetch(`${url}/new/site/a.txt`)).text(), 'in a\n', 'the new mount serves')
      t.equal((await fetch(`${url}/old/site/a.txt`)).status, 404, 'the old one is gone')
      const parts: Buffer[] = [first.value as Buffer]
      for (let n = await it.next(); n.done !== true; n = await it.next()) parts.push(n.value as Buffer)
      t.equal(sha(Buffer.concat(parts)), sha(big), 'the download in flight completed, whole')
      if (workers > 1) await line(t, p, 'the old workers to drain', x => x.msg === 'worker drained and stopped')
      p.proc.kill('SIGTERM')
      t.equal(await p.exited, 0)
      t.equal(p.stderr(), '')
    })
  }
}
