import net from 'node:net'
import tls from 'node:tls'
import { GlusterError, abortError } from './errors.js'
import { classifyTlsError, intermediateCount, certCommonName, tlsError, type TlsContext } from './tls.js'

/**
 * Opening a byte stream to a peer. No protocol knowledge lives here: the result is a connected
 * net.Socket (TCP or unix, or a tls.TLSSocket over TCP) and every failure is a GlusterError
 * naming the peer.
 */

export type PeerAddress =
  | { host: string, port: number }
  | { path: string }

/**
 * Parse 'host:port', '[v6]:port' or 'unix:/path'. A bare host (or '[v6]') takes `defaultPort`
 * when one is given. Throws TypeError on anything else.
 */
export function parseAddress (address: string, defaultPort?: number): PeerAddress {
  if (address.startsWith('unix:')) {
    const path = address.slice(5)
    if (path.length === 0) throw new TypeError(`invalid address '${address}': empty unix socket path`)
    return { path }
  }
  let host: string
  let portText: string | undefined
  if (address.startsWith('[')) {
    const close = address.indexOf(']')
    if (close < 0) throw new TypeError(`invalid address '${address}': missing ']'`)
    host = address.slice(1, close)
    const tail = address.slice(close + 1)
    if (tail.length > 0) {
      if (!tail.startsWith(':')) throw new TypeError(`invalid address '${address}'`)
      portText = tail.slice(1)
    }
  } else {
    const colon = address.lastIndexOf(':')
    if (colon >= 0 && address.indexOf(':') !== colon) {
      throw new TypeError(`invalid address '${address}': put an IPv6 address in brackets, as [${address}]:port`)
    }
    host = colon >= 0 ? address.slice(0, colon) : address
    portText = colon >= 0 ? address.slice(colon + 1) : undefined
  }
  if (host.length === 0) throw new TypeError(`invalid address '${address}': empty host`)
  let port: number
  if (portText === undefined) {
    if (defaultPort === undefined) throw new TypeError(`invalid address '${address}': no port`)
    port = defaultPort
  } else {
    if (!/^\d{1,5}$/.test(portText)) throw new TypeError(`invalid address '${address}': bad port '${portText}'`)
    port = Number(portText)
  }
  if (port < 1 || port > 65535) throw new TypeError(`invalid address '${address}': port ${port} out of range`)
  return { host, port }
}

