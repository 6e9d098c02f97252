// `shardline-s3-sink --health-port`, run in-process through the CLI's own run function: the endpoints
// answer while the sink runs, /readyz reports the stall time the sink derives from its buffer
// interval, and nothing listens once the sink has exited.
import { request } from 'node:http';
import { DynamoDBLeaseStore } from '@shardline/consumer-core';
import { uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { afterEach, expect, it, vi } from 'vitest';
import { ExitCode } from '../../src/cli/cli.js';
import { until } from '../helpers/archive.js';
import { untilLeasesOwned, withSinkCli } from '../helpers/inProcessCli.js';

const local = useLocalTwin();
afterEach(() => {
  vi.unstubAllEnvs();
});

function get(port: number, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: 5_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

it('--health-port serves /healthz and /readyz while the sink runs, and closes with it', async () => {
  const streamName = uniqueName('sink-health');
  await local.createStream(streamName, { shardCount: 1 });
  const bucket = uniqueName('sink-health');
  await local.createBucket(bucket);
  const app = uniqueName('sink-health-app');
  let port = 0;
  const code = await withSinkCli(
    local,
    { streamName, bucket, app },
    ['--health-port', '0'],
    {},
    async (sink) => {
      await until(
        () => sink.assertRunning() ?? /health checks on http:\/\/127\.0\.0\.1:\d+/.test(sink.stderr()),
        30_000,
        'the health address printed',
      );
      port = Number(/health checks on http:\/\/127\.0\.0\.1:(\d+)/.exec(sink.stderr())![1]);
      const store = new DynamoDBLeaseStore({ client: local.dynamodb, tableName: app });
      await untilLeasesOwned(store, 1, sink, 'the lease taken');
      let live = await get(port, '/healthz');
      await until(
        async () => {
          live = await get(port, '/healthz');
          return (
            (live.body.checks as { leaseRenewal: { heldLeaseCount: number } }).leaseRenewal.heldLeaseCount ===
            1
          );
        },
        30_000,
        'the lease held by the health check',
      );
      expect(live.status).toBe(200);
      const ready = await get(port, '/readyz');
      expect(ready.status).toBe(200);
      // --buffer-interval-ms 500 (the helper's): the sink's default stall time is at least 300 s.
      expect((ready.body.checks as { shards: { stalledShardMs: number } }).shards.stalledShardMs).toBe(
        300_000,
      );
    },
  );
  expect(code).toBe(ExitCode.Ok);
  expect(port).toBeGreaterThan(0);
  await expect(get(port, '/healthz')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
}, 120_000);
