// Starting the local AWS twin

export type {
  LocalClientConfig,
  LocalEndpoints,
  LocalS3ClientConfig,
  LocalTwinInfo,
} from './clientConfig.js';
// Reaching it
export {
  dynamoDBClientConfig,
  kinesisClientConfig,
  LOCAL_CREDENTIALS,
  localTwinEnv,
  s3ClientConfig,
} from './clientConfig.js';
export type {
  LocalGatewayOptions,
  LocalTwinOptions,
  LocalTwinPorts,
  ResolvedLocalTwinConfig,
  ServiceExit,
} from './config/resolveLocalTwinConfig.js';
export {
  KinesisEngine,
  LOCAL_TWIN_DEFAULTS,
  resolveLocalTwinConfig,
} from './config/resolveLocalTwinConfig.js';
// Deprecated names (until the next release)
export type {
  LocalStackInfo,
  LocalStackOptions,
  LocalStackPorts,
  LocalStackState,
  ResolvedLocalStackConfig,
} from './deprecated.js';
export {
  LOCAL_STACK_DEFAULTS,
  LocalStack,
  LocalStackClient,
  LocalStackError,
  localStackEnv,
  resolveLocalStackConfig,
  startLocalStack,
} from './deprecated.js';
export type { ConfigurationProblem } from './errors.js';
// Errors
export {
  ConfigurationError,
  LocalTwinError,
  PortInUseError,
  ResourceNotReadyError,
  ServiceStartError,
} from './errors.js';
export type { IngestGateway, IngestGatewayOptions } from './gateway/IngestGateway.js';
// The ingest gateway
export { buildGatewayApp, startIngestGateway } from './gateway/IngestGateway.js';
export type { CreateStreamOptions, LocalStream } from './LocalTwinClient.js';
// Resources
export { LocalTwinClient, uniqueName } from './LocalTwinClient.js';
export type { LocalService, LocalTwinState } from './startLocalTwin.js';
export { LocalTwin, startLocalTwin } from './startLocalTwin.js';
