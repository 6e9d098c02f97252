// @shardline/consumer-core: a native TypeScript Kinesis Client Library.

// Positions: sequence numbers and checkpoint sentinels
export type { ExtendedSequenceNumber } from './checkpoint/ExtendedSequenceNumber.js';
export { compareExtendedSequenceNumbers, SentinelCheckpoint } from './checkpoint/ExtendedSequenceNumber.js';

// Configuration
export type {
  ConsumerOptions,
  ConsumerTimeoutOptions,
  FanOutRetrievalOptions,
  HealthCheckOptions,
  LeaseAssignmentMode,
  PollingRetrievalOptions,
  ResolvedConsumerConfig,
  ResolvedConsumerTimeouts,
  ResolvedHealthCheckConfig,
  ResolvedRetrievalConfig,
  RetrievalOptions,
} from './config/resolveConsumerConfig.js';
export { CONSUMER_DEFAULTS, resolveConsumerConfig } from './config/resolveConsumerConfig.js';
// The consumer: createConsumer, run(), sessions and batches
export { createConsumer, createConsumerWithPorts } from './consumer/createConsumer.js';
// Errors
export type { ConfigurationProblem } from './errors.js';
export {
  CheckpointRejectedError,
  ConfigurationError,
  DependencyError,
  FanOutClientError,
  InvalidStateError,
  LeaseLostError,
  LeaseTableSchemaError,
  RecordProcessingError,
  RetriesExhaustedError,
  ShardlineError,
  StreamConsumerLimitError,
  StreamIdentityMismatchError,
  ThroughputExceededError,
} from './errors.js';
// Events and lifecycle
export type { ConsumerEvent, ConsumerEventListener, LeaseLossReason } from './events.js';
export { ConsumerEventType, ConsumerState } from './events.js';
// Health checks: the pure decisions behind /healthz and /readyz
export type {
  HealthCheckResult,
  HealthReport,
  HealthSnapshot,
  HealthThresholds,
  ShardProgress,
  StalledShard,
} from './health/healthStatus.js';
export { evaluateLiveness, evaluateReadiness, isShardStalled } from './health/healthStatus.js';
// Utilities: clock and logger ports
export type { Clock } from './internal/clock.js';
export type { LogFields, Logger } from './internal/logger.js';
export { consoleWarningsLogger, silentLogger } from './internal/logger.js';

// Leases: the DynamoDB lease table (Java KCL 2.x format)
export type { DynamoDBClientLike, DynamoDBLeaseStoreOptions } from './leases/dynamodb/DynamoDBLeaseStore.js';
export { DynamoDBLeaseStore } from './leases/dynamodb/DynamoDBLeaseStore.js';
export {
  LeaseAttribute,
  leaseFromItem,
  leaseToItem,
  MalformedLeaseItemError,
} from './leases/dynamodb/leaseSerializer.js';
// Leases: value type, store port, pure lease-taking decisions
export type { HashKeyRange, Lease, NewLease } from './leases/Lease.js';
export type {
  CheckpointUpdate,
  LeaseMetaUpdate,
  LeaseStore,
  PrepareCheckpointUpdate,
} from './leases/LeaseStore.js';
// Leases: pure lease-cleanup decisions, and the stream identity stamped on lease items
export type {
  LeaseCleanupInput,
  LeaseCleanupObservation,
  LeaseCleanupObservations,
  LeaseCleanupPlan,
  LeaseCleanupSettings,
  LeaseDeletion,
  LeaseDeletionWait,
  ListedShard,
  PendingLeaseDeletion,
  ShardListing,
} from './leases/leaseCleanup.js';
export { hasLeaseStarted, LeaseDeletionReason, planLeaseCleanup } from './leases/leaseCleanup.js';
export type {
  LeaseObservation,
  LeaseObservations,
  LeaseTakingInput,
  LeaseTakingPlan,
} from './leases/leaseTaking.js';
export { isLeaseExpired, observeLeases, planLeaseTaking } from './leases/leaseTaking.js';
// Leases: each worker's retrieval mode, as recorded in the lease items it holds
export { RETRIEVAL_ATTRIBUTE, retrievalLabel, retrievalOf } from './leases/retrievalAttribute.js';
// Leases: failed sessions and halted shards, as recorded in the lease item
export type { ShardFailureRecord, ShardFailureState } from './leases/shardFailure.js';
export { isLeaseHalted, ShardFailureAttribute, shardFailureOf } from './leases/shardFailure.js';
export type { StampedItem, StreamIdentity, StreamIdentityCheck } from './leases/streamIdentity.js';
export {
  checkStreamIdentity,
  isSameStream,
  STREAM_IDENTITY_ATTRIBUTES,
  streamIdentityOf,
} from './leases/streamIdentity.js';
// Metrics: OpenTelemetry instrument names (recorded through the global or the given MeterProvider)
export { ConsumerMetricName } from './metrics/ConsumerMetrics.js';
// Retrieval: polling and enhanced fan-out readers, stream consumer registration, and their port
export type { FanOutShardReaderOptions } from './retrieval/kinesis/FanOutShardReader.js';
export { assertFanOutCapableClient, FanOutShardReader } from './retrieval/kinesis/FanOutShardReader.js';
export type { KinesisClientLike, PollingShardReaderOptions } from './retrieval/kinesis/PollingShardReader.js';
export { PollingShardReader } from './retrieval/kinesis/PollingShardReader.js';
export type {
  DeregisterStreamConsumerOptions,
  ListStreamConsumersOptions,
  RegisteredStreamConsumer,
  RegisterStreamConsumerOptions,
  StreamConsumer,
} from './retrieval/kinesis/streamConsumerRegistration.js';
export {
  deregisterStreamConsumer,
  listStreamConsumers,
  MAX_STREAM_CONSUMERS,
  registerStreamConsumer,
} from './retrieval/kinesis/streamConsumerRegistration.js';
export type {
  ChildShard,
  KinesisRecord,
  ReadResult,
  ShardReader,
  ShardReadRequest,
  StartingPosition,
} from './retrieval/ShardReader.js';
export type { RunOptions } from './run/runShard.js';
export type { Consumer, ShardSession } from './rx/RxConsumer.js';
// Shard sync: listing and lineage
export type { KinesisShardListerOptions } from './shard-sync/kinesis/KinesisShardLister.js';
export { KinesisShardLister } from './shard-sync/kinesis/KinesisShardLister.js';
export type { ShardLister } from './shard-sync/ShardLister.js';
export type { InitialPosition, NewLeasePlanInput, ShardDescription } from './shard-sync/shardLineage.js';
export { eligibleLeases, isLeaseReady, planNewLeases } from './shard-sync/shardLineage.js';
export type { RecordBatch, ShardInfo } from './worker/RecordBatch.js';
export { ShardCompletionReason } from './worker/RecordBatch.js';
export type { WorkerPorts } from './worker/Worker.js';
