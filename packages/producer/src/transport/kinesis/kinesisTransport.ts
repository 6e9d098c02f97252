import { Buffer } from 'node:buffer';
import {
  DescribeStreamSummaryCommand,
  type KinesisClient,
  ListShardsCommand,
  type ListShardsCommandOutput,
  PutRecordsCommand,
  type PutRecordsCommandOutput,
  type PutRecordsRequestEntry,
} from '@aws-sdk/client-kinesis';
import {
  awsErrorCode,
  DeadlineExceededError,
  MAX_PUT_RECORDS_BYTES,
  MAX_PUT_RECORDS_BYTES_LIMIT,
  MAX_PUT_RECORDS_RECORDS,
  MAX_RECORD_BYTES,
  ProblemList,
  splitBatches,
  withDeadline,
} from '@shardline/common';
import { effectiveHashKey, RecordAggregator } from '@shardline/kpl';
import { ConfigurationError, DestinationError, TransportError } from '../../errors.js';
import { describeCause } from '../describeCause.js';
import { PERMANENT_RECORD_CODES } from '../recordCodes.js';
import type { RecordOutcome, SendResult, Transport, TransportLimits, TransportRecord } from '../Transport.js';
import { ShardMap, type ShardRange } from './ShardMap.js';

/** KPL aggregation settings of {@link kinesisTransport}. */
export interface AggregationOptions {
  /** Largest aggregated record (data plus partition key). @defaultValue 1048576 */
  readonly maxRecordBytes?: number;
  /** Re-read the shard map (ListShards) at least this often. @defaultValue 60000 */
  readonly shardMapRefreshMs?: number;
}

/** Options of {@link kinesisTransport}. */
export interface KinesisTransportOptions {
  /** Your Kinesis client (never destroyed by the transport). Only `send` is used. */
  readonly client: Pick<KinesisClient, 'send'>;
  /** The stream's name. Give this or `streamArn`. */
  readonly streamName?: string;
  /** The stream's ARN (kinesalite does not support ARNs: use `streamName` there). */
  readonly streamArn?: string;
  /**
   * Bytes of data plus partition keys in one `PutRecords` call. AWS allows 5 MiB (10 MiB since late
   * 2025); kinesalite refuses HTTP bodies over 7 MiB, which a base64-encoded 5 MiB still fits.
   * @defaultValue 5242880
   */
  readonly maxRequestBytes?: number;
  /**
   * KPL aggregation: pack records bound for the same shard (by the MD5 of their partition key, or their
   * explicit hash key, against the hash ranges of `ListShards`) into aggregated records. Consumers must
   * de-aggregate (`@shardline/consumer-core` and the Java KCL do). @defaultValue false
   */
  readonly aggregation?: boolean | AggregationOptions;
  /**
   * Deadline of one call (`PutRecords`, `ListShards`, `DescribeStreamSummary`): past it the call is
   * aborted (its socket destroyed) and fails with code `Timeout`, and the producer retries its records
   * with backoff (same event ids: at-least-once). An AbortSignal per call, because the SDK handler's
   * `requestTimeout` stops counting once response headers arrive. @defaultValue 30000
   */
  readonly requestTimeoutMs?: number;
}

const THROTTLE_CODES = new Set([
  'ProvisionedThroughputExceededException',
  'KMSThrottlingException',
  'LimitExceededException',
  'ThrottlingException',
]);
const PERMANENT_REQUEST_CODES = new Set([
  ...PERMANENT_RECORD_CODES,
  'ResourceNotFoundException',
  'ValidationException',
  'InvalidArgumentException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'MissingAuthenticationTokenException',
  'SerializationException',
]);

/** Translates an AWS SDK error of a whole call. @internal */
export function translateKinesisError(error: unknown, signal: AbortSignal): TransportError {
  if (error instanceof TransportError) return error;
  if (error instanceof DeadlineExceededError) {
    return new TransportError('Timeout', error.message, { retriable: true, cause: error });
  }
  const name = awsErrorCode(error) ?? 'Error';
  const message = (error as Error)?.message ?? String(error);
  if (signal.aborted)
    return new TransportError('ProducerClosed', `aborted: ${message}`, { retriable: false, cause: error });
  if (THROTTLE_CODES.has(name)) {
    return new TransportError(name, message, { retriable: true, isThrottle: true, cause: error });
  }
  return new TransportError(name, message, { retriable: !PERMANENT_REQUEST_CODES.has(name), cause: error });
}

