// `shardline-s3-sink --metrics` on the local twin, run in-process through the CLI's own run function:
// the exported counts are checked against the bucket's objects, read back (the independent ledger).
import { createServer } from 'node:net';
import { uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { afterEach, expect, it, vi } from 'vitest';
import { ExitCode } from '../../src/cli/cli.js';
import { checkExactlyOnce, defaultKeyPattern, putEvents, readObjects, until } from '../helpers/archive.js';
import { withSinkCli } from '../helpers/inProcessCli.js';

const local = useLocalTwin();
const { kinesis, s3 } = local;
afterEach(() => {
  vi.unstubAllEnvs();
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** The sum of a Prometheus series' samples over all its label sets. */
function sampleSum(body: string, series: string): number {
  let total = 0;
  for (const line of body.split('\n')) {
    if (line.startsWith(`${series}{`) || line.startsWith(`${series} `))
      total += Number(line.split(' ').pop());
  }
  return total;
}

async function newTarget(name: string) {
  const streamName = uniqueName(name);
  await local.createStream(streamName, { shardCount: 2 });
  const bucket = uniqueName(name);
  await local.createBucket(bucket);
  return { streamName, bucket, app: uniqueName(`${name}-app`) };
}

it('--metrics prometheus: /metrics answers with shardline_ series of the sink and its consumer; the port is closed at stop', async () => {
  const target = await newTarget('sink-prom');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/metrics`;
  const code = await withSinkCli(
    local,
    target,
    ['--metrics', `prometheus:127.0.0.1:${port}`],
    {},
    async (sink) => {
      const written = await putEvents(kinesis, target.streamName, 60, { prefix: 'p' });
      const keyPattern = defaultKeyPattern(target.streamName);
      await until(
        async () => checkExactlyOnce(await readObjects(s3, target.bucket), written, keyPattern).length === 0,
        60_000,
        `every record archived (stderr so far: ${sink.stderr()})`,
      );
      expect(sink.stderr()).toMatch(/metrics: prometheus http:\/\/127\.0\.0\.1:\d+\/metrics/);
      const body = await (await fetch(url)).text();
      expect(body).toMatch(/^shardline_consumer_/m);
      expect(sampleSum(body, 'shardline_s3_sink_records_written_total')).toBe(written.length);
    },
  );
  expect(code).toBe(ExitCode.Ok);
  await expect(fetch(url)).rejects.toThrow();
}, 150_000);

it('--metrics emf: the last flush at stop holds every record written', async () => {
  const target = await newTarget('sink-emf');
  let stdout = '';
  let written: Awaited<ReturnType<typeof putEvents>> = [];
  const code = await withSinkCli(
    local,
    target,
    ['--metrics', 'emf'],
    { stdout: (text) => (stdout += text) },
    async (sink) => {
      written = await putEvents(kinesis, target.streamName, 60, { prefix: 'e' });
      const keyPattern = defaultKeyPattern(target.streamName);
      await until(
        async () => checkExactlyOnce(await readObjects(s3, target.bucket), written, keyPattern).length === 0,
        60_000,
        `every record archived (stderr so far: ${sink.stderr()})`,
      );
    },
  );
  expect(code).toBe(ExitCode.Ok);
  const documents = stdout
    .split('\n')
    .filter((l) => l.startsWith('{"_aws"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const total = documents.reduce(
    (sum, d) => sum + ((d['shardline.s3_sink.records.written'] as number) ?? 0),
    0,
  );
  expect(total).toBe(written.length);
  expect(documents.every((d) => d['shardline.shard.id'] === undefined)).toBe(true);
}, 150_000);
