import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetricsExporter, type MetricsExporter } from '../../src/index.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A port that was free a moment ago (the OS picks it). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

function track(m: MetricsExporter): MetricsExporter {
  cleanups.push(() => m.shutdown());
  return m;
}

describe('Prometheus exporter', () => {
  it('serves shardline_ series on /metrics and closes its port at shutdown', async () => {
    const port = await freePort();
    const metrics = track(createMetricsExporter({ kind: 'prometheus', port, host: '127.0.0.1' }));
    await expect(metrics.ready).resolves.toBe(true);
    const meter = metrics.meterProvider.getMeter('test');
    meter
      .createCounter('shardline.s3_sink.records.delivered', { unit: '{record}' })
      .add(3, { 'shardline.application': 'app' });
    const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(body).toMatch(
      /^shardline_s3_sink_records_delivered(_total)?\{[^}]*shardline_application="app"[^}]*\} 3$/m,
    );

    await metrics.shutdown();
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });

  it('a port in use is reported and the meter provider keeps working', async () => {
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => taken.close(() => r())));
    const { port } = taken.address() as { port: number };
    const warnings: string[] = [];
    const metrics = track(
      createMetricsExporter({
        kind: 'prometheus',
        port,
        host: '127.0.0.1',
        logger: { warn: (m) => warnings.push(m) },
      }),
    );
    await expect(metrics.ready).resolves.toBe(false);
    expect(warnings).toEqual([
      expect.stringMatching(/could not listen on 127\.0\.0\.1:\d+; running without it/),
    ]);
    // Recording still works (the instruments are used by the pipeline whatever the endpoint does).
    metrics.meterProvider.getMeter('test').createCounter('c').add(1);
    await expect(metrics.shutdown()).resolves.toBeUndefined();
  });
});
