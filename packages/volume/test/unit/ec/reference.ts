// A deliberately slow, independent model of the disperse code for the tests: one GF(2^8)
// element at a time, written from gluster-disperse.md §2.3–2.5 (element p of a 512-byte chunk
// takes bit b from byte 64·b + ⌊p/8⌋, bit p mod 8), with its own carry-less multiply.

/** Carry-less product reduced by 0x11D, bit by bit (no tables). */
export function slowMul (a: number, b: number): number {
  let r = 0
  for (let i = 0; i < 8; i++) if ((b >> i) & 1) r ^= a << i
  for (let i = 15; i >= 8; i--) if ((r >> i) & 1) r ^= 0x11d << (i - 8)
  return r
}

export function slowPow (a: number, e: number): number {
  let r = 1
  for (let i = 0; i < e; i++) r = slowMul(r, a)
  return r
}

export function getElem (chunk: Uint8Array, off: number, p: number): number {
  let e = 0
  for (let b = 0; b < 8; b++) e |= ((chunk[off + 64 * b + (p >> 3)]! >> (p & 7)) & 1) << b
  return e
}

export function setElem (chunk: Uint8Array, off: number, p: number, e: number): void {
  for (let b = 0; b < 8; b++) {
    const i = off + 64 * b + (p >> 3)
    chunk[i] = (chunk[i]! & ~(1 << (p & 7))) | (((e >> b) & 1) << (p & 7))
  }
}

/** F_i[s] = ⊕_j (i+1)^(k-1-j) · D_{s,j}, element by element. */
export function slowEncode (data: Uint8Array, k: number, n: number): Buffer[] {
  const stripes = data.length / (512 * k)
  const frags = Array.from({ length: n }, () => Buffer.alloc(stripes * 512))
  for (let i = 0; i < n; i++) {
    const row = Array.from({ length: k }, (_, j) => slowPow(i + 1, k - 1 - j))
    for (let s = 0; s < stripes; s++) {
      for (let p = 0; p < 512; p++) {
        let e = 0
        for (let j = 0; j < k; j++) e ^= slowMul(row[j]!, getElem(data, s * 512 * k + 512 * j, p))
        setElem(frags[i]!, s * 512, p, e)
      }
    }
  }
  return frags
}
