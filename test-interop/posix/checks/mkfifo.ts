// mkfifo(3) (coreutils mkfifo, one mknod(2) when the mode fits 0666): what every creating call
// shares (create.ts), and that the FIFO carries data between a reader and a writer.
import { check } from '../check.js'
import type { Check } from '../check.js'
import { createChecks } from './create.js'

const out: Check[] = createChecks({
  group: 'mkfifo',
  label: 'mkfifo',
  type: 'fifo',
  call: (w, p, mode) => w.mkfifo(p, mode),
  modes: [0o644, 0o600, 0o604, 0o440, 0o755],
  umasks: [[0o022, 0o666, 0o644], [0o077, 0o666, 0o600], [0o027, 0o660, 0o640]],
})

out.push(check('mkfifo', 'a FIFO carries data from a writer to a reader', async c => {
  const f = c.p('f')
  c.ok(await c.root.mkfifo(f, 0o666), 'mkfifo f')
  const r = c.ok(await c.root.open(f, ['O_RDONLY', 'O_NONBLOCK']), 'open f O_RDONLY|O_NONBLOCK')
  const w = c.ok(await c.root.open(f, ['O_WRONLY', 'O_NONBLOCK']), 'open f O_WRONLY|O_NONBLOCK')
  c.equal(c.ok(await c.root.write(w, 'through the pipe'), 'write'), 16, 'bytes written')
  c.equal(c.ok(await c.root.read(r, 64), 'read'), 'through the pipe', 'bytes read')
  c.equal((await c.lstat(f)).size, 0, 'size of f')
}))

export const MKFIFO_CHECKS = out