function recordOutcome(
  entry: { ShardId?: string; SequenceNumber?: string; ErrorCode?: string; ErrorMessage?: string } | undefined,
): RecordOutcome {
  if (entry?.SequenceNumber !== undefined && entry.ShardId !== undefined && entry.ErrorCode === undefined) {
    return { ok: true, shardId: entry.ShardId, sequenceNumber: entry.SequenceNumber };
  }
  const errorCode = entry?.ErrorCode ?? 'MissingRecordResult';
  return {
    ok: false,
    errorCode,
    errorMessage: entry?.ErrorMessage ?? 'PutRecords gave no result for this record',
    retriable: !PERMANENT_RECORD_CODES.has(errorCode),
    isThrottle: THROTTLE_CODES.has(errorCode),
  };
}

/** A request entry and the producer records it carries. */
interface Outgoing {
  readonly entry: PutRecordsRequestEntry;
  readonly bytes: number;
  /** Indexes into the producer's records. */
  readonly members: readonly number[];
  /** The shard the aggregator meant it for. */
  readonly expectedShardId: string | undefined;
}

/**
 * The direct transport: `PutRecords` on a Kinesis stream. Each record's data is the ingest envelope
 * `{eventId, receivedAt, data}`, as the ingest API writes it, so every consumer sees one format.
 * Optionally aggregates records bound for the same shard (KPL format, the codec of `@shardline/kpl`).
 *
 * @throws {@link ConfigurationError} listing every problem of `options`.
 * @example
 * ```ts
 * const client = new KinesisClient({ region: 'eu-west-1' });
 * const producer = createProducer({ transport: kinesisTransport({ client, streamName: 'events' }) });
 * ```
 */
export function kinesisTransport(options: KinesisTransportOptions): KinesisTransport {
  return new KinesisTransport(options);
}

/** See {@link kinesisTransport}. */
export class KinesisTransport implements Transport {
  readonly name = 'kinesis';
  readonly limits: TransportLimits;
  readonly #client: Pick<KinesisClient, 'send'>;
  readonly #stream: { StreamName?: string; StreamARN?: string };
  readonly #maxRequestBytes: number;
  readonly #aggregation: Required<AggregationOptions> | undefined;
  readonly #requestTimeoutMs: number;
  #shardMap: ShardMap | undefined;
  #shardMapLoading: Promise<ShardMap> | undefined;
  #isShardMapStale = false;
  /** How many times the shard map was read (ListShards), for tests and metrics. */
  shardMapLoads = 0;

