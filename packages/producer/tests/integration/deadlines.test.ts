import { KinesisClient } from '@aws-sdk/client-kinesis';
import { decodeEnvelope } from '@shardline/ingest';
import { kinesisClientConfig, startIngestGateway, uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { type FaultMode, type FaultProxy, startFaultProxy, until } from '@shardline/test-kit';
import { describe, expect, it } from 'vitest';
import {
  createProducer,
  type DeadLetter,
  httpTransport,
  kinesisTransport,
  type RetryEvent,
  type Transport,
} from '../../src/index.js';
import { readAll } from '../helpers/kinesis.js';

// Both transports with a fault proxy between them and their destination (kinesalite, or the local
// ingest gateway): a destination that accepts and never answers (black-hole), or answers a byte a
// second (slow). Each request is cut off at its deadline and retried with backoff; once the network
// recovers every record is written (checked against the stream), and close() finishes within its
// documented bound (its timeout plus one request deadline) even while the destination hangs.

const local = useLocalTwin();
const REQUEST_TIMEOUT_MS = 500;
const RECORDS = 20;

type Destination = 'kinesis' | 'http';

/** A transport to a fresh stream through a fault proxy in `mode` (fresh, so its connections are new). */
async function setup(destination: Destination, mode: FaultMode) {
  const stream = await local.createStream(uniqueName(`producer-deadline-${destination}`), { shardCount: 1 });
  const closers: (() => Promise<void> | void)[] = [() => local.deleteStream(stream.streamName)];
  let proxy: FaultProxy;
  let transport: Transport;
  if (destination === 'kinesis') {
    proxy = await startFaultProxy(local.info.endpoints.kinesis!, { mode });
    const client = new KinesisClient({ ...kinesisClientConfig(local.info), endpoint: proxy.endpoint });
    closers.push(() => client.destroy());
    transport = kinesisTransport({
      client,
      streamName: stream.streamName,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
    });
  } else {
    const gateway = await startIngestGateway({
      kinesisClient: local.kinesis,
      streamName: stream.streamName,
      apiKeys: ['k'],
    });
    closers.push(() => gateway.close());
    proxy = await startFaultProxy(gateway.url, { mode });
    transport = httpTransport({ url: proxy.endpoint, apiKey: 'k', timeoutMs: REQUEST_TIMEOUT_MS });
  }
  closers.push(() => proxy.close());
  const close = async () => {
    for (const c of closers.reverse()) await c();
  };
  return { streamName: stream.streamName, proxy, transport, close };
}

describe.each(['kinesis', 'http'] as const)('the %s transport', (destination) => {
  it.each(['black-hole', 'slow'] as const)(
    '%s: each request fails at its deadline, is retried with backoff, and every record is written once the network recovers',
    async (mode) => {
      const { streamName, proxy, transport, close } = await setup(destination, mode);
      try {
        const producer = createProducer({
          transport,
          lingerMs: 5,
          retry: { initialDelayMs: 50, maxDelayMs: 200, deadlineMs: 60_000 },
          deadLetter: () => {
            throw new Error('nothing may be dead-lettered here');
          },
        });
        const retries: RetryEvent[] = [];
        producer.on('retry', (e) => retries.push(e));
        const ids = Array.from({ length: RECORDS }, (_, i) => `${destination}-${mode}-${i}`);
        const results = ids.map((eventId) => producer.put({ eventId }, { eventId }));
        // The first attempts hang until their deadline, then come back as retries.
        await until(() => retries.some((r) => r.errorCode === 'Timeout'), 20_000, 'a retry after a timeout');
        expect(proxy.connections[mode]).toBeGreaterThan(0); // the fault was reached
        const timeouts = retries.filter((r) => r.errorCode === 'Timeout');
        expect(timeouts.every((r) => r.delayMs > 0)).toBe(true); // retried after a backoff, not at once
        proxy.setMode('forward');
        await Promise.all(results);
        await producer.close();

        // The ledger: what the stream holds. A slow answer may come after the records were written,
        // so a retry can store one twice (at-least-once, same event id); none is missing.
        const stored = (await readAll(local.kinesis, streamName)).map((r) => decodeEnvelope(r.data).eventId);
        expect(new Set(stored)).toEqual(new Set(ids));
        if (mode === 'black-hole') expect(stored).toHaveLength(RECORDS);
      } finally {
        await close();
      }
    },
  );

  it('close() finishes within closeTimeoutMs plus one deadline while the destination hangs; nothing is lost', async () => {
    const { streamName, proxy, transport, close } = await setup(destination, 'black-hole');
    try {
      const letters: DeadLetter[] = [];
      const closeTimeoutMs = 1_000;
      const producer = createProducer({
        transport,
        lingerMs: 5,
        closeTimeoutMs,
        retry: { initialDelayMs: 50, maxDelayMs: 200 },
        deadLetter: (letter) => {
          letters.push(letter);
        },
      });
      const ids = Array.from({ length: RECORDS }, (_, i) => `${destination}-close-${i}`);
      const outcomes = ids.map((eventId) =>
        producer.put({ eventId }, { eventId }).then(
          () => 'written',
          () => 'dead-lettered',
        ),
      );
      await until(() => proxy.connections['black-hole'] > 0, 10_000, 'a connection to the black hole');
      const started = Date.now();
      await producer.close();
      const elapsedMs = Date.now() - started;
      expect(elapsedMs).toBeLessThan(closeTimeoutMs + REQUEST_TIMEOUT_MS + 1_000);
      expect(await Promise.all(outcomes)).toEqual(ids.map(() => 'dead-lettered'));
      // Nothing lost: every record is in the dead letters (the stream holds none: the proxy forwarded nothing).
      expect(new Set(letters.map((l) => l.eventId))).toEqual(new Set(ids));
      expect(await readAll(local.kinesis, streamName)).toEqual([]);
    } finally {
      await close();
    }
  });
});
