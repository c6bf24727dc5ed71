// How ec turns the answers of up to n bricks into one (gluster-disperse.md §5.2, §6, §8):
// answers are grouped by equality (ec-combine.c:ec_combine, ec_combine_check, ec_dict_compare,
// ec_iatt_combine), the largest group wins, and the bricks outside it are not used for data
// until the next lock cycle. Pure: the disperse layer feeds it the replies it got.
import { GfxDictType, GlusterError, type GfxDict, type GfxIattx, type GfxValue } from '@gluster-ts/rpc'
import { superFastHash } from '../afr-policy.js'
import { fragmentFileSize } from './stripe.js'
import { EC_XATTR, configMatches, decodeEcConfig, decodeEcPair, decodeEcSize, isHealing, type EcConfig, type EcPair } from './xattrs.js'

export interface EcAnswer {
  /** 0-based brick index (volfile order) */
  brick: number
  op_ret: number
  op_errno: number
  xdata: GfxDict
}

export interface AnswerGroup<T> {
  /** answering bricks, ascending */
  bricks: number[]
  answers: T[]
}

/**
 * Group answers in arrival order the way ec_combine does: a new answer joins the first group
 * it matches, and a group that grows moves ahead of smaller groups only, so the first group is
 * the largest and, among equals, the one that reached that size first.
 */
export function groupAnswers<T extends { brick: number }> (answers: readonly T[], same: (a: T, b: T) => boolean): Array<AnswerGroup<T>> {
  const list: Array<AnswerGroup<T>> = []
  for (const a of answers) {
    const at = list.findIndex(g => same(a, g.answers[g.answers.length - 1]!))
    if (at < 0) { list.push({ bricks: [a.brick], answers: [a] }); continue }
    const g = list[at]!
    const grown: AnswerGroup<T> = { bricks: [...g.bricks, a.brick].sort((x, y) => x - y), answers: [...g.answers, a] }
    let j = at - 1
    while (j >= 0 && list[j]!.answers.length < grown.answers.length) j--
    list.splice(at, 1)
    list.splice(j + 1, 0, grown)
  }
  return list
}

// ec-combine.c:ec_xattr_match (keys not compared at all) and ec_value_ignore (keys whose value
// may differ); fnmatch patterns as regular expressions
const glob = (p: string): RegExp => new RegExp('^' + p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*') + '$')
const NOT_COMPARED = [glob('trusted.glusterfs.*.stime'), /^get-link-count$/, /^glusterfs\.inodelk-count$/, /^glusterfs\.entrylk-count$/, /^glusterfs\.open-fd-count$/]
const VALUE_IGNORED = [
  /^glusterfs\.content$/, /^trusted\.glusterfs\.pathinfo$/, /^glusterfs\.pathinfo$/, /^trusted\.glusterfs\.lockinfo$/,
  /^glusterfs\.open-fd-count$/, /^glusterfs\.inodelk-count$/, /^glusterfs\.entrylk-count$/, /^glusterfs\.clrlk/,
  /^dht-get-iatt-in-xattr$/, /^trusted\.glusterfs\.quota\./, glob('trusted.glusterfs.*.xtime'),
  glob('trusted.glusterfs.volume-mark.*'), /^trusted\.glusterfs\.node-uuid/,
]

const bytesEqual = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0

/** libglusterfs dict.c:is_data_equal for our typed values (type first, iatt by identity fields). */
function valueEqual (a: GfxValue, b: GfxValue): boolean {
  if (a.type !== b.type) return false
  switch (a.type) {
    case GfxDictType.IATT: {
      const x = a.value
      const y = (b as typeof a).value
      const fmt = (m: number): number => m & 0o170000
      if (x.ia_ino !== y.ia_ino || fmt(x.mode) !== fmt(y.mode) || !bytesEqual(x.ia_gfid, y.ia_gfid)) return false
      return !isDevice(x) || x.ia_rdev === y.ia_rdev
    }
    case GfxDictType.MDATA: {
      const x = a.value
      const y = (b as typeof a).value
      return JSON.stringify(x, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v)) === JSON.stringify(y, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))
    }
    case GfxDictType.PTR:
    case GfxDictType.STR_OLD:
    case GfxDictType.GFUUID:
      return bytesEqual(a.value, (b as typeof a).value)
    default:
      return a.value === (b as typeof a).value
  }
}

