// @shardline/consumer-core/testing: fakes and instruments for unit tests, no emulators, no AWS.

// In-memory lease table (same contract as the DynamoDB adapter)
export type { InMemoryLeaseStoreOperation, InMemoryLeaseStoreOptions } from '../leases/InMemoryLeaseStore.js';
export { InMemoryLeaseStore } from '../leases/InMemoryLeaseStore.js';

// Call counting for budgets and benchmarks
export { maxCallsInWindow } from './callRates.js';

// A consumer over in-memory fakes
export type { TestConsumerOptions } from './createTestConsumer.js';
export { createTestConsumer } from './createTestConsumer.js';
export type {
  InstrumentedDynamoDBClient,
  LeaseTableRequestKind,
} from './dynamodb/instrumentDynamoDBClient.js';
export { instrumentDynamoDBClient } from './dynamodb/instrumentDynamoDBClient.js';

// An in-memory stream (put, split, merge)
export type { InMemoryStreamOptions, PutRecordResult } from './InMemoryStream.js';
export { InMemoryStream } from './InMemoryStream.js';

// A Kinesis endpoint speaking SubscribeToShard over HTTP/2, for tests of enhanced fan-out
export type {
  CallFault,
  FanOutFakeOptions,
  FanOutFakeRecord,
  FaultReport,
  SubscriptionEnd,
  SubscriptionFault,
  SubscriptionRecord,
} from './kinesis/FanOutPushFake.js';
export { FanOutPushFake, startFanOutFake } from './kinesis/FanOutPushFake.js';
export type { InstrumentedKinesisClient } from './kinesis/instrumentKinesisClient.js';
export { instrumentKinesisClient } from './kinesis/instrumentKinesisClient.js';