  constructor(options: KinesisTransportOptions) {
    const problems = new ProblemList('kinesis transport options');
    if (typeof options !== 'object' || options === null) {
      throw new ConfigurationError(
        [{ path: '(options)', message: 'must be an object' }],
        'kinesis transport options',
      );
    }
    if (typeof options.client?.send !== 'function') problems.add('client', 'must be a KinesisClient');
    const hasName = typeof options.streamName === 'string' && options.streamName.length > 0;
    const hasArn = typeof options.streamArn === 'string' && options.streamArn.startsWith('arn:');
    if (options.streamName !== undefined && !hasName)
      problems.add('streamName', 'must be a non-empty string');
    if (options.streamArn !== undefined && !hasArn)
      problems.add('streamArn', 'must be a stream ARN (arn:...)');
    if (options.streamName === undefined && options.streamArn === undefined) {
      problems.add('streamName', 'give streamName or streamArn');
    }
    const maxRequestBytes = options.maxRequestBytes ?? MAX_PUT_RECORDS_BYTES;
    if (
      !Number.isInteger(maxRequestBytes) ||
      maxRequestBytes < 1024 ||
      maxRequestBytes > MAX_PUT_RECORDS_BYTES_LIMIT
    ) {
      problems.add('maxRequestBytes', `must be an integer from 1024 to ${MAX_PUT_RECORDS_BYTES_LIMIT}`);
    }
    const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    if (!Number.isInteger(requestTimeoutMs) || requestTimeoutMs < 1)
      problems.add('requestTimeoutMs', 'must be a positive integer');
    let aggregation: Required<AggregationOptions> | undefined;
    if (options.aggregation !== undefined && options.aggregation !== false) {
      const a = options.aggregation === true ? {} : options.aggregation;
      aggregation = {
        maxRecordBytes: a.maxRecordBytes ?? MAX_RECORD_BYTES,
        shardMapRefreshMs: a.shardMapRefreshMs ?? 60_000,
      };
      if (
        !Number.isInteger(aggregation.maxRecordBytes) ||
        aggregation.maxRecordBytes < 1024 ||
        aggregation.maxRecordBytes > maxRequestBytes
      ) {
        problems.add('aggregation.maxRecordBytes', 'must be an integer from 1024 to maxRequestBytes');
      }
      if (!Number.isInteger(aggregation.shardMapRefreshMs) || aggregation.shardMapRefreshMs < 0) {
        problems.add('aggregation.shardMapRefreshMs', 'must be a non-negative integer');
      }
    }
    problems.throwIfAny();
    this.#client = options.client;
    this.#stream = hasName ? { StreamName: options.streamName } : { StreamARN: options.streamArn };
    this.#maxRequestBytes = maxRequestBytes;
    this.#aggregation = aggregation;
    this.#requestTimeoutMs = requestTimeoutMs;
    this.limits = {
      // PutRecords: 500 records per call. Aggregated, many records share one entry: bytes bind first.
      maxRecordsPerRequest: aggregation === undefined ? MAX_PUT_RECORDS_RECORDS : 50_000,
      maxRequestBytes,
    };
  }

