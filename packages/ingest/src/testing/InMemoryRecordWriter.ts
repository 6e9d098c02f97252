import { createHash } from 'node:crypto';
import type { RecordWriteResult, RecordWriter, RecordWriterEntry } from '../kinesis/RecordWriter.js';

/** A record an {@link InMemoryRecordWriter} accepted. */
export interface InMemoryStoredRecord {
  readonly partitionKey: string;
  readonly data: Uint8Array;
  readonly shardId: string;
  readonly sequenceNumber: string;
}

/** Options of {@link InMemoryRecordWriter}. */
export interface InMemoryRecordWriterOptions {
  /** Shards the hash-key space is cut into, evenly (as `CreateStream` does). @defaultValue 4 */
  readonly shardCount?: number;
}

const HASH_SPACE = 2n ** 128n;

/**
 * A {@link RecordWriter} in memory: routes each record to a shard by MD5 of its partition key like
 * Kinesis, hands out increasing sequence numbers, and records every call. For unit tests of code that
 * writes through the port; inject faults with {@link withKinesisFault}.
 */
export class InMemoryRecordWriter implements RecordWriter {
  /** Every accepted record, in write order. */
  readonly records: InMemoryStoredRecord[] = [];
  /** The entries of every call, in call order (to check the `PutRecords` split). */
  readonly calls: (readonly RecordWriterEntry[])[] = [];
  readonly #shardCount: number;
  #sequence = 49_000_000_000_000_000_000_000_000_000_000_000_000_000_000n;

  constructor(options: InMemoryRecordWriterOptions = {}) {
    this.#shardCount = options.shardCount ?? 4;
  }

  /** The shard a partition key maps to. */
  shardIdFor(partitionKey: string): string {
    const hash = BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`);
    const index = Number((hash * BigInt(this.#shardCount)) / HASH_SPACE);
    return `shardId-${String(index).padStart(12, '0')}`;
  }

  async putRecords(entries: readonly RecordWriterEntry[]): Promise<readonly RecordWriteResult[]> {
    this.calls.push(entries);
    return entries.map((entry) => {
      this.#sequence += 1n;
      const stored: InMemoryStoredRecord = {
        partitionKey: entry.partitionKey,
        data: entry.data,
        shardId: this.shardIdFor(entry.partitionKey),
        sequenceNumber: this.#sequence.toString(),
      };
      this.records.push(stored);
      return { shardId: stored.shardId, sequenceNumber: stored.sequenceNumber };
    });
  }
}
