// @gluster-ts/volume: what applications need. The layers of the client graph, the AFR/DHT/shard
// machinery and the wire-level helpers are in '@gluster-ts/volume/internals' (internals.ts).
export { Volume, FileHandle, Dir } from './volume.js'
export type { VolumeOptions, OpOptions, ReaddirOptions, VolumeEntry } from './volume.js'
export { Stats, Dirent, gfidString } from './stats.js'
export type { StatFs } from './stats.js'
export { VolumeReadStream } from './read-stream.js'
export type { ReadStreamOptions } from './read-stream.js'
export { VolumeWriteStream } from './write-stream.js'
export type { WriteStreamOptions } from './write-stream.js'
export { ReadBufferPool } from './pipe.js'
export type { PipeToOptions, PipeDestination } from './pipe.js'
export type { BrickClient, BrickState } from './brick.js'
export { fetchVolfile, failureReason } from './bootstrap.js'
export type { BootstrapOptions, Bootstrapped, FailureReason } from './bootstrap.js'
export { parseServer, parseServers, GLUSTERD_PORT } from './servers.js'
export type { VolfileServer } from './servers.js'
export type { ClientGraph, XlatorOptions } from './graph.js'
export {
  CHANNEL_BRICK_CONNECT, CHANNEL_BRICK_DISCONNECT, CHANNEL_REPLICA_FAILOVER,
  brickConnectChannel, brickDisconnectChannel, replicaFailoverChannel,
} from './diagnostics.js'
export type { BrickConnectEvent, BrickDisconnectEvent, ReplicaFailoverEvent } from './diagnostics.js'
export type { InvalidateEvent, ResyncEvent, UpcallEvents } from './upcall.js'
export { TlsResolver, ioTlsEnabled, secureAccessDepth, installedGlusterTlsDir, defaultTlsDirs, SECURE_ACCESS_FILE, DEFAULT_TLS_DIRS, TLS_ENV } from './tls.js'
export type { VolumeTlsOptions } from './tls.js'
