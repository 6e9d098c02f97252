import { fileURLToPath } from 'node:url';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { putEvents, runExample, sampleEvents } from '@shardline/example-testing';
import { uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { expect, it } from 'vitest';

const local = useLocalTwin();
const audit = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const minimal = fileURLToPath(new URL('../../../minimal-consumer/src/main.ts', import.meta.url));

async function checkpoints(table: string): Promise<Map<string, string>> {
  const { Items = [] } = await local.dynamodb.send(
    new ScanCommand({ TableName: table, ConsistentRead: true }),
  );
  return new Map(Items.map((i) => [i.leaseKey!.S!, i.checkpoint!.S!]));
}

it('reads the same stream as another application, with its own checkpoints, and resumes from them', async () => {
  const stream = await local.createStream(uniqueName('two-apps'), { shardCount: 2 });
  const events = sampleEvents(1_000);
  const purchases = events.filter((e) => e.data.event_type === 'purchase').map((e) => e.eventId);
  expect(purchases.length).toBeGreaterThan(0);
  await putEvents(local, stream.streamName, events);
  const auditApp = uniqueName('audit');
  const printerApp = uniqueName('printer');

  // Both applications at once on the same stream.
  const first = runExample(audit, local, { SHARDLINE_STREAM: stream.streamName, SHARDLINE_APP: auditApp });
  const printer = runExample(minimal, local, {
    SHARDLINE_STREAM: stream.streamName,
    SHARDLINE_APP: printerApp,
  });
  try {
    const audited = () => [...first.output().matchAll(/^purchase (\S+) /gm)].map((m) => m[1]!);
    await first.waitFor(() => audited().length >= purchases.length);
    await printer.waitFor((out) => (out.match(/^event /gm) ?? []).length >= events.length);
    expect(audited().sort()).toEqual([...purchases].sort());
    first.child.kill('SIGTERM');
    printer.child.kill('SIGTERM');
    expect(await first.exit()).toBe(0);
    expect(await printer.exit()).toBe(0);
  } finally {
    first.child.kill('SIGKILL');
    printer.child.kill('SIGKILL');
  }

  // Two lease tables, each with its own checkpoint per shard, both at the end of what they read.
  const auditCheckpoints = await checkpoints(auditApp);
  const printerCheckpoints = await checkpoints(printerApp);
  expect([...auditCheckpoints.keys()].sort()).toEqual([...stream.shardIds].sort());
  expect([...printerCheckpoints.keys()].sort()).toEqual([...stream.shardIds].sort());

  // More events arrive; the audit app restarts and sees only the new purchases: it resumed from its
  // own checkpoints, whatever the other application did.
  const more = sampleEvents(1_000).map((e) => ({ ...e, eventId: `${e.eventId}-again` }));
  await putEvents(local, stream.streamName, more);
  const second = runExample(audit, local, { SHARDLINE_STREAM: stream.streamName, SHARDLINE_APP: auditApp });
  try {
    const audited = () => [...second.output().matchAll(/^purchase (\S+) /gm)].map((m) => m[1]!);
    await second.waitFor(() => audited().length >= purchases.length);
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // time to print anything it should not
    expect(audited().sort()).toEqual(purchases.map((id) => `${id}-again`).sort());
    second.child.kill('SIGTERM');
    expect(await second.exit()).toBe(0);
  } finally {
    second.child.kill('SIGKILL');
  }
  // The printer application's checkpoints did not move: nobody read for it.
  expect(await checkpoints(printerApp)).toEqual(printerCheckpoints);
});
