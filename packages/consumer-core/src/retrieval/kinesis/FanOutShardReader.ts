import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type StartingPosition as KinesisStartingPosition,
  ListShardsCommand,
  type ListShardsCommandOutput,
  SubscribeToShardCommand,
  type SubscribeToShardEvent,
  type SubscribeToShardEventStream,
} from '@aws-sdk/client-kinesis';
import {
  awsErrorName,
  backoffDelayMs,
  clientWithDeadline,
  DeadlineExceededError,
  onAbort,
  sleepUnlessAborted,
  withDeadline,
} from '@shardline/common';
import type { ExtendedSequenceNumber } from '../../checkpoint/ExtendedSequenceNumber.js';
import { DependencyError, FanOutClientError } from '../../errors.js';
import { type Clock, monotonicClock } from '../../internal/clock.js';
import type { ReadResult, ShardReader, ShardReadRequest } from '../ShardReader.js';
import { toKinesisRecords, toRecordsResult } from '../toKinesisRecords.js';
import {
  type ReadRetryPolicy,
  resolveReadRetryPolicy,
  waitAfterReadFailure,
} from '../waitAfterReadFailure.js';
import { isThrottling, translateKinesisError } from './awsErrors.js';
import { type KinesisClientLike, toChildShard } from './PollingShardReader.js';
import { registerStreamConsumer } from './streamConsumerRegistration.js';

/** Options of {@link FanOutShardReader}. */
export interface FanOutShardReaderOptions {
  /**
   * The user's client; never destroyed by the library. On AWS it needs the SDK's HTTP/2 handler
   * (`NodeHttp2Handler`, the `KinesisClient` default); kinesis-local needs an HTTP/1.1 `NodeHttpHandler`.
   */
  readonly client: KinesisClientLike;
  /** The stream, by name... */
  readonly streamName?: string;
  /** ...or by ARN (exactly one of the two). */
  readonly streamArn?: string;
  /** The registered stream consumer to read through; registered by {@link FanOutShardReader.start} if missing. */
  readonly consumerName: string;
  /** The consumer's ARN, when it is known (then nothing is registered). */
  readonly consumerArn?: string;
  /**
   * When no event arrives for this long while the reader waits for one, the subscription is cancelled
   * and made again from the last position (Kinesis sends an event at least every 5 s, empty ones
   * included). The time the application takes with a batch does not count. @defaultValue 35000
   */
  readonly subscriptionIdleTimeoutMs?: number;
  /**
   * A subscription is renewed from its last `ContinuationSequenceNumber` once it is this old (AWS ends
   * every subscription after 5 minutes; renewing first avoids a stream error at the limit).
   * @defaultValue 290000
   */
  readonly maxSubscriptionMs?: number;
  /**
   * Deadline of each call that answers once: the `SubscribeToShard` response (before its events),
   * `ListShards`, `GetShardIterator`, `GetRecords`, the registration calls. @defaultValue 10000
   */
  readonly callTimeoutMs?: number;
  /** Backoff after errors: largest delay (AWS lets a new subscription take over after 5 s). @defaultValue 5000 */
  readonly maxBackoffMs?: number;
  /** Delay before retrying after a non-retriable error (reported each time). @defaultValue 30000 */
  readonly fatalErrorRetryMs?: number;
  /**
   * How often, at most, a caught-up reader lists the stream's shards to learn whether its shard was
   * closed, for endpoints that never report the end of a shard in the event stream (kinesis-local).
   * One listing serves every shard of the reader. @defaultValue 10000
   */
  readonly shardEndCheckIntervalMs?: number;
  /** How long `start()` waits for the consumer to become `ACTIVE`. @defaultValue 120000 */
  readonly consumerActiveTimeoutMs?: number;
  /** Monotonic clock. */
  readonly clock?: Clock;
  /** Random source for jitter. */
  readonly random?: () => number;
}

/** Where a subscription starts, in the API's terms, plus records to drop at the start. */
interface Position {
  readonly start: KinesisStartingPosition;
  /** A checkpoint inside an aggregated record: sub-records up to it were done. */
  readonly skipThrough: ExtendedSequenceNumber | undefined;
}

