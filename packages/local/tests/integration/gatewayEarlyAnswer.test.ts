import { request as httpRequest } from 'node:http';
import { startIngestGateway, uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The contract's size and order checks answer before the body is read in full (403, 415, 413). A
// client still uploading must receive that answer, not a reset connection (EPIPE / ECONNRESET): the
// gateway reads and drops the rest of the body (up to 32 MiB) before it answers and closes.

const local = useLocalTwin();
const KEY = 'early-answer-key';
const MiB = 1024 * 1024;
const BODY_BYTES = 12 * MiB;
const CHUNK_BYTES = 256 * 1024;
/** 48 chunks, 25 ms apart: the upload lasts over a second, long after the answer is decided. */
const CHUNK_INTERVAL_MS = 25;

let gateway: Awaited<ReturnType<typeof startIngestGateway>>;
let streamName: string;
beforeAll(async () => {
  streamName = (await local.createStream(uniqueName('early-answer'), { shardCount: 1 })).streamName;
  gateway = await startIngestGateway({ kinesisClient: local.kinesis, streamName, apiKeys: [KEY] });
});
afterAll(async () => {
  await gateway?.close();
  await local.deleteStream(streamName);
});

interface SlowUpload {
  readonly status: number;
  readonly body: string;
  readonly connection: string | undefined;
  /** Bytes the client had written when the answer's head arrived. */
  readonly sentBeforeAnswer: number;
  readonly sent: number;
}

/** POSTs BODY_BYTES slowly, chunk by chunk, reading the answer whenever it comes; rejects on a network error. */
function slowUpload(headers: Record<string, string | number>): Promise<SlowUpload> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let sentBeforeAnswer = -1;
    const req = httpRequest(`${gateway.url}/v1/events`, { method: 'POST', headers }, (res) => {
      sentBeforeAnswer = sent;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          connection: res.headers.connection,
          sentBeforeAnswer,
          sent,
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject); // EPIPE, ECONNRESET: what this test rules out
    const chunk = Buffer.alloc(CHUNK_BYTES, 0x20);
    const writeNext = () => {
      if (sent >= BODY_BYTES) {
        req.end();
        return;
      }
      req.write(chunk, (error) => {
        if (error) return; // reported through 'error'
        sent += chunk.length;
        setTimeout(writeNext, CHUNK_INTERVAL_MS);
      });
    };
    writeNext();
  });
}

const json = { 'content-type': 'application/json', 'x-api-key': KEY };

describe('the local gateway answers an early refusal to a client still uploading', () => {
  it.each([
    [
      'a declared Content-Length over 10 MiB (413 before reading)',
      { ...json, 'content-length': BODY_BYTES },
      413,
      'PayloadTooLarge',
    ],
    [
      'a chunked body that passes 10 MiB (413 while reading)',
      { ...json, 'transfer-encoding': 'chunked' },
      413,
      'PayloadTooLarge',
    ],
    [
      'an unknown API key (403 first)',
      { ...json, 'x-api-key': 'nope', 'content-length': BODY_BYTES },
      403,
      'Forbidden',
    ],
    [
      'a wrong media type (415 before size)',
      { ...json, 'content-type': 'text/plain', 'content-length': BODY_BYTES },
      415,
      'UnsupportedMediaType',
    ],
    [
      'an unsupported content encoding (415 before size)',
      { ...json, 'content-encoding': 'br', 'content-length': BODY_BYTES },
      415,
      'UnsupportedMediaType',
    ],
  ] as const)('%s', async (_name, headers, status, error) => {
    const answer = await slowUpload(headers);
    expect(answer.status).toBe(status);
    expect(JSON.parse(answer.body)).toMatchObject({ error });
    expect(answer.connection).toBe('close');
    // The whole body went out before the answer came: the gateway waited for it.
    expect(answer.sent).toBe(BODY_BYTES);
    expect(answer.sentBeforeAnswer).toBe(BODY_BYTES);
  });

  it('the gateway still takes requests afterwards', async () => {
    const response = await fetch(`${gateway.url}/v1/events`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ records: [{ data: { ok: true } }] }),
    });
    expect(response.status).toBe(200);
  });
});
