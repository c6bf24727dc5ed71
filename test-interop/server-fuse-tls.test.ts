// The real GlusterFS FUSE client mounts OUR server with TLS (issue 14 item 2): `gluster-ts-cluster
// --tls-dir` serves the bricks (and, with --tls-mgmt, glusterd) over TLS with auth.ssl-allow, and
// the volfile says client.ssl on. The FUSE client presents the test fixtures' client certificate
// (CN gts-test-client) from its own mount namespace (server-fuse-helpers tlsMount) and passes
// the same checks as in plaintext (server-fuse-checks.ts); a client whose CN is not allowed gets
// no usable mount, and management TLS works with --secure-mgmt=yes.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { installedGlusterTlsDir } from '@gluster-ts/volume'
import { fuseSkipReason, startChildCluster, tlsMount, umount, isMounted, type ChildCluster } from './server-fuse-helpers.js'
import { fuseChecks } from './server-fuse-checks.js'
import { tlsFixturePath, type TlsFixture } from '../test-cluster/tls-fixtures.js'

/** A directory laid out as GlusterFS reads it: glusterfs.pem/.key = `who`, glusterfs.ca = the test CA. */
function identityDir (base: string, who: TlsFixture): string {
  const d = path.join(base, `tls-${who}`)
  fs.mkdirSync(d, { recursive: true })
  fs.copyFileSync(tlsFixturePath(who), path.join(d, 'glusterfs.pem'))
  fs.copyFileSync(tlsFixturePath(who, 'key'), path.join(d, 'glusterfs.key'))
  fs.chmodSync(path.join(d, 'glusterfs.key'), 0o600)
  fs.copyFileSync(tlsFixturePath('ca'), path.join(d, 'glusterfs.ca'))
  return d
}

const sslDir = installedGlusterTlsDir()
const reason = fuseSkipReason() ?? (sslDir === undefined ? 'cannot tell where the installed glusterfs reads glusterfs.pem' : undefined)
const ALLOW = 'gts-test-client'

t.test('the real FUSE client on our replica-3 volume over TLS', { skip: reason ?? false }, async t => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'gts-fuse-tls-'))
  const server = identityDir(base, 'server')
  const client = identityDir(base, 'client')
  const outsider = identityDir(base, 'outsider')
  const args = (mgmt: boolean): string[] => ['--replica', '3', '--volume', 'vol1', '--tls-dir', server, '--ssl-allow', ALLOW, ...(mgmt ? ['--tls-mgmt'] : [])]

  await t.test('the FUSE checks, I/O TLS (management plaintext)', async t => {
    await fuseChecks(t, {
      base: path.join(base, 'io'),
      start: dir => startChildCluster(dir, args(false)),
      mount: (c, mnt, log) => tlsMount(c, mnt, log, { identityDir: client, sslDir: sslDir!, secureMgmt: false }),
      ddMib: Number(process.env.GTS_FUSE_TLS_DD_MIB ?? 256),
    })
  })

  await t.test('management TLS too: --secure-mgmt=yes mounts; a CN outside auth.ssl-allow gets no usable mount', async t => {
    const dir = path.join(base, 'mgmt')
    const mnt = path.join(base, 'mgmt-mnt')
    fs.mkdirSync(mnt, { recursive: true })
    const c: ChildCluster = await startChildCluster(path.join(dir, 'cluster'), args(true))
    t.teardown(async () => { await umount(mnt); await c.close() })
    await tlsMount(c, mnt, path.join(base, 'mgmt.log'), { identityDir: client, sslDir: sslDir!, secureMgmt: true })
    fs.writeFileSync(path.join(mnt, 'm.txt'), 'management TLS\n')
    t.equal(fs.readFileSync(path.join(mnt, 'm.txt'), 'utf8'), 'management TLS\n')
    for (const b of c.volume.bricks) t.equal(fs.readFileSync(path.join(b.path, 'm.txt'), 'utf8'), 'management TLS\n', `on brick ${b.path}`)
    await umount(mnt)

    // the outsider: the volfile comes (glusterd checks no CN, as GlusterFS), every brick refuses SETVOLUME
    const log = path.join(base, 'outsider.log')
    const mounted = await tlsMount(c, mnt, log, { identityDir: outsider, sslDir: sslDir!, secureMgmt: true }).then(() => true, () => false)
    const usable = mounted && await fs.promises.stat(path.join(mnt, 'm.txt')).then(() => true, () => false)
    t.notOk(usable, 'no usable mount for CN gts-test-outsider')
    if (await isMounted(mnt)) await umount(mnt)
    t.match(fs.readFileSync(log, 'utf8'), /AUTH_FAILED|Authentication failed|auth/i, 'the client log says the bricks refused it')
  })
  t.teardown(() => { if (process.env.GTS_KEEP === undefined) fs.rmSync(base, { recursive: true, force: true }) })
})
