// Embedded cluster (packages/server, in this process) with sample files, and a gateway on
// node:http in front of it, for the unit tests. Files are placed on every brick and recorded in
// each brick's store under one gfid, as a replicated create would leave them: the volume API
// has no writes yet (issue 5), and a LOOKUP of an unrecorded file needs a gfid-req we don't send.
import type { Test } from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, utimesSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { startCluster, type Cluster } from '../../../test-cluster/ts-cluster.js'
import { ROOT_KEY } from '../../server/src/index.js'
import { createGateway, type Gateway, type GatewayOptions, type MountOptions } from '../src/index.js'

export type Tree = Record<string, string | Buffer | { data: string | Buffer, mtime?: Date }>

/** A fresh directory removed at teardown (t.testdir() may only be taken once per test). */
export function tmpDir (t: Test): string {
  const d = mkdtempSync(join(tmpdir(), 'gts-http-'))
  t.teardown(() => rmSync(d, { recursive: true, force: true }))
  return d
}

/** Put `tree` ('/a/b.txt' → content; a key ending in '/' is a directory) on every brick. */
export function seed (c: Cluster, tree: Tree): void {
  const keys = new Map<string, string>([['/', ROOT_KEY]])
  const keyOf = (p: string, type: 'd' | 'f'): string => {
    let k = keys.get(p)
    if (k === undefined) { k = randomUUID(); keys.set(p, k) }
    void type
    return k
  }
  for (const [path, v] of Object.entries(tree)) {
    const isDir = path.endsWith('/')
    const segs = path.split('/').filter(s => s !== '')
    for (const b of c.bricks) {
      if (b === undefined) continue
      const store = b.store
      let parent = ROOT_KEY
      let cur = ''
      for (let i = 0; i < segs.length; i++) {
        const name = segs[i]!
        cur += '/' + name
        const last = i === segs.length - 1
        const dir = !last || isDir
        const key = keyOf(cur, dir ? 'd' : 'f')
        const disk = store.childPath(parent, name)
        if (store.child(parent, name) === undefined) {
          if (dir) mkdirSync(disk, { recursive: true })
          else {
            const o = typeof v === 'string' || Buffer.isBuffer(v) ? { data: v } : v
            writeFileSync(disk, o.data)
            if (o.mtime !== undefined) utimesSync(disk, o.mtime, o.mtime)
          }
          store.addObject(key, dir ? 'd' : 'f', parent, name)
        }
        parent = key
      }
    }
  }
}

export interface Served {
  cluster: Cluster
  gateway: Gateway
  url: string
  server: http.Server
}

/** An embedded cluster with `tree`, a gateway mounting it at `mountpoint` (default '/'). */
export async function serve (t: Test, tree: Tree, mount: Partial<MountOptions> = {}, gw: Partial<GatewayOptions> = {}): Promise<Served> {
  const cluster = await startCluster({ dir: tmpDir(t), replica: 3, port: 0 })
  t.teardown(() => cluster.close())
  seed(cluster, tree)
  const gateway = await createGateway({
    ...gw,
    mounts: [{ mountpoint: '/', volume: cluster.volume.name, servers: [cluster.volfileServer], ...mount }, ...(gw.mounts ?? [])],
  })
  t.teardown(() => gateway.close({ timeoutMs: 1000 }))
  const server = http.createServer(gateway.handler)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) }))
  return { cluster, gateway, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

/** A raw HTTP/1.1 exchange (for request targets fetch would normalise). */
export async function rawGet (url: string, target: string, extra = ''): Promise<{ status: number, head: string, body: Buffer }> {
  const u = new URL(url)
  const net = await import('node:net')
  return await new Promise((resolve, reject) => {
    const s = net.connect(Number(u.port), u.hostname)
    const chunks: Buffer[] = []
    s.on('data', d => chunks.push(d))
    s.on('error', reject)
    s.on('end', () => {
      const all = Buffer.concat(chunks)
      const i = all.indexOf('\r\n\r\n')
      const head = all.subarray(0, i).toString('latin1')
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0), head, body: all.subarray(i + 4) })
    })
    s.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${extra}\r\n`)
  })
}

export interface Part { headers: Record<string, string>, body: Buffer }

/** Parse a multipart/byteranges body back into its parts (RFC 2046 delimiters). */
export function parseMultipart (contentType: string, body: Buffer): Part[] {
  const m = /boundary=([^;]+)/.exec(contentType)
  if (m === null) throw new Error(`no boundary in ${contentType}`)
  const delim = Buffer.from(`--${m[1]}`)
  const parts: Part[] = []
  let pos = body.indexOf(delim)
  if (pos < 0) throw new Error('no delimiter')
  for (;;) {
    pos += delim.length
    if (body.subarray(pos, pos + 2).toString() === '--') break
    if (body.subarray(pos, pos + 2).toString() !== '\r\n') throw new Error('delimiter not followed by CRLF')
    const headEnd = body.indexOf('\r\n\r\n', pos)
    const headers: Record<string, string> = {}
    for (const line of body.subarray(pos + 2, headEnd).toString('latin1').split('\r\n')) {
      const i = line.indexOf(':')
      headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim()
    }
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), headEnd + 4)
    if (next < 0) throw new Error('unterminated part')
    parts.push({ headers, body: body.subarray(headEnd + 4, next) })
    pos = next + 2
  }
  return parts
}
