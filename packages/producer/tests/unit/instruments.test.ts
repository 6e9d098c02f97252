import { createProducer, type DeadLetter, ProducerMetricName } from '@shardline/producer';
import { inMemoryMetrics } from '@shardline/test-kit/metrics';
import { describe, expect, it } from 'vitest';
import { FakeTransport } from '../helpers/FakeTransport.js';

describe('producer OpenTelemetry instruments (SDK, in-memory reader)', () => {
  it('mirror producer.metrics: records sent, failed, retried, throttled, dead-lettered, bytes, requests, latency, buffer', async () => {
    const m = inMemoryMetrics();
    const transport = new FakeTransport();
    // Request 1: e1 and e3 throttled (retried), e4 refused for good (dead-lettered); request 2: all written.
    transport.script = (records, call) => ({
      outcomes: records.map((r) =>
        call === 1 && (r.eventId === 'e1' || r.eventId === 'e3')
          ? FakeTransport.fail()
          : r.eventId === 'e4'
            ? FakeTransport.fail('ValidationException', false)
            : { ok: true, shardId: 's', sequenceNumber: '0' },
      ),
    });
    const letters: DeadLetter[] = [];
    const producer = createProducer({
      transport,
      lingerMs: 60_000,
      retry: { initialDelayMs: 1, maxDelayMs: 10, deadlineMs: 5_000 },
      deadLetter: (letter) => {
        letters.push(letter);
      },
      meterProvider: m.meterProvider,
    });
    const puts = Array.from({ length: 5 }, (_, i) =>
      producer.put({ i }, { eventId: `e${i}` }).catch((error: Error) => error),
    );
    // Before anything is sent: five records buffered, nothing counted yet.
    const before = await m.collect();
    expect(m.sum(before, ProducerMetricName.RecordsBuffered)).toBe(5);
    await producer.flush();
    await Promise.all(puts);
    await producer.close();

    const points = await m.collect();
    const figures = producer.metrics;
    const n = ProducerMetricName;
    const read = (name: string) => m.sum(points, name, { 'shardline.producer.transport': 'fake' });
    expect({
      sent: read(n.RecordsSent),
      bytes: read(n.BytesSent),
      failed: read(n.RecordsFailed),
      retried: read(n.RecordsRetried),
      throttled: read(n.RecordsThrottled),
      deadLettered: read(n.RecordsDeadLettered),
      requests: read(n.Requests),
      requestsFailed: read(n.RequestsFailed),
      latencyCount: read(n.PutLatency),
    }).toEqual({
      sent: figures.recordsSent,
      bytes: figures.bytesSent,
      failed: 3,
      retried: figures.retries,
      throttled: figures.throttles,
      deadLettered: figures.deadLettered,
      requests: figures.requests,
      requestsFailed: figures.requestsFailed,
      latencyCount: figures.requests,
    });
    // The independent ledger: what the transport wrote and what was dead-lettered.
    expect(figures.recordsSent).toBe(transport.written.length);
    expect({ sent: transport.written.length, retried: figures.retries, dead: letters.length }).toEqual({
      sent: 4,
      retried: 2,
      dead: 1,
    });
    // Bytes of the written records, envelope plus partition key, from what the transport received.
    const ledgerBytes = transport.written.reduce((b, w) => b + w.requestBytes, 0);
    expect(read(n.BytesSent)).toBe(ledgerBytes);
    expect(Object.values(ProducerMetricName).every((name) => name.startsWith('shardline.producer.'))).toBe(
      true,
    );
    // Every instrument recorded something, but requests.failed (no request failed as a whole here).
    expect(new Set(points.map((p) => p.name))).toEqual(
      new Set(Object.values(ProducerMetricName).filter((name) => name !== n.RequestsFailed)),
    );
    await m.shutdown();
  });

  it('a wrong meterProvider is a configuration problem', () => {
    expect(() => createProducer({ transport: new FakeTransport(), meterProvider: {} as never })).toThrow(
      /meterProvider/,
    );
  });
});
