import { decodeEnvelope } from '@shardline/ingest';
import {
  type IngestGateway,
  type IngestGatewayOptions,
  type LocalStream,
  startIngestGateway,
  uniqueName,
} from '@shardline/local';
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

/**
 * Runs `body` with a local ingest gateway in front of a new stream (API key `apiKey`, writing through
 * `kinesisClient`, the twin's by default), and closes the gateway after, whatever happens.
 */
async function withGateway(
  options: {
    name: string;
    shardCount: number;
    apiKey: string;
    kinesisClient?: IngestGatewayOptions['kinesisClient'];
  },
  body: (context: { stream: LocalStream; gateway: IngestGateway }) => Promise<void>,
): Promise<void> {
  const stream = await local.createStream(uniqueName(options.name), { shardCount: options.shardCount });
  const gateway = await startIngestGateway({
    kinesisClient: options.kinesisClient ?? kinesis,
    streamName: stream.streamName,
    apiKeys: [options.apiKey],
  });
  try {
    await body({ stream, gateway });
  } finally {
    await gateway.close();
  }
}

describe('httpTransport against the local ingest gateway', () => {
  it('sends every event through the gateway; the stream holds the same envelopes as the direct path', async () => {
    await withGateway({ name: 'http-gw', shardCount: 2, apiKey: 'test-key' }, async ({ stream, gateway }) => {
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
    });
  });

  it('retries only the records the gateway answered as failed (207), with the same event ids', async () => {
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
    const options = { name: 'http-gw-207', shardCount: 1, apiKey: 'k', kinesisClient: faulty };
    await withGateway(options, async ({ stream, gateway }) => {
      const requests: string[][] = [];
      const letters: DeadLetter[] = [];
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
    });
  });

  it('a wrong API key dead-letters the records with HTTP_403, nothing written', async () => {
    await withGateway(
      { name: 'http-gw-403', shardCount: 1, apiKey: 'right' },
      async ({ stream, gateway }) => {
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
      },
    );
  });
});
