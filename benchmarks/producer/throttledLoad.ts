/**
 * Contender process of `pnpm bench producer`: `@shardline/producer` sending to a partly throttled
 * stream. Neither Kinesis emulator enforces the per-shard write limits, so this contender puts a model
 * of them behind the real SDK client: {@link ShardLimitModel} answers `PutRecords` in this process (no
 * socket) the way Kinesis does — each record goes to the shard whose hash-key range holds the MD5 of its
 * partition key; a shard takes at most 1,000 records and 1 MiB (data plus partition keys) per second;
 * a record over either limit fails alone with `ProvisionedThroughputExceededException` while the rest
 * of the call succeeds. Each call is answered after a fixed delay, as a network round trip.
 *
 * The load is skewed: a share of the events have partition keys of one shard (the hot shard), the rest
 * are spread over the others. The hot shard alone bounds the run: its records need at least
 * `hotRecords / 1000` seconds, whatever the producer does. The contender reports how close it came to
 * that bound, the throttled entries, the retries, and the delivery latency (enqueue → acknowledged),
 * and checks every event against the model's ledger: accepted once, none lost, none dead-lettered.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { createProducer, kinesisTransport } from '@shardline/producer';
import { percentile, runContender } from '../harness/index.js';
import { appEvents } from './events.js';

/** Input of this contender. */
export interface ThrottledLoadInput {
  readonly records: number;
  readonly shards: number;
  /** Percent of the events whose partition key belongs to the hot shard (0–100). */
  readonly hotPercent: number;
  /** The producer's `maxBufferedRecords`, when not its default. */
  readonly maxBufferedRecords?: number;
}

/** Kinesis's write limits per shard, per second. */
const SHARD_RECORDS_PER_S = 1_000;
const SHARD_BYTES_PER_S = 1_048_576;
/** Time to answer each `PutRecords` call, as a round trip to Kinesis. */
const ROUND_TRIP_MS = 20;
const HASH_KEY_SPACE = 2n ** 128n;

interface PutEntry {
  readonly Data: string;
  readonly PartitionKey: string;
  readonly ExplicitHashKey?: string;
}

/** The shard whose equal share of the 128-bit hash-key space holds `hashKey`. */
function shardOfHashKey(hashKey: bigint, shards: number): number {
  return Number((hashKey * BigInt(shards)) / HASH_KEY_SPACE);
}

