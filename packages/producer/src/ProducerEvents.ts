import type { DeadLetter } from './dead-letter/DeadLetterSink.js';

/** Emitted after each request. */
export interface BatchEvent {
  /** The transport's name. */
  readonly transport: string;
  /** Records in the request. */
  readonly records: number;
  /** Bytes in the request, as the transport counts them. */
  readonly bytes: number;
  /** `records / maxBatchRecords`. */
  readonly recordFill: number;
  /** `bytes / maxBatchBytes`. */
  readonly byteFill: number;
  /** Time from sending to the answer. */
  readonly latencyMs: number;
  /** Records written. */
  readonly succeeded: number;
  /** Records that failed (retried or dead-lettered). */
  readonly failed: number;
  /** Failed records that were throttled. */
  readonly throttled: number;
  /** When the whole request failed: its error code. */
  readonly requestErrorCode: string | undefined;
}

/** Emitted when a failed record is scheduled for another attempt. */
export interface RetryEvent {
  readonly eventId: string;
  /** Attempts so far. */
  readonly attempts: number;
  /** Wait before the next attempt. */
  readonly delayMs: number;
  readonly errorCode: string;
  readonly isThrottle: boolean;
}

/** The producer's events and what their listeners receive. */
export interface ProducerEventMap {
  /** After each request. */
  readonly batch: BatchEvent;
  /** A failed record will be sent again. */
  readonly retry: RetryEvent;
  /** A record went to the dead-letter sink (emitted after the sink took it, or failed to). */
  readonly deadLetter: DeadLetter;
}

/** Counters since the producer was created, plus the current buffer. */
export interface ProducerMetrics {
  /** Records written (acknowledged). */
  readonly recordsSent: number;
  /** Bytes of written records (envelope plus partition key). */
  readonly bytesSent: number;
  /** Requests answered (whatever the answer). */
  readonly requests: number;
  /** Requests that failed as a whole. */
  readonly requestsFailed: number;
  /** Records scheduled for another attempt. */
  readonly retries: number;
  /** Record failures that were throttling (per record, or a whole request counted per record). */
  readonly throttles: number;
  /** Records handed to the dead-letter sink. */
  readonly deadLettered: number;
  /** Records accepted and not yet delivered or dead-lettered. */
  readonly bufferedRecords: number;
  /** Their bytes. */
  readonly bufferedBytes: number;
  /** Requests in flight. */
  readonly inFlightRequests: number;
}

/** A listener of {@link ProducerEventMap} event `K`. */
export type ProducerListener<K extends keyof ProducerEventMap> = (event: ProducerEventMap[K]) => void;

/** Minimal typed emitter. A listener that throws is reported with `process.emitWarning`, never breaks the producer. @internal */
export class Emitter {
  readonly #listeners = new Map<keyof ProducerEventMap, Set<(event: never) => void>>();

  on<K extends keyof ProducerEventMap>(name: K, listener: ProducerListener<K>): () => void {
    let set = this.#listeners.get(name);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(name, set);
    }
    set.add(listener as (event: never) => void);
    return () => {
      set.delete(listener as (event: never) => void);
    };
  }

  emit<K extends keyof ProducerEventMap>(name: K, event: ProducerEventMap[K]): void {
    const set = this.#listeners.get(name);
    if (set === undefined) return;
    for (const listener of set) {
      try {
        (listener as ProducerListener<K>)(event);
      } catch (error) {
        process.emitWarning(
          `A producer '${String(name)}' listener threw: ${String(error)}`,
          'ShardlineProducerWarning',
        );
      }
    }
  }
}
