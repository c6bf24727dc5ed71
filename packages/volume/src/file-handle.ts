// FileHandle (an open file, shaped like fs/promises' FileHandle) and Dir (a directory being read).
// Reads go through the bricks' anonymous fds (nothing to re-open after a reconnect); a handle
// opened for writing also holds the top layer's fd (under AFR: an fd on every brick of the
// replica set, writes in data transactions; under shard: the base file's and its blocks').
import { GlusterError } from '@gluster-ts/rpc'
import type { FopCtx, Inode, LayerFd } from './layer.js'
import type { FileIO, InodeRef } from './file-io.js'
import type { PipeDestination, PipeToOptions } from './pipe.js'
import type { VolumeReadStream, ReadStreamOptions } from './read-stream.js'
import type { VolumeWriteStream } from './write-stream.js'
import { Dirent, Stats, gfidString } from './stats.js'

export interface OpOptions { signal?: AbortSignal }

/** What a FileHandle needs from its Volume. */
export interface FileHost {
  readonly io: FileIO
  /** a fresh lookup by gfid in the current graph */
  lookupGfid (gfid: Buffer, o: FopCtx): Promise<Inode>
  /** the handle's fd is closed */
  forget (f: LayerFd): void
  chmod (path: string, mode: number, o: OpOptions): Promise<void>
  utimes (path: string, atime: Date | number, mtime: Date | number, o: OpOptions): Promise<void>
}

function ebadf (path: string, syscall: string, why: string): GlusterError {
  return new GlusterError('EBADF', `EBADF: file handle for '${path}' ${why}`, { path, syscall })
}

export class FileHandle {
  readonly #host: FileHost
  readonly #path: string
  readonly #ref: InodeRef | undefined
  readonly #gfid: Buffer
  readonly #file: LayerFd | undefined
  readonly #append: boolean
  readonly #readable: boolean
  #pos = 0
  #closed = false

  /** @internal */
  constructor (host: FileHost, path: string, inode: Inode | undefined, o: { gfid?: Buffer, file?: LayerFd, append?: boolean, readable?: boolean } = {}) {
    this.#host = host
    this.#path = path
    this.#ref = inode !== undefined ? { inode } : undefined
    this.#gfid = inode?.gfid ?? o.gfid!
    this.#file = o.file
    this.#append = o.append === true
    this.#readable = o.readable !== false
  }

