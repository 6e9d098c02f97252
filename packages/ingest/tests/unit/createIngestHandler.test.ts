import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  createIngestHandler,
  decodeEnvelope,
  type IngestHandlerOptions,
  type IngestRequest,
  type RecordWriter,
  resolveIngestHandlerConfig,
  UpstreamError,
} from '../../src/index.js';
import { InMemoryRecordWriter } from '../../src/testing/index.js';

const KEY = 'unit-key';

function post(
  body: string | Uint8Array | AsyncIterable<Uint8Array>,
  headers: Record<string, string> = {},
  path = '/v1/events',
): IngestRequest {
  return {
    method: 'POST',
    path,
    headers: { 'Content-Type': 'application/json', 'X-Api-Key': KEY, ...headers },
    body: typeof body === 'string' ? Buffer.from(body) : body,
  };
}

function handler(options: Partial<IngestHandlerOptions> = {}) {
  const writer = new InMemoryRecordWriter();
  const handle = createIngestHandler({ recordWriter: writer, apiKeys: [KEY], ...options });
  return { handle, writer };
}

/** A writer answering every call with `answer`, counting the calls (`calls`). */
function countingWriter(answer: RecordWriter['putRecords']): RecordWriter & { calls: number } {
  const writer = {
    calls: 0,
    putRecords: (...args: Parameters<RecordWriter['putRecords']>) => {
      writer.calls += 1;
      return answer(...args);
    },
  };
  return writer;
}

async function* chunks(parts: Uint8Array[], read: { count: number }) {
  for (const part of parts) {
    read.count += 1;
    yield part;
  }
}

describe('createIngestHandler options', () => {
  it('lists every problem at construction', () => {
    try {
      createIngestHandler({
        recordWriter: {} as RecordWriter,
        apiKeys: [],
        allowedOrigins: ['app.example.com'],
        maxBodyBytes: -1,
        maxPutRecordsBytes: 1000,
        maxPutRecordsRecords: 501,
        throttleRetry: { maxAttempts: 0 },
        now: 5 as unknown as () => number,
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).problems.map((p) => p.path)).toEqual([
        'recordWriter',
        'apiKeys',
        'allowedOrigins',
        'maxBodyBytes',
        'maxPutRecordsBytes',
        'maxPutRecordsRecords',
        'throttleRetry.maxAttempts',
        'now',
      ]);
    }
  });
});

