import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { StreamTail } from '@shardline/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngestHandler, decodeEnvelope, KinesisRecordWriter } from '../../src/index.js';
import { checkVectorResponse, checkVectorStored, ingestVectors } from '../../src/vectors/index.js';
import { createStream, deleteStream, localKinesisClient, uniqueStreamName } from '../helpers/localKinesis.js';
import { replayVector } from '../helpers/replayVector.js';

let client: KinesisClient;
let streamName: string;
let shardIds: string[];
let tail: StreamTail;

beforeAll(async () => {
  client = localKinesisClient();
  streamName = uniqueStreamName('ingest-vectors');
  shardIds = await createStream(client, streamName, 4);
  tail = new StreamTail(client, streamName);
  await tail.start(shardIds);
});

afterAll(async () => {
  await deleteStream(client, streamName);
  client.destroy();
});

describe('the handler with the real Kinesis adapter on kinesalite', () => {
  const vectors = ingestVectors();

  it.each(vectors.map((v) => [v.id, v] as const))('%s', async (_id, vector) => {
    const { response, writer } = await replayVector(vector, new KinesisRecordWriter({ client, streamName }), {
      baseDelayMs: 5,
      maxDelayMs: 20,
    });
    expect(checkVectorResponse(vector, response)).toEqual([]);
    const stored = await tail.drain();
    // Every record read back is byte for byte the envelope the vector expects, on the shard answered.
    expect(checkVectorStored(vector, response.body, stored)).toEqual([]);
    if (response.status === 200 && vector.expect.stored && vector.expect.stored.length > 0) {
      const answered = JSON.parse(response.body) as {
        records?: { eventId: string; shardId: string; sequenceNumber: string }[];
      };
      const results = answered.records ?? [JSON.parse(response.body)];
      for (const result of results) {
        const found = stored.find((r) => decodeEnvelope(r.data).eventId === result.eventId);
        expect(found?.shardId).toBe(result.shardId);
        expect(found?.sequenceNumber).toBe(result.sequenceNumber);
      }
    }
    if (vector.kinesisFaults) expect(writer.faultHits).toBeGreaterThan(0);
  });

  it('answers 502 with the AWS code when the stream does not exist', async () => {
    const handle = createIngestHandler({
      recordWriter: new KinesisRecordWriter({ client, streamName: uniqueStreamName('missing') }),
      apiKeys: ['k'],
    });
    const response = await handle({
      method: 'POST',
      path: '/v1/events',
      headers: { 'content-type': 'application/json', 'x-api-key': 'k' },
      body: Buffer.from('{"records":[{"data":1}]}'),
    });
    expect(response.status).toBe(502);
    expect(JSON.parse(response.body)).toMatchObject({
      error: 'UpstreamRejected',
      errorCode: 'ResourceNotFoundException',
    });
  });
});
