// `shardline consumers list|deregister` and the retrieval mode in `shardline status`, on kinesis-local
// (kinesalite has no consumer APIs) and dynalite. The first test's workers are stand-ins that renew a
// lease and record their retrieval the way workers do (the `shardlineRetrieval` lease attribute), so
// liveness is under the test's control; the second runs a real fan-out consumer. The registry is checked
// with the SDK's own calls, not the CLI's.
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamConsumerCommand,
  ListStreamConsumersCommand,
  RegisterStreamConsumerCommand,
} from '@aws-sdk/client-kinesis';
import { uniqueName } from '@shardline/local';
import { until } from '@shardline/test-kit';
import { expect, it } from 'vitest';
import type { ShardStatusRow } from '../../src/cli/shardStatus.js';
import { DynamoDBLeaseStore, type Lease } from '../../src/index.js';
import { clearExitCodeAfterEach, cliWorker, endpointArgs, shardline } from '../helpers/cli.js';
import { makeRecords, putRecords, runCollectingBodies, useTwins } from '../helpers/localTwin.js';

const { local, faithful, kinesis, dynamodb } = useTwins('faithful');
clearExitCodeAfterEach();

const endpoints = () => endpointArgs(faithful, local);

/** `shardline consumers deregister` of `consumerName` on `streamName`, with `extra` flags. */
const deregister = (streamName: string, consumerName: string, ...extra: string[]) =>
  shardline(
    'consumers',
    'deregister',
    '--stream',
    streamName,
    '--consumer',
    consumerName,
    '--watch-ms',
    '1500',
    ...endpoints(),
    ...extra,
  );

/** `shardline status --no-lag` of `app` on `streamName`, with `extra` flags. */
const status = (streamName: string, app: string, ...extra: string[]) =>
  shardline(
    'status',
    '--app',
    app,
    '--stream',
    streamName,
    '--watch-ms',
    '1500',
    '--no-lag',
    ...endpoints(),
    ...extra,
  );

async function register(streamArn: string, consumerName: string): Promise<string> {
  const { Consumer } = await kinesis.send(
    new RegisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: consumerName }),
  );
  const arn = Consumer!.ConsumerARN!;
  await until(
    async () =>
      (await kinesis.send(new DescribeStreamConsumerCommand({ ConsumerARN: arn }))).ConsumerDescription
        ?.ConsumerStatus === 'ACTIVE',
    20_000,
    `${consumerName} ACTIVE`,
  );
  return arn;
}

async function registeredNames(streamArn: string): Promise<string[]> {
  const { Consumers } = await kinesis.send(new ListStreamConsumersCommand({ StreamARN: streamArn }));
  return (Consumers ?? []).map((c) => c.ConsumerName!).sort();
}

/**
 * A stand-in worker: one lease per shard taken by `owner`, its retrieval recorded, renewed every 300 ms
 * (well inside the CLI's watch) until `stop()`.
 */
async function standInWorker(
  tableName: string,
  shardIds: readonly string[],
  owner: string,
  retrieval: string,
): Promise<{ stop(): Promise<void>; renewals(): number }> {
  const store = new DynamoDBLeaseStore({ client: dynamodb, tableName });
  await store.initialize();
  const held: Lease[] = [];
  for (const shardId of shardIds) {
    await store.createLeaseIfNotExists({
      leaseKey: shardId,
      checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 },
      parentShardIds: [],
      hashKeyRange: undefined,
    });
    await dynamodb.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { leaseKey: { S: shardId } },
        UpdateExpression: 'SET shardlineRetrieval = :r',
        ExpressionAttributeValues: { ':r': { S: retrieval } },
      }),
    );
    const lease = (await store.getLease(shardId))!;
    held.push((await store.takeLease(lease, owner))!);
  }
  let renewals = 0;
  let isRunning = true;
  const loop = (async () => {
    while (isRunning) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (let i = 0; i < held.length; i++) {
        const renewed = await store.renewLease(held[i]!);
        if (renewed) {
          held[i] = renewed;
          renewals += 1;
        }
      }
    }
  })();
  return {
    stop: async () => {
      isRunning = false;
      await loop;
    },
    renewals: () => renewals,
  };
}

