import { decodeEnvelope } from '@shardline/ingest';
import { checkVectorResponse, checkVectorStored, ingestVectors, VectorTag } from '@shardline/ingest/vectors';
import { uniqueName } from '@shardline/local';
import { describe, expect, it } from 'vitest';
import { type KinesisBackend, runDirect } from '../helpers/directGateway.js';
import { useTailedStream } from '../helpers/tailedStream.js';

// The direct mode's templates against a real Kinesis wire: the PutRecords body the request template
// builds goes to kinesalite as API Gateway sends it (AWS JSON 1.1, X-Amz-Target), and kinesalite's raw
// answer goes through the response templates. Vectors that need injected faults, or that API Gateway
// answers before any template, are covered by tests/unit/directTemplates.test.ts.
const { local, streamName, tail } = useTailedStream('infra-direct');

/** kinesalite over HTTP, as API Gateway's AWS integration calls Kinesis (the signature is not checked). */
const kinesalite: KinesisBackend = async (_vector, body) => {
  const response = await fetch(local.info.endpoints.kinesis!, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'Kinesis_20131202.PutRecords',
      'x-amz-date': '20260101T000000Z',
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=00',
    },
    body,
  });
  return { status: response.status, body: await response.text() };
};

const SKIP_TAGS: readonly VectorTag[] = [
  VectorTag.Routing,
  VectorTag.Cors,
  VectorTag.LargeBody,
  VectorTag.Encoding,
  VectorTag.Depth,
  VectorTag.ProblemList,
  VectorTag.KinesisFault,
];
/** `$input.json` re-serialises numbers and escapes (README: what the direct mode cannot do). */
const DATA_RESERIALISED = new Set([
  'values/big-integers',
  'values/big-integers-single',
  'values/escapes-kept',
]);
/**
 * kinesalite checks a record's data against 1 MiB, not data + partition key as Kinesis does: a record
 * over the limit only with its key is accepted here (the unit test models Kinesis's rule).
 */
const KINESALITE_LENIENT = new Set(['size/record-too-large']);
const vectors = ingestVectors().filter(
  (v) =>
    !v.tags.some((t) => SKIP_TAGS.includes(t)) &&
    v.request.headers['x-api-key'] !== undefined &&
    !KINESALITE_LENIENT.has(v.id),
);

function withoutEventIds(shape: unknown): unknown {
  if (Array.isArray(shape)) return shape.map(withoutEventIds);
  if (shape !== null && typeof shape === 'object' && !(shape instanceof RegExp)) {
    return Object.fromEntries(
      Object.entries(shape).map(([k, v]) => [k, k === 'eventId' ? undefined : withoutEventIds(v)]),
    );
  }
  return shape;
}

describe('direct mode templates with kinesalite on the wire', () => {
  it.each(vectors.map((v) => [v.id, v] as const))('%s', async (_id, vector) => {
    const { response, requestId, putRecords } = await runDirect(vector, kinesalite, streamName);
    const stored = await tail.drain(); // before any assertion: the next vector starts clean
    const check = vector.tags.includes(VectorTag.GeneratedEventId) ? undefined : vector.expect.check;
    const isStatusOnly = vector.tags.includes(VectorTag.RecordSize) || vector.id.startsWith('syntax/');
    const expected = {
      ...vector,
      expect: { ...vector.expect, body: withoutEventIds(vector.expect.body), check },
    };
    expect(checkVectorResponse(expected, response, { target: 'api-gateway', isStatusOnly })).toEqual([]);
    if (vector.expect.stored === undefined || DATA_RESERIALISED.has(vector.id)) return;
    const records = (putRecords?.Records ?? []).map((_, i) => ({ eventId: `${requestId}:${i}` }));
    expect(
      checkVectorStored(
        vector,
        vector.request.path === '/v1/event' ? (records[0] ?? {}) : { records },
        stored,
      ),
    ).toEqual([]);
    // Results in request order: each answered shard and sequence number is where the record landed.
    if (response.status === 200 && stored.length > 0) {
      const body = JSON.parse(String(response.body)) as {
        records?: { shardId: string; sequenceNumber: string }[];
      };
      const results = body.records ?? [body as { shardId: string; sequenceNumber: string }];
      results.forEach((result, i) => {
        const eventId = vector.expect.stored?.[i]?.eventId ?? records[i]?.eventId;
        const found = stored.find((s) => decodeEnvelope(s.data).eventId === eventId);
        expect([found?.shardId, found?.sequenceNumber]).toEqual([result.shardId, result.sequenceNumber]);
      });
    }
  });

  it("maps a missing stream to 502 UpstreamRejected with Kinesis's code", async () => {
    const vector = vectors.find((v) => v.id === 'media/case-and-parameters')!;
    const { response } = await runDirect(vector, kinesalite, uniqueName('missing'));
    expect(response.status).toBe(502);
    expect(JSON.parse(String(response.body))).toMatchObject({
      error: 'UpstreamRejected',
      errorCode: 'ResourceNotFoundException',
    });
  });
});
