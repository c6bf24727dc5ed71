// Every CLI and gateway example in README.md, docs/cli.md, docs/http.md and the cli/http package
// READMEs runs, as written, against an embedded cluster (as packages/volume/test/docs-examples.test.ts
// does for docs/volume.md).
//
// THE CONVENTION for these examples (keep to it when you add one):
// - ```sh blocks run in bash (set -euo pipefail) in a scratch directory, with `gluster-ts` the
//   built command, `pnpm gluster-ts` / `pnpm demo` the repository's scripts (run as pnpm runs
//   them), `npx tsx …` tsx from source. `pnpm install`, `pnpm build` and `pnpm test` are not run again (this test needs them
//   done); nothing else is left out.
// - Example servers are pointed at the embedded cluster: `gl1`, `h1`, `10.x.x.x` (with or without
//   ports) in gluster:// URLs and in `server=` mount specs; 127.0.0.1 is left alone. Port 8080 and
//   24100 become free ports (and `serve` without --port or --config gets one), `/tmp/demo` a
//   scratch directory, `<port>` the port `pnpm demo` printed.
// - A command that runs until stopped (`serve`, `serve --demo`, `pnpm demo`, `cluster`) and is not
//   put in the background by the example itself runs in the background; the block goes on once it
//   says it is ready and it is stopped (SIGTERM, must exit 0) when the block ends. A block that
//   starts with "With `pnpm demo` running" in the text runs beside a demo.
// - ```ts blocks of the gateway run in this process (imports resolved to the sources); `port 8080`
//   becomes 0, and what they leave open (`server`, `gw`, `s`) is closed after them. ```json and
//   ```yaml blocks must be valid gateway configs. The ```ini unit is deploy.test.ts's.
// - A block preceded by `<!-- docs-examples: REASON -->` is not run here, for that reason; the
//   reasons allowed are listed in SKIPPED (each names where it is run instead).
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import ts from 'typescript'
import { BIN, binMissing, freePort, scratch } from './built.js'
import { embedded } from './embedded.js'
import { extractBlocks, serversOf, type Block } from './markdown.js'
import { parseGatewayConfig } from '@gluster-ts/http'

const exec = promisify(execFile)
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const FILES = ['README.md', 'docs/cli.md', 'docs/http.md', 'packages/cli/README.md', 'packages/http/README.md']
/** Why a marked block is not run here, and where it is. */
const SKIPPED: Record<string, string> = {
  'setup, run by CI itself': '.ci/run installs, builds and runs the suites',
  'root and a real cluster: the interop step of CI': '.ci/run brings the real cluster up and runs pnpm test:interop',
  'needs a container engine': 'packages/cli/test/deploy.test.ts builds the image where an engine answers',
  'installs from the registry: test-pack installs the tarballs': 'test-pack/pack.test.ts installs the packed tarballs with npm',
  'a TLS volume: test-interop/volume-tls runs it against the real one': 'test-interop/volume-tls.test.ts runs docs/cli.md "TLS" against the real TLS volume',
}
const missing = binMissing()
t.setTimeout(900_000)

