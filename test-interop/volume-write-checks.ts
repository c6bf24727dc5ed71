// Write checks of packages/volume that hold on any GlusterFS server: run against the real cluster
// (volume-write.test.ts can use them) and ours (server-volume-write.test.ts).
import type { Test } from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { execFile } from 'node:child_process'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { Volume } from '@gluster-ts/volume'

const exec = promisify(execFile)
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

/**
 * Under `base` (a volume path that does not exist yet): mkdir -p, writeFile, rename, unlink, rmdir,
 * truncate, chmod, utimes, setxattr through `vol`, each checked through the FUSE mount `mnt`.
 */
export async function checkWriteOps (t: Test, vol: Volume, mnt: string, base: string): Promise<void> {
  await vol.mkdir(`${base}/d1/d2`, { recursive: true })
  const data = randomBytes(300_000)
  await vol.writeFile(`${base}/f`, data)
  await vol.writeFile(`${base}/gone`, 'x')
  await vol.rename(`${base}/f`, `${base}/d1/g`)
  await vol.unlink(`${base}/gone`)
  await vol.rmdir(`${base}/d1/d2`)
  await vol.truncate(`${base}/d1/g`, 1000)
  await vol.chmod(`${base}/d1/g`, 0o640)
  await vol.utimes(`${base}/d1/g`, new Date('2020-01-02T03:04:05Z'), new Date('2021-02-03T04:05:06Z'))
  await vol.setxattr(`${base}/d1/g`, 'user.gts', 'value-1')
  const m = (p: string): string => join(mnt, base, p)
  await t.rejects(stat(m('f')), { code: 'ENOENT' }, 'renamed away')
  await t.rejects(stat(m('gone')), { code: 'ENOENT' }, 'unlinked')
  await t.rejects(stat(m('d1/d2')), { code: 'ENOENT' }, 'rmdir')
  const st = await stat(m('d1/g'))
  t.equal(st.size, 1000, 'truncated')
  t.equal(sha(await readFile(m('d1/g'))), sha(data.subarray(0, 1000)), 'content after truncate')
  t.equal(st.mode & 0o7777, 0o640, 'chmod')
  t.equal(st.mtime.toISOString(), '2021-02-03T04:05:06.000Z', 'utimes mtime')
  const { stdout } = await exec('getfattr', ['-n', 'user.gts', '--only-values', m('d1/g')])
  t.equal(stdout, 'value-1', 'setxattr from FUSE')
}