/** SubscribeToShard: one call per second per consumer per shard. */
const MIN_SUBSCRIBE_INTERVAL_MS = 1_000;

/**
 * Reads a shard with enhanced fan-out: `SubscribeToShard` through a registered stream consumer, which
 * pushes records (2 MiB/s per shard for this consumer alone, AWS's figure) instead of sharing the
 * 5 `GetRecords` calls per second of polling.
 *
 * - One subscription per read, starting at the checkpoint: `AT_SEQUENCE_NUMBER` and the sub-records
 *   already done dropped (as the polling reader), or `TRIM_HORIZON` / `LATEST` / `AT_TIMESTAMP`.
 * - Renewed from the last `ContinuationSequenceNumber` (`AFTER_SEQUENCE_NUMBER`) when it ends (AWS: 5
 *   minutes) or reaches `maxSubscriptionMs`, and after any failure: `ResourceInUseException` (another
 *   subscription of this consumer on this shard; a new one takes over after 5 s), `LimitExceededException`,
 *   a missed deadline, a broken stream — with jittered backoff capped at `maxBackoffMs`.
 * - Pull-based: an event is read from the stream only when the previous batch was taken by the
 *   consumer, so at most one event is held here; beyond that HTTP/2 flow control stops the sender.
 * - Aborting the request's signal cancels the subscription at once (the HTTP/2 stream is reset), so a
 *   released, handed-off or lost lease stops the push before the lease changes hands.
 * - The shard's end: an event with `ChildShards` (or without a continuation) ends it like `SHARD_END`
 *   in polling.
 */
export class FanOutShardReader implements ShardReader {
  readonly #rawClient: KinesisClientLike;
  readonly #client: KinesisClientLike;
  readonly #stream: { StreamName?: string; StreamARN?: string };
  readonly #consumerName: string;
  readonly #idleMs: number;
  readonly #maxSubscriptionMs: number;
  readonly #callTimeoutMs: number;
  readonly #retry: ReadRetryPolicy;
  readonly #endCheckIntervalMs: number;
  readonly #activeTimeoutMs: number;
  readonly #clock: Clock;
  #consumerArn: string | undefined;
  #ready: Promise<string> | undefined;
  #listing: { readonly atMs: number; readonly closed: Promise<ReadonlySet<string>> } | undefined;

  constructor(options: FanOutShardReaderOptions) {
    this.#rawClient = options.client;
    this.#callTimeoutMs = options.callTimeoutMs ?? 10_000;
    this.#client = clientWithDeadline(options.client, this.#callTimeoutMs);
    this.#stream = options.streamArn ? { StreamARN: options.streamArn } : { StreamName: options.streamName };
    this.#consumerName = options.consumerName;
    this.#consumerArn = options.consumerArn;
    this.#idleMs = options.subscriptionIdleTimeoutMs ?? 35_000;
    this.#maxSubscriptionMs = options.maxSubscriptionMs ?? 290_000;
    this.#endCheckIntervalMs = options.shardEndCheckIntervalMs ?? 10_000;
    this.#activeTimeoutMs = options.consumerActiveTimeoutMs ?? 120_000;
    this.#clock = options.clock ?? monotonicClock;
    this.#retry = resolveReadRetryPolicy(options);
  }

  /** The consumer's ARN once known (after `start()`). */
  get consumerArn(): string | undefined {
    return this.#consumerArn;
  }

  /**
   * Checks the client and registers (or finds) the stream consumer, waiting until it is `ACTIVE`. Once
   * per worker start; `read()` calls it too when it was not called.
   *
   * @throws {@link FanOutClientError} when the client's request handler cannot subscribe on AWS.
   * @throws `StreamConsumerLimitError` when the stream already has 20 consumers.
   * @throws `DependencyError` when AWS refuses.
   */
  async start(signal: AbortSignal): Promise<void> {
    await this.#prepare(signal);
  }

