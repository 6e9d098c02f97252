import { fileURLToPath } from 'node:url';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { putEvents, runExample, sampleEvents } from '@shardline/example-testing';
import { uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { expect, it } from 'vitest';

const local = useLocalTwin();
const entry = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

it('prints every event once, checkpoints, and stops gracefully releasing its leases', async () => {
  const stream = await local.createStream(uniqueName('minimal'), { shardCount: 2 });
  const app = uniqueName('minimal-app');
  const events = sampleEvents(300);
  await putEvents(local, stream.streamName, events);

  const example = runExample(entry, local, { SHARDLINE_STREAM: stream.streamName, SHARDLINE_APP: app });
  try {
    const seen = () => [...example.output().matchAll(/^event (\S+) (\S+)$/gm)].map((m) => m[1]!);
    await example.waitFor(() => seen().length >= events.length);
    expect(seen().sort()).toEqual(events.map((e) => e.eventId).sort());
    expect(example.output()).toMatch(/^shardId-\d+: \d+ events \(view \d+/m);

    example.child.kill('SIGTERM');
    expect(await example.exit()).toBe(0);
    expect(example.output()).toMatch(/^stopped$/m);
  } finally {
    example.child.kill('SIGKILL');
  }

  // The stop wrote the final checkpoints and released both leases.
  const { Items = [] } = await local.dynamodb.send(new ScanCommand({ TableName: app, ConsistentRead: true }));
  expect(Items).toHaveLength(2);
  for (const item of Items) {
    expect(item.leaseOwner).toBeUndefined();
    expect(item.checkpoint?.S).toMatch(/^\d+$/);
  }
});