describe('createIngestHandler', () => {
  it('splits a request into PutRecords calls within the record and byte caps, in request order', async () => {
    const { handle, writer } = handler({
      maxPutRecordsBytes: 4096,
      maxPutRecordsRecords: 7,
      maxRecordBytes: 1024,
    });
    const records = Array.from(
      { length: 60 },
      (_, i) => `{"data":"${'x'.repeat(i * 10)}","eventId":"e-${i}"}`,
    );
    const response = await handle(post(`{"records":[${records.join(',')}]}`));
    expect(response.status).toBe(200);
    expect(writer.calls.length).toBeGreaterThan(60 / 7);
    for (const call of writer.calls) {
      expect(call.length).toBeLessThanOrEqual(7);
      const bytes = call.reduce((sum, e) => sum + e.data.length + Buffer.byteLength(e.partitionKey), 0);
      expect(bytes).toBeLessThanOrEqual(4096);
    }
    const written = writer.calls.flat().map((e) => decodeEnvelope(e.data).eventId);
    expect(written).toEqual(records.map((_, i) => `e-${i}`));
    const body = JSON.parse(response.body);
    expect(body.records.map((r: { eventId: string }) => r.eventId)).toEqual(written);
  });

  it('gives every record of a request the same receivedAt, from the clock option', async () => {
    const { handle, writer } = handler({ now: () => Date.UTC(2026, 0, 2, 3, 4, 5, 6) });
    await handle(post('{"records":[{"data":1},{"data":2}]}'));
    expect(writer.records.map((r) => decodeEnvelope(r.data).receivedAt)).toEqual([
      '2026-01-02T03:04:05.006Z',
      '2026-01-02T03:04:05.006Z',
    ]);
  });

  it('uses the generated event id as the partition key', async () => {
    let n = 0;
    const { handle, writer } = handler({ generateEventId: () => `gen-${++n}` });
    const response = await handle(post('{"records":[{"data":1},{"data":2,"partitionKey":"mine"}]}'));
    expect(JSON.parse(response.body).records.map((r: { eventId: string }) => r.eventId)).toEqual([
      'gen-1',
      'gen-2',
    ]);
    expect(writer.records.map((r) => r.partitionKey)).toEqual(['gen-1', 'mine']);
  });

  it('answers 500 and writes nothing when a custom event id generator breaks the contract', async () => {
    const errors: unknown[] = [];
    const { handle, writer } = handler({
      generateEventId: () => 'not valid',
      onError: (e) => errors.push(e),
    });
    const response = await handle(post('{"records":[{"data":1}]}'));
    expect(response.status).toBe(500);
    expect(writer.calls).toHaveLength(0);
    expect(String(errors[0])).toMatch(/generateEventId/);
  });

  it('spreads records without a partition key over every shard', async () => {
    const { handle, writer } = handler();
    const records = Array.from({ length: 400 }, (_, i) => `{"data":${i}}`);
    await handle(post(`{"records":[${records.join(',')}]}`));
    const perShard = new Map<string, number>();
    for (const r of writer.records) perShard.set(r.shardId, (perShard.get(r.shardId) ?? 0) + 1);
    expect(perShard.size).toBe(4);
    for (const count of perShard.values()) expect(count).toBeGreaterThan(50);
  });

  it('reads a streamed body and stops reading past the limit', async () => {
    const { handle, writer } = handler({ maxBodyBytes: 1000 });
    const read = { count: 0 };
    const parts = Array.from({ length: 100 }, () => Buffer.alloc(100, 0x20));
    const response = await handle(post(chunks(parts, read)));
    expect(response.status).toBe(413);
    expect(read.count).toBe(11);
    expect(writer.calls).toHaveLength(0);

    const ok = await handle(
      post(chunks([Buffer.from('{"records":[{"da'), Buffer.from('ta":1}]}')], { count: 0 })),
    );
    expect(ok.status).toBe(200);
  });

  it('answers 413 from Content-Length before reading the body', async () => {
    const { handle } = handler({ maxBodyBytes: 1000 });
    const read = { count: 0 };
    const response = await handle(post(chunks([Buffer.from('{}')], read), { 'content-length': '1001' }));
    expect(response.status).toBe(413);
    expect(read.count).toBe(0);
  });

  it('bounds a gzip bomb: 1 GiB of zeros stops inflating at the limit', async () => {
    // ~1 MiB compressed; inflating it fully would take 1 GiB of memory.
    const zeros = Buffer.alloc(64 * 1024 * 1024);
    const member = gzipSync(zeros, { level: 9 });
    const bomb = Buffer.concat(Array.from({ length: 16 }, () => member));
    expect(bomb.length).toBeLessThan(2 * 1024 * 1024);
    const { handle } = handler();
    const before = process.memoryUsage().arrayBuffers;
    const response = await handle(post(bomb, { 'content-encoding': 'gzip' }));
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body).error).toBe('PayloadTooLarge');
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(200 * 1024 * 1024);
  });

  it('accepts a key check function, and preflight never calls it', async () => {
    const seen: string[] = [];
    const { handle } = handler({
      apiKeys: async (key) => {
        seen.push(key);
        return key === 'fn-key';
      },
    });
    expect((await handle(post('{"data":1}', { 'x-api-key': 'fn-key' }, '/v1/event'))).status).toBe(200);
    expect((await handle(post('{"data":1}', { 'x-api-key': 'nope' }, '/v1/event'))).status).toBe(403);
    expect(
      (await handle({ method: 'OPTIONS', path: '/v1/event', headers: {}, body: new Uint8Array() })).status,
    ).toBe(204);
    expect(seen).toEqual(['fn-key', 'nope']);
  });

  it("answers '*' CORS by default and echoes an allowed origin otherwise", async () => {
    const open = handler().handle;
    const response = await open(post('{"data":1}', { origin: 'https://any.example' }, '/v1/event'));
    expect(response.headers['access-control-allow-origin']).toBe('*');
    const closed = handler({ allowedOrigins: ['https://a.example', 'https://b.example'] }).handle;
    const b = await closed(post('{"data":1}', { origin: 'https://b.example' }, '/v1/event'));
    expect(b.headers['access-control-allow-origin']).toBe('https://b.example');
    expect(b.headers.vary).toBe('Origin');
  });

  it('ignores a query string and takes headers in any case or as arrays', async () => {
    const { handle } = handler();
    const response = await handle({
      method: 'post',
      path: '/v1/event?x=1',
      headers: { 'CONTENT-TYPE': ['application/json'], 'x-API-key': KEY },
      body: Buffer.from('{"data":1}'),
    });
    expect(response.status).toBe(200);
  });

  it('never throws: an unexpected writer fault answers 503 and is reported', async () => {
    const errors: unknown[] = [];
    const handle = createIngestHandler({
      recordWriter: {
        putRecords: async () => {
          throw new TypeError('boom');
        },
      },
      apiKeys: [KEY],
      throttleRetry: { maxAttempts: 2, baseDelayMs: 0 },
      onError: (e) => errors.push(e),
    });
    const response = await handle(post('{"records":[{"data":1}]}'));
    expect(response.status).toBe(503);
    expect(errors[0]).toBeInstanceOf(UpstreamError);
  });

  it('answers 500 when the key check itself fails', async () => {
    const errors: unknown[] = [];
    const { handle } = handler({
      apiKeys: () => {
        throw new Error('key store down');
      },
      onError: (e) => errors.push(e),
    });
    const response = await handle(post('{"data":1}', {}, '/v1/event'));
    expect(response.status).toBe(500);
    expect(response.headers['access-control-allow-origin']).toBe('*');
    expect(errors).toHaveLength(1);
  });

  it('retries only the throttled entries, with backoff from the random source', async () => {
    const calls: string[][] = [];
    let first = true;
    const handle = createIngestHandler({
      recordWriter: {
        putRecords: async (entries) => {
          calls.push(entries.map((e) => decodeEnvelope(e.data).eventId));
          const out = entries.map((_entry, i) =>
            first && i % 2 === 0
              ? { errorCode: 'ProvisionedThroughputExceededException', errorMessage: 'slow down' }
              : { shardId: 'shardId-000000000000', sequenceNumber: String(1000 + i) },
          );
          first = false;
          return out;
        },
      },
      apiKeys: [KEY],
      random: () => 0,
    });
    const response = await handle(
      post('{"records":[{"data":1,"eventId":"a"},{"data":2,"eventId":"b"},{"data":3,"eventId":"c"}]}'),
    );
    expect(response.status).toBe(200);
    expect(calls).toEqual([
      ['a', 'b', 'c'],
      ['a', 'c'],
    ]);
  });

  it('treats a writer answering the wrong number of results as unavailable, retrying the call', async () => {
    const writer = countingWriter(async () => []);
    const { handle } = handler({ recordWriter: writer, throttleRetry: { maxAttempts: 2, baseDelayMs: 0 } });
    const response = await handle(post('{"records":[{"data":1},{"data":2}]}'));
    expect(response.status).toBe(503);
    expect(JSON.parse(response.body)).toMatchObject({
      error: 'UpstreamUnavailable',
      errorCode: 'InvalidResponse',
    });
    expect(writer.calls).toBe(2);
  });

  it('does not retry a rejected call', async () => {
    const writer = countingWriter(async () => {
      throw new UpstreamError('rejected', 'AccessDeniedException', 'no');
    });
    const { handle } = handler({ recordWriter: writer });
    const response = await handle(post('{"records":[{"data":1}]}'));
    expect(response.status).toBe(502);
    expect(writer.calls).toBe(1);
  });

  it('answers 207 when one of several calls fails as a whole after others wrote', async () => {
    let call = 0;
    const handle = createIngestHandler({
      recordWriter: {
        putRecords: async (entries) => {
          call += 1;
          if (call === 2) throw new UpstreamError('unavailable', 'ServiceUnavailable', 'down');
          return entries.map(() => ({ shardId: 'shardId-000000000000', sequenceNumber: '1' }));
        },
      },
      apiKeys: [KEY],
      maxPutRecordsRecords: 1,
      maxConcurrentPutRecords: 1,
      throttleRetry: { maxAttempts: 1 },
    });
    const response = await handle(post('{"records":[{"data":1},{"data":2},{"data":3}]}'));
    expect(response.status).toBe(207);
    const body = JSON.parse(response.body);
    expect(body.failedRecordCount).toBe(1);
    expect(body.records[1].errorCode).toBe('ServiceUnavailable');
  });
});

describe('resolveIngestHandlerConfig', () => {
  it('fills the documented defaults', () => {
    const config = resolveIngestHandlerConfig({
      recordWriter: new InMemoryRecordWriter(),
      apiKeys: new Set(['a']),
    });
    expect(config).toMatchObject({
      allowedOrigins: '*',
      maxBodyBytes: 10 * 1024 * 1024,
      maxRecordBytes: 1024 * 1024,
      maxPutRecordsBytes: 5 * 1024 * 1024,
      maxPutRecordsRecords: 500,
      maxConcurrentPutRecords: 4,
      throttleRetry: { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 400 },
      retryAfterSeconds: 1,
      corsMaxAgeSeconds: 600,
    });
    expect(config.checkApiKey('a')).toBe(true);
    expect(config.checkApiKey('b')).toBe(false);
    expect(config.checkApiKey('')).toBe(false);
  });
});
