import type { LocalTwinClient } from '@shardline/local';
import { expect } from 'vitest';
import type {
  Consumer,
  ConsumerEvent,
  ConsumerOptions,
  DynamoDBClientLike,
  KinesisClientLike,
  Lease,
} from '../../src/index.js';
import { DynamoDBLeaseStore, silentLogger } from '../../src/index.js';
import { consumerOn, makeRecords, putRecords, type TwinClients, type WrittenRecord } from './localTwin.js';

/**
 * Consumer settings under which a reshard plays out in seconds on the twin: short reads, lease takes,
 * shard syncs and checkpoints, from TRIM_HORIZON, silent.
 */
export const QUICK_RESHARD_OPTIONS = {
  initialPosition: 'TRIM_HORIZON',
  idleTimeBetweenReadsMs: 100,
  leaseTakeIntervalMs: 300,
  shardSyncIntervalMs: 1_000,
  checkpointIntervalMs: 100,
  logger: silentLogger,
} as const satisfies Partial<ConsumerOptions>;

/**
 * A consumer of `streamName` for `applicationName` on the given clients, with
 * {@link QUICK_RESHARD_OPTIONS} and `options` over them.
 */
export function quickReshardConsumer(
  clients: TwinClients,
  streamName: string,
  applicationName: string,
  options: Partial<ConsumerOptions> = {},
): Consumer {
  return consumerOn(clients, streamName, applicationName, { ...QUICK_RESHARD_OPTIONS, ...options });
}

/** A record as it was delivered: its body, its shard, and when (`performance.now()`). */
export interface TimedDelivery {
  readonly body: string;
  readonly shardId: string;
  readonly atMs: number;
}

/** A consumer event and when it came (`performance.now()`). */
export interface TimedEvent {
  readonly event: ConsumerEvent;
  readonly atMs: number;
}

/** Runs `consumer`, recording each event and each record delivered, with the time of each; the lists fill as it reads. */
export async function runRecordingTimes(
  consumer: Consumer,
): Promise<{ seen: TimedDelivery[]; events: TimedEvent[] }> {
  const events: TimedEvent[] = [];
  consumer.events$.subscribe((event) => events.push({ event, atMs: performance.now() }));
  const seen: TimedDelivery[] = [];
  const decoder = new TextDecoder();
  await consumer.run({
    processBatch: async (batch) => {
      for (const r of batch.records) {
        seen.push({ body: decoder.decode(r.data), shardId: batch.shardId, atMs: performance.now() });
      }
    },
  });
  return { seen, events };
}

/** The shards of one split-then-merge, and the ledger of what was written around it. */
export interface SplitThenMerge {
  readonly written: WrittenRecord[];
  /** The shard that was split. */
  readonly parent: string;
  /** Its two children, merged again. */
  readonly children: readonly string[];
  /** What the merge created. */
  readonly merged: readonly string[];
}

/**
 * On kinesis-local (`twin`): writes `perRound` records over 12 partition keys, splits the stream's first
 * shard, writes as many, merges the two children, writes as many again.
 */
export async function splitThenMerge(
  twin: LocalTwinClient,
  kinesis: KinesisClientLike,
  stream: { readonly streamName: string; readonly shardIds: readonly string[] },
  perRound: number,
): Promise<SplitThenMerge> {
  const { streamName } = stream;
  const written = await putRecords(kinesis, streamName, makeRecords(perRound, 'r', 12, 0));
  const parent = stream.shardIds[0]!;
  const afterSplit = await twin.splitShard(streamName, parent);
  written.push(...(await putRecords(kinesis, streamName, makeRecords(perRound, 'r', 12, perRound))));
  const children = afterSplit.shardIds.filter((id) => !stream.shardIds.includes(id));
  expect(children).toHaveLength(2);
  const afterMerge = await twin.mergeShards(streamName, children[0]!, children[1]!);
  const merged = afterMerge.shardIds.filter((id) => !afterSplit.shardIds.includes(id));
  written.push(...(await putRecords(kinesis, streamName, makeRecords(perRound, 'r', 12, 2 * perRound))));
  return { written, parent, children, merged };
}

/**
 * Asserts the lineage rules over a {@link splitThenMerge}: per partition key, records arrived in the
 * order they were written, across parent and children; no child was read before its parent had ended
 * (SHARD_END written), nor the merged shard before both children had; the parent's lease, read from
 * the table, is at SHARD_END and names its children. Returns the table's leases.
 */
export async function expectLineageKept(
  dynamodb: DynamoDBClientLike,
  applicationName: string,
  { written, parent, children, merged }: SplitThenMerge,
  { seen, events }: { seen: readonly TimedDelivery[]; events: readonly TimedEvent[] },
): Promise<Lease[]> {
  const position = new Map(written.map((r, i) => [r.body, i]));
  const byKey = new Map<string, number[]>();
  for (const s of seen) {
    const key = written[position.get(s.body)!]!.partitionKey;
    byKey.set(key, [...(byKey.get(key) ?? []), position.get(s.body)!]);
  }
  for (const order of byKey.values()) expect(order).toEqual([...order].sort((a, b) => a - b));

  const endedAt = (shardId: string) =>
    events.find((e) => e.event.type === 'SHARD_ENDED' && e.event.shardId === shardId)?.atMs ??
    Number.POSITIVE_INFINITY;
  const firstReadAt = (shardId: string) =>
    seen.find((s) => s.shardId === shardId)?.atMs ?? Number.POSITIVE_INFINITY;
  for (const child of children) {
    expect(endedAt(parent)).toBeLessThan(firstReadAt(child));
    expect(endedAt(child)).toBeLessThan(firstReadAt(merged[0]!));
  }

  const leases = await new DynamoDBLeaseStore({ client: dynamodb, tableName: applicationName }).listLeases();
  const parentLease = leases.find((l) => l.leaseKey === parent)!;
  expect(parentLease.checkpoint.sequenceNumber).toBe('SHARD_END');
  expect([...parentLease.childShardIds].sort()).toEqual([...children].sort());
  return leases;
}
