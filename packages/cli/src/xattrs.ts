// cp -p: user.* extended attributes. On a volume: LISTXATTR/GETXATTR/SETXATTR. Node has no xattr
// API for local files, and we take no native dependency, so a local side goes through the `attr`
// tools in one process per tree: `getfattr -R -d` dumps the whole source tree once, and
// `setfattr --restore` applies everything collected for a local destination at the end.
// Without those tools installed, -p still keeps mode and times and warns once about xattrs.
import { execFile, spawn } from 'node:child_process'
import { resolve } from 'node:path'
import type { Endpoint } from './endpoint.js'
import { RemoteEndpoint } from './endpoint.js'

export interface XattrCopier {
  /** copy the user.* xattrs of source path sp onto destination path dp (a local destination: collected) */
  apply (sp: string, dp: string): Promise<void>
  /** write what was collected for a local destination */
  finish (): Promise<void>
}

const USER = /^user\./

/** `\ooo` escapes as getfattr writes and setfattr reads them. */
export function unquote (s: string): string {
  const bytes: number[] = []
  const b = Buffer.from(s, 'utf8')
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0x5c && i + 3 < b.length + 0 && /^[0-7]{3}$/.test(b.subarray(i + 1, i + 4).toString('latin1'))) {
      bytes.push(parseInt(b.subarray(i + 1, i + 4).toString('latin1'), 8))
      i += 3
    } else {
      bytes.push(b[i]!)
    }
  }
  return Buffer.from(bytes).toString('utf8')
}

export function quote (s: string): string {
  let out = ''
  for (const byte of Buffer.from(s, 'utf8')) {
    out += byte <= 0x20 || byte === 0x5c || byte === 0x3d || byte === 0x7f ? `\\${byte.toString(8).padStart(3, '0')}` : String.fromCharCode(byte)
  }
  return Buffer.from(out, 'latin1').toString('utf8')
}

/** Parse `getfattr -d -e base64 --absolute-names` output: path → name → value. */
export function parseGetfattr (text: string): Map<string, Map<string, Buffer>> {
  const out = new Map<string, Map<string, Buffer>>()
  let cur: Map<string, Buffer> | undefined
  for (const line of text.split('\n')) {
    if (line.startsWith('# file: ')) {
      cur = new Map()
      out.set(unquote(line.slice(8)), cur)
    } else if (cur !== undefined && line.includes('=')) {
      const eq = line.indexOf('=')
      const name = unquote(line.slice(0, eq))
      const v = line.slice(eq + 1)
      let value: Buffer
      if (v.startsWith('0s')) value = Buffer.from(v.slice(2), 'base64')
      else if (v.startsWith('0x')) value = Buffer.from(v.slice(2), 'hex')
      else value = Buffer.from(v.replace(/^"|"$/g, ''), 'utf8')
      cur.set(name, value)
    }
  }
  return out
}

/** The `setfattr --restore` input for these paths. */
export function formatRestore (entries: ReadonlyMap<string, ReadonlyMap<string, Buffer>>): string {
  let out = ''
  for (const [path, attrs] of entries) {
    if (attrs.size === 0) continue
    out += `# file: ${quote(path)}\n`
    for (const [name, value] of attrs) out += `${quote(name)}=0s${value.toString('base64')}\n`
    out += '\n'
  }
  return out
}

function run (cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    if (input === undefined) {
      execFile(cmd, args, { maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
        // getfattr exits 1 when some file had none of the attributes asked for: the output is still right
        if (err !== null && (err as { code?: unknown }).code !== 1) reject(Object.assign(new Error(`${cmd}: ${stderr.trim() || err.message}`), { code: (err as { code?: unknown }).code === 'ENOENT' ? 'ENOTOOL' : 'EIO' }))
        else resolvePromise(stdout)
      })
      return
    }
    const p = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'] })
    let stderr = ''
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    p.on('error', err => { reject(Object.assign(err, { code: (err as { code?: string }).code === 'ENOENT' ? 'ENOTOOL' : 'EIO' })) })
    p.on('close', code => { if (code === 0) resolvePromise(''); else reject(Object.assign(new Error(`${cmd}: ${stderr.trim()}`), { code: 'EIO' })) })
    p.stdin.end(input)
  })
}

let warned = false
function warnNoTools (err: unknown): void {
  if (warned) return
  warned = true
  process.stderr.write(`gluster-ts cp: -p: extended attributes of local files not copied (${(err as Error).message}; install the 'attr' package)\n`)
}

/** The xattr copier for one source tree. */
export async function copyXattrs (src: Endpoint, srcRoot: string, dst: Endpoint, signal: AbortSignal): Promise<XattrCopier> {
  let local: Map<string, Map<string, Buffer>> | undefined
  if (!src.remote) {
    try {
      local = parseGetfattr(await run('getfattr', ['-R', '-h', '-d', '-m', '^user\\.', '-e', 'base64', '--absolute-names', resolve(srcRoot)]))
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOTOOL') throw err
      warnNoTools(err)
      local = new Map()
    }
  }
  const pending = new Map<string, Map<string, Buffer>>()
  const read = async (sp: string): Promise<Map<string, Buffer>> => {
    if (local !== undefined) return local.get(resolve(sp)) ?? new Map()
    const vol = (src as RemoteEndpoint).vol
    const names = (await vol.listxattr(sp, { signal })).filter(n => USER.test(n))
    const m = new Map<string, Buffer>()
    for (const n of names) m.set(n, await vol.getxattr(sp, n, { signal }))
    return m
  }
  return {
    async apply (sp, dp) {
      const attrs = await read(sp)
      if (attrs.size === 0) return
      if (dst instanceof RemoteEndpoint) {
        const w = dst.vol
        for (const [n, v] of attrs) await w.setxattr(dp, n, v, { signal })
      } else {
        pending.set(resolve(dp), attrs)
      }
    },
    async finish () {
      if (pending.size === 0) return
      try {
        await run('setfattr', ['-h', '--restore=-'], formatRestore(pending))
      } catch (err) {
        if ((err as { code?: string }).code !== 'ENOTOOL') throw err
        warnNoTools(err)
      }
      pending.clear()
    },
  }
}
