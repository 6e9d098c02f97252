import { describe, expect, it } from 'vitest';
import {
  HTTP_TIMEOUTS,
  hasLoneSurrogate,
  http1RequestHandler,
  isValidExplicitHashKey,
  KINESIS_HTTP2_STREAM_IDLE_TIMEOUT_MS,
  KinesisHttpVersion,
  kinesisHttpVersion,
  kinesisRequestHandler,
  MAX_HASH_KEY,
  MAX_PARTITION_KEY_LENGTH,
  MAX_PUT_RECORDS_BYTES,
  MAX_PUT_RECORDS_RECORDS,
  MAX_RECORD_BYTES,
  PROBE_HTTP_TIMEOUTS,
  splitBatches,
} from '../../src/index.js';

describe('Kinesis limits', () => {
  it('has the documented figures', () => {
    expect(MAX_PARTITION_KEY_LENGTH).toBe(256);
    expect(MAX_RECORD_BYTES).toBe(1_048_576);
    expect(MAX_PUT_RECORDS_RECORDS).toBe(500);
    expect(MAX_PUT_RECORDS_BYTES).toBe(5 * 1_048_576);
    expect(MAX_HASH_KEY).toBe(2n ** 128n - 1n);
  });

  it('validates explicit hash keys', () => {
    expect(isValidExplicitHashKey('0')).toBe(true);
    expect(isValidExplicitHashKey(MAX_HASH_KEY.toString())).toBe(true);
    expect(isValidExplicitHashKey((MAX_HASH_KEY + 1n).toString())).toBe(false);
    expect(isValidExplicitHashKey('01')).toBe(false);
    expect(isValidExplicitHashKey('-1')).toBe(false);
    expect(isValidExplicitHashKey('')).toBe(false);
  });

  it('finds lone surrogates only', () => {
    expect(hasLoneSurrogate('a\uD83D\uDE00b')).toBe(false);
    expect(hasLoneSurrogate('a\uD83Db')).toBe(true);
    expect(hasLoneSurrogate('\uDE00')).toBe(true);
  });
});

describe('splitBatches', () => {
  // Moved from the producer's kinesisTransport test (its `chunk` is this function now).
  it('cuts at the entry count and at the byte limit, never leaving an entry out', () => {
    const items = [5, 5, 5, 9, 1, 1, 1].map((bytes) => ({ bytes }));
    const chunk = (max: number, maxBytes: number) => splitBatches(items, (i) => i.bytes, max, maxBytes);
    expect(chunk(3, 10).map((c) => c.map((i) => i.bytes))).toEqual([[5, 5], [5], [9, 1], [1, 1]]);
    expect(chunk(2, 100).map((c) => c.length)).toEqual([2, 2, 2, 1]);
  });

  it('puts an oversized item alone and makes no empty batch', () => {
    expect(splitBatches([20, 1], (s) => s, 10, 10)).toEqual([[20], [1]]);
    expect(splitBatches([], (s: number) => s, 10, 10)).toEqual([]);
  });
});

describe('http1RequestHandler', () => {
  it('builds the given handler class with the timeouts, and a missed requestTimeout throws', () => {
    class FakeHandler {
      constructor(readonly options: object) {}
    }
    expect(http1RequestHandler(FakeHandler).options).toEqual({
      connectionTimeout: 5_000,
      requestTimeout: 30_000,
      throwOnRequestTimeout: true,
    });
    expect(http1RequestHandler(FakeHandler, PROBE_HTTP_TIMEOUTS).options).toEqual({
      ...PROBE_HTTP_TIMEOUTS,
      throwOnRequestTimeout: true,
    });
    expect(HTTP_TIMEOUTS).toEqual({ connectionTimeout: 5_000, requestTimeout: 30_000 });
  });
});

describe('kinesisRequestHandler', () => {
  class Http1 {
    readonly version = 'http1';
    constructor(readonly options: object) {}
  }
  class Http2 {
    readonly version = 'http2';
    constructor(readonly options: object) {}
  }
  const handlerFor = (endpoint: string | undefined) =>
    kinesisRequestHandler({ endpoint, http1Handler: Http1, http2Handler: Http2 });

  it('picks HTTP/2 for AWS: no endpoint, regional, FIPS, VPC, China and dual-stack host names', () => {
    for (const endpoint of [
      undefined,
      '',
      'https://kinesis.eu-west-1.amazonaws.com',
      'https://kinesis-fips.us-east-1.amazonaws.com',
      'https://vpce-0a1b2c3d-abcd.kinesis.us-east-1.vpce.amazonaws.com',
      'https://kinesis.cn-north-1.amazonaws.com.cn',
      'https://kinesis.us-east-1.api.aws',
    ]) {
      expect(kinesisHttpVersion(endpoint), String(endpoint)).toBe(KinesisHttpVersion.Http2);
      const handler = handlerFor(endpoint);
      expect(handler).toBeInstanceOf(Http2);
      expect(handler.options).toEqual({ requestTimeout: 300_000, disableConcurrentStreams: true });
    }
  });

  it('picks HTTP/1.1 with timeouts for any other endpoint (the local emulators)', () => {
    for (const endpoint of [
      'http://127.0.0.1:4567',
      'http://localhost:4567',
      'https://kinesis.internal.example.com',
      'https://notamazonaws.com',
      'not a url',
    ]) {
      expect(kinesisHttpVersion(endpoint), endpoint).toBe(KinesisHttpVersion.Http1);
      const handler = handlerFor(endpoint);
      expect(handler).toBeInstanceOf(Http1);
      expect(handler.options).toEqual({ ...HTTP_TIMEOUTS, throwOnRequestTimeout: true });
    }
  });

  it('passes the given timeouts to either handler', () => {
    const timeouts = { connectionTimeout: 1, requestTimeout: 2 };
    expect(KINESIS_HTTP2_STREAM_IDLE_TIMEOUT_MS).toBe(300_000);
    expect(
      kinesisRequestHandler({
        endpoint: undefined,
        http1Handler: Http1,
        http2Handler: Http2,
        timeouts,
        http2StreamIdleTimeoutMs: 3,
      }).options,
    ).toEqual({ requestTimeout: 3, disableConcurrentStreams: true });
    expect(
      kinesisRequestHandler({
        endpoint: 'http://127.0.0.1:1',
        http1Handler: Http1,
        http2Handler: Http2,
        timeouts,
      }).options,
    ).toEqual({ connectionTimeout: 1, requestTimeout: 2, throwOnRequestTimeout: true });
  });
});
