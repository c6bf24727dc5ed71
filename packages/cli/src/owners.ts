// chown's OWNER[:GROUP] argument, resolved the way coreutils' chown resolves it (parse_user_spec
// in gnulib's userspec.c): a name is looked up first and a number taken when no such name exists;
// `+N` is always a number; `OWNER:` also sets the owner's login group; `:GROUP` alone changes only
// the group. Names come from this machine's /etc/passwd and /etc/group, as they would for chown:
// the bricks store numbers only.
import { readFileSync } from 'node:fs'
import { CliError } from './errors.js'

export interface Owner {
  /** undefined: leave as is */
  uid?: number | undefined
  gid?: number | undefined
}

interface DbEntry { name: string, id: number, gid?: number }

/** name:x:id[:gid:…] lines (passwd, group); a missing or unreadable file is an empty table. */
function readDb (path: string, withGid: boolean): DbEntry[] {
  let text = ''
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return []
  }
  const out: DbEntry[] = []
  for (const line of text.split('\n')) {
    const f = line.split(':')
    if (f.length < 3 || f[0] === '' || line.startsWith('#')) continue
    const id = Number(f[2])
    if (!Number.isInteger(id) || id < 0) continue
    out.push({ name: f[0]!, id, ...(withGid && f[3] !== undefined && /^\d+$/.test(f[3]) ? { gid: Number(f[3]) } : {}) })
  }
  return out
}

export interface IdFiles { passwd: string, group: string }
const SYSTEM: IdFiles = { passwd: '/etc/passwd', group: '/etc/group' }
const MAX_ID = 0xfffffffe // (uid_t)-1 means "unchanged" to chown(2)

function number (text: string): number | undefined {
  const t = text.startsWith('+') ? text.slice(1) : text
  if (!/^\d+$/.test(t)) return undefined
  const n = Number(t)
  return n <= MAX_ID ? n : undefined
}

/** OWNER[:GROUP], OWNER:, :GROUP (also OWNER.GROUP when no user has the dotted name, as chown accepts). */
export function parseOwner (spec: string, files: IdFiles = SYSTEM): Owner {
  let sep = spec.indexOf(':')
  const users = readDb(files.passwd, true)
  if (sep < 0 && spec.includes('.') && !users.some(u => u.name === spec)) sep = spec.indexOf('.')
  const user = sep < 0 ? spec : spec.slice(0, sep)
  const group = sep < 0 ? undefined : spec.slice(sep + 1)
  const out: Owner = {}
  if (user !== '') {
    const byName = user.startsWith('+') ? undefined : users.find(u => u.name === user)
    const uid = byName?.id ?? number(user)
    if (uid === undefined) throw new CliError('EUSAGE', `invalid user: '${spec}'`)
    out.uid = uid
    // OWNER: with nothing after the colon: the owner's login group
    if (group === '') {
      const gid = byName?.gid ?? users.find(u => u.id === uid)?.gid
      if (gid === undefined) throw new CliError('EUSAGE', `invalid spec: '${spec}'`)
      out.gid = gid
    }
  }
  if (group !== undefined && group !== '') {
    const byName = group.startsWith('+') ? undefined : readDb(files.group, false).find(g => g.name === group)
    const gid = byName?.id ?? number(group)
    if (gid === undefined) throw new CliError('EUSAGE', `invalid group: '${spec}'`)
    out.gid = gid
  }
  if (out.uid === undefined && out.gid === undefined && spec !== '' && spec !== ':') throw new CliError('EUSAGE', `invalid spec: '${spec}'`)
  return out
}
