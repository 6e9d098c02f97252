// `shardline-s3-sink --fan-out <consumerName>` on kinesis-local (the only emulator here with
// SubscribeToShard), run in-process through the CLI's own run function, as the binary runs it. The
// archive is checked against what was written to the stream (the bucket's objects, read back), the
// registration against the stream's consumer list, the mode against the lease items.
import { ListStreamConsumersCommand } from '@aws-sdk/client-kinesis';
import { DynamoDBLeaseStore, RETRIEVAL_ATTRIBUTE } from '@shardline/consumer-core';
import { uniqueName } from '@shardline/local';
import { useFaithfulKinesis, useLocalTwin } from '@shardline/local/vitest';
import { afterEach, expect, it, vi } from 'vitest';
import { ExitCode, runCli } from '../../src/cli/cli.js';
import { checkExactlyOnce, defaultKeyPattern, putEvents, readObjects, until } from '../helpers/archive.js';
import { untilLeasesOwned, withSinkCli } from '../helpers/inProcessCli.js';

const local = useLocalTwin();
const faithful = useFaithfulKinesis();
const { kinesis } = faithful;
const { dynamodb, s3 } = local;
afterEach(() => {
  vi.unstubAllEnvs();
});

it('--fan-out registers the consumer, archives every record once through it, and records fanOut:<name> on the leases', async () => {
  const streamName = uniqueName('sink-fanout');
  const stream = await faithful.createStream(streamName, { shardCount: 2 });
  const bucket = uniqueName('sink-fanout');
  await local.createBucket(bucket);
  const app = uniqueName('sink-fanout-app');
  const consumerName = uniqueName('sink-fanout-consumer');
  let objectsWritten = 0;
  const code = await withSinkCli(
    local,
    { streamName, bucket, app },
    ['--fan-out', consumerName, '--events'],
    {
      kinesisEndpoint: faithful.info.endpoints.kinesis!,
      stdout: (text) => {
        objectsWritten += (text.match(/"type":"OBJECT_WRITTEN"/g) ?? []).length;
      },
    },
    async (sink) => {
      // The sink registers the consumer before reading: wait for it, then for both shards' leases.
      await until(
        async () =>
          sink.assertRunning() ??
          (
            await kinesis.send(new ListStreamConsumersCommand({ StreamARN: stream.streamArn }))
          ).Consumers?.some((c) => c.ConsumerName === consumerName && c.ConsumerStatus === 'ACTIVE') ??
          false,
        30_000,
        `consumer ${consumerName} ACTIVE`,
      );
      const store = new DynamoDBLeaseStore({ client: dynamodb, tableName: app });
      await untilLeasesOwned(store, 2, sink, 'both leases taken');
      const written = await putEvents(kinesis, streamName, 120, { prefix: 'f' });
      const keyPattern = defaultKeyPattern(streamName);
      // kinesis-local pushes on a one-second poll: give it time.
      await until(
        async () => {
          const objects = await readObjects(s3, bucket);
          return checkExactlyOnce(objects, written, keyPattern).length === 0;
        },
        60_000,
        `every record archived (stderr so far: ${sink.stderr()})`,
      );
      expect(objectsWritten).toBeGreaterThan(0);
      const leases = await store.listLeases();
      expect(
        leases.map((l) => (l.unknownAttributes[RETRIEVAL_ATTRIBUTE] as { S?: string } | undefined)?.S),
      ).toEqual([`fanOut:${consumerName}`, `fanOut:${consumerName}`]);
    },
  );
  expect(code).toBe(ExitCode.Ok);
}, 150_000);

it('--fan-out refuses a polling flag and a bad consumer name, before any call', async () => {
  const run = async (...extra: string[]) => {
    let stderr = '';
    const code = await runCli(['--stream', 's', '--bucket', 'b-bucket', '--region', 'us-east-1', ...extra], {
      env: {},
      stdout: () => {},
      stderr: (text) => {
        stderr += text;
      },
      signal: AbortSignal.abort(),
    });
    return { code, stderr };
  };
  const both = await run('--fan-out', 'archive', '--idle-time-between-reads-ms', '100');
  expect(both.code).toBe(ExitCode.Usage);
  expect(both.stderr).toContain('idleTimeBetweenReadsMs');
  const badName = await run('--fan-out', 'not a name!');
  expect(badName.code).toBe(ExitCode.Usage);
  expect(badName.stderr).toContain('consumerName');
});
