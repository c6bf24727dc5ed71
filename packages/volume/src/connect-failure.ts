// Why Volume.connect could not reach enough bricks, said with the most useful code: when a brick
// that is down refused us (its auth at SETVOLUME, our source port, or TLS), the error is that
// brick's code (EGLUSTER_AUTH, EGLUSTER_PRIVILEGED_PORT, EGLUSTER_TLS naming the TLS reason…), not
// a bare EGLUSTER_NO_QUORUM: retrying will not change the answer.
import { GlusterError } from '@gluster-ts/rpc'

interface DownBrick { label: string, lastError: Error | undefined }

/**
 * A refusal retrying cannot fix: the brick's auth said no, or TLS refused us, or our own
 * certificate material is bad. A TLS handshake that merely timed out may succeed next time.
 */
export function refusedForGood (err: Error | undefined): boolean {
  if (!(err instanceof GlusterError)) return false
  switch (err.code) {
    case 'EGLUSTER_AUTH': case 'EGLUSTER_PRIVILEGED_PORT': case 'EGLUSTER_TLS_CONFIG': return true
    case 'EGLUSTER_TLS': return err.tlsReason !== 'timeout'
    default: return false
  }
}

/**
 * `noQuorum`, or, when a brick that is down refused us for good, an error with that brick's code,
 * naming it (and its TLS reason), whose `cause` is the brick's error. `why` tells every short set.
 */
export function connectFailure (volume: string, down: readonly DownBrick[], why: string, noQuorum: GlusterError): GlusterError {
  const refused = down.find(b => refusedForGood(b.lastError))
  if (refused === undefined) return noQuorum
  const first = refused.lastError as GlusterError
  const e = new GlusterError(first.code, `volume ${volume}: bricks refused the client: ${why}`,
    { syscall: 'connect', path: volume, peer: first.peer, brick: first.brick ?? refused.label }, { cause: first })
  return Object.assign(e, { tlsReason: first.tlsReason, rejectedBy: first.rejectedBy })
}
