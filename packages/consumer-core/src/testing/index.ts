// In-memory fakes for unit tests of processors (and of custom adapters): no emulators, no AWS.

export type { InMemoryLeaseStoreOperation, InMemoryLeaseStoreOptions } from '../leases/InMemoryLeaseStore.js';
export { InMemoryLeaseStore } from '../leases/InMemoryLeaseStore.js';
export type { TestConsumerOptions } from './createTestConsumer.js';
export { createTestConsumer } from './createTestConsumer.js';
export type { InMemoryStreamOptions, PutRecordResult } from './InMemoryStream.js';
export { InMemoryStream } from './InMemoryStream.js';
