// `shardline-s3-sink --lease-assignment leader` on the local twin, run in-process through the CLI's own
// run function: the archive is checked against what was written to the stream (the bucket's objects,
// read back); the leader item and the leaseOwner index against DynamoDB itself.
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBLeaseStore } from '@shardline/consumer-core';
import { uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { afterEach, expect, it, vi } from 'vitest';
import { ExitCode, runCli } from '../../src/cli/cli.js';
import { checkExactlyOnce, putEvents, readObjects, until } from '../helpers/archive.js';

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
  for (const [name, value] of Object.entries(local.env)) vi.stubEnv(name, value);
  const stop = new AbortController();
  let stderr = '';
  let hasExited = false;
  const exit = runCli(
    [
      '--stream',
      streamName,
      '--bucket',
      bucket,
      '--app',
      app,
      '--lease-assignment',
      'leader',
      '--buffer-interval-ms',
      '500',
      '--buffer-size-bytes',
      '4096',
      '--region',
      local.info.region,
      '--kinesis-endpoint',
      local.info.endpoints.kinesis!,
      '--dynamodb-endpoint',
      local.info.endpoints.dynamodb!,
      '--s3-endpoint',
      local.info.endpoints.s3!,
    ],
    {
      env: { ...local.env },
      stdout: () => {},
      stderr: (text) => {
        stderr += text;
      },
      signal: stop.signal,
    },
  ).finally(() => {
    hasExited = true;
  });
  const running = () => {
    if (hasExited) throw new Error(`the sink exited: ${stderr}`);
  };
  try {
    const store = new DynamoDBLeaseStore({ client: dynamodb, tableName: app });
    const coordinator = new DynamoDBLeaseStore({
      client: dynamodb,
      tableName: `${app}-ShardlineCoordinator`,
    });
    await until(
      async () => {
        running();
        try {
          return (await store.listLeases()).filter((l) => l.leaseOwner !== undefined).length === 2;
        } catch {
          return false; // the table is being created
        }
      },
      30_000,
      'both leases assigned',
    );
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
    const keyPattern = new RegExp(
      `^\\d{4}/\\d{2}/\\d{2}/\\d{2}/${streamName}-(?<shard>shardId-\\d+)-(?<seq>\\d+)$`,
    );
    await until(
      async () => checkExactlyOnce(await readObjects(s3, bucket), written, keyPattern).length === 0,
      60_000,
      `every record archived (stderr so far: ${stderr})`,
    );
  } catch (error) {
    console.error(stderr);
    throw error;
  } finally {
    stop.abort();
  }
  expect(await exit).toBe(ExitCode.Ok);
}, 150_000);
