// Write checks of packages/volume that hold on any GlusterFS server: run against the real cluster
// (volume-write.test.ts can use them) and ours (server-volume-write.test.ts).
import { setTimeout as sleep } from 'node:timers/promises'
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
  // times: a brick with features.ctime (GlusterFS's default) updates a file's times only from the
  // flags and operation time the client sends with each fop; writes must move mtime forward
  // (FUSE caches attributes for 1 s: kernel attribute-timeout and md-cache; wait that out)
  const near = (ms: number, what: string): void => { t.ok(Math.abs(ms - Date.now()) < 30_000, `${what}: ${new Date(ms).toISOString()} is now`) }
  const fuseMtime = async (p: string): Promise<number> => { await sleep(1200); return (await stat(m(p))).mtimeMs }
  await vol.writeFile(`${base}/times`, 'one')
  near((await fuseMtime('times')), 'mtime of a new file')
  await vol.utimes(`${base}/times`, 1_000_000_000, 1_000_000_000)
  t.equal((await fuseMtime('times')), 1e12, 'utimes to 2001')
  await vol.appendFile(`${base}/times`, ' two')
  near((await fuseMtime('times')), 'mtime after appendFile')
  const ours = (await vol.stat(`${base}/times`)).mtimeMs
  const theirs = await fuseMtime('times')
  t.equal(Math.floor(ours), Math.floor(theirs), `our stat and FUSE agree on mtime (${ours} vs ${theirs})`)
  await vol.utimes(`${base}/times`, 1_000_000_000, 1_000_000_000)
  await vol.truncate(`${base}/times`, 2)
  near((await fuseMtime('times')), 'mtime after truncate')
  await vol.utimes(`${base}/d1`, 1_000_000_000, 1_000_000_000)
  await vol.writeFile(`${base}/d1/new`, 'x')
  near((await fuseMtime('d1')), 'parent mtime after a create')
}
