import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
  type PutRecordsCommandOutput,
  type PutRecordsRequestEntry,
  type PutRecordsResultEntry,
} from '@aws-sdk/client-kinesis';

/** A record read back from a stream. */
export interface StoredRecord {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly data: Uint8Array;
}

/** Reads every record of every shard from TRIM_HORIZON (independent of the producer's own report). */
export async function readAll(client: KinesisClient, streamName: string): Promise<StoredRecord[]> {
  const shards = (await client.send(new ListShardsCommand({ StreamName: streamName }))).Shards ?? [];
  const out: StoredRecord[] = [];
  for (const shard of shards) {
    let iterator = (
      await client.send(
        new GetShardIteratorCommand({
          StreamName: streamName,
          ShardId: shard.ShardId!,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      )
    ).ShardIterator;
    let emptyReads = 0;
    while (iterator !== undefined && emptyReads < 2) {
      const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      const records = page.Records ?? [];
      if (records.length === 0) emptyReads += 1;
      for (const r of records) {
        out.push({
          shardId: shard.ShardId!,
          sequenceNumber: r.SequenceNumber!,
          partitionKey: r.PartitionKey!,
          data: r.Data!,
        });
      }
      iterator = page.NextShardIterator ?? undefined;
    }
  }
  return out;
}

/** Decides, per PutRecords call and entry, whether to fail it instead of writing it. */
export type EntryFault = (
  call: number,
  index: number,
  entry: PutRecordsRequestEntry,
) => { code: string; message?: string } | undefined;

/**
 * A Kinesis client wrapper whose `send` fails chosen PutRecords entries on cue: those entries are NOT
 * written (the others go to the real emulator) and come back with the chosen error code, as Kinesis
 * answers a partial failure. `callFault` can fail a whole call instead. Every call is logged.
 */
export class FaultyKinesis {
  readonly putCalls: { call: number; entries: PutRecordsRequestEntry[]; failed: number[] }[] = [];
  entryFault: EntryFault | undefined;
  callFault: ((call: number) => Error | undefined) | undefined;
  readonly #client: KinesisClient;

  constructor(client: KinesisClient) {
    this.#client = client;
  }

  // biome-ignore lint/suspicious/noExplicitAny: the wrapper forwards any command
  send = async (command: any, options?: any): Promise<any> => {
    if (!(command instanceof PutRecordsCommand)) return this.#client.send(command, options);
    const call = this.putCalls.length + 1;
    const entries = command.input.Records ?? [];
    const log = { call, entries, failed: [] as number[] };
    this.putCalls.push(log);
    const whole = this.callFault?.(call);
    if (whole !== undefined) throw whole;
    const faults = entries.map((e, i) => this.entryFault?.(call, i, e));
    const pass = entries.filter((_e, i) => faults[i] === undefined);
    const real: PutRecordsResultEntry[] =
      pass.length === 0
        ? []
        : ((
            (await this.#client.send(
              new PutRecordsCommand({ ...command.input, Records: pass }),
              options,
            )) as PutRecordsCommandOutput
          ).Records ?? []);
    let next = 0;
    const records = faults.map((fault, i) => {
      if (fault === undefined) return real[next++]!;
      log.failed.push(i);
      return { ErrorCode: fault.code, ErrorMessage: fault.message ?? `injected ${fault.code}` };
    });
    return {
      FailedRecordCount: records.filter((r) => r.ErrorCode !== undefined).length,
      Records: records,
      $metadata: {},
    };
  };
}
