// THE real peer for packages/server: the GlusterFS 10 FUSE client (`glusterfs`) mounts a
// replica-3 volume served by our glusterd and bricks, and ordinary tools work on it; then
// unmount, stop, restart the server, remount: everything is still there (server-fuse-checks.ts).
// The server runs in a CHILD process (`gluster-ts-cluster`, from source): a test that touches the
// mount with synchronous fs calls from the process that serves the bricks would deadlock itself.
// Needs root and /dev/fuse (skips with a reason otherwise; CI must not skip).
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fuseSkipReason, mount, startChildCluster } from './server-fuse-helpers.js'
import { fuseChecks } from './server-fuse-checks.js'

const reason = fuseSkipReason()
t.test('the real FUSE client on our replica-3 volume', { skip: reason ?? false }, async t => {
  await fuseChecks(t, {
    base: fs.mkdtempSync(path.join(os.tmpdir(), 'gts-fuse-')),
    // `gluster-ts-cluster --replica 3 --dir DIR --port 0 --volume vol1`, from source, in a child process
    start: dir => startChildCluster(dir, ['--replica', '3', '--volume', 'vol1']),
    mount,
    ddMib: Number(process.env.GTS_FUSE_DD_MIB ?? 1024),
  })
})
