// The packages as the registry would ship them (`pnpm test:pack`, after `pnpm build`; CI runs it).
// Every package is packed with `pnpm pack` (workspace:* becomes the version), its tarball checked
// (LICENSE, README, metadata, dist and types only, every export and bin present), then all of
// them installed with npm into an empty project outside the workspace, as a user would. There a
// consumer file and the package READMEs' examples are type-checked against the published types,
// and against an embedded cluster (started by the installed `gluster-ts cluster`) the root
// README's "From Node" example runs, so do the rpc and server READMEs', and the installed
// `gluster-ts` bin reads, writes and serves.
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { gtsSpawn, type Spawned } from '../packages/cli/test/built.js'
import { extractBlocks, serversOf } from '../packages/cli/test/markdown.js'

const exec = promisify(execFile)
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const PACKAGES = ['rpc', 'volume', 'server', 'http', 'cli']
const REPO = 'https://github.com/gluster-ts/gluster-ts'
t.setTimeout(900_000)

const work = mkdtempSync(join(tmpdir(), 'gts-pack-'))
t.teardown(() => { rmSync(work, { recursive: true, force: true }) })
const tarballs = join(work, 'tarballs')
mkdirSync(tarballs)

interface Manifest {
  name: string
  version: string
  license: string
  keywords?: string[]
  homepage?: string
  repository?: { type: string, url: string, directory: string }
  bugs?: { url: string }
  publishConfig?: { access?: string }
  exports: Record<string, Record<string, string>>
  bin?: Record<string, string>
  dependencies?: Record<string, string>
}

const tgz = (p: string): string => join(tarballs, `gluster-ts-${p}-0.1.0.tgz`)

