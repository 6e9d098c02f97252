import { Buffer } from 'node:buffer';
import {
  backoffDelayMs,
  hasLoneSurrogate,
  isValidExplicitHashKey,
  Jitter,
  MAX_PARTITION_KEY_LENGTH,
} from '@shardline/common';
import PQueue from 'p-queue';
import {
  type ProducerOptions,
  type ResolvedProducerConfig,
  resolveProducerConfig,
} from './config/resolveProducerConfig.js';
import type { DeadLetter } from './dead-letter/DeadLetterSink.js';
import { DeliveryError, InvalidRecordError, ProducerClosedError, TransportError } from './errors.js';
import { envelopeDataOffset } from './internal/envelopeDataOffset.js';
import { EVENT_ID_PATTERN, encodeEnvelope, uuidv7 } from './internal/ingest.js';
import { ProducerInstruments } from './metrics/ProducerInstruments.js';
import {
  Emitter,
  type ProducerEventMap,
  type ProducerListener,
  type ProducerMetrics,
} from './ProducerEvents.js';
import type { RecordOutcome, TransportRecord } from './transport/Transport.js';

/** Options of one {@link Producer.put}. */
export interface PutOptions {
  /** 1–256 characters; picks the shard. @defaultValue the event id (spreads records over every shard) */
  readonly partitionKey?: string;
  /**
   * 1–128 characters of `[A-Za-z0-9._:-]`, the same on every attempt: consumers de-duplicate on it.
   * @defaultValue a new UUIDv7
   */
  readonly eventId?: string;
  /** A decimal hash key in [0, 2^128) that overrides the partition key's hash (direct Kinesis only). */
  readonly explicitHashKey?: string;
}

/** Where an event was written. */
export interface PutResult {
  readonly eventId: string;
  readonly shardId: string;
  /** Decimal, up to 128 bits: compare as `BigInt`, never as a number. */
  readonly sequenceNumber: string;
  /** Position inside a KPL aggregated record, when the event was aggregated. */
  readonly subSequenceNumber?: number;
}

/** Options of {@link Producer.close}. */
export interface CloseOptions {
  /**
   * How long to wait for buffered records before dead-lettering the rest.
   * @defaultValue the producer's `closeTimeoutMs`
   */
  readonly timeoutMs?: number;
}

/** What {@link Producer.enqueue} resolves with once the event is in the buffer. */
export interface Enqueued {
  readonly eventId: string;
  /**
   * Settles when the event is written, or rejects with a {@link DeliveryError} after it went to the
   * dead-letter sink. Ignoring it is safe: a rejection is never reported as unhandled.
   */
  readonly result: Promise<PutResult>;
}

/** What {@link Producer.close} reports. */
export interface CloseReport {
  /** Records written over the producer's life. */
  readonly recordsSent: number;
  /** Records handed to the dead-letter sink over the producer's life (close's own included). */
  readonly deadLettered: number;
  /** Records that close() dead-lettered because its timeout ran out before they were sent. */
  readonly abandonedAtClose: number;
  /**
   * Records that could not be delivered AND that the dead-letter sink failed to take: the only records
   * not stored anywhere. Empty unless the sink failed.
   */
  readonly lost: readonly DeadLetter[];
}

/** The producer's lifecycle. */
export const ProducerState = {
  Running: 'running',
  Closing: 'closing',
  Closed: 'closed',
} as const;
/** See {@link ProducerState}. */
export type ProducerState = (typeof ProducerState)[keyof typeof ProducerState];

/** What an entry's envelope becomes once the record is finished (its bytes are no longer needed). */
const RELEASED = new Uint8Array(0);

function markHandled(): void {}

/**
 * One accepted record: what the transport sends (it is the {@link TransportRecord} itself), the
 * producer's bookkeeping, and the {@link Enqueued} handle `enqueue` resolves with — one object per
 * record while it waits, because every object a buffered record keeps alive is copied by each garbage
 * collection of the young generation it survives. A class, so every entry has one shape.
 *
 * Its `result` promise is made on first read: an application that never reads it (it relies on
 * `flush`, `close` and the dead-letter sink) costs no promise per record. Once the record is finished
 * its envelope is released, so an application keeping handles keeps no record bytes alive.
 */
