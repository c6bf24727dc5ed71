import tls from 'node:tls'
import { X509Certificate } from 'node:crypto'
import { GlusterError } from './errors.js'

/**
 * TLS as GlusterFS uses it (rpc/rpc-transport/socket/src/socket.c: ssl_setup_connection_params,
 * ssl_setup_connection_postfix; gluster-shard-tls-auth.md §2). Both ends present a certificate and
 * verify the other's against one CA list; nobody checks host names and nobody sends SNI; the
 * identity of a peer is the first CN of its certificate's subject. Inside TLS the byte stream is
 * the plaintext one (record marking and all), so nothing above the socket changes.
 */

/** GlusterFS's cipher list for TLS ≤ 1.2 (11.1 always puts AES128 first; 10.3 does on CPUs with AES). */
export const GLUSTER_TLS_CIPHERS = 'AES128:EECDH:EDH:HIGH:!3DES:!RC4:!DES:!MD5:!aNULL:!eNULL'
/** `transport.socket.ssl-ec-curve` default: GlusterFS offers and accepts this one group only. */
export const GLUSTER_TLS_EC_CURVE = 'prime256v1'
/** `transport.socket.ssl-cert-depth` default (socket.c DEFAULT_VERIFY_DEPTH; docs that say 0 are wrong). */
export const GLUSTER_TLS_CERT_DEPTH = 1

type Pem = string | Buffer

/** The certificate material of one end, as PEM text (files are read by the caller). */
export interface TlsMaterial {
  /** trusted CA certificates (and self-signed peer certificates), concatenated PEM or a list */
  ca: Pem | Pem[]
  /** our certificate, optionally followed by the intermediate CAs that issued it */
  cert: Pem
  key: Pem
  passphrase?: string
  /** OpenSSL cipher list for TLS ≤ 1.2 (default GLUSTER_TLS_CIPHERS); TLS 1.3 keeps OpenSSL's suites, as GlusterFS does */
  ciphers?: string
  /** EC group(s) for key exchange, OpenSSL names separated by ':' (default GLUSTER_TLS_EC_CURVE) */
  ecCurve?: string
  /** most intermediate CAs allowed between a peer's certificate and a trusted CA (default 1) */
  certDepth?: number
  /** where each part came from, for messages ('/usr/lib/ssl/glusterfs.pem', 'tls.cert option' …) */
  sources?: { ca?: string, cert?: string, key?: string }
}

/** A secure context made once and shared by every connection of a client (or a server). */
export interface TlsContext {
  readonly secureContext: tls.SecureContext
  /** what secureContext was made from: a tls.Server makes its own context from these (it takes no secureContext) */
  readonly options: Readonly<tls.SecureContextOptions>
  readonly certDepth: number
  /** the CN of our own certificate ('' when it has none) */
  readonly commonName: string
  readonly sources: { ca?: string, cert?: string, key?: string }
}

/** TLS 1.3 suites as OpenSSL enables them by default (Node's own default list names them). */
const TLS13_SUITES = tls.DEFAULT_CIPHERS.split(':').filter(s => s.startsWith('TLS_')).join(':')

/**
 * Build the secure context. Rejects bad material with EGLUSTER_TLS_CONFIG naming the file: a
 * PEM that does not parse, a key that does not match the certificate, a cipher list OpenSSL
 * does not understand.
 */