  get gfid (): string { return gfidString(this.#gfid) }
  get path (): string { return this.#path }

  #check (syscall = 'read'): void {
    if (this.#closed) throw ebadf(this.#path, syscall, 'is closed')
    if (syscall === 'read' && !this.#readable) throw ebadf(this.#path, syscall, 'is not open for reading')
  }

  #writable (syscall: string): LayerFd {
    this.#check(syscall)
    if (this.#file === undefined) throw ebadf(this.#path, syscall, 'is not open for writing')
    return this.#file
  }

  #o (opts: OpOptions): FopCtx { return { ...opts, path: this.#path } }

  /** The inode to read: looked up again after our own writes (size, good copies) or when we never had one. */
  async #fresh (opts: OpOptions): Promise<InodeRef> {
    if (this.#ref === undefined) return { inode: await this.#host.lookupGfid(this.#gfid, this.#o(opts)) }
    if (this.#file !== undefined) this.#ref.inode = await this.#host.lookupGfid(this.#gfid, this.#o(opts))
    return this.#ref
  }

  #forReading (syscall: string): Inode {
    if (this.#ref === undefined || this.#file !== undefined) throw ebadf(this.#path, 'read', `is open for writing: ${syscall} needs it opened again with 'r'`)
    return this.#ref.inode
  }

  /** Read into `buffer` (like fs FileHandle.read); position null/undefined is not tracked: pass one. */
  async read (buffer: Buffer, offset = 0, length = buffer.length - offset, position = 0, opts: OpOptions = {}): Promise<{ bytesRead: number, buffer: Buffer }> {
    this.#check()
    const ref = await this.#fresh(opts)
    if (offset < 0 || length < 0 || offset + length > buffer.length) throw new RangeError(`offset ${offset} + length ${length} is outside the buffer (${buffer.length} bytes)`)
    let done = 0
    while (done < length) {
      const want = Math.min(length - done, 1 << 20)
      // the READ's payload is read by the kernel straight into `buffer` (rpc's `into`)
      const into = buffer.subarray(offset + done, offset + done + want)
      const d = await this.#host.io.read(ref, position + done, want, this.#o(opts), into)
      done += d.length
      if (d.length < want) break
    }
    return { bytesRead: done, buffer }
  }

  /**
   * Copy the file (or [start, end]) into `dest`, a Writable that is done with a chunk when it
   * calls back for it (a socket, a file, an HTTP response, process.stdout): READs land in a
   * small ring of buffers reused as `dest` calls back, so memory stays flat and nothing is
   * allocated per READ. Respects `dest`'s backpressure; does not end it. Resolves with the
   * bytes written. For a consumer that keeps the chunks, use createReadStream.
   */
  async pipeTo (dest: PipeDestination, opts: PipeToOptions = {}): Promise<number> {
    this.#check()
    return await this.#host.io.pipe(this.#forReading('pipeTo'), this.#path, dest, opts)
  }

  async stat (opts: OpOptions = {}): Promise<Stats> {
    this.#check('stat')
    if (this.#file !== undefined) await this.#file.sync()
    const inode = await this.#host.lookupGfid(this.#gfid, this.#o(opts))
    if (this.#ref !== undefined) this.#ref.inode = inode
    return new Stats(inode.stat)
  }

  async readFile (opts: OpOptions = {}): Promise<Buffer> {
    this.#check()
    return await this.#host.io.readAll((await this.#fresh(opts)).inode, this.#o(opts))
  }

  createReadStream (opts: Omit<ReadStreamOptions, 'chunkBytes' | 'window'> = {}): VolumeReadStream {
    this.#check()
    const inode = this.#forReading('createReadStream')
    return this.#host.io.stream(async () => ({ inode, path: this.#path }), opts)
  }

  /**
   * Write `length` bytes of `buffer` from `offset` at `position` (null/undefined: the current
   * position, which then advances; with 'a'/'a+': always the end). Resolves once the layers
   * below have them (AFR: a quorum of the replica set).
   */
  async write (buffer: Uint8Array, offset = 0, length = buffer.byteLength - offset, position: number | null = null, opts: OpOptions = {}): Promise<{ bytesWritten: number, buffer: Uint8Array }> {
    const f = this.#writable('write')
    if (offset < 0 || length < 0 || offset + length > buffer.byteLength) throw new RangeError(`offset ${offset} + length ${length} is outside the buffer (${buffer.byteLength} bytes)`)
    const data = Buffer.from(buffer.buffer, buffer.byteOffset + offset, length)
    const start = this.#append ? f.size : position ?? this.#pos
    const n = await this.#host.io.writeAt(f, data, start, opts)
    if (position === null || this.#append) this.#pos = start + n
    return { bytesWritten: n, buffer }
  }

  async truncate (len = 0, opts: OpOptions = {}): Promise<void> {
    await this.#writable('ftruncate').truncate(len, opts.signal)
  }

  /** Wait for the writes, FSYNC, and close the write transactions (post-op, unlock). */
  async sync (_opts: OpOptions = {}): Promise<void> { await this.#writable('fsync').sync() }
  async datasync (opts: OpOptions = {}): Promise<void> { await this.sync(opts) }

  async chmod (mode: number, opts: OpOptions = {}): Promise<void> {
    this.#check('fchmod')
    await this.#host.chmod(this.#path, mode, opts)
  }

  async utimes (atime: Date | number, mtime: Date | number, opts: OpOptions = {}): Promise<void> {
    this.#check('futimes')
    await this.#host.utimes(this.#path, atime, mtime, opts)
  }

  /** A write stream over this handle (the handle stays open when the stream finishes). */
  createWriteStream (opts: { start?: number, highWaterMark?: number, signal?: AbortSignal } = {}): VolumeWriteStream {
    const f = this.#writable('write')
    return this.#host.io.writeStream({ open: async () => f, owns: false }, { ...opts, ...(opts.start === undefined ? { start: this.#append ? f.size : this.#pos } : {}) })
  }

  /** End the write transactions, then FLUSH + RELEASE on every brick the file was opened on. */
  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#file !== undefined) {
      try { await this.#file.close() } finally { this.#host.forget(this.#file) }
    }
  }

  async [Symbol.asyncDispose] (): Promise<void> { await this.close() }
}

/** A directory being read: an async iterable of Dirents, paging through READDIRP. */
export class Dir implements AsyncIterable<Dirent> {
  readonly path: string
  readonly #it: AsyncGenerator<Dirent>
  constructor (path: string, it: AsyncGenerator<Dirent>) {
    this.path = path
    this.#it = it
  }

  async read (): Promise<Dirent | null> {
    const r = await this.#it.next()
    return r.done === true ? null : r.value
  }

  async close (): Promise<void> { await this.#it.return(undefined) }
  async [Symbol.asyncDispose] (): Promise<void> { await this.close() }
  [Symbol.asyncIterator] (): AsyncIterator<Dirent> { return this.#it }
}
