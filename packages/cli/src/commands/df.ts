// df: a volume's statfs (what a FUSE mount of it reports to `df`), and with --bricks each brick's
// own STATFS of its root, asked straight from the brick. The columns and rounding are GNU df's:
// sizes in 1K blocks by default (-B SIZE, -h), rounded up; Use% = used / (used + available),
// rounded up; -i the inode counts.
import { FopProgram, toGlusterError } from '@gluster-ts/rpc'
import type { StatFs } from '@gluster-ts/volume'
import type { Session } from '../session.js'
import { CliError, EXIT } from '../errors.js'
import { humanSize } from '../format.js'
import { eachArg } from './common.js'
import { sortedBricks } from './read.js'

const ROOT_GFID = Buffer.from('00000000000000000000000000000001', 'hex')

export interface DfOptions { bricks: boolean, human: boolean, blockSize: number, inodes: boolean }

/** df -B's SIZE: N with an optional K, M, G, T (powers of 1024) or KB, MB… (powers of 1000). */
export function parseBlockSize (text: string): number {
  const m = /^(\d*)([KMGTPE]?)(B?)$/i.exec(text)
  if (m === null || (m[1] === '' && m[2] === '') || (m[3] !== '' && m[2] === '')) throw new CliError('EUSAGE', `invalid --block-size argument '${text}'`)
  const power = m[2] === '' ? 0 : 'KMGTPE'.indexOf(m[2]!.toUpperCase()) + 1
  const n = (m[1] === '' ? 1 : Number(m[1])) * (m[3] !== '' ? 1000 : 1024) ** power
  if (!Number.isSafeInteger(n) || n <= 0) throw new CliError('EUSAGE', `invalid --block-size argument '${text}'`)
  return n
}

interface Row { filesystem: string, f: StatFs | undefined, error?: string | undefined }

function figures (f: StatFs): { size: number, used: number, available: number, inodes: number, iused: number, ifree: number } {
  const unit = f.frsize > 0 ? f.frsize : f.bsize
  return {
    size: f.blocks * unit,
    used: (f.blocks - f.bfree) * unit,
    available: f.bavail * unit,
    inodes: f.files,
    iused: f.files - f.ffree,
    ifree: f.ffree,
  }
}

/** ceil(100 * used / (used + free)), '-' when both are 0 (GNU df). */
function percent (used: number, free: number): string {
  return used + free > 0 ? `${Math.ceil(used * 100 / (used + free))}%` : '-'
}

function table (rows: Row[], o: DfOptions): string[] {
  const blocks = (n: number): string => o.human ? humanSize(n) : String(Math.ceil(n / o.blockSize))
  const unitName = o.blockSize % (1024 ** 2) === 0 && o.blockSize >= 1024 ** 2 ? `${o.blockSize / 1024 ** 2}M` : o.blockSize % 1024 === 0 ? `${o.blockSize / 1024}K` : `${o.blockSize}B`
  const head = o.inodes ? ['Filesystem', 'Inodes', 'IUsed', 'IFree', 'IUse%'] : ['Filesystem', o.human ? 'Size' : `${unitName}-blocks`, 'Used', o.human ? 'Avail' : 'Available', 'Use%']
  const cells = rows.map(r => {
    if (r.f === undefined) return [r.filesystem, '-', '-', '-', '-']
    const x = figures(r.f)
    return o.inodes
      ? [r.filesystem, String(x.inodes), String(x.iused), String(x.ifree), percent(x.iused, x.ifree)]
      : [r.filesystem, blocks(x.size), blocks(x.used), blocks(x.available), percent(x.used, x.available)]
  })
  // GNU df's minimum widths: 14 for the name, 5 for the numbers, 4 for Use%
  const w = head.map((h, i) => Math.max(i === 0 ? 14 : i === 4 ? 4 : 5, h.length, ...cells.map(c => c[i]!.length)))
  const line = (c: string[], err?: string): string => c.map((x, i) => i === 0 ? x.padEnd(w[0]!) : x.padStart(w[i]!)).join(' ').trimEnd() + (err !== undefined ? `  ${err}` : '')
  return [line(head), ...cells.map((c, i) => line(c, rows[i]!.error))]
}

export async function df (s: Session, args: string[], o: DfOptions): Promise<number> {
  const json: Array<Record<string, unknown>> = []
  const all: Row[] = []
  let unavailable = false
  const code = await eachArg(s, 'df', args, async arg => {
    const loc = s.remote(arg, 'df')
    const vol = await s.volume(loc)
    const rows: Row[] = [{ filesystem: arg, f: await vol.statfs(loc.path, { signal: s.signal }) }]
    if (o.bricks) {
      rows.push(...await Promise.all(sortedBricks(vol).map(async (b): Promise<Row> => {
        try {
          const r = await b.call(FopProgram.procs.STATFS, { gfid: ROOT_GFID, xdata: null }, { signal: s.signal, timeoutMs: s.opts.timeoutMs })
          if (r.op_ret < 0) throw toGlusterError(r.op_errno, { syscall: 'statfs', path: '/', brick: b.label })
          const f = r.statfs
          return { filesystem: b.label, f: { type: 0, bsize: Number(f.bsize), frsize: Number(f.frsize), blocks: Number(f.blocks), bfree: Number(f.bfree), bavail: Number(f.bavail), files: Number(f.files), ffree: Number(f.ffree), namemax: Number(f.namemax) } }
        } catch (err) {
          if (s.signal.aborted) throw err
          unavailable = true
          return { filesystem: b.label, f: undefined, error: (err as { code?: string }).code ?? String(err) }
        }
      })))
    }
    if (s.opts.json) {
      json.push({
        filesystem: arg,
        volume: loc.volume,
        ...rowJson(rows[0]!),
        ...(o.bricks ? { bricks: rows.slice(1).map(r => ({ brick: r.filesystem, ...rowJson(r) })) } : {}),
      })
      return
    }
    all.push(...rows)
  })
  // one table for every argument, as df prints
  if (s.opts.json) s.json(json)
  else if (all.length > 0) for (const l of table(all, o)) s.out(l + '\n')
  return code !== EXIT.OK ? code : unavailable ? EXIT.UNAVAILABLE : EXIT.OK
}

function rowJson (r: Row): Record<string, unknown> {
  if (r.f === undefined) return { error: r.error }
  const x = figures(r.f)
  return { ...x, bsize: r.f.bsize, frsize: r.f.frsize, blocks: r.f.blocks, bfree: r.f.bfree, bavail: r.f.bavail, files: r.f.files, ffree: r.f.ffree, namemax: r.f.namemax }
}
