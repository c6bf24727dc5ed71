// Why Volume.connect could not reach enough bricks, said with the most useful code: when every
// brick that is down refused our TLS connection, the error is that EGLUSTER_TLS (naming a brick
// and the TLS reason), not a bare EGLUSTER_NO_QUORUM.
import { GlusterError } from '@gluster-ts/rpc'

interface DownBrick { label: string, lastError: Error | undefined }

/** A failure retrying cannot fix: a TLS refusal or bad certificate material (a handshake that merely timed out may). */
export function refusedForGood (err: Error | undefined): boolean {
  if (!(err instanceof GlusterError)) return false
  return err.code === 'EGLUSTER_TLS_CONFIG' || (err.code === 'EGLUSTER_TLS' && err.tlsReason !== 'timeout')
}

/** `noQuorum`, or the TLS error every down brick failed with (its `cause` is `noQuorum`). */
export function connectFailure (volume: string, down: readonly DownBrick[], noQuorum: GlusterError): GlusterError {
  const errs = down.map(b => b.lastError)
  const first = errs[0]
  if (!(first instanceof GlusterError) || !refusedForGood(first) || !errs.every(e => e instanceof GlusterError && e.code === first.code)) return noQuorum
  // a call's error wraps the connection's: tell that one
  let root: GlusterError = first
  while (root.cause instanceof GlusterError && root.cause.code === first.code) root = root.cause
  const e = new GlusterError(first.code, `${first.code}: volume ${volume}: ${down.length} brick(s) down: ${root.message.replace(/^EGLUSTER_TLS(_CONFIG)?: /, '')}`,
    { syscall: 'connect', path: volume, ...(first.peer !== undefined ? { peer: first.peer } : {}), brick: first.brick ?? down[0]!.label }, { cause: noQuorum })
  return Object.assign(e, { tlsReason: first.tlsReason, rejectedBy: first.rejectedBy })
}
