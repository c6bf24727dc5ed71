import { errnoName } from './errno.js'

/**
 * Every public failure carries one of these codes. errno-derived codes are the Linux names;
 * client-side failures are EGLUSTER_*. docs/errors.md has one row per code (a test keeps
 * the two in step).
 */
export const ERROR_CODES = [
  // from op_errno (the most common ones; any other known errno keeps its Linux name)
  'EPERM', 'ENOENT', 'EIO', 'EBADF', 'EAGAIN', 'ENOMEM', 'EACCES', 'EBUSY', 'EEXIST', 'EXDEV',
  'ENOTDIR', 'EISDIR', 'EINVAL', 'EFBIG', 'ENOSPC', 'EROFS', 'EMLINK', 'ENAMETOOLONG', 'ENOSYS',
  'ENOTEMPTY', 'ELOOP', 'ENODATA', 'EOPNOTSUPP', 'ENOTCONN', 'ETIMEDOUT', 'ECONNREFUSED', 'ESTALE',
  'EDQUOT', 'EREMOTEIO', 'ERANGE', 'E2BIG',
  // an errno number outside our table
  'EGLUSTER_ERRNO',
  // client side
  'EGLUSTER_TIMEOUT', 'EGLUSTER_CONNECT', 'EGLUSTER_NOVOLFILE', 'EGLUSTER_NO_QUORUM',
  'EGLUSTER_PROTOCOL', 'EGLUSTER_RECORD_TOO_LARGE', 'EGLUSTER_PROG_UNAVAIL',
  'EGLUSTER_PROG_MISMATCH', 'EGLUSTER_PROC_UNAVAIL', 'EGLUSTER_GARBAGE_ARGS',
  'EGLUSTER_SYSTEM_ERR', 'EGLUSTER_RPC_MISMATCH', 'EGLUSTER_AUTH', 'EGLUSTER_CLOSED',
  'EGLUSTER_CONNECTION_LOST', 'ABORT_ERR',
  // server side (RpcServer limits)
  'EGLUSTER_LIMIT',
  // volume layer (packages/volume)
  'EGLUSTER_VOLFILE', 'EGLUSTER_UNSUPPORTED', 'EGLUSTER_PRIVILEGED_PORT',
] as const

export type KnownErrorCode = (typeof ERROR_CODES)[number]
/** Known codes, plus any other Linux errno name derived from op_errno. */
export type GlusterErrorCode = KnownErrorCode | (string & {})

export interface ErrorExtra {
  /** op_errno as it came off the wire (positive); absent for client-side failures */
  errno?: number
  /** the operation, like Node's fs errors: 'stat', 'GETSPEC', 'READ' … */
  syscall?: string
  path?: string
  /** the peer that answered or failed: 'host:port' or 'host:port:/brick/path' */
  peer?: string
  brick?: string
  /** the RPC program/procedure involved, when one was */
  program?: string
  procedure?: string
  xid?: number
}

const kGlusterError = Symbol.for('gluster-ts.GlusterError')

export class GlusterError extends Error {
  override name = 'GlusterError'
  readonly code: GlusterErrorCode
  errno?: number
  syscall?: string
  path?: string
  peer?: string
  brick?: string
  program?: string
  procedure?: string
  xid?: number

  constructor (code: GlusterErrorCode, message: string, extra: ErrorExtra = {}, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    for (const [k, v] of Object.entries(extra)) {
      if (v !== undefined) (this as Record<string, unknown>)[k] = v
    }
  }

  get [kGlusterError] (): true { return true }

  /** instanceof works across two installed copies of this package (as undici does). */
  static override [Symbol.hasInstance] (x: unknown): boolean {
    return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[kGlusterError] === true
  }
}

/** A GlusterError from an op_errno the server returned with op_ret -1. */
export function toGlusterError (opErrno: number, extra: ErrorExtra = {}): GlusterError {
  const name = errnoName(opErrno)
  const code = name ?? 'EGLUSTER_ERRNO'
  const what = [extra.syscall, extra.path !== undefined ? `'${extra.path}'` : undefined].filter(Boolean).join(' ')
  const where = extra.brick ?? extra.peer
  const message = `${code}${name === undefined ? ` (errno ${opErrno})` : ''}${what ? `: ${what}` : ''}${where ? ` (${extra.brick !== undefined ? 'brick' : 'peer'} ${where})` : ''}`
  return new GlusterError(code, message, { ...extra, errno: opErrno })
}

/** A malformed frame or message: the connection that produced it is closed. */
export function protocolError (message: string, extra: ErrorExtra = {}, options?: ErrorOptions): GlusterError {
  return new GlusterError('EGLUSTER_PROTOCOL', message, extra, options)
}

export function abortError (signal: AbortSignal | undefined): unknown {
  if (signal?.reason !== undefined) return signal.reason
  const err = new GlusterError('ABORT_ERR', 'The operation was aborted')
  err.name = 'AbortError'
  return err
}