export function createTlsContext (m: TlsMaterial): TlsContext {
  const sources = m.sources ?? {}
  const certDepth = m.certDepth ?? GLUSTER_TLS_CERT_DEPTH
  if (!Number.isInteger(certDepth) || certDepth < 0) throw tlsConfigError(`certificate depth must be an integer >= 0, not ${certDepth}`)
  let commonName: string
  try {
    commonName = certCommonName(new X509Certificate(typeof m.cert === 'string' ? Buffer.from(m.cert) : m.cert).subject)
  } catch (err) {
    throw tlsConfigError(`our certificate (${sources.cert ?? 'cert'}) is not a PEM certificate: ${(err as Error).message}`, err)
  }
  // cipher-list applies to TLS ≤ 1.2 only (SSL_CTX_set_cipher_list); a list without TLS 1.3
  // suites would make Node cap the protocol at 1.2, so OpenSSL's default 1.3 suites go in front
  const ciphers = `${TLS13_SUITES}:${m.ciphers ?? GLUSTER_TLS_CIPHERS}`
  try {
    const o: tls.SecureContextOptions = {
      ca: m.ca, cert: m.cert, key: m.key, ciphers, ecdhCurve: m.ecCurve ?? GLUSTER_TLS_EC_CURVE,
      // GlusterFS: SSLv2/3 off, no compression (OpenSSL 3 has none), no session tickets
      minVersion: 'TLSv1.2',
    }
    if (m.passphrase !== undefined) o.passphrase = m.passphrase
    const secureContext = tls.createSecureContext(o)
    return { secureContext, options: o, certDepth, commonName, sources }
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { reason?: string }
    const what = /key|PEM|passphrase|decrypt/i.test(`${e.message} ${e.reason ?? ''}`)
      ? `our key (${sources.key ?? 'key'}) or certificate (${sources.cert ?? 'cert'})`
      : /cipher|curve|group/i.test(e.message) ? `the cipher list or EC curve ('${m.ciphers ?? GLUSTER_TLS_CIPHERS}', '${m.ecCurve ?? GLUSTER_TLS_EC_CURVE}')` : 'the TLS material'
    throw tlsConfigError(`${what} rejected by OpenSSL: ${e.message}`, err)
  }
}

export function tlsConfigError (message: string, cause?: unknown): GlusterError {
  return new GlusterError('EGLUSTER_TLS_CONFIG', `EGLUSTER_TLS_CONFIG: ${message}`, { syscall: 'tls' }, cause !== undefined ? { cause } : undefined)
}

/** The first CN of a subject as node:crypto prints it ('CN=a\nO=b'); '' when there is none. */
export function certCommonName (subject: string | object | undefined): string {
  if (subject === undefined || subject === null) return ''
  if (typeof subject !== 'string') {
    const cn = (subject as { CN?: string | string[] }).CN
    return Array.isArray(cn) ? cn[0] ?? '' : cn ?? ''
  }
  for (const line of subject.split('\n')) if (line.startsWith('CN=')) return line.slice(3)
  return ''
}

/**
 * Why a TLS connection failed. `rejectedBy` says whose check failed: 'client' (the client did
 * not accept the server's certificate) or 'server' (the server refused the client's, or its CN).
 */
export type TlsReason =
  | 'unknown-ca'        // the certificate is not issued by a CA the checking side trusts
  | 'expired'           // the certificate has expired (an alert says "expired or not yet valid")
  | 'not-yet-valid'
  | 'revoked'
  | 'chain-too-long'    // more intermediate CAs than ssl-cert-depth allows
  | 'bad-certificate'   // any other verification failure
  | 'no-certificate'    // a side sent no certificate (GlusterFS demands one from both)
  | 'cn-not-allowed'    // the brick's auth.ssl-allow does not list our CN (SETVOLUME refused)
  | 'handshake-failure' // no common protocol version, cipher or group
  | 'not-tls'           // the peer does not speak TLS on this port (a plaintext server)
  | 'tls-required'      // we spoke plaintext and the peer wants TLS (management TLS is on there)
  | 'closed'            // the peer closed the connection during or right after the handshake
  | 'timeout'           // no handshake within the connect deadline

export interface TlsFailure {
  tlsReason: TlsReason
  rejectedBy: 'client' | 'server' | 'unknown'
}

/** OpenSSL X509_V_ERR names as Node reports them (err.code) → reason. */
const VERIFY_REASONS: Record<string, TlsReason> = {
  UNABLE_TO_GET_ISSUER_CERT: 'unknown-ca',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown-ca',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unknown-ca',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'unknown-ca',
  SELF_SIGNED_CERT_IN_CHAIN: 'unknown-ca',
  CERT_UNTRUSTED: 'unknown-ca',
  INVALID_CA: 'unknown-ca',
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not-yet-valid',
  CERT_REVOKED: 'revoked',
  CERT_CHAIN_TOO_LONG: 'chain-too-long',
  PATH_LENGTH_EXCEEDED: 'chain-too-long',
}

