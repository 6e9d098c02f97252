// The API for writing a benchmark (benchmarks/<name>.ts) and its contender processes.

export type {
  ContenderEvent,
  ContenderHandle,
  ContenderProbe,
  ContenderReport,
  Mark,
  Span,
  SpawnContenderOptions,
} from './contenderProcess.js';
export { ContenderError, monotonicNowMs, runContender } from './contenderProcess.js';
export type {
  Benchmark,
  BenchmarkContext,
  BenchmarkDefinition,
  Contender,
  FigureSpec,
  Reference,
  RoundInfo,
  RoundMetrics,
} from './defineBenchmark.js';
export { Better, defineBenchmark } from './defineBenchmark.js';
export { withFreshStream, withPreloadedStream } from './freshStream.js';
export { LatencyRecorder } from './latency.js';
export type { PutEventsOptions, PutEventsResult } from './putEvents.js';
export { PUT_RECORDS_MAX_RECORDS, putEvents } from './putEvents.js';
export type { BenchmarkReport, FigureResult } from './report.js';
export type { CountedRequest } from './requestCounter.js';
export { countRequests, maxInWindow, RequestCounter } from './requestCounter.js';
export type { EcommerceRow, SampleEvent } from './sampleEvents.js';
export { ECOMMERCE_SAMPLE_PATH, loadSampleRows, parseEcommerceCsv, sampleEvents } from './sampleEvents.js';
export { trimHorizonIterator, warmConnection } from './shardIterator.js';
export { median, percentile, summarize } from './stats.js';
