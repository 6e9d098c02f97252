import { PassThrough } from 'node:stream';
import { ConfigurationError } from '@shardline/common';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createMetricsExporter,
  EMF_MAX_DIMENSIONS,
  EMF_MAX_METRICS_PER_DOCUMENT,
  type EmfDocument,
  type MetricsExporter,
  type MetricsLogger,
  streamWriter,
} from '../../src/index.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

interface Harness {
  readonly metrics: MetricsExporter;
  readonly lines: string[];
  readonly documents: () => EmfDocument[];
  readonly clock: { nowMs: number };
}

const started: MetricsExporter[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((m) => m.shutdown()));
});

function emfHarness(extra: { namespace?: string; droppedAttributes?: string[] } = {}): Harness {
  const lines: string[] = [];
  const clock = { nowMs: T0 };
  const metrics = createMetricsExporter({
    kind: 'emf',
    ...extra,
    flushIntervalMs: 3_600_000, // flushes are forced by the test
    write: (line) => lines.push(line),
    now: () => clock.nowMs,
  });
  started.push(metrics);
  return {
    metrics,
    lines,
    clock,
    documents: () => lines.map((l) => JSON.parse(l) as EmfDocument),
  };
}

async function flush(h: Harness): Promise<void> {
  await (h.metrics.meterProvider as unknown as { forceFlush(): Promise<void> }).forceFlush();
}

/** The rules of the EMF specification a document must follow. */
function expectValidEmf(document: EmfDocument): void {
  const root = document as Record<string, unknown>;
  const directives = document._aws.CloudWatchMetrics;
  expect(Number.isInteger(document._aws.Timestamp)).toBe(true);
  expect(directives.length).toBeGreaterThan(0);
  for (const directive of directives) {
    expect(typeof directive.Namespace).toBe('string');
    expect(directive.Metrics.length).toBeLessThanOrEqual(EMF_MAX_METRICS_PER_DOCUMENT);
    for (const set of directive.Dimensions) {
      expect(set.length).toBeLessThanOrEqual(EMF_MAX_DIMENSIONS);
      // Every dimension is a string target member.
      for (const d of set) expect(typeof root[d]).toBe('string');
    }
    for (const m of directive.Metrics) {
      expect(Object.keys(m).sort()).toEqual(['Name', 'Unit']);
      expect(typeof root[m.Name]).toBe('number');
    }
  }
  // One JSON object per line, nothing before or after it.
  expect(JSON.parse(JSON.stringify(document))).toEqual(document);
}

