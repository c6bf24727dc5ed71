// Removing a sharded file (gluster-shard-tls-auth.md §1.9), as GlusterFS's shard translator
// does it so that every client agrees: under an INODELK on the base file and an ENTRYLK on the
// marker's name (both in the shard translator's domain), a marker `/.shard/.remove_me/<base
// gfid>` carrying the file's block size and size is made, then the base file goes (UNLINK, or
// the RENAME over it). The blocks are deleted afterwards, in the background: for each marker
// whose base file is gone, blocks 1..⌈size/bs⌉−1 are unlinked, `shard-deletion-rate` at a time,
// then the marker. Any client can finish what another started (GlusterFS's FUSE clients scan
// `.remove_me` every 10 minutes); ours does it right after its own unlink.
import { GlusterError, GfXattropFlags, gfxInt, gfxUint } from '@gluster-ts/rpc'
import { newGfid, type FopCtx, type Inode } from './layer.js'
import { BLOCK_SIZE_XATTR, FILE_SIZE_XATTR, blockSizeValue, fileSizeValue, shardAttrs, shardName } from './shard-format.js'
import { gfidString } from './stats.js'
import type { ShardLayer } from './shard.js'
import { windowController } from './abort.js'

const S_IFREG = 0o100000
const GFID_NAME = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

const missing = (e: unknown): boolean => e instanceof GlusterError && (e.code === 'ENOENT' || e.code === 'ESTALE')

export class ShardDeleter {
  readonly #layer: ShardLayer
  readonly #enabled: boolean
  /** every deletion fop listens on it: a batch of deletionRate blocks at once (windowController) */
  readonly #life: AbortController
  #job: Promise<void> | undefined
  #again = false

  /** `enabled` false: markers are left for GlusterFS's clients (whose thread scans every 10 minutes) */
  constructor (layer: ShardLayer, enabled = true) {
    this.#layer = layer
    this.#enabled = enabled
    this.#life = windowController(layer.deletionRate)
  }

  /**
   * Remove the sharded file `base` (an inode of the layer below) with `op` (its UNLINK, or the
   * RENAME over it), leaving the marker its blocks are deleted by. A file with other hard links
   * keeps its blocks: `op` alone.
   */
  async replace (base: Inode, _bs: number, o: FopCtx, op: () => Promise<void>): Promise<void> {
    const L = this.#layer
    const child = L.child
    const rm = (await L.removeMe(true, o))!
    const release = await child.lock({ kind: 'inode', inode: base }, L.name, o)
    let marked = false
    try {
      const fresh = await child.lookupGfid(base.gfid, { ...o, xdata: L.keys() })
      const attrs = shardAttrs(fresh.xdata)
      if (fresh.stat.ia_nlink > 1 || attrs === undefined) { await op(); return }
      const name = gfidString(base.gfid)
      const releaseName = await child.lock({ kind: 'entry', parent: rm, name }, L.name, o)
      try {
        const keys = { [BLOCK_SIZE_XATTR]: blockSizeValue(attrs.blockSize), [FILE_SIZE_XATTR]: fileSizeValue(BigInt(attrs.size), 0n) }
        try {
          await child.mknod(rm, name, 0n, { ...o, path: `/.shard/.remove_me/${name}`, mode: S_IFREG, gfid: newGfid(), xdata: { ...keys, 'glusterfs-internal-fop': gfxInt(1) } })
        } catch (e) {
          // a marker from an earlier attempt: give it this size
          if (!(e instanceof GlusterError && e.code === 'EEXIST')) throw e
          const m = await child.lookup(rm, name, o)
          await child.xattrop(m, GfXattropFlags.GET_AND_SET, new Map(Object.entries(keys)), o)
        }
        marked = true
        await op()
      } finally {
        await releaseName()
      }
    } finally {
      await release()
    }
    L.forgetBlocks(base.gfid)
    if (marked) this.kick()
  }

  /** (Re)start the background deletion: every marker in `.remove_me`. */
  kick (): void {
    if (this.#life.signal.aborted || !this.#enabled) return
    if (this.#job !== undefined) { this.#again = true; return }
    this.#job = (async () => {
      do {
        this.#again = false
        await this.#sweep().catch(() => {}) // what fails stays for the next sweep (ours or another client's)
      } while (this.#again && !this.#life.signal.aborted)
    })().finally(() => { this.#job = undefined })
  }

  /** Wait for the deletion at most `timeoutMs`, then abort it (markers left are finished later). */
  async close (timeoutMs: number): Promise<void> {
    const job = this.#job
    if (job !== undefined) {
      let t: NodeJS.Timeout | undefined
      await Promise.race([job, new Promise<void>(resolve => { t = setTimeout(resolve, timeoutMs) })])
      if (t !== undefined) clearTimeout(t)
    }
    this.#life.abort()
    await this.#job
  }

  /** Resolves when no deletion is running (tests, benches). */
  async idle (): Promise<void> { while (this.#job !== undefined) await this.#job }

  async #sweep (): Promise<void> {
    const o: FopCtx = { signal: this.#life.signal, syscall: 'unlink' }
    const L = this.#layer
    const rm = await L.removeMe(false, o)
    if (rm === undefined) return
    const names: string[] = []
    for await (const page of L.child.readdir(rm, o)) for (const e of page) if (GFID_NAME.test(e.name)) names.push(e.name)
    for (const name of names) {
      if (this.#life.signal.aborted) return
      await this.#deleteMarker(rm, name, o).catch(() => {})
    }
  }

  async #deleteMarker (rm: Inode, name: string, o: FopCtx): Promise<void> {
    const L = this.#layer
    const child = L.child
    const gfid = Buffer.from(name.replaceAll('-', ''), 'hex')
    // a base file that still exists, or is unlinked but open somewhere, keeps its blocks for now
    try {
      await child.lookupGfid(gfid, { ...o, xdata: { 'unlinked-lookup': gfxUint(1) } })
      return
    } catch (e) {
      if (!missing(e)) throw e
    }
    const release = await child.lock({ kind: 'entry', parent: rm, name }, L.name, o)
    try {
      let marker: Inode
      try {
        marker = await child.lookup(rm, name, { ...o, xdata: L.keys() })
      } catch (e) {
        if (missing(e)) return // another client got there first
        throw e
      }
      const a = shardAttrs(marker.xdata)
      L.forgetBlocks(gfid) // what we believed about its blocks, missing ones included, may be old
      if (a !== undefined && a.size > a.blockSize) {
        const count = Math.ceil(a.size / a.blockSize) - 1
        const dot = await L.dotShard(false, o)
        for (let first = 1; dot !== undefined && first <= count; first += L.deletionRate) {
          const batch = Array.from({ length: Math.min(L.deletionRate, count - first + 1) }, (_, k) => first + k)
          await Promise.all(batch.map(async n => {
            const b = await L.block(gfid, n, o)
            if (b === undefined) return
            await child.unlink(dot, shardName(gfid, n), b, { ...o, path: `/.shard/${shardName(gfid, n)}` }).catch(e => { if (!missing(e)) throw e })
          }))
        }
        L.forgetBlocks(gfid)
      }
      await child.unlink(rm, name, marker, { ...o, path: `/.shard/.remove_me/${name}` }).catch(e => { if (!missing(e)) throw e })
    } finally {
      await release()
    }
  }
}
