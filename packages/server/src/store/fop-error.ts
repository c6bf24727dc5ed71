import { errnoNumber } from '@gluster-ts/rpc'

/**
 * A failed fop: the brick answers op_ret -1 with `errno` (Linux numbering). Thrown inside the
 * store and the fop handlers, turned into a reply by brick.ts.
 */
export class FopError extends Error {
  override name = 'FopError'
  readonly code: string
  readonly errno: number
  constructor (code: string, message?: string) {
    super(message ?? code)
    this.code = code
    this.errno = errnoNumber(code) ?? 5
  }
}

/** The wire errno for anything thrown while serving a fop (Node fs errors keep their code). */
export function errnoOf (err: unknown): number {
  if (err instanceof FopError) return err.errno
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  if (typeof code === 'string') return errnoNumber(code) ?? 5
  return 5
}
