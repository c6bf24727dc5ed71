// batch FILE|-: one gluster-ts command per line (without the leading `gluster-ts`), all over one
// connection per volume, in order (commands.lines.ts runs them).
import { open } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import type { Session } from '../session.js'
import { report } from './common.js'
import { linesOf, noInput, runLines, type Dispatch } from './lines.js'

export async function batch (s: Session, file: string, o: { keepGoing: boolean }, dispatch: Dispatch): Promise<number> {
  let input: Readable
  let close = async (): Promise<void> => {}
  if (file === '-') {
    input = s.io.stdin
  } else {
    try {
      const fh = await open(file, 'r')
      input = fh.createReadStream({ encoding: 'utf8' })
      close = () => fh.close().catch(() => {})
    } catch (err) {
      return report(s, 'batch', file, err)
    }
  }
  const lines = linesOf(input)
  try {
    // the commands of `batch -` must not read the rest of the script as their own input
    return await runLines(s, lines, { command: 'batch', source: file, keepGoing: o.keepGoing },
      async words => ({ code: await dispatch(words, { stdin: file === '-' ? noInput() : undefined }) }))
  } catch (err) {
    return report(s, 'batch', file, err)
  } finally {
    lines.close()
    await close()
  }
}
