export type { RunningExample } from './runExample.js';
export { runExample } from './runExample.js';
export type { SampleEvent } from './sampleEvents.js';
export { putEvents, sampleEvents } from './sampleEvents.js';
