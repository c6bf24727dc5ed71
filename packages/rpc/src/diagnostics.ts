import dc from 'node:diagnostics_channel'

/**
 * Tracing through node:diagnostics_channel, as undici does. The library never logs; a CLI
 * `--trace`, a metrics exporter or a test is a subscriber. Messages are built only when a
 * channel has subscribers.
 *
 * - `gluster-ts:rpc:call:start` / `gluster-ts:rpc:call:end`: one client call. The SAME object is
 *   published on start and (completed) on end, so a subscriber can correlate by identity.
 * - `gluster-ts:rpc:server:call`: one call handled by an RpcServer, published when it is answered
 *   (or dropped).
 * - `gluster-ts:rpc:callback`: a server-initiated CALL (GlusterFS callback) that an RpcClient
 *   received, published after its handler ran.
 */
export const CHANNEL_CALL_START = 'gluster-ts:rpc:call:start'
export const CHANNEL_CALL_END = 'gluster-ts:rpc:call:end'
export const CHANNEL_SERVER_CALL = 'gluster-ts:rpc:server:call'
export const CHANNEL_CALLBACK = 'gluster-ts:rpc:callback'

export const callStartChannel = dc.channel(CHANNEL_CALL_START)
export const callEndChannel = dc.channel(CHANNEL_CALL_END)
export const serverCallChannel = dc.channel(CHANNEL_SERVER_CALL)
export const callbackChannel = dc.channel(CHANNEL_CALLBACK)

/** A client call, as published on `gluster-ts:rpc:call:start` and `:end`. */
export interface RpcCallEvent {
  peer: string
  /** program and procedure names ('GlusterFS Handshake', 'GETSPEC') */
  program: string
  procedure: string
  prog: number
  vers: number
  proc: number
  xid: number
  /** set on end: 'ok' = an accepted SUCCESS reply that decoded, otherwise 'error' */
  status?: 'ok' | 'error'
  /** set on end when the result carries op_ret < 0 (a Gluster-level failure of a successful RPC) */
  op_ret?: number
  op_errno?: number
  /** set on end when status is 'error' */
  error?: unknown
  /** set on end: milliseconds from start to end */
  latencyMs?: number
}

/** A server-side call, as published on `gluster-ts:rpc:server:call`. */
export interface RpcServerCallEvent {
  peer: string
  /** names are absent when the program or procedure is unknown */
  program?: string
  procedure?: string
  prog: number
  vers: number
  proc: number
  xid: number
  status: 'ok' | 'error'
  /** the RPC answer sent: 'SUCCESS', 'PROG_UNAVAIL' … 'RPC_MISMATCH', 'AUTH_ERROR', or 'none' (one-way or NO_REPLY) */
  reply: string
  op_ret?: number
  op_errno?: number
  /** what the handler threw, or why the call was refused */
  error?: unknown
  latencyMs: number
}

/** A server-initiated CALL received by a client, as published on `gluster-ts:rpc:callback`. */
export interface RpcCallbackEvent {
  peer: string
  program?: string
  procedure?: string
  prog: number
  vers: number
  proc: number
  xid: number
  /** 'ok' = handled; 'unhandled' = no handler registered; 'error' = undecodable args or the handler threw */
  status: 'ok' | 'unhandled' | 'error'
  error?: unknown
}

/** Reads op_ret/op_errno off a result object (gf_common_rsp and every gfx_* reply have them). */
export function opStatus (result: unknown): { op_ret: number, op_errno: number } | undefined {
  if (typeof result !== 'object' || result === null) return undefined
  const r = result as { op_ret?: unknown, op_errno?: unknown }
  if (typeof r.op_ret !== 'number' || r.op_ret >= 0) return undefined
  return { op_ret: r.op_ret, op_errno: typeof r.op_errno === 'number' ? r.op_errno : 0 }
}

export type TraceEvent =
  | { type: 'call:start', event: RpcCallEvent }
  | { type: 'call:end', event: RpcCallEvent }
  | { type: 'server:call', event: RpcServerCallEvent }
  | { type: 'callback', event: RpcCallbackEvent }

/**
 * Subscribe to every rpc channel; returns the function that unsubscribes. For a quick trace:
 * `const stop = trace(e => console.error(e.type, e.event))`.
 */
export function trace (callback: (e: TraceEvent) => void): () => void {
  const onStart = (m: unknown): void => { callback({ type: 'call:start', event: m as RpcCallEvent }) }
  const onEnd = (m: unknown): void => { callback({ type: 'call:end', event: m as RpcCallEvent }) }
  const onServer = (m: unknown): void => { callback({ type: 'server:call', event: m as RpcServerCallEvent }) }
  const onCallback = (m: unknown): void => { callback({ type: 'callback', event: m as RpcCallbackEvent }) }
  dc.subscribe(CHANNEL_CALL_START, onStart)
  dc.subscribe(CHANNEL_CALL_END, onEnd)
  dc.subscribe(CHANNEL_SERVER_CALL, onServer)
  dc.subscribe(CHANNEL_CALLBACK, onCallback)
  let done = false
  return () => {
    if (done) return
    done = true
    dc.unsubscribe(CHANNEL_CALL_START, onStart)
    dc.unsubscribe(CHANNEL_CALL_END, onEnd)
    dc.unsubscribe(CHANNEL_SERVER_CALL, onServer)
    dc.unsubscribe(CHANNEL_CALLBACK, onCallback)
  }
}
