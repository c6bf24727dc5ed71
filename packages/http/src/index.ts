export { createGateway, contentTypeOf, type Gateway, type GatewayHealth, type MountHealth, type MountState } from './gateway.js'
export {
  parseMountSpec, loadGatewayConfig, parseGatewayConfig, gatewayConfigFrom, resolveMount, DEFAULT_HIDDEN,
  type GatewayOptions, type GatewayServerOptions, type MountOptions, type WriteOptions, type DotfilePolicy,
  type AccessLogEntry, type ErrorContext, type ResolvedMount,
} from './options.js'
export { startGatewayServer, WORKER_SEMI_SPACE_MIB, type GatewayServer } from './server.js'
export { decide, makeEtag, coalesce, type Decision, type Entity, type ByteRange } from './respond.js'
export { decodePath, isHidden, dotfileStatus } from './path.js'
export { statusForError, MAPPED_CODES } from './status-map.js'
export { GatewayMetrics } from './metrics.js'
