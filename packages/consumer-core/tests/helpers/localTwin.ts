import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { KinesisClientLike } from '../../src/index.js';

/** A record written to the stream, as the ledger of a test knows it. */
export interface WrittenRecord {
  readonly body: string;
  readonly partitionKey: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
}

/**
 * Writes records with PutRecords (500 per call), retrying only the failed entries, and returns the
 * independent ledger of what was written, with shard ids and sequence numbers.
 */
export async function putRecords(
  kinesis: KinesisClientLike,
  streamName: string,
  records: readonly { partitionKey: string; body: string }[],
): Promise<WrittenRecord[]> {
  const written: WrittenRecord[] = [];
  for (let i = 0; i < records.length; i += 500) {
    let pending = records.slice(i, i + 500);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 10) throw new Error('PutRecords kept failing');
      const { Records = [] } = await kinesis.send(
        new PutRecordsCommand({
          StreamName: streamName,
          Records: pending.map((r) => ({
            PartitionKey: r.partitionKey,
            Data: new TextEncoder().encode(r.body),
          })),
        }),
      );
      const failed: typeof pending = [];
      Records.forEach((result, index) => {
        const record = pending[index]!;
        if (result.ErrorCode || !result.SequenceNumber || !result.ShardId) failed.push(record);
        else written.push({ ...record, shardId: result.ShardId, sequenceNumber: result.SequenceNumber });
      });
      pending = failed;
    }
  }
  return written;
}

/** `count` records with bodies `<prefix>-<i>` over `keys` partition keys. */
export function makeRecords(
  count: number,
  prefix = 'r',
  keys = 16,
  from = 0,
): { partitionKey: string; body: string }[] {
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    return { partitionKey: `key-${i % keys}`, body: `${prefix}-${i}` };
  });
}

/** Resolves once `condition()` holds; rejects after `timeoutMs` naming `what`. */
export async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
