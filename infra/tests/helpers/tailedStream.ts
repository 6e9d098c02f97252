import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { type LocalTwinClient, uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { StreamTail } from '@shardline/test-kit';
import { afterAll, beforeAll } from 'vitest';

/** A stream of the run's local twin for one test file, with a tail reading it from its start. */
export interface TailedStream {
  readonly local: LocalTwinClient;
  readonly client: KinesisClient;
  readonly streamName: string;
  readonly tail: StreamTail;
}

/** Creates the stream before the file's tests (`beforeAll`) and deletes it after them. */
export function useTailedStream(prefix: string, shardCount = 4): TailedStream {
  const local = useLocalTwin();
  const streamName = uniqueName(prefix);
  const tail = new StreamTail(local.kinesis, streamName);
  beforeAll(async () => {
    const stream = await local.createStream(streamName, { shardCount });
    await tail.start(stream.shardIds);
  });
  afterAll(() => local.deleteStream(streamName));
  return { local, client: local.kinesis, streamName, tail };
}
