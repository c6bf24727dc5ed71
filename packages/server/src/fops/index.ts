// The fop program's procedure table: every procedure the brick serves, by name (libnfs's
// service_proc tables). Procedures not listed here answer PROC_UNAVAIL; the ones listed as
// `enosys` are in the program but not served by this brick.
import type { FopTable } from './reply.js'
import { failure } from './reply.js'
import * as entry from './entry.js'
import * as inode from './inode.js'
import * as fd from './fd.js'
import * as xattr from './xattr.js'
import * as locks from './locks.js'

const enosys = async (): Promise<any> => failure(38)

export const FOPS: FopTable = {
  LOOKUP: entry.lookup,
  CREATE: entry.create,
  MKDIR: entry.mkdir,
  MKNOD: entry.mknod,
  SYMLINK: entry.symlink,
  LINK: entry.link,
  UNLINK: entry.unlink,
  RMDIR: entry.rmdir,
  RENAME: entry.rename,

  STAT: inode.stat,
  SETATTR: inode.setattr,
  TRUNCATE: inode.truncate,
  ACCESS: inode.access,
  READLINK: inode.readlink,
  STATFS: inode.statfs,

  OPEN: fd.open,
  READ: fd.read,
  WRITE: fd.write,
  FLUSH: fd.flush,
  FSYNC: fd.fsync,
  RELEASE: fd.release,
  OPENDIR: fd.opendir,
  READDIR: fd.readdir,
  READDIRP: fd.readdirp,
  RELEASEDIR: fd.releasedir,
  FSYNCDIR: fd.fsyncdir,
  FSTAT: fd.fstat,
  FSETATTR: fd.fsetattr,
  FTRUNCATE: fd.ftruncate,
  FALLOCATE: fd.fallocate,
  DISCARD: fd.discard,
  ZEROFILL: fd.zerofill,
  SEEK: fd.seek,

  GETXATTR: xattr.getxattr,
  FGETXATTR: xattr.fgetxattr,
  SETXATTR: xattr.setxattr,
  FSETXATTR: xattr.fsetxattr,
  REMOVEXATTR: xattr.removexattr,
  FREMOVEXATTR: xattr.fremovexattr,
  XATTROP: xattr.xattrop,
  FXATTROP: xattr.fxattrop,

  INODELK: locks.inodelk,
  FINODELK: locks.finodelk,
  ENTRYLK: locks.entrylk,
  FENTRYLK: locks.fentrylk,
  LK: locks.lk,

  RCHECKSUM: enosys,
  IPC: enosys,
  LEASE: enosys,
  GETACTIVELK: enosys,
  SETACTIVELK: enosys,
  ICREATE: enosys,
  NAMELINK: enosys,
  COPY_FILE_RANGE: enosys,
}
