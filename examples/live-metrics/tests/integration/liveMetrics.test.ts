import { fileURLToPath } from 'node:url';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { putEvents, runExample, sampleEvents } from '@shardline/example-testing';
import { uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { expect, it } from 'vitest';

const local = useLocalTwin();
const entry = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

it.each([
  ['worker (default)', {}],
  ['leader (SHARDLINE_LEASE_ASSIGNMENT, as the infra sets it)', { SHARDLINE_LEASE_ASSIGNMENT: 'leader' }],
] as const)('prints the totals, top brands and funnel of what is in the stream: %s', async (_mode, env) => {
  const stream = await local.createStream(uniqueName('metrics'), { shardCount: 4 });
  const events = sampleEvents(1_000);
  await putEvents(local, stream.streamName, events);

  // The expected figures, counted here independently of the app.
  const perType = new Map<string, number>();
  const perBrand = new Map<string, number>();
  for (const { data } of events) {
    perType.set(data.event_type!, (perType.get(data.event_type!) ?? 0) + 1);
    if (data.brand) perBrand.set(data.brand, (perBrand.get(data.brand) ?? 0) + 1);
  }
  const [topBrand, topCount] = [...perBrand].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]!;

  const app = uniqueName('metrics-app');
  const coordinator = `${app}-coordinator`;
  const leader = 'SHARDLINE_LEASE_ASSIGNMENT' in env;
  const example = runExample(entry, local, {
    SHARDLINE_STREAM: stream.streamName,
    SHARDLINE_APP: app,
    SHARDLINE_REFRESH_MS: '300',
    ...env,
    ...(leader ? { SHARDLINE_COORDINATOR_TABLE: coordinator } : {}),
  });
  try {
    const output = await example.waitFor((out) => out.includes(`live metrics: ${events.length} events`));
    const block = output.slice(output.lastIndexOf(`live metrics: ${events.length} events`));
    expect(block).toContain(`totals: view ${perType.get('view')}`);
    for (const [type, n] of perType) expect(block).toMatch(new RegExp(`totals:.*\\b${type} ${n}\\b`));
    expect(block).toMatch(new RegExp(`^  brand ${topBrand} +${topCount}$`, 'm'));
    expect(block).toMatch(/^conversion \(sessions\): view \d+ -> cart \d+/m);
    // The mode took effect: the lease table has the leaseOwner index and the named coordinator table
    // exists (read from DynamoDB, not from the app).
    const { Table } = await local.dynamodb.send(new DescribeTableCommand({ TableName: app }));
    expect(Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName) ?? []).toEqual(
      leader ? ['LeaseOwnerToLeaseKeyIndex'] : [],
    );
    if (leader) {
      const described = await local.dynamodb.send(new DescribeTableCommand({ TableName: coordinator }));
      expect(described.Table?.TableStatus).toBe('ACTIVE');
    }
    example.child.kill('SIGTERM');
    expect(await example.exit()).toBe(0);
  } finally {
    example.child.kill('SIGKILL');
  }
});
