import { decodeEnvelope } from '@shardline/ingest';
import { startIngestGateway, uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { createProducer, type DeadLetter, httpTransport } from '@shardline/producer';
import { describe, expect, it } from 'vitest';
import { FaultyKinesis, readAll } from '../helpers/kinesis.js';

const local = useLocalTwin();
const { kinesis } = local;
/** A fetch that logs the event ids of every request it sends (an independent ledger of attempts). */
function loggingFetch(log: string[][]): typeof fetch {
  return async (input, init) => {
    const body = JSON.parse(String(Buffer.from(init!.body as Uint8Array))) as {
      records: { eventId: string }[];
    };
    log.push(body.records.map((r) => r.eventId));
    return fetch(input, init);
  };
}

describe('httpTransport against the local ingest gateway', () => {
  it('sends every event through the gateway; the stream holds the same envelopes as the direct path', async () => {
    const stream = await local.createStream(uniqueName('http-gw'), { shardCount: 2 });
    const gateway = await startIngestGateway({
      kinesisClient: kinesis,
      streamName: stream.streamName,
      apiKeys: ['test-key'],
    });
    try {
      const producer = createProducer({
        transport: httpTransport({ url: gateway.url, apiKey: 'test-key', gzip: true }),
        lingerMs: 10,
        deadLetter: () => {},
      });
      const results = await Promise.all(
        Array.from({ length: 1_200 }, (_, i) =>
          producer.put(
            { i, id: 12345678901234567890n },
            { eventId: `g-${i}`, partitionKey: `user-${i % 17}` },
          ),
        ),
      );
      await producer.close();
      expect(results.every((r) => /^\d+$/.test(r.sequenceNumber))).toBe(true);
      const stored = await readAll(kinesis, stream.streamName);
      const events = stored.map((r) => decodeEnvelope(r.data, { integers: 'string' }));
      expect(events.map((e) => e.eventId).sort()).toEqual(
        Array.from({ length: 1_200 }, (_, i) => `g-${i}`).sort(),
      );
      expect(events.find((e) => e.eventId === 'g-5')!.dataJson).toBe('{"i":5,"id":12345678901234567890}');
      expect(stored.find((r) => decodeEnvelope(r.data).eventId === 'g-5')!.partitionKey).toBe('user-5');
    } finally {
      await gateway.close();
    }
  });

  it('retries only the records the gateway answered as failed (207), with the same event ids', async () => {
    const stream = await local.createStream(uniqueName('http-gw-207'), { shardCount: 1 });
    const faulty = new FaultyKinesis(kinesis);
    // g-3 and g-7 are throttled by "Kinesis" on their first 8 PutRecords appearances: more than the
    // gateway's own brief retries, so the gateway answers 207 for them and the producer retries.
    const appearances = new Map<string, number>();
    faulty.entryFault = (_call, _i, entry) => {
      const id = decodeEnvelope(entry.Data!).eventId;
      const seen = (appearances.get(id) ?? 0) + 1;
      appearances.set(id, seen);
      return (id === 'g-3' || id === 'g-7') && seen <= 8
        ? { code: 'ProvisionedThroughputExceededException' }
        : undefined;
    };
    const gateway = await startIngestGateway({
      kinesisClient: faulty,
      streamName: stream.streamName,
      apiKeys: ['k'],
    });
    const requests: string[][] = [];
    const letters: DeadLetter[] = [];
    try {
      const producer = createProducer({
        transport: httpTransport({ url: gateway.url, apiKey: 'k', fetch: loggingFetch(requests) }),
        lingerMs: 60_000,
        retry: { initialDelayMs: 20, maxDelayMs: 200, deadlineMs: 30_000 },
        deadLetter: (l) => {
          letters.push(l);
        },
      });
      const puts = Array.from({ length: 10 }, (_, i) => producer.put({ i }, { eventId: `g-${i}` }));
      await producer.flush();
      await Promise.all(puts);
      await producer.close();
      expect(letters).toEqual([]);
      expect(requests[0]).toHaveLength(10);
      for (const retry of requests.slice(1)) expect(retry).toEqual(['g-3', 'g-7']);
      expect(requests.length).toBeGreaterThan(1);
      expect(producer.metrics.throttles).toBeGreaterThanOrEqual(2);
      const ids = (await readAll(kinesis, stream.streamName)).map((r) => decodeEnvelope(r.data).eventId);
      expect(ids.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `g-${i}`).sort());
    } finally {
      await gateway.close();
    }
  });

  it('a wrong API key dead-letters the records with HTTP_403, nothing written', async () => {
    const stream = await local.createStream(uniqueName('http-gw-403'), { shardCount: 1 });
    const gateway = await startIngestGateway({
      kinesisClient: kinesis,
      streamName: stream.streamName,
      apiKeys: ['right'],
    });
    try {
      const letters: DeadLetter[] = [];
      const producer = createProducer({
        transport: httpTransport({ url: gateway.url, apiKey: 'wrong' }),
        lingerMs: 1,
        deadLetter: (l) => {
          letters.push(l);
        },
      });
      await expect(producer.put({ a: 1 }, { eventId: 'denied' })).rejects.toMatchObject({
        code: 'HTTP_403',
        attempts: 1,
      });
      await producer.close();
      expect(letters.map((l) => l.eventId)).toEqual(['denied']);
      expect(await readAll(kinesis, stream.streamName)).toEqual([]);
    } finally {
      await gateway.close();
    }
  });
});
