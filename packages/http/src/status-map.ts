// GlusterError codes → HTTP statuses. The only place that knows both (style.md §4).

export interface MappedStatus {
  status: number
  /** send Retry-After (the cluster is expected back) */
  retry: boolean
}

const MAP: Record<string, MappedStatus> = {
  ENOENT: { status: 404, retry: false },
  ENOTDIR: { status: 404, retry: false },
  ELOOP: { status: 404, retry: false },
  ESTALE: { status: 404, retry: false },
  ENAMETOOLONG: { status: 414, retry: false },
  EACCES: { status: 403, retry: false },
  EPERM: { status: 403, retry: false },
  EISDIR: { status: 403, retry: false },
  ENOTCONN: { status: 503, retry: true },
  ECONNREFUSED: { status: 503, retry: true },
  EGLUSTER_NO_QUORUM: { status: 503, retry: true },
  EGLUSTER_CONNECT: { status: 503, retry: true },
  EGLUSTER_CONNECTION_LOST: { status: 503, retry: true },
  EGLUSTER_NOVOLFILE: { status: 503, retry: true },
  EGLUSTER_CLOSED: { status: 503, retry: true },
  EAGAIN: { status: 503, retry: true },
  EBUSY: { status: 503, retry: true },
  EGLUSTER_TIMEOUT: { status: 504, retry: false },
  ETIMEDOUT: { status: 504, retry: false },
  // writes
  EEXIST: { status: 409, retry: false },
  ENOTEMPTY: { status: 409, retry: false },
  ENOSPC: { status: 507, retry: false },
  EDQUOT: { status: 507, retry: false },
  EFBIG: { status: 413, retry: false },
  EROFS: { status: 403, retry: false },
}

export function statusForError (err: unknown): MappedStatus {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined
  if (typeof code === 'string') {
    const m = MAP[code]
    if (m !== undefined) return m
    // brick I/O errors and split brain: the gateway is fine, the storage is not
    if (code === 'EIO' || code === 'EREMOTEIO') return { status: 502, retry: false }
  }
  return { status: 500, retry: false }
}

/** The codes with a fixed mapping (for docs/http.md's table and its test). */
export const MAPPED_CODES: Readonly<Record<string, MappedStatus>> = MAP