t.test('pnpm pack: each tarball holds dist and types, LICENSE, README and full metadata', async t => {
  const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8')
  for (const p of PACKAGES) {
    await exec('pnpm', ['--dir', join(ROOT, 'packages', p), 'pack', '--pack-destination', tarballs], { timeout: 120_000 })
    const { stdout: list } = await exec('tar', ['-tzvf', tgz(p)])
    const files = list.trim().split('\n').map(l => ({ mode: l.split(/\s+/)[0]!, path: l.split(/\s+/).at(-1)!.replace(/^package\//, '') }))
    const names = new Set(files.map(f => f.path))
    for (const f of ['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts']) t.ok(names.has(f), `${p}: ${f}`)
    t.same(files.filter(f => !/^(LICENSE|README\.md|package\.json|dist\/.*\.(js|d\.ts)|bin\/[\w-]+\.js)$/.test(f.path)).map(f => f.path), [], `${p}: nothing but dist (js, d.ts), bin and the three files`)
    const { stdout: json } = await exec('tar', ['-xzOf', tgz(p), 'package/package.json'])
    const m = JSON.parse(json) as Manifest
    t.equal(m.license, 'MIT')
    t.equal((await exec('tar', ['-xzOf', tgz(p), 'package/LICENSE'])).stdout, license, `${p}: the root LICENSE`)
    t.match(m, {
      homepage: new RegExp(`^${REPO}/blob/main/docs/\\w+\\.md$`),
      repository: { type: 'git', url: `git+${REPO}.git`, directory: `packages/${p}` },
      bugs: { url: `${REPO}/issues` },
      publishConfig: { access: 'public' },
    }, `${p}: metadata`)
    t.ok((m.keywords?.length ?? 0) >= 3, `${p}: keywords`)
    t.notOk(Object.values(m.dependencies ?? {}).some(v => v.startsWith('workspace:')), `${p}: workspace:* replaced by versions`)
    for (const [sub, conds] of Object.entries(m.exports)) {
      for (const c of ['types', 'default']) t.ok(names.has(conds[c]!.replace(/^\.\//, '')), `${p}: exports['${sub}'].${c} is in the tarball`)
    }
    for (const bin of Object.values(m.bin ?? {})) {
      const f = files.find(x => x.path === bin.replace(/^\.\//, ''))
      t.match(f?.mode, /^-rwx/, `${p}: bin ${bin} is there and executable`)
    }
  }
})

const project = join(work, 'consumer')
mkdirSync(project)

t.test('npm installs the tarballs into an empty project outside the workspace', async t => {
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
  // @types/node: the published types use Node's, as any TypeScript user of Node has them
  await exec('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...PACKAGES.map(tgz), '@types/node@^20.19.0'], { cwd: project, timeout: 600_000 })
  t.same(readdirSync(join(project, 'node_modules/@gluster-ts')).sort(), [...PACKAGES].sort())
})

const CONSUMER = `// A consumer of the published packages: every entry point, and types users rely on.
import { RpcClient, GlusterError, getSpec } from '@gluster-ts/rpc'
import { Volume, type Stats, type VolumeOptions } from '@gluster-ts/volume'
import { startCluster, type Cluster } from '@gluster-ts/server'
import { createGateway, startGatewayServer, parseMountSpec, type Gateway, type GatewayServer, type GatewayServerOptions } from '@gluster-ts/http'
import { main, EXIT, type Io } from '@gluster-ts/cli'

export async function uses (vol: Volume): Promise<void> {
  const text: string = await vol.readFile('/a', { encoding: 'utf8' })
  const bytes: Buffer = await vol.readFile('/a')
  // @ts-expect-error without an encoding it is a Buffer, as fs/promises types it
  const notText: string = await vol.readFile('/a')
  const st: Stats = await vol.stat('/a')
  const ns: bigint = st.mtimeNs + st.atimeNs
  void [text, bytes, notText, ns]
}
export const o: VolumeOptions = { servers: ['gl1'], volume: 'vol1' }
export const g: GatewayServerOptions = { mounts: [parseMountSpec('mountpoint=/f,volume=v,server=gl1:0')], logLevel: 'warn', healthDetails: false }
export type All = [RpcClient, GlusterError, typeof getSpec, Cluster, typeof startCluster, Gateway, GatewayServer, typeof createGateway, typeof startGatewayServer, typeof main, Io]
export const usage: number = EXIT.USAGE
`

t.test('the published types: a consumer file and the README examples type-check', async t => {
  const dir = join(project, 'typed')
  mkdirSync(dir)
  writeFileSync(join(dir, 'consumer.ts'), CONSUMER)
  const readmes = PACKAGES.map(p => join(ROOT, 'packages', p, 'README.md')).concat(join(ROOT, 'README.md'))
  let n = 0
  for (const f of readmes) {
    for (const b of extractBlocks(readFileSync(f, 'utf8')).filter(x => x.lang === 'ts')) {
      writeFileSync(join(dir, `readme-${n++}.ts`), `// ${f}:${b.line}\n${b.code}\nexport {}\n`)
    }
  }
  t.ok(n >= 5, `${n} README examples`)
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] },
    include: ['typed/*.ts'],
  }))
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc')
  const r = await exec(process.execPath, [tsc, '-p', project], { cwd: project }).then(x => ({ code: 0, out: x.stdout }), (e: { code: number, stdout: string }) => ({ code: e.code, out: e.stdout }))
  t.equal(r.code, 0, r.out)
})

t.test('against an embedded cluster: the README examples and the installed gluster-ts bin', async t => {
  const bin = join(project, 'node_modules/.bin/gluster-ts')
  const cluster: Spawned = gtsSpawn(['cluster', '--dir', join(work, 'cluster'), '--port', '0', '--volume', 'vol1'], { bin })
  t.teardown(async () => { if (cluster.proc.exitCode === null) { cluster.proc.kill('SIGTERM'); await cluster.exited } })
  for (let i = 0; i < 600 && !/^ready$/m.test(cluster.stdout()) && cluster.proc.exitCode === null; i++) await new Promise(resolve => setTimeout(resolve, 100))
  const server = /^volfile-server (\S+)$/m.exec(cluster.stdout())?.[1]
  t.ok(server, cluster.stdout() + cluster.stderr())
  const U = `gluster://${server!}/vol1`

  // the root README's "From Node", as written but for the servers
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const fromNode = extractBlocks(readme).find(b => b.lang === 'ts' && readme.slice(0, b.offset).trimEnd().endsWith('From Node:'))
  t.ok(fromNode, 'README.md has a "From Node:" ts block')
  const run = async (name: string, code: string): Promise<string> => {
    writeFileSync(join(project, name), serversOf(code, server!))
    return (await exec(process.execPath, [name], { cwd: project, timeout: 120_000 })).stdout
  }
  t.equal(await run('from-node.mjs', fromNode!.code), 'hello\n\n', 'README: From Node')
  const rpc = extractBlocks(readFileSync(join(ROOT, 'packages/rpc/README.md'), 'utf8')).find(b => b.lang === 'ts')!
  t.match(await run('rpc-readme.mjs', rpc.code), /Gluster Portmap[\s\S]*volume vol1-client-0/, '@gluster-ts/rpc README')
  const srv = extractBlocks(readFileSync(join(ROOT, 'packages/server/README.md'), 'utf8')).find(b => b.lang === 'ts')!
  t.match(await run('server-readme.mjs', srv.code.replace("'/tmp/gts-cluster'", JSON.stringify(join(work, 'readme-cluster')))), /^gluster:\/\/127\.0\.0\.1:\d+\/vol1\/\n$/, '@gluster-ts/server README')

  // the installed command
  const gts = async (args: string[], input?: string): Promise<{ code: number, out: string, err: string }> => {
    const p = gtsSpawn(args, { bin, stdin: 'pipe' })
    p.proc.stdin!.end(input ?? '')
    const code = await p.exited
    return { code: code ?? -1, out: p.stdout(), err: p.stderr() }
  }
  const version = (JSON.parse(readFileSync(join(ROOT, 'packages/cli/package.json'), 'utf8')) as { version: string }).version
  t.same(await gts(['--version']), { code: 0, out: `gluster-ts ${version}\n`, err: '' })
  t.same(await gts(['cat', `${U}/hello.txt`]), { code: 0, out: 'hello\n', err: '' }, 'reads what the README example wrote')
  t.equal((await gts(['put', `${U}/dir/put.txt`, '-p'], 'put through the installed bin\n')).code, 0)
  t.match((await gts(['ls', '-l', `${U}/dir`])).out, /^total \d+\n-rw-r--r-- 1 \d+ \d+ 30 .* put\.txt\n$/)
  const serve = gtsSpawn(['serve', '--port', '0', `/=${U}`], { bin })
  t.teardown(() => { if (serve.proc.exitCode === null) serve.proc.kill('SIGKILL') })
  for (let i = 0; i < 600 && !/"msg":"listening"/.test(serve.stdout()) && serve.proc.exitCode === null; i++) await new Promise(resolve => setTimeout(resolve, 100))
  const url = /"url":"(http:[^"]+)"/.exec(serve.stdout())?.[1]
  t.ok(url, serve.stdout() + serve.stderr())
  t.equal(await (await fetch(`${url!}/dir/put.txt`)).text(), 'put through the installed bin\n', 'gluster-ts serve from the tarball')
  serve.proc.kill('SIGTERM')
  t.equal(await serve.exited, 0)
  cluster.proc.kill('SIGINT')
  t.equal(await cluster.exited, 0)
})
