import type { Attributes, BatchObservableCallback, MeterProvider, Observable } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { type ConsumerEvent, ConsumerMetricName } from '../../src/index.js';
import { createTestConsumer, InMemoryLeaseStore, InMemoryStream } from '../../src/testing/index.js';

/** A minimal recording MeterProvider: counters summed, observable gauges read on collect(). */
function recordingProvider() {
  const sums = new Map<string, number>();
  const callbacks: BatchObservableCallback[] = [];
  const gauges = new Map<Observable, string>();
  const key = (name: string, attributes?: Attributes) =>
    `${name}${attributes?.['shardline.lease.move'] ? `:${attributes['shardline.lease.move']}` : ''}`;
  const meter = {
    createCounter: (name: string) => ({
      add: (value: number, attributes?: Attributes) =>
        sums.set(key(name, attributes), (sums.get(key(name, attributes)) ?? 0) + value),
    }),
    createObservableGauge: (name: string) => {
      const gauge = { addCallback() {}, removeCallback() {} } as unknown as Observable;
      gauges.set(gauge, name);
      return gauge;
    },
    addBatchObservableCallback: (callback: BatchObservableCallback) => callbacks.push(callback),
    removeBatchObservableCallback: (callback: BatchObservableCallback) =>
      callbacks.splice(callbacks.indexOf(callback), 1),
  };
  const provider = { getMeter: () => meter } as unknown as MeterProvider;
  const collect = () => {
    const observed: { name: string; value: number; attributes: Attributes | undefined }[] = [];
    for (const callback of callbacks) {
      void callback({
        observe: (gauge: Observable, value: number, attributes?: Attributes) =>
          observed.push({ name: gauges.get(gauge)!, value, attributes }),
      });
    }
    return observed;
  };
  return { provider, sums, collect };
}

describe('metrics through the OpenTelemetry API', () => {
  it('records leases held, records and bytes processed, lag, checkpoint age and lease moves — the same figures as events$', async () => {
    const stream = new InMemoryStream({ shardCount: 2 });
    for (let i = 0; i < 30; i++) stream.putRecord(`k${i}`, `record-${i}`);
    // Bytes as Kinesis counts them: data plus partition key.
    const bytes = 10 * (8 + 2) + 20 * (9 + 3);
    const { provider, sums, collect } = recordingProvider();
    const consumer = createTestConsumer({
      stream,
      leaseStore: new InMemoryLeaseStore(),
      meterProvider: provider,
    });
    const events: ConsumerEvent[] = [];
    consumer.events$.subscribe((e) => events.push(e));
    await consumer.run({ processBatch: async () => {} });
    const deadline = Date.now() + 5_000;
    while ((sums.get(ConsumerMetricName.RecordsProcessed) ?? 0) < 30 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const observed = collect();
    expect(observed.find((o) => o.name === ConsumerMetricName.LeasesHeld)?.value).toBe(2);
    expect(observed.filter((o) => o.name === ConsumerMetricName.CheckpointAge)).toHaveLength(2);
    expect(observed.filter((o) => o.name === ConsumerMetricName.MillisBehindLatest).length).toBeGreaterThan(
      0,
    );
    await consumer.stop();
    const fromEvents = events.filter((e) => e.type === 'BATCH_PROCESSED');
    const recordSum = fromEvents.reduce((n, e) => n + (e.type === 'BATCH_PROCESSED' ? e.recordCount : 0), 0);
    const byteSum = fromEvents.reduce((n, e) => n + (e.type === 'BATCH_PROCESSED' ? e.byteCount : 0), 0);
    expect(sums.get(ConsumerMetricName.RecordsProcessed)).toBe(30);
    expect(recordSum).toBe(30);
    expect(sums.get(ConsumerMetricName.BytesProcessed)).toBe(bytes);
    expect(byteSum).toBe(bytes);
    expect(sums.get(`${ConsumerMetricName.LeaseMoves}:taken`)).toBe(2);
    expect(sums.get(`${ConsumerMetricName.LeaseMoves}:released`)).toBe(2);
    expect(collect()).toEqual([]); // stopped: nothing observed any more
  });

  it('rejects a meterProvider that is not one', () => {
    expect(() =>
      createTestConsumer({
        stream: new InMemoryStream({ shardCount: 1 }),
        meterProvider: {} as MeterProvider,
      }),
    ).toThrow(/meterProvider/);
  });
});
