// The messages between the suite and its agents (one child process per identity, see agent.ts):
// one JSON object per line each way. A request names one system call (or the coreutils command
// that stands in for one Node lacks); the reply carries its result or the errno name.

export type FileType = 'regular' | 'dir' | 'fifo' | 'block' | 'char' | 'socket' | 'symlink'

export const OPEN_FLAGS = ['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_CREAT', 'O_EXCL', 'O_TRUNC', 'O_APPEND',
  'O_NONBLOCK', 'O_NOFOLLOW', 'O_DIRECTORY', 'O_NOCTTY'] as const
export type OpenFlag = (typeof OPEN_FLAGS)[number]

/**
 * A time for `touch` (utimensat): 'now' (UTIME_NOW), 'omit' (UTIME_OMIT), or seconds since the
 * epoch with up to 9 decimals as a string ("1900000000.123456789"), so no nanosecond is lost to a
 * double on the way.
 */
export type TimeSpec = 'now' | 'omit' | string

export type Op =
  | { op: 'stat' | 'lstat' | 'rmdir' | 'unlink' | 'readlink' | 'readdir', path: string }
  | { op: 'fstat' | 'close' | 'fsync', fd: number }
  | { op: 'chmod', path: string, mode: number }
  | { op: 'fchmod', fd: number, mode: number }
  | { op: 'chown' | 'lchown', path: string, uid: number, gid: number }
  | { op: 'fchown', fd: number, uid: number, gid: number }
  | { op: 'mkdir', path: string, mode: number }
  | { op: 'rename' | 'link', from: string, to: string }
  | { op: 'symlink', target: string, path: string }
  /** resolves with an fd number that later requests to the same agent use */
  | { op: 'open', path: string, flags: OpenFlag[], mode?: number }
  /** open, then close at once: resolves with null */
  | { op: 'openclose', path: string, flags: OpenFlag[], mode?: number }
  | { op: 'write', fd: number, data: string, position?: number }
  | { op: 'read', fd: number, length: number, position?: number }
  | { op: 'truncate', path: string, length: number }
  | { op: 'ftruncate', fd: number, length: number }
  /** whole seconds through Node (utimensat with explicit times; reports ENOENT, unlike touch -c) */
  | { op: 'utimes' | 'lutimes', path: string, atime: number, mtime: number }
  /** utimensat through coreutils touch -c: per-field UTIME_NOW/UTIME_OMIT and nanoseconds */
  | { op: 'touch', path: string, atime: TimeSpec, mtime: TimeSpec, followSymlinks: boolean }
  | { op: 'mkfifo', path: string, mode: number }
  | { op: 'mknod', path: string, kind: 'p' | 'c' | 'b', mode: number, major?: number, minor?: number }
  /** a UNIX socket bound to path; the listener stays open until closeAll */
  | { op: 'socket', path: string }
  /** posix_fallocate(3) through util-linux fallocate --posix (which opens the file O_RDWR|O_CREAT) */
  | { op: 'fallocate', path: string, offset: number, length: number }
  | { op: 'access', path: string, mode: number }
  /** close every fd and socket listener this agent holds */
  | { op: 'closeAll' }

export interface Request {
  id: number
  op: Op
  /** directory to run the call in (relative paths then start there); the agent goes back to / after */
  cwd?: string
  /** umask for this call (the agent's default is 0) */
  umask?: number
}

/** What stat/lstat/fstat return: the fields a conformance check looks at, times in nanoseconds. */
export interface StatInfo {
  type: FileType
  /** permission bits with suid/sgid/sticky (mode & 07777) */
  perm: number
  uid: number
  gid: number
  nlink: number
  size: number
  ino: string
  rdevMajor: number
  rdevMinor: number
  /** nanoseconds since the epoch, as decimal strings (bigint does not survive JSON) */
  atime: string
  mtime: string
  ctime: string
}

export type Reply =
  | { id: number, ok: true, value: unknown }
  | { id: number, ok: false, code: string, message: string }

export interface Identity {
  uid: number
  gid: number
  /** supplementary groups; absent: just [gid] (root keeps what it has) */
  groups?: number[]
}

export function identityKey (who: Identity): string {
  return `${who.uid}:${who.gid}:${(who.groups ?? []).join(',')}`
}
