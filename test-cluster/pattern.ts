// The deterministic bytes of ../shared/captures/volume-types/pat.py, with which the golden
// captures of sharded and dispersed volumes were made: b[i] = (i*31 + (i>>8)*7 + seed) & 255.
// Tests that rebuild those files (and compare backend hashes) use the same generator.
export function pat (n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n)
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 8) * 7 + seed) & 255
  return b
}
