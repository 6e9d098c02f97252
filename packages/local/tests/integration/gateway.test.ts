import { request as httpRequest } from 'node:http';
import { GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-kinesis';
import { withKinesisFault } from '@shardline/ingest/testing';
import {
  checkVectorResponse,
  checkVectorStored,
  type IngestVector,
  ingestVectors,
  type StoredRecordView,
  VECTOR_SETUP,
} from '@shardline/ingest/vectors';
import { startIngestGateway, uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { describe, expect, it } from 'vitest';

const local = useLocalTwin();
const { kinesis } = local;

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends the vector's request byte for byte (fetch would add or normalise headers). */
function send(url: string, vector: IngestVector): Promise<RawResponse> {
  const { method, path, headers, body } = vector.request;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${url}${path}`,
      { method, headers: { ...headers, 'content-length': body.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body.length > 0 ? body : undefined);
  });
}

async function readStream(streamName: string, shardId: string): Promise<StoredRecordView[]> {
  const { ShardIterator } = await kinesis.send(
    new GetShardIteratorCommand({
      StreamName: streamName,
      ShardId: shardId,
      ShardIteratorType: 'TRIM_HORIZON',
    }),
  );
  const { Records = [] } = await kinesis.send(new GetRecordsCommand({ ShardIterator, Limit: 10_000 }));
  return Records.map((r) => ({ partitionKey: r.PartitionKey!, data: r.Data! }));
}

describe('the local ingest gateway passes every contract vector', () => {
  it.each(ingestVectors().map((v) => [v.id, v] as const))('%s', async (_id, vector) => {
    // A fresh one-shard stream per vector, so that what it stored is exactly what is read back.
    const stream = await local.createStream(uniqueName('vector'), { shardCount: 1 });
    const gateway = await startIngestGateway({
      kinesisClient: kinesis,
      streamName: stream.streamName,
      apiKeys: [VECTOR_SETUP.apiKey],
      allowedOrigins: VECTOR_SETUP.allowedOrigins,
      wrapRecordWriter: (writer) => withKinesisFault(writer, vector.kinesisFaults),
    });
    try {
      const response = await send(gateway.url, vector);
      expect(checkVectorResponse(vector, response)).toEqual([]);
      if (vector.expect.stored !== undefined) {
        const stored = await readStream(stream.streamName, stream.shardIds[0]!);
        expect(checkVectorStored(vector, response.body, stored)).toEqual([]);
      }
    } finally {
      await gateway.close();
      await local.deleteStream(stream.streamName);
    }
  });
});
