// One line per failure, a stable code, and an exit status per kind of failure (docs/cli.md
// "Exit status"). Volume errors are GlusterErrors (docs/errors.md); local files fail with Node's
// fs errors, which carry the same Linux names; the CLI's own failures are CliErrors.

/** Codes the CLI itself raises (everything else is a GlusterError or Node error code). */
export type CliErrorCode =
  | 'EUSAGE'        // bad arguments
  | 'EXDEV'         // mv between volumes
  | 'ENOENT' | 'EEXIST' | 'EISDIR' | 'ENOTDIR' | 'EINVAL' | 'EPERM' | 'EBUSY'
  | 'EGLUSTER_UNSUPPORTED'

export class CliError extends Error {
  override name = 'CliError'
  readonly code: CliErrorCode
  path?: string
  constructor (code: CliErrorCode, message: string, extra: { path?: string } = {}) {
    super(message)
    this.code = code
    if (extra.path !== undefined) this.path = extra.path
  }
}

/** Exit statuses, one per kind of failure. */
export const EXIT = {
  OK: 0,
  /** any failure not listed below */
  FAILURE: 1,
  /** bad command line: unknown flag, missing argument, malformed URL */
  USAGE: 2,
  /** ENOENT, ENOTDIR: the file or a directory on its path does not exist */
  NOT_FOUND: 3,
  /** EACCES, EPERM, EROFS: refused */
  PERMISSION: 4,
  /** EEXIST, ENOTEMPTY, EISDIR, EXDEV, EINVAL…: the operation does not fit what is there */
  CONFLICT: 5,
  /** no volfile server, no quorum, brick or server unreachable, timeouts */
  UNAVAILABLE: 6,
  /** EIO (split brain…), ENOSPC, EDQUOT, protocol errors: the data could not be moved */
  IO: 7,
  /** a volume type or feature gluster-ts does not implement (disperse, shard…) */
  UNSUPPORTED: 8,
  /** SIGINT / aborted */
  INTERRUPTED: 130,
} as const

const BY_CODE: Record<string, number> = {
  EUSAGE: EXIT.USAGE,
  ENOENT: EXIT.NOT_FOUND,
  ENOTDIR: EXIT.NOT_FOUND,
  ENAMETOOLONG: EXIT.NOT_FOUND,
  ELOOP: EXIT.NOT_FOUND,
  EACCES: EXIT.PERMISSION,
  EPERM: EXIT.PERMISSION,
  EROFS: EXIT.PERMISSION,
  EEXIST: EXIT.CONFLICT,
  ENOTEMPTY: EXIT.CONFLICT,
  EISDIR: EXIT.CONFLICT,
  EXDEV: EXIT.CONFLICT,
  EINVAL: EXIT.CONFLICT,
  EBUSY: EXIT.CONFLICT,
  ENOTCONN: EXIT.UNAVAILABLE,
  ETIMEDOUT: EXIT.UNAVAILABLE,
  ECONNREFUSED: EXIT.UNAVAILABLE,
  EHOSTUNREACH: EXIT.UNAVAILABLE,
  ENOTFOUND: EXIT.UNAVAILABLE,
  EGLUSTER_TIMEOUT: EXIT.UNAVAILABLE,
  EGLUSTER_CONNECT: EXIT.UNAVAILABLE,
  EGLUSTER_NOVOLFILE: EXIT.UNAVAILABLE,
  EGLUSTER_NO_QUORUM: EXIT.UNAVAILABLE,
  EGLUSTER_CLOSED: EXIT.UNAVAILABLE,
  EGLUSTER_CONNECTION_LOST: EXIT.UNAVAILABLE,
  EGLUSTER_AUTH: EXIT.UNAVAILABLE,
  EGLUSTER_PRIVILEGED_PORT: EXIT.UNAVAILABLE,
  EGLUSTER_TLS: EXIT.UNAVAILABLE,
  EGLUSTER_TLS_CONFIG: EXIT.UNAVAILABLE,
  EIO: EXIT.IO,
  ENOSPC: EXIT.IO,
  EDQUOT: EXIT.IO,
  EFBIG: EXIT.IO,
  EREMOTEIO: EXIT.IO,
  ESTALE: EXIT.IO,
  EGLUSTER_PROTOCOL: EXIT.IO,
  EGLUSTER_RECORD_TOO_LARGE: EXIT.IO,
  EGLUSTER_VOLFILE: EXIT.IO,
  EGLUSTER_UNSUPPORTED: EXIT.UNSUPPORTED,
  EOPNOTSUPP: EXIT.UNSUPPORTED,
  ENOSYS: EXIT.UNSUPPORTED,
  ABORT_ERR: EXIT.INTERRUPTED,
}

interface ErrorLike { code?: unknown, message?: unknown, brick?: unknown, peer?: unknown, path?: unknown, name?: unknown }

/** The stable code of any error ('EFAILURE' when it has none). */
export function errorCode (err: unknown): string {
  const e = err as ErrorLike | null
  if (e !== null && typeof e === 'object') {
    if (typeof e.code === 'string' && e.code !== '') return e.code
    if (e.name === 'AbortError') return 'ABORT_ERR'
  }
  return 'EFAILURE'
}

export function exitCodeFor (err: unknown): number {
  return BY_CODE[errorCode(err)] ?? EXIT.FAILURE
}

/**
 * `gluster-ts cat: gluster://h/vol/a: ENOENT: no such file or directory, stat '/a' (brick h:49152:/b)`.
 * Always one line; the code leads the message; the brick or server is named when the error names one.
 */
export function formatError (command: string, target: string | undefined, err: unknown): string {
  const e = (err !== null && typeof err === 'object' ? err : { message: String(err) }) as ErrorLike
  const code = errorCode(err)
  let msg = typeof e.message === 'string' && e.message !== '' ? e.message : String(err)
  if (!msg.startsWith(code) && code !== 'EFAILURE') msg = `${code}: ${msg}`
  const where = typeof e.brick === 'string' ? `brick ${e.brick}` : typeof e.peer === 'string' ? `server ${e.peer}` : undefined
  if (where !== undefined && !msg.includes(where.slice(where.indexOf(' ') + 1))) msg += ` (${where})`
  // EGLUSTER_NOVOLFILE's cause lists each server tried: name them on the same line
  const cause = (err as { cause?: unknown } | null)?.cause
  if (code === 'EGLUSTER_NOVOLFILE' && cause instanceof AggregateError) {
    const tried = cause.errors.map(x => {
      const a = x as { address?: unknown, reason?: unknown }
      return typeof a.address === 'string' ? `${a.address}${typeof a.reason === 'string' ? ` ${a.reason}` : ''}` : undefined
    }).filter((x): x is string => x !== undefined)
    if (tried.length > 0 && !msg.includes(tried[0]!)) msg += ` [tried: ${tried.join(', ')}]`
  }
  const head = target !== undefined ? `gluster-ts ${command}: ${target}: ` : `gluster-ts ${command}: `
  return (head + msg).replace(/\s*\n\s*/g, ' ')
}