describe('EMF exporter', () => {
  it('writes a counter delta, a gauge and a histogram as exact EMF documents', async () => {
    const h = emfHarness({ namespace: 'Orders' });
    const meter = h.metrics.meterProvider.getMeter('test');
    const records = meter.createCounter('shardline.consumer.records.processed', { unit: '{record}' });
    const latency = meter.createHistogram('shardline.producer.put.latency', { unit: 'ms' });
    let behind = 1500;
    meter
      .createObservableGauge('shardline.consumer.millis_behind_latest', { unit: 'ms' })
      .addCallback((r) => {
        r.observe(behind, { 'shardline.application': 'app', 'shardline.shard.id': 'shardId-0' });
        r.observe(behind * 2, { 'shardline.application': 'app', 'shardline.shard.id': 'shardId-1' });
      });
    const app = { 'shardline.application': 'app' };
    records.add(10, { ...app, 'shardline.shard.id': 'shardId-0' });
    records.add(5, { ...app, 'shardline.shard.id': 'shardId-1' });
    latency.record(20, { 'shardline.producer.transport': 'kinesis' });
    latency.record(4, { 'shardline.producer.transport': 'kinesis' });
    await flush(h);

    expect(h.lines.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n'))).toBe(true);
    expect(h.documents()).toEqual([
      {
        _aws: {
          Timestamp: T0,
          CloudWatchMetrics: [
            {
              Namespace: 'Orders',
              Dimensions: [['shardline.application']],
              Metrics: [
                { Name: 'shardline.consumer.millis_behind_latest', Unit: 'Milliseconds' },
                { Name: 'shardline.consumer.records.processed', Unit: 'Count' },
              ],
            },
          ],
        },
        'shardline.application': 'app',
        // shards merged: the gauge is the largest lag, the counter the sum
        'shardline.consumer.millis_behind_latest': 3000,
        'shardline.consumer.records.processed': 15,
      },
      {
        _aws: {
          Timestamp: T0,
          CloudWatchMetrics: [
            {
              Namespace: 'Orders',
              Dimensions: [['shardline.producer.transport']],
              Metrics: [
                { Name: 'shardline.producer.put.latency.count', Unit: 'Count' },
                { Name: 'shardline.producer.put.latency.max', Unit: 'Milliseconds' },
                { Name: 'shardline.producer.put.latency.min', Unit: 'Milliseconds' },
                { Name: 'shardline.producer.put.latency.sum', Unit: 'Milliseconds' },
              ],
            },
          ],
        },
        'shardline.producer.transport': 'kinesis',
        'shardline.producer.put.latency.count': 2,
        'shardline.producer.put.latency.max': 20,
        'shardline.producer.put.latency.min': 4,
        'shardline.producer.put.latency.sum': 24,
      },
    ]);
    for (const d of h.documents()) expectValidEmf(d);

    // The next flush: the counter's increase since the last one, the gauge's new value, no histogram.
    h.lines.length = 0;
    h.clock.nowMs = T0 + 60_000;
    records.add(7, { ...app, 'shardline.shard.id': 'shardId-0' });
    behind = 0;
    await flush(h);
    expect(h.documents()).toEqual([
      expect.objectContaining({
        _aws: expect.objectContaining({ Timestamp: T0 + 60_000 }),
        'shardline.consumer.millis_behind_latest': 0,
        'shardline.consumer.records.processed': 7,
      }),
    ]);

    // Nothing new: an unchanged counter emits 0 (an alarm sees a zero, not missing data).
    h.lines.length = 0;
    await flush(h);
    expect(h.documents()[0]?.['shardline.consumer.records.processed']).toBe(0);
  });

  it('adds a rolled-up dimension set to documents with more than the application and stream', async () => {
    const h = emfHarness();
    const errors = h.metrics.meterProvider
      .getMeter('test')
      .createCounter('shardline.s3_sink.error_output.records');
    const base = {
      'shardline.application': 'app',
      'shardline.stream': 's',
      'shardline.shard.id': 'shardId-1',
    };
    errors.add(2, { ...base, 'shardline.s3_sink.error_output.type': 'processing-failed' });
    errors.add(3, { ...base, 'shardline.s3_sink.error_output.type': 'partitioning-failed' });
    h.metrics.meterProvider.getMeter('test').createCounter('plain').add(1, base);
    await flush(h);
    const documents = h.documents();
    const withType = [
      ['shardline.application', 'shardline.s3_sink.error_output.type', 'shardline.stream'],
      ['shardline.application', 'shardline.stream'],
    ];
    expect(documents.map((d) => d._aws.CloudWatchMetrics[0].Dimensions)).toEqual([
      withType,
      withType,
      [['shardline.application', 'shardline.stream']], // nothing to roll up
    ]);
    expect(documents.map((d) => d['shardline.s3_sink.error_output.records'])).toEqual([3, 2, undefined]);
    for (const d of documents) expectValidEmf(d);
  });

  it('splits more than 100 metrics of one dimension set into several documents', async () => {
    const h = emfHarness();
    const meter = h.metrics.meterProvider.getMeter('test');
    for (let i = 0; i < 250; i += 1) meter.createCounter(`m${String(i).padStart(3, '0')}`).add(i, { a: 'x' });
    await flush(h);
    const documents = h.documents();
    expect(documents.map((d) => d._aws.CloudWatchMetrics[0].Metrics.length)).toEqual([100, 100, 50]);
    const names = documents.flatMap((d) => d._aws.CloudWatchMetrics[0].Metrics.map((m) => m.Name));
    expect(new Set(names).size).toBe(250);
    for (const d of documents) {
      expectValidEmf(d);
      expect(d._aws.CloudWatchMetrics[0].Namespace).toBe('Shardline');
    }
  });

  it('keeps at most 30 dimensions and drops the configured attributes', async () => {
    const h = emfHarness({ droppedAttributes: ['secret'] });
    const attributes: Record<string, string | number> = { secret: 's', a_number: 3 };
    for (let i = 0; i < 40; i += 1) attributes[`d${String(i).padStart(2, '0')}`] = `v${i}`;
    h.metrics.meterProvider.getMeter('test').createCounter('c').add(1, attributes);
    await flush(h);
    const [document] = h.documents();
    if (document === undefined) throw new Error('no document');
    const dimensions = document._aws.CloudWatchMetrics[0].Dimensions[0] ?? [];
    expect(dimensions).toHaveLength(EMF_MAX_DIMENSIONS);
    expect(dimensions).not.toContain('secret');
    expect(document.a_number).toBe('3'); // values as strings; the first 30 names kept
    expectValidEmf(document);
  });

  it('writes the last flush at shutdown, and only once', async () => {
    const h = emfHarness();
    h.metrics.meterProvider.getMeter('test').createCounter('c', { unit: 'By' }).add(42);
    await Promise.all([h.metrics.shutdown(), h.metrics.shutdown()]);
    expect(h.documents()).toEqual([
      {
        _aws: {
          Timestamp: T0,
          CloudWatchMetrics: [
            { Namespace: 'Shardline', Dimensions: [[]], Metrics: [{ Name: 'c', Unit: 'Bytes' }] },
          ],
        },
        c: 42,
      },
    ]);
  });

  it('a writer that throws loses that flush, is reported, and never throws into the caller', async () => {
    const warnings: string[] = [];
    const logger: MetricsLogger = { warn: (m) => warnings.push(m) };
    const metrics = createMetricsExporter({
      kind: 'emf',
      write: () => {
        throw new Error('EPIPE');
      },
      logger,
    });
    metrics.meterProvider.getMeter('test').createCounter('c').add(1);
    await expect(metrics.shutdown()).resolves.toBeUndefined();
    expect(warnings).toEqual(['Writing EMF metrics failed; this flush is lost.']);
  });

  it('stops writing to a stream that failed (stdout closed), with one warning, and the process lives', async () => {
    const warnings: string[] = [];
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c.toString()));
    const write = streamWriter(stream, { warn: (m) => warnings.push(m) });
    write('one\n');
    stream.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    stream.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    write('two\n');
    await new Promise((r) => setImmediate(r));
    expect(chunks.join('')).toBe('one\n');
    expect(warnings).toEqual(['stdout failed; nothing more is written to it.']);
  });
});

describe('createMetricsExporter options', () => {
  it('lists every problem of EMF options', () => {
    let error: unknown;
    try {
      createMetricsExporter({
        kind: 'emf',
        namespace: 'AWS/Kinesis',
        flushIntervalMs: 10,
        droppedAttributes: 'x' as unknown as string[],
        bogus: 1,
      } as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).problems.map((p) => p.path).sort()).toEqual([
      'bogus',
      'droppedAttributes',
      'flushIntervalMs',
      'namespace',
    ]);
  });

  it('lists every problem of Prometheus options and rejects an unknown kind', () => {
    expect(() => createMetricsExporter({ kind: 'prometheus', port: 0, host: '' })).toThrow(
      ConfigurationError,
    );
    try {
      createMetricsExporter({ kind: 'prometheus', port: 70_000, host: '' });
    } catch (e) {
      expect((e as ConfigurationError).problems.map((p) => p.path)).toEqual(['port', 'host']);
    }
    expect(() => createMetricsExporter({ kind: 'statsd' } as never)).toThrow(/must be "prometheus" or "emf"/);
  });
});
