import { gzipSync } from 'node:zlib';
import { INGEST_LIMITS, THROTTLED_RECORD_ERROR_CODE } from '../contract/limits.js';
import { envelopeByteLength } from '../envelope/envelopeCodec.js';
import { UUID_V7_PATTERN } from '../envelope/uuidv7.js';
import type { KinesisFault } from '../testing/withKinesisFault.js';
import {
  type ExpectedStoredRecord,
  type IngestVector,
  VECTOR_SETUP,
  type VectorExpectation,
  VectorTag,
} from './types.js';

const T = VectorTag;
const MiB = 1024 * 1024;
const SEQUENCE = /^\d+$/;
const SHARD = /^shardId-\d+$/;
const ORIGIN = VECTOR_SETUP.origin;

/** Headers every answer to an allowed origin carries. */
const CORS_HEADERS = {
  'access-control-allow-origin': ORIGIN,
  'access-control-expose-headers': /(^|,\s*)retry-after(\s*,|$)/i,
} as const;

function bytes(text: string): Uint8Array {
  return Buffer.from(text, 'utf8');
}

function request(
  path: string,
  body: string | Uint8Array,
  headers: Record<string, string | null> = {},
  method = 'POST',
): IngestVector['request'] {
  const merged: Record<string, string> = {};
  const base: Record<string, string | null> = {
    'content-type': 'application/json',
    'x-api-key': VECTOR_SETUP.apiKey,
    origin: ORIGIN,
    ...headers,
  };
  for (const [k, v] of Object.entries(base)) if (v !== null) merged[k] = v;
  return { method, path, headers: merged, body: typeof body === 'string' ? bytes(body) : body };
}

function events(records: readonly string[]): string {
  return `{"records":[${records.join(',')}]}`;
}

function written(eventId: string | RegExp = UUID_V7_PATTERN) {
  return { eventId, shardId: SHARD, sequenceNumber: SEQUENCE };
}

function ok(
  stored: readonly ExpectedStoredRecord[],
  more: Partial<VectorExpectation> = {},
): VectorExpectation {
  return {
    status: 200,
    headers: CORS_HEADERS,
    body: { failedRecordCount: 0, records: stored.map((s) => written(s.eventId)) },
    stored,
    ...more,
  };
}

function okSingle(stored: ExpectedStoredRecord): VectorExpectation {
  return { status: 200, headers: CORS_HEADERS, body: written(stored.eventId), stored: [stored] };
}

function invalid(
  error: 'ValidationFailed' | 'InvalidBody',
  paths: readonly string[] | undefined,
): VectorExpectation {
  return {
    status: 400,
    headers: CORS_HEADERS,
    body: {
      error,
      message: /./,
      ...(paths ? { problems: paths.map((path) => ({ path, message: /./ })) } : {}),
    },
    stored: [],
  };
}

function failure(status: number, error: string, more: Record<string, unknown> = {}): VectorExpectation {
  return { status, headers: CORS_HEADERS, body: { error, message: /./, ...more }, stored: [] };
}

/** Headers of an answer that asks the client to come back later (429, 503). */
const RETRY_LATER_HEADERS = { ...CORS_HEADERS, 'retry-after': /^\d+$/ } as const;

/** One record's result in a 207 or 429 answer: it was not written, for `errorCode`. */
function failedRecord(eventId: string, errorCode: string) {
  return { eventId, errorCode, errorMessage: /./ };
}

/** Kinesis throttles these records (per-record result) on every attempt, or on the first `times`. */
function throttledRecords(eventIds: readonly string[], times?: number): KinesisFault {
  return {
    kind: 'failRecords',
    eventIds,
    errorCode: THROTTLED_RECORD_ERROR_CODE,
    errorMessage: 'Rate exceeded for shard shardId-000000000000.',
    ...(times === undefined ? {} : { times }),
  };
}

/** Every PutRecords call fails as a whole: Kinesis cannot be reached. */
const KINESIS_UNAVAILABLE: KinesisFault = {
  kind: 'failCalls',
  failure: 'unavailable',
  code: 'ServiceUnavailableException',
  message: 'Service unavailable',
};

function nested(depth: number): string {
  return `${'['.repeat(depth - 1)}{"leaf":1}${']'.repeat(depth - 1)}`;
}

function gzip(text: string | Uint8Array): Uint8Array {
  return gzipSync(typeof text === 'string' ? bytes(text) : text);
}

/** A string JSON value whose text is exactly `length` bytes. */
function stringOfLength(length: number): string {
  return `"${'x'.repeat(length - 2)}"`;
}

