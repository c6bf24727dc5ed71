// Shared by the cli-* suites: run the BUILT `gluster-ts` command as a user would (node
// packages/cli/bin/gluster-ts.js, after `pnpm build`), and walk a local or FUSE tree.
import { lstat, readdir } from 'node:fs/promises'
import { join } from 'node:path'

export { BIN, binMissing, gts, gtsSpawn, until, oneLine, type RunResult } from '../packages/cli/test/built.js'

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