  #prepare(signal: AbortSignal): Promise<string> {
    if (this.#consumerArn !== undefined) return Promise.resolve(this.#consumerArn);
    this.#ready ??= (async () => {
      assertFanOutCapableClient(this.#rawClient);
      const streamArn = this.#stream.StreamARN ?? (await this.#describeStreamArn(signal));
      const { consumerArn } = await registerStreamConsumer({
        client: this.#rawClient,
        streamArn,
        consumerName: this.#consumerName,
        signal,
        callTimeoutMs: this.#callTimeoutMs,
        activeTimeoutMs: this.#activeTimeoutMs,
        random: this.#retry.random,
      });
      this.#consumerArn = consumerArn;
      return consumerArn;
    })();
    const ready = this.#ready;
    // A failed start is tried again by the next caller, not remembered.
    ready.catch(() => {
      if (this.#ready === ready) this.#ready = undefined;
    });
    return ready;
  }

  async #describeStreamArn(signal: AbortSignal): Promise<string> {
    try {
      const output = await this.#client.send(new DescribeStreamSummaryCommand({ ...this.#stream }), {
        abortSignal: signal,
      });
      const arn = output.StreamDescriptionSummary?.StreamARN;
      if (!arn) throw new Error('DescribeStreamSummary returned no StreamARN');
      return arn;
    } catch (error) {
      throw translateKinesisError('DescribeStreamSummary', error);
    }
  }

  async *read(request: ShardReadRequest): AsyncGenerator<ReadResult> {
    const { shardId, signal, onEvent, hashKeyRange } = request;
    const consumerArn = await this.#prepare(signal);
    let position = initialPosition(request.start);
    // No record read yet: a checkpoint whose record was trimmed makes the first subscription fail.
    let isFirst = true;
    let failures = 0;
    let subscriptionCount = 0;
    let nextSubscribeAtMs = 0;

    const retryAfter = (operation: string, error: unknown): Promise<boolean> => {
      failures += 1;
      // ResourceInUse (a 400) here means another subscription of this consumer holds the shard (ours not
      // yet closed on the service's side, or a zombie's): it ends within 5 s, so it is retried.
      const isInUse = awsErrorName(error) === 'ResourceInUseException';
      return waitAfterReadFailure(
        request,
        {
          operation,
          error: isInUse
            ? new DependencyError('kinesis', operation, error, true)
            : translateKinesisError(operation, error),
          attempt: failures,
          // ResourceInUse: an older subscription still holds the shard; AWS hands it over after 5 s.
          initialDelayMs: isInUse ? 1_000 : isThrottling(error) ? 500 : 100,
        },
        this.#retry,
      );
    };

    /** Moves the position past an event's records (or to its continuation). */
    const advance = (continuation: string | undefined, lastSequenceNumber: string | undefined) => {
      const sequenceNumber = continuation ?? lastSequenceNumber;
      if (sequenceNumber === undefined) return;
      position = {
        start: { Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: sequenceNumber },
        skipThrough: position.skipThrough,
      };
    };

    while (!signal.aborted) {
      const waitMs = nextSubscribeAtMs - this.#clock.nowMs();
      if (waitMs > 0 && !(await sleepUnlessAborted(waitMs, signal))) return;
      nextSubscribeAtMs = this.#clock.nowMs() + MIN_SUBSCRIBE_INTERVAL_MS;

      // Cancelled by the request's signal (lease released, handed off or lost), by the idle deadline, by
      // renewal: the SDK resets the HTTP/2 stream when its abort signal fires.
      const subscription = new AbortController();
      const unsubscribe = onAbort(signal, () => subscription.abort(signal.reason));
      let iterator: AsyncIterator<SubscribeToShardEventStream> | undefined;
      try {
        let events: AsyncIterable<SubscribeToShardEventStream> | undefined;
        try {
          const output = await withDeadline(
            'SubscribeToShard',
            this.#callTimeoutMs,
            () =>
              this.#rawClient.send(
                new SubscribeToShardCommand({
                  ConsumerARN: consumerArn,
                  ShardId: shardId,
                  StartingPosition: position.start,
                }),
                { abortSignal: subscription.signal },
              ),
            signal,
          );
          events = output.EventStream;
          if (!events) throw new FanOutClientError('SubscribeToShard answered without an event stream.');
        } catch (error) {
          subscription.abort(error);
          if (signal.aborted) return;
          if (
            isFirst &&
            position.start.Type === 'AT_SEQUENCE_NUMBER' &&
            awsErrorName(error) === 'InvalidArgumentException' &&
            position.skipThrough
          ) {
            // The checkpoint's record is gone (retention trimmed it): say so loudly, then read what is left.
            onEvent({
              type: 'RECORDS_TRIMMED',
              shardId,
              checkpoint: position.skipThrough,
              resumedAt: 'TRIM_HORIZON',
            });
            position = { start: { Type: 'TRIM_HORIZON' }, skipThrough: undefined };
            continue;
          }
          if (!(await retryAfter('SubscribeToShard', error))) return;
          continue;
        }
        onEvent({ type: 'SUBSCRIBED', shardId, isRenewal: subscriptionCount > 0 });
        subscriptionCount += 1;
        const subscribedAtMs = this.#clock.nowMs();
        iterator = events[Symbol.asyncIterator]();

        while (true) {
          if (this.#clock.nowMs() - subscribedAtMs >= this.#maxSubscriptionMs) break; // renew before AWS's 5 min
          const next = await nextEvent(iterator, this.#idleMs, subscription.signal);
          if (next === 'aborted') return;
          if (next.done) break; // the service ended the subscription: renew
          const event = eventOf(next.value);
          failures = 0;
          isFirst = false;
          const raw = event.Records ?? [];
          if (raw.length > 0) {
            const converted = toKinesisRecords(raw, hashKeyRange, position.skipThrough);
            const lastSequenceNumber = raw[raw.length - 1]?.SequenceNumber;
            if (converted.records.length > 0) position = { ...position, skipThrough: undefined };
            advance(event.ContinuationSequenceNumber, lastSequenceNumber);
            const batch = toRecordsResult(converted, event.MillisBehindLatest, shardId, onEvent);
            if (batch) {
              // Suspends here until the consumer has room for the next batch: no event is read meanwhile.
              yield batch;
              if (signal.aborted) return;
            }
          } else {
            advance(event.ContinuationSequenceNumber, undefined);
          }

          // AWS ends a shard with an event that has ChildShards and no continuation.
          if ((event.ChildShards?.length ?? 0) > 0 || event.ContinuationSequenceNumber === undefined) {
            subscription.abort();
            yield { kind: 'end', childShards: event.ChildShards?.map(toChildShard) };
            return;
          }

          // kinesis-local (0.6.x) never says a shard ended in the event stream: its events always carry
          // a continuation and never ChildShards. So, once caught up (an empty event, nothing behind),
          // the reader asks ListShards whether the shard has an ending sequence number, and if so
          // confirms the end with one GetRecords after the last position (NextShardIterator null, with
          // the children), delivering anything the subscription had not pushed yet.
          if (
            raw.length === 0 &&
            (event.MillisBehindLatest ?? 0) === 0 &&
            (await this.#isClosed(shardId, signal))
          ) {
            subscription.abort();
            const outcome = yield* this.#readToEnd(request, position, (p) => {
              position = p;
            });
            if (outcome !== 'open') return;
            break; // not at the end after all: subscribe again from the new position
          }
        }
      } catch (error) {
        subscription.abort(error);
        if (signal.aborted) return;
        if (!(await retryAfter('SubscribeToShard', error))) return;
      } finally {
        unsubscribe();
        subscription.abort();
        // The SDK's stream is released too when its handler ignored the signal; never awaited (a pending
        // read would hold it).
        iterator?.return?.().catch(() => undefined);
      }
    }
  }

  /**
   * The closed-shard check's `GetRecords` part: reads from `position` until the shard's end. Yields the
   * records found (and `end`), returns `'end'` at the end or `'open'` when the shard still has no end
   * there (then reading goes back to a subscription).
   */
  async *#readToEnd(
    request: ShardReadRequest,
    start: Position,
    setPosition: (position: Position) => void,
  ): AsyncGenerator<ReadResult, 'end' | 'open' | 'aborted'> {
    const { shardId, signal, hashKeyRange, onEvent } = request;
    let position = start;
    let iterator: string | undefined;
    let failures = 0;
    while (!signal.aborted) {
      let response: GetRecordsCommandOutput;
      try {
        if (iterator === undefined) {
          const output = await this.#client.send(
            new GetShardIteratorCommand({
              ...this.#stream,
              ShardId: shardId,
              ShardIteratorType: position.start.Type,
              StartingSequenceNumber: position.start.SequenceNumber,
              Timestamp: position.start.Timestamp,
            }),
            { abortSignal: signal },
          );
          iterator = output.ShardIterator;
          if (iterator === undefined) {
            yield { kind: 'end', childShards: undefined };
            return 'end';
          }
        }
        response = await this.#client.send(new GetRecordsCommand({ ShardIterator: iterator }), {
          abortSignal: signal,
        });
      } catch (error) {
        if (signal.aborted) return 'aborted';
        failures += 1;
        const translated = translateKinesisError('GetRecords', error);
        if (!translated.retriable || failures > 5) {
          onEvent({ type: 'ERROR', shardId, error: translated });
          return 'open';
        }
        const delayMs = backoffDelayMs(
          failures,
          { initialDelayMs: 200, maxDelayMs: this.#retry.maxBackoffMs },
          this.#retry.random,
        );
        onEvent({
          type: 'RETRY',
          operation: 'GetRecords',
          shardId,
          attempt: failures,
          delayMs,
          error: translated,
        });
        if (!(await sleepUnlessAborted(delayMs, signal))) return 'aborted';
        iterator = undefined;
        continue;
      }
      const raw = response.Records ?? [];
      if (raw.length > 0) {
        const converted = toKinesisRecords(raw, hashKeyRange, position.skipThrough);
        position = {
          start: { Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: raw[raw.length - 1]!.SequenceNumber },
          skipThrough: converted.records.length > 0 ? undefined : position.skipThrough,
        };
        setPosition(position);
        const batch = toRecordsResult(converted, response.MillisBehindLatest, shardId, onEvent);
        if (batch) yield batch;
      }
      if (!response.NextShardIterator) {
        yield { kind: 'end', childShards: response.ChildShards?.map(toChildShard) };
        return 'end';
      }
      if (raw.length === 0) return 'open';
      iterator = response.NextShardIterator;
    }
    return 'aborted';
  }

  /** Whether ListShards gives the shard an ending sequence number (one listing per interval for all shards). */
  async #isClosed(shardId: string, signal: AbortSignal): Promise<boolean> {
    const nowMs = this.#clock.nowMs();
    if (this.#listing === undefined || nowMs - this.#listing.atMs >= this.#endCheckIntervalMs) {
      const closed = this.#listClosedShards(signal);
      closed.catch(() => undefined);
      this.#listing = { atMs: nowMs, closed };
    }
    try {
      return (await this.#listing.closed).has(shardId);
    } catch {
      return false; // the next caught-up event looks again after the interval
    }
  }

  async #listClosedShards(signal: AbortSignal): Promise<ReadonlySet<string>> {
    const closed = new Set<string>();
    let nextToken: string | undefined;
    do {
      const output: ListShardsCommandOutput = await this.#client.send(
        new ListShardsCommand(nextToken ? { NextToken: nextToken } : { ...this.#stream }),
        { abortSignal: signal },
      );
      for (const shard of output.Shards ?? []) {
        if (shard.ShardId && shard.SequenceNumberRange?.EndingSequenceNumber !== undefined)
          closed.add(shard.ShardId);
      }
      nextToken = output.NextToken;
    } while (nextToken);
    return closed;
  }
}

