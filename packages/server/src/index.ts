export { Brick } from './brick.js'
export type { BrickOptions, BrickStats } from './brick.js'
export { Budget, READDIR_MAX_BYTES, processFdCap, softFdLimit } from './limits.js'
export type { BrickLimits } from './limits.js'
export { BrickStore, SIDECAR_DIR, ROOT_KEY, LINK_MAX, gfidKey, gfidBytes, newGfid, checkName } from './store/brick-store.js'
export type { BrickStoreOptions, ObjectType, InodeAttrs } from './store/brick-store.js'
export {
  XATTR_NAME_MAX, XATTR_SIZE_MAX, XATTR_LIST_MAX, XATTR_INODE_MAX_BYTES, XATTR_INTERNAL_MAX_BYTES,
  XATTR_STORE_MAX_BYTES, XATTR_ENTRY_OVERHEAD_BYTES, isInternalXattr,
} from './store/xattr-limits.js'
export type { XattrLimitOptions } from './store/xattr-limits.js'
export { Journal, parseLine, encodeLine, DEFAULT_COMPACT_EVERY, DEFAULT_COMPACT_LOG_BYTES } from './store/journal.js'
export type { JournalOptions, JournalRecovery, JournalRecord, JournalState } from './store/journal.js'
export { FopError } from './store/fop-error.js'
export { InodeLocks, EntryLocks, PosixLocks, lockRange, RDLCK, WRLCK, UNLCK } from './locks.js'
export type { LockOwner, RangeLock, EntryLock } from './locks.js'
export { Glusterd } from './glusterd.js'
export type { GlusterdOptions } from './glusterd.js'
export { clientVolfile, newVolumeConfig, validateVolume, isArbiterBrick, brickAuth, addCredentials, DEFAULT_AUTH_ALLOW } from './volfile.js'
export type { VolumeConfig, BrickConfig } from './volfile.js'
export { startCluster, LOOPBACK_AUTH_ALLOW } from './cluster.js'
export type { StartClusterOptions, Cluster } from './cluster.js'
export {
  authenticate, addrAuth, loginAuth, authPeer, fnmatch, isTrustedCaller, authHostNames, resolveAuthHosts, validateAuthList, parseBoolean,
} from './auth.js'
export type { AuthConfig, AuthPeer, AuthDecision, AuthResult, AuthenticateOptions } from './auth.js'
