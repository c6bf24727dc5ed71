// The progress bar: drawn on stderr only when it is a terminal, never with --json or --no-progress.
import t from 'tap'
import { Session, traceLine } from '../src/session.js'
import { capture } from './helpers.js'

const opts = { json: false, debug: false, trace: false, progress: true, timeoutMs: 1000 }

t.test('a TTY stderr gets a bar with bytes and rate; it is cleared at the end', async t => {
  const c = capture({ tty: true })
  const s = new Session(c.io, opts)
  const bar = s.progress(2048, 'cp')
  bar.add(1024)
  bar.grow(1024)
  bar.add(2048)
  bar.stop()
  await s.close()
  t.match(c.err(), /cp \[-{24}\] 0 B\/2\.00 KiB 0 B\/s ETA 0s/, 'first frame')
  t.match(c.err(), /cp \[#{24}\] 3\.00 KiB\/3\.00 KiB [\d.]+ \S+\/s ETA 0s/, 'last frame: the grown total')
  t.match(c.err(), /\u001b\[2K$/, 'cleared on stop')
  t.equal(c.out(), '', 'nothing on stdout')
})

t.test('no bar when stderr is not a terminal, or with --json / --no-progress', async t => {
  for (const [tty, o] of [[false, opts], [true, { ...opts, json: true }], [true, { ...opts, progress: false }]] as const) {
    const c = capture({ tty })
    const s = new Session(c.io, o)
    const bar = s.progress(100, 'cp')
    bar.add(50)
    bar.stop()
    await s.close()
    t.equal(c.err(), '', `tty=${tty} json=${o.json} progress=${o.progress}`)
  }
})

t.test('--trace lines', async t => {
  const ev = { peer: 'h:49152:/b', program: 'GlusterFS 4.x v1', procedure: 'READ', prog: 1298437, vers: 400, proc: 12, xid: 7 }
  t.equal(traceLine({ type: 'call:start', event: ev }), 'trace → h:49152:/b GlusterFS 4.x v1 READ xid=7\n')
  t.equal(traceLine({ type: 'call:end', event: { ...ev, status: 'ok', latencyMs: 1.234 } }), 'trace ← h:49152:/b GlusterFS 4.x v1 READ xid=7 ok 1.23 ms\n')
  t.equal(traceLine({ type: 'call:end', event: { ...ev, status: 'ok', op_ret: -1, op_errno: 2, latencyMs: 2 } }), 'trace ← h:49152:/b GlusterFS 4.x v1 READ xid=7 op_ret=-1 op_errno=2 2.00 ms\n')
  t.equal(traceLine({ type: 'call:end', event: { ...ev, status: 'error', error: { code: 'EGLUSTER_TIMEOUT' }, latencyMs: 5 } }), 'trace ← h:49152:/b GlusterFS 4.x v1 READ xid=7 error EGLUSTER_TIMEOUT 5.00 ms\n')
})

t.test('sync\'s bar counts files beside the bytes', async t => {
  const c = capture({ tty: true })
  const s = new Session(c.io, opts)
  const bar = s.progress(300, 'sync')
  bar.files(0, 3)
  bar.add(100)
  bar.files(1, 3)
  bar.add(200)
  bar.files(3, 3)
  bar.stop()
  await s.close()
  t.match(c.err(), /sync \[#{24}\] 3\/3 files 300 B\/300 B [\d.]+ \S+\/s ETA 0s/, 'the last frame: 3 of 3 files')
})