/** The inverse of parseAddress: 'host:port', '[v6]:port' or 'unix:/path'. */
export function formatAddress (a: PeerAddress): string {
  if ('path' in a) return `unix:${a.path}`
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`
}

export interface ConnectOptions {
  signal?: AbortSignal
  /** Deadline for the whole connect (DNS + TCP handshake), in ms. Default 30 000; 0 disables. */
  timeoutMs?: number
  /** Local address to bind before connecting (TCP only). */
  localAddress?: string
  /** Local port to bind before connecting (TCP only). */
  localPort?: number
  /**
   * Bind a privileged source port, trying 1023 down to 512 (GlusterFS's "secure port" habit;
   * bricks with server.allow-insecure off insist on it). Needs root or CAP_NET_BIND_SERVICE.
   */
  localPortBelow1024?: boolean
  /** TCP_NODELAY; default true (RPC is request/response). */
  noDelay?: boolean
  /** SO_KEEPALIVE with this initial delay in ms; default off. */
  keepAliveInitialDelayMs?: number
  /** Custom DNS lookup, passed to net.connect. */
  lookup?: net.LookupFunction
  /**
   * Read the socket into buffers the caller supplies (net.connect's `onread`): no 'data' events,
   * `callback` sees each read. RpcClient.connect uses it to read large records in place.
   */
  onread?: net.OnReadOpts
  /**
   * Speak TLS on a TCP connection (ignored for unix sockets, as GlusterFS does): the connection
   * resolves once the handshake is done and the server's certificate verified against the
   * context's CA list and certificate depth (no host name check: GlusterFS does none). A
   * handshake failure is EGLUSTER_TLS (tls.ts: `tlsReason`, `rejectedBy`); the deadline covers
   * the handshake too.
   */
  tls?: TlsContext
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 30_000

/** Errors that mean "try the next privileged port". */
const RETRY_BIND = new Set(['EADDRINUSE', 'EADDRNOTAVAIL'])

/**
 * Connect to 'host:port', '[v6]:port' or 'unix:/path'. Resolves with the connected socket.
 * Rejects with EGLUSTER_CONNECT (refused, unreachable, DNS, no such socket file), EGLUSTER_TIMEOUT
 * (deadline passed), or the abort reason (ABORT_ERR when the signal has none). Each error names
 * the peer and keeps the system error as `cause`.
 */
export async function connect (address: string, opts: ConnectOptions = {}): Promise<net.Socket> {
  const peer = parseAddress(address)
  const label = formatAddress(peer)
  const { signal } = opts
  if (signal?.aborted === true) throw abortError(signal)
  if (opts.localPortBelow1024 === true && !('path' in peer)) {
    let lastErr: unknown
    for (let port = 1023; port >= 512; port--) {
      try {
        return await connectOnce(peer, label, { ...opts, localPort: port })
      } catch (err) {
        const sys = (err as { cause?: { code?: unknown } }).cause?.code
        if (err instanceof GlusterError && err.code === 'EGLUSTER_CONNECT' && typeof sys === 'string' && RETRY_BIND.has(sys)) {
          lastErr = err
          continue
        }
        throw err
      }
    }
    throw new GlusterError('EGLUSTER_CONNECT', `connect to ${label}: no free local port below 1024`,
      { peer: label, syscall: 'bind' }, { cause: lastErr })
  }
  return await connectOnce(peer, label, opts)
}

function connectOnce (peer: PeerAddress, label: string, opts: ConnectOptions): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const { signal } = opts
    const timeoutMs = opts.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
    const ctx = 'path' in peer ? undefined : opts.tls
    let socket: net.Socket
    try {
      if ('path' in peer) {
        socket = net.connect({ path: peer.path, ...(opts.onread !== undefined ? { onread: opts.onread } : {}) })
      } else if (ctx !== undefined) {
        // net's socket options reach the TCP socket tls.connect makes (@types/node 20 leaves them out)
        const o: tls.ConnectionOptions & { onread?: net.OnReadOpts, localAddress?: string, localPort?: number } = {
          host: peer.host,
          port: peer.port,
          secureContext: ctx.secureContext,
          // GlusterFS checks the chain and nothing else: no host names, no SNI
          checkServerIdentity: () => undefined,
          // verified in onReady below, where the peer's certificate can still be named
          rejectUnauthorized: false,
        }
        if (opts.onread !== undefined) o.onread = opts.onread
        if (opts.localAddress !== undefined) o.localAddress = opts.localAddress
        if (opts.localPort !== undefined) o.localPort = opts.localPort
        if (opts.lookup !== undefined) o.lookup = opts.lookup
        socket = tls.connect(o)
        socket.setNoDelay(opts.noDelay ?? true)
        if (opts.keepAliveInitialDelayMs !== undefined) socket.setKeepAlive(true, opts.keepAliveInitialDelayMs)
      } else {
        const o: net.TcpNetConnectOpts = { host: peer.host, port: peer.port, noDelay: opts.noDelay ?? true }
        if (opts.onread !== undefined) o.onread = opts.onread
        if (opts.localAddress !== undefined) o.localAddress = opts.localAddress
        if (opts.localPort !== undefined) o.localPort = opts.localPort
        if (opts.lookup !== undefined) o.lookup = opts.lookup
        if (opts.keepAliveInitialDelayMs !== undefined) {
          o.keepAlive = true
          o.keepAliveInitialDelay = opts.keepAliveInitialDelayMs
        }
        socket = net.connect(o)
      }
    } catch (err) {
      // synchronous argument errors from net (bad localAddress …)
      reject(new GlusterError('EGLUSTER_CONNECT', `connect to ${label}: ${(err as Error).message}`,
        { peer: label, syscall: 'connect' }, { cause: err }))
      return
    }
    let timer: NodeJS.Timeout | undefined
    /** TCP is up: from here on, a failure of a TLS connection is a TLS failure */
    let tcpUp = false
    const ready = ctx !== undefined ? 'secureConnect' : 'connect'
    const cleanup = (): void => {
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
      socket.removeListener(ready, onReady)
      socket.removeListener('connect', onTcp)
      socket.removeListener('error', onError)
      socket.removeListener('close', onClose)
      signal?.removeEventListener('abort', onAbort)
    }
    const fail = (err: unknown): void => {
      cleanup()
      socket.destroy()
      reject(err)
    }
    const tlsFail = (cause: unknown): void => {
      const known = classifyTlsError(cause)
      const f = known ?? { tlsReason: 'closed' as const, rejectedBy: 'unknown' as const }
      const peerName = f.rejectedBy === 'client' ? peerCn(socket) : undefined
      // a server without TLS on this port reads our ClientHello as garbage and hangs up
      const when = known === undefined ? 'during the TLS handshake: does the server have TLS on for this port (server.ssl, or secure-access for glusterd)?' : undefined
      fail(tlsError(f, { peer: label, ourName: ctx?.commonName, ...(peerName !== undefined ? { peerName } : {}), ...(when !== undefined ? { when } : {}) }, cause))
    }
    const onTcp = (): void => { tcpUp = true }
    const onReady = (): void => {
      if (ctx !== undefined) {
        const s = socket as tls.TLSSocket
        if (!s.authorized) {
          const cause = Object.assign(new Error(String(s.authorizationError)), { code: String(s.authorizationError) })
          const f = classifyTlsError(cause) ?? { tlsReason: 'bad-certificate' as const, rejectedBy: 'client' as const }
          fail(tlsError({ ...f, rejectedBy: 'client' }, { peer: label, peerName: peerCn(socket) }, cause))
          return
        }
        const depth = intermediateCount(socket as tls.TLSSocket)
        if (depth > ctx.certDepth) {
          fail(tlsError({ tlsReason: 'chain-too-long', rejectedBy: 'client' },
            { peer: label, peerName: peerCn(socket), when: `(${depth} intermediate CAs, certificate depth ${ctx.certDepth}) after the handshake` }))
          return
        }
      }
      cleanup()
      resolve(socket)
    }
    const onError = (err: NodeJS.ErrnoException): void => {
      if (ctx !== undefined && (tcpUp || classifyTlsError(err) !== undefined)) {
        tlsFail(err)
        return
      }
      const code = err.code ?? 'error'
      const dns = code === 'ENOTFOUND' || code === 'EAI_AGAIN' || err.syscall === 'getaddrinfo'
      fail(new GlusterError('EGLUSTER_CONNECT',
        `connect ${code} ${label}${dns ? ' (name lookup failed)' : ''}`,
        { peer: label, syscall: dns ? 'getaddrinfo' : 'connect' }, { cause: err }))
    }
    // a TLS socket closed by the peer mid-handshake usually reports ECONNRESET first; this is the rest
    const onClose = (): void => { if (ctx !== undefined) tlsFail(undefined) }
    const onAbort = (): void => { fail(abortError(signal)) }
    socket.once(ready, onReady)
    if (ctx !== undefined) {
      socket.once('connect', onTcp)
      socket.once('close', onClose)
    }
    socket.once('error', onError)
    signal?.addEventListener('abort', onAbort, { once: true })
    if (timeoutMs > 0) {
      timer = setTimeout(() => {
        if (ctx !== undefined && tcpUp) {
          fail(tlsError({ tlsReason: 'timeout', rejectedBy: 'unknown' },
            { peer: label, ourName: ctx.commonName, when: `(no handshake within ${timeoutMs} ms: does the server have TLS on for this port?)` }))
          return
        }
        fail(new GlusterError('EGLUSTER_TIMEOUT', `connect to ${label} timed out after ${timeoutMs} ms (timeoutMs)`,
          { peer: label, syscall: 'connect' }))
      }, timeoutMs)
    }
  })
}

/** The CN of a TLS socket's peer certificate, when there is one. */
function peerCn (socket: net.Socket): string | undefined {
  if (!(socket instanceof tls.TLSSocket)) return undefined
  const cn = certCommonName(socket.getPeerCertificate()?.subject)
  return cn === '' ? undefined : cn
}