/** TLS alerts the peer sent (Node: ERR_SSL_<version>_ALERT_<name>) → reason. */
const ALERT_REASONS: Record<string, TlsReason> = {
  UNKNOWN_CA: 'unknown-ca',
  CERTIFICATE_EXPIRED: 'expired',
  CERTIFICATE_REVOKED: 'revoked',
  BAD_CERTIFICATE: 'bad-certificate',
  UNSUPPORTED_CERTIFICATE: 'bad-certificate',
  CERTIFICATE_UNKNOWN: 'bad-certificate',
  DECRYPT_ERROR: 'bad-certificate',
  ACCESS_DENIED: 'bad-certificate',
  CERTIFICATE_REQUIRED: 'no-certificate',
  HANDSHAKE_FAILURE: 'handshake-failure',
  PROTOCOL_VERSION: 'handshake-failure',
  INSUFFICIENT_SECURITY: 'handshake-failure',
  ILLEGAL_PARAMETER: 'handshake-failure',
}

/** Local OpenSSL errors that mean the bytes we got were not TLS. */
const NOT_TLS = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_HTTP_REQUEST', 'ERR_SSL_RECORD_LAYER_FAILURE', 'ERR_SSL_UNEXPECTED_EOF_WHILE_READING'])

/** Reasons that are about a certificate (the others are about the connection). */
const CERT_REASONS = new Set<TlsReason>(['unknown-ca', 'expired', 'not-yet-valid', 'revoked', 'chain-too-long', 'bad-certificate', 'no-certificate', 'cn-not-allowed'])

const DESCRIBE: Record<TlsReason, string> = {
  'unknown-ca': 'certificate not issued by a trusted CA',
  expired: 'certificate expired',
  'not-yet-valid': 'certificate not yet valid',
  revoked: 'certificate revoked',
  'chain-too-long': 'certificate chain longer than the certificate depth allows',
  'bad-certificate': 'certificate rejected',
  'no-certificate': 'no certificate',
  'cn-not-allowed': 'CN not allowed',
  'handshake-failure': 'no common TLS version, cipher or curve',
  'not-tls': 'the peer does not speak TLS here',
  'tls-required': 'the peer requires TLS',
  closed: 'connection closed',
  timeout: 'TLS handshake timed out',
}

