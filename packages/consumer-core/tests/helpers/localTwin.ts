import { type LocalTwinClient, uniqueName } from '@shardline/local';
import { useFaithfulKinesis, useLocalTwin } from '@shardline/local/vitest';
import { putRecords as putEntries, until } from '@shardline/test-kit';
import {
  type Consumer,
  type ConsumerOptions,
  createConsumer,
  type KinesisClientLike,
} from '../../src/index.js';

/** The twins of one test file and the clients it uses, from {@link useTwins}. */
export interface Twins {
  /** kinesalite, dynalite and fauxqs. */
  readonly local: LocalTwinClient;
  /** kinesis-local: resharding, `ChildShards`, stream ARNs, enhanced fan-out. */
  readonly faithful: LocalTwinClient;
  /** The Kinesis client of the twin the file reads (`kinesisOf`). */
  readonly kinesis: LocalTwinClient['kinesis'];
  /** dynalite's client: every lease table lives there. */
  readonly dynamodb: LocalTwinClient['dynamodb'];
}

/**
 * Both twins for one test file (`useLocalTwin()` and `useFaithfulKinesis()`: closed after the file's
 * tests), with the Kinesis client of `kinesisOf` and dynalite's client.
 */
export function useTwins(kinesisOf: 'local' | 'faithful' = 'local'): Twins {
  const local = useLocalTwin();
  const faithful = useFaithfulKinesis();
  return {
    local,
    faithful,
    kinesis: (kinesisOf === 'local' ? local : faithful).kinesis,
    dynamodb: local.dynamodb,
  };
}

/**
 * A new stream of `shardCount` shards on `twin`, named `<prefix>-…`, and a new application (lease
 * table) name `<prefix>-app-…` to read it with.
 */
export async function newStream(twin: LocalTwinClient, prefix: string, shardCount: number) {
  const streamName = uniqueName(prefix);
  const applicationName = uniqueName(`${prefix}-app`);
  const stream = await twin.createStream(streamName, { shardCount });
  return { streamName, applicationName, stream };
}

/** The clients a consumer of the twins reads and keeps its leases with. */
export interface TwinClients {
  readonly kinesis: ConsumerOptions['kinesisClient'];
  readonly dynamodb: ConsumerOptions['dynamoDBClient'];
}

/** A consumer of `streamName` for `applicationName` on `clients`, with `options`. */
export function consumerOn(
  clients: TwinClients,
  streamName: string,
  applicationName: string,
  options: Partial<ConsumerOptions>,
): Consumer {
  return createConsumer({
    streamName,
    applicationName,
    kinesisClient: clients.kinesis,
    dynamoDBClient: clients.dynamodb,
    ...options,
  });
}

/** A record written to the stream, as the ledger of a test knows it. */
export interface WrittenRecord {
  readonly body: string;
  readonly partitionKey: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
}

/**
 * Writes text records (`putRecords` of the test kit: 500 per call, failed entries sent again) and
 * returns the independent ledger of what was written, with shard ids and sequence numbers.
 */
export async function putRecords(
  kinesis: KinesisClientLike,
  streamName: string,
  records: readonly { partitionKey: string; body: string }[],
): Promise<WrittenRecord[]> {
  const encoder = new TextEncoder();
  const written = await putEntries(
    kinesis,
    streamName,
    records.map((r) => ({ ...r, data: encoder.encode(r.body) })),
  );
  return written.map(({ body, partitionKey, shardId, sequenceNumber }) => ({
    body,
    partitionKey,
    shardId,
    sequenceNumber,
  }));
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

/** Runs `consumer`, keeping each record's body (text) as it is processed: the list fills as it reads. */
export async function runCollectingBodies(consumer: Consumer): Promise<string[]> {
  const seen: string[] = [];
  const decoder = new TextDecoder();
  await consumer.run({
    processBatch: async (batch) => {
      seen.push(...batch.records.map((r) => decoder.decode(r.data)));
    },
  });
  return seen;
}

/**
 * Runs `consumer` until it has delivered at least `count` records (`what`: waited for up to
 * `timeoutMs`), then stops it, also when the wait fails. Returns the bodies delivered.
 *
 * @throws the wait's error when fewer records came in time.
 */
export async function readUntil(
  consumer: Consumer,
  count: number,
  what: string,
  timeoutMs = 30_000,
): Promise<string[]> {
  const seen = await runCollectingBodies(consumer);
  try {
    await until(() => seen.length >= count, timeoutMs, what);
  } finally {
    await consumer.stop();
  }
  return seen;
}

/** How a slow processor kept up, from {@link runSlowProcessor}; read it as the consumer runs. */
export interface SlowProcessing {
  /** Batches the processor has finished. */
  readonly handledBatches: number;
  /** The most reads (`reads()`) seen ahead of the batches handled. */
  readonly maxAhead: number;
  /** Takes the reads ahead now into `maxAhead` (done after each batch; call it at other moments too). */
  observe(): void;
}

/**
 * Runs `consumer` with a processor that takes `processMs` per batch, and tracks how far the reader ran
 * ahead of it: `reads()` (GetRecords calls, events pulled, ...) minus the batches handled.
 */
export async function runSlowProcessor(
  consumer: Consumer,
  processMs: number,
  reads: () => number,
): Promise<SlowProcessing> {
  let handledBatches = 0;
  let maxAhead = 0;
  const progress: SlowProcessing = {
    get handledBatches() {
      return handledBatches;
    },
    get maxAhead() {
      return maxAhead;
    },
    observe: () => {
      maxAhead = Math.max(maxAhead, reads() - handledBatches);
    },
  };
  await consumer.run({
    processBatch: async () => {
      await new Promise((resolve) => setTimeout(resolve, processMs));
      handledBatches += 1;
      progress.observe();
    },
  });
  return progress;
}
