import { createServer } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';
import { DeadlineExceededError } from '@shardline/common';
import { s3ClientConfig, uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { type FaultProxy, startFaultProxy } from '@shardline/test-kit';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/cli/cli.js';
import {
  type ArchivedObject,
  createStreamAndBucket,
  putEvents,
  readObjects,
  until,
  type WrittenEvent,
} from '../helpers/archive.js';
import { stopGracefully, targetArgs, useSinkProcesses, waitFor } from '../helpers/processes.js';
import { timeStop, useTestSinks } from '../helpers/sinks.js';

// Fault paths of the sink, each checked against an independent ledger: what the test wrote to the
// stream (`putEvents`) against what S3 holds (read back object by object), never the sink's counters.

const local = useLocalTwin();
const { kinesis, s3 } = local;
const proxies: FaultProxy[] = [];
const clients: S3Client[] = [];

afterAll(async () => {
  await Promise.allSettled(proxies.map((p) => p.close()));
  for (const c of clients) c.destroy();
});
// After-all hooks run last registered first: the sinks stop, then the processes are killed, and only
// then are the proxies and clients they may use closed.
const spawnSink = useSinkProcesses();
const sink = useTestSinks(local, {
  retryInitialDelayMs: 50,
  retryMaxDelayMs: 500,
  consumer: { failoverTimeMs: 10_000, shardFailureBackoffMs: 1_000 },
});

/** An S3 client that goes through a fault proxy in front of the twin's S3. */
async function proxiedS3(): Promise<{ proxy: FaultProxy; client: S3Client }> {
  const proxy = await startFaultProxy(local.info.endpoints.s3!);
  proxies.push(proxy);
  // No SDK retries: each request the sink makes is one connection, and the sink's own retry is tested.
  const client = new S3Client({ ...s3ClientConfig(local.info), endpoint: proxy.endpoint, maxAttempts: 1 });
  clients.push(client);
  return { proxy, client };
}

/**
 * How many times each written record is in S3: data lines by event id, error lines by sequence number.
 * Returns the records not exactly once (`eventId: count`).
 */
function notExactlyOnce(objects: readonly ArchivedObject[], written: readonly WrittenEvent[]): string[] {
  const bySeq = new Map(written.map((w) => [`${w.shardId}/${w.sequenceNumber}`, w]));
  const byId = new Map(written.map((w) => [w.eventId, w]));
  const counts = new Map<string, number>();
  for (const o of objects) {
    if (o.key.startsWith('manifests/') || o.key.startsWith('.shardline-s3-sink/')) continue;
    const shard = /-(shardId-\d+)-\d+/.exec(o.key)?.[1];
    for (const line of o.lines) {
      const value = JSON.parse(line) as { eventId?: string; sequenceNumber?: string; errorCode?: string };
      const w =
        value.errorCode !== undefined
          ? bySeq.get(`${shard}/${value.sequenceNumber}`)
          : byId.get(value.eventId!);
      const id = w?.eventId ?? `unknown ${line.slice(0, 60)}`;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  const problems = written
    .filter((w) => counts.get(w.eventId) !== 1)
    .map((w) => `${w.eventId}: ${counts.get(w.eventId) ?? 0}`);
  for (const id of counts.keys()) if (id.startsWith('unknown')) problems.push(id);
  return problems;
}

/** Records in S3 (data and error lines, not manifests). */
async function archivedCount(bucket: string): Promise<number> {
  // Not the manifests, nor the CLI's start-up write check (a starting worker deletes it right after
  // writing it, possibly between this listing and a read).
  const objects = await readObjects(
    s3,
    bucket,
    '',
    (key) => !key.startsWith('manifests/') && !key.startsWith('.shardline-s3-sink/'),
  );
  return objects.reduce((n, o) => n + o.lines.length, 0);
}

const DEEP = 20_000;
/** An envelope whose data is valid JSON nested 20,000 deep around a big integer (RangeError in the parser). */
const deepEnvelope = (eventId: string) =>
  new TextEncoder().encode(
    `{"eventId":"${eventId}","receivedAt":"2026-11-25T16:00:00.000Z","data":${'{"a":'.repeat(DEEP)}123456789012345678901${'}'.repeat(DEEP)}}`,
  );

describe('s3-sink fault paths', () => {
  it('CLI with dynamic partitioning: one record nested 20,000 deep among 300 envelopes goes to the error output, all 300 are archived, and a restarted worker goes on', async () => {
    const { stream, bucket } = await createStreamAndBucket(local, 'deep', 1);
    const types = ['view', 'cart', 'purchase'];
    const written = await putEvents(kinesis, stream.streamName, 301, {
      data: (i) => ({ i, event_type: types[i % 3] }),
      raw: (i) => (i === 150 ? deepEnvelope('ev-150') : undefined),
    });
    const args = [
      ...targetArgs(stream.streamName, bucket, uniqueName('deep-app')),
      '--prefix',
      'events/type=!{partitionKeyFromQuery:type}/',
      '--partition-key',
      'type=data.event_type',
      '--buffer-interval-ms',
      '1000',
      '--failover-time-ms',
      '10000',
      '--idle-time-between-reads-ms',
      '100',
    ];
    const first = spawnSink(local.info, args);
    await until(async () => (await archivedCount(bucket)) >= 301, 90_000, 'the 301 records archived');
    expect((await stopGracefully(first)).code).toBe(0);
    expect(first.events().some((e) => e.type === 'SHARD_FAILED')).toBe(false);

    // A restarted worker starts after the checkpoint (past the bad record) and archives what comes.
    const second = spawnSink(local.info, args);
    await waitFor(second, (o) => o.stderr.includes('archiving'), 'the second worker to start', 90_000);
    written.push(
      ...(await putEvents(kinesis, stream.streamName, 50, {
        prefix: 'late',
        data: (i) => ({ i, event_type: 'view' }),
      })),
    );
    await until(async () => (await archivedCount(bucket)) >= 351, 90_000, 'the 50 later records archived');
    expect((await stopGracefully(second)).code).toBe(0);

    const objects = await readObjects(s3, bucket);
    expect(notExactlyOnce(objects, written)).toEqual([]);
    const errorLines = objects
      .filter((o) => o.key.startsWith('errors/partitioning-failed/'))
      .flatMap((o) => o.lines.map((l) => JSON.parse(l) as { errorMessage: string; rawData: string }));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]!.errorMessage).toContain('RangeError');
    expect(Buffer.from(errorLines[0]!.rawData, 'base64').toString()).toContain('"eventId":"ev-150"');
    // The start-up write check ran twice and left nothing behind.
    expect(objects.filter((o) => o.key.startsWith('.shardline-s3-sink/')).map((o) => o.key)).toEqual([]);
  }, 300_000);

  it('a hook that throws: the shard stops without a checkpoint, its lease is released and taken again, and every record lands exactly once', async () => {
    const { stream, bucket } = await createStreamAndBucket(local, 'hook', 1);
    const written = await putEvents(kinesis, stream.streamName, 200);
    let throws = 0;
    const {
      sink: s,
      events,
      consumerEvents,
    } = sink({
      streamName: stream.streamName,
      bucket,
      applicationName: uniqueName('hook-app'),
      hooks: {
        // After the objects are durable, before the checkpoint: the worst place to fail.
        objectsWritten: () => {
          if (throws === 0) {
            throws += 1;
            throw new Error('injected: objectsWritten hook failed');
          }
        },
      },
    });
    await s.start();
    await until(async () => (await archivedCount(bucket)) >= 200, 60_000, 'every record archived');
    await until(() => events.some((e) => e.type === 'RANGE_CHECKPOINTED'), 30_000, 'a checkpoint');
    await s.stop();
    expect(throws).toBe(1);
    const failed = events.filter((e) => e.type === 'SHARD_FAILED');
    expect(failed).toHaveLength(1);
    // Released by the failure (counted once, not halted), then taken again and redone exactly.
    const consumerFailures = consumerEvents.filter((e) => e.type === 'SHARD_FAILED');
    expect(consumerFailures.map((e) => e.type === 'SHARD_FAILED' && [e.failureCount, e.halted])).toEqual([
      [1, false],
    ]);
    expect(consumerEvents.filter((e) => e.type === 'LEASE_TAKEN').length).toBeGreaterThanOrEqual(2);
    expect(events.some((e) => e.type === 'RANGE_SEALED' && e.reason === 'redo')).toBe(true);
    expect(notExactlyOnce(await readObjects(s3, bucket), written)).toEqual([]);
  }, 120_000);

  it('a hook that never returns: stop() still resolves within shutdownTimeoutMs + 4 s and says which shard was busy; the next worker redoes the range', async () => {
    const { stream, bucket } = await createStreamAndBucket(local, 'hang', 1);
    const app = uniqueName('hang-app');
    const written = await putEvents(kinesis, stream.streamName, 50);
    let isHeld = false;
    const shutdownTimeoutMs = 2_000;
    const first = sink({
      streamName: stream.streamName,
      bucket,
      applicationName: app,
      consumer: { shutdownTimeoutMs },
      hooks: {
        pendingWritten: () => {
          isHeld = true;
          return new Promise<void>(() => {});
        },
      },
    });
    await first.sink.start();
    await until(() => isHeld, 30_000, 'the hook to hold the range');
    const stopMs = await timeStop(first.sink);
    expect(stopMs).toBeLessThan(shutdownTimeoutMs + 4_000 + 1_000);
    expect(
      first.events.some(
        (e) => e.type === 'ERROR' && /gave up .* 1 shard\(s\) still busy/.test(e.error.message),
      ),
    ).toBe(true);

    const second = sink({ streamName: stream.streamName, bucket, applicationName: app });
    await second.sink.start();
    await until(async () => (await archivedCount(bucket)) >= 50, 60_000, 'the range redone');
    await second.sink.stop();
    expect(second.events.some((e) => e.type === 'RANGE_SEALED' && e.reason === 'redo')).toBe(true);
    expect(notExactlyOnce(await readObjects(s3, bucket), written)).toEqual([]);
    console.log(
      `s3-sink hung hook: stop() took ${Math.round(stopMs)} ms (bound ${shutdownTimeoutMs + 4_000})`,
    );
  }, 120_000);

  it('S3 black-holed (fault proxy): each request is cut at s3RequestTimeoutMs and retried, memory stays bounded, nothing is lost; stop() keeps its bound while S3 hangs', async () => {
    const { stream, bucket } = await createStreamAndBucket(local, 'hole', 1);
    const { proxy, client } = await proxiedS3();
    const app = uniqueName('hole-app');
    const bufferSizeBytes = 16 * 1024;
    const shutdownTimeoutMs = 2_000;
    const options = {
      streamName: stream.streamName,
      bucket,
      applicationName: app,
      s3Client: client,
      s3RequestTimeoutMs: 1_000,
      bufferSizeBytes,
      consumer: { shutdownTimeoutMs },
    };
    const written = await putEvents(kinesis, stream.streamName, 100);
    const first = sink(options);
    await first.sink.start();
    await until(async () => (await archivedCount(bucket)) >= 100, 30_000, 'the first 100 records');

    proxy.setMode('black-hole');
    written.push(...(await putEvents(kinesis, stream.streamName, 100, { prefix: 'hole', padBytes: 512 })));
    const deadlineRetries = () =>
      first.events.filter((e) => e.type === 'RETRY' && e.reason === 'no answer within 1000 ms').length;
    await until(() => deadlineRetries() >= 3, 30_000, 'three requests cut at their deadline');
    expect(proxy.connections['black-hole']).toBeGreaterThanOrEqual(3);
    const retry = first.events.find((e) => e.type === 'RETRY');
    expect(retry?.type === 'RETRY' && retry.error.cause).toBeInstanceOf(DeadlineExceededError);
    // The range being written is all the sink holds (one buffer and at most one record more).
    expect(first.sink.metrics().bufferedBytes).toBeLessThanOrEqual(bufferSizeBytes + 1_024);

    proxy.setMode('forward');
    await until(async () => (await archivedCount(bucket)) >= 200, 60_000, 'catching up after the hole');

    // S3 hangs again, with records buffered: stop() resolves within shutdownTimeoutMs + 4 s.
    proxy.setMode('black-hole');
    written.push(...(await putEvents(kinesis, stream.streamName, 50, { prefix: 'stop' })));
    const before = deadlineRetries();
    await until(() => deadlineRetries() > before, 30_000, 'the second hole to bite');
    const stopMs = await timeStop(first.sink);
    expect(stopMs).toBeLessThan(shutdownTimeoutMs + 4_000 + 1_000);

    // Nothing lost: the next worker (S3 answering again) redoes what the stop left.
    proxy.setMode('forward');
    const second = sink(options);
    await second.sink.start();
    await until(async () => (await archivedCount(bucket)) >= 250, 60_000, 'the last 50 records');
    await second.sink.stop();
    expect(notExactlyOnce(await readObjects(s3, bucket), written)).toEqual([]);
    console.log(
      `s3-sink black-hole: stop() took ${Math.round(stopMs)} ms (bound ${shutdownTimeoutMs + 4_000})`,
    );
  }, 240_000);

  it('S3 slow (fault proxy, one body byte a second): a trickling answer is cut at its deadline, and the archive still completes', async () => {
    const { stream, bucket } = await createStreamAndBucket(local, 'slow', 1);
    const { proxy, client } = await proxiedS3();
    proxy.setMode('slow');
    const written = await putEvents(kinesis, stream.streamName, 100);
    const { sink: s, events } = sink({
      streamName: stream.streamName,
      bucket,
      applicationName: uniqueName('slow-app'),
      s3Client: client,
      s3RequestTimeoutMs: 1_500,
    });
    await s.start();
    // The takeover sweep lists uploads: its answer has a body, which trickles and is cut at 1.5 s.
    await until(
      () =>
        events.some(
          (e) =>
            (e.type === 'ERROR' || e.type === 'RETRY') &&
            (e.error instanceof DeadlineExceededError || e.error.cause instanceof DeadlineExceededError),
        ),
      30_000,
      'a slow answer cut at its deadline',
    );
    expect(proxy.connections.slow).toBeGreaterThan(0);
    proxy.setMode('forward');
    await until(async () => (await archivedCount(bucket)) >= 100, 60_000, 'every record archived');
    await s.stop();
    expect(notExactlyOnce(await readObjects(s3, bucket), written)).toEqual([]);
  }, 120_000);

  describe('CLI start checks and outage exit', () => {
    /** A port with nothing listening: connections are refused. */
    async function closedPortEndpoint(): Promise<string> {
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as { port: number };
      await new Promise<void>((resolve) => server.close(() => resolve()));
      return `http://127.0.0.1:${port}`;
    }

    const cases = [
      {
        problem: 'no such stream',
        exitCode: ExitCode.StreamUnavailable,
        message: /stream .* does not exist/,
        setup: async () => ({ stream: uniqueName('missing'), bucket: await bucketName(), endpoints: {} }),
      },
      {
        problem: 'no such bucket',
        exitCode: ExitCode.BucketMissing,
        message: /bucket no-such-bucket-\S+ does not exist/,
        setup: async () => ({
          stream: await streamName(),
          bucket: uniqueName('no-such-bucket'),
          endpoints: {},
        }),
      },
      {
        problem: 'DynamoDB refuses connections',
        exitCode: ExitCode.LeaseTableUnavailable,
        message: /lease table .* cannot be reached: connection refused/,
        setup: async () => ({
          stream: await streamName(),
          bucket: await bucketName(),
          endpoints: { dynamodb: await closedPortEndpoint() },
        }),
      },
      {
        problem: 'S3 refuses connections',
        exitCode: ExitCode.BucketNotWritable,
        message: /bucket .* cannot be used: connection refused/,
        setup: async () => ({
          stream: await streamName(),
          bucket: await bucketName(),
          endpoints: { s3: await closedPortEndpoint() },
        }),
      },
    ];
    async function streamName() {
      return (await local.createStream(uniqueName('check'), { shardCount: 1 })).streamName;
    }
    async function bucketName() {
      const bucket = uniqueName('check');
      await local.createBucket(bucket);
      return bucket;
    }

    it.each(cases)(
      '$problem: exits with code $exitCode and says why, before taking any lease',
      async ({ exitCode, message, setup }) => {
        const { stream, bucket, endpoints } = await setup();
        const p = spawnSink(local.info, ['--stream', stream, '--bucket', bucket], { endpoints });
        const { code } = await p.exited;
        expect(p.output().stderr).toMatch(message);
        expect(code).toBe(exitCode);
        expect(p.output().stderr).not.toContain('archiving');
      },
      90_000,
    );

    it('every S3 write failing for --max-s3-outage-ms: the CLI stops with the cause and exit code 7; the next run archives everything once', async () => {
      const { stream, bucket } = await createStreamAndBucket(local, 'outage', 1);
      const { proxy } = await proxiedS3();
      const args = [
        ...targetArgs(stream.streamName, bucket, uniqueName('outage-app')),
        '--buffer-interval-ms',
        '500',
        '--idle-time-between-reads-ms',
        '100',
        '--failover-time-ms',
        '10000',
        '--shutdown-timeout-ms',
        '2000',
        '--s3-request-timeout-ms',
        '1000',
        '--max-s3-outage-ms',
        '4000',
      ];
      const p = spawnSink(local.info, args, { endpoints: { s3: proxy.endpoint } });
      await waitFor(p, (o) => o.stderr.includes('archiving'), 'the sink to start', 90_000);
      proxy.setMode('reset');
      const written = await putEvents(kinesis, stream.streamName, 40);
      const { code } = await p.exited;
      expect(p.output().stderr).toMatch(/no S3 write succeeded for 4 s \(last cause: [^)]+\)/);
      expect(code).toBe(ExitCode.S3Outage);
      expect(proxy.connections.reset).toBeGreaterThan(0);
      console.log(`s3-sink outage exit: ${/stopping: .*/.exec(p.output().stderr)?.[0]}`);

      proxy.setMode('forward');
      const next = spawnSink(local.info, args, { endpoints: { s3: proxy.endpoint } });
      await until(async () => (await archivedCount(bucket)) >= 40, 90_000, 'the 40 records archived');
      expect((await stopGracefully(next)).code).toBe(0);
      expect(notExactlyOnce(await readObjects(s3, bucket), written)).toEqual([]);
    }, 240_000);
  });
});