function build(): IngestVector[] {
  const v: IngestVector[] = [];
  const add = (vector: IngestVector) => v.push(vector);
  const one = '{"data":{"type":"view"},"eventId":"e-1"}';
  const oneStored: ExpectedStoredRecord = { eventId: 'e-1', dataJson: '{"type":"view"}' };

  // ── Routing, CORS, auth ────────────────────────────────────────────────────────────────────────────
  add({
    id: 'cors/preflight-events',
    description: 'OPTIONS preflight needs no API key and allows POST with the contract headers',
    tags: [T.Cors],
    request: request(
      '/v1/events',
      '',
      {
        'x-api-key': null,
        'content-type': null,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,content-encoding,x-api-key',
      },
      'OPTIONS',
    ),
    expect: {
      status: 204,
      apiGatewayStatuses: [200],
      headers: {
        'access-control-allow-origin': ORIGIN,
        'access-control-allow-methods': /\bPOST\b/,
        'access-control-allow-headers': /x-api-key/i,
      },
      stored: [],
    },
  });
  add({
    id: 'cors/preflight-event',
    description: 'OPTIONS preflight on /v1/event',
    tags: [T.Cors],
    request: request(
      '/v1/event',
      '',
      { 'x-api-key': null, 'content-type': null, 'access-control-request-method': 'POST' },
      'OPTIONS',
    ),
    expect: {
      status: 204,
      apiGatewayStatuses: [200],
      headers: { 'access-control-allow-origin': ORIGIN, 'access-control-allow-methods': /\bPOST\b/ },
      stored: [],
    },
  });
  add({
    id: 'cors/origin-not-allowed',
    description:
      'an origin that is not allowed gets no Access-Control-Allow-Origin (the request itself is served)',
    tags: [T.Cors, T.Stored],
    request: request('/v1/events', events([one]), { origin: 'https://evil.example.org' }),
    expect: { ...ok([oneStored]), headers: { 'access-control-allow-origin': null } },
  });
  add({
    id: 'route/unknown',
    description: 'an unknown route answers 404 (API Gateway: 403)',
    tags: [T.Routing],
    request: request('/v1/nope', events([one])),
    expect: { ...failure(404, 'NotFound'), apiGatewayStatuses: [403] },
  });
  add({
    id: 'route/wrong-method',
    description: 'GET on /v1/events answers 405 with Allow (API Gateway: 403)',
    tags: [T.Routing],
    request: request('/v1/events', '', {}, 'GET'),
    expect: {
      ...failure(405, 'MethodNotAllowed'),
      apiGatewayStatuses: [403],
      headers: { ...CORS_HEADERS, allow: /POST/ },
    },
  });
  add({
    id: 'auth/missing-key',
    description: 'no x-api-key: 403, with CORS headers',
    tags: [],
    request: request('/v1/events', events([one]), { 'x-api-key': null }),
    expect: failure(403, 'Forbidden'),
  });
  add({
    id: 'auth/bad-key',
    description: 'an unknown x-api-key: 403',
    tags: [],
    request: request('/v1/events', events([one]), { 'x-api-key': 'not-a-key' }),
    expect: failure(403, 'Forbidden'),
  });
  add({
    id: 'order/auth-before-media-type',
    description: 'a bad key and a wrong media type: the key is checked first (403)',
    tags: [],
    request: request('/v1/events', 'hello', { 'x-api-key': 'not-a-key', 'content-type': 'text/plain' }),
    expect: failure(403, 'Forbidden'),
  });

  // ── Media type, encoding, size ─────────────────────────────────────────────────────────────────────
  add({
    id: 'media/wrong-type',
    description: 'Content-Type text/plain: 415',
    tags: [],
    request: request('/v1/events', events([one]), { 'content-type': 'text/plain' }),
    expect: failure(415, 'UnsupportedMediaType'),
  });
  add({
    id: 'media/missing-type',
    description: 'no Content-Type: 415',
    tags: [],
    request: request('/v1/events', events([one]), { 'content-type': null }),
    expect: failure(415, 'UnsupportedMediaType'),
  });
  add({
    id: 'media/case-and-parameters',
    description: 'the media type is matched case-insensitively and may carry parameters',
    tags: [T.Stored],
    request: request('/v1/events', events([one]), { 'content-type': 'Application/JSON; Charset=UTF-8' }),
    expect: ok([oneStored]),
  });
  add({
    id: 'media/unsupported-encoding',
    description: 'Content-Encoding br: 415',
    tags: [T.Encoding],
    request: request('/v1/events', events([one]), { 'content-encoding': 'br' }),
    expect: failure(415, 'UnsupportedMediaType'),
  });
  add({
    id: 'order/media-type-before-size',
    description: 'a wrong media type on a body over 10 MiB: 415 comes first',
    tags: [T.LargeBody],
    request: request('/v1/events', Buffer.alloc(INGEST_LIMITS.maxBodyBytes + 1, 0x20), {
      'content-type': 'text/plain',
    }),
    // API Gateway refuses a payload over 10 MB before anything else.
    expect: { ...failure(415, 'UnsupportedMediaType'), apiGatewayStatuses: [413] },
  });
  add({
    id: 'size/body-too-large',
    description: 'a body of 10 MiB + 1 byte: 413 before parsing (it is not even JSON)',
    tags: [T.LargeBody],
    request: request('/v1/events', Buffer.alloc(INGEST_LIMITS.maxBodyBytes + 1, 0x7b)),
    expect: failure(413, 'PayloadTooLarge'),
  });
  {
    // Exactly 10 MiB: one record, then whitespace (insignificant, outside data).
    const atLimit = Buffer.alloc(INGEST_LIMITS.maxBodyBytes, 0x20);
    atLimit.write(events([one]), 0, 'utf8');
    add({
      id: 'size/body-at-limit',
      description: 'a body of exactly 10 MiB is accepted',
      tags: [T.LargeBody, T.Stored],
      request: request('/v1/events', atLimit),
      expect: ok([oneStored]),
    });
    add({
      id: 'size/gzip-at-limit',
      description:
        'a gzip body that inflates to exactly 10 MiB is accepted (the limit applies after decompression)',
      tags: [T.Encoding, T.Stored],
      request: request('/v1/events', gzip(atLimit), { 'content-encoding': 'gzip' }),
      expect: ok([oneStored]),
    });
  }
  add({
    id: 'encoding/gzip',
    description: 'Content-Encoding: gzip is inflated',
    tags: [T.Encoding, T.Stored],
    request: request('/v1/events', gzip(events([one])), { 'content-encoding': 'gzip' }),
    expect: ok([oneStored]),
  });
  add({
    id: 'encoding/gzip-single',
    description: 'gzip on /v1/event',
    tags: [T.Encoding, T.Stored],
    request: request('/v1/event', gzip(one), { 'content-encoding': 'GZIP' }),
    expect: okSingle(oneStored),
  });
  {
    // 12 MiB of spaces inside a valid document: small compressed, over the limit inflated.
    const inflated = Buffer.alloc(12 * MiB, 0x20);
    inflated.write(events([one]), 0, 'utf8');
    add({
      id: 'size/gzip-bomb',
      description: 'a small gzip body that inflates past 10 MiB: 413 (inflation stops at the limit)',
      tags: [T.Encoding],
      request: request('/v1/events', gzip(inflated), { 'content-encoding': 'gzip' }),
      expect: failure(413, 'PayloadTooLarge'),
    });
  }
  add({
    id: 'encoding/gzip-corrupt',
    description: 'Content-Encoding: gzip with bytes that are not gzip: 400',
    tags: [T.Encoding],
    request: request('/v1/events', events([one]), { 'content-encoding': 'gzip' }),
    expect: invalid('InvalidBody', undefined),
  });
  add({
    id: 'encoding/bom',
    description: 'a UTF-8 byte order mark before the JSON is tolerated',
    tags: [T.Encoding, T.Stored],
    request: request('/v1/events', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes(events([one]))])),
    expect: ok([oneStored]),
  });
  add({
    id: 'encoding/bad-utf8',
    description: 'invalid UTF-8 inside data: 400 with the record path',
    tags: [T.Encoding, T.ProblemList],
    request: request(
      '/v1/events',
      Buffer.concat([
        bytes('{"records":[{"data":"ok"},{"data":"bad '),
        Buffer.from([0xc3, 0x28]),
        bytes('"}]}'),
      ]),
    ),
    expect: invalid('ValidationFailed', ['/records/1/data']),
  });
  add({
    id: 'encoding/utf8-encoded-surrogate',
    description: 'a surrogate encoded in UTF-8 (ED A0 80) is not UTF-8: 400',
    tags: [T.Encoding, T.ProblemList],
    request: request(
      '/v1/event',
      Buffer.concat([bytes('{"data":"'), Buffer.from([0xed, 0xa0, 0x80]), bytes('"}')]),
    ),
    expect: invalid('ValidationFailed', ['/data']),
  });
  add({
    id: 'encoding/lone-high-surrogate',
    description: 'a lone high surrogate escape in data: 400',
    tags: [T.Encoding, T.ProblemList],
    request: request('/v1/events', events(['{"data":{"name":"a\\ud83d"}}'])),
    expect: invalid('ValidationFailed', ['/records/0/data']),
  });
  add({
    id: 'encoding/lone-low-surrogate',
    description: 'a lone low surrogate escape in a partition key: 400',
    tags: [T.Encoding, T.ProblemList],
    request: request('/v1/events', events(['{"data":1,"partitionKey":"\\ude00x"}'])),
    expect: invalid('ValidationFailed', ['/records/0/partitionKey']),
  });
  add({
    id: 'encoding/surrogate-pair-and-non-ascii',
    description: 'a surrogate pair escape and raw non-ASCII text are kept byte for byte',
    tags: [T.Encoding, T.Stored],
    request: request(
      '/v1/events',
      events(['{"data":{"emoji":"\\ud83d\\ude00","name":"Zoë 東京"},"eventId":"u-1","partitionKey":"clé"}']),
    ),
    expect: ok([
      { eventId: 'u-1', partitionKey: 'clé', dataJson: '{"emoji":"\\ud83d\\ude00","name":"Zoë 東京"}' },
    ]),
  });

  // ── JSON syntax ────────────────────────────────────────────────────────────────────────────────────
  add({
    id: 'syntax/invalid-json',
    description: 'a truncated document: 400 InvalidBody',
    tags: [],
    request: request('/v1/events', '{"records":[{"data":1}'),
    expect: invalid('InvalidBody', undefined),
  });
  add({
    id: 'syntax/empty-body',
    description: 'an empty body: 400 InvalidBody',
    tags: [],
    request: request('/v1/events', ''),
    expect: invalid('InvalidBody', undefined),
  });
  add({
    id: 'syntax/trailing-data',
    description: 'data after the document: 400',
    tags: [],
    request: request('/v1/events', `${events([one])} x`),
    expect: invalid('InvalidBody', undefined),
  });
  add({
    id: 'syntax/leading-zero',
    description: 'a number with a leading zero in data: 400',
    tags: [],
    request: request('/v1/events', events(['{"data":{"n":01}}'])),
    expect: invalid('InvalidBody', undefined),
  });
  add({
    id: 'syntax/control-character',
    description: 'a raw control character inside a string: 400',
    tags: [],
    request: request('/v1/events', events(['{"data":"a\tb"}'])),
    expect: invalid('InvalidBody', undefined),
  });

  // ── Depth ──────────────────────────────────────────────────────────────────────────────────────────
  add({
    id: 'depth/64',
    description: 'data nested 64 levels is accepted',
    tags: [T.Depth, T.Stored],
    request: request('/v1/events', events([`{"data":${nested(64)},"eventId":"d-64"}`])),
    expect: ok([{ eventId: 'd-64', dataJson: nested(64) }]),
  });
  add({
    id: 'depth/65',
    description: 'data nested 65 levels: 400 with the record path',
    tags: [T.Depth, T.ProblemList],
    request: request('/v1/events', events([`{"data":${nested(65)}}`])),
    expect: invalid('ValidationFailed', ['/records/0/data']),
  });
  add({
    id: 'depth/64-single',
    description: 'data nested 64 levels on /v1/event',
    tags: [T.Depth, T.Stored],
    request: request('/v1/event', `{"data":${nested(64)},"eventId":"d-64s"}`),
    expect: okSingle({ eventId: 'd-64s', dataJson: nested(64) }),
  });
  add({
    id: 'depth/65-single',
    description: 'data nested 65 levels on /v1/event: 400',
    tags: [T.Depth, T.ProblemList],
    request: request('/v1/event', `{"data":${nested(65)}}`),
    expect: invalid('ValidationFailed', ['/data']),
  });

  // ── Values kept exactly ────────────────────────────────────────────────────────────────────────────
  {
    const data =
      '{"orderId":12345678901234567890,"negative":-98765432109876543210,"max":18446744073709551615,"price":1.10,"exp":1E+400,"tiny":5e-324,"zero":-0}';
    add({
      id: 'values/big-integers',
      description: '20-digit integers, trailing zeros, exponents and -0 are stored digit for digit',
      tags: [T.Stored],
      request: request('/v1/events', events([`{"data":${data},"eventId":"big-1","partitionKey":"user-42"}`])),
      expect: ok([{ eventId: 'big-1', partitionKey: 'user-42', dataJson: data }]),
    });
    add({
      id: 'values/big-integers-single',
      description: '20-digit integers on /v1/event',
      tags: [T.Stored],
      request: request('/v1/event', `{"eventId":"big-2","data":${data}}`),
      expect: okSingle({ eventId: 'big-2', dataJson: data }),
    });
  }
  add({
    id: 'values/whitespace-compacted',
    description: 'pretty-printed data is stored compact (one line), strings untouched',
    tags: [T.Stored],
    request: request(
      '/v1/events',
      '{\n  "records": [\n    {\n      "eventId": "ws-1",\n      "data": {\n        "a": [ 1, 2 ],\n        "s": "x  y"\n      }\n    }\n  ]\n}\n',
    ),
    expect: ok([{ eventId: 'ws-1', dataJson: '{"a":[1,2],"s":"x  y"}' }]),
  });
  add({
    id: 'values/escapes-kept',
    description: 'string escapes are kept as sent',
    tags: [T.Stored],
    request: request('/v1/events', events(['{"data":"caf\\u00e9 \\"q\\" \\/ \\n","eventId":"esc-1"}'])),
    expect: ok([{ eventId: 'esc-1', dataJson: '"caf\\u00e9 \\"q\\" \\/ \\n"' }]),
  });
  add({
    id: 'values/scalars-and-null-data',
    description: 'data may be any JSON value, null included (it is required, not optional)',
    tags: [T.Stored],
    request: request(
      '/v1/events',
      events([
        '{"data":null,"eventId":"s-1"}',
        '{"data":"text","eventId":"s-2"}',
        '{"data":false,"eventId":"s-3"}',
        '{"data":[],"eventId":"s-4"}',
      ]),
    ),
    expect: ok([
      { eventId: 's-1', dataJson: 'null' },
      { eventId: 's-2', dataJson: '"text"' },
      { eventId: 's-3', dataJson: 'false' },
      { eventId: 's-4', dataJson: '[]' },
    ]),
  });
  add({
    id: 'ids/generated-event-id',
    description: 'a record without eventId gets a UUIDv7, which is also its partition key',
    tags: [T.GeneratedEventId, T.Stored],
    request: request('/v1/events', events(['{"data":{"a":1}}', '{"data":{"a":2},"partitionKey":"k"}'])),
    expect: ok([{ dataJson: '{"a":1}' }, { partitionKey: 'k', dataJson: '{"a":2}' }], {
      check: (body) => {
        const ids = (body as { records: { eventId: string }[] }).records.map((r) => r.eventId);
        return ids[0] === ids[1] ? ['generated event ids must differ'] : [];
      },
    }),
  });
  add({
    id: 'ids/generated-event-id-single',
    description: '/v1/event without eventId gets a UUIDv7',
    tags: [T.GeneratedEventId, T.Stored],
    request: request('/v1/event', '{"data":{"a":1}}'),
    expect: okSingle({ dataJson: '{"a":1}' }),
  });
  add({
    id: 'ids/event-id-128',
    description: 'an eventId of 128 allowed characters is accepted',
    tags: [T.Stored],
    request: request('/v1/events', events([`{"data":1,"eventId":"${'a:b.c_d-'.repeat(16)}"}`])),
    expect: ok([{ eventId: 'a:b.c_d-'.repeat(16), dataJson: '1' }]),
  });

  // ── Schema ─────────────────────────────────────────────────────────────────────────────────────────
  add({
    id: 'schema/unknown-record-field',
    description: 'a typo in a field name is an unknown field: 400',
    tags: [T.ProblemList],
    request: request('/v1/events', events(['{"data":1,"partitonKey":"a"}'])),
    expect: invalid('ValidationFailed', ['/records/0/partitonKey']),
  });
  add({
    id: 'schema/unknown-top-field',
    description: 'an unknown top-level field: 400',
    tags: [T.ProblemList],
    request: request('/v1/events', '{"records":[{"data":1}],"stream":"x"}'),
    expect: invalid('ValidationFailed', ['/stream']),
  });
  add({
    id: 'schema/unknown-field-single',
    description: 'an unknown field on /v1/event (its name escaped as a JSON Pointer)',
    tags: [T.ProblemList],
    request: request('/v1/event', '{"data":1,"a/b~c":2}'),
    expect: invalid('ValidationFailed', ['/a~1b~0c']),
  });
  add({
    id: 'schema/null-partition-key',
    description: 'null for the optional partitionKey: 400',
    tags: [T.ProblemList],
    request: request('/v1/events', events(['{"data":1,"partitionKey":null}'])),
    expect: invalid('ValidationFailed', ['/records/0/partitionKey']),
  });
  add({
    id: 'schema/null-event-id-single',
    description: 'null for the optional eventId on /v1/event: 400',
    tags: [T.ProblemList],
    request: request('/v1/event', '{"data":1,"eventId":null}'),
    expect: invalid('ValidationFailed', ['/eventId']),
  });
  add({
    id: 'schema/missing-data',
    description: 'a record without data: 400',
    tags: [T.ProblemList],
    request: request('/v1/events', events(['{"data":1}', '{"eventId":"x"}'])),
    expect: invalid('ValidationFailed', ['/records/1/data']),
  });
  add({
    id: 'schema/missing-records',
    description: 'an object without records: 400',
    tags: [T.ProblemList],
    request: request('/v1/events', '{}'),
    expect: invalid('ValidationFailed', ['/records']),
  });
  add({
    id: 'schema/records-not-array',
    description: 'records must be an array',
    tags: [T.ProblemList],
    request: request('/v1/events', '{"records":{"data":1}}'),
    expect: invalid('ValidationFailed', ['/records']),
  });
  add({
    id: 'schema/body-not-object',
    description: 'the body must be an object',
    tags: [T.ProblemList],
    request: request('/v1/events', '[{"data":1}]'),
    expect: invalid('ValidationFailed', ['']),
  });
  add({
    id: 'schema/record-not-object',
    description: 'each record must be an object',
    tags: [T.ProblemList],
    request: request('/v1/events', events(['{"data":1}', '"x"'])),
    expect: invalid('ValidationFailed', ['/records/1']),
  });
  add({
    id: 'schema/zero-records',
    description: '0 records: 400',
    tags: [T.ProblemList],
    request: request('/v1/events', '{"records":[]}'),
    expect: invalid('ValidationFailed', ['/records']),
  });
  add({
    id: 'schema/501-records',
    description: '501 records: 400, nothing written',
    tags: [T.ProblemList],
    request: request('/v1/events', events(Array.from({ length: 501 }, (_, i) => `{"data":${i}}`))),
    expect: invalid('ValidationFailed', ['/records']),
  });
  {
    const records = Array.from({ length: 500 }, (_, i) => `{"data":{"i":${i}},"eventId":"r-${i}"}`);
    add({
      id: 'schema/500-records',
      description: '500 records are accepted, results in request order',
      tags: [T.Stored],
      request: request('/v1/events', events(records)),
      expect: ok(Array.from({ length: 500 }, (_, i) => ({ eventId: `r-${i}`, dataJson: `{"i":${i}}` }))),
    });
  }
  add({
    id: 'schema/partition-key-256',
    description: 'a partition key of 256 characters is accepted',
    tags: [T.Stored],
    request: request(
      '/v1/events',
      events([`{"data":1,"eventId":"pk-256","partitionKey":"${'k'.repeat(256)}"}`]),
    ),
    expect: ok([{ eventId: 'pk-256', partitionKey: 'k'.repeat(256), dataJson: '1' }]),
  });
  add({
    id: 'schema/partition-key-257',
    description: 'a partition key of 257 characters: 400',
    tags: [T.ProblemList],
    request: request('/v1/events', events([`{"data":1,"partitionKey":"${'k'.repeat(257)}"}`])),
    expect: invalid('ValidationFailed', ['/records/0/partitionKey']),
  });
  add({
    id: 'schema/partition-key-128-emoji',
    description: '128 emoji are 256 UTF-16 code units: accepted',
    tags: [T.Stored],
    request: request(
      '/v1/events',
      events([`{"data":1,"eventId":"pk-e","partitionKey":"${'😀'.repeat(128)}"}`]),
    ),
    expect: ok([{ eventId: 'pk-e', partitionKey: '😀'.repeat(128), dataJson: '1' }]),
  });
  add({
    id: 'schema/partition-key-129-emoji',
    description: '129 emoji are 258 UTF-16 code units: 400 (counted safely, not as 129 characters)',
    tags: [T.ProblemList],
    request: request('/v1/events', events([`{"data":1,"partitionKey":"${'😀'.repeat(129)}"}`])),
    expect: invalid('ValidationFailed', ['/records/0/partitionKey']),
  });
  add({
    id: 'schema/partition-key-empty',
    description: 'an empty partition key: 400',
    tags: [T.ProblemList],
    request: request('/v1/events', events(['{"data":1,"partitionKey":""}'])),
    expect: invalid('ValidationFailed', ['/records/0/partitionKey']),
  });
  add({
    id: 'schema/partition-key-not-string',
    description: 'a number as partition key: 400',
    tags: [T.ProblemList],
    request: request('/v1/events', events(['{"data":1,"partitionKey":42}'])),
    expect: invalid('ValidationFailed', ['/records/0/partitionKey']),
  });
  add({
    id: 'schema/event-id-bad-characters',
    description: 'an eventId with a space or a slash: 400',
    tags: [T.ProblemList],
    request: request('/v1/events', events(['{"data":1,"eventId":"a b"}', '{"data":1,"eventId":"a/b"}'])),
    expect: invalid('ValidationFailed', ['/records/0/eventId', '/records/1/eventId']),
  });
  add({
    id: 'schema/event-id-129',
    description: 'an eventId of 129 characters: 400',
    tags: [T.ProblemList],
    request: request('/v1/events', events([`{"data":1,"eventId":"${'e'.repeat(129)}"}`])),
    expect: invalid('ValidationFailed', ['/records/0/eventId']),
  });
  add({
    id: 'schema/duplicate-field',
    description: 'a field given twice: 400',
    tags: [T.ProblemList],
    request: request('/v1/events', events(['{"data":1,"data":2}'])),
    expect: invalid('ValidationFailed', ['/records/0/data']),
  });
  add({
    id: 'schema/every-problem',
    description: 'every problem of every record is reported, in document order; nothing is written',
    tags: [T.ProblemList],
    request: request(
      '/v1/events',
      events([
        '{"data":1,"eventId":"fine"}',
        '{"partitionKey":null,"extra":true}',
        '{"data":2,"eventId":""}',
        `{"data":${nested(65)},"partitionKey":"${'p'.repeat(300)}"}`,
      ]),
    ),
    expect: invalid('ValidationFailed', [
      '/records/1/partitionKey',
      '/records/1/extra',
      '/records/1/data',
      '/records/2/eventId',
      '/records/3/data',
      '/records/3/partitionKey',
    ]),
  });

  // ── Record size ────────────────────────────────────────────────────────────────────────────────────
  {
    // Kinesis counts data and partition key toward its 1 MiB: envelope bytes + key bytes = 1 MiB exactly.
    const dataLength = INGEST_LIMITS.maxRecordBytes - envelopeByteLength('limit-1'.length, 0) - 1;
    const atLimit = stringOfLength(dataLength);
    add({
      id: 'size/record-at-limit',
      description: 'a record whose stored form (envelope + partition key) is exactly 1 MiB is accepted',
      tags: [T.RecordSize, T.Stored],
      request: request('/v1/events', events([`{"data":${atLimit},"eventId":"limit-1","partitionKey":"k"}`])),
      expect: ok([{ eventId: 'limit-1', partitionKey: 'k', dataJson: atLimit }]),
    });
    const over = stringOfLength(dataLength + 1);
    add({
      id: 'size/record-too-large',
      description: 'a record 1 byte over 1 MiB stored: 413 with the path of that record; nothing written',
      tags: [T.RecordSize],
      request: request(
        '/v1/events',
        events(['{"data":1}', `{"data":${over},"eventId":"limit-1","partitionKey":"k"}`]),
      ),
      expect: { ...failure(413, 'PayloadTooLarge', { problems: [{ path: '/records/1', message: /./ }] }) },
    });
    add({
      id: 'size/record-too-large-single',
      description: 'a 1 MiB+ record on /v1/event: 413',
      tags: [T.RecordSize],
      request: request('/v1/event', `{"data":${stringOfLength(MiB + 10)}}`),
      expect: { ...failure(413, 'PayloadTooLarge', { problems: [{ path: '', message: /./ }] }) },
    });
  }
  {
    // 10 records of ~0.95 MiB: 9.5 MiB, under the body limit, over one PutRecords call.
    const big = stringOfLength(Math.floor(0.95 * MiB));
    const stored = Array.from({ length: 10 }, (_, i) => ({ eventId: `big-${i}`, dataJson: big }));
    add({
      id: 'size/split-into-several-calls',
      description: 'a 9.5 MiB request is split into several PutRecords calls and fully written',
      tags: [T.LargeBody, T.Stored],
      request: request(
        '/v1/events',
        events(stored.map((s) => `{"data":${s.dataJson},"eventId":"${s.eventId}"}`)),
      ),
      expect: ok(stored),
    });
  }

  // ── Kinesis faults ─────────────────────────────────────────────────────────────────────────────────
  const three = [
    '{"data":{"n":1},"eventId":"p-1"}',
    '{"data":{"n":2},"eventId":"p-2"}',
    '{"data":{"n":3},"eventId":"p-3"}',
  ];
  add({
    id: 'kinesis/partial-failure',
    description: 'one record fails for good: 207, it carries errorCode; the others are written',
    tags: [T.KinesisFault, T.Stored],
    request: request('/v1/events', events(three)),
    kinesisFaults: [
      {
        kind: 'failRecords',
        eventIds: ['p-2'],
        errorCode: 'InternalFailure',
        errorMessage: 'Internal service failure.',
      },
    ],
    expect: {
      status: 207,
      headers: CORS_HEADERS,
      body: {
        failedRecordCount: 1,
        records: [written('p-1'), failedRecord('p-2', 'InternalFailure'), written('p-3')],
      },
      stored: [
        { eventId: 'p-1', dataJson: '{"n":1}' },
        { eventId: 'p-3', dataJson: '{"n":3}' },
      ],
    },
  });
  add({
    id: 'kinesis/throttled-then-written',
    description: 'a record throttled once is retried briefly and written: 200',
    tags: [T.KinesisFault, T.Stored],
    request: request('/v1/events', events(three)),
    kinesisFaults: [throttledRecords(['p-1', 'p-3'], 1)],
    expect: ok([
      { eventId: 'p-1', dataJson: '{"n":1}' },
      { eventId: 'p-2', dataJson: '{"n":2}' },
      { eventId: 'p-3', dataJson: '{"n":3}' },
    ]),
  });
  add({
    id: 'kinesis/all-throttled',
    description: 'every record throttled on every attempt: 429 with the per-record body and Retry-After',
    tags: [T.KinesisFault, T.Stored],
    request: request('/v1/events', events(three.slice(0, 2))),
    kinesisFaults: [throttledRecords(['p-1', 'p-2'])],
    expect: {
      status: 429,
      headers: RETRY_LATER_HEADERS,
      body: {
        failedRecordCount: 2,
        records: [
          failedRecord('p-1', THROTTLED_RECORD_ERROR_CODE),
          failedRecord('p-2', THROTTLED_RECORD_ERROR_CODE),
        ],
      },
      stored: [],
    },
  });
  add({
    id: 'kinesis/throttled-and-failed',
    description:
      'one record throttled, one failed otherwise, none written: 207 (429 only when all were throttled)',
    tags: [T.KinesisFault, T.Stored],
    request: request('/v1/events', events(three.slice(0, 2))),
    kinesisFaults: [
      throttledRecords(['p-1']),
      {
        kind: 'failRecords',
        eventIds: ['p-2'],
        errorCode: 'KMSAccessDeniedException',
        errorMessage: 'Access denied to the key.',
      },
    ],
    expect: {
      status: 207,
      headers: CORS_HEADERS,
      body: {
        failedRecordCount: 2,
        records: [
          failedRecord('p-1', THROTTLED_RECORD_ERROR_CODE),
          failedRecord('p-2', 'KMSAccessDeniedException'),
        ],
      },
      stored: [],
    },
  });
  add({
    id: 'kinesis/call-failed-then-written',
    description: 'a PutRecords call that fails once as a whole (unavailable) is retried: 200',
    tags: [T.KinesisFault, T.Stored],
    request: request('/v1/events', events(three.slice(0, 1))),
    kinesisFaults: [
      {
        kind: 'failCalls',
        failure: 'unavailable',
        code: 'InternalFailure',
        message: 'Internal service failure.',
        times: 1,
      },
    ],
    expect: ok([{ eventId: 'p-1', dataJson: '{"n":1}' }]),
  });
  add({
    id: 'kinesis/single-throttled',
    description: '/v1/event throttled on every attempt: 429 with the error body, the eventId and Retry-After',
    tags: [T.KinesisFault, T.Stored],
    request: request('/v1/event', three[0]!),
    kinesisFaults: [throttledRecords(['p-1'])],
    expect: {
      ...failure(429, 'Throttled', { eventId: 'p-1', errorCode: THROTTLED_RECORD_ERROR_CODE }),
      headers: RETRY_LATER_HEADERS,
    },
  });
  add({
    id: 'kinesis/calls-throttled',
    description: 'every PutRecords call throttled as a whole: 429 with per-record results',
    tags: [T.KinesisFault, T.Stored],
    request: request('/v1/events', events(three.slice(0, 2))),
    kinesisFaults: [
      {
        kind: 'failCalls',
        failure: 'throttled',
        code: 'ProvisionedThroughputExceededException',
        message: 'Rate exceeded for stream.',
      },
    ],
    expect: {
      status: 429,
      headers: RETRY_LATER_HEADERS,
      body: {
        failedRecordCount: 2,
        records: [
          failedRecord('p-1', 'ProvisionedThroughputExceededException'),
          failedRecord('p-2', 'ProvisionedThroughputExceededException'),
        ],
      },
      stored: [],
    },
  });
  add({
    id: 'kinesis/upstream-unavailable',
    description: 'Kinesis unreachable before any record result: 503 with Retry-After, never 200',
    tags: [T.KinesisFault, T.Stored],
    request: request('/v1/events', events(three)),
    kinesisFaults: [KINESIS_UNAVAILABLE],
    expect: { ...failure(503, 'UpstreamUnavailable'), headers: RETRY_LATER_HEADERS },
  });
  add({
    id: 'kinesis/upstream-rejected',
    description: 'Kinesis refuses for good (missing stream): 502',
    tags: [T.KinesisFault, T.Stored],
    request: request('/v1/events', events(three)),
    kinesisFaults: [
      {
        kind: 'failCalls',
        failure: 'rejected',
        code: 'ResourceNotFoundException',
        message: 'Stream not found',
      },
    ],
    expect: failure(502, 'UpstreamRejected', { errorCode: 'ResourceNotFoundException' }),
  });
  add({
    id: 'kinesis/upstream-unavailable-single',
    description: '/v1/event with Kinesis unreachable: 503 with the eventId',
    tags: [T.KinesisFault, T.Stored],
    request: request('/v1/event', three[0]!),
    kinesisFaults: [KINESIS_UNAVAILABLE],
    expect: {
      ...failure(503, 'UpstreamUnavailable', { eventId: 'p-1' }),
      headers: RETRY_LATER_HEADERS,
    },
  });
  return v;
}

let cached: readonly IngestVector[] | undefined;

/**
 * Every request/response vector of the ingest API contract: the single source of truth that the
 * handler's tests, the local gateway, the Lambda adapter and the VTL templates replay. Built on first
 * call (some bodies are 10 MiB) and shared afterwards: do not mutate.
 *
 * @example
 * ```ts
 * for (const vector of ingestVectors()) {
 *   const writer = withKinesisFault(realOrFakeWriter, vector.kinesisFaults);
 *   const response = await gateway(vector.request); // configured with VECTOR_SETUP
 *   expect(checkVectorResponse(vector, response)).toEqual([]);
 * }
 * ```
 */
export function ingestVectors(): readonly IngestVector[] {
  cached ??= Object.freeze(build());
  return cached;
}
