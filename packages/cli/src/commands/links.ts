// ln and rmdir on a volume, as coreutils' ln and rmdir.
import { posix } from 'node:path'
import type { Volume } from '@gluster-ts/volume'
import type { Session } from '../session.js'
import { CliError, EXIT } from '../errors.js'
import { formatLocation, volumeKey, type RemoteLocation } from '../url.js'
import { eachArg, report } from './common.js'

function code (err: unknown): string | undefined { return (err as { code?: string } | null)?.code }

async function lstatOrNone (s: Session, vol: Volume, path: string): Promise<import('@gluster-ts/volume').Stats | undefined> {
  return await vol.lstat(path, { signal: s.signal }).catch((err: unknown) => { if (code(err) === 'ENOENT') return undefined; throw err })
}

export interface LnOptions { symbolic: boolean, force: boolean, noDereference: boolean, verbose: boolean }

/**
 * ln [-s] [-f] TARGET LINK, or TARGET... DIR. With -s the TARGET is stored verbatim (it is what
 * the symlink will contain, resolved by whoever follows it); without, TARGET is a URL on the
 * same volume as LINK.
 */
export async function ln (s: Session, args: string[], o: LnOptions): Promise<number> {
  const destArg = args[args.length - 1]!
  const srcs = args.slice(0, -1)
  let dest: RemoteLocation
  let vol: Volume
  let intoDir = false
  try {
    if (srcs.length === 0) throw new CliError('EUSAGE', 'ln needs TARGET... LINK_NAME')
    dest = s.remote(destArg, 'ln')
    vol = await s.volume(dest)
    // an existing directory (or, unless -n, a symlink to one): the links go into it
    const st = o.noDereference ? await lstatOrNone(s, vol, dest.path) : await vol.stat(dest.path, { signal: s.signal }).catch(() => undefined)
    intoDir = st?.isDirectory() === true || dest.trailingSlash
    if (srcs.length > 1 && !intoDir) throw new CliError('ENOTDIR', `ENOTDIR: target '${destArg}' is not a directory`, { path: dest.path })
  } catch (err) {
    return report(s, 'ln', destArg, err)
  }
  const d = dest
  const v = vol
  return eachArg(s, 'ln', srcs, async arg => {
    let existing: string | undefined
    let name: string
    if (o.symbolic) {
      name = posix.basename(arg.replace(/\/+$/, '')) || arg
    } else {
      const src = s.remote(arg, 'ln')
      if (volumeKey(src) !== volumeKey(d)) throw new CliError('EXDEV', `EXDEV: '${arg}' and '${destArg}' are on different volumes (hard links stay within one volume)`)
      existing = src.path
      name = posix.basename(src.path)
      if ((await v.lstat(src.path, { signal: s.signal })).isDirectory()) throw new CliError('EPERM', `EPERM: hard link not allowed for directory '${arg}'`, { path: src.path })
    }
    const link = intoDir ? posix.join(d.path, name) : d.path
    const label = intoDir ? formatLocation(d, link) : destArg
    if (o.force) {
      const st = await lstatOrNone(s, v, link)
      if (st?.isDirectory() === true) throw new CliError('EISDIR', `EISDIR: '${label}': cannot overwrite directory`, { path: link })
      if (st !== undefined) {
        if (existing !== undefined && (await v.lstat(existing, { signal: s.signal })).gfid === st.gfid) {
          throw new CliError('EINVAL', `EINVAL: '${arg}' and '${label}' are the same file`, { path: link })
        }
        await v.unlink(link, { signal: s.signal })
      }
    }
    if (existing !== undefined) await v.link(existing, link, { signal: s.signal })
    else await v.symlink(arg, link, { signal: s.signal })
    if (o.verbose) s.out(`'${label}' ${existing !== undefined ? '=>' : '->'} '${arg}'\n`)
  })
}

export interface RmdirOptions { parents: boolean, ignoreNonEmpty: boolean }

/** rmdir [-p]: -p then removes each parent named in the path, as `rmdir -p a/b/c` removes a/b and a. */
export async function rmdir (s: Session, args: string[], o: RmdirOptions): Promise<number> {
  let status: number = EXIT.OK
  for (const arg of args) {
    if (s.signal.aborted) return EXIT.INTERRUPTED
    let loc: RemoteLocation
    let vol: Volume
    try {
      loc = s.remote(arg, 'rmdir')
      vol = await s.volume(loc)
    } catch (err) {
      status = report(s, 'rmdir', arg, err)
      continue
    }
    let path = loc.path
    for (;;) {
      const label = path === loc.path ? arg : formatLocation(loc, path)
      try {
        if (path === '/') throw new CliError('EBUSY', `EBUSY: cannot remove the volume root '${label}'`, { path })
        await vol.rmdir(path, { signal: s.signal })
      } catch (err) {
        if (o.ignoreNonEmpty && (code(err) === 'ENOTEMPTY' || code(err) === 'EEXIST')) break
        status = report(s, 'rmdir', label, err)
        break
      }
      if (!o.parents) break
      path = posix.dirname(path)
      if (path === '/') break
    }
  }
  return status
}
