import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { type FaultMode, StreamTail, startFaultProxy } from '@shardline/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngestHandler, decodeEnvelope, KinesisRecordWriter, UpstreamError } from '../../src/index.js';
import {
  createStream,
  deleteStream,
  localKinesisClient,
  localKinesisEndpoint,
  uniqueStreamName,
} from '../helpers/localKinesis.js';

// The ingest handler with the real Kinesis adapter, with a fault proxy between it and kinesalite: a
// Kinesis that accepts and never answers (black-hole), or answers a byte at a time (slow). Each
// PutRecords call is cut off at its deadline and retried; the client gets 503 within a bound it can
// rely on, and its retry with the same event ids writes everything (checked against the stream).

const REQUEST_TIMEOUT_MS = 500;
const ATTEMPTS = 3;
const KEY = 'deadline-key';

let admin: KinesisClient;
let streamName: string;
let tail: StreamTail;

beforeAll(async () => {
  admin = localKinesisClient();
  streamName = uniqueStreamName('ingest-deadlines');
  const shardIds = await createStream(admin, streamName, 1);
  tail = new StreamTail(admin, streamName);
  await tail.start(shardIds);
});
afterAll(async () => {
  await deleteStream(admin, streamName);
  admin.destroy();
});

function post(ids: string[]) {
  return {
    method: 'POST',
    path: '/v1/events',
    headers: { 'content-type': 'application/json', 'x-api-key': KEY },
    body: Buffer.from(JSON.stringify({ records: ids.map((eventId) => ({ eventId, data: { eventId } })) })),
  };
}

describe('ingest: a hung or slow Kinesis is cut off at the per-call deadline', () => {
  it.each(['black-hole', 'slow'] as const satisfies readonly FaultMode[])('%s', async (mode) => {
    const proxy = await startFaultProxy(localKinesisEndpoint(), { mode, slowIntervalMs: 200 });
    // A fresh client: its connections are opened through the proxy in the fault mode.
    const client = localKinesisClient(proxy.endpoint);
    const logged: unknown[] = [];
    const handle = createIngestHandler({
      recordWriter: new KinesisRecordWriter({ client, streamName, requestTimeoutMs: REQUEST_TIMEOUT_MS }),
      apiKeys: [KEY],
      throttleRetry: { maxAttempts: ATTEMPTS, baseDelayMs: 20, maxDelayMs: 50 },
      onError: (e) => logged.push(e),
    });
    const ids = Array.from({ length: 5 }, (_, i) => `${mode}-${i}`);
    try {
      const started = Date.now();
      const failed = await handle(post(ids));
      const elapsedMs = Date.now() - started;
      expect(proxy.connections[mode]).toBeGreaterThan(0); // the fault was reached
      expect(failed.status).toBe(503);
      expect(JSON.parse(failed.body)).toMatchObject({ error: 'UpstreamUnavailable', errorCode: 'Timeout' });
      // Every attempt was cut at its deadline: attempts × deadline plus the short backoffs, with slack.
      expect(elapsedMs).toBeGreaterThanOrEqual(ATTEMPTS * REQUEST_TIMEOUT_MS - 50);
      expect(elapsedMs).toBeLessThan(ATTEMPTS * REQUEST_TIMEOUT_MS + 2_000);
      expect(logged.some((e) => e instanceof UpstreamError && e.code === 'Timeout')).toBe(true);

      // The network recovers; the client retries with the same event ids.
      proxy.setMode('forward');
      const retried = await handle(post(ids));
      expect(retried.status, retried.body).toBe(200);

      // The ledger: every event is in the stream. A slow answer came after Kinesis had written the
      // records, so a retry may store them twice (at-least-once, same event ids); a black hole never
      // forwarded the request.
      const stored = (await tail.drain()).map((r) => decodeEnvelope(r.data).eventId);
      expect(new Set(stored)).toEqual(new Set(ids));
      if (mode === 'black-hole') expect(stored).toHaveLength(ids.length);
    } finally {
      client.destroy();
      await proxy.close();
    }
  });
});
