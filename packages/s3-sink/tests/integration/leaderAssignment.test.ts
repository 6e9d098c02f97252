// `shardline-s3-sink --lease-assignment leader` on the local twin, run in-process through the CLI's own
// run function: the archive is checked against what was written to the stream (the bucket's objects,
// read back); the leader item and the leaseOwner index against DynamoDB itself.
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBLeaseStore } from '@shardline/consumer-core';
import { uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { afterEach, expect, it, vi } from 'vitest';
import { ExitCode } from '../../src/cli/cli.js';
import { checkExactlyOnce, defaultKeyPattern, putEvents, readObjects, until } from '../helpers/archive.js';
import { untilLeasesOwned, withSinkCli } from '../helpers/inProcessCli.js';

const local = useLocalTwin();
const { dynamodb, kinesis, s3 } = local;
afterEach(() => {
  vi.unstubAllEnvs();
});

it('--lease-assignment leader: the sink leads, finds its leases through the leaseOwner index, and archives every record once', async () => {
  const streamName = uniqueName('sink-leader');
  await local.createStream(streamName, { shardCount: 2 });
  const bucket = uniqueName('sink-leader');
  await local.createBucket(bucket);
  const app = uniqueName('sink-leader-app');
  const code = await withSinkCli(
    local,
    { streamName, bucket, app },
    ['--lease-assignment', 'leader'],
    {},
    async (sink) => {
      const store = new DynamoDBLeaseStore({ client: dynamodb, tableName: app });
      const coordinator = new DynamoDBLeaseStore({
        client: dynamodb,
        tableName: `${app}-ShardlineCoordinator`,
      });
      await untilLeasesOwned(store, 2, sink, 'both leases assigned');
      const [leader, owners] = [
        (await coordinator.getLease('leader'))?.leaseOwner,
        new Set((await store.listLeases()).map((l) => l.leaseOwner)),
      ];
      expect(leader).toBeDefined();
      expect([...owners]).toEqual([leader]);
      const table = await dynamodb.send(new DescribeTableCommand({ TableName: app }));
      expect(table.Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual([
        'LeaseOwnerToLeaseKeyIndex',
      ]);
      const written = await putEvents(kinesis, streamName, 120, { prefix: 'l' });
      const keyPattern = defaultKeyPattern(streamName);
      await until(
        async () => checkExactlyOnce(await readObjects(s3, bucket), written, keyPattern).length === 0,
        60_000,
        `every record archived (stderr so far: ${sink.stderr()})`,
      );
    },
  );
  expect(code).toBe(ExitCode.Ok);
}, 150_000);
