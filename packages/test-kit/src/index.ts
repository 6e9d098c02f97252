// Child processes; a fault proxy in front of an emulator

export type { FaultMode, FaultProxy, FaultProxyOptions } from './faultProxy.js';
export { startFaultProxy } from './faultProxy.js';
// Randomness that replays
export { mutate } from './mutate.js';
export type { ChildExit } from './processes.js';
export { collect, killAndWait } from './processes.js';
// Writing to and reading from Kinesis
export type { KinesisSender, PutRecord, RecordToPut } from './putRecords.js';
export { putRecords } from './putRecords.js';
export type { TailRecord } from './StreamTail.js';
export { StreamTail } from './StreamTail.js';
export { seededRandom, testSeed } from './seededRandom.js';
// Waiting
export { until } from './until.js';
