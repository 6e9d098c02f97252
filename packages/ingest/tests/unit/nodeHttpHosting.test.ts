import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngestHandler, decodeEnvelope } from '../../src/index.js';
import { InMemoryRecordWriter } from '../../src/testing/index.js';

// The thin Node http adapter shown in the README, hosting the handler with the request as the body.
const writer = new InMemoryRecordWriter();
const handle = createIngestHandler({ recordWriter: writer, apiKeys: ['http-key'] });
let server: Server;
let port: number;

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const answer = await handle({
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      body: req,
    });
    if (!req.complete) {
      // The client is still uploading (413): read and drop the rest so it can read the answer, then close.
      res.setHeader('connection', 'close');
      req.resume();
    }
    res.writeHead(answer.status, answer.headers).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

function send(
  path: string,
  headers: Record<string, string>,
  chunks: readonly Uint8Array[],
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString() }),
      );
    });
    req.on('error', reject);
    (async () => {
      for (const chunk of chunks) {
        if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
      }
      req.end();
    })().catch(reject);
  });
}

describe('hosting the handler in a Node http server', () => {
  it('streams a chunked gzip body through to Kinesis', async () => {
    const body = gzipSync(Buffer.from('{"records":[{"data":{"n":12345678901234567890},"eventId":"h-1"}]}'));
    const response = await send(
      '/v1/events',
      { 'content-type': 'application/json', 'content-encoding': 'gzip', 'x-api-key': 'http-key' },
      [body.subarray(0, 10), body.subarray(10)],
    );
    expect(response.status).toBe(200);
    expect(response.headers['access-control-allow-origin']).toBe('*');
    expect(decodeEnvelope(writer.records.at(-1)!.data).dataJson).toBe('{"n":12345678901234567890}');
  });

  it('answers 413 to a client still uploading 12 MiB, which reads the answer', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const response = await send(
      '/v1/events',
      { 'content-type': 'application/json', 'x-api-key': 'http-key', 'transfer-encoding': 'chunked' },
      Array.from({ length: 192 }, () => chunk),
    );
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body).error).toBe('PayloadTooLarge');
  });
});
