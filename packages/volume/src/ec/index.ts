// Disperse (erasure coding) as GlusterFS's cluster/disperse does it. Not exported from the
// package root yet: the disperse layer of the translator graph will use it.
export { createCodec, type EcCodec, type EcCodecOptions, type EcEngine } from './codec.js'
export { EC_CHUNK_BYTES, EC_MAX_FRAGMENTS, checkGeometry, decodingMatrix, encodingRow, invertMatrix } from './matrix.js'
export { GF_POLY, gfBitMatrix, gfDiv, gfInv, gfMul, gfPow } from './gf256.js'
export { assembleWrite, fragmentFileSize, planRead, planTruncate, planWrite, writtenBytes, type ReadPlan, type StripeRead, type TruncatePlan, type WritePlan } from './stripe.js'
export {
  EC_SELFHEAL_BIT, EC_XATTR, addArray64, configMatches, decodeEcConfig, decodeEcPair, decodeEcSize, ecConfigFor, encodeEcConfig,
  encodeEcPair, encodeEcSize, isHealing, postopXattrs, preopXattrs, type EcConfig, type EcPair,
} from './xattrs.js'
export {
  combineLookup, combinePreop, ecDictEqual, firstReadBrick, fragmentSizeConsistent, groupAnswers, pickReadBricks,
  type AnswerGroup, type EcAnswer, type LookupAnswer, type LookupResult, type PreopAnswer, type PreopResult,
} from './combine.js'
