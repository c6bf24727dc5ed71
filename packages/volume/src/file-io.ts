// Moving file bytes through the top of the graph: READs (several in flight, straight into the
// caller's buffer when it gives one), whole files, streams, pipeTo's ring of reused buffers, and
// WRITEs in windows. An inode from an older graph (the volfile changed under an open handle or a
// stream) is looked up again by gfid in the current one before its next READ.
import { GlusterError } from '@gluster-ts/rpc'
import type { FopCtx, Inode, Layer, LayerFd } from './layer.js'
import type { Resolver } from './resolver.js'
import { pipeReads, type PipeDestination, type PipeToOptions } from './pipe.js'
import { VolumeReadStream, type ReadStreamOptions } from './read-stream.js'
import { VolumeWriteStream, type WriteStreamOptions } from './write-stream.js'

/**
 * READ size of readFile and streams. Larger than FUSE's 128 KiB: on the real cluster (bench/read)
 * the per-call cost (ours and the brick's) dominated with 128 KiB READs, and 1 MiB × 4 in flight
 * read about twice as fast for the same memory bound (4 MiB in flight per stream).
 */
export const DEFAULT_READ_CHUNK_BYTES = 1 << 20
export const DEFAULT_READ_WINDOW = 4
/**
 * WRITE size and WRITEs in flight of writeFile and write streams (4 MiB in flight). FUSE sends
 * 128 KiB. Not 1 MiB: a GlusterFS 10 brick takes a 1 MiB WRITE's payload buffer from malloc
 * instead of its iobuf pool (statedump request_misses +1 per WRITE), which cost the bricks about
 * twice the CPU per byte and 0.2 page faults per 4 KiB written (bench/results/write.md).
 */
export const DEFAULT_WRITE_CHUNK_BYTES = 512 * 1024
export const DEFAULT_WRITE_WINDOW = 8

export interface IoOptions {
  readChunkBytes?: number
  readWindow?: number
  writeChunkBytes?: number
  writeWindow?: number
}

/** An inode a reader keeps; replaced when the graph it came from is gone. */
export interface InodeRef { inode: Inode }

export class FileIO {
  readonly #top: () => Layer
  readonly #r: Resolver
  readonly #track: <T>(p: Promise<T>) => Promise<T>
  readonly readChunk: number
  readonly readWindow: number
  readonly writeChunk: number
  readonly writeWindow: number

  constructor (top: () => Layer, r: Resolver, o: IoOptions, track: <T>(p: Promise<T>) => Promise<T>) {
    this.#top = top
    this.#r = r
    this.#track = track
    this.readChunk = o.readChunkBytes ?? DEFAULT_READ_CHUNK_BYTES
    this.readWindow = o.readWindow ?? DEFAULT_READ_WINDOW
    this.writeChunk = o.writeChunkBytes ?? DEFAULT_WRITE_CHUNK_BYTES
    this.writeWindow = o.writeWindow ?? DEFAULT_WRITE_WINDOW
  }

  /**
   * One READ (with failover and hedging below). With `into`, the data is returned as a view of
   * `into` (read there in place when possible, else copied there).
   */
  async read (ref: InodeRef, offset: number, size: number, o: FopCtx, into?: Buffer): Promise<Buffer> {
    const top = this.#top()
    if (ref.inode.layer !== top) ref.inode = await this.#r.current(ref.inode, o)
    return await top.read(ref.inode, offset, size, { ...o, ...(into !== undefined ? { into } : {}) })
  }

  /** The whole file, READs in parallel; a file that grew since its lookup is read to the end. */
  async readAll (inode: Inode, o: FopCtx): Promise<Buffer> {
    const ref: InodeRef = { inode }
    const chunk = this.readChunk
    const size = Number(inode.stat.ia_size)
    const parts: Buffer[] = []
    let next = 0
    const results = new Map<number, Buffer>()
    const worker = async (): Promise<void> => {
      while (next < size) {
        const off = next
        next += chunk
        results.set(off, await this.read(ref, off, Math.min(chunk, size - off), o))
      }
    }
    await Promise.all(Array.from({ length: Math.min(this.readWindow, Math.ceil(size / chunk)) }, worker))
    for (let off = 0; off < size; off += chunk) {
      const d = results.get(off)!
      parts.push(d)
      if (d.length < Math.min(chunk, size - off)) break
    }
    let off = parts.reduce((n, p) => n + p.length, 0)
    if (off === size) {
      for (;;) {
        const d = await this.read(ref, off, chunk, o)
        if (d.length === 0) break
        parts.push(d)
        off += d.length
        if (d.length < chunk) break
      }
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts)
  }

  /** pipeTo: READs into a small ring of reused buffers, written to `dest` in order. */
  pipe (inode: Inode, path: string, dest: PipeDestination, opts: PipeToOptions): Promise<number> {
    const ref: InodeRef = { inode }
    return this.#track(pipeReads({
      size: Number(inode.stat.ia_size),
      read: (offset, size, into, signal) => this.read(ref, offset, size, { signal, path }, into),
    }, dest, { ...opts, chunkBytes: this.readChunk, window: opts.window ?? this.readWindow }))
  }

  /** A read stream over `open` (which resolves the file when the stream starts). */
  stream (open: (signal: AbortSignal) => Promise<{ inode: Inode, path: string }>, opts: ReadStreamOptions): VolumeReadStream {
    let ref: InodeRef | undefined
    let p = ''
    return new VolumeReadStream({
      open: async (signal) => {
        const r = await open(signal)
        ref = { inode: r.inode }
        p = r.path
        return { size: Number(r.inode.stat.ia_size) }
      },
      read: (offset, size, signal) => this.#track(this.read(ref!, offset, size, { signal, path: p })),
    }, { chunkBytes: this.readChunk, window: this.readWindow, ...opts })
  }

  /** Write `data` at `pos`: WRITEs of writeChunkBytes, writeWindow of them in flight. */
  async writeAt (f: LayerFd, data: Buffer, pos: number, o: FopCtx): Promise<number> {
    const chunk = this.writeChunk
    if (data.length <= chunk) return await this.#track(f.write(data, pos, o.signal))
    let next = 0
    let total = 0
    const worker = async (): Promise<void> => {
      while (next < data.length) {
        const off = next
        next += chunk
        const part = data.subarray(off, Math.min(off + chunk, data.length))
        const n = await f.write(part, pos + off, o.signal)
        total += n
        if (n < part.length) throw new GlusterError('EIO', `EIO: short write at ${pos + off} of '${f.path}': ${n} of ${part.length} bytes`, { path: f.path, syscall: 'write', errno: 5 })
      }
    }
    await this.#track(Promise.all(Array.from({ length: Math.min(this.writeWindow, Math.ceil(data.length / chunk)) }, worker)))
    return total
  }

  writeStream (sink: { open: (signal: AbortSignal) => Promise<LayerFd>, owns: boolean }, opts: WriteStreamOptions): VolumeWriteStream {
    return new VolumeWriteStream(sink, { chunkBytes: this.writeChunk, window: this.writeWindow, ...opts })
  }
}
