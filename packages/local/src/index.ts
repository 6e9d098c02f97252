// Starting the local AWS twin

export type {
  LocalClientConfig,
  LocalEndpoints,
  LocalS3ClientConfig,
  LocalStackInfo,
} from './clientConfig.js';
// Reaching it
export {
  dynamoDBClientConfig,
  kinesisClientConfig,
  LOCAL_CREDENTIALS,
  localStackEnv,
  s3ClientConfig,
} from './clientConfig.js';
export type {
  LocalGatewayOptions,
  LocalStackOptions,
  LocalStackPorts,
  ResolvedLocalStackConfig,
  ServiceExit,
} from './config/resolveLocalStackConfig.js';
export {
  KinesisEngine,
  LOCAL_STACK_DEFAULTS,
  resolveLocalStackConfig,
} from './config/resolveLocalStackConfig.js';
export type { ConfigurationProblem } from './errors.js';
// Errors
export {
  ConfigurationError,
  LocalStackError,
  PortInUseError,
  ResourceNotReadyError,
  ServiceStartError,
} from './errors.js';
export type { IngestGateway, IngestGatewayOptions } from './gateway/IngestGateway.js';
// The ingest gateway
export { buildGatewayApp, startIngestGateway } from './gateway/IngestGateway.js';
export type { CreateStreamOptions, LocalStream } from './LocalStackClient.js';
// Resources
export { LocalStackClient, uniqueName } from './LocalStackClient.js';
export type { LocalService, LocalStackState } from './startLocalStack.js';
export { LocalStack, startLocalStack } from './startLocalStack.js';
