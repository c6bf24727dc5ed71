// getfattr and setfattr on a volume, with the attr package's flags and output: `# file: NAME`
// blocks (NAME the argument as given, then /sub/path with -R), names sorted, values encoded as
// getfattr encodes them, and setfattr's value encodings. Volume.getxattr and friends follow
// symlinks; a symlink itself holds no user.* attributes on Linux (the kernel refuses them), so
// -h shows none for a symlink and setting one on it is EPERM, as setfattr -h says.
import type { Volume } from '@gluster-ts/volume'
import type { Session } from '../session.js'
import { CliError } from '../errors.js'
import { joinArg, walkTree, type TreeEntry } from '../tree.js'
import { BadEncoding, decodeValue, encodeValue, xquote, type XattrEncoding } from '../xattr-text.js'
import { unquote } from '../xattrs.js'
import { eachArg } from './common.js'

export interface GetfattrOptions {
  name?: string | undefined
  dump: boolean
  /** names to show (getfattr -m: a regular expression; default ^user\.) */
  match: RegExp
  encoding?: XattrEncoding | undefined
  onlyValues: boolean
  noDereference: boolean
  recursive: boolean
}

/** getfattr -m PATTERN: `-` is every name, as in getfattr. */
export function matchPattern (p: string | undefined): RegExp {
  const src = p === undefined ? '^user\\.' : p === '-' ? '' : p
  try {
    return new RegExp(src)
  } catch {
    throw new CliError('EUSAGE', `invalid regular expression "${src}"`)
  }
}

async function * entries (s: Session, vol: Volume, path: string, o: { recursive: boolean, noDereference: boolean }): AsyncGenerator<TreeEntry> {
  const st = o.noDereference ? await vol.lstat(path, { signal: s.signal }) : await vol.stat(path, { signal: s.signal })
  if (!o.recursive) yield { path, rel: '', st, depth: 0 }
  else yield * walkTree(vol, path, st, { signal: s.signal })
}

export async function getfattr (s: Session, args: string[], o: GetfattrOptions): Promise<number> {
  return eachArg(s, 'getfattr', args, async arg => {
    const loc = s.remote(arg, 'getfattr')
    const vol = await s.volume(loc)
    for await (const e of entries(s, vol, loc.path, o)) {
      // -h and a symlink: its own attributes, which hold no user.* ones (else, as getfattr, the
      // attributes of what it points to, also for the symlinks met in a -R walk)
      const own = e.st.isSymbolicLink() && o.noDereference
      let names: string[]
      if (o.name !== undefined) names = own ? [] : [o.name]
      else names = own ? [] : (await vol.listxattr(e.path, { signal: s.signal })).filter(n => o.match.test(n)).sort()
      if (o.name !== undefined && own) {
        throw Object.assign(new Error(`ENODATA: no such attribute '${o.name}' on the symlink itself`), { code: 'ENODATA', path: e.path })
      }
      const lines: Buffer[] = []
      for (const n of names) {
        if (o.onlyValues) {
          lines.push(await vol.getxattr(e.path, n, { signal: s.signal }))
          continue
        }
        if (!o.dump && o.name === undefined) {
          lines.push(Buffer.from(xquote(n, '=\n\r') + '\n'))
          continue
        }
        const v = await vol.getxattr(e.path, n, { signal: s.signal })
        lines.push(Buffer.concat([Buffer.from(xquote(n, '=\n\r') + '='), encodeValue(v, o.encoding), Buffer.from('\n')]))
      }
      if (lines.length === 0) continue
      if (o.onlyValues) {
        for (const l of lines) s.out(l)
        continue
      }
      s.out(`# file: ${xquote(joinArg(arg, e.rel), '\n\r')}\n`)
      for (const l of lines) s.out(l)
      s.out('\n')
    }
  })
}

export interface SetfattrOptions {
  name?: string | undefined
  value?: string | undefined
  remove?: string | undefined
  noDereference: boolean
  /** --raw: the value as given, not decoded */
  raw: boolean
}

export async function setfattr (s: Session, args: string[], o: SetfattrOptions): Promise<number> {
  if ((o.name === undefined) === (o.remove === undefined)) throw new CliError('EUSAGE', 'give either -n NAME [-v VALUE] or -x NAME')
  if (o.remove !== undefined && o.value !== undefined) throw new CliError('EUSAGE', '-v goes with -n, not with -x')
  let value: Buffer = Buffer.alloc(0)
  if (o.value !== undefined) {
    try {
      value = o.raw ? Buffer.from(o.value, 'utf8') : decodeValue(o.value)
    } catch (err) {
      if (err instanceof BadEncoding) throw new CliError('EUSAGE', `bad input encoding in -v '${o.value}' (0x… hex, 0s… base64, or text)`)
      throw err
    }
  }
  return eachArg(s, 'setfattr', args, async arg => {
    const loc = s.remote(arg, 'setfattr')
    const vol = await s.volume(loc)
    if (o.noDereference && (await vol.lstat(loc.path, { signal: s.signal })).isSymbolicLink()) {
      throw new CliError('EPERM', `EPERM: operation not permitted, extended attributes of the symlink '${arg}' itself`, { path: loc.path })
    }
    if (o.remove !== undefined) await vol.removexattr(loc.path, unquote(o.remove), { signal: s.signal })
    // setfattr reads \ooo escapes in names too (what getfattr prints)
    else await vol.setxattr(loc.path, unquote(o.name!), value, { signal: s.signal })
  })
}
