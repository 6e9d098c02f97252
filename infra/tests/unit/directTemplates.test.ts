import { decodeEnvelope } from '@shardline/ingest';
import { InMemoryRecordWriter } from '@shardline/ingest/testing';
import {
  checkVectorResponse,
  checkVectorStored,
  type IngestVector,
  ingestVectors,
  VectorTag,
} from '@shardline/ingest/vectors';
import { describe, expect, it } from 'vitest';
import { inMemoryKinesis, runDirect } from '../helpers/directGateway.js';

// The direct mode's VTL templates against the contract vectors, with the documented exceptions
// (infra/README.md, "What the direct mode cannot do"). Each exception says why; none hides a
// failure: vectors outside the lists below must pass in full.

/** Not run here: answered by API Gateway before any template, or beyond what a template sees. */
const NOT_TEMPLATE_TAGS: Readonly<Partial<Record<VectorTag, string>>> = {
  [VectorTag.Routing]:
    'API Gateway answers unknown routes and methods itself (403, MISSING_AUTHENTICATION_TOKEN response)',
  [VectorTag.Cors]:
    'preflight is a mock integration; other answers carry one static Access-Control-Allow-Origin',
  [VectorTag.LargeBody]: "API Gateway's own 413 (REQUEST_TOO_LARGE) or its 10 MB cap, before any template",
  [VectorTag.Encoding]: 'gzip inflation, UTF-8 and surrogate checks happen in API Gateway, not in a template',
  [VectorTag.Depth]: 'a JSON Schema model has no nesting limit: 65 levels are written',
};

/** Run, with the direct mode's own documented answer. */
const DIFFERENT: Readonly<Record<string, { readonly status: number; readonly why: string }>> = {
  'kinesis/throttled-then-written': {
    status: 207,
    why: 'no retry in a template: the client retries the failed records',
  },
  'kinesis/call-failed-then-written': {
    status: 503,
    why: 'no retry in a template: the client retries the request',
  },
  'schema/duplicate-field': { status: 200, why: "API Gateway's parser keeps one of the duplicated fields" },
  'schema/partition-key-129-emoji': {
    status: 200,
    why: 'JSON Schema counts code points (129 ≤ 256); Kinesis accepts the key',
  },
};

/** Run, checking status and headers only. */
const STATUS_ONLY_TAGS: readonly VectorTag[] = [VectorTag.ProblemList, VectorTag.RecordSize];
const STATUS_ONLY_IDS: Readonly<Record<string, string>> = {
  'syntax/invalid-json':
    'API Gateway answers a parse error as BAD_REQUEST_BODY: 400 ValidationFailed, not InvalidBody',
  'syntax/empty-body': 'idem',
  'syntax/trailing-data': 'idem',
  'syntax/leading-zero': 'idem',
  'syntax/control-character': 'idem',
  'kinesis/calls-throttled':
    'a PutRecords call throttled as a whole has no per-record results: 429 with the error body',
};
/** Stored bytes re-serialised by `$input.json` (numbers and escapes are not kept as sent). */
const DATA_RESERIALISED = new Set([
  'values/big-integers',
  'values/big-integers-single',
  'values/escapes-kept',
]);

/** The answers of direct mode carry no `eventId` (a response template cannot see the request). */
function withoutEventIds(shape: unknown): unknown {
  if (Array.isArray(shape)) return shape.map(withoutEventIds);
  if (shape !== null && typeof shape === 'object' && !(shape instanceof RegExp)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(shape)) out[k] = k === 'eventId' ? undefined : withoutEventIds(v);
    return out;
  }
  return shape;
}

const vectors = ingestVectors();
const skipped = vectors.filter((v) => v.tags.some((t) => t in NOT_TEMPLATE_TAGS));
const run = vectors.filter((v) => !skipped.includes(v));

describe('direct mode: VTL templates against the contract vectors', () => {
  it.each(run.map((v) => [v.id, v] as const))('%s', async (_id, vector) => {
    const kinesis = new InMemoryRecordWriter({ shardCount: 4 });
    const { response, requestId, putRecords } = await runDirect(vector, inMemoryKinesis(kinesis));
    const different = DIFFERENT[vector.id];
    if (different) {
      expect(response.status).toBe(different.status);
      return;
    }
    const isStatusOnly =
      STATUS_ONLY_IDS[vector.id] !== undefined || vector.tags.some((t) => STATUS_ONLY_TAGS.includes(t));
    // The answer has no event ids to compare (`check` of generated-id vectors compares them); the
    // stored records below show the generated ids are distinct.
    const check = vector.tags.includes(VectorTag.GeneratedEventId) ? undefined : vector.expect.check;
    const expected: IngestVector = {
      ...vector,
      expect: { ...vector.expect, body: withoutEventIds(vector.expect.body), check },
    };
    expect(checkVectorResponse(expected, response, { target: 'api-gateway', isStatusOnly })).toEqual([]);
    // Never 200 for a failure.
    if (response.status === 200) expect(JSON.parse(String(response.body)).failedRecordCount ?? 0).toBe(0);
    if (vector.expect.stored === undefined || DATA_RESERIALISED.has(vector.id)) return;
    // Generated ids are `<requestId>:<index>`: hand them to the check as the answer's ids.
    const records = (putRecords?.Records ?? []).map((_, i) => ({ eventId: `${requestId}:${i}` }));
    const answerIds = vector.request.path === '/v1/event' ? (records[0] ?? {}) : { records };
    const stored = kinesis.records.map((r) => ({ partitionKey: r.partitionKey, data: r.data }));
    expect(checkVectorStored(vector, answerIds, stored)).toEqual([]);
  });

  it('documents every vector it does not run in full, and runs most of them', () => {
    for (const v of skipped) expect(v.tags.some((t) => NOT_TEMPLATE_TAGS[t] !== undefined)).toBe(true);
    const full = run.filter(
      (v) =>
        DIFFERENT[v.id] === undefined &&
        STATUS_ONLY_IDS[v.id] === undefined &&
        !v.tags.some((t) => STATUS_ONLY_TAGS.includes(t)) &&
        !DATA_RESERIALISED.has(v.id),
    );
    expect(full.length).toBeGreaterThanOrEqual(15);
  });

  it('stores the envelope with the request time as receivedAt (ISO-8601 UTC, milliseconds)', async () => {
    const vector = vectors.find((v) => v.id === 'media/case-and-parameters')!;
    const kinesis = new InMemoryRecordWriter();
    const before = Date.now();
    await runDirect(vector, inMemoryKinesis(kinesis));
    const envelope = decodeEnvelope(kinesis.records[0]!.data);
    expect(envelope.receivedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(envelope.receivedAtMs).toBeGreaterThanOrEqual(before);
    expect(envelope.receivedAtMs).toBeLessThanOrEqual(Date.now());
  });
});
