// Exit status per kind of failure and the one-line message.
import t from 'tap'
import { GlusterError } from '@gluster-ts/rpc'
import { CliError, EXIT, exitCodeFor, formatError, errorCode } from '../src/errors.js'

t.test('exit status per kind', async t => {
  const cases: Array<[string, number]> = [['EUSAGE', 2], ['ENOENT', 3], ['ENOTDIR', 3], ['EACCES', 4], ['EROFS', 4], ['EEXIST', 5],
    ['ENOTEMPTY', 5], ['EISDIR', 5], ['EXDEV', 5], ['EGLUSTER_NOVOLFILE', 6], ['EGLUSTER_NO_QUORUM', 6], ['ENOTCONN', 6],
    ['EGLUSTER_TIMEOUT', 6], ['EIO', 7], ['ENOSPC', 7], ['EGLUSTER_PROTOCOL', 7], ['EGLUSTER_UNSUPPORTED', 8], ['ABORT_ERR', 130], ['EWHATEVER', 1]]
  for (const [code, exit] of cases) t.equal(exitCodeFor(new GlusterError(code, `${code}: x`)), exit, code)
  t.equal(exitCodeFor(new Error('plain')), EXIT.FAILURE)
  t.equal(exitCodeFor(Object.assign(new Error('x'), { name: 'AbortError' })), EXIT.INTERRUPTED)
  t.equal(errorCode('a string'), 'EFAILURE')
})

t.test('one line naming the file and the brick or server', async t => {
  const e = new GlusterError('ENOENT', "ENOENT: lookup '/a/b'", { brick: '10.0.0.1:49152:/b1', path: '/a/b' })
  t.equal(formatError('cat', 'gluster://h/v/a/b', e), "gluster-ts cat: gluster://h/v/a/b: ENOENT: lookup '/a/b' (brick 10.0.0.1:49152:/b1)")
  const p = new GlusterError('EGLUSTER_TIMEOUT', 'GETSPEC timed out\nafter 5 s', { peer: '10.0.0.2:24007' })
  t.equal(formatError('ls', 'gluster://h/v/', p), 'gluster-ts ls: gluster://h/v/: EGLUSTER_TIMEOUT: GETSPEC timed out after 5 s (server 10.0.0.2:24007)')
  const already = new GlusterError('EIO', 'EIO: split brain (brick h:1:/b)', { brick: 'h:1:/b' })
  t.equal(formatError('cat', 'x', already), 'gluster-ts cat: x: EIO: split brain (brick h:1:/b)', 'brick not named twice')
  const nov = new GlusterError('EGLUSTER_NOVOLFILE', 'EGLUSTER_NOVOLFILE: no volfile', {}, {
    cause: new AggregateError([Object.assign(new Error('a'), { address: 'h1:24007', reason: 'refused' }), Object.assign(new Error('b'), { address: 'h2:24007', reason: 'timeout' })]),
  })
  t.equal(formatError('cat', 'u', nov), 'gluster-ts cat: u: EGLUSTER_NOVOLFILE: no volfile [tried: h1:24007 refused, h2:24007 timeout]')
  t.equal(formatError('put', undefined, new CliError('EUSAGE', 'bad')), 'gluster-ts put: EUSAGE: bad')
  const fsErr = Object.assign(new Error("ENOENT: no such file or directory, open '/tmp/x'"), { code: 'ENOENT' })
  t.equal(formatError('cp', '/tmp/x', fsErr), "gluster-ts cp: /tmp/x: ENOENT: no such file or directory, open '/tmp/x'")
})