/**
 * Throws when the client is an AWS SDK client that would send `SubscribeToShard` to AWS over HTTP/1.1
 * (AWS requires HTTP/2 for it). A custom endpoint, given to the client or by `AWS_ENDPOINT_URL_KINESIS` /
 * `AWS_ENDPOINT_URL`, is taken for an emulator and passes; a wrapper without the SDK's `config` cannot be
 * checked and passes.
 *
 * @throws {@link FanOutClientError}
 */
export function assertFanOutCapableClient(client: KinesisClientLike): void {
  const config = (client as { config?: { requestHandler?: unknown; isCustomEndpoint?: unknown } }).config;
  if (!config) return;
  const handler = (config.requestHandler as { constructor?: { name?: unknown } } | undefined)?.constructor
    ?.name;
  if (handler === 'NodeHttpHandler' && config.isCustomEndpoint !== true && !hasEnvironmentEndpoint()) {
    throw new FanOutClientError(
      'Enhanced fan-out on AWS needs HTTP/2, but this KinesisClient uses the HTTP/1.1 NodeHttpHandler. ' +
        'Leave requestHandler unset (the KinesisClient default is NodeHttp2Handler) or pass ' +
        'new NodeHttp2Handler({ ... }) from @smithy/node-http-handler; an HTTP/1.1 handler is only for ' +
        'local emulators (a custom endpoint such as kinesis-local).',
    );
  }
}