it('consumers list shows every registered consumer; deregister prints a plan, refuses while a lease table reads through the consumer, then deregisters with --yes', async () => {
  const streamName = uniqueName('cli-consumers');
  const stream = await faithful.createStream(streamName, { shardCount: 2 });
  const fanOutApp = uniqueName('cli-fanout-app');
  const pollingApp = uniqueName('cli-polling-app');
  const other = uniqueName('cli-other');
  await register(stream.streamArn, fanOutApp);
  await register(stream.streamArn, other);

  const listed = await shardline('consumers', 'list', '--stream', streamName, ...endpoints());
  expect(listed.exitCode).toBe(0);
  expect(listed.out).toMatch(/CONSUMER\s+STATUS\s+REGISTERED\s+ARN/);
  expect(listed.out).toContain(fanOutApp);
  expect(listed.out).toContain(other);
  expect(listed.out).toContain('2 of at most 20 registered consumers');
  const json = JSON.parse(
    (await shardline('consumers', 'list', '--stream', streamName, '--json', ...endpoints())).out,
  ) as { streamArn: string; consumers: { consumerName: string; status: string; consumerArn: string }[] };
  expect(json.streamArn).toBe(stream.streamArn);
  expect(json.consumers.map((c) => [c.consumerName, c.status]).sort()).toEqual(
    [
      [fanOutApp, 'ACTIVE'],
      [other, 'ACTIVE'],
    ].sort(),
  );

  // One application reads through its consumer (named like it, the default), another polls.
  const fanOutWorker = await standInWorker(fanOutApp, stream.shardIds, 'worker-f', `fanOut:${fanOutApp}`);
  const pollingWorker = await standInWorker(pollingApp, stream.shardIds, 'worker-p', 'polling');
  try {
    // Default: the table named like the consumer is checked.
    const refused = await deregister(streamName, fanOutApp, '--yes');
    expect(refused.exitCode).toBe(2);
    expect(refused.out).toContain(`Refusing: ${fanOutApp} reads through ${fanOutApp}`);
    expect(refused.out).toContain(`fanOut:${fanOutApp}`);
    // A polling application does not hold the consumer; the fan-out one named with --app does.
    const named = await deregister(streamName, fanOutApp, '--app', pollingApp, '--app', fanOutApp, '--yes');
    expect(named.exitCode).toBe(2);
    expect(named.out).toContain(`Lease table ${pollingApp}: no live lease reads through ${fanOutApp}`);
    expect(named.out).toContain(`Refusing: ${fanOutApp} reads through`);
    expect(await registeredNames(stream.streamArn)).toEqual([fanOutApp, other].sort());

    // status shows each application's mode (and per lease).
    const fanOutStatus = await status(streamName, fanOutApp);
    expect(fanOutStatus.out).toContain(`Retrieval: enhanced fan-out (consumer ${fanOutApp})`);
    expect(fanOutStatus.out).toMatch(/FAILURES\s+RETRIEVAL/);
    expect((await status(streamName, pollingApp)).out).toContain('Retrieval: polling');
    const statusJson = JSON.parse((await status(streamName, fanOutApp, '--json')).out) as {
      retrieval: { modes: Record<string, number>; unrecorded: number };
      shards: ShardStatusRow[];
    };
    expect(statusJson.retrieval).toEqual({ modes: { [`fanOut:${fanOutApp}`]: 2 }, unrecorded: 0 });
    expect(statusJson.shards.map((r) => r.retrieval)).toEqual([`fanOut:${fanOutApp}`, `fanOut:${fanOutApp}`]);
    expect(fanOutWorker.renewals()).toBeGreaterThan(0);
  } finally {
    await fanOutWorker.stop();
    await pollingWorker.stop();
  }

  // Workers stopped (their leases no longer renewed): a plan without --yes writes nothing.
  const plan = await deregister(streamName, fanOutApp);
  expect(plan.exitCode).toBe(1);
  expect(plan.out).toContain(`Lease table ${fanOutApp}: no live lease reads through ${fanOutApp}`);
  expect(plan.out).toContain('Warning: only the lease table');
  expect(plan.out).toContain('Nothing written. Re-run with --yes to apply.');
  expect(await registeredNames(stream.streamArn)).toEqual([fanOutApp, other].sort());

  const done = await deregister(streamName, fanOutApp, '--yes');
  expect(done.out).toContain(`Deregistered ${fanOutApp}.`);
  expect(done.exitCode).toBe(0);
  expect(await registeredNames(stream.streamArn)).toEqual([other]);

  // A consumer that is not registered: nothing to do.
  const missing = await deregister(streamName, fanOutApp, '--yes');
  expect(missing.exitCode).toBe(1);
  expect(missing.out).toContain('has no registered consumer named');
}, 120_000);

it('a real fan-out consumer: status shows its mode, deregister refuses while it runs and succeeds once it stopped', async () => {
  const streamName = uniqueName('cli-fanout-real');
  const stream = await faithful.createStream(streamName, { shardCount: 1 });
  const app = uniqueName('cli-fanout-real-app');
  const consumer = cliWorker({ kinesis, dynamodb }, streamName, app, { retrieval: { fanOut: {} } });
  const seen = await runCollectingBodies(consumer);
  try {
    const written = await putRecords(kinesis, streamName, makeRecords(10, 'real'));
    await until(() => seen.length >= written.length, 60_000, 'records through the subscription');
    expect((await status(streamName, app)).out).toContain(`Retrieval: enhanced fan-out (consumer ${app})`);
    const refused = await deregister(streamName, app, '--yes');
    expect(refused.exitCode).toBe(2);
    expect(refused.out).toContain(`Refusing: ${app} reads through ${app}`);
    expect(await registeredNames(stream.streamArn)).toEqual([app]);
  } finally {
    await consumer.stop();
  }
  // Stopped: its lease was released (unowned, no counter moving), so nothing reads through it.
  const done = await deregister(streamName, app, '--yes');
  expect(done.exitCode).toBe(0);
  expect(await registeredNames(stream.streamArn)).toEqual([]);
}, 120_000);
