// sha256 of a file, or of its first `length` bytes (cp --resume --checksum, sync --checksum, sum).
import { createHash } from 'node:crypto'
import type { Endpoint } from './endpoint.js'

export async function sha256 (ep: Endpoint, path: string, length = Infinity): Promise<{ hex: string, bytes: number }> {
  const h = createHash('sha256')
  let bytes = 0
  const stream = ep.createReadStream(path)
  try {
    for await (const chunk of stream) {
      let c = chunk as Buffer
      if (bytes + c.length > length) c = c.subarray(0, length - bytes)
      h.update(c)
      bytes += c.length
      if (bytes >= length) break
    }
  } finally {
    stream.destroy()
  }
  return { hex: h.digest('hex'), bytes }
}
