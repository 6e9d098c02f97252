import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { CloudWatchEmfExporter } from '../../src/metrics/CloudWatchEmfExporter.js';
import { referenceTemplate } from '../helpers/synthStack.js';

const infraRoot = join(import.meta.dirname, '../..');

type EmfLine = Record<string, unknown> & {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
};

describe('CloudWatchEmfExporter', () => {
  it('writes one EMF line per data point: counters as deltas, gauges, histograms as values with counts; dimensions without shard or worker', async () => {
    const lines: string[] = [];
    const provider = new MeterProvider({
      readers: [
        new PeriodicExportingMetricReader({
          exporter: new CloudWatchEmfExporter({ namespace: 'Test', write: (line) => lines.push(line) }),
          exportIntervalMillis: 3_600_000,
        }),
      ],
    });
    const meter = provider.getMeter('@shardline/s3-sink');
    const base = { 'shardline.application': 'app', 'shardline.worker.id': 'w1', 'shardline.shard.id': 's0' };
    const records = meter.createCounter('shardline.s3_sink.records.written', { unit: '{record}' });
    const objects = meter.createCounter('shardline.s3_sink.objects.written', { unit: '{object}' });
    const latency = meter.createHistogram('shardline.s3_sink.upload.latency', { unit: 'ms' });
    meter
      .createObservableGauge('shardline.s3_sink.buffer.age', { unit: 'ms' })
      .addCallback((result) => result.observe(1500, { 'shardline.application': 'app' }));
    records.add(100, base);
    records.add(20, base);
    objects.add(1, { ...base, 'shardline.s3_sink.object.kind': 'data' });
    latency.record(40, base);
    latency.record(60, base);
    await provider.forceFlush();
    records.add(7, base);
    await provider.forceFlush();
    await provider.shutdown();

    const parsed = lines.map((line) => {
      expect(line.endsWith('\n')).toBe(true);
      return JSON.parse(line) as EmfLine;
    });
    const of = (name: string) => parsed.filter((l) => name in l);
    // Delta temporality: the second export holds only what happened since the first.
    expect(
      of('shardline.s3_sink.records.written').map((l) => l['shardline.s3_sink.records.written']),
    ).toEqual([120, 7]);
    const [first] = of('shardline.s3_sink.records.written');
    expect(first!._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'Test',
        Dimensions: [['shardline.application']],
        Metrics: [{ Name: 'shardline.s3_sink.records.written', Unit: 'Count' }],
      },
    ]);
    expect(first!['shardline.shard.id']).toBe('s0');
    expect(first!['shardline.worker.id']).toBe('w1');
    expect(of('shardline.s3_sink.objects.written')[0]!._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([
      ['shardline.application', 'shardline.s3_sink.object.kind'],
    ]);
    const [histogram] = of('shardline.s3_sink.upload.latency');
    const value = histogram!['shardline.s3_sink.upload.latency'] as { Values: number[]; Counts: number[] };
    expect(value.Counts.reduce((a, b) => a + b, 0)).toBe(2);
    for (const v of value.Values) {
      expect(v).toBeGreaterThanOrEqual(40);
      expect(v).toBeLessThanOrEqual(60);
    }
    expect(histogram!._aws.CloudWatchMetrics[0]!.Metrics).toEqual([
      { Name: 'shardline.s3_sink.upload.latency', Unit: 'Milliseconds' },
    ]);
    expect(of('shardline.s3_sink.buffer.age')[0]!['shardline.s3_sink.buffer.age']).toBe(1500);
  });

  it('is installed by node --import as the global meter provider, and exports the last interval when the process ends', () => {
    const script = [
      "import { metrics } from '@opentelemetry/api';",
      "metrics.getMeter('t').createCounter('shardline.test.count').add(5, { 'shardline.application': 'a' });",
    ].join('\n');
    const out = execFileSync(
      process.execPath,
      [
        '--conditions=@shardline/source',
        '--import',
        'tsx',
        '--import',
        './src/metrics/registerCloudWatchMetrics.ts',
        '--input-type=module',
        '-e',
        script,
      ],
      {
        cwd: infraRoot,
        env: { ...process.env, SHARDLINE_METRICS_NAMESPACE: 'Pipeline', NODE_OPTIONS: '' },
        encoding: 'utf8',
      },
    );
    const lines = out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as EmfLine);
    expect(lines).toHaveLength(1);
    expect(lines[0]!['shardline.test.count']).toBe(5);
    expect(lines[0]!._aws.CloudWatchMetrics[0]!.Namespace).toBe('Pipeline');
  }, 30_000);
});

describe('ReferencePipelineStack s3SinkMetrics', () => {
  it('loads the EMF meter provider in the sink task only', () => {
    const { template } = referenceTemplate({
      s3SinkMetrics: { namespace: 'Pipeline', exportIntervalMs: 30_000 },
    });
    const containers = Object.values(template.findResources('AWS::ECS::TaskDefinition')).map(
      (t) => t.Properties.ContainerDefinitions[0],
    );
    const envOf = (isSink: boolean) =>
      Object.fromEntries(
        containers
          .find((c) => JSON.stringify(c.Command ?? []).includes('shardline-s3-sink') === isSink)!
          .Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]),
      );
    expect(envOf(true)).toMatchObject({
      NODE_OPTIONS: '--import ./infra/dist/metrics/registerCloudWatchMetrics.js',
      SHARDLINE_METRICS_NAMESPACE: 'Pipeline',
      SHARDLINE_METRICS_INTERVAL_MS: '30000',
    });
    expect(envOf(false).NODE_OPTIONS).toBeUndefined();
  }, 60_000);
});