class Entry implements TransportRecord, Enqueued {
  /** Set when the record enters the buffer. */
  seq = 0;
  readonly eventId: string;
  readonly partitionKey: string;
  readonly explicitHashKey: string | undefined;
  /** The record's bytes; {@link RELEASED} once it is finished. */
  envelope: Uint8Array;
  readonly dataOffset: number;
  /** Envelope plus partition key bytes. */
  readonly sizeBytes: number;
  /** What the record adds to a request, as the transport counts it. */
  requestBytes = 0;
  enqueuedAtMs = 0;
  attempts = 0;
  firstSentAtMs: number | undefined = undefined;
  dueAtMs = 0;
  isRetry = false;
  #result: Promise<PutResult> | undefined = undefined;
  #resolve: ((result: PutResult) => void) | undefined = undefined;
  #reject: ((error: DeliveryError) => void) | undefined = undefined;
  /** The outcome, when it came before anyone read `result`. */
  #outcome: PutResult | DeliveryError | undefined = undefined;

  constructor(
    eventId: string,
    partitionKey: string,
    explicitHashKey: string | undefined,
    envelope: Uint8Array,
    dataOffset: number,
    sizeBytes: number,
  ) {
    this.eventId = eventId;
    this.partitionKey = partitionKey;
    this.explicitHashKey = explicitHashKey;
    this.envelope = envelope;
    this.dataOffset = dataOffset;
    this.sizeBytes = sizeBytes;
  }

  /** Settles when the event is written, or rejects with a {@link DeliveryError} after it was dead-lettered. */
  get result(): Promise<PutResult> {
    if (this.#result !== undefined) return this.#result;
    const outcome = this.#outcome;
    if (outcome === undefined) {
      this.#result = new Promise<PutResult>((resolve, reject) => {
        this.#resolve = resolve;
        this.#reject = reject;
      });
    } else if (outcome instanceof DeliveryError) {
      this.#result = Promise.reject(outcome);
      // Reading `result` and dropping it must not report an unhandled rejection either.
      this.#result.catch(markHandled);
    } else {
      this.#result = Promise.resolve(outcome);
    }
    this.#outcome = undefined;
    return this.#result;
  }

  /** Settles `result` with the record's written position. */
  fulfil(value: PutResult): void {
    if (this.#resolve !== undefined) {
      this.#resolve(value);
      this.#resolve = undefined;
      this.#reject = undefined;
    } else if (this.#result === undefined) {
      this.#outcome = value;
    }
  }

  /** Rejects `result`; a rejection nobody handles is never reported as unhandled. */
  fail(error: DeliveryError): void {
    if (this.#reject !== undefined) {
      // A handler before the rejection: ignoring `result` is safe.
      this.#result!.catch(markHandled);
      this.#reject(error);
      this.#resolve = undefined;
      this.#reject = undefined;
    } else if (this.#result === undefined) {
      this.#outcome = error;
    }
  }
}

interface SpaceWaiter {
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * A batching producer: `put` accepts events into a bounded buffer, requests of up to
 * `maxBatchRecords` / `maxBatchBytes` leave when full or after `lingerMs`, at most
 * `maxConcurrentRequests` at a time; only failed records are retried (same event id), with jittered
 * exponential backoff within a deadline; a record that finally fails goes to the dead-letter sink.
 * Create it with {@link createProducer}.
 */
export class Producer {
  readonly #config: ResolvedProducerConfig;
  readonly #queue: PQueue;
  readonly #emitter = new Emitter();
  readonly #abort = new AbortController();
  /** While `close()` waits for buffered records: brings its timeout forward. */
  #hurryClose: ((timeoutMs: number) => void) | undefined;
  #state: ProducerState = ProducerState.Running;
  #nextSeq = 1;
  /** Records waiting for a request, oldest first (retries re-enter at their place by `seq`). */
  #pending: Entry[] = [];
  /** Sum of `requestBytes` over #pending. */
  #pendingBytes = 0;
  /** ordered: the last batch attempt found every pending record's key held; nothing to do until that changes. */
  #isOrderBlocked = false;
  /** Failed records waiting for their backoff. */
  #retrying: Entry[] = [];
  /** Records accepted (in the buffer) and not finished: sent, dead-lettered or abandoned. */
  #outstanding = 0;
  /** ordered mode: partition keys with a record in flight or waiting for a retry. */
  readonly #heldKeys = new Set<string>();
  /** Records and bytes reserved: accepted (or admitted from the wait line) and not finished. */
  #bufferedRecords = 0;
  #bufferedBytes = 0;
  #spaceWaiters: SpaceWaiter[] = [];
  /** Each `flush()` waiting: its last `seq`, and how many records up to it are not finished yet. */
  #flushWaiters: { seq: number; unfinished: number; resolve: () => void }[] = [];
  #flushThroughSeq = 0;
  #pausedUntilMs = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerAtMs = Number.POSITIVE_INFINITY;
  #inFlight = 0;
  #closing: Promise<CloseReport> | undefined;
  #abandonedAtClose = 0;
  readonly #lost: DeadLetter[] = [];
  readonly #instruments: ProducerInstruments;
  #metrics = {
    recordsSent: 0,
    bytesSent: 0,
    requests: 0,
    requestsFailed: 0,
    retries: 0,
    throttles: 0,
    deadLettered: 0,
  };

