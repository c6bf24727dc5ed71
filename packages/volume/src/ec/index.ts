// Disperse (erasure coding) as GlusterFS's cluster/disperse does it. Not exported from the
// package root yet: the disperse layer of the translator graph will use it.
export { createCodec, type EcCodec, type EcCodecOptions, type EcEngine } from './codec.js'
export { EC_CHUNK_BYTES, EC_MAX_FRAGMENTS, checkGeometry, decodingMatrix, encodingRow, invertMatrix } from './matrix.js'
export { GF_POLY, gfBitMatrix, gfDiv, gfInv, gfMul, gfPow } from './gf256.js'