/** ec-combine.c:ec_dict_compare (libglusterfs are_dicts_equal with ec's key filters). */
export function ecDictEqual (a: GfxDict | undefined, b: GfxDict | undefined): boolean {
  const compared = (d: GfxDict | undefined): Array<[string, GfxValue]> =>
    d == null ? [] : [...d].filter(([k]) => !NOT_COMPARED.some(re => re.test(k)))
  const ka = compared(a)
  const kb = compared(b)
  if (ka.length !== kb.length) return false
  for (const [k, v] of ka) {
    const w = b?.get(k)
    if (w === undefined) return false
    if (!VALUE_IGNORED.some(re => re.test(k)) && !valueEqual(v, w)) return false
  }
  return true
}

function without (d: GfxDict, key: string): GfxDict {
  if (d === null || !d.has(key)) return d
  const out = new Map(d)
  out.delete(key)
  return out
}

function pairOf (d: GfxDict, key: string): EcPair | undefined {
  const v = d?.get(key)
  if (v === undefined) return undefined
  if (v.type !== GfxDictType.PTR && v.type !== GfxDictType.STR_OLD) throw new GlusterError('EINVAL', `${key} is not a binary value`)
  return decodeEcPair(v.value, key)
}

function binOf (d: GfxDict, key: string): Buffer | undefined {
  const v = d?.get(key)
  return v !== undefined && (v.type === GfxDictType.PTR || v.type === GfxDictType.STR_OLD) ? v.value : undefined
}

const S_IFMT = 0o170000
const isDevice = (i: GfxIattx): boolean => (i.mode & S_IFMT) === 0o060000 || (i.mode & S_IFMT) === 0o020000
const isRegular = (i: GfxIattx): boolean => (i.mode & S_IFMT) === 0o100000

/** ec_iatt_combine for an unlocked LOOKUP: identity, device number, owner and mode must agree. */
function iattMatch (x: GfxIattx | undefined, y: GfxIattx | undefined): boolean {
  if (x === undefined || y === undefined) return x === y
  if (x.ia_ino !== y.ia_ino || !bytesEqual(x.ia_gfid, y.ia_gfid)) return false
  if (isDevice(x) && x.ia_rdev !== y.ia_rdev) return false
  return x.ia_uid === y.ia_uid && x.ia_gid === y.ia_gid && x.mode === y.mode
}

/** Sum of blocks scaled to the whole file, newest times (ec_iatt_combine + ec_iatt_rebuild). */
function rebuildIatt (all: GfxIattx[], k: number): GfxIattx {
  const out = { ...all[0]! }
  let blocks = 0n
  for (const i of all) {
    blocks += i.ia_blocks
    if (i.ia_blksize > out.ia_blksize) out.ia_blksize = i.ia_blksize
    for (const t of ['atime', 'mtime', 'ctime'] as const) {
      const s = i[`ia_${t}`]
      const ns = i[`ia_${t}_nsec`]
      if (s > out[`ia_${t}`] || (s === out[`ia_${t}`] && ns > out[`ia_${t}_nsec`])) { out[`ia_${t}`] = s; out[`ia_${t}_nsec`] = ns }
    }
  }
  const answers = BigInt(all.length)
  out.ia_blocks = (blocks * BigInt(k) + answers - 1n) / answers
  return out
}

export interface LookupAnswer extends EcAnswer {
  stat?: GfxIattx
  postparent?: GfxIattx
}

