import { decodeEnvelope, KinesisRecordWriter } from '@shardline/ingest';
import { withKinesisFault } from '@shardline/ingest/testing';
import {
  checkVectorResponse,
  checkVectorStored,
  ingestVectors,
  VECTOR_SETUP,
} from '@shardline/ingest/vectors';
import { describe, expect, it } from 'vitest';
import { createApiGatewayIngestHandler } from '../../src/lambda/apiGatewayAdapter.js';
import { invocationBytes, LAMBDA_PAYLOAD_LIMIT_BYTES, proxyEventOf } from '../helpers/proxyEvent.js';
import { useTailedStream } from '../helpers/tailedStream.js';

// The `function` mode's Lambda handler, driven with the API Gateway proxy events of every contract
// vector, writing through the real Kinesis adapter to kinesalite; every record read back byte for byte.
const { client, streamName, tail } = useTailedStream('infra-lambda');

const context = { getRemainingTimeInMillis: () => 25_000 };
const vectors = ingestVectors().map((vector) => ({ vector, event: proxyEventOf(vector.request) }));
const reachingLambda = vectors.filter(({ event }) => invocationBytes(event) <= LAMBDA_PAYLOAD_LIMIT_BYTES);
const overLimit = vectors.filter(({ event }) => invocationBytes(event) > LAMBDA_PAYLOAD_LIMIT_BYTES);

describe('the ingest function on kinesalite, with proxy events built from the contract vectors', () => {
  it.each(reachingLambda.map(({ vector, event }) => [vector.id, vector, event] as const))(
    '%s',
    async (_id, vector, event) => {
      const writer = withKinesisFault(new KinesisRecordWriter({ client, streamName }), vector.kinesisFaults);
      const handler = createApiGatewayIngestHandler({
        recordWriter: writer,
        apiKeys: [VECTOR_SETUP.apiKey],
        allowedOrigins: VECTOR_SETUP.allowedOrigins,
        throttleRetry: { baseDelayMs: 5, maxDelayMs: 20 },
      });
      const result = await handler(event, context);
      expect(result.isBase64Encoded).toBe(false);
      const response = { status: result.statusCode, headers: result.headers, body: result.body };
      expect(checkVectorResponse(vector, response)).toEqual([]);
      const stored = await tail.drain();
      expect(checkVectorStored(vector, result.body, stored)).toEqual([]);
      if (result.statusCode === 200 && (vector.expect.stored?.length ?? 0) > 0) {
        const answer = JSON.parse(result.body) as {
          records?: { eventId: string; shardId: string; sequenceNumber: string }[];
        };
        for (const r of answer.records ?? [JSON.parse(result.body)]) {
          const found = stored.find((s) => decodeEnvelope(s.data).eventId === r.eventId);
          expect([found?.shardId, found?.sequenceNumber]).toEqual([r.shardId, r.sequenceNumber]);
        }
      }
      if (vector.kinesisFaults) expect(writer.faultHits).toBeGreaterThan(0);
    },
  );

  it("leaves bodies over Lambda's 6 MB payload limit to API Gateway's 413 (documented), and only those", () => {
    // These never reach the function: API Gateway answers them with the REQUEST_TOO_LARGE gateway
    // response, customised to {"error":"PayloadTooLarge"} (asserted in constructs.test.ts).
    expect(overLimit.map(({ vector }) => vector.id).sort()).toEqual([
      'order/media-type-before-size',
      'size/body-at-limit',
      'size/body-too-large',
      'size/split-into-several-calls',
    ]);
    for (const { vector } of overLimit) expect(vector.tags).toContain('large-body');
    expect(reachingLambda.length).toBeGreaterThan(60);
  });
});
