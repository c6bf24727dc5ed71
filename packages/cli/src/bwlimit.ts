// --bwlimit: one token bucket shared by every transfer of the run, so N files at once together
// stay under the rate (what rclone's --bwlimit does). Bytes are taken before they are written.
import { Transform } from 'node:stream'
import { CliError } from './errors.js'

/**
 * '10M' → 10 MiB/s: bytes per second with an optional K, M, G, T suffix in powers of 1024, as
 * rclone reads --bwlimit (except that a bare number is bytes/s here, KiB/s in rclone); 'off' or 0:
 * no limit.
 */
export function parseRate (text: string): number {
  const t = text.trim()
  if (t === 'off' || t === '0') return 0
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?(?:\/s)?$/i.exec(t)
  if (m === null) throw new CliError('EUSAGE', `invalid --bwlimit '${text}' (bytes per second, with K, M, G: 512K, 10M, 1G; off for none)`)
  const unit = m[2]!.toLowerCase()
  const v = Number(m[1]) * (unit === '' ? 1 : 1024 ** ('kmgt'.indexOf(unit) + 1))
  if (!Number.isFinite(v) || v < 1) throw new CliError('EUSAGE', `invalid --bwlimit '${text}' (at least 1 byte per second)`)
  return Math.floor(v)
}

export interface Clock {
  now (): number
  sleep (ms: number, signal?: AbortSignal): Promise<void>
}

export const REAL_CLOCK: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) => new Promise((resolve, reject) => {
    if (signal?.aborted === true) { reject(signal.reason); return }
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve() }, ms)
    const onAbort = (): void => { clearTimeout(t); reject(signal!.reason) }
    signal?.addEventListener('abort', onAbort, { once: true })
  }),
}

/**
 * `rate` bytes per second, at most one second's worth banked. A take larger than what is banked
 * goes into debt and waits it off, so a chunk bigger than the rate still passes (later than the
 * one before it). Takes are served in order.
 */
export class TokenBucket {
  readonly rate: number
  readonly #clock: Clock
  #tokens: number
  #last: number
  #queue: Promise<void> = Promise.resolve()

  constructor (rate: number, clock: Clock = REAL_CLOCK) {
    this.rate = rate
    this.#clock = clock
    this.#tokens = rate
    this.#last = clock.now()
  }

  /** resolves when `n` bytes may go */
  take (n: number, signal?: AbortSignal): Promise<void> {
    const p = this.#queue.then(async () => {
      const now = this.#clock.now()
      this.#tokens = Math.min(this.rate, this.#tokens + (now - this.#last) * this.rate / 1000)
      this.#last = now
      this.#tokens -= n
      if (this.#tokens < 0) await this.#clock.sleep(-this.#tokens * 1000 / this.rate, signal)
    })
    this.#queue = p.catch(() => {})
    return p
  }

  /** a pass-through stream that takes each chunk's bytes first */
  stream (signal?: AbortSignal): Transform {
    return new Transform({
      transform: (c: Buffer, _e, cb) => { this.take(c.length, signal).then(() => { cb(null, c) }, cb) },
    })
  }
}
