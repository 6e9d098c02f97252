import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListShardsCommand, ProvisionedThroughputExceededException } from '@aws-sdk/client-kinesis';
import { decodeEnvelope } from '@shardline/ingest';
import { deaggregate, partitionKeyHash } from '@shardline/kpl';
import { uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { createProducer, DeliveryError, kinesisTransport, type ProducerOptions } from '@shardline/producer';
import { seededRandom } from '@shardline/test-kit';
import { describe, expect, it } from 'vitest';
import { FaultyKinesis, readAll } from '../helpers/kinesis.js';
import { useTempDir } from '../helpers/tempDir.js';

const local = useLocalTwin();
const { kinesis } = local;
const dir = useTempDir('producer-it-');

const fast: Partial<ProducerOptions> = {
  lingerMs: 10,
  retry: { initialDelayMs: 5, maxDelayMs: 50, deadlineMs: 20_000 },
};

function envelopes(records: { data: Uint8Array }[]) {
  return records.map((r) => decodeEnvelope(r.data, { integers: 'string' }));
}

describe('kinesisTransport on kinesalite', () => {
  it('writes every event as an ingest envelope, in full batches, read back once each', async () => {
    const stream = await local.createStream(uniqueName('prod-basic'), { shardCount: 4 });
    const producer = createProducer({
      ...fast,
      transport: kinesisTransport({ client: kinesis, streamName: stream.streamName }),
      deadLetter: () => {},
    });
    const sizes: number[] = [];
    producer.on('batch', (b) => sizes.push(b.records));
    const results = await Promise.all(
      Array.from({ length: 1_200 }, (_, i) =>
        producer.put({ i, big: 2103807459595387724n }, { eventId: `b-${i}`, partitionKey: `user-${i % 37}` }),
      ),
    );
    await producer.close();
    expect(new Set(results.map((r) => r.shardId)).size).toBe(4);
    expect(sizes.every((s) => s <= 500)).toBe(true);
    expect(sizes.length).toBeLessThanOrEqual(6);

    const stored = await readAll(kinesis, stream.streamName);
    const events = envelopes(stored);
    expect(events.map((e) => e.eventId).sort()).toEqual(
      Array.from({ length: 1_200 }, (_, i) => `b-${i}`).sort(),
    );
    const one = events.find((e) => e.eventId === 'b-7')!;
    expect(one.dataJson).toBe('{"i":7,"big":2103807459595387724}');
    expect(stored.find((r) => decodeEnvelope(r.data).eventId === 'b-7')!.partitionKey).toBe('user-7');
    // The producer's answer matches what the stream holds.
    const bySeq = new Map(stored.map((r) => [r.sequenceNumber, r]));
    for (const result of results) expect(bySeq.get(result.sequenceNumber)?.shardId).toBe(result.shardId);
  });

  it('retries only the entries that failed (injected partial failures and a throttled call), none lost or doubled', async () => {
    const stream = await local.createStream(uniqueName('prod-partial'), { shardCount: 2 });
    const faulty = new FaultyKinesis(kinesis);
    // Call 1: entries 3, 10 and 11 throttled, entry 20 an internal failure. Call 2: the whole call throttled.
    faulty.entryFault = (call, i) =>
      call === 1 && [3, 10, 11].includes(i)
        ? { code: 'ProvisionedThroughputExceededException' }
        : call === 1 && i === 20
          ? { code: 'InternalFailure' }
          : undefined;
    faulty.callFault = (call) =>
      call === 2
        ? new ProvisionedThroughputExceededException({ message: 'Rate exceeded for shard', $metadata: {} })
        : undefined;
    const producer = createProducer({
      ...fast,
      lingerMs: 60_000,
      transport: kinesisTransport({ client: faulty, streamName: stream.streamName }),
      deadLetter: () => {},
    });
    const puts = Array.from({ length: 50 }, (_, i) => producer.put({ i }, { eventId: `p-${i}` }));
    await producer.flush();
    await Promise.all(puts);
    await producer.close();
    expect(faulty.putCalls[0]!.failed).toEqual([3, 10, 11, 20]);
    // Call 2 (throttled whole) and call 3 carry exactly the failed entries, same event ids.
    const retried = faulty.putCalls
      .slice(1)
      .map((c) => c.entries.map((e) => decodeEnvelope(e.Data!).eventId));
    expect(retried).toEqual([
      ['p-3', 'p-10', 'p-11', 'p-20'],
      ['p-3', 'p-10', 'p-11', 'p-20'],
    ]);
    expect(producer.metrics).toMatchObject({ recordsSent: 50, throttles: 7, retries: 8, requestsFailed: 1 });
    const ids = envelopes(await readAll(kinesis, stream.streamName)).map((e) => e.eventId);
    expect(ids.sort()).toEqual(Array.from({ length: 50 }, (_, i) => `p-${i}`).sort());
  });

  it('ordered: true keeps each partition key in order on the stream despite injected failures (seeded)', async () => {
    const seed = Date.now() % 1_000_000;
    console.log(`ordering seed ${seed}`);
    const random = seededRandom(seed);
    const stream = await local.createStream(uniqueName('prod-ordered'), { shardCount: 2 });
    const faulty = new FaultyKinesis(kinesis);
    faulty.entryFault = () =>
      random() < 0.25 ? { code: 'ProvisionedThroughputExceededException' } : undefined;
    const producer = createProducer({
      ...fast,
      ordered: true,
      maxConcurrentRequests: 4,
      transport: kinesisTransport({ client: faulty, streamName: stream.streamName }),
      deadLetter: () => {},
      random,
    });
    const keys = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6'];
    await Promise.all(
      Array.from({ length: 240 }, (_, i) =>
        producer.put({ i }, { partitionKey: keys[i % keys.length]!, eventId: `o-${i}` }),
      ),
    );
    await producer.close();
    expect(faulty.putCalls.some((c) => c.failed.length > 0)).toBe(true);
    const stored = await readAll(kinesis, stream.streamName);
    stored.sort((a, b) => (BigInt(a.sequenceNumber) < BigInt(b.sequenceNumber) ? -1 : 1));
    for (const key of keys) {
      const order = stored
        .filter((r) => r.partitionKey === key)
        .map((r) => Number(decodeEnvelope(r.data).eventId.slice(2)));
      expect(order, `key ${key}, seed ${seed}`).toHaveLength(40);
      expect(order, `key ${key}, seed ${seed}`).toEqual([...order].sort((a, b) => a - b));
    }
  });

  it('dead-letters an entry that fails for good, with its error, and writes the rest', async () => {
    const stream = await local.createStream(uniqueName('prod-dead'), { shardCount: 1 });
    const faulty = new FaultyKinesis(kinesis);
    faulty.entryFault = (_call, _i, entry) =>
      decodeEnvelope(entry.Data!).eventId === 'd-2'
        ? { code: 'KMSAccessDeniedException', message: 'no key for you' }
        : undefined;
    const path = join(dir, 'dead.jsonl');
    const producer = createProducer({
      ...fast,
      transport: kinesisTransport({ client: faulty, streamName: stream.streamName }),
      deadLetter: { path },
    });
    const outcomes = await Promise.all(
      [0, 1, 2, 3].map((i) => producer.put({ i }, { eventId: `d-${i}` }).catch((e: unknown) => e)),
    );
    const report = await producer.close();
    expect(outcomes[2]).toBeInstanceOf(DeliveryError);
    expect(report).toMatchObject({ recordsSent: 3, deadLettered: 1, lost: [] });
    const letters = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(letters).toEqual([
      expect.objectContaining({
        eventId: 'd-2',
        errorCode: 'KMSAccessDeniedException',
        errorMessage: 'no key for you',
        data: { i: 2 },
      }),
    ]);
    const ids = envelopes(await readAll(kinesis, stream.streamName)).map((e) => e.eventId);
    expect(ids.sort()).toEqual(['d-0', 'd-1', 'd-3']);
  });

  it('a missing stream dead-letters without endless retries', async () => {
    const producer = createProducer({
      ...fast,
      transport: kinesisTransport({ client: kinesis, streamName: uniqueName('nope') }),
      deadLetter: () => {},
    });
    await expect(producer.put(1)).rejects.toMatchObject({ code: 'ResourceNotFoundException', attempts: 1 });
    await producer.close();
  });

  it('aggregation packs records of one shard only, and the KPL codec de-aggregates every one', async () => {
    const stream = await local.createStream(uniqueName('prod-agg'), { shardCount: 4 });
    const transport = kinesisTransport({ client: kinesis, streamName: stream.streamName, aggregation: true });
    const producer = createProducer({ ...fast, lingerMs: 100, transport, deadLetter: () => {} });
    const results = await Promise.all(
      Array.from({ length: 2_000 }, (_, i) =>
        producer.put({ i }, { eventId: `a-${i}`, partitionKey: `pk-${i}` }),
      ),
    );
    await producer.close();
    expect(transport.shardMapLoads).toBe(1);
    const shards = (await kinesis.send(new ListShardsCommand({ StreamName: stream.streamName }))).Shards!;
    const range = new Map(
      shards.map((s) => [
        s.ShardId!,
        [BigInt(s.HashKeyRange!.StartingHashKey!), BigInt(s.HashKeyRange!.EndingHashKey!)],
      ]),
    );
    const stored = await readAll(kinesis, stream.streamName);
    expect(stored.length).toBeLessThan(100); // aggregated: far fewer Kinesis records than events
    const seen: string[] = [];
    for (const record of stored) {
      const [lo, hi] = range.get(record.shardId)!;
      // A record alone is sent as it is (the KPL does the same): read it as one user record.
      for (const user of deaggregate(record.data) ?? [
        { partitionKey: record.partitionKey, data: record.data },
      ]) {
        const hash = partitionKeyHash(user.partitionKey);
        expect(hash >= lo! && hash <= hi!, `${user.partitionKey} on ${record.shardId}`).toBe(true);
        const event = decodeEnvelope(user.data);
        expect(user.partitionKey).toBe(`pk-${(event.data as { i: number }).i}`);
        seen.push(event.eventId);
      }
    }
    expect(seen.sort()).toEqual(Array.from({ length: 2_000 }, (_, i) => `a-${i}`).sort());
    expect(results.some((r) => r.subSequenceNumber !== undefined && r.subSequenceNumber > 0)).toBe(true);
  });
});
