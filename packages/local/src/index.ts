// Starting the local AWS twin
export { LocalStack, startLocalStack } from './startLocalStack.js';
export type { LocalService, LocalStackState } from './startLocalStack.js';
export {
  KinesisEngine,
  LOCAL_STACK_DEFAULTS,
  resolveLocalStackConfig,
} from './config/resolveLocalStackConfig.js';
export type {
  LocalStackOptions,
  LocalStackPorts,
  ResolvedLocalStackConfig,
  ServiceExit,
} from './config/resolveLocalStackConfig.js';

// Reaching it
export {
  LOCAL_CREDENTIALS,
  dynamoDBClientConfig,
  kinesisClientConfig,
  localStackEnv,
  s3ClientConfig,
} from './clientConfig.js';
export type { LocalClientConfig, LocalEndpoints, LocalS3ClientConfig, LocalStackInfo } from './clientConfig.js';

// Resources
export { LocalStackClient, uniqueName } from './LocalStackClient.js';
export type { CreateStreamOptions, LocalStream } from './LocalStackClient.js';

// Errors
export {
  ConfigurationError,
  LocalStackError,
  PortInUseError,
  ResourceNotReadyError,
  ServiceStartError,
} from './errors.js';
export type { ConfigurationProblem } from './errors.js';
