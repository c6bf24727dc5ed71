// Opt-in writes: PUT (to a temp file in the same directory, then rename over the target, so a
// reader never sees half a file), DELETE, MKCOL. Only with a token configured for the mount.
// Coded against the write API of @gluster-ts/volume (issue 5); a volume without it answers 501.
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { posix } from 'node:path'
import type { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Transform } from 'node:stream'
import { GlusterError } from '@gluster-ts/rpc'
import type { Stats } from '@gluster-ts/volume'
import type { Ctx } from './gateway.js'
import { makeEtag } from './respond.js'
import { statusForError } from './status-map.js'

export const WRITE_METHODS: ReadonlySet<string> = new Set(['PUT', 'DELETE', 'MKCOL'])

interface OpOptions { signal?: AbortSignal }
/** The part of the issue-5 write API used here (its contract: /tmp/gts-write-api.md). */
interface WritableVolume {
  stat (path: string, o?: OpOptions): Promise<Stats>
  createWriteStream (path: string, o?: { flags?: 'w' | 'wx', mode?: number, signal?: AbortSignal }): Writable & { bytesWritten: number }
  rename (from: string, to: string, o?: OpOptions): Promise<void>
  unlink (path: string, o?: OpOptions): Promise<void>
  rmdir (path: string, o?: OpOptions): Promise<void>
  mkdir (path: string, o?: { recursive?: boolean, mode?: number, signal?: AbortSignal }): Promise<string | undefined>
}

function writable (v: unknown): WritableVolume | undefined {
  const w = v as Partial<WritableVolume>
  return typeof w.createWriteStream === 'function' && typeof w.rename === 'function' && typeof w.unlink === 'function' &&
    typeof w.rmdir === 'function' && typeof w.mkdir === 'function'
    ? v as WritableVolume
    : undefined
}

function reply (ctx: Ctx, status: number, headers: Record<string, string> = {}): void {
  ctx.res.writeHead(status, { 'Content-Length': '0', ...headers })
  ctx.res.end()
}

function authorized (header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')
  if (m === null) return false
  const a = Buffer.from(m[1]!)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

async function statOrUndefined (vol: WritableVolume, path: string, signal: AbortSignal): Promise<Stats | undefined> {
  try {
    return await vol.stat(path, { signal })
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ENOENT') return undefined
    throw e
  }
}

/** Map a write failure to a status without throwing it on (so the caller's generic mapping is skipped). */
function failed (ctx: Ctx, e: unknown, parentMissing = 409): void {
  const code = (e as { code?: unknown }).code
  if (code === 'ENOENT' || code === 'ENOTDIR') { reply(ctx, parentMissing); return }
  const m = statusForError(e)
  reply(ctx, m.status, m.retry ? { 'Retry-After': String(ctx.mount.o.retryAfterSec) } : {})
}

export async function handleWrite (ctx: Ctx, method: string, stopTimer: () => void): Promise<void> {
  const w = ctx.mount.o.writes!
  if (!authorized(ctx.req.headers.authorization, w.token)) {
    ctx.req.resume()
    reply(ctx, 401, { 'WWW-Authenticate': 'Bearer realm="gluster-ts"' })
    return
  }
  const vol = writable(ctx.vol)
  if (vol === undefined) { ctx.req.resume(); reply(ctx, 501); return }
  if (ctx.volPath === '/') { ctx.req.resume(); reply(ctx, 405, { Allow: 'GET, HEAD, OPTIONS, MKCOL' }); return }
  const cache = ctx.mount.cache
  const signal = ctx.signal
  try {
    if (method === 'MKCOL') {
      if (ctx.req.headers['content-length'] !== undefined && ctx.req.headers['content-length'] !== '0') { ctx.req.resume(); reply(ctx, 415); return }
      ctx.req.resume()
      try {
        await vol.mkdir(ctx.volPath, { signal })
      } catch (e) {
        if ((e as { code?: unknown }).code === 'EEXIST') { reply(ctx, 405, { Allow: 'GET, HEAD, OPTIONS, PUT, DELETE' }); return }
        throw e
      }
      cache.deleteTree(ctx.volPath)
      reply(ctx, 201)
      return
    }
    if (method === 'DELETE') {
      ctx.req.resume()
      const st = await statOrUndefined(vol, ctx.volPath, signal)
      if (st === undefined) { reply(ctx, 404); return }
      if (st.isDirectory()) await vol.rmdir(ctx.volPath, { signal })
      else await vol.unlink(ctx.volPath, { signal })
      cache.deleteTree(ctx.volPath)
      reply(ctx, 204)
      return
    }
    // PUT
    if (ctx.trailingSlash) { ctx.req.resume(); reply(ctx, 405, { Allow: 'GET, HEAD, OPTIONS, DELETE, MKCOL' }); return }
    const max = w.maxBodyBytes ?? 1024 ** 3
    const cl = ctx.req.headers['content-length']
    if (cl !== undefined && Number(cl) > max) { ctx.req.resume(); reply(ctx, 413, { Connection: 'close' }); return }
    const before = await statOrUndefined(vol, ctx.volPath, signal)
    if (before?.isDirectory() === true) { ctx.req.resume(); reply(ctx, 409); return }
    const im = ctx.req.headers['if-match']
    const inm = ctx.req.headers['if-none-match']
    const etag = before !== undefined ? makeEtag(before.gfid, before.mtimeNs, before.size) : undefined
    if ((inm?.trim() === '*' && before !== undefined) ||
        (im !== undefined && (etag === undefined || !(im.trim() === '*' || im.split(',').map(s => s.trim()).includes(etag))))) {
      ctx.req.resume()
      reply(ctx, 412)
      return
    }
    stopTimer() // the upload takes as long as the client sends
    const tmp = posix.join(posix.dirname(ctx.volPath), `.gts-upload-${randomBytes(6).toString('hex')}-${posix.basename(ctx.volPath)}`.slice(0, 255))
    let total = 0
    const limit = new Transform({
      transform (chunk: Buffer, _enc, cb) {
        total += chunk.length
        if (total > max) cb(new GlusterError('EFBIG', `body larger than ${max} bytes`))
        else cb(null, chunk)
      },
    })
    try {
      await pipeline(ctx.req, limit, vol.createWriteStream(tmp, { flags: 'wx', signal }))
      await vol.rename(tmp, ctx.volPath, { signal })
    } catch (e) {
      await vol.unlink(tmp).catch(() => {})
      throw e
    }
    cache.deleteTree(ctx.volPath)
    const after = await statOrUndefined(vol, ctx.volPath, signal)
    reply(ctx, before === undefined ? 201 : 204, after !== undefined ? { ETag: makeEtag(after.gfid, after.mtimeNs, after.size) } : {})
  } catch (e) {
    if (ctx.res.headersSent || signal.aborted) throw e
    failed(ctx, e)
  }
}
