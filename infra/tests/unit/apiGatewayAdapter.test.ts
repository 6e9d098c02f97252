import { InMemoryRecordWriter } from '@shardline/ingest/testing';
import { describe, expect, it } from 'vitest';
import {
  createApiGatewayIngestHandler,
  toIngestRequest,
  toProxyResult,
} from '../../src/lambda/apiGatewayAdapter.js';

describe('the API Gateway proxy-event adapter', () => {
  it('decodes base64 bodies and keeps text bodies as UTF-8 bytes', () => {
    const binary = toIngestRequest({
      httpMethod: 'POST',
      path: '/v1/events',
      body: Buffer.from([0x1f, 0x8b, 0xff]).toString('base64'),
      isBase64Encoded: true,
    });
    expect([...(binary.body as Uint8Array)]).toEqual([0x1f, 0x8b, 0xff]);
    const text = toIngestRequest({
      httpMethod: 'POST',
      path: '/v1/events',
      body: '{"a":"é"}',
      isBase64Encoded: false,
    });
    expect(Buffer.from(text.body as Uint8Array).toString('utf8')).toBe('{"a":"é"}');
    expect(
      (toIngestRequest({ httpMethod: 'OPTIONS', path: '/v1/events', body: null }).body as Uint8Array).length,
    ).toBe(0);
  });

  it('lower-cases header names; repeated headers come from multiValueHeaders', () => {
    const request = toIngestRequest({
      httpMethod: 'POST',
      path: '/v1/events',
      headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': '2.2.2.2' },
      multiValueHeaders: { 'X-Forwarded-For': ['1.1.1.1', '2.2.2.2'], 'Content-Type': ['application/json'] },
    });
    expect(request.headers).toEqual({
      'content-type': 'application/json',
      'x-forwarded-for': ['1.1.1.1', '2.2.2.2'],
    });
  });

  it('answers with JSON text, never base64', () => {
    expect(toProxyResult({ status: 204, headers: { vary: 'Origin' }, body: '' })).toEqual({
      statusCode: 204,
      headers: { vary: 'Origin' },
      body: '',
      isBase64Encoded: false,
    });
  });

  it('aborts upstream writes before the Lambda deadline: 503, retry with the same ids', async () => {
    let sawAbort = false;
    const slow = {
      putRecords: (_entries: unknown, signal?: AbortSignal) =>
        new Promise<never>((_resolve, reject) => {
          signal?.addEventListener('abort', () => {
            sawAbort = true;
            reject(signal.reason);
          });
        }),
    };
    const handler = createApiGatewayIngestHandler({ recordWriter: slow, apiKeys: ['k'] });
    const result = await handler(
      {
        httpMethod: 'POST',
        path: '/v1/event',
        headers: { 'content-type': 'application/json', 'x-api-key': 'k' },
        body: '{"data":1,"eventId":"d-1"}',
      },
      { getRemainingTimeInMillis: () => 1_050 },
    );
    expect(sawAbort).toBe(true);
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body)).toMatchObject({ error: 'UpstreamUnavailable', eventId: 'd-1' });
  });

  it('runs the whole contract: a batch written in order, answers in request order', async () => {
    const writer = new InMemoryRecordWriter();
    const handler = createApiGatewayIngestHandler({ recordWriter: writer, apiKeys: ['k'] });
    const result = await handler({
      httpMethod: 'POST',
      path: '/v1/events',
      headers: { 'Content-Type': 'application/json', 'X-Api-Key': 'k' },
      body: Buffer.from('{"records":[{"data":1,"eventId":"a"},{"data":2,"eventId":"b"}]}').toString('base64'),
      isBase64Encoded: true,
    });
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body).records.map((r: { eventId: string }) => r.eventId)).toEqual(['a', 'b']);
    expect(writer.records).toHaveLength(2);
  });
});
