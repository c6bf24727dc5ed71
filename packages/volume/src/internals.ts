// @gluster-ts/volume/internals: the machinery under Volume, for tools, tests and new layers. No
// stability promise beyond the package's own version.
//
export * from './index.js'

// The translator graph: every layer implements `Layer` (layer.ts); stack.ts builds them from the
// volfile's graph (graph.ts) over brick connections (brick.ts).
export type {
  Layer, LayerFd, Inode, DirEntry, FopCtx, LookupOpts, CreateOpts, WriteOut, LockTarget, RenameSide, XdataKeys,
} from './layer.js'
export { withSize, landInto, ownCtx, xdataOf, createXdata, newGfid } from './layer.js'
export { buildStack, layersOf } from './stack.js'
export type { StackSettings } from './stack.js'
export { ClientLayer, ClientFd } from './client-layer.js'
export { ReplicateLayer } from './replicate-layer.js'
export type { WriteSettings } from './replicate-layer.js'
export { DistributeLayer } from './distribute.js'
export { ShardLayer } from './shard.js'
export type { ShardInode, ShardSettings } from './shard.js'
export { ShardFd } from './shard-fd.js'
export { DisperseLayer } from './disperse.js'
export { DisperseFd, ecWrite, ecTruncate } from './disperse-fd.js'
export type { EcWriteHost, BrickFdOf } from './disperse-fd.js'
export { EcLock, fanout, needK } from './disperse-lock.js'
export type { LockHost, Halves, Outcome } from './disperse-lock.js'
export * from './ec/index.js'
export { ShardDeleter } from './shard-delete.js'
export * from './shard-format.js'
// volfile and graph description
export { parseVolfile, lexVolfile } from './volfile.js'
export type { Volfile, VolfileXlator } from './volfile.js'
export { buildClientGraph, parseBool, parseSize, DEFAULT_RSYNC_HASH_REGEX, SHARD_MIN_BLOCK, SHARD_MAX_BLOCK, SHARD_DEFAULT_BLOCK } from './graph.js'
export type { ClientGraph, ClientSpec, ReplicateSpec, DisperseSpec, DistributeSpec, ShardSpec, GraphNode, XlatorOptions } from './graph.js'
// bricks
export { BrickClient } from './brick.js'
export type { BrickOptions, BrickState } from './brick.js'
// DHT
export { dmHash, hashName } from './dht-hash.js'
export { decodeLayoutXattr, encodeLayoutXattr, makeLayout, layoutSearch, hashedSubvol, newDirectoryLayout, isLinkto, DHT_XATTR, DHT_LINKTO_XATTR } from './dht-layout.js'
export type { Layout, LayoutRange } from './dht-layout.js'
// AFR
export { superFastHash, computeReadable, readSet, selectChild, localChild, localAddresses } from './afr-policy.js'
export type { ChildReply, Readable, SelectOptions } from './afr-policy.js'
export { Replicate } from './replicate.js'
export type { ReadTiming, ReplicaLookup, CallCtx } from './replicate.js'
export { AfrTxn, TXN_INDEX, changelog } from './afr-txn.js'
export type { TxnType, WriteTiming, Lockee, ChangelogTarget, TxnOptions } from './afr-txn.js'
export { WritableFile, openFlags } from './write-file.js'
// the Volume's parts
export { Resolver, splitPath } from './resolver.js'
export { Namespace } from './namespace.js'
export { FileIO, DEFAULT_READ_CHUNK_BYTES, DEFAULT_READ_WINDOW, DEFAULT_WRITE_CHUNK_BYTES, DEFAULT_WRITE_WINDOW } from './file-io.js'
export { VolumeGraph } from './volume-graph.js'
export { pipeReads } from './pipe.js'
export type { PipeSource } from './pipe.js'
export type { ReadSource } from './read-stream.js'
export type { WriteSink } from './write-stream.js'
export { toInvalidateEvent, namespaceChanged, brickVolfileId, upcallOptionOn, cacheInvalidationEnabled, watchBrick } from './upcall.js'
export { mdataCred, mdataFlags, opTime } from './mdata.js'
