// Shared by the cli-* suites: run the BUILT `gluster-ts` command as a user would (node
// packages/cli/bin/gluster-ts.js, after `pnpm build`), and walk a local or FUSE tree.
import { lstat, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { loadRealCluster, type RealCluster } from '../test-cluster/real/index.js'
import { binMissing } from '../packages/cli/test/built.js'

export { BIN, binMissing, gts, gtsSpawn, until, oneLine, type RunResult } from '../packages/cli/test/built.js'

/**
 * The real cluster (GTS_REAL_ID) for a suite of the built command, or undefined after recording
 * why not: a skipped test `title` when there is no cluster, a failure when the build is missing.
 */
export function realCliCluster (title: string): RealCluster | undefined {
  const cluster = loadRealCluster()
  const missing = binMissing()
  if ('skip' in cluster) {
    t.test(title, { skip: `real cluster not available: ${cluster.skip}` }, async () => {})
    return undefined
  }
  if (missing !== undefined) {
    t.fail(missing)
    return undefined
  }
  return cluster
}

export interface TreeEntry { rel: string, type: 'file' | 'dir' | 'symlink', mode: number, size: number, mtimeMs: number }

/** Every entry under root (relative paths, sorted), from lstat; a symlink's own mtime is left out (cp -p does not keep it). */
export async function walk (root: string): Promise<TreeEntry[]> {
  const out: TreeEntry[] = []
  const go = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const r = rel === '' ? name : `${rel}/${name}`
      const st = await lstat(join(root, r))
      const type = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'file'
      out.push({ rel: r, type, mode: st.mode & 0o7777, size: st.size, mtimeMs: type === 'symlink' ? 0 : Math.floor(st.mtimeMs) })
      if (type === 'dir') await go(r)
    }
  }
  await go('')
  return out
}
