// Fetching the volfile (gluster-wire.md §9.1 steps 1-2): GETSPEC from the first volfile server
// that answers. Servers are tried in parallel with staggered starts (happy eyeballs, RFC 8305
// style): server i starts staggerMs after server i-1, or as soon as i-1 fails. The first volfile
// wins and the other attempts are aborted. When all fail, one EGLUSTER_NOVOLFILE whose cause is
// an AggregateError with one error per address, each with a `reason`.
import { GlusterError, RpcClient, getSpec, glusterfsV2Cred, type TlsContext } from '@gluster-ts/rpc'
import { parseServer, type VolfileServer } from './servers.js'
import { plaintextRefused } from './tls.js'

export type FailureReason = 'dns' | 'refused' | 'unreachable' | 'timeout' | 'no-such-volume' | 'rejected' | 'protocol' | 'tls' | 'aborted' | 'other'

export interface BootstrapOptions {
  volume: string
  signal?: AbortSignal
  /** delay between starting one server and the next, ms (default 250) */
  staggerMs?: number
  /** deadline of one server's connect + GETSPEC, ms (default 3000) */
  attemptTimeoutMs?: number
  /** deadline of the whole bootstrap, ms (default 5000) */
  timeoutMs?: number
  /** bind a source port below 1024 */
  privilegedPort?: boolean
  /** management TLS: speak TLS to every volfile server (TCP) with this context */
  tls?: TlsContext
}

export interface Bootstrapped {
  spec: string
  /** the server that answered */
  server: VolfileServer
  /** its connection, kept open for FETCHSPEC callbacks */
  client: RpcClient
  /** volfile servers glusterd named in cluster.brick-vol-servers */
  learned: VolfileServer[]
}

/** Why one server failed, in one word. */
export function failureReason (err: unknown): FailureReason {
  if (!(err instanceof GlusterError)) return 'other'
  const sys = (err.cause as NodeJS.ErrnoException | undefined)?.code
  if (err.code === 'ABORT_ERR') return 'aborted'
  if (err.code === 'EGLUSTER_TLS' || err.code === 'EGLUSTER_TLS_CONFIG') return 'tls'
  if (err.code === 'EGLUSTER_TIMEOUT' || err.code === 'ETIMEDOUT') return 'timeout'
  if (err.code === 'EGLUSTER_CONNECT') {
    if (err.syscall === 'getaddrinfo' || sys === 'ENOTFOUND' || sys === 'EAI_AGAIN') return 'dns'
    if (sys === 'ECONNREFUSED' || sys === 'ENOENT') return 'refused'
    if (sys === 'EHOSTUNREACH' || sys === 'ENETUNREACH') return 'unreachable'
    return 'other'
  }
  if (err.syscall === 'GETSPEC' && ['ENOENT', 'ENOMEM', 'EINVAL'].includes(String(err.code))) return 'no-such-volume'
  if (err.code === 'EGLUSTER_CONNECTION_LOST') return 'rejected'
  if (err.code === 'EGLUSTER_PROTOCOL' || err.code === 'EGLUSTER_PROG_UNAVAIL' || err.code === 'EGLUSTER_PROC_UNAVAIL') return 'protocol'
  return 'other'
}

const DESCRIBE: Record<FailureReason, string> = {
  dns: 'name lookup failed',
  refused: 'connection refused',
  unreachable: 'host unreachable',
  timeout: 'timed out',
  'no-such-volume': 'no such volume',
  rejected: 'connection closed by the server',
  protocol: 'not a glusterd',
  tls: 'TLS failed',
  aborted: 'aborted',
  other: 'failed',
}

async function attempt (s: VolfileServer, o: BootstrapOptions, signal: AbortSignal): Promise<Bootstrapped> {
  const timeoutMs = o.attemptTimeoutMs ?? 3000
  const t = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)])
  const client = await RpcClient.connect(s.label, {
    cred: () => glusterfsV2Cred({ pid: process.pid }),
    connectTimeoutMs: timeoutMs,
    timeoutMs: 0,
    signal: t,
    ...(o.privilegedPort === true ? { localPortBelow1024: true } : {}),
    ...(o.tls !== undefined ? { tls: o.tls } : {}),
  })
  try {
    const r = await getSpec(client, o.volume, { signal: t, timeoutMs })
    const learned: VolfileServer[] = []
    for (const x of r.servers) {
      try { learned.push(parseServer(x)) } catch { /* glusterd named something we cannot parse: skip it */ }
    }
    return { spec: r.spec, server: s, client, learned }
  } catch (e) {
    client.destroy()
    const err = plaintextRefused(e, client, o.tls === undefined && !('path' in s.address),
      'glusterd closed the connection on our plaintext GETSPEC: management TLS is probably on there (/var/lib/glusterd/secure-access): connect with tls: { management: true }')
    // the signal's own timeout surfaces as a DOMException TimeoutError: make it ours
    if ((err as { name?: string }).name === 'TimeoutError') {
      throw new GlusterError('EGLUSTER_TIMEOUT', `GETSPEC ${o.volume} from ${s.label}: no answer within ${timeoutMs} ms`, { peer: s.label, syscall: 'GETSPEC' }, { cause: err })
    }
    throw err
  }
}