/**
 * Whether the SDK takes Kinesis's endpoint from the environment (`AWS_ENDPOINT_URL_KINESIS` or
 * `AWS_ENDPOINT_URL`, unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true): such a client talks to the
 * endpoint it was pointed at (an emulator, as a rule), not to AWS, even though `isCustomEndpoint` is false.
 * An `endpoint_url` in the shared config file is not seen here; pass `endpoint` to the client instead.
 */
function hasEnvironmentEndpoint(): boolean {
  const env = process.env;
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === 'true') return false;
  return Boolean(env.AWS_ENDPOINT_URL_KINESIS || env.AWS_ENDPOINT_URL);
}

function initialPosition(start: ShardReadRequest['start']): Position {
  switch (start.kind) {
    case 'TRIM_HORIZON':
      return { start: { Type: 'TRIM_HORIZON' }, skipThrough: undefined };
    case 'LATEST':
      return { start: { Type: 'LATEST' }, skipThrough: undefined };
    case 'AT_TIMESTAMP':
      return { start: { Type: 'AT_TIMESTAMP', Timestamp: start.timestamp }, skipThrough: undefined };
    case 'AFTER':
      // A checkpoint may sit inside an aggregated record: re-read that record and drop what was done
      // (as the polling reader and the KCL do).
      return {
        start: { Type: 'AT_SEQUENCE_NUMBER', SequenceNumber: start.position.sequenceNumber },
        skipThrough: start.position,
      };
  }
}

