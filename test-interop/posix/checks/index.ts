// Every check of the suite: the path errors of each call first, then each group's own.
import type { Check } from '../check.js'
import { CHMOD_CHECKS } from './chmod.js'
import { CHOWN_CHECKS } from './chown.js'
import { FALLOCATE_CHECKS } from './fallocate.js'
import { GRANULAR_CHECKS } from './granular.js'
import { LINK_CHECKS } from './link.js'
import { MKDIR_CHECKS } from './mkdir.js'
import { MKFIFO_CHECKS } from './mkfifo.js'
import { MKNOD_CHECKS } from './mknod.js'
import { OPEN_CHECKS } from './open.js'
import { PATH_CHECKS } from './paths.js'
import { RENAME_CHECKS } from './rename.js'
import { RMDIR_CHECKS } from './rmdir.js'
import { SYMLINK_CHECKS } from './symlink.js'
import { TRUNCATE_CHECKS } from './truncate.js'
import { UNLINK_CHECKS } from './unlink.js'
import { UTIMENSAT_CHECKS } from './utimensat.js'

export const ALL_CHECKS: readonly Check[] = [
  ...PATH_CHECKS, ...CHMOD_CHECKS, ...CHOWN_CHECKS, ...LINK_CHECKS, ...MKDIR_CHECKS, ...MKFIFO_CHECKS, ...MKNOD_CHECKS,
  ...OPEN_CHECKS, ...RENAME_CHECKS, ...RMDIR_CHECKS, ...SYMLINK_CHECKS, ...TRUNCATE_CHECKS, ...UNLINK_CHECKS,
  ...UTIMENSAT_CHECKS, ...FALLOCATE_CHECKS, ...GRANULAR_CHECKS,
]
