import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  ConfigurationError,
  createProducer,
  type DeadLetter,
  DestinationError,
  HttpTransport,
  httpTransport,
} from '@shardline/producer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/cli.js';
import { SAMPLE_RECORD } from '../helpers/FakeTransport.js';

interface Received {
  readonly headers: IncomingMessage['headers'];
  readonly body: { records: { eventId: string; partitionKey: string; data: unknown }[] };
  readonly raw: string;
}
type Handler = (
  req: Received,
  call: number,
) => { status: number; body?: unknown; headers?: Record<string, string> };

let server: Server;
let base: string;
let handler: Handler = () => ({ status: 500 });
const received: Received[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let bytes = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') bytes = gunzipSync(bytes);
      const raw = bytes.toString('utf8');
      const r: Received = { headers: req.headers, body: JSON.parse(raw), raw };
      received.push(r);
      const answer = handler(r, received.length);
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function written(req: Received) {
  return req.body.records.map((r, i) => ({
    eventId: r.eventId,
    shardId: 'shardId-000000000000',
    sequenceNumber: `${1000 + i}`,
  }));
}

function producerFor(options: { gzip?: boolean } = {}) {
  const letters: DeadLetter[] = [];
  const producer = createProducer({
    transport: httpTransport({ url: base, apiKey: 'secret', ...options }),
    lingerMs: 60_000,
    retry: { initialDelayMs: 5, maxDelayMs: 20, deadlineMs: 5_000 },
    deadLetter: (l) => {
      letters.push(l);
    },
  });
  return { producer, letters };
}

describe('httpTransport', () => {
  it('counts request bytes so that a body never exceeds the sum (the 10 MiB body limit holds)', () => {
    const transport = httpTransport({ url: base, apiKey: 'k' });
    const records = ['k', 'ключ-🙂', 'a"b\\c', 'x'.repeat(256)].map((partitionKey, i) => {
      const data = Buffer.from(JSON.stringify({ i, text: 'é😀'.repeat(i * 10) }));
      const head = Buffer.from(`{"eventId":"id-${i}","receivedAt":"2026-11-25T17:00:00.000Z","data":`);
      return {
        eventId: `id-${i}`,
        partitionKey,
        explicitHashKey: undefined,
        envelope: Buffer.concat([head, data, Buffer.from('}')]),
        dataOffset: head.length,
      };
    });
    const body = HttpTransport.body(records);
    expect(JSON.parse(body.toString('utf8')).records[1].partitionKey).toBe('ключ-🙂');
    const counted = records.reduce((sum, r) => sum + transport.requestBytes(r), 0);
    expect(body.length).toBeLessThanOrEqual(counted + 16);
    expect(transport.limits.maxRequestBytes + 16).toBe(10 * 1_048_576);
  });

  it('validates its options', () => {
    expect(() => httpTransport({ url: 'ftp://x', apiKey: '' })).toThrow(ConfigurationError);
  });

  it('POSTs /v1/events with the key, gzip when asked, data spliced exactly', async () => {
    received.length = 0;
    handler = (req) => ({ status: 200, body: { failedRecordCount: 0, records: written(req) } });
    const { producer } = producerFor({ gzip: true });
    const results = Promise.all([
      producer.put({ id: 12345678901234567890n }, { eventId: 'h1', partitionKey: 'k"1' }),
      producer.put('x', { eventId: 'h2' }),
    ]);
    await producer.flush();
    expect((await results).map((r) => r.sequenceNumber)).toEqual(['1000', '1001']);
    expect(received[0]!.headers['x-api-key']).toBe('secret');
    expect(received[0]!.headers['content-encoding']).toBe('gzip');
    expect(received[0]!.raw).toBe(
      '{"records":[{"eventId":"h1","partitionKey":"k\\"1","data":{"id":12345678901234567890}},{"eventId":"h2","partitionKey":"h2","data":"x"}]}',
    );
    await producer.close();
  });

  it('retries only the failed entries of a 207, with the same event ids', async () => {
    received.length = 0;
    handler = (req, call) => {
      if (call > 1) return { status: 200, body: { failedRecordCount: 0, records: written(req) } };
      const records = req.body.records.map((r, i) =>
        i % 2 === 1
          ? {
              eventId: r.eventId,
              errorCode: 'ProvisionedThroughputExceededException',
              errorMessage: 'slow down',
            }
          : { eventId: r.eventId, shardId: 's', sequenceNumber: '1' },
      );
      return { status: 207, body: { failedRecordCount: 2, records } };
    };
    const { producer } = producerFor();
    const puts = ['a', 'b', 'c', 'd'].map((id) => producer.put(id, { eventId: id }));
    await producer.flush();
    await Promise.all(puts);
    expect(received.map((r) => r.body.records.map((x) => x.eventId))).toEqual([
      ['a', 'b', 'c', 'd'],
      ['b', 'd'],
    ]);
    expect(producer.metrics.throttles).toBe(2);
    await producer.close();
  });

  it('honours 429 with Retry-After before the next request', async () => {
    received.length = 0;
    const times: number[] = [];
    handler = (req, call) => {
      times.push(Date.now());
      if (call === 1) {
        const records = req.body.records.map((r) => ({
          eventId: r.eventId,
          errorCode: 'ProvisionedThroughputExceededException',
          errorMessage: 'x',
        }));
        return {
          status: 429,
          body: { failedRecordCount: records.length, records },
          headers: { 'retry-after': '1' },
        };
      }
      return { status: 200, body: { failedRecordCount: 0, records: written(req) } };
    };
    const { producer } = producerFor();
    const put = producer.put('t', { eventId: 't1' });
    await producer.flush();
    await put;
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(990);
    await producer.close();
  });

  it('dead-letters records named by a 400 and retries the others; 403 dead-letters all', async () => {
    received.length = 0;
    handler = (req, call) => {
      if (call === 1) {
        return {
          status: 400,
          body: {
            error: 'ValidationFailed',
            message: 'bad',
            problems: [{ path: '/records/1/data', message: 'too deep' }],
          },
        };
      }
      return { status: 200, body: { failedRecordCount: 0, records: written(req) } };
    };
    const { producer, letters } = producerFor();
    const ok = producer.put(1, { eventId: 'v0' });
    const bad = producer.put(2, { eventId: 'v1' }).catch((e: unknown) => e);
    await producer.flush();
    await ok;
    expect(await bad).toMatchObject({ code: 'HTTP_400' });
    expect(letters.map((l) => [l.eventId, l.errorMessage])).toEqual([['v1', '/records/1/data: too deep']]);
    expect(received[1]!.body.records.map((r) => r.eventId)).toEqual(['v0']);

    handler = () => ({ status: 403, body: { error: 'Forbidden', message: 'bad key' } });
    const denied = producer.put(3, { eventId: 'v2' }).catch((e: unknown) => e);
    await producer.flush();
    expect(await denied).toMatchObject({ code: 'HTTP_403', attempts: 1 });
    await producer.close();
  });

  it('dead-letters only the records with an explicitHashKey (the API has none) and sends the others', async () => {
    received.length = 0;
    handler = (req) => ({ status: 200, body: { failedRecordCount: 0, records: written(req) } });
    const { producer, letters } = producerFor();
    const plain = producer.put(1, { eventId: 'x-plain' });
    const hashed = producer.put(2, { eventId: 'x-hashed', explicitHashKey: '42' }).catch((e: unknown) => e);
    await producer.flush();
    await expect(plain).resolves.toMatchObject({ eventId: 'x-plain' });
    expect(await hashed).toMatchObject({ code: 'UnsupportedExplicitHashKey' });
    expect(letters.map((l) => l.eventId)).toEqual(['x-hashed']);
    expect(received.map((r) => r.body.records.map((x) => x.eventId))).toEqual([['x-plain']]);
    await producer.close();
  });

  it('retries a 503 and a dropped connection', async () => {
    received.length = 0;
    handler = (req, call) => {
      if (call === 1) return { status: 503, body: { error: 'UpstreamUnavailable', message: 'later' } };
      return { status: 200, body: { failedRecordCount: 0, records: written(req) } };
    };
    const { producer } = producerFor();
    const put = producer.put('z', { eventId: 'r1' });
    await producer.flush();
    await expect(put).resolves.toMatchObject({ eventId: 'r1' });
    expect(received).toHaveLength(2);
    await producer.close();

    let calls = 0;
    const flaky: typeof fetch = async (input, init) => {
      calls += 1;
      if (calls === 1) throw new TypeError('fetch failed: ECONNRESET');
      return fetch(input, init);
    };
    handler = (req) => ({ status: 200, body: { failedRecordCount: 0, records: written(req) } });
    const second = createProducer({
      transport: httpTransport({ url: base, apiKey: 'k', fetch: flaky }),
      lingerMs: 1,
      retry: { initialDelayMs: 5, maxDelayMs: 10 },
      deadLetter: () => {},
    });
    await expect(second.put('y', { eventId: 'r2' })).resolves.toMatchObject({ eventId: 'r2' });
    expect(calls).toBe(2);
    await second.close();
  });

  it('shardline-produce replay --url sends every row of the retail sample through the API, gzip on', async () => {
    received.length = 0;
    handler = (req) => ({ status: 200, body: { failedRecordCount: 0, records: written(req) } });
    const dir = mkdtempSync(join(tmpdir(), 'producer-cli-http-'));
    let out = '';
    try {
      const code = await runCli(
        [
          'replay',
          new URL('../../../../data/online-retail-2010-12-sample.csv', import.meta.url).pathname,
          '--url',
          base,
          '--gzip',
          '--partition-key',
          'InvoiceNo',
          '--progress',
          'none',
          '--rejects',
          join(dir, 'r.jsonl'),
          '--dead-letters',
          join(dir, 'd.jsonl'),
        ],
        {
          env: { SHARDLINE_INGEST_API_KEY: 'from-env' },
          isTty: false,
          stdout: (t) => {
            out += t;
          },
          stderr: () => {},
        },
      );
      expect(code, out).toBe(0);
      const records = received.flatMap((r) => r.body.records);
      expect(records).toHaveLength(400);
      expect(new Set(records.map((r) => r.eventId)).size).toBe(400);
      expect(
        received.every(
          (r) => r.headers['x-api-key'] === 'from-env' && r.headers['content-encoding'] === 'gzip',
        ),
      ).toBe(true);
      const firstLine = readFileSync(
        new URL('../../../../data/online-retail-2010-12-sample.csv', import.meta.url),
        'utf8',
      ).split('\n')[1]!;
      expect(records.find((r) => r.partitionKey === '536365')!.data).toMatchObject({
        InvoiceNo: firstLine.split(',')[0],
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('check(): 400 to an empty batch passes; 403 and 404 say what is wrong; a dead port is unreachable', async () => {
    const transport = httpTransport({ url: base, apiKey: 'k' });
    const signal = new AbortController().signal;
    handler = () => ({ status: 400, body: { error: 'ValidationFailed', message: 'x' } });
    await expect(transport.check(signal)).resolves.toBeUndefined();
    handler = () => ({ status: 403, body: { error: 'Forbidden', message: 'Invalid API key' } });
    await expect(transport.check(signal)).rejects.toMatchObject({ problem: 'forbidden' });
    handler = () => ({ status: 404, body: { error: 'NotFound', message: 'x' } });
    await expect(transport.check(signal)).rejects.toMatchObject({ problem: 'missing' });
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    const error = await httpTransport({ url: `http://127.0.0.1:${port}`, apiKey: 'k' })
      .check(signal)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DestinationError);
    expect((error as DestinationError).problem).toBe('unreachable');
    expect((error as Error).message).toMatch(/connection refused/);
  });

  it('a request without an answer is aborted at timeoutMs and fails with code Timeout (retriable)', async () => {
    const hung = createServer(() => {}); // accepts, reads, never answers
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`;
      const transport = httpTransport({ url, apiKey: 'k', timeoutMs: 100 });
      const started = Date.now();
      const error = await transport
        .send([SAMPLE_RECORD], new AbortController().signal)
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'Timeout', retriable: true });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      hung.closeAllConnections();
      await new Promise<void>((resolve) => hung.close(() => resolve()));
    }
  });
});
