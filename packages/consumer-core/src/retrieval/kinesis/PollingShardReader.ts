import {
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { awsErrorName, clientWithDeadline, sleepUnlessAborted } from '@shardline/common';
import type { ExtendedSequenceNumber } from '../../checkpoint/ExtendedSequenceNumber.js';
import { type Clock, monotonicClock } from '../../internal/clock.js';
import type {
  ChildShard,
  ReadResult,
  ShardReader,
  ShardReadRequest,
  StartingPosition,
} from '../ShardReader.js';
import { toKinesisRecords, toRecordsResult } from '../toKinesisRecords.js';
import {
  type ReadRetryPolicy,
  resolveReadRetryPolicy,
  waitAfterReadFailure,
} from '../waitAfterReadFailure.js';
import { isThrottling, translateKinesisError } from './awsErrors.js';

/** The part of a Kinesis client the library uses: any `KinesisClient` (or a wrapper with `send`). */
export type KinesisClientLike = Pick<KinesisClient, 'send'>;

/** Options of {@link PollingShardReader}. */
export interface PollingShardReaderOptions {
  /** The user's client; never destroyed by the library. */
  readonly client: KinesisClientLike;
  /** The stream, by name... */
  readonly streamName?: string;
  /** ...or by ARN (exactly one of the two). */
  readonly streamArn?: string;
  /** `Limit` of each `GetRecords` (1–10,000). @defaultValue 10000 */
  readonly maxRecordsPerFetch?: number;
  /** Wait after a read that found no backlog. @defaultValue 1000 */
  readonly idleTimeBetweenReadsMs?: number;
  /** Backoff after throttling: first delay. @defaultValue 500 */
  readonly throttleBackoffInitialMs?: number;
  /** Backoff after throttling or errors: largest delay. @defaultValue 5000 */
  readonly maxBackoffMs?: number;
  /** Delay before retrying after a non-retriable error (reported each time). @defaultValue 30000 */
  readonly fatalErrorRetryMs?: number;
  /**
   * The deadline of each `GetShardIterator` and `GetRecords` call, SDK retries included: a call still
   * unanswered then (a hung connection, a body trickling in) is aborted and retried with the error
   * backoff, on the same iterator. @defaultValue 10000
   */
  readonly callTimeoutMs?: number;
  /** Monotonic clock. */
  readonly clock?: Clock;
  /** Random source for jitter. */
  readonly random?: () => number;
}

/**
 * Reads a shard with `GetShardIterator` + `GetRecords` (the polling API, shared 5 calls/s per shard by
 * every application reading it).
 *
 * Pacing: while the shard has a backlog (`MillisBehindLatest > 0`, or a full batch) the next call is
 * made at once; otherwise the next call starts `idleTimeBetweenReadsMs` after the previous one ended,
 * so a caught-up reader makes at most `1000 / idleTimeBetweenReadsMs` calls per second. Throttling
 * backs off with jitter (a 10 MiB answer throttles the shard for about 5 s); `ExpiredIteratorException`
 * resumes after the last record read; a checkpoint that the stream's retention already trimmed is
 * reported and reading resumes at `TRIM_HORIZON`.
 */
export class PollingShardReader implements ShardReader {
  readonly #client: KinesisClientLike;
  readonly #stream: { StreamName?: string; StreamARN?: string };
  readonly #limit: number;
  readonly #idleMs: number;
  readonly #throttleInitialMs: number;
  readonly #retry: ReadRetryPolicy;
  readonly #clock: Clock;

  constructor(options: PollingShardReaderOptions) {
    // Every send gets its own deadline: without one a hung connection stalls the shard while its lease
    // is still renewed.
    this.#client = clientWithDeadline(options.client, options.callTimeoutMs ?? 10_000);
    this.#stream = options.streamArn ? { StreamARN: options.streamArn } : { StreamName: options.streamName };
    this.#limit = options.maxRecordsPerFetch ?? 10_000;
    this.#idleMs = options.idleTimeBetweenReadsMs ?? 1_000;
    this.#throttleInitialMs = options.throttleBackoffInitialMs ?? 500;
    this.#clock = options.clock ?? monotonicClock;
    this.#retry = resolveReadRetryPolicy(options);
  }

  async *read(request: ShardReadRequest): AsyncGenerator<ReadResult> {
    const { shardId, signal, onEvent, hashKeyRange } = request;
    // Records at or before this position are dropped (a checkpoint inside an aggregated record).
    let skipThrough: ExtendedSequenceNumber | undefined =
      request.start.kind === 'AFTER' ? request.start.position : undefined;
    // The last Kinesis record fully read: an expired iterator resumes right after it.
    let lastSequenceNumber: string | undefined;
    let iterator: string | undefined;
    let nextCallAtMs = 0;
    let failures = 0;

    const retryAfter = (operation: string, error: unknown): Promise<boolean> => {
      failures += 1;
      return waitAfterReadFailure(
        request,
        {
          operation,
          error: translateKinesisError(operation, error),
          attempt: failures,
          initialDelayMs: isThrottling(error) ? this.#throttleInitialMs : 100,
        },
        this.#retry,
      );
    };

    while (!signal.aborted) {
      if (iterator === undefined) {
        const position: StartingPosition =
          lastSequenceNumber !== undefined
            ? {
                kind: 'AFTER',
                position: { sequenceNumber: lastSequenceNumber, subSequenceNumber: Number.MAX_SAFE_INTEGER },
              }
            : request.start;
        try {
          iterator = await this.#getIterator(shardId, position, lastSequenceNumber !== undefined, signal);
          failures = 0;
          if (iterator === undefined) {
            yield { kind: 'end', childShards: undefined };
            return;
          }
        } catch (error) {
          if (signal.aborted) return;
          if (
            position.kind === 'AFTER' &&
            lastSequenceNumber === undefined &&
            awsErrorName(error) === 'InvalidArgumentException'
          ) {
            // The checkpoint's record is gone (retention trimmed it): say so loudly, then read what is left.
            onEvent({
              type: 'RECORDS_TRIMMED',
              shardId,
              checkpoint: position.position,
              resumedAt: 'TRIM_HORIZON',
            });
            skipThrough = undefined;
            iterator = await this.#getIteratorOrUndefined(shardId, { kind: 'TRIM_HORIZON' }, signal);
            if (iterator === undefined && !(await retryAfter('GetShardIterator', error))) return;
            continue;
          }
          if (!(await retryAfter('GetShardIterator', error))) return;
          continue;
        }
      }

      const waitMs = nextCallAtMs - this.#clock.nowMs();
      if (waitMs > 0 && !(await sleepUnlessAborted(waitMs, signal))) return;

      let response: GetRecordsCommandOutput;
      try {
        response = await this.#client.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: this.#limit }),
          {
            abortSignal: signal,
          },
        );
        failures = 0;
      } catch (error) {
        if (signal.aborted) return;
        if (awsErrorName(error) === 'ExpiredIteratorException') {
          iterator = undefined;
          continue;
        }
        if (!(await retryAfter('GetRecords', error))) return;
        continue;
      }

      const raw = response.Records ?? [];
      const endedAtMs = this.#clock.nowMs();
      if (raw.length > 0) {
        const converted = toKinesisRecords(raw, hashKeyRange, skipThrough);
        lastSequenceNumber = raw[raw.length - 1]?.SequenceNumber ?? lastSequenceNumber;
        if (converted.records.length > 0) skipThrough = undefined;
        const batch = toRecordsResult(converted, response.MillisBehindLatest, shardId, onEvent);
        if (batch) yield batch;
      }

      if (!response.NextShardIterator) {
        yield { kind: 'end', childShards: response.ChildShards?.map(toChildShard) };
        return;
      }
      iterator = response.NextShardIterator;
      const hasBacklog = (response.MillisBehindLatest ?? 0) > 0 || raw.length >= this.#limit;
      // GetRecords: 5 calls/s per shard shared by every application; only a backlog justifies calling at once.
      nextCallAtMs = hasBacklog ? 0 : endedAtMs + this.#idleMs;
    }
  }

  async #getIteratorOrUndefined(
    shardId: string,
    position: StartingPosition,
    signal: AbortSignal,
  ): Promise<string | undefined> {
    try {
      return await this.#getIterator(shardId, position, false, signal);
    } catch {
      return undefined;
    }
  }

  async #getIterator(
    shardId: string,
    position: StartingPosition,
    wholeRecordDone: boolean,
    signal: AbortSignal,
  ): Promise<string | undefined> {
    const input: GetShardIteratorCommandInput = {
      ...this.#stream,
      ShardId: shardId,
      ShardIteratorType: 'LATEST',
    };
    switch (position.kind) {
      case 'TRIM_HORIZON':
        input.ShardIteratorType = 'TRIM_HORIZON';
        break;
      case 'LATEST':
        input.ShardIteratorType = 'LATEST';
        break;
      case 'AT_TIMESTAMP':
        input.ShardIteratorType = 'AT_TIMESTAMP';
        input.Timestamp = position.timestamp;
        break;
      case 'AFTER':
        // A checkpoint may sit inside an aggregated record: re-read that record and drop what was done
        // (the KCL does the same). Mid-stream the last record was read whole, so start after it.
        input.ShardIteratorType = wholeRecordDone ? 'AFTER_SEQUENCE_NUMBER' : 'AT_SEQUENCE_NUMBER';
        input.StartingSequenceNumber = position.position.sequenceNumber;
        break;
    }
    const { ShardIterator } = await this.#client.send(new GetShardIteratorCommand(input), {
      abortSignal: signal,
    });
    return ShardIterator;
  }
}

/** A child shard as `GetRecords` / `SubscribeToShard` report it, in the port's terms. */
export function toChildShard(child: {
  ShardId?: string;
  ParentShards?: string[];
  HashKeyRange?: { StartingHashKey?: string; EndingHashKey?: string };
}): ChildShard {
  const range = child.HashKeyRange;
  return {
    shardId: child.ShardId ?? '',
    parentShardIds: [...(child.ParentShards ?? [])].sort(),
    hashKeyRange:
      range?.StartingHashKey !== undefined && range.EndingHashKey !== undefined
        ? { startingHashKey: range.StartingHashKey, endingHashKey: range.EndingHashKey }
        : undefined,
  };
}