function shardOfPartitionKey(partitionKey: string, shards: number): number {
  return shardOfHashKey(BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`), shards);
}

/** Per-shard write limits in one-second windows, and the ledger of the records each shard accepted. */
class ShardLimitModel {
  readonly #shards: number;
  readonly #window: { second: number; records: number; bytes: number }[];
  /** Event id → times accepted. */
  readonly accepted = new Map<string, number>();
  readonly acceptedByShard: number[];
  throttled = 0;
  calls = 0;
  #sequence = 0n;

  constructor(shards: number) {
    this.#shards = shards;
    this.#window = Array.from({ length: shards }, () => ({ second: 0, records: 0, bytes: 0 }));
    this.acceptedByShard = new Array<number>(shards).fill(0);
  }

  /** One `PutRecords` call's answer, as Kinesis writes it. */
  putRecords(entries: readonly PutEntry[]): string {
    this.calls += 1;
    const second = Math.floor(Date.now() / 1000);
    let failed = 0;
    const results = entries.map((entry) => {
      const shard =
        entry.ExplicitHashKey === undefined
          ? shardOfPartitionKey(entry.PartitionKey, this.#shards)
          : shardOfHashKey(BigInt(entry.ExplicitHashKey), this.#shards);
      const data = Buffer.from(entry.Data, 'base64');
      const bytes = data.byteLength + Buffer.byteLength(entry.PartitionKey, 'utf8');
      const window = this.#window[shard]!;
      if (window.second !== second) {
        window.second = second;
        window.records = 0;
        window.bytes = 0;
      }
      const shardId = `shardId-${String(shard).padStart(12, '0')}`;
      if (window.records + 1 > SHARD_RECORDS_PER_S || window.bytes + bytes > SHARD_BYTES_PER_S) {
        failed += 1;
        this.throttled += 1;
        return {
          ErrorCode: 'ProvisionedThroughputExceededException',
          ErrorMessage: `Rate exceeded for shard ${shardId} in stream bench-throttled under account 000000000000.`,
        };
      }
      window.records += 1;
      window.bytes += bytes;
      this.acceptedByShard[shard]! += 1;
      const eventId = /"eventId":"([^"]+)"/.exec(data.toString('utf8'))?.[1] ?? '(none)';
      this.accepted.set(eventId, (this.accepted.get(eventId) ?? 0) + 1);
      this.#sequence += 1n;
      return { SequenceNumber: (49_000_000_000_000_000_000n + this.#sequence).toString(), ShardId: shardId };
    });
    return JSON.stringify({ FailedRecordCount: failed, Records: results });
  }
}

/** An SDK request handler that answers `PutRecords` from the model after {@link ROUND_TRIP_MS}. */
function modelHandler(model: ShardLimitModel) {
  const decoder = new TextDecoder();
  return {
    async handle(request: { headers: Record<string, string>; body: unknown }) {
      const target = request.headers['x-amz-target'] ?? request.headers['X-Amz-Target'];
      if (target !== 'Kinesis_20131202.PutRecords')
        throw new Error(`the model answers PutRecords only, not ${target}`);
      const text =
        typeof request.body === 'string' ? request.body : decoder.decode(request.body as Uint8Array);
      const answer = model.putRecords((JSON.parse(text) as { Records: PutEntry[] }).Records);
      await new Promise((resolve) => setTimeout(resolve, ROUND_TRIP_MS));
      return {
        response: {
          statusCode: 200,
          headers: { 'content-type': 'application/x-amz-json-1.1' },
          body: Readable.from([Buffer.from(answer, 'utf8')]),
        },
      };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
  };
}

/** Partition keys by shard: `perShard` keys of each shard, found by hashing candidates. */
function keysByShard(shards: number, perShard: number): string[][] {
  const keys: string[][] = Array.from({ length: shards }, () => []);
  for (let i = 0; keys.some((k) => k.length < perShard); i++) {
    const key = `user-${i}`;
    const list = keys[shardOfPartitionKey(key, shards)]!;
    if (list.length < perShard) list.push(key);
  }
  return keys;
}

runContender<ThrottledLoadInput>(async (input, probe) => {
  const model = new ShardLimitModel(input.shards);
  const kinesis = new KinesisClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    requestHandler: modelHandler(model) as never,
  });
  const [hotKeys, ...coldShards] = keysByShard(input.shards, 64);
  const coldKeys = coldShards.flat();
  // The same events as the other contenders, with keys that put `hotPercent` % of them on shard 0.
  const events = appEvents(input.records).map((event, i) => ({
    ...event,
    partitionKey:
      i % 100 < input.hotPercent ? hotKeys![i % hotKeys!.length]! : coldKeys[i % coldKeys.length]!,
  }));
  const hotRecords = events.filter((e) => shardOfPartitionKey(e.partitionKey, input.shards) === 0).length;

  const deadLetters: string[] = [];
  const producer = createProducer({
    transport: kinesisTransport({ client: kinesis, streamName: 'bench-throttled' }),
    ...(input.maxBufferedRecords === undefined ? {} : { maxBufferedRecords: input.maxBufferedRecords }),
    deadLetter: (letter) => {
      deadLetters.push(`${letter.eventId}: ${letter.errorCode} ${letter.errorMessage}`);
    },
  });
  const latenciesMs: number[] = [];
  let failed = 0;
  probe.mark('start');
  probe.emit('start');
  for (const event of events) {
    const { result } = await producer.enqueue(event.data, {
      eventId: event.eventId,
      partitionKey: event.partitionKey,
    });
    const enqueuedAt = performance.now();
    result.then(
      () => latenciesMs.push(performance.now() - enqueuedAt),
      () => {
        failed += 1;
      },
    );
  }
  await producer.flush();
  probe.mark('end');
  probe.emit('end');
  const metrics = producer.metrics;
  await producer.close();
  kinesis.destroy();
  await new Promise((resolve) => setImmediate(resolve));

  // The model's ledger: every event accepted exactly once.
  const twice = [...model.accepted.values()].filter((n) => n > 1).length;
  const missing = events.filter((e) => !model.accepted.has(e.eventId)).length;
  if (
    missing > 0 ||
    twice > 0 ||
    failed > 0 ||
    deadLetters.length > 0 ||
    latenciesMs.length !== input.records
  ) {
    throw new Error(
      `the stream model holds ${model.accepted.size} of ${input.records} events (${missing} missing, ${twice} twice); ${failed} failed; dead letters: ${deadLetters.slice(0, 3).join('; ')}`,
    );
  }
  if (model.calls !== metrics.requests) {
    throw new Error(`the model answered ${model.calls} calls, the producer says ${metrics.requests}`);
  }
  const { wallMs, cpuUs } = probe.between('start', 'end');
  const boundMs = (hotRecords / SHARD_RECORDS_PER_S) * 1000;
  return {
    records_per_s: input.records / (wallMs / 1000),
    cpu_us_per_record: cpuUs / input.records,
    hot_shard_records: hotRecords,
    // 1.0: the hot shard took records at its limit from the first second to the last.
    hot_shard_limit_use: boundMs / wallMs,
    throttled_entries_per_record: model.throttled / input.records,
    retries: metrics.retries,
    requests: metrics.requests,
    delivery_p50_ms: percentile(latenciesMs, 50),
    delivery_p99_ms: percentile(latenciesMs, 99),
    delivery_max_ms: Math.max(...latenciesMs),
  };
});