export interface LookupResult {
  op_ret: number
  op_errno: number
  /** the winning group: the bricks to trust for this inode */
  good: number[]
  /** bricks that answered differently */
  bad: number[]
  /** bricks that gave no answer */
  missing: number[]
  /** at least k bricks agree (a LOOKUP uses the largest group even without) */
  quorum: boolean
  /** iatt of the group; a regular file's ia_size is its trusted.ec.size */
  stat?: GfxIattx
  postparent?: GfxIattx
  version?: EcPair
  size?: bigint
  /** good bricks whose trusted.ec.dirty is not zero */
  dirty: number[]
  /** not all n bricks agree, or some are dirty: a heal is due */
  healNeeded: boolean
}

/**
 * Combine LOOKUP answers (ec-generic.c:ec_lookup_cbk, ec_combine_lookup, ec_manager_lookup,
 * ec_lookup_rebuild): trusted.ec.dirty is set aside before comparing; answers agree when their
 * op_ret/op_errno, their xdata (so version and size) and their iatts agree.
 */
export function combineLookup (answers: readonly LookupAnswer[], k: number, n: number): LookupResult {
  if (answers.length === 0) throw new GlusterError('ENOTCONN', 'disperse LOOKUP: no brick answered')
  const prepared = answers.map(a => ({ ...a, xdata: without(a.xdata, EC_XATTR.dirty), dirtyPair: pairOf(a.xdata, EC_XATTR.dirty) }))
  const groups = groupAnswers(prepared, (a, b) =>
    a.op_ret === b.op_ret && (a.op_ret >= 0 || a.op_errno === b.op_errno) && ecDictEqual(a.xdata, b.xdata) &&
    (a.op_ret < 0 || (iattMatch(a.stat, b.stat) && iattMatch(a.postparent, b.postparent))))
  const win = groups[0]!
  const first = win.answers[0]!
  const answered = new Set(answers.map(a => a.brick))
  const result: LookupResult = {
    op_ret: first.op_ret,
    op_errno: first.op_errno,
    good: win.bricks,
    bad: [...answered].filter(b => !win.bricks.includes(b)).sort((x, y) => x - y),
    missing: [...Array(n).keys()].filter(b => !answered.has(b)),
    quorum: win.bricks.length >= k,
    dirty: win.answers.filter(a => a.dirtyPair !== undefined && (a.dirtyPair.data !== 0n || a.dirtyPair.meta !== 0n)).map(a => a.brick).sort((x, y) => x - y),
    healNeeded: false,
  }
  result.healNeeded = result.good.length < n || result.dirty.length > 0
  if (first.op_ret < 0) return result
  const version = pairOf(first.xdata, EC_XATTR.version)
  if (version !== undefined) result.version = version
  const sizeBytes = binOf(first.xdata, EC_XATTR.size)
  if (sizeBytes !== undefined) result.size = decodeEcSize(sizeBytes)
  const stats = win.answers.map(a => a.stat).filter((s): s is GfxIattx => s !== undefined)
  if (stats.length > 0) {
    result.stat = rebuildIatt(stats, k)
    if (isRegular(result.stat) && result.size !== undefined) result.stat.ia_size = result.size
  }
  const parents = win.answers.map(a => a.postparent).filter((s): s is GfxIattx => s !== undefined)
  if (parents.length > 0) result.postparent = rebuildIatt(parents, k)
  return result
}

export interface PreopAnswer extends EcAnswer {
  /** the XATTROP reply dict */
  dict: GfxDict
}

export interface PreopResult {
  /** the bricks that take this lock cycle's data fops (ec_lock_update_good) */
  good: number[]
  bad: number[]
  missing: number[]
  /** bricks whose data version carries the self-heal bit: writes still go there */
  healing: number[]
  /** at least k bricks agree; without it the fop fails */
  quorum: boolean
  version?: EcPair
  size?: bigint
  config?: EcConfig | null
  /** the fragment file size the bricks reported (xdata get-size) */
  fragmentSize?: bigint
  /** whether some brick already had the data / metadata dirty counter set */
  dirtyAlready: { data: boolean, meta: boolean }
  /** set when the agreed answer cannot be used (missing or foreign config, unreadable values) */
  error?: GlusterError
}

