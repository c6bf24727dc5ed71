import dc from 'node:diagnostics_channel'

/**
 * Volume-level events on node:diagnostics_channel (style.md §6). The library never logs; a CLI
 * `--trace`, a metrics exporter or a test subscribes. Messages are built only when a channel has
 * subscribers.
 *
 * - `gluster-ts:brick:connect`: a brick connection finished its handshake (SETVOLUME) and is up.
 * - `gluster-ts:brick:disconnect`: an up brick connection was lost (socket closed, PING not
 *   answered within ping-timeout) or closed by `close()`.
 * - `gluster-ts:replica:failover`: a replicated read was sent to another copy, because the
 *   previous one failed (`reason: 'error'`) or had not answered within hedgeAfterMs (`'hedge'`).
 */
export const CHANNEL_BRICK_CONNECT = 'gluster-ts:brick:connect'
export const CHANNEL_BRICK_DISCONNECT = 'gluster-ts:brick:disconnect'
export const CHANNEL_REPLICA_FAILOVER = 'gluster-ts:replica:failover'

export const brickConnectChannel = dc.channel(CHANNEL_BRICK_CONNECT)
export const brickDisconnectChannel = dc.channel(CHANNEL_BRICK_DISCONNECT)
export const replicaFailoverChannel = dc.channel(CHANNEL_REPLICA_FAILOVER)

export interface BrickConnectEvent {
  /** protocol/client name in the volfile ('vol1-client-0') */
  name: string
  /** 'host:port:/brick/path' */
  brick: string
  /** SETVOLUME count of this BrickClient (1 on the first connect) */
  generation: number
  /** connection attempts that failed before this one */
  failures: number
}

export interface BrickDisconnectEvent {
  name: string
  brick: string
  generation: number
  /** why: the socket error, the ping-timeout error; undefined when close() ended it */
  error: Error | undefined
  /** true when the BrickClient is closing (no reconnect follows) */
  closing: boolean
}

export interface ReplicaFailoverEvent {
  /** cluster/replicate name ('vol1-replicate-0') */
  replicate: string
  /** the fop ('read', 'readlink', 'stat' …) */
  syscall: string
  /** the file's gfid, 'xxxxxxxx-xxxx-…' */
  gfid: string
  path: string | undefined
  /** 'error': the previous copy failed; 'hedge': it had not answered within hedgeAfterMs */
  reason: 'error' | 'hedge'
  /** child index and brick label of the copy given up on (or raced, for a hedge) */
  from: number
  fromBrick: string
  /** the copy tried now */
  to: number
  toBrick: string
  /** the previous copy's error (reason 'error') */
  error: unknown
}
