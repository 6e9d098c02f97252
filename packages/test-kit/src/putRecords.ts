import { type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';

/** PutRecords: at most 500 entries per call. */
const PUT_RECORDS_MAX_ENTRIES = 500;

/** An entry to write. `T` carries what the test wants back in its ledger (a body, an event id). */
export interface RecordToPut {
  readonly partitionKey: string;
  readonly data: Uint8Array;
}

/** An entry as written: what was put, where it landed. */
export type PutRecord<T extends RecordToPut> = T & {
  readonly shardId: string;
  readonly sequenceNumber: string;
};

/** Anything with the Kinesis client's `send` (a client, or an instrumented wrapper around one). */
export type KinesisSender = Pick<KinesisClient, 'send'>;

/**
 * Writes entries with PutRecords (500 per call) in order, sending again only the entries an answer
 * reports as failed, and returns the independent ledger of what was written: each entry with its shard
 * id and sequence number.
 *
 * @throws Error when a batch still has failed entries after `maxResends`, or the SDK's error.
 */
export async function putRecords<T extends RecordToPut>(
  kinesis: KinesisSender,
  streamName: string,
  records: readonly T[],
  maxResends = 10,
): Promise<PutRecord<T>[]> {
  const written: PutRecord<T>[] = [];
  for (let i = 0; i < records.length; i += PUT_RECORDS_MAX_ENTRIES) {
    let pending = records.slice(i, i + PUT_RECORDS_MAX_ENTRIES);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > maxResends) throw new Error('PutRecords kept failing');
      const { Records = [] } = await kinesis.send(
        new PutRecordsCommand({
          StreamName: streamName,
          Records: pending.map((r) => ({ PartitionKey: r.partitionKey, Data: r.data })),
        }),
      );
      const failed: T[] = [];
      // A PutRecords answer is per entry, in order.
      pending.forEach((record, index) => {
        const result = Records[index];
        if (!result || result.ErrorCode || !result.SequenceNumber || !result.ShardId) failed.push(record);
        else written.push({ ...record, shardId: result.ShardId, sequenceNumber: result.SequenceNumber });
      });
      pending = failed;
    }
  }
  return written;
}