  /** @throws {@link ConfigurationError} listing every problem of `options`. */
  constructor(options: ProducerOptions) {
    this.#config = resolveProducerConfig(options);
    this.#queue = new PQueue({ concurrency: this.#config.maxConcurrentRequests });
    this.#instruments = new ProducerInstruments(
      this.#config.meterProvider,
      this.#config.transport.name,
      () => this.metrics,
    );
  }

  /** `running`, `closing` or `closed`. */
  get state(): ProducerState {
    return this.#state;
  }

  /** Counters and the current buffer. */
  get metrics(): ProducerMetrics {
    return {
      ...this.#metrics,
      bufferedRecords: this.#bufferedRecords,
      bufferedBytes: this.#bufferedBytes,
      inFlightRequests: this.#inFlight,
    };
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof ProducerEventMap>(name: K, listener: ProducerListener<K>): () => void {
    return this.#emitter.on(name, listener);
  }

  /**
   * Sends one event and resolves once it is written. Waits first for room in the buffer
   * (backpressure). To keep many events in flight from one loop, use {@link Producer.enqueue}.
   *
   * @param event any JSON value (`bigint` values are written as exact integers); it becomes the `data`
   * of the envelope `{ eventId, receivedAt, data }` that lands in Kinesis.
   * @throws {@link InvalidRecordError} when the event cannot be sent as it is (nothing was sent).
   * @throws {@link ProducerClosedError} when the producer is closing or closed.
   * @throws {@link DeliveryError} when the event could not be delivered; it was dead-lettered first.
   */
  put(event: unknown, options: PutOptions = {}): Promise<PutResult> {
    return this.enqueue(event, options).then((enqueued) => enqueued.result);
  }

  /**
   * Accepts one event into the buffer, waiting while the buffer is full, and resolves as soon as it is
   * accepted, with a `result` promise for its delivery. Awaiting `enqueue` in a loop keeps memory
   * bounded whatever the input rate while requests stay full. When there is room, the event is in the
   * buffer when `enqueue` returns (a `flush()` right after includes it).
   *
   * @throws {@link InvalidRecordError} when the event cannot be sent as it is.
   * @throws {@link ProducerClosedError} when the producer is closing or closed.
   */
  enqueue(event: unknown, options: PutOptions = {}): Promise<Enqueued> {
    let entry: Entry;
    try {
      if (this.#state !== ProducerState.Running)
        throw new ProducerClosedError('The producer is closed: put() refused.');
      entry = this.#prepare(event, options);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#spaceWaiters.length === 0 && this.#hasRoom(entry.sizeBytes)) {
      this.#bufferedBytes += entry.sizeBytes;
      this.#bufferedRecords += 1;
      this.#insert(entry);
      return Promise.resolve(entry);
    }
    return this.#waitForRoom(entry.sizeBytes).then(() => {
      if (this.#state !== ProducerState.Running) {
        this.#bufferedBytes -= entry.sizeBytes;
        this.#bufferedRecords -= 1;
        this.#admitWaiters();
        throw new ProducerClosedError('The producer closed while put() waited for room.');
      }
      this.#insert(entry);
      return entry;
    });
  }

  #insert(entry: Entry): void {
    entry.seq = this.#nextSeq++;
    entry.enqueuedAtMs = Date.now();
    this.#outstanding += 1;
    this.#pending.push(entry);
    this.#pendingBytes += entry.requestBytes;
    if (!this.#heldKeys.has(entry.partitionKey)) this.#isOrderBlocked = false;
    this.#pump();
  }

  /**
   * Sends every record accepted before the call without waiting for `lingerMs`, and resolves when each
   * was written or dead-lettered. Never rejects for a record's failure.
   */
  async flush(): Promise<void> {
    const through = this.#nextSeq - 1;
    if (through > this.#flushThroughSeq) this.#flushThroughSeq = through;
    // Every record not finished yet was accepted before this call (seq ≤ through).
    if (this.#outstanding === 0) return;
    const unfinished = this.#outstanding;
    const done = new Promise<void>((resolve) =>
      this.#flushWaiters.push({ seq: through, unfinished, resolve }),
    );
    this.#pump();
    await done;
  }

  /**
   * Stops accepting events (waiting `put`s reject with {@link ProducerClosedError}), sends what is
   * buffered, and after `closeTimeoutMs` dead-letters what is still unsent, aborting requests in flight.
   * Then closes the dead-letter sink and the transport. Memoized: every call gets the same report; a
   * later call with a shorter `timeoutMs` brings the timeout forward (never back).
   *
   * It finishes within the timeout plus the dead-letter sink's and the transport's own close: requests
   * in flight are aborted at the timeout, never waited for.
   */
  close(options: CloseOptions = {}): Promise<CloseReport> {
    const timeoutMs = options.timeoutMs ?? this.#config.closeTimeoutMs;
    if (this.#closing === undefined) this.#closing = this.#close(timeoutMs);
    else this.#hurryClose?.(timeoutMs);
    return this.#closing;
  }

  async #close(closeTimeoutMs: number): Promise<CloseReport> {
    this.#state = ProducerState.Closing;
    for (const waiter of this.#spaceWaiters.splice(0)) {
      waiter.reject(new ProducerClosedError('The producer closed while put() waited for room.'));
    }
    const flushed = this.flush();
    let timer: NodeJS.Timeout | undefined;
    let deadlineMs = Date.now() + closeTimeoutMs;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), closeTimeoutMs);
      this.#hurryClose = (timeoutMs) => {
        const sooner = Date.now() + timeoutMs;
        if (sooner >= deadlineMs) return;
        deadlineMs = sooner;
        clearTimeout(timer);
        timer = setTimeout(() => resolve(true), timeoutMs);
      };
    });
    const isTimedOut = await Promise.race([flushed.then(() => false), timedOut]);
    clearTimeout(timer);
    this.#hurryClose = undefined;
    if (isTimedOut) {
      // Abort requests in flight (their records fail as ProducerClosed) and dead-letter what never left.
      const unsent = [...this.#pending, ...this.#retrying];
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#retrying = [];
      this.#abandonedAtClose += unsent.length;
      this.#abort.abort(new ProducerClosedError('close() timed out'));
      await Promise.all(
        unsent.map((entry) =>
          this.#deadLetter(
            entry,
            'ProducerClosed',
            `close() timed out after ${closeTimeoutMs} ms before it was sent`,
          ),
        ),
      );
      await flushed;
    }
    await this.#queue.onIdle();
    this.#clearTimer();
    try {
      await this.#config.deadLetter.close?.();
    } finally {
      await this.#config.transport.close?.();
      this.#state = ProducerState.Closed;
      this.#instruments.close(this.metrics);
    }
    return {
      recordsSent: this.#metrics.recordsSent,
      deadLettered: this.#metrics.deadLettered,
      abandonedAtClose: this.#abandonedAtClose,
      lost: [...this.#lost],
    };
  }

  #prepare(event: unknown, options: PutOptions): Entry {
    if (typeof options !== 'object' || options === null)
      throw new InvalidRecordError('options', 'put options must be an object');
    const eventId = options.eventId ?? uuidv7();
    if (typeof eventId !== 'string' || !EVENT_ID_PATTERN.test(eventId)) {
      throw new InvalidRecordError(
        'eventId',
        `eventId must be 1 to 128 characters of [A-Za-z0-9._:-], got ${JSON.stringify(eventId)}`,
      );
    }
    const partitionKey = options.partitionKey ?? eventId;
    if (
      typeof partitionKey !== 'string' ||
      partitionKey.length === 0 ||
      partitionKey.length > MAX_PARTITION_KEY_LENGTH
    ) {
      throw new InvalidRecordError(
        'partitionKey',
        `partitionKey must be a string of 1 to 256 characters, got ${JSON.stringify(partitionKey)}`,
      );
    }
    // A lone surrogate has no UTF-8 form: Kinesis would hash and store another key.
    if (hasLoneSurrogate(partitionKey))
      throw new InvalidRecordError('partitionKey', 'partitionKey contains a lone UTF-16 surrogate');
    const explicitHashKey = options.explicitHashKey;
    if (
      explicitHashKey !== undefined &&
      (typeof explicitHashKey !== 'string' || !isValidExplicitHashKey(explicitHashKey))
    ) {
      throw new InvalidRecordError(
        'explicitHashKey',
        `explicitHashKey must be a decimal integer in [0, 2^128), got ${JSON.stringify(explicitHashKey)}`,
      );
    }
    let envelope: Uint8Array;
    try {
      envelope = encodeEnvelope({ eventId, receivedAt: Date.now(), data: event });
    } catch (error) {
      throw new InvalidRecordError('data', `The event cannot be sent: ${(error as Error).message}`, error);
    }
    const sizeBytes = envelope.length + Buffer.byteLength(partitionKey, 'utf8');
    if (sizeBytes > this.#config.maxRecordBytes) {
      throw new InvalidRecordError(
        'data',
        `The event's record is ${sizeBytes} bytes (envelope plus partition key), over maxRecordBytes ${this.#config.maxRecordBytes}`,
      );
    }
    const entry = new Entry(
      eventId,
      partitionKey,
      explicitHashKey,
      envelope,
      envelopeDataOffset(envelope, eventId.length),
      sizeBytes,
    );
    const requestBytes = this.#config.transport.requestBytes(entry);
    if (requestBytes > this.#config.maxBatchBytes) {
      throw new InvalidRecordError(
        'data',
        `The event needs ${requestBytes} request bytes, over maxBatchBytes ${this.#config.maxBatchBytes}`,
      );
    }
    entry.requestBytes = requestBytes;
    return entry;
  }

  /** Waits (FIFO) until a record of `bytes` fits; the room is taken when the promise resolves. */
  #waitForRoom(bytes: number): Promise<void> {
    // Waiting puts make linger pointless: send what is buffered so room frees up.
    this.#flushThroughSeq = this.#nextSeq - 1;
    this.#pump();
    return new Promise((resolve, reject) => this.#spaceWaiters.push({ bytes, resolve, reject }));
  }

  #hasRoom(bytes: number): boolean {
    return (
      this.#bufferedRecords < this.#config.maxBufferedRecords &&
      this.#bufferedBytes + bytes <= this.#config.maxBufferedBytes
    );
  }

  #admitWaiters(): void {
    while (this.#spaceWaiters.length > 0) {
      const waiter = this.#spaceWaiters[0]!;
      if (!this.#hasRoom(waiter.bytes)) return;
      this.#spaceWaiters.shift();
      this.#bufferedBytes += waiter.bytes;
      this.#bufferedRecords += 1;
      waiter.resolve();
    }
  }

  #pump(): void {
    if (this.#state === ProducerState.Closed) return;
    const { maxConcurrentRequests, lingerMs, maxBatchRecords } = this.#config;
    for (;;) {
      if (this.#inFlight >= maxConcurrentRequests || this.#pending.length === 0 || this.#isOrderBlocked)
        break;
      const now = Date.now();
      if (now < this.#pausedUntilMs) {
        this.#schedule(this.#pausedUntilMs);
        break;
      }
      const oldest = this.#pending[0]!;
      const isReady =
        this.#pending.length >= maxBatchRecords ||
        this.#pendingBytes >= this.#config.maxBatchBytes ||
        oldest.isRetry ||
        oldest.seq <= this.#flushThroughSeq ||
        this.#state !== ProducerState.Running ||
        now - oldest.enqueuedAtMs >= lingerMs;
      if (!isReady) {
        this.#schedule(oldest.enqueuedAtMs + lingerMs);
        break;
      }
      const batch = this.#takeBatch();
      if (batch.length === 0) break; // ordered: every pending key is held; a finishing request pumps again
      this.#inFlight += 1;
      this.#queue
        .add(() => this.#send(batch))
        .catch((error: unknown) => {
          // #send settles every record itself; reaching here is a bug, made loud rather than silent.
          process.emitWarning(
            `shardline producer: a request task failed: ${String(error)}`,
            'ShardlineProducerWarning',
          );
        });
    }
  }

  #takeBatch(): Entry[] {
    const { maxBatchRecords, maxBatchBytes, ordered } = this.#config;
    const batch: Entry[] = [];
    let bytes = 0;
    if (!ordered) {
      const pending = this.#pending;
      const limit = Math.min(pending.length, maxBatchRecords);
      let count = 0;
      for (; count < limit; count++) {
        const requestBytes = pending[count]!.requestBytes;
        if (bytes + requestBytes > maxBatchBytes) break;
        bytes += requestBytes;
      }
      this.#pendingBytes -= bytes;
      return this.#pending.splice(0, count);
    }
    // Ordered: one record per partition key per request, and none of a key another record holds.
    const keysInBatch = new Set<string>();
    const rest: Entry[] = [];
    let isFull = false;
    for (const entry of this.#pending) {
      const key = entry.partitionKey;
      const isBlocked = (this.#heldKeys.has(key) && !entry.isRetry) || keysInBatch.has(key);
      if (isFull || isBlocked || bytes + entry.requestBytes > maxBatchBytes) {
        if (!isBlocked && !isFull) isFull = true;
        keysInBatch.add(key); // later records of this key must not overtake it
        rest.push(entry);
        continue;
      }
      keysInBatch.add(key);
      this.#heldKeys.add(key);
      batch.push(entry);
      bytes += entry.requestBytes;
      if (batch.length === maxBatchRecords) isFull = true;
    }
    this.#pending = rest;
    this.#pendingBytes -= bytes;
    if (batch.length === 0) this.#isOrderBlocked = true;
    return batch;
  }

  #schedule(atMs: number): void {
    if (this.#timer !== undefined && this.#timerAtMs <= atMs) return;
    this.#clearTimer();
    this.#timerAtMs = atMs;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#timerAtMs = Number.POSITIVE_INFINITY;
        this.#releaseDueRetries();
        this.#pump();
      },
      Math.max(0, atMs - Date.now()),
    );
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAtMs = Number.POSITIVE_INFINITY;
  }

  #releaseDueRetries(): void {
    const now = Date.now();
    const due = this.#retrying.filter((e) => e.dueAtMs <= now);
    if (due.length > 0) {
      this.#retrying = this.#retrying.filter((e) => e.dueAtMs > now);
      for (const entry of due) {
        // Back at its place by age: in ordered mode it goes before every later record of its key.
        let lo = 0;
        let hi = this.#pending.length;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (this.#pending[mid]!.seq < entry.seq) lo = mid + 1;
          else hi = mid;
        }
        this.#pending.splice(lo, 0, entry);
        this.#pendingBytes += entry.requestBytes;
        this.#isOrderBlocked = false;
      }
    }
    if (this.#retrying.length > 0) this.#schedule(Math.min(...this.#retrying.map((e) => e.dueAtMs)));
  }

  async #send(batch: Entry[]): Promise<void> {
    const { transport } = this.#config;
    const startedAtMs = Date.now();
    let bytes = 0;
    for (const entry of batch) {
      entry.attempts += 1;
      entry.firstSentAtMs ??= startedAtMs;
      bytes += entry.requestBytes;
    }
    let outcomes: readonly RecordOutcome[] | undefined;
    let retryAfterMs: number | undefined;
    let requestError: TransportError | undefined;
    try {
      if (this.#abort.signal.aborted) {
        throw new TransportError('ProducerClosed', 'close() timed out before the request was sent', {
          retriable: false,
        });
      }
      const result = await transport.send(
        // The entries are the records (a transport reads only the TransportRecord fields).
        batch,
        this.#abort.signal,
      );
      if (!Array.isArray(result?.outcomes) || result.outcomes.length !== batch.length) {
        throw new TransportError(
          'InvalidTransportResult',
          `The ${transport.name} transport answered ${result?.outcomes?.length} outcomes for ${batch.length} records`,
          { retriable: false },
        );
      }
      outcomes = result.outcomes;
      retryAfterMs = result.retryAfterMs;
    } catch (error) {
      requestError = toTransportError(error, this.#abort.signal);
      retryAfterMs = requestError.retryAfterMs;
    }
    const latencyMs = Date.now() - startedAtMs;
    this.#metrics.requests += 1;
    if (requestError !== undefined) this.#metrics.requestsFailed += 1;
    if (retryAfterMs !== undefined && retryAfterMs > 0) {
      this.#pausedUntilMs = Math.max(this.#pausedUntilMs, Date.now() + retryAfterMs);
    }
    let succeeded = 0;
    let throttled = 0;
    const work: Promise<void>[] = [];
    // One jitter draw per request: its failed records come due together and go out in one request again.
    const jitter = this.#config.random();
    const answeredAtMs = Date.now();
    for (let i = 0; i < batch.length; i++) {
      const entry = batch[i]!;
      const outcome: RecordOutcome =
        outcomes?.[i] ??
        ({
          ok: false,
          errorCode: requestError!.code,
          errorMessage: requestError!.message,
          retriable: requestError!.retriable,
          isThrottle: requestError!.isThrottle,
        } as const);
      if (outcome.ok) {
        succeeded += 1;
        this.#metrics.recordsSent += 1;
        this.#metrics.bytesSent += entry.sizeBytes;
        entry.fulfil(
          outcome.subSequenceNumber === undefined
            ? {
                eventId: entry.eventId,
                shardId: outcome.shardId,
                sequenceNumber: outcome.sequenceNumber,
              }
            : {
                eventId: entry.eventId,
                shardId: outcome.shardId,
                sequenceNumber: outcome.sequenceNumber,
                subSequenceNumber: outcome.subSequenceNumber,
              },
        );
        this.#finish(entry);
        continue;
      }
      if (outcome.isThrottle) {
        throttled += 1;
        this.#metrics.throttles += 1;
      }
      const failure = this.#retryOrGiveUp(entry, outcome, retryAfterMs, jitter, answeredAtMs);
      if (failure !== undefined) work.push(failure);
    }
    this.#inFlight -= 1;
    const batchEvent = {
      transport: transport.name,
      records: batch.length,
      bytes,
      recordFill: batch.length / this.#config.maxBatchRecords,
      byteFill: bytes / this.#config.maxBatchBytes,
      latencyMs,
      succeeded,
      failed: batch.length - succeeded,
      throttled,
      requestErrorCode: requestError?.code,
    };
    this.#instruments.onBatch(batchEvent);
    this.#instruments.update(this.#metrics);
    this.#emitter.emit('batch', batchEvent);
    this.#releaseDueRetries();
    this.#pump();
    await Promise.all(work);
  }

  /** Schedules a retry, or dead-letters the record (returns that work). */
  #retryOrGiveUp(
    entry: Entry,
    outcome: Extract<RecordOutcome, { ok: false }>,
    retryAfterMs: number | undefined,
    jitter: number,
    now: number,
  ): Promise<void> | undefined {
    const { retry } = this.#config;
    if (!outcome.retriable || this.#abort.signal.aborted) {
      return this.#deadLetter(entry, outcome.errorCode, outcome.errorMessage);
    }
    // Equal jitter: 50–100 % of the exponential step, so retries of one request spread out but never go to 0.
    const backoffMs = backoffDelayMs(
      entry.attempts,
      { initialDelayMs: retry.initialDelayMs, maxDelayMs: retry.maxDelayMs, jitter: Jitter.Equal },
      () => jitter,
    );
    const delayMs = Math.max(backoffMs, retryAfterMs ?? 0);
    if (
      entry.attempts >= retry.maxAttempts ||
      now + delayMs > (entry.firstSentAtMs ?? now) + retry.deadlineMs
    ) {
      const why =
        entry.attempts >= retry.maxAttempts
          ? `${entry.attempts} attempts`
          : `the ${retry.deadlineMs} ms retry deadline`;
      return this.#deadLetter(entry, outcome.errorCode, `${outcome.errorMessage} (gave up after ${why})`);
    }
    entry.isRetry = true;
    entry.dueAtMs = now + delayMs;
    this.#retrying.push(entry);
    this.#metrics.retries += 1;
    this.#emitter.emit('retry', {
      eventId: entry.eventId,
      attempts: entry.attempts,
      delayMs,
      errorCode: outcome.errorCode,
      isThrottle: outcome.isThrottle,
    });
    this.#schedule(entry.dueAtMs);
    return undefined;
  }

  async #deadLetter(entry: Entry, errorCode: string, errorMessage: string): Promise<void> {
    const record = entry;
    const letter: DeadLetter = {
      eventId: record.eventId,
      partitionKey: record.partitionKey,
      explicitHashKey: record.explicitHashKey,
      dataJson: Buffer.from(
        record.envelope.buffer,
        record.envelope.byteOffset,
        record.envelope.byteLength,
      ).toString('utf8', record.dataOffset, record.envelope.byteLength - 1),
      errorCode,
      errorMessage,
      attempts: entry.attempts,
      failedAt: new Date().toISOString(),
    };
    let sinkError: unknown;
    try {
      await this.#config.deadLetter.write(letter);
      this.#metrics.deadLettered += 1;
      this.#instruments.update(this.#metrics);
    } catch (error) {
      sinkError = error;
      this.#lost.push(letter);
    }
    this.#emitter.emit('deadLetter', letter);
    entry.fail(
      new DeliveryError(
        record.eventId,
        errorCode,
        sinkError === undefined
          ? `Event ${record.eventId} was not delivered (${errorCode}: ${errorMessage}); it went to the dead-letter sink.`
          : `Event ${record.eventId} was not delivered (${errorCode}: ${errorMessage}) and the dead-letter sink failed: ${String(sinkError)}`,
        { attempts: entry.attempts, isDeadLettered: sinkError === undefined, cause: sinkError },
      ),
    );
    this.#finish(entry);
  }

  #finish(entry: Entry): void {
    entry.envelope = RELEASED;
    this.#outstanding -= 1;
    this.#bufferedBytes -= entry.sizeBytes;
    this.#bufferedRecords -= 1;
    if (this.#config.ordered && this.#heldKeys.delete(entry.partitionKey)) this.#isOrderBlocked = false;
    this.#admitWaiters();
    if (this.#flushWaiters.length > 0) {
      let isAnyDone = false;
      for (const waiter of this.#flushWaiters) {
        if (entry.seq <= waiter.seq && --waiter.unfinished === 0) {
          waiter.resolve();
          isAnyDone = true;
        }
      }
      if (isAnyDone) this.#flushWaiters = this.#flushWaiters.filter((waiter) => waiter.unfinished > 0);
    }
  }
}

function toTransportError(error: unknown, signal: AbortSignal): TransportError {
  if (error instanceof TransportError) return error;
  if (signal.aborted) {
    return new TransportError('ProducerClosed', 'close() timed out while the request was in flight', {
      retriable: false,
      cause: error,
    });
  }
  // An unknown failure of a transport: its write may or may not have happened; retry (same event ids).
  return new TransportError(
    'TransportFailure',
    `The transport failed: ${String((error as Error)?.message ?? error)}`,
    {
      retriable: true,
      cause: error,
    },
  );
}

/**
 * Creates a {@link Producer}.
 *
 * @throws {@link ConfigurationError} listing every problem of `options`.
 * @example
 * ```ts
 * const producer = createProducer({ transport: kinesisTransport({ client, streamName: 'orders' }) });
 * const { shardId, sequenceNumber, eventId } = await producer.put({ orderId: 42 }, { partitionKey: 'user-7' });
 * const report = await producer.close();
 * ```
 */
export function createProducer(options: ProducerOptions): Producer {
  return new Producer(options);
}
