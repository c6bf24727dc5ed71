// The library as plain JS in a temp dir, for benches that run it in a child process (its RSS is
// then the library's, without this script's tsx loader) or that compare two source trees in the
// same run (BENCH_BASELINE: the packages/ of another commit, e.g. from `git archive`).
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { tmpdir } from 'node:os'
import ts from 'typescript'

/**
 * Compile `<packagesDir>/{rpc,volume}/src` to JS in a new temp dir (no type check, no bundling;
 * '@gluster-ts/rpc' becomes the compiled rpc), plus `extra` files (name → contents). Resolves
 * with the dir; `<dir>/volume/index.js` is the library.
 */
export function compileLibrary (packagesDir: string, extra: Record<string, string> = {}): string {
  const out = mkdtempSync(join(tmpdir(), 'gts-bench-lib-'))
  for (const pkg of ['rpc', 'volume']) {
    const src = join(packagesDir, pkg, 'src')
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const f = join(dir, e.name)
        if (e.isDirectory()) { walk(f); continue }
        if (!e.name.endsWith('.ts') || e.name.endsWith('.d.ts')) continue
        const dest = join(out, pkg, relative(src, f)).replace(/\.ts$/, '.js')
        mkdirSync(dirname(dest), { recursive: true })
        let rpcIndex = relative(dirname(dest), join(out, 'rpc', 'index.js'))
        if (!rpcIndex.startsWith('.')) rpcIndex = `./${rpcIndex}`
        const code = readFileSync(f, 'utf8').replaceAll("'@gluster-ts/rpc'", `'${rpcIndex}'`)
        const js = ts.transpileModule(code, { fileName: f, compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true } }).outputText
        writeFileSync(dest, js)
      }
    }
    walk(src)
  }
  writeFileSync(join(out, 'package.json'), '{"type":"module"}\n')
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(out, name), text)
  return out
}
