export { createGateway, contentTypeOf, type Gateway, type GatewayHealth, type MountHealth, type MountState, type HealthStatus, type Readiness } from './gateway.js'
export {
  parseMountSpec, loadGatewayConfig, parseGatewayConfig, gatewayConfigFrom, resolveMount, DEFAULT_HIDDEN, LOG_LEVELS,
  type LogLevel, type GatewayOptions, type GatewayServerOptions, type MountOptions, type WriteOptions, type DotfilePolicy,
  type AccessLogEntry, type ErrorContext, type ResolvedMount,
} from './options.js'
export { startGatewayServer, type GatewayServer } from './server.js'
export { WORKER_SEMI_SPACE_MIB } from './workers.js'
export { createLogger, type Logger, type LoggerOptions } from './log.js'
export { decide, makeEtag, coalesce, type Decision, type Entity, type ByteRange } from './respond.js'
export { decodePath, isHidden, dotfileStatus } from './path.js'
export { statusForError, MAPPED_CODES } from './status-map.js'
export { GatewayMetrics } from './metrics.js'
