import { Buffer } from 'node:buffer';
import { AggregateBuilder } from './AggregateBuilder.js';
import { AggregationError } from './AggregationError.js';
import { isAggregated } from './deaggregate.js';
import { ConfigurationError } from './errors.js';
import { MAX_RECORD_BYTES } from './kinesisLimits.js';
import type { UserRecord } from './UserRecord.js';
import { validateUserRecord } from './UserRecord.js';

/** Options of {@link RecordAggregator}. */
export interface RecordAggregatorOptions {
  /**
   * Largest Kinesis record to produce, counted as Kinesis counts it: data plus the UTF-8 bytes of the
   * partition key. Raise it only for a stream whose `MaxRecordSizeInKiB` was raised.
   *
   * @defaultValue {@link MAX_RECORD_BYTES} (1 MiB)
   */
  readonly maxRecordBytes?: number;
}

/** The Kinesis record (a `PutRecords` entry) that {@link RecordAggregator.flush} produces. */
export interface OuterRecord extends UserRecord {
  /** How many user records it carries. */
  readonly userRecordCount: number;
}

/**
 * Packs user records bound for one shard into Kinesis records of at most `maxRecordBytes`, in the KPL
 * aggregation format, keeping the exact size of the record it would produce as it goes (O(1) per record,
 * nothing re-encoded). Use one aggregator per shard being filled.
 *
 * Only records that map to the same shard may share an aggregator (same shard = their
 * {@link effectiveHashKey}s fall in one shard's hash key range): consumers such as the Java KCL drop a
 * sub-record whose hash key lies outside the shard that received it.
 *
 * Data is referenced, not copied, until {@link RecordAggregator.flush}: do not modify it before then.
 *
 * @example
 * ```ts
 * const aggregator = new RecordAggregator();
 * for (const record of recordsForShard) {
 *   if (!aggregator.tryAdd(record)) {
 *     entries.push(aggregator.flush()!);
 *     aggregator.tryAdd(record); // always fits in an empty aggregator
 *   }
 * }
 * const last = aggregator.flush();
 * if (last) entries.push(last);
 * ```
 */
export class RecordAggregator {
  /** The size limit in force, in bytes. */
  readonly maxRecordBytes: number;
  readonly #builder = new AggregateBuilder();
  #first: UserRecord | undefined;
  #outerKeyBytes = 0;

  /** @throws {@link ConfigurationError} when `maxRecordBytes` is not a positive safe integer. */
  constructor(options: RecordAggregatorOptions = {}) {
    const maxRecordBytes = options.maxRecordBytes ?? MAX_RECORD_BYTES;
    if (!Number.isSafeInteger(maxRecordBytes) || maxRecordBytes <= 0) {
      throw new ConfigurationError(
        [{ path: 'maxRecordBytes', message: `must be a positive integer, got ${String(maxRecordBytes)}` }],
        'record aggregator options',
      );
    }
    this.maxRecordBytes = maxRecordBytes;
  }

  /** Number of user records waiting for {@link RecordAggregator.flush}. */
  get recordCount(): number {
    return this.#builder.recordCount;
  }

  /**
   * Exact size, in bytes as Kinesis counts them (data plus partition key), of the record that
   * {@link RecordAggregator.flush} would return now; 0 when empty.
   */
  get sizeBytes(): number {
    const first = this.#first;
    if (first === undefined) return 0;
    const dataBytes =
      this.#builder.recordCount === 1 && !isAggregated(first.data)
        ? first.data.length
        : this.#builder.encodedBytes;
    return this.#outerKeyBytes + dataBytes;
  }

  /**
   * Adds `record` if the flushed record stays within `maxRecordBytes`; returns `false`, changing
   * nothing, when it would not fit (flush, then add it again: it always fits in an empty aggregator).
   *
   * @throws {@link AggregationError} when the record is invalid, or too large to fit even alone (whatever
   * the aggregator holds; nothing is changed).
   */
  tryAdd(record: UserRecord): boolean {
    validateUserRecord(record);
    const keyBytes = Buffer.byteLength(record.partitionKey, 'utf8');
    // Alone, a record is sent as it is (see flush), unless its data could be mistaken for an aggregate.
    const aloneBytes =
      keyBytes +
      (isAggregated(record.data) ? new AggregateBuilder().encodedBytesWith(record) : record.data.length);
    if (aloneBytes > this.maxRecordBytes) {
      throw new AggregationError(
        'data',
        `record of ${aloneBytes} bytes (data plus partition key) exceeds maxRecordBytes ${this.maxRecordBytes}`,
      );
    }
    if (this.#first === undefined) {
      this.#first = record;
      this.#outerKeyBytes = keyBytes;
    } else if (this.#outerKeyBytes + this.#builder.encodedBytesWith(record) > this.maxRecordBytes) {
      return false;
    }
    this.#builder.add(record);
    return true;
  }

  /**
   * Returns the Kinesis record holding every record added since the last flush, and empties the
   * aggregator; `undefined` when empty.
   *
   * Its partition key is the first user record's, and its explicit hash key the first record's when that
   * has one, so it lands on the first record's shard (the KPL uses the first record's hash key too). A
   * single record is returned as it was given (its own data, not aggregated, as the KPL does), unless its
   * data starts with the KPL magic bytes: then it is aggregated, so that no consumer mistakes it for an
   * aggregate.
   */
  flush(): OuterRecord | undefined {
    const first = this.#first;
    if (first === undefined) return undefined;
    const userRecordCount = this.#builder.recordCount;
    const data = userRecordCount === 1 && !isAggregated(first.data) ? first.data : this.#builder.encode();
    this.#builder.clear();
    this.#first = undefined;
    this.#outerKeyBytes = 0;
    return {
      partitionKey: first.partitionKey,
      explicitHashKey: first.explicitHashKey,
      data,
      userRecordCount,
    };
  }
}
