// Multi-process tests: every worker is its own OS process (tests/helpers/fleetWorker.ts) on the local
// twin, with failoverTimeMs 3000. Each worker writes a ledger of what it was given, processed and
// checkpointed; assertions compare it with the independent ledger of what the test wrote.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { seededRandom, testSeed, until } from '@shardline/test-kit';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DynamoDBLeaseStore } from '../../src/index.js';
import {
  events,
  type FleetProcess,
  killFleet,
  type LedgerLine,
  processed,
  readLedger,
  startFleetWorker,
} from '../helpers/fleet.js';
import { makeRecords, putRecords, type WrittenRecord } from '../helpers/localTwin.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcpProxy.js';

const FAILOVER_MS = 3_000;
const RENEW_MS = FAILOVER_MS / 3 - 25;
const local = useLocalTwin();
const { kinesis, dynamodb } = local;
const dir = mkdtempSync(join(tmpdir(), 'shardline-fleet-'));

afterEach(() => killFleet());
afterAll(() => {
  killFleet();
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

  /**
   * The zombie's guarantees, from the ledgers: for each of its shards taken by another worker, it
   * delivered no batch after that take, and none of its checkpoints was written after it.
   */
  function expectNoZombieWork(
    ledgers: ReadonlyMap<string, readonly LedgerLine[]>,
    zombieId: string,
    sinceMs: number,
  ) {
    const zombie = ledgers.get(zombieId)!;
    const takes = [...ledgers]
      .filter(([id]) => id !== zombieId)
      .flatMap(([, lines]) => events(lines, 'LEASE_TAKEN'))
      .filter((e) => e.atMs >= sinceMs);
    const zombieShards = new Set(events(zombie, 'LEASE_TAKEN').map((e) => e.key));
    const stolen = takes.filter((t) => zombieShards.has(t.key));
    expect(stolen.length, 'the zombie’s shards were taken by others').toBeGreaterThan(0);
    for (const take of stolen) {
      const late = zombie.filter(
        (l) =>
          l.atMs > take.atMs &&
          ((l.kind === 'D' && l.shardId === take.key) ||
            (l.kind === 'E' && l.type === 'CHECKPOINT_WRITTEN' && l.key === take.key)),
      );
      // Re-taken by the zombie itself later is fine: only facts before its own next take count.
      const retake = events(zombie, 'LEASE_TAKEN').find((e) => e.key === take.key && e.atMs > take.atMs);
      expect(
        late.filter((l) => !retake || l.atMs < retake.atMs),
        `zombie work on ${take.key}`,
      ).toEqual([]);
    }
    expect(events(zombie, 'LEASE_LOST').length).toBeGreaterThan(0);
  }

  it('zombie cut off from DynamoDB (TCP proxy) longer than the failover time: it stops delivering before its leases are taken; its late checkpoints never land', async () => {
    const fleet = await setUp('zombie', 4);
    await fleet.put(200);
    const proxy = await startTcpProxy(local.info.endpoints.dynamodb!);
    try {
      const w1 = await fleet.start('w1');
      const zombie = await fleet.start('zombie', { dynamoDBEndpoint: proxy.endpoint, processDelayMs: 50 });
      await untilAsync(async () => balanced(await fleet.owners(), ['w1', 'zombie'], 4), 40_000, '2/2');
      const stopProducing = fleet.produce();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const cutAtMs = Date.now();
      proxy.cut();
      await untilAsync(async () => (await fleet.owners()).get('w1') === 4, 20_000, 'w1 to take all 4');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      proxy.restore();
      await untilAsync(async () => balanced(await fleet.owners(), ['w1', 'zombie'], 4), 40_000, '2/2 again');
      await stopProducing();
      await fleet.waitAllProcessed();
      await Promise.all([w1.stop(), zombie.stop()]);
      expectNoZombieWork(fleet.ledgers(), 'zombie', cutAtMs);
    } finally {
      await proxy.close();
    }
  }, 150_000);

  it('zombie frozen (SIGSTOP longer than the failover time, then SIGCONT): nothing delivered after its leases were taken, no late checkpoint', async () => {
    const fleet = await setUp('frozen', 4);
    await fleet.put(200);
    const w1 = await fleet.start('w1');
    const zombie = await fleet.start('zombie', { processDelayMs: 50 });
    await untilAsync(async () => balanced(await fleet.owners(), ['w1', 'zombie'], 4), 40_000, '2/2');
    const stopProducing = fleet.produce();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const frozenAtMs = Date.now();
    zombie.child.kill('SIGSTOP');
    try {
      await untilAsync(async () => (await fleet.owners()).get('w1') === 4, 20_000, 'w1 to take all 4');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    } finally {
      zombie.child.kill('SIGCONT');
    }
    await untilAsync(async () => balanced(await fleet.owners(), ['w1', 'zombie'], 4), 40_000, '2/2 again');
    await stopProducing();
    await fleet.waitAllProcessed();
    await Promise.all([w1.stop(), zombie.stop()]);
    expectNoZombieWork(fleet.ledgers(), 'zombie', frozenAtMs);
  }, 150_000);

  it('throttled lease table (a third of lease-table requests fail with ProvisionedThroughputExceededException): no healthy worker loses a lease', async () => {
    const fleet = await setUp('throttled', 4);
    await fleet.put(200);
    const seed = testSeed('throttled lease table');
    const w1 = await fleet.start('w1', { throttle: { share: 0.33, seed } });
    const w2 = await fleet.start('w2', { throttle: { share: 0.33, seed: seed + 1 } });
    await untilAsync(async () => balanced(await fleet.owners(), ['w1', 'w2'], 4), 40_000, '2/2');
    const stopProducing = fleet.produce();
    await new Promise((resolve) => setTimeout(resolve, 8_000)); // several failover times
    await stopProducing();
    await fleet.waitAllProcessed();
    await Promise.all([w1.stop(), w2.stop()]);
    const ledgers = fleet.ledgers();
    for (const [id, lines] of ledgers) {
      const throttled = lines.find((l) => l.kind === 'R' && l.requestKind === 'throttled');
      expect(throttled && throttled.kind === 'R' && throttled.count, `${id} was throttled`).toBeGreaterThan(
        10,
      );
      expect(events(lines, 'LEASE_LOST'), id).toEqual([]);
    }
    expect(duplicates(ledgers)).toEqual([]);
  }, 120_000);

  it('chaos: seeded SIGKILLs/restarts, freezes and proxy cuts under a continuous producer; every record processed, every duplicate explained', async () => {
    const seed = testSeed('fleet chaos');
    const random = seededRandom(seed);
    const fleet = await setUp('chaos', 6);
    await fleet.put(200);
    const ids = ['w1', 'w2', 'w3'];
    const proxies = new Map<string, TcpProxy>();
    const live = new Map<string, FleetProcess>();
    /** When each worker was disrupted (killed, frozen, cut off), by the test's own ledger. */
    const disruptions: { workerId: string; atMs: number; what: string }[] = [];
    try {
      for (const id of ids) {
        const proxy = await startTcpProxy(local.info.endpoints.dynamodb!);
        proxies.set(id, proxy);
        live.set(id, await fleet.start(id, { dynamoDBEndpoint: proxy.endpoint }));
      }
      const stopProducing = fleet.produce();
      const chaosEndsAtMs = Date.now() + 25_000;
      while (Date.now() < chaosEndsAtMs) {
        await new Promise((resolve) => setTimeout(resolve, 1_500 + random() * 2_000));
        const id = ids[Math.floor(random() * ids.length)]!;
        const worker = live.get(id)!;
        const action = random();
        if (action < 0.34) {
          disruptions.push({ workerId: id, atMs: Date.now(), what: 'SIGKILL' });
          worker.child.kill('SIGKILL');
          await worker.exited;
          live.set(id, await fleet.start(id, { dynamoDBEndpoint: proxies.get(id)!.endpoint }));
        } else if (action < 0.67) {
          disruptions.push({ workerId: id, atMs: Date.now(), what: 'SIGSTOP' });
          worker.child.kill('SIGSTOP');
          await new Promise((resolve) => setTimeout(resolve, FAILOVER_MS + 1_000 * random()));
          worker.child.kill('SIGCONT');
        } else {
          disruptions.push({ workerId: id, atMs: Date.now(), what: 'cut' });
          proxies.get(id)!.cut();
          await new Promise((resolve) => setTimeout(resolve, FAILOVER_MS + 1_000 * random()));
          proxies.get(id)!.restore();
        }
      }
      console.info(
        `[fleet chaos] seed ${seed}: ${disruptions.map((d) => `${d.what} ${d.workerId}`).join(', ')}`,
      );
      await stopProducing();
      await fleet.waitAllProcessed(60_000);
      await Promise.all([...live.values()].map((w) => w.stop()));
      const ledgers = fleet.ledgers();
      for (const [body, occurrences] of duplicates(ledgers)) {
        const sorted = [...occurrences].sort((a, b) => a.atMs - b.atMs);
        for (let i = 0; i + 1 < sorted.length; i++) {
          const first = sorted[i]!;
          const again = sorted[i + 1]!;
          // The worker that processed it first was disrupted before it was processed again (a cut-off
          // or frozen worker goes on with the batch in hand until its lease runs out locally)...
          const disruption = disruptions.find(
            (d) =>
              d.workerId === first.workerId && d.atMs <= again.atMs && first.atMs <= d.atMs + 2 * FAILOVER_MS,
          );
          expect(
            disruption,
            `duplicate ${body} (${first.workerId} at ${first.atMs}, then ${again.workerId} at ${again.atMs}) unexplained; disruptions ${JSON.stringify(disruptions)}`,
          ).toBeDefined();
          // ...and it lies after the last checkpoint that worker wrote for the shard before the re-delivery.
          const checkpoints = events(ledgers.get(first.workerId)!, 'CHECKPOINT_WRITTEN').filter(
            (e) => e.key === first.shardId && e.atMs <= again.atMs && /^\d+$/.test(e.extra ?? ''),
          );
          const last = checkpoints.at(-1)?.extra;
          if (last)
            expect(isAfter(first.sequenceNumber, last), `${body} at or before checkpoint ${last}`).toBe(true);
        }
      }
    } finally {
      for (const proxy of proxies.values()) await proxy.close();
    }
  }, 180_000);
});
