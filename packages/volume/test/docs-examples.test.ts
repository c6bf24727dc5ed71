// Every ```ts block of docs/volume.md runs, in document order, against one embedded gluster-ts
// cluster (startCluster from test-cluster/ts-cluster.ts: glusterd + 3 bricks of a replica-3
// volume 'vol1' on 127.0.0.1, in this process).
//
// THE CONVENTION for examples in docs/volume.md (keep to it when you add one):
// - Each block is the body of its own async function. `import` lines are hoisted out of it, and
//   '@gluster-ts/volume' / '@gluster-ts/rpc' are resolved to the packages' sources.
// - `vol` (a Volume connected to the cluster) and `Volume` are in scope. A block may connect its own
//   (`const vol = await Volume.connect({ servers: [...], volume: 'vol1' })`): it shadows ours,
//   and it must close it.
// - Any `servers: [...]` array literal is replaced by the cluster's volfile server, so write real
//   looking addresses ('10.88.0.11', '10.88.0.12:24007'). The volume is 'vol1'.
// - A path starting with '/tmp/' in a block is moved into this test's scratch directory.
// - Blocks run in document order on the same volume: what a "Writing" example writes, later
//   blocks see. The read examples find the files prepared below (FIXTURE): /dir/file (64 KiB,
//   xattr user.demo), /dir/a.txt, /dir/big.bin (3 MiB), /dir/link -> file, /huge (300 entries),
//   /video.mp4 (2 MiB). Examples that write should use their own names or clean up.
// - A block that must not run (a fragment, pseudo code) is preceded by the line
//   `<!-- docs-examples: skip -->`. One today: the TLS example, which needs a TLS cluster
//   (test-interop/volume-tls.test.ts runs it against the real one).
// - A block fails the test if it throws. console output is captured and checked where a block
//   states what it prints (see EXPECT).
import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { join } from 'node:path'
import ts from 'typescript'
import { startCluster } from '../../../test-cluster/ts-cluster.js'
import { Volume } from '../src/index.js'

const here = fileURLToPath(new URL('.', import.meta.url))
const DOC = join(here, '../../../docs/volume.md')
const MODULES: Record<string, string> = {
  '@gluster-ts/volume': pathToFileURL(join(here, '../src/index.ts')).href,
  '@gluster-ts/rpc': pathToFileURL(join(here, '../../rpc/src/index.ts')).href,
}

interface Example { line: number, code: string, skip: boolean }

/** The ```ts blocks of a markdown text, with the line each starts on. */
function extractExamples (md: string): Example[] {
  const lines = md.split('\n')
  const out: Example[] = []
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```ts') continue
    const start = i + 1
    let j = start
    while (j < lines.length && lines[j]!.trim() !== '```') j++
    const skip = /<!--\s*docs-examples:\s*skip\s*-->/.test(lines[i - 1] ?? '')
    out.push({ line: start, code: lines.slice(start, j).join('\n'), skip })
    i = j
  }
  return out
}

/** The module an example becomes: hoisted imports, then `export default async ({ vol }) => { body }`. */
function toModule (code: string, scratch: string, servers: string): string {
  const imports: string[] = []
  const body: string[] = []
  for (const line of code.split('\n')) (/^import\s/.test(line) ? imports : body).push(line)
  let src = `${imports.join('\n')}\nexport default async (ctx: { vol: any, Volume: any }) => {\n  const vol = ctx.vol\n  const Volume = ctx.Volume\n  {\n${body.join('\n')}\n  }\n}\n`
  for (const [name, url] of Object.entries(MODULES)) src = src.replaceAll(`'${name}'`, `'${url}'`)
  src = src.replace(/servers:\s*\[[^\]]*\]/g, `servers: [${JSON.stringify(servers)}]`)
  src = src.replace(/(['"`])\/tmp\//g, `$1${scratch}/`)
  const js = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText
  return `data:text/javascript;charset=utf-8,${encodeURIComponent(js)}`
}

/** What some blocks print, by a phrase unique to the block. */
const EXPECT: Array<[RegExp, RegExp]> = [
  [/console\.log\(st\.isDirectory\(\), st\.gfid\)/, /^true 00000000-0000-0000-0000-000000000001$/m],
  [/volume: 'nope'/, /^127\.0\.0\.1:\d+ no-such-volume$/m],
  [/fh\.read\(Buffer\.alloc\(4096\)/, /^4096 65536 [0-9a-f-]{36}$/m],
  [/vol\.pipeTo\('\/video\.mp4'/, /^2097152 bytes$/m],
]

t.test('docs/volume.md: the examples extractor', async t => {
  const ex = extractExamples('a\n```ts\nx()\n```\n<!-- docs-examples: skip -->\n```ts\ny()\nz()\n```\n```js\nno()\n```\n')
  t.same(ex, [{ line: 2, code: 'x()', skip: false }, { line: 6, code: 'y()\nz()', skip: true }])
})

t.test('docs/volume.md: every ts example runs, in document order', async t => {
  const examples = extractExamples(readFileSync(DOC, 'utf8'))
  t.ok(examples.length >= 8, `${examples.length} examples found`)
  const dir = t.testdir()
  const c = await startCluster({ dir: join(dir, 'cluster'), replica: 3, port: 0 })
  t.teardown(() => c.close())
  const vol = await Volume.connect({ servers: c.volfileServer, volume: c.volume.name })
  t.teardown(() => vol.close())

  // FIXTURE: what the read examples read
  const file = Buffer.alloc(65536, 'x')
  await vol.mkdir('/dir')
  await vol.writeFile('/dir/file', file)
  await vol.setxattr('/dir/file', 'user.demo', 'demo value')
  await vol.writeFile('/dir/a.txt', 'hello from the docs\n')
  await vol.writeFile('/dir/big.bin', Buffer.alloc(3 << 20, 'b'))
  await vol.symlink('file', '/dir/link')
  await vol.mkdir('/huge')
  for (let i = 0; i < 300; i++) await vol.writeFile(`/huge/e${i}`, String(i))
  await vol.writeFile('/video.mp4', Buffer.alloc(2 << 20, 'v'))

  for (const ex of examples) {
    const where = `docs/volume.md:${ex.line}`
    if (ex.skip) { t.comment(`${where}: skipped (docs-examples: skip)`); continue }
    const printed: string[] = []
    const log = console.log
    const error = console.error
    console.log = (...a: unknown[]) => { printed.push(a.map(String).join(' ')) }
    console.error = (...a: unknown[]) => { printed.push(a.map(String).join(' ')) }
    try {
      const mod = await import(toModule(ex.code, dir, c.volfileServer)) as { default: (ctx: { vol: Volume, Volume: typeof Volume }) => Promise<void> }
      await mod.default({ vol, Volume })
      t.pass(`${where} ran`)
    } catch (err) {
      t.fail(`${where} threw: ${(err as Error).stack ?? String(err)}`)
    } finally {
      console.log = log
      console.error = error
    }
    for (const [block, out] of EXPECT) {
      if (block.test(ex.code)) t.match(printed.join('\n'), out, `${where} prints what it says`)
    }
  }
  // the read examples did read the fixture (not only "did not throw")
  t.equal((await vol.readFile('/dir/a.txt', { encoding: 'utf8' })), 'hello from the docs\n')
  t.equal(readFileSync(join(dir, 'head.bin')).length, 1_048_576, 'the stream example wrote /tmp/head.bin (1 MiB)')
})
