// The golden data of the real `disperse 3 redundancy 1` volume (fixtures/disperse-2+1, from
// ../shared/captures/volume-types/disperse-2+1): inputs, expected fragments, xattrs.
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const FIXTURES = fileURLToPath(new URL('../../fixtures/disperse-2+1/', import.meta.url))
/** The full capture directory, when ../shared is next to the repository (CI, developers). */
export const SHARED = fileURLToPath(new URL('../../../../../../shared/captures/volume-types/disperse-2+1/', import.meta.url))
export const haveShared = existsSync(SHARED)

/** The capture's pat.py: b[i] = (i·31 + ⌊i/256⌋·7 + seed) mod 256. */
export function pat (n: number, seed: number): Buffer {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 8) * 7 + seed) & 255
  return b
}

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

/** Final contents of every captured file (README.md: later writes to f1049576 and f1025). */
export function capturedFiles (): Array<{ name: string, size: number, content: Buffer }> {
  const sizes = [0, 1, 511, 512, 1023, 1024, 1025, 4096, 65539, 1049576]
  return sizes.map(size => {
    let content = pat(size, 0)
    if (size === 1049576) pat(100, 99).copy(content, 700)
    if (size === 1025) content = Buffer.concat([content, pat(3000, 5)])
    return { name: `f${size}`, size: content.length, content }
  })
}

/** A `sha256sum` listing: file name → hash. */
function hashList (file: string): Map<string, string> {
  const m = new Map<string, string>()
  for (const line of readFileSync(FIXTURES + file, 'utf8').split('\n')) {
    const [h, f] = line.trim().split(/\s+/)
    if (h !== undefined && f !== undefined) m.set(f, h)
  }
  return m
}

/** Expected sha256 of each input (sha256s.txt: src-N.bin, exp-N.bin). */
export const inputHashes = (): Map<string, string> => hashList('sha256s.txt')

/** sha256 of every captured fragment file, by file name (brick<i>-f<N>.bin). */
export const fragmentHashes = (): Map<string, string> => hashList('fragments.sha256')

/** A captured fragment file: the committed copy, else the shared capture, else undefined. */
export function capturedFragment (brick: number, name: string): Buffer | undefined {
  const file = `brick${brick + 1}-${name}.bin`
  if (existsSync(FIXTURES + file)) return readFileSync(FIXTURES + file)
  if (haveShared) return readFileSync(SHARED + file)
  return undefined
}

/** `getfattr -d -m . -e hex` dump of one brick: file name → xattr name → value bytes. */
export function capturedXattrs (brick: number): Map<string, Map<string, Buffer>> {
  const out = new Map<string, Map<string, Buffer>>()
  let cur: Map<string, Buffer> | undefined
  for (const line of readFileSync(FIXTURES + `brick${brick + 1}.xattrs.txt`, 'utf8').split('\n')) {
    const file = /^# file: .*\/([^/]+)\.bin$/.exec(line)
    if (file !== null) { cur = new Map(); out.set(file[1]!, cur); continue }
    const kv = /^([^=]+)=0x([0-9a-f]*)$/.exec(line)
    if (kv !== null && cur !== undefined) cur.set(kv[1]!, Buffer.from(kv[2]!, 'hex'))
  }
  return out
}