  /** Data plus partition key; aggregated, also the sub-record's own key table entry and framing (upper bound). */
  requestBytes(record: TransportRecord): number {
    const keyBytes = Buffer.byteLength(record.partitionKey, 'utf8');
    const base = record.envelope.byteLength + keyBytes;
    if (this.#aggregation === undefined) return base;
    return base + keyBytes + (record.explicitHashKey?.length ?? 0) * 2 + 24;
  }

  /**
   * Checks that the stream exists and takes writes (`DescribeStreamSummary`). A caller without the
   * `kinesis:DescribeStreamSummary` permission passes: writing may still be allowed.
   *
   * @throws {@link DestinationError} when the stream is missing, not active, the credentials are refused,
   * or Kinesis cannot be reached within the deadline.
   */
  async check(signal: AbortSignal): Promise<void> {
    const stream = this.#stream.StreamName ?? this.#stream.StreamARN!;
    let status: string | undefined;
    try {
      const out = await withDeadline(
        'DescribeStreamSummary',
        this.#requestTimeoutMs,
        (abortSignal) =>
          this.#client.send(new DescribeStreamSummaryCommand({ ...this.#stream }), { abortSignal }),
        signal,
      );
      status = out.StreamDescriptionSummary?.StreamStatus;
    } catch (error) {
      if (signal.aborted) throw error;
      const e = translateKinesisError(error, signal);
      if (e.code === 'AccessDeniedException') return;
      if (e.code === 'ResourceNotFoundException')
        throw new DestinationError('missing', `the stream ${stream} does not exist`, { cause: error });
      if (!e.retriable)
        throw new DestinationError('forbidden', `Kinesis refused the stream ${stream}: ${e.code}`, {
          cause: error,
        });
      throw new DestinationError('unreachable', `cannot reach Kinesis: ${describeCause(e)}`, {
        cause: error,
      });
    }
    if (status === 'CREATING' || status === 'DELETING')
      throw new DestinationError('missing', `the stream ${stream} is ${status}, not ACTIVE`);
  }

  async send(records: readonly TransportRecord[], signal: AbortSignal): Promise<SendResult> {
    if (this.#aggregation === undefined) return this.#sendPlain(records, signal);
    const outgoing = await this.#aggregate(records, signal);
    const outcomes: RecordOutcome[] = new Array(records.length);
    // Several calls only when aggregation overhead or the caller's batch exceeds one call's limits.
    const calls = splitBatches(outgoing, (o) => o.bytes, MAX_PUT_RECORDS_RECORDS, this.#maxRequestBytes);
    if (calls.length === 1) {
      await this.#put(calls[0]!, outcomes, signal); // a whole-call failure throws
    } else {
      for (const call of calls) {
        try {
          await this.#put(call, outcomes, signal);
        } catch (error) {
          const e = translateKinesisError(error, signal);
          for (const o of call) {
            for (const index of o.members) {
              outcomes[index] = {
                ok: false,
                errorCode: e.code,
                errorMessage: e.message,
                retriable: e.retriable,
                isThrottle: e.isThrottle,
              };
            }
          }
        }
      }
    }
    return { outcomes };
  }

  /**
   * Records without aggregation: one request entry per record, straight into the call (no per-record
   * bookkeeping objects). Several calls only when the caller's batch exceeds one call's limits; then a
   * call's failure fails its own records, as in {@link KinesisTransport.send}.
   */
  async #sendPlain(records: readonly TransportRecord[], signal: AbortSignal): Promise<SendResult> {
    const outcomes: RecordOutcome[] = new Array(records.length);
    for (let start = 0; start < records.length; ) {
      const entries: PutRecordsRequestEntry[] = [];
      let bytes = 0;
      let end = start;
      for (; end < records.length && end - start < MAX_PUT_RECORDS_RECORDS; end++) {
        const r = records[end]!;
        const size = r.envelope.byteLength + Buffer.byteLength(r.partitionKey, 'utf8');
        if (end > start && bytes + size > this.#maxRequestBytes) break;
        bytes += size;
        entries.push({ Data: r.envelope, PartitionKey: r.partitionKey, ExplicitHashKey: r.explicitHashKey });
      }
      let output: PutRecordsCommandOutput | undefined;
      try {
        output = await this.#putRecords(entries, signal);
      } catch (error) {
        if (start === 0 && end === records.length) throw error; // one call: the whole request failed
        const e = error as TransportError;
        const failed: RecordOutcome = {
          ok: false,
          errorCode: e.code,
          errorMessage: e.message,
          retriable: e.retriable,
          isThrottle: e.isThrottle,
        };
        for (let i = start; i < end; i++) outcomes[i] = failed;
      }
      if (output !== undefined) {
        for (let i = start; i < end; i++) outcomes[i] = recordOutcome(output.Records?.[i - start]);
      }
      start = end;
    }
    return { outcomes };
  }

  /** One `PutRecords` call within the deadline. @throws {@link TransportError} when the call failed. */
  async #putRecords(
    entries: PutRecordsRequestEntry[],
    signal: AbortSignal,
  ): Promise<PutRecordsCommandOutput> {
    try {
      return await withDeadline(
        'PutRecords',
        this.#requestTimeoutMs,
        (abortSignal) =>
          this.#client.send(new PutRecordsCommand({ ...this.#stream, Records: entries }), { abortSignal }),
        signal,
      );
    } catch (error) {
      throw translateKinesisError(error, signal);
    }
  }

  async #put(call: readonly Outgoing[], outcomes: RecordOutcome[], signal: AbortSignal): Promise<void> {
    const output = await this.#putRecords(
      call.map((o) => o.entry),
      signal,
    );
    for (let i = 0; i < call.length; i++) {
      const o = call[i]!;
      const outcome = recordOutcome(output.Records?.[i]);
      if (outcome.ok && o.expectedShardId !== undefined && outcome.shardId !== o.expectedShardId) {
        // The stream was resharded since the map was read: the record is stored (consumers still get its
        // sub-records), but the next aggregation needs a fresh map.
        this.#isShardMapStale = true;
      }
      o.members.forEach((index, sub) => {
        outcomes[index] =
          outcome.ok && o.members.length > 1 ? { ...outcome, subSequenceNumber: sub } : outcome;
      });
    }
  }

