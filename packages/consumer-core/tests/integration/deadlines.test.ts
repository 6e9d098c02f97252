// Hung and slow endpoints: a fault proxy (black-hole: accepts TCP, never answers; slow: the head at
// once, then one body byte per interval) in front of each emulator, and a consumer whose SDK clients have
// NO timeouts of their own (a plain `new NodeHttpHandler()`, as many users build them): every bound
// below comes from the consumer's own deadlines. Every outcome is checked against the stream's ledger
// (what was put) and the lease table as read directly, never the consumer's own report.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { DeadlineExceededError } from '@shardline/common';
import { uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { type FaultMode, type FaultProxy, startFaultProxy, until } from '@shardline/test-kit';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterEach, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import {
  CONSUMER_DEFAULTS,
  type Consumer,
  type ConsumerEvent,
  createConsumer,
  DependencyError,
  DynamoDBLeaseStore,
  type Lease,
  silentLogger,
} from '../../src/index.js';
import { makeRecords, putRecords, type WrittenRecord } from '../helpers/localTwin.js';

const local = useLocalTwin();
const { kinesis, dynamodb } = local;

// Short settings so that each fault plays out in seconds; the same rules hold at the defaults.
const FAILOVER_MS = 3_000;
const KINESIS_CALL_MS = 1_000;
const LEASE_TABLE_CALL_MS = 1_000;
const SHUTDOWN_TIMEOUT_MS = 2_000;
/** The reader's largest backoff between failed reads (PollingShardReader's default). */
const READ_BACKOFF_MAX_MS = 5_000;
/**
 * The documented bound of `stop()` (README, "Deadlines"): `shutdownTimeoutMs + failoverTimeMs +
 * min(shutdownTimeoutMs, failoverTimeMs) + 5 × timeouts.leaseTableCallMs + 3 s`.
 */
const STOP_BOUND_MS =
  SHUTDOWN_TIMEOUT_MS +
  FAILOVER_MS +
  Math.min(SHUTDOWN_TIMEOUT_MS, FAILOVER_MS) +
  5 * LEASE_TABLE_CALL_MS +
  3_000;
/** Room for a loaded machine (2 cores shared by several test runs) on top of each bound. */
const SLACK_MS = 2_000;

const proxies: FaultProxy[] = [];
afterEach(async () => {
  for (const proxy of proxies.splice(0)) await proxy.close();
});

/** A client config with no request timeout at all, aimed at `endpoint`. */
function untimedClientConfig(endpoint: string) {
  return {
    endpoint,
    region: local.info.region,
    credentials: { ...local.info.credentials },
    requestHandler: new NodeHttpHandler(),
  };
}

interface Delivery {
  readonly body: string;
  readonly atMs: number;
}

async function runRecording(consumer: Consumer): Promise<Delivery[]> {
  const deliveries: Delivery[] = [];
  const decoder = new TextDecoder();
  await consumer.run({
    processBatch: async (batch) => {
      const atMs = performance.now();
      for (const record of batch.records) deliveries.push({ body: decoder.decode(record.data), atMs });
    },
  });
  return deliveries;
}

function bodiesOf(deliveries: readonly Delivery[]): string[] {
  return deliveries.map((d) => d.body);
}

function hasAll(deliveries: readonly Delivery[], written: readonly WrittenRecord[]): boolean {
  const seen = new Set(bodiesOf(deliveries));
  return written.every((r) => seen.has(r.body));
}

async function timed(run: () => Promise<void>): Promise<number> {
  const startedAtMs = performance.now();
  await run();
  return performance.now() - startedAtMs;
}

/** Whether `event` is a retry of `operation` after a call missed the deadline of `timeoutMs`. */
function isDeadlineRetry(event: ConsumerEvent, operation: string, timeoutMs: number): boolean {
  if (event.type !== 'RETRY' || event.operation !== operation) return false;
  const cause = (event.error as { cause?: unknown }).cause;
  const deadline = event.error instanceof DeadlineExceededError ? event.error : cause;
  return deadline instanceof DeadlineExceededError && deadline.timeoutMs === timeoutMs;
}

const FAULTS: readonly Exclude<FaultMode, 'forward' | 'reset'>[] = ['black-hole', 'slow'];

/**
 * One hung-or-slow case set up: a fault proxy (forwarding until the test sets its mode) in front of
 * `service`, a stream of two shards holding 40 records (the ledger `written`), and a consumer with the
 * short settings above whose `service` client has no timeouts of its own and goes through the proxy
 * (its other client straight to the twin); its events are recorded. The test destroys `untimedClient`.
 */
async function setUpFaultCase(service: 'kinesis' | 'dynamodb', fault: FaultMode) {
  const proxy = await startFaultProxy(local.info.endpoints[service]!, { slowIntervalMs: 200 });
  proxies.push(proxy);
  const config = untimedClientConfig(proxy.endpoint);
  const untimedClient = service === 'kinesis' ? new KinesisClient(config) : new DynamoDBClient(config);
  const streamName = uniqueName(`deadline-${service[0]}-${fault}`);
  const applicationName = uniqueName(`deadline-${service[0]}-${fault}-app`);
  await local.createStream(streamName, { shardCount: 2 });
  const written = await putRecords(kinesis, streamName, makeRecords(40, 'before'));
  const consumer = createConsumer({
    streamName,
    applicationName,
    kinesisClient: untimedClient instanceof KinesisClient ? untimedClient : kinesis,
    dynamoDBClient: untimedClient instanceof DynamoDBClient ? untimedClient : dynamodb,
    initialPosition: 'TRIM_HORIZON',
    failoverTimeMs: FAILOVER_MS,
    leaseTakeIntervalMs: 300,
    idleTimeBetweenReadsMs: 50,
    checkpointIntervalMs: 100,
    shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS,
    timeouts: { kinesisCallMs: KINESIS_CALL_MS, leaseTableCallMs: LEASE_TABLE_CALL_MS },
    logger: silentLogger,
  });
  const events: ConsumerEvent[] = [];
  consumer.events$.subscribe((e) => events.push(e));
  const store = new DynamoDBLeaseStore({ client: dynamodb, tableName: applicationName });
  return { proxy, untimedClient, streamName, written, consumer, events, store };
}

describe('Kinesis hung or slow', () => {
  it.each(FAULTS)(
    '%s: reads are cut at their deadline and resume within deadline + backoff once Kinesis answers; the leases stay renewed; nothing lost or duplicated; stop() within its bound',
    async (fault) => {
      const { proxy, untimedClient, streamName, written, consumer, events, store } = await setUpFaultCase(
        'kinesis',
        fault,
      );
      try {
        const deliveries = await runRecording(consumer);
        await until(() => hasAll(deliveries, written), 30_000, 'the records put before the fault');

        proxy.setMode(fault);
        const leasesAtFault = await store.listLeases();
        written.push(...(await putRecords(kinesis, streamName, makeRecords(40, 'during'))));
        // Hung for longer than the failover time: a worker that stopped renewing would lose its leases.
        await until(
          () => events.filter((e) => isDeadlineRetry(e, 'GetRecords', KINESIS_CALL_MS)).length >= 4,
          20_000,
          'GetRecords calls cut at their deadline',
        );
        await new Promise((resolve) => setTimeout(resolve, FAILOVER_MS + 500));
        expect(bodiesOf(deliveries).some((b) => b.startsWith('during'))).toBe(false);
        const leasesInFault = await store.listLeases();
        for (const lease of leasesInFault) {
          const before = leasesAtFault.find((l: Lease) => l.leaseKey === lease.leaseKey)!;
          expect(lease.leaseOwner, `${lease.leaseKey} still ours`).toBe(before.leaseOwner);
          expect(lease.leaseCounter, `${lease.leaseKey} renewed while Kinesis hung`).toBeGreaterThan(
            before.leaseCounter,
          );
        }

        proxy.setMode('forward');
        const recoveredAtMs = performance.now();
        await until(() => hasAll(deliveries, written), 30_000, 'the records put during the fault');
        const resumeMs = Math.min(
          ...deliveries.filter((d) => d.body.startsWith('during')).map((d) => d.atMs - recoveredAtMs),
        );
        // The call in flight at recovery ends at its deadline at the latest, then the backoff.
        expect(resumeMs).toBeLessThan(KINESIS_CALL_MS + READ_BACKOFF_MAX_MS + SLACK_MS);

        // Stop while Kinesis hangs again: bounded all the same.
        proxy.setMode(fault);
        await until(() => proxy.connections[fault] >= 2, 20_000, 'the second fault reached');
        const stopMs = await timed(() => consumer.stop());
        expect(stopMs).toBeLessThan(STOP_BOUND_MS + SLACK_MS);

        // The ledger: every record exactly once (no lease was lost, reads resumed on the same iterator).
        expect(bodiesOf(deliveries).sort()).toEqual(written.map((r) => r.body).sort());
        expect(events.filter((e) => e.type === 'LEASE_LOST')).toEqual([]);
        expect(proxy.connections[fault], 'connections that met the fault').toBeGreaterThan(0);
        console.info(
          `[deadlines] Kinesis ${fault}: resumed ${Math.round(resumeMs)} ms after recovery, stop() ${Math.round(stopMs)} ms, connections ${JSON.stringify(proxy.connections)}`,
        );
      } finally {
        await consumer.stop();
        untimedClient.destroy();
      }
    },
    120_000,
  );
});

describe('DynamoDB hung or slow', () => {
  it.each(FAULTS)(
    '%s: the worker stops delivering before its leases could expire, resumes from its checkpoints once the table answers, loses nothing; stop() within its bound',
    async (fault) => {
      const { proxy, untimedClient, streamName, written, consumer, events, store } = await setUpFaultCase(
        'dynamodb',
        fault,
      );
      let writer: Promise<void> | undefined;
      let isWriting = true;
      try {
        const deliveries = await runRecording(consumer);
        await until(() => hasAll(deliveries, written), 30_000, 'the records put before the fault');

        const faultAtMs = performance.now();
        proxy.setMode(fault);
        // Records keep arriving all through the fault: delivery must stop all the same.
        let round = 0;
        writer = (async () => {
          while (isWriting) {
            written.push(...(await putRecords(kinesis, streamName, makeRecords(4, `during-${round}`))));
            round += 1;
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
        })();
        await until(
          () => events.some((e) => e.type === 'LEASE_LOST'),
          FAILOVER_MS + 10_000,
          'the leases given up while the table hangs',
        );
        // Lease writes (checkpoints, renewals: they share the lease's lock) were cut at the lease-table
        // deadline and retried until the lease ran out of time on this worker's clock.
        expect(
          events.some(
            (e) =>
              isDeadlineRetry(e, 'checkpoint', LEASE_TABLE_CALL_MS) ||
              isDeadlineRetry(e, 'renew', LEASE_TABLE_CALL_MS),
          ),
        ).toBe(true);
        expect(
          events.filter((e) => e.type === 'LEASE_LOST').map((e) => e.type === 'LEASE_LOST' && e.reason),
        ).toContain('EXPIRED_LOCALLY');
        // Past the point where the leases could have expired for another worker, and a while more.
        await new Promise((resolve) => setTimeout(resolve, FAILOVER_MS + 1_000));
        const expiryAtMs = faultAtMs + FAILOVER_MS;
        const late = deliveries.filter((d) => d.atMs >= expiryAtMs);
        expect(late, 'batches delivered after the leases could have expired').toEqual([]);
        // The table, read directly: nobody wrote these leases while the table was out of reach.
        const leasesInFault = await store.listLeases();
        expect(leasesInFault).toHaveLength(2);

        proxy.setMode('forward');
        isWriting = false;
        await writer;
        writer = undefined;
        await until(() => hasAll(deliveries, written), 40_000, 'every record once the table answers');
        expect(events.some((e) => e.type === 'LEASE_TAKEN')).toBe(true);

        // Stop while the table hangs again: bounded all the same (the final checkpoints and releases
        // give up at their deadlines; the leases then expire as after a crash).
        await until(
          () => events.filter((e) => e.type === 'CHECKPOINT_WRITTEN').length > 0,
          10_000,
          'checkpoints again',
        );
        proxy.setMode(fault);
        await new Promise((resolve) => setTimeout(resolve, 200));
        const stopMs = await timed(() => consumer.stop());
        expect(stopMs).toBeLessThan(STOP_BOUND_MS + SLACK_MS);

        // The ledger: nothing lost. Records after the last durable checkpoint may come twice
        // (at-least-once, as after a crash): counted, never more than what the fault window held.
        const seen = bodiesOf(deliveries);
        expect(new Set(seen)).toEqual(new Set(written.map((r) => r.body)));
        const duplicates = seen.length - new Set(seen).size;
        expect(proxy.connections[fault], 'connections that met the fault').toBeGreaterThan(0);
        console.info(
          `[deadlines] DynamoDB ${fault}: ${duplicates} redelivered, stop() ${Math.round(stopMs)} ms, connections ${JSON.stringify(proxy.connections)}`,
        );
      } finally {
        isWriting = false;
        await writer?.catch(() => undefined);
        proxy.setMode('forward');
        await consumer.stop();
        untimedClient.destroy();
      }
    },
    150_000,
  );
});

describe('the shardline CLI against a hung lease table', () => {
  it('status fails with the Scan deadline instead of waiting forever', async () => {
    const proxy = await startFaultProxy(local.info.endpoints.dynamodb!, { mode: 'black-hole' });
    proxies.push(proxy);
    const streamName = uniqueName('deadline-cli');
    await local.createStream(streamName, { shardCount: 1 });
    const startedAtMs = performance.now();
    const error = await buildProgram(() => undefined)
      .parseAsync([
        'node',
        'shardline',
        'status',
        '--app',
        uniqueName('deadline-cli-app'),
        '--stream',
        streamName,
        '--kinesis-endpoint',
        local.info.endpoints.kinesis!,
        '--dynamodb-endpoint',
        proxy.endpoint,
        '--region',
        local.info.region,
      ])
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    const elapsedMs = performance.now() - startedAtMs;
    expect(error).toBeInstanceOf(DependencyError);
    const cause = (error as DependencyError).cause;
    expect(cause).toBeInstanceOf(DeadlineExceededError);
    expect(cause).toMatchObject({
      operation: 'Scan',
      timeoutMs: CONSUMER_DEFAULTS.timeouts.leaseTableCallMs,
    });
    expect(elapsedMs).toBeLessThan(CONSUMER_DEFAULTS.timeouts.leaseTableCallMs + SLACK_MS);
    expect(proxy.connections['black-hole']).toBeGreaterThan(0);
  }, 60_000);
});
