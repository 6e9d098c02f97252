import { fileURLToPath } from 'node:url';
import { putEvents, runExample, sampleEvents } from '@shardline/example-testing';
import { uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { expect, it } from 'vitest';

const local = useLocalTwin();
const entry = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

it('prints the totals, top brands and funnel of what is in the stream', async () => {
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

  const example = runExample(entry, local, {
    SHARDLINE_STREAM: stream.streamName,
    SHARDLINE_APP: uniqueName('metrics-app'),
    SHARDLINE_REFRESH_MS: '300',
  });
  try {
    const output = await example.waitFor((out) => out.includes(`live metrics: ${events.length} events`));
    const block = output.slice(output.lastIndexOf(`live metrics: ${events.length} events`));
    expect(block).toContain(`totals: view ${perType.get('view')}`);
    for (const [type, n] of perType) expect(block).toMatch(new RegExp(`totals:.*\\b${type} ${n}\\b`));
    expect(block).toMatch(new RegExp(`^  brand ${topBrand} +${topCount}$`, 'm'));
    expect(block).toMatch(/^conversion \(sessions\): view \d+ -> cart \d+/m);
    example.child.kill('SIGTERM');
    expect(await example.exit()).toBe(0);
  } finally {
    example.child.kill('SIGKILL');
  }
});
