// In-memory fakes for unit tests of processors (and of custom adapters): no emulators, no AWS.

export type { InMemoryLeaseStoreOperation, InMemoryLeaseStoreOptions } from '../leases/InMemoryLeaseStore.js';
export { InMemoryLeaseStore } from '../leases/InMemoryLeaseStore.js';
export { maxCallsInWindow } from './callRates.js';
export type { TestConsumerOptions } from './createTestConsumer.js';
export { createTestConsumer } from './createTestConsumer.js';
export type {
  InstrumentedDynamoDBClient,
  LeaseTableRequestKind,
} from './dynamodb/instrumentDynamoDBClient.js';
export { instrumentDynamoDBClient } from './dynamodb/instrumentDynamoDBClient.js';
export type { InMemoryStreamOptions, PutRecordResult } from './InMemoryStream.js';
export { InMemoryStream } from './InMemoryStream.js';
export type { InstrumentedKinesisClient } from './kinesis/instrumentKinesisClient.js';
export { instrumentKinesisClient } from './kinesis/instrumentKinesisClient.js';
