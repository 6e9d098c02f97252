import { GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-kinesis';
import { decodeEnvelope } from '@shardline/ingest';
import { LocalTwinClient, startLocalTwin } from '@shardline/local';
import { describe, expect, it } from 'vitest';

describe('the ingest gateway as a service of the twin', () => {
  it('creates its stream, accepts events with its key and writes envelopes to the stream', async () => {
    const stack = await startLocalTwin({
      dynamodb: false,
      s3: false,
      gateway: { streamName: 'ingest', shardCount: 2 },
    });
    try {
      const ingest = stack.info.ingest!;
      expect(ingest.url).toBe(stack.info.endpoints.ingest);
      expect(stack.env.SHARDLINE_INGEST_API_KEY).toBe(ingest.apiKey);
      expect(stack.services.map((s) => s.service).sort()).toEqual(['gateway', 'kinesis']);

      const refused = await fetch(`${ingest.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': 'wrong' },
        body: JSON.stringify({ records: [{ data: 1 }] }),
      });
      expect(refused.status).toBe(403);

      const events = Array.from({ length: 20 }, (_, i) => ({
        data: { n: i, id: 12345678901234567890n.toString() },
        eventId: `e-${i}`,
      }));
      const accepted = await fetch(`${ingest.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': ingest.apiKey },
        body: JSON.stringify({ records: events }),
      });
      expect(accepted.status).toBe(200);
      const answer = (await accepted.json()) as { failedRecordCount: number; records: { eventId: string }[] };
      expect(answer.failedRecordCount).toBe(0);
      expect(answer.records.map((r) => r.eventId)).toEqual(events.map((e) => e.eventId));

      // Read the stream through a separate client built from the plain info, as another process would.
      const reader = new LocalTwinClient(stack.info);
      const stream = await reader.waitForStream('ingest');
      expect(stream.shardIds).toHaveLength(2);
      const ids: string[] = [];
      for (const shardId of stream.shardIds) {
        const { ShardIterator } = await reader.kinesis.send(
          new GetShardIteratorCommand({
            StreamName: 'ingest',
            ShardId: shardId,
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        );
        const { Records = [] } = await reader.kinesis.send(new GetRecordsCommand({ ShardIterator }));
        for (const record of Records) ids.push(decodeEnvelope(record.Data!).eventId);
      }
      reader.close();
      expect(ids.sort()).toEqual(events.map((e) => e.eventId).sort());
    } finally {
      await stack.stop();
    }
  });

  it('refuses a gateway without Kinesis', async () => {
    await expect(startLocalTwin({ kinesis: false, gateway: true })).rejects.toThrow(
      /gateway: needs a Kinesis emulator/,
    );
  });
});
