// @shardline/producer: a batching Kinesis producer and the shardline-produce CSV replay CLI.

// The producer
export type {
  ProducerOptions,
  ResolvedProducerConfig,
  RetryOptions,
} from './config/resolveProducerConfig.js';
export { PRODUCER_DEFAULTS, resolveProducerConfig } from './config/resolveProducerConfig.js';
// Dead letters
export type { DeadLetter, DeadLetterHandler, DeadLetterSink } from './dead-letter/DeadLetterSink.js';
export { JsonlDeadLetterSink } from './dead-letter/DeadLetterSink.js';
// Errors
export type { ConfigurationProblem } from './errors.js';
export {
  ConfigurationError,
  DeliveryError,
  DestinationError,
  DestinationProblem,
  InvalidRecordError,
  ProducerClosedError,
  ProducerError,
  TransportError,
} from './errors.js';
// OpenTelemetry instrument names
export { ProducerMetricName } from './metrics/ProducerInstruments.js';
export type { CloseOptions, CloseReport, Enqueued, PutOptions, PutResult } from './Producer.js';
export { createProducer, Producer, ProducerState } from './Producer.js';
export type {
  BatchEvent,
  ProducerEventMap,
  ProducerListener,
  ProducerMetrics,
  RetryEvent,
} from './ProducerEvents.js';
export type { HttpTransportOptions } from './transport/http/httpTransport.js';
export { HttpTransport, httpTransport } from './transport/http/httpTransport.js';
export type { AggregationOptions, KinesisTransportOptions } from './transport/kinesis/kinesisTransport.js';
export { KinesisTransport, kinesisTransport } from './transport/kinesis/kinesisTransport.js';
// Transports
export type {
  RecordOutcome,
  SendResult,
  Transport,
  TransportLimits,
  TransportRecord,
} from './transport/Transport.js';
