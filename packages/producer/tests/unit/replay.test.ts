import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TransportError } from '@shardline/producer';
import { describe, expect, it } from 'vitest';
import { DestinationFailingError } from '../../src/cli/DestinationHealth.js';
import { ProgressMode } from '../../src/cli/Progress.js';
import { type ReplayOptions, replayCsv } from '../../src/cli/replay.js';
import { EventTimeFormat } from '../../src/cli/rowMapping.js';
import { FakeTransport } from '../helpers/FakeTransport.js';
import { useTempDir } from '../helpers/tempDir.js';

const dir = useTempDir('producer-replay-unit-');
let n = 0;

function options(csv: string, transport: FakeTransport, more: Partial<ReplayOptions> = {}): ReplayOptions {
  n += 1;
  const file = join(dir, `f${n}.csv`);
  writeFileSync(file, csv);
  return {
    file,
    transport,
    mapping: {
      fields: new Map(),
      types: new Map(),
      partitionKeyColumn: undefined,
      eventTimeColumn: undefined,
      eventTimeFormat: EventTimeFormat.Iso,
    },
    producer: { lingerMs: 1 },
    rejectsPath: join(dir, `f${n}.rejects.jsonl`),
    deadLettersPath: join(dir, `f${n}.dead-letters.jsonl`),
    progress: ProgressMode.None,
    ...more,
  };
}

describe('replayCsv', () => {
  it('an event that grows past the record limit once JSON-escaped is a reject with its line; the run goes on', async () => {
    const transport = new FakeTransport();
    // 600 quotes: 1.2 kB of CSV field, 1.2 kB of JSON string (each " becomes \")... over a 1,000-byte record.
    const quoted = `"${'""'.repeat(600)}"`;
    const opts = options(`id,text\n1,short\n2,${quoted}\n3,also short\n`, transport, {
      producer: { lingerMs: 1, maxRecordBytes: 1_000 },
    });
    const summary = await replayCsv(opts);
    expect(summary).toMatchObject({ rows: 3, acked: 2, rejected: 1, failure: undefined });
    const [reject] = readFileSync(opts.rejectsPath, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(reject).toMatchObject({ line: 3, row: 2 });
    expect(transport.written.map((w) => JSON.parse(w.data).id)).toEqual(['1', '3']);
  });

  it('every request failing for maxFailingMs stops the run with the cause; no row is reported written', async () => {
    const transport = new FakeTransport();
    transport.script = () => {
      throw new TransportError('HTTP_503', 'answered 503', { retriable: true });
    };
    const started = Date.now();
    const summary = await replayCsv(
      options('id\n1\n2\n3\n', transport, { maxFailingMs: 200, stopTimeoutMs: 100 }),
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(summary.failure).toBeInstanceOf(DestinationFailingError);
    expect(summary.failure?.message).toMatch(/every request failed for \d+ s: server error \(HTTP 503\)/);
    expect(summary).toMatchObject({ acked: 0, deadLettered: 3, isComplete: false });
    expect(transport.written).toEqual([]);
  });
});