/**
 * Combine the pre-op XATTROP answers (ec-generic.c:ec_xattrop_cbk, ec_combine_xattrop;
 * ec-common.c:ec_prepare_update_cbk): equal dicts once dirty is removed, equal xdata (the
 * fragment size from get-size); the winner's config must be this volume's.
 */
export function combinePreop (answers: readonly PreopAnswer[], opts: { k: number, n: number, regularFile: boolean }): PreopResult {
  const { k, n } = opts
  const r = n - k
  const dirtyAlready = { data: false, meta: false }
  const healing: number[] = []
  const prepared = answers.map(a => {
    if (a.op_ret >= 0) {
      const d = pairOf(a.dict, EC_XATTR.dirty)
      if (d !== undefined) { dirtyAlready.data ||= d.data !== 0n; dirtyAlready.meta ||= d.meta !== 0n }
      const v = pairOf(a.dict, EC_XATTR.version)
      if (v !== undefined && isHealing(v)) healing.push(a.brick)
    }
    return { ...a, dict: without(a.dict, EC_XATTR.dirty) }
  })
  const groups = groupAnswers(prepared, (a, b) =>
    a.op_ret === b.op_ret && (a.op_ret >= 0 || a.op_errno === b.op_errno) && ecDictEqual(a.xdata, b.xdata) &&
    (a.op_ret < 0 || ecDictEqual(a.dict, b.dict)))
  const win = groups[0]
  const answered = new Set(answers.map(a => a.brick))
  const good = win?.bricks ?? []
  const result: PreopResult = {
    good,
    bad: [...answered].filter(b => !good.includes(b)).sort((x, y) => x - y),
    missing: [...Array(n).keys()].filter(b => !answered.has(b)),
    healing: healing.sort((x, y) => x - y),
    quorum: good.length >= k,
    dirtyAlready,
  }
  const first = win?.answers[0]
  if (first === undefined || first.op_ret < 0) return result
  const where = `bricks ${good.map(b => b + 1).join(',')}`
  try {
    result.version = pairOf(first.dict, EC_XATTR.version)
    const gs = first.xdata?.get('get-size')
    if (gs !== undefined && (gs.type === GfxDictType.UINT || gs.type === GfxDictType.INT)) result.fragmentSize = gs.value
    if (opts.regularFile) {
      const size = binOf(first.dict, EC_XATTR.size)
      if (size !== undefined) result.size = decodeEcSize(size)
      const cfg = binOf(first.dict, EC_XATTR.config)
      result.config = cfg === undefined ? null : decodeEcConfig(cfg)
      if (result.config === null) result.error = new GlusterError('ENODATA', `disperse: no trusted.ec.config on ${where}`)
      else if (!configMatches(result.config, n, r)) result.error = new GlusterError('EINVAL', `disperse: trusted.ec.config on ${where} is ${JSON.stringify(result.config)}, not ${k}+${r}`)
    }
    if (result.version === undefined) result.error ??= new GlusterError('EIO', `disperse: no trusted.ec.version in the answer of ${where}`)
  } catch (err) {
    result.error = err instanceof GlusterError ? err : new GlusterError('EIO', String(err))
  }
  return result
}

/** Whether a brick's fragment file has the size its trusted.ec.size implies (heal demotes it otherwise). */
export function fragmentSizeConsistent (size: bigint, fragmentSize: bigint, k: number): boolean {
  return BigInt(fragmentFileSize(Number(size), k)) === fragmentSize
}

/** read-policy gfid-hash: the first brick tried (ec-common.c:ec_select_first_by_read_policy). */
export function firstReadBrick (gfid: Uint8Array, n: number): number {
  return superFastHash(gfid) % n
}

/**
 * The k bricks a read goes to: from `first` on, cyclically, the usable ones
 * (ec-common.c:ec_dispatch_min); null when fewer than k are usable.
 */
export function pickReadBricks (first: number, k: number, usable: readonly boolean[]): number[] | null {
  const n = usable.length
  const out: number[] = []
  for (let i = 0; i < n && out.length < k; i++) {
    const b = (first + i) % n
    if (usable[b] === true) out.push(b)
  }
  return out.length === k ? out : null
}