/** The event of a stream item, or the error it carries (`ResourceInUseException`, `InternalFailureException`...). */
function eventOf(item: SubscribeToShardEventStream): SubscribeToShardEvent {
  if (item.SubscribeToShardEvent) return item.SubscribeToShardEvent;
  const [name, value] = Object.entries(item).find(([, v]) => v !== undefined) ?? ['UnknownEvent', undefined];
  const message = (value as { message?: unknown } | undefined)?.message;
  const error = new Error(typeof message === 'string' ? message : `event stream error: ${name}`);
  error.name = name === 'InternalFailureException' ? 'InternalFailure' : name;
  // KMS refusals and a deregistered consumer are not cured by retrying at once; the rest (ResourceInUse:
  // taken over by a newer subscription, internal failures, KMS throttling) are.
  if (name === 'ResourceNotFoundException' || (name.startsWith('KMS') && name !== 'KMSThrottlingException')) {
    Object.assign(error, { $fault: 'client' });
  }
  throw error;
}

/**
 * The next stream item, or `'aborted'`; rejects with a retriable {@link DeadlineExceededError} when no
 * item arrives within `idleMs` (the subscription is then cancelled by the caller).
 */
function nextEvent(
  iterator: AsyncIterator<SubscribeToShardEventStream>,
  idleMs: number,
  signal: AbortSignal,
): Promise<IteratorResult<SubscribeToShardEventStream> | 'aborted'> {
  if (signal.aborted) return Promise.resolve('aborted');
  const pending = iterator.next();
  pending.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;
  return Promise.race([
    pending,
    new Promise<'aborted'>((resolve, reject) => {
      timer = setTimeout(() => reject(new DeadlineExceededError('SubscribeToShard event', idleMs)), idleMs);
      unsubscribe = onAbort(signal, () => resolve('aborted'));
    }),
  ]).finally(() => {
    clearTimeout(timer);
    unsubscribe?.();
  });
}
