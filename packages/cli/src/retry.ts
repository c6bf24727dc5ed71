// --retries: an operation that failed because the volume was unavailable (no server, no quorum,
// a timeout: the errors that exit with status 6) is tried again after 0.5 s, 1 s, 2 s … (at most
// 8 s between tries). Other failures (ENOENT, EACCES, EIO…) would fail the same way again.
import { EXIT, exitCodeFor } from './errors.js'
import { REAL_CLOCK, type Clock } from './bwlimit.js'

export const RETRY_BASE_MS = 500
export const RETRY_MAX_MS = 8000

export function retryable (err: unknown): boolean {
  return exitCodeFor(err) === EXIT.UNAVAILABLE
}

/** fn, tried again up to `retries` times while it fails with an unavailable-class error */
export async function withRetry<T> (fn: () => Promise<T>, o: { retries: number, signal?: AbortSignal, clock?: Clock, onRetry?: (err: unknown, attempt: number, waitMs: number) => void }): Promise<T> {
  const clock = o.clock ?? REAL_CLOCK
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn()
    } catch (err) {
      if (attempt >= o.retries || !retryable(err) || o.signal?.aborted === true) throw err
      const wait = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** attempt)
      o.onRetry?.(err, attempt + 1, wait)
      await clock.sleep(wait, o.signal)
    }
  }
}
