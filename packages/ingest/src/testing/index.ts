// In-memory fakes and fault injection for tests of code built on @shardline/ingest.

export type { InMemoryRecordWriterOptions, InMemoryStoredRecord } from './InMemoryRecordWriter.js';
export { InMemoryRecordWriter } from './InMemoryRecordWriter.js';
export type { FaultyRecordWriter, KinesisFault } from './withKinesisFault.js';
export { withKinesisFault } from './withKinesisFault.js';