/** Classify a Node TLS error (or undefined for "closed without one"). */
export function classifyTlsError (err: unknown): TlsFailure | undefined {
  const code = (err as { code?: unknown } | undefined)?.code
  if (typeof code !== 'string') return undefined
  const v = VERIFY_REASONS[code]
  if (v !== undefined) return { tlsReason: v, rejectedBy: 'client' }
  const alert = /^ERR_SSL_(?:SSLV3|TLSV1|TLSV13)_ALERT_(.+)$/.exec(code)
  if (alert !== null) {
    const a = ALERT_REASONS[alert[1]!]
    return { tlsReason: a ?? 'handshake-failure', rejectedBy: a === 'handshake-failure' || a === undefined ? 'unknown' : 'server' }
  }
  if (NOT_TLS.has(code)) return { tlsReason: 'not-tls', rejectedBy: 'client' }
  if (code.startsWith('ERR_SSL_') || code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return { tlsReason: 'handshake-failure', rejectedBy: 'unknown' }
  return undefined
}

/** What a TLS error should say about the two ends. */
export interface TlsErrorContext {
  /** the peer, 'host:port' */
  peer: string
  /** our certificate's CN */
  ourName?: string
  /** the peer certificate's CN, when the handshake got that far */
  peerName?: string
  /** the brick, for a brick connection */
  brick?: string
  /** what happened, e.g. 'during the TLS handshake' (default) */
  when?: string
}

/**
 * The typed error for a failed TLS connection: EGLUSTER_TLS with `tlsReason` and `rejectedBy`,
 * a message naming the peer, the reason and what to check.
 */
export function tlsError (f: TlsFailure, ctx: TlsErrorContext, cause?: unknown): GlusterError {
  const who = f.rejectedBy === 'client'
    ? `we did not accept ${ctx.peer}'s certificate${ctx.peerName ? ` (CN '${ctx.peerName}')` : ''}`
    : f.rejectedBy === 'server' && CERT_REASONS.has(f.tlsReason)
      ? `${ctx.peer} refused our certificate${ctx.ourName ? ` (CN '${ctx.ourName}')` : ''}`
      : `TLS with ${ctx.peer} failed${ctx.ourName ? ` (our CN '${ctx.ourName}')` : ''}`
  const detail = (cause as { code?: string, reason?: string } | undefined)
  const raw = detail?.code !== undefined ? ` [${detail.code}${detail.reason !== undefined ? `: ${detail.reason}` : ''}]` : ''
  const message = `EGLUSTER_TLS: ${who}: ${DESCRIBE[f.tlsReason]}${raw} ${ctx.when ?? 'during the TLS handshake'}${hint(f)}`
  const e = new GlusterError('EGLUSTER_TLS', message, { peer: ctx.peer, syscall: 'tls', ...(ctx.brick !== undefined ? { brick: ctx.brick } : {}) },
    cause !== undefined ? { cause } : undefined)
  return Object.assign(e, f)
}

function hint (f: TlsFailure): string {
  switch (f.tlsReason) {
    case 'unknown-ca': return f.rejectedBy === 'server'
      // OpenSSL sends this alert for a chain over the verify depth too
      ? '; the server\'s CA list (ssl-ca-list, default glusterfs.ca) must hold the CA of our certificate, and our chain must not have more intermediate CAs than its certificate depth allows'
      : '; our CA list must hold the CA of the server\'s certificate (GlusterFS: glusterfs.ca)'
    case 'chain-too-long': return '; raise ssl.certificate-depth (or the secure-access file\'s ssl-cert-depth)'
    case 'cn-not-allowed': return '; add our CN to the volume\'s auth.ssl-allow'
    case 'not-tls': return '; the server does not have TLS on for this connection (client.ssl/server.ssl, or /var/lib/glusterd/secure-access on the server)'
    // closed, tls-required, timeout: the caller knows which connection it was and says what to check
    default: return ''
  }
}

/**
 * Count the intermediate CAs between the peer's certificate and the trust anchor in a verified
 * connection (OpenSSL's verify depth counts those: depth 1 allows leaf, one intermediate, root).
 */
export function intermediateCount (socket: tls.TLSSocket): number {
  let c: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true)
  if (c === undefined || Object.keys(c).length === 0) return 0
  let n = 0
  const seen = new Set<string>()
  while (c !== undefined && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256)
    n++
    const up: tls.DetailedPeerCertificate | undefined = c.issuerCertificate
    if (up === undefined || up === c || up.fingerprint256 === c.fingerprint256) break
    c = up
  }
  // n certificates: the leaf, n-2 intermediates and the self-signed anchor (a self-signed leaf
  // trusted directly is a chain of 1)
  return Math.max(0, n - 2)
}

/**
 * Make every write() of a TLS socket its own SSL_write, so that a TLS record never holds bytes of
 * two RPC messages (the caller must not join messages into one chunk either: Outbox's
 * `separateMessages`). GlusterFS reads one RPC message per poll-in event
 * (socket.c socket_event_poll_in) and re-arms epoll; bytes of the next message already decrypted
 * into OpenSSL's buffer wake nobody, so that message would wait until more bytes arrived on the
 * socket (seen on the real cluster: calls answered only when the next call came, 10 s later).
 * GlusterFS itself writes each iovec with its own SSL_write. Node joins the chunks of a writev
 * into one SSL_write, so writev is turned off for this socket: chunks go one by one.
 */
export function keepMessagesApart (socket: tls.TLSSocket): void {
  (socket as unknown as { _writev: unknown })._writev = null
}

/** True when `b` starts like a TLS record (a handshake or alert): what a TLS server answers plaintext with. */
export function looksLikeTls (b: Uint8Array): boolean {
  return b.length >= 3 && (b[0] === 0x15 || b[0] === 0x16) && b[1] === 0x03 && b[2]! <= 0x04
}