  #plain(records: readonly TransportRecord[]): Outgoing[] {
    return records.map((r, index) => ({
      entry: { Data: r.envelope, PartitionKey: r.partitionKey, ExplicitHashKey: r.explicitHashKey },
      bytes: r.envelope.byteLength + Buffer.byteLength(r.partitionKey, 'utf8'),
      members: [index],
      expectedShardId: undefined,
    }));
  }

  async #aggregate(records: readonly TransportRecord[], signal: AbortSignal): Promise<Outgoing[]> {
    const map = await this.#currentShardMap(signal);
    const maxRecordBytes = this.#aggregation!.maxRecordBytes;
    type Slot = { aggregator: RecordAggregator; members: number[] };
    const open = new Map<string, Slot>();
    const out: Outgoing[] = [];
    const seal = (shardId: string, slot: Slot) => {
      const outer = slot.aggregator.flush();
      if (outer === undefined) return;
      out.push({
        entry: { Data: outer.data, PartitionKey: outer.partitionKey, ExplicitHashKey: outer.explicitHashKey },
        bytes: outer.data.byteLength + Buffer.byteLength(outer.partitionKey, 'utf8'),
        members: slot.members,
        expectedShardId: shardId,
      });
      slot.members = [];
    };
    records.forEach((r, index) => {
      const user = { partitionKey: r.partitionKey, explicitHashKey: r.explicitHashKey, data: r.envelope };
      const shardId = map.shardFor(effectiveHashKey(user));
      if (shardId === undefined) {
        // No open shard holds the key (the map is mid-reshard): send it alone, never aggregated blindly.
        this.#isShardMapStale = true;
        out.push({ ...this.#plain([r])[0]!, members: [index] });
        return;
      }
      let slot = open.get(shardId);
      if (slot === undefined) {
        slot = { aggregator: new RecordAggregator({ maxRecordBytes }), members: [] };
        open.set(shardId, slot);
      }
      if (!slot.aggregator.tryAdd(user)) {
        seal(shardId, slot);
        slot.aggregator.tryAdd(user);
      }
      slot.members.push(index);
    });
    for (const [shardId, slot] of open) seal(shardId, slot);
    return out;
  }

  async #currentShardMap(signal: AbortSignal): Promise<ShardMap> {
    const map = this.#shardMap;
    const isFresh =
      map !== undefined &&
      !this.#isShardMapStale &&
      Date.now() - map.builtAtMs < this.#aggregation!.shardMapRefreshMs;
    if (isFresh) return map;
    this.#shardMapLoading ??= this.#loadShardMap(signal).finally(() => {
      this.#shardMapLoading = undefined;
    });
    return this.#shardMapLoading;
  }

  async #loadShardMap(signal: AbortSignal): Promise<ShardMap> {
    const ranges: ShardRange[] = [];
    let nextToken: string | undefined;
    try {
      do {
        const token = nextToken;
        const output: ListShardsCommandOutput = await withDeadline(
          'ListShards',
          this.#requestTimeoutMs,
          (abortSignal) =>
            this.#client.send(
              new ListShardsCommand(token === undefined ? { ...this.#stream } : { NextToken: token }),
              { abortSignal },
            ),
          signal,
        );
        for (const shard of output.Shards ?? []) {
          // Closed shards (an ending sequence number) take no writes.
          if (shard.SequenceNumberRange?.EndingSequenceNumber !== undefined) continue;
          if (shard.ShardId === undefined || shard.HashKeyRange === undefined) continue;
          ranges.push({
            shardId: shard.ShardId,
            startingHashKey: BigInt(shard.HashKeyRange.StartingHashKey!),
            endingHashKey: BigInt(shard.HashKeyRange.EndingHashKey!),
          });
        }
        nextToken = output.NextToken;
      } while (nextToken !== undefined);
    } catch (error) {
      throw translateKinesisError(error, signal);
    }
    this.shardMapLoads += 1;
    this.#shardMap = new ShardMap(ranges);
    this.#isShardMapStale = false;
    return this.#shardMap;
  }
}