/** Example hosts in gluster:// URLs and mount specs → the embedded cluster (127.0.0.1 is left). */
function pointAt (code: string, server: string): string {
  const example = /^(gl\d|h\d|10(\.\d+){3})(:\d+)?$/
  return code
    .replace(/(gluster|glfs|gluster\+tcp):\/\/([^/\s'"]+)\//g, (m, scheme: string, auth: string) =>
      auth.split(',').every(a => example.test(a)) ? `${scheme}://${server}/` : m)
    .replace(/server=([^,'"\s]+)/g, (m, list: string) => list.split(';').every(a => example.test(a)) ? `server=${server}` : m)
}

const LONG = /(^|\s)(gluster-ts (serve|cluster)\b|pnpm demo\b|pnpm gluster-ts (serve|cluster)\b)|main-run\.ts (serve|cluster)\b/
const READY = (line: string): string => /cluster\b/.test(line) && !/serve/.test(line) ? '^ready$' : /--demo|pnpm demo/.test(line) ? '^Ctrl-C stops it\\.$' : '"msg":"listening"'

/** An sh block as the bash script that runs it. */
function shScript (b: Block, v: { server: string, http: number, cl: number, dir: string }, beside: boolean): string {
  let n = 0
  const lines = pointAt(b.code, v.server).split('\n').map(l => {
    let x = l.replace(/\b8080\b/g, String(v.http)).replace(/\b24100\b/g, String(v.cl)).replace(/\/tmp\/demo\b/g, v.dir).replace(/<port>/g, '${DEMO_PORT}')
    const cmd = x.replace(/\s+#.*$/, '')
    if (LONG.test(cmd) && !/&\s*$/.test(cmd) && !/^\s*#/.test(x)) {
      const log = `"$BG/${n++}.log"`
      // serve listens on 8080 unless told: a free port instead
      const port = /\bserve\b|pnpm demo/.test(cmd) && !/--port\b|--config\b/.test(cmd) ? ` --port ${v.http}` : ''
      x = `${cmd}${port} >${log} 2>&1 & BGPIDS+=($!); waitfor ${log} '${READY(cmd)}' $!`
    }
    return x
  })
  const demo = beside ? ['pnpm demo --port ' + v.http + ' >"$BG/demo.log" 2>&1 & BGPIDS+=($!); waitfor "$BG/demo.log" \'^Ctrl-C stops it\\.$\' $!',
    'DEMO_PORT=$(grep -oE \'gluster://127\\.0\\.0\\.1:[0-9]+\' "$BG/demo.log" | head -1 | cut -d: -f3)'] : []
  return [
    'set -euo pipefail',
    'BG=$(mktemp -d); BGPIDS=()',
    // waitfor LOG PATTERN PID: until the command says it is ready (or it died, or 3 minutes passed)
    'waitfor () { for _ in $(seq 1 1800); do grep -qE "$2" "$1" && return 0; kill -0 "$3" 2>/dev/null || break; sleep 0.1; done; echo "gave up waiting for $2:" >&2; cat "$1" >&2; return 1; }',
    // what ran until stopped must stop cleanly on SIGTERM; the last ones `pnpm demo` printed are kept
    'stop () { rc=$?; for p in "${BGPIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; for p in "${BGPIDS[@]}"; do wait "$p" || { echo "background $p exited $?" >&2; for f in "$BG"/*.log; do cat "$f" >&2; done; rc=1; }; done; rm -rf "$BG"; exit $rc; }',
    'trap stop EXIT',
    ...demo,
    ...lines,
  ].join('\n')
}

/** `pnpm`, `npx` and `gluster-ts` as the examples mean them, first in PATH. */
function tools (dir: string, calls: string): string {
  const bin = join(dir, 'bin')
  mkdirSync(bin)
  const tool = (name: string, body: string): void => { writeFileSync(join(bin, name), `#!/usr/bin/env bash\n${body}\n`); chmodSync(join(bin, name), 0o755) }
  tool('gluster-ts', `exec '${process.execPath}' '${BIN}' "$@"`)
  tool('pnpm', `case "$1" in
  install|build|test|test:interop) echo "pnpm $*" >>'${calls}'; exit 0 ;;
  gluster-ts|demo)
    # the repository's script itself (what pnpm runs), without pnpm around it: pnpm reports a
    # command stopped by a signal as failed even when it exits 0
    script=$(node -e 'process.stdout.write(require(process.argv[1]).scripts[process.argv[2]])' '${join(ROOT, 'package.json')}' "$1")
    shift
    cd '${ROOT}' && PATH='${join(ROOT, 'node_modules/.bin')}':$PATH exec bash -c "exec $script \\"\\$@\\"" pnpm-script "$@" ;;
  *) echo "docs-examples: pnpm $1 is not an example command" >&2; exit 1 ;;
esac`)
  tool('npx', `[ "$1" = tsx ] || { echo "docs-examples: npx $1" >&2; exit 1; }; shift; exec '${join(ROOT, 'node_modules/.bin/tsx')}' "$@"`)
  return bin
}

if (missing !== undefined) {
  t.test('docs examples', { skip: missing }, async () => {})
} else {
  const e = await embedded(t)
  const server = e.cluster.volfileServer
  const engine = await exec('docker', ['info'], { timeout: 20_000 }).then(() => true, () => false)

  for (const file of FILES) {
    const md = readFileSync(join(ROOT, file), 'utf8')
    for (const b of extractBlocks(md)) {
      const name = `${file}:${b.line} (${b.lang || 'plain'})`
      if (b.lang === 'text' || b.lang === '' || b.lang === 'ini') continue
      if (b.marker !== undefined) {
        t.test(name, async t => {
          t.ok(SKIPPED[b.marker!], `a known reason: ${b.marker}`)
          if (b.marker === 'needs a container engine' && engine) t.fail('a container engine answers: run this block (deploy.test.ts builds the image)')
          t.pass(`not run here (${b.marker}): ${SKIPPED[b.marker!] ?? '?'}`)
        })
        continue
      }
      if (b.lang === 'sh') {
        t.test(name, async t => {
          const dir = scratch(t, 'gts-docs-')
          symlinkSync(join(ROOT, 'packages'), join(dir, 'packages'))
          mkdirSync(join(dir, 'site'))
          writeFileSync(join(dir, 'site/index.html'), '<h1>site</h1>\n')
          mkdirSync(join(dir, 'demo'))
          const calls = join(dir, 'pnpm-calls')
          const path = `${tools(dir, calls)}:${process.env.PATH ?? ''}`
          const beside = /With `pnpm demo` running/.test(md.slice(Math.max(0, b.offset - 300), b.offset))
          const script = shScript(b, { server, http: await freePort(), cl: await freePort(), dir: join(dir, 'demo') }, beside)
          const r = await exec('bash', ['-c', script], { cwd: dir, env: { ...process.env, PATH: path }, timeout: 300_000, maxBuffer: 16 << 20 })
            .then(x => ({ code: 0, ...x }), (x: { code: number, stdout: string, stderr: string }) => x)
          t.equal(r.code, 0, `${script}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`)
          const skipped = readFileSync(calls, { encoding: 'utf8', flag: 'a+' }).trim()
          if (skipped !== '') t.comment(`not run again: ${skipped.split('\n').join(', ')}`)
        })
        continue
      }
      if (b.lang === 'json' || b.lang === 'yaml') {
        t.test(name, async t => {
          const o = parseGatewayConfig(b.code, `example.${b.lang}`)
          t.ok(o.mounts.length > 0, 'a valid gateway config')
        })
        continue
      }
      if (b.lang === 'ts') {
        t.test(name, async t => {
          const dir = scratch(t, 'gts-docs-')
          const json = extractBlocks(readFileSync(join(ROOT, 'docs/http.md'), 'utf8')).find(x => x.lang === 'json')!
          writeFileSync(join(dir, 'gateway.json'), serversOf(json.code, server)
            .replace(/"servers":\s*\[[^\]]*\]/g, `"servers": [${JSON.stringify(server)}]`).replace(/"0\.0\.0\.0"/g, '"127.0.0.1"'))
          const code = serversOf(b.code, server).replace(/\b8080\b/g, '0').replace(/'gateway\.json'/g, JSON.stringify(join(dir, 'gateway.json')))
          const imports: string[] = []
          const body: string[] = []
          for (const line of code.split('\n')) (/^import\s/.test(line) ? imports : body).push(line)
          const open = ['server', 'gw', 's', 'vol'].map(v => `typeof ${v} !== 'undefined' ? ${v} : undefined`).join(', ')
          let src = `${imports.join('\n')}\nexport default async () => {\n${body.join('\n')}\nreturn [${open}]\n}\n`
          for (const pkg of ['http', 'volume']) src = src.replaceAll(`'@gluster-ts/${pkg}'`, `'${pathToFileURL(join(ROOT, `packages/${pkg}/src/index.ts`)).href}'`)
          const js = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText
          const mod = await import(`data:text/javascript;charset=utf-8,${encodeURIComponent(js)}`) as { default: () => Promise<Array<{ close?: (...a: unknown[]) => unknown } | undefined>> }
          const [srv, gw, s, vol] = await mod.default()
          void vol // an example that connects a Volume closes it itself (README's "From Node")
          if (srv !== undefined) await new Promise<void>(resolve => { (srv as unknown as import('node:http').Server).closeAllConnections(); srv.close?.(() => resolve()) })
          await (gw?.close?.() as Promise<void> | undefined)
          await (s?.close?.() as Promise<void> | undefined)
          t.pass('ran')
        })
      }
    }
  }
}
