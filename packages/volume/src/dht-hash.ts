// DHT's name hash, gf_dm_hashfn (gluster-cluster.md §5.1): Davies-Meyer over a TEA-like round,
// written from the description, not from GlusterFS code. Two traps: full words are read
// little-endian, and tail bytes are SIGN-extended (C `char` is signed on x86), which moves every
// non-ASCII name.
const DELTA = 0x9e3779b9

function teaRounds (h: Uint32Array, a0: number, a1: number, a2: number, a3: number, n: number): void {
  let b0 = h[0]!
  let b1 = h[1]!
  let sum = 0
  for (let i = 0; i < n; i++) {
    sum = (sum + DELTA) >>> 0
    b0 = (b0 + ((((b1 << 4) + a0) ^ (b1 + sum) ^ ((b1 >>> 5) + a1)) >>> 0)) >>> 0
    b1 = (b1 + ((((b0 << 4) + a2) ^ (b0 + sum) ^ ((b0 >>> 5) + a3)) >>> 0)) >>> 0
  }
  h[0] = (h[0]! + b0) >>> 0
  h[1] = (h[1]! + b1) >>> 0
}

/** gf_dm_hashfn over the bytes of `name` (UTF-8 for a string). Returns an unsigned 32-bit number. */
export function dmHash (name: string | Uint8Array): number {
  const b = typeof name === 'string' ? Buffer.from(name, 'utf8') : name
  const len = b.length
  const h = new Uint32Array([0x9464a485, 0x542e1a94])
  let pad = (len | (len << 8)) >>> 0
  pad = (pad | (pad << 16)) >>> 0
  const le32 = (i: number): number => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0
  let p = 0
  // every FULL 16-byte block except that the last block is always handled below
  while (len - p >= 16) {
    teaRounds(h, le32(p), le32(p + 4), le32(p + 8), le32(p + 12), 6)
    p += 16
  }
  const a = [0, 0, 0, 0]
  for (let j = 0; j < 4; j++) {
    if (len - p >= 4) {
      a[j] = le32(p)
      p += 4
    } else {
      let v = pad
      while (p < len) {
        const c = b[p]! >= 0x80 ? b[p]! - 0x100 : b[p]! // sign-extend like a C char
        v = ((v << 8) | (c & 0xffffffff)) >>> 0
        p++
      }
      a[j] = v
    }
  }
  teaRounds(h, a[0]!, a[1]!, a[2]!, a[3]!, 10)
  return (h[0]! ^ h[1]!) >>> 0
}

/**
 * The name DHT hashes (§5.2): `extra-hash-regex` first, then `rsync-hash-regex` (default
 * `^\.(.+)\.[^.]+$`, so rsync's `.foo.XYZ123` lands where `foo` will); a match hashes capture 1.
 */
export function hashName (name: string, rsyncRegex: RegExp | null, extraRegex: RegExp | null = null): string {
  for (const re of [extraRegex, rsyncRegex]) {
    if (re === null) continue
    const m = re.exec(name)
    if (m?.[1] !== undefined) return m[1]
  }
  return name
}
