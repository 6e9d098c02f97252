import { decodeEnvelope } from '@shardline/ingest';
import { uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { collect } from '@shardline/test-kit';
import { describe, expect, it } from 'vitest';
import { readAll } from '../helpers/kinesis.js';
import { spawnCli } from '../helpers/processes.js';
import { replayRunner, sampleFile } from '../helpers/replay.js';
import { useTempDir } from '../helpers/tempDir.js';

const local = useLocalTwin();
const dir = useTempDir('producer-metrics-');
const replay = replayRunner(local, dir, 500);
const ECOMMERCE = sampleFile('ecommerce-events-2019-10-sample.csv');

interface EmfLine {
  readonly _aws: {
    readonly Timestamp: number;
    readonly CloudWatchMetrics: readonly {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  readonly [member: string]: unknown;
}

describe('shardline-produce replay --metrics emf', () => {
  it('prints EMF lines whose record counts match what the stream holds', async () => {
    const stream = await local.createStream(uniqueName('replay-emf'), { shardCount: 2 });
    const rows = 300;
    const result = await replay([
      ECOMMERCE,
      '--stream',
      stream.streamName,
      '--limit',
      String(rows),
      '--metrics',
      'emf:ShardlineTest',
    ]).done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/metrics: emf namespace ShardlineTest every 60 s/);

    const documents = result.stdout
      .split('\n')
      .filter((line) => line.startsWith('{"_aws"'))
      .map((line) => JSON.parse(line) as EmfLine);
    // The run is shorter than a flush interval: the flush at shutdown carries everything.
    expect(documents.length).toBeGreaterThan(0);
    for (const d of documents) {
      const directive = d._aws.CloudWatchMetrics[0];
      expect(directive?.Namespace).toBe('ShardlineTest');
      expect(directive?.Dimensions).toEqual([['shardline.producer.transport']]);
      expect(d['shardline.producer.transport']).toBe('kinesis');
    }
    const sum = (name: string) =>
      documents.reduce((total, d) => total + (typeof d[name] === 'number' ? (d[name] as number) : 0), 0);

    // The independent ledger: what the stream holds.
    const stored = await readAll(local.kinesis, stream.streamName);
    expect(new Set(stored.map((r) => decodeEnvelope(r.data).eventId)).size).toBe(rows);
    expect(sum('shardline.producer.records.sent')).toBe(stored.length);
    expect(sum('shardline.producer.records.failed')).toBe(0);
    expect(sum('shardline.producer.put.latency.count')).toBeGreaterThan(0);
    const unitOf = (name: string) =>
      documents.flatMap((d) => d._aws.CloudWatchMetrics[0]?.Metrics ?? []).find((m) => m.Name === name)?.Unit;
    expect(unitOf('shardline.producer.records.sent')).toBe('Count');
    expect(unitOf('shardline.producer.bytes.sent')).toBe('Bytes');
    expect(unitOf('shardline.producer.put.latency.max')).toBe('Milliseconds');
  });

  it('a wrong --metrics value is a usage error naming the problem, and nothing is sent', async () => {
    const stream = await local.createStream(uniqueName('replay-emf-bad'), { shardCount: 1 });
    const result = await replay([ECOMMERCE, '--stream', stream.streamName, '--metrics', 'prometheus']).done;
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/prometheus needs a port/);
    expect(await readAll(local.kinesis, stream.streamName)).toHaveLength(0);
  });

  it('a closed stdout stops the EMF lines, not the replay: every row is sent and the exit is 0', async () => {
    const stream = await local.createStream(uniqueName('replay-emf-epipe'), { shardCount: 1 });
    const rows = 100;
    const child = spawnCli(
      [
        'replay',
        ECOMMERCE,
        '--stream',
        stream.streamName,
        '--limit',
        String(rows),
        '--metrics',
        'emf',
        '--progress',
        'lines',
        ...['--rejects', `${dir}/epipe.rejects.jsonl`, '--dead-letters', `${dir}/epipe.dead-letters.jsonl`],
      ],
      local.env,
    );
    // The reader of stdout goes away before anything is written: every write to it fails (EPIPE).
    child.stdout?.destroy();
    const output = collect(child);
    const result = await output.done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/stdout failed; nothing more is written to it/);
    const stored = await readAll(local.kinesis, stream.streamName);
    expect(new Set(stored.map((r) => decodeEnvelope(r.data).eventId)).size).toBe(rows);
  });
});
