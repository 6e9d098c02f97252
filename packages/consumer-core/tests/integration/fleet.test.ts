// Multi-process tests: every worker is its own OS process (tests/helpers/fleetWorker.ts) on the local
// twin, with failoverTimeMs 3000. Each worker writes a ledger of what it was given, processed and
// checkpointed; assertions compare it with the independent ledger of what the test wrote.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { dynamoDBClientConfig, kinesisClientConfig, uniqueName } from '@shardline/local';
import { localStackFromContext } from '@shardline/local/vitest';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DynamoDBLeaseStore, type Lease } from '../../src/index.js';
import {
  events,
  type FleetProcess,
  killFleet,
  type LedgerLine,
  processed,
  readLedger,
  startFleetWorker,
} from '../helpers/fleet.js';
import { makeRecords, putRecords, until, type WrittenRecord } from '../helpers/localTwin.js';

const FAILOVER_MS = 3_000;
const RENEW_MS = FAILOVER_MS / 3 - 25;
const local = localStackFromContext();
const kinesis = new KinesisClient(kinesisClientConfig(local.info));
const dynamodb = new DynamoDBClient(dynamoDBClientConfig(local.info));
const dir = mkdtempSync(join(tmpdir(), 'shardline-fleet-'));

afterEach(() => killFleet());
afterAll(() => {
  killFleet();
  kinesis.destroy();
  dynamodb.destroy();
  local.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh stream and application, and a way to start named workers on them. */
async function setUp(label: string, shardCount: number) {
  const streamName = uniqueName(label);
  const applicationName = uniqueName(`${label}-app`);
  await local.createStream(streamName, { shardCount });
  const store = new DynamoDBLeaseStore({ client: dynamodb, tableName: applicationName });
  const written: WrittenRecord[] = [];
  let next = 0;
  const put = async (count: number) => {
    written.push(...(await putRecords(kinesis, streamName, makeRecords(count, label, 32, next))));
    next += count;
  };
  const workers: FleetProcess[] = [];
  const start = async (workerId: string, extra: Record<string, unknown> = {}) => {
    const worker = await startFleetWorker({
      info: local.info,
      streamName,
      applicationName,
      workerId,
      ledgerPath: join(dir, `${applicationName}-${workerId}.ledger`),
      failoverTimeMs: FAILOVER_MS,
      ...extra,
    });
    workers.push(worker);
    return worker;
  };
  /** Live leases per owner (a lease in hand-off counts for its next owner). */
  const owners = async () => {
    const counts = new Map<string, number>();
    for (const lease of await store.listLeases()) {
      if (lease.leaseOwner) counts.set(lease.leaseOwner, (counts.get(lease.leaseOwner) ?? 0) + 1);
    }
    return counts;
  };
  /** Keeps writing `perTick` records every 200 ms until the returned stop() is called. */
  const produce = (perTick = 10) => {
    let isOn = true;
    const done = (async () => {
      while (isOn) {
        await put(perTick);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    return async () => {
      isOn = false;
      await done;
    };
  };
  const ledgers = () => new Map(workers.map((w) => [w.workerId, readLedger(w.ledgerPath)]));
  const allProcessed = () => new Set([...ledgers().values()].flatMap((l) => processed(l).map((p) => p.body)));
  const waitAllProcessed = (timeoutMs = 30_000) =>
    until(
      () => {
        const seen = allProcessed();
        return written.every((r) => seen.has(r.body));
      },
      timeoutMs,
      'every written record to be processed',
    );
  return {
    streamName,
    applicationName,
    store,
    written,
    put,
    start,
    owners,
    produce,
    ledgers,
    waitAllProcessed,
  };
}

async function untilAsync(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Bodies processed more than once, with every worker and ledger line that processed them. */
function duplicates(ledgers: ReadonlyMap<string, readonly LedgerLine[]>) {
  const by = new Map<string, { workerId: string; shardId: string; sequenceNumber: string; atMs: number }[]>();
  for (const [workerId, lines] of ledgers) {
    for (const p of processed(lines)) {
      const list = by.get(p.body) ?? [];
      list.push({ workerId, shardId: p.shardId, sequenceNumber: p.sequenceNumber, atMs: p.atMs });
      by.set(p.body, list);
    }
  }
  return [...by].filter(([, list]) => list.length > 1);
}

const balanced = (counts: Map<string, number>, workerIds: string[], total: number) => {
  const values = workerIds.map((id) => counts.get(id) ?? 0);
  return values.reduce((a, b) => a + b, 0) === total && Math.max(...values) - Math.min(...values) <= 1;
};

const isAfter = (a: string, b: string) => BigInt(a) > BigInt(b);

describe('a fleet of worker processes', () => {
  it('join: 8 shards spread from one worker to three (2–3 each), nothing lost, nothing processed by two workers', async () => {
    const fleet = await setUp('join', 8);
    await fleet.put(400);
    await fleet.start('w1');
    await untilAsync(async () => (await fleet.owners()).get('w1') === 8, 20_000, 'w1 to hold all 8');
    const stopProducing = fleet.produce();
    await fleet.start('w2');
    await untilAsync(async () => balanced(await fleet.owners(), ['w1', 'w2'], 8), 30_000, 'w1/w2 4+4');
    await fleet.start('w3');
    await untilAsync(async () => balanced(await fleet.owners(), ['w1', 'w2', 'w3'], 8), 30_000, '3/3/2');
    await stopProducing();
    await fleet.waitAllProcessed();
    const counts = await fleet.owners();
    for (const id of ['w1', 'w2', 'w3']) expect(counts.get(id)).toBeGreaterThanOrEqual(2);
    for (const id of ['w1', 'w2', 'w3']) expect(counts.get(id)).toBeLessThanOrEqual(3);
    const ledgers = fleet.ledgers();
    // Moves were cooperative hand-offs, not expiries.
    const handedOff = [...ledgers.values()].flatMap((l) => events(l, 'LEASE_HANDED_OFF'));
    expect(handedOff.length).toBeGreaterThanOrEqual(5);
    expect([...ledgers.values()].flatMap((l) => events(l, 'LEASE_LOST'))).toEqual([]);
    expect(duplicates(ledgers)).toEqual([]);
  }, 120_000);

  it('graceful stop of one of three: its shards move without waiting for expiry, zero duplicates', async () => {
    const fleet = await setUp('graceful', 6);
    await fleet.put(300);
    const w1 = await fleet.start('w1');
    const w2 = await fleet.start('w2');
    const w3 = await fleet.start('w3');
    await untilAsync(async () => balanced(await fleet.owners(), ['w1', 'w2', 'w3'], 6), 40_000, '2/2/2');
    const stopProducing = fleet.produce();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const stoppedAtMs = Date.now();
    await w2.stop();
    expect(w2.output()).toContain('STOPPED');
    await untilAsync(async () => balanced(await fleet.owners(), ['w1', 'w3'], 6), 20_000, '3/3');
    await stopProducing();
    await fleet.waitAllProcessed();
    const ledgers = fleet.ledgers();
    const released = events(ledgers.get('w2')!, 'LEASE_RELEASED').map((e) => e.key);
    expect(released).toHaveLength(2);
    const takes = [...ledgers.get('w1')!, ...ledgers.get('w3')!].filter(
      (l): l is Extract<LedgerLine, { kind: 'E' }> =>
        l.kind === 'E' && l.type === 'LEASE_TAKEN' && released.includes(l.key) && l.atMs >= stoppedAtMs,
    );
    expect(takes).toHaveLength(2);
    // Taken well before the lease could have expired.
    for (const take of takes) expect(take.atMs - stoppedAtMs).toBeLessThan(FAILOVER_MS);
    expect(duplicates(ledgers)).toEqual([]);
    await Promise.all([w1.stop(), w3.stop()]);
  }, 120_000);

  it('SIGKILL of one of three: its shards are taken after the failover time; only records after its last checkpoint are re-delivered', async () => {
    const fleet = await setUp('sigkill', 6);
    await fleet.put(300);
    const w1 = await fleet.start('w1');
    const w2 = await fleet.start('w2', { checkpointIntervalMs: 1_000 });
    const w3 = await fleet.start('w3');
    await untilAsync(async () => balanced(await fleet.owners(), ['w1', 'w2', 'w3'], 6), 40_000, '2/2/2');
    const stopProducing = fleet.produce();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const killedAtMs = Date.now();
    w2.child.kill('SIGKILL');
    await w2.exited;
    await untilAsync(async () => balanced(await fleet.owners(), ['w1', 'w3'], 6), 30_000, '3/3');
    await stopProducing();
    await fleet.waitAllProcessed();
    const ledgers = fleet.ledgers();
    const w2Ledger = ledgers.get('w2')!;
    const w2Shards = [...new Set(events(w2Ledger, 'LEASE_TAKEN').map((e) => e.key))];
    const takes = [...ledgers.get('w1')!, ...ledgers.get('w3')!].filter(
      (l): l is Extract<LedgerLine, { kind: 'E' }> =>
        l.kind === 'E' && l.type === 'LEASE_TAKEN' && w2Shards.includes(l.key) && l.atMs >= killedAtMs,
    );
    expect(takes.length).toBeGreaterThanOrEqual(2);
    for (const take of takes) {
      // Not before its last renewal (at most one renew interval before the kill) plus the failover time.
      expect(take.atMs - killedAtMs).toBeGreaterThanOrEqual(FAILOVER_MS - RENEW_MS - 100);
      expect(take.atMs - killedAtMs).toBeLessThan(FAILOVER_MS + 5_000);
    }
    const lastCheckpoint = new Map<string, string>();
    for (const e of events(w2Ledger, 'CHECKPOINT_WRITTEN')) lastCheckpoint.set(e.key, e.extra!);
    const dups = duplicates(ledgers);
    expect(dups.length).toBeGreaterThan(0); // checkpoints every second: some work is redone
    for (const [body, list] of dups) {
      expect(list.map((d) => d.workerId).sort()[0], body).not.toBe(list.map((d) => d.workerId).sort()[1]);
      expect(
        list.some((d) => d.workerId === 'w2'),
        body,
      ).toBe(true);
      const { shardId, sequenceNumber } = list[0]!;
      const checkpoint = lastCheckpoint.get(shardId);
      if (checkpoint && /^\d+$/.test(checkpoint))
        expect(isAfter(sequenceNumber, checkpoint), body).toBe(true);
    }
    await Promise.all([w1.stop(), w3.stop()]);
  }, 120_000);
});