/** GETSPEC from the first server that answers; see the file comment. */
export async function fetchVolfile (servers: readonly VolfileServer[], o: BootstrapOptions): Promise<Bootstrapped> {
  if (servers.length === 0) throw new TypeError('no volfile servers')
  const stagger = o.staggerMs ?? 250
  const life = new AbortController()
  const signals = [life.signal, AbortSignal.timeout(o.timeoutMs ?? 5000)]
  if (o.signal !== undefined) signals.push(o.signal)
  const signal = AbortSignal.any(signals)
  const errors: Array<Error | undefined> = new Array(servers.length).fill(undefined)
  return await new Promise<Bootstrapped>((resolve, reject) => {
    let next = 0
    let running = 0
    let timer: NodeJS.Timeout | undefined
    let done = false
    const finish = (err: unknown, v?: Bootstrapped): void => {
      if (done) { v?.client.destroy(); return }
      done = true
      if (timer !== undefined) clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      life.abort()
      if (v !== undefined) resolve(v)
      else reject(err)
    }
    const fail = (): void => {
      const list = servers.map((s, i) => {
        const e = errors[i] ?? new GlusterError('EGLUSTER_TIMEOUT', `${s.label}: not tried before the deadline`, { peer: s.label })
        const reason = (e as { reason?: FailureReason }).reason ?? failureReason(e)
        return Object.assign(e, { reason, address: s.label })
      })
      const summary = list.map(e => `${e.address}: ${DESCRIBE[e.reason]} (${e.message})`).join('; ')
      const agg = new AggregateError(list, `every volfile server failed for volume '${o.volume}': ${summary}`)
      const first = list[0] as unknown as GlusterError
      if (list.every(e => e instanceof GlusterError && e.code === first.code) && (first.code === 'EGLUSTER_TLS' || first.code === 'EGLUSTER_TLS_CONFIG')) {
        // every server failed for a TLS reason: that is the error, not "no volfile"
        finish(Object.assign(new GlusterError(first.code, `${first.code}: no volfile for '${o.volume}' from ${servers.map(s => s.label).join(', ')}: ${summary}`,
          { syscall: 'GETSPEC', path: o.volume, ...(first.peer !== undefined ? { peer: first.peer } : {}) }, { cause: agg }),
        { tlsReason: first.tlsReason, rejectedBy: first.rejectedBy }))
        return
      }
      finish(new GlusterError('EGLUSTER_NOVOLFILE', `EGLUSTER_NOVOLFILE: no volfile for '${o.volume}' from ${servers.map(s => s.label).join(', ')}: ${summary}`,
        { syscall: 'GETSPEC', path: o.volume }, { cause: agg }))
    }
    const onAbort = (): void => {
      if (o.signal?.aborted === true) {
        finish(o.signal.reason ?? Object.assign(new GlusterError('ABORT_ERR', 'The operation was aborted'), { name: 'AbortError' }))
        return
      }
      // the overall deadline: whoever is still running timed out
      servers.forEach((s, i) => {
        if (errors[i] === undefined && i < next) errors[i] = Object.assign(new GlusterError('EGLUSTER_TIMEOUT', `${s.label}: no volfile within the ${o.timeoutMs ?? 5000} ms bootstrap deadline`, { peer: s.label }), { reason: 'timeout' as const })
      })
      fail()
    }
    signal.addEventListener('abort', onAbort, { once: true })
    const startNext = (): void => {
      if (done) return
      if (timer !== undefined) { clearTimeout(timer); timer = undefined }
      if (next >= servers.length) return
      const i = next++
      const s = servers[i]!
      running++
      attempt(s, o, signal).then(v => finish(undefined, v), (err: Error) => {
        running--
        if (done) return
        errors[i] = err
        if (next < servers.length) startNext()
        else if (running === 0) fail()
      })
      if (next < servers.length) timer = setTimeout(startNext, stagger)
    }
    if (signal.aborted) { onAbort(); return }
    startNext()
  })
}
