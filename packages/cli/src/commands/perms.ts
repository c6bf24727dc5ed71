// chmod and chown on a volume, as coreutils' chmod and chown: command-line symlinks are followed
// by chmod (a symlink's own mode means nothing) and with -R the symlinks met inside the tree are
// skipped; chown changes what a symlink points to unless -h, and with -R (fts's physical walk)
// every symlink itself.
import type { Volume } from '@gluster-ts/volume'
import type { Session } from '../session.js'
import { EXIT } from '../errors.js'
import { UMASK } from '../endpoint.js'
import { modeString } from '../format.js'
import { applyMode, type CompiledMode } from '../modes.js'
import type { Owner } from '../owners.js'
import { walkTree, joinArg, type TreeEntry } from '../tree.js'
import { eachArg } from './common.js'

/** The starting point and, with -R and a directory, everything below it. */
async function * targets (s: Session, vol: Volume, path: string, recursive: boolean, follow: boolean): AsyncGenerator<TreeEntry> {
  const st = follow ? await vol.stat(path, { signal: s.signal }) : await vol.lstat(path, { signal: s.signal })
  if (!recursive) {
    yield { path, rel: '', st, depth: 0 }
    return
  }
  yield * walkTree(vol, path, st, { signal: s.signal })
}

const octal4 = (m: number): string => (m & 0o7777).toString(8).padStart(4, '0')

export interface ChmodOptions { recursive: boolean, verbose: boolean, changes: boolean }

export async function chmod (s: Session, mode: CompiledMode, args: string[], o: ChmodOptions): Promise<number> {
  let partial = false
  const code = await eachArg(s, 'chmod', args, async arg => {
    const loc = s.remote(arg, 'chmod')
    const vol = await s.volume(loc)
    for await (const e of targets(s, vol, loc.path, o.recursive, true)) {
      if (e.st.isSymbolicLink()) continue // only met below the starting point (which is followed)
      const old = e.st.mode & 0o7777
      const next = applyMode(mode, e.st.mode, e.st.isDirectory(), UMASK)
      await vol.chmod(e.path, next, { signal: s.signal })
      const name = joinArg(arg, e.rel)
      // `chmod -w`: no who, so the umask's bits were left alone; coreutils says so and fails
      const asked = applyMode(mode, e.st.mode, e.st.isDirectory(), 0)
      if (asked !== next) {
        s.err(`gluster-ts chmod: ${name}: new permissions are ${modeString(next).slice(1)}, not ${modeString(asked).slice(1)}\n`)
        partial = true
      }
      if (old !== next && (o.verbose || o.changes)) {
        s.out(`mode of '${name}' changed from ${octal4(old)} (${modeString(old).slice(1)}) to ${octal4(next)} (${modeString(next).slice(1)})\n`)
      } else if (old === next && o.verbose) {
        s.out(`mode of '${name}' retained as ${octal4(old)} (${modeString(old).slice(1)})\n`)
      }
    }
  })
  return code === EXIT.OK && partial ? EXIT.FAILURE : code
}

export interface ChownOptions { recursive: boolean, noDereference: boolean }

export async function chown (s: Session, owner: Owner, args: string[], o: ChownOptions): Promise<number> {
  // chown -R walks physically: every symlink is changed itself (coreutils: -R implies -P)
  const follow = !o.noDereference && !o.recursive
  const uid = owner.uid ?? -1
  const gid = owner.gid ?? -1
  return eachArg(s, 'chown', args, async arg => {
    const loc = s.remote(arg, 'chown')
    const vol = await s.volume(loc)
    for await (const e of targets(s, vol, loc.path, o.recursive, follow)) {
      if (follow) await vol.chown(e.path, uid, gid, { signal: s.signal })
      else await vol.lchown(e.path, uid, gid, { signal: s.signal })
    }
  })
}
