// The wire carries Linux (asm-generic) errno numbers: GlusterFS converts through its
// GF_ERROR_CODE table, which equals Linux numbering (see docs/protocol.md, "errno").
// We keep our own fixed table instead of os.constants.errno, whose numbers differ on
// macOS and Windows.

export const ERRNO_NAMES: Readonly<Record<number, string>> = Object.freeze({
  1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 4: 'EINTR', 5: 'EIO', 6: 'ENXIO', 7: 'E2BIG', 8: 'ENOEXEC',
  9: 'EBADF', 10: 'ECHILD', 11: 'EAGAIN', 12: 'ENOMEM', 13: 'EACCES', 14: 'EFAULT', 15: 'ENOTBLK',
  16: 'EBUSY', 17: 'EEXIST', 18: 'EXDEV', 19: 'ENODEV', 20: 'ENOTDIR', 21: 'EISDIR', 22: 'EINVAL',
  23: 'ENFILE', 24: 'EMFILE', 25: 'ENOTTY', 26: 'ETXTBSY', 27: 'EFBIG', 28: 'ENOSPC', 29: 'ESPIPE',
  30: 'EROFS', 31: 'EMLINK', 32: 'EPIPE', 33: 'EDOM', 34: 'ERANGE', 35: 'EDEADLK', 36: 'ENAMETOOLONG',
  37: 'ENOLCK', 38: 'ENOSYS', 39: 'ENOTEMPTY', 40: 'ELOOP', 42: 'ENOMSG', 43: 'EIDRM', 52: 'EBADE',
  59: 'EBFONT', 60: 'ENOSTR', 61: 'ENODATA', 62: 'ETIME', 63: 'ENOSR', 67: 'ENOLINK', 71: 'EPROTO',
  74: 'EBADMSG', 75: 'EOVERFLOW', 77: 'EBADFD', 84: 'EILSEQ', 87: 'EUSERS', 88: 'ENOTSOCK',
  90: 'EMSGSIZE', 92: 'ENOPROTOOPT', 95: 'EOPNOTSUPP', 97: 'EAFNOSUPPORT', 98: 'EADDRINUSE',
  99: 'EADDRNOTAVAIL', 100: 'ENETDOWN', 101: 'ENETUNREACH', 103: 'ECONNABORTED', 104: 'ECONNRESET',
  105: 'ENOBUFS', 106: 'EISCONN', 107: 'ENOTCONN', 110: 'ETIMEDOUT', 111: 'ECONNREFUSED',
  112: 'EHOSTDOWN', 113: 'EHOSTUNREACH', 114: 'EALREADY', 115: 'EINPROGRESS', 116: 'ESTALE',
  117: 'EUCLEAN', 121: 'EREMOTEIO', 122: 'EDQUOT', 125: 'ECANCELED', 524: 'ENOTSUPP',
})

const NUMBERS: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(Object.entries(ERRNO_NAMES).map(([n, name]) => [name, Number(n)])),
)

/** Name of a wire errno ('ENOENT' for 2); undefined when the number is not in the table. */
export function errnoName (errno: number): string | undefined {
  return ERRNO_NAMES[errno]
}

/** Wire number of an errno name ('ENOENT' → 2). ENOTSUP is an alias of EOPNOTSUPP on Linux. */
export function errnoNumber (name: string): number | undefined {
  if (name === 'ENOTSUP') return 95
  if (name === 'ENOATTR') return 61
  return NUMBERS[name]
}
