import { fileURLToPath } from 'node:url';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { ListStreamConsumersCommand } from '@aws-sdk/client-kinesis';
import { putEvents, runExample, sampleEvents } from '@shardline/example-testing';
import { uniqueName } from '@shardline/local';
import { useFaithfulKinesis, useLocalTwin } from '@shardline/local/vitest';
import { expect, it } from 'vitest';

// kinesis-local for Kinesis (kinesalite has no fan-out), dynalite for the lease tables.
const local = useLocalTwin();
const faithful = useFaithfulKinesis();
const example = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

async function leases(table: string): Promise<{ shardId: string; retrieval: string | undefined }[]> {
  const { Items = [] } = await local.dynamodb.send(
    new ScanCommand({ TableName: table, ConsistentRead: true }),
  );
  return Items.map((i) => ({ shardId: i.leaseKey!.S!, retrieval: i.shardlineRetrieval?.S })).sort((a, b) =>
    a.shardId.localeCompare(b.shardId),
  );
}

it('one application reads with enhanced fan-out, the other polls: each sees every event, each records its mode', async () => {
  const stream = await faithful.createStream(uniqueName('fan-out-example'), { shardCount: 2 });
  const events = sampleEvents(400);
  const purchases = events.filter((e) => e.data.event_type === 'purchase').map((e) => e.eventId);
  expect(purchases.length).toBeGreaterThan(0);
  await putEvents(faithful, stream.streamName, events);
  const alertsApp = uniqueName('alerts');
  const reportApp = uniqueName('report');

  const run = runExample(example, local, {
    ...faithful.env, // Kinesis: kinesis-local
    AWS_ENDPOINT_URL_DYNAMODB: local.info.endpoints.dynamodb!,
    SHARDLINE_STREAM: stream.streamName,
    SHARDLINE_FAN_OUT_APP: alertsApp,
    SHARDLINE_POLLING_APP: reportApp,
  });
  try {
    const alerted = () => [...run.output().matchAll(/^\[fan-out\] purchase (\S+) /gm)].map((m) => m[1]!);
    const reported = () => [...run.output().matchAll(/^\[polling\] event (\S+) /gm)].map((m) => m[1]!);
    // kinesis-local pushes on a one-second poll: generous time on a loaded machine.
    await run.waitFor(
      () => alerted().length >= purchases.length && reported().length >= events.length,
      90_000,
    );
    expect(run.output()).toMatch(/^\[fan-out\] subscribed to shardId-/m);
    expect(alerted().sort()).toEqual([...purchases].sort());
    expect(new Set(reported())).toEqual(new Set(events.map((e) => e.eventId)));
    run.child.kill('SIGTERM');
    expect(await run.exit()).toBe(0);
    expect(run.output()).toMatch(/^stopped \(report: /m);
  } finally {
    run.child.kill('SIGKILL');
  }

  // The stream's registry and each application's lease table tell the modes, independently of the app.
  const { Consumers = [] } = await faithful.kinesis.send(
    new ListStreamConsumersCommand({ StreamARN: stream.streamArn }),
  );
  expect(Consumers.map((c) => c.ConsumerName)).toEqual([alertsApp]);
  expect((await leases(alertsApp)).map((l) => l.retrieval)).toEqual([
    `fanOut:${alertsApp}`,
    `fanOut:${alertsApp}`,
  ]);
  expect((await leases(reportApp)).map((l) => l.retrieval)).toEqual(['polling', 'polling']);
}, 150_000);
