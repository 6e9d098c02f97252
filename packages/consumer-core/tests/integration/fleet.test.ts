// Multi-process tests: every worker is its own OS process (tests/helpers/fleetWorker.ts) on the local
// twin, with failoverTimeMs 3000. Each worker writes a ledger of what it was given, processed and
// checkpointed; assertions compare it with the independent ledger of what the test wrote.
// Graceful hand-off, crash failover and the zombies run in both retrieval modes: polling on kinesalite,
// enhanced fan-out on kinesis-local (which refuses a second open subscription of a consumer on a shard,
// so a new owner that subscribes without a ResourceInUseException proves the old one had cancelled).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uniqueName } from '@shardline/local';
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
import { makeRecords, putRecords, useTwins, type WrittenRecord } from '../helpers/localTwin.js';
import { kinesisFor, RETRIEVAL_MODES, type RetrievalMode, withKinesisOf } from '../helpers/retrievalModes.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcpProxy.js';

const FAILOVER_MS = 3_000;
const RENEW_MS = FAILOVER_MS / 3 - 25;
const { local, faithful, dynamodb } = useTwins();
const dir = mkdtempSync(join(tmpdir(), 'shardline-fleet-'));

afterEach(() => killFleet());
afterAll(() => {
  killFleet();
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh stream and application, and a way to start named workers on them (reading in `mode`). */
async function setUp(label: string, shardCount: number, mode: RetrievalMode = 'polling') {
  const streamName = uniqueName(label);
  const applicationName = uniqueName(`${label}-app`);
  const twin = kinesisFor(mode, local, faithful);
  const { kinesis } = twin;
  const info = withKinesisOf(local.info, twin);
  await twin.createStream(streamName, { shardCount });
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
      info,
      retrieval: mode,
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
  /**
   * Ends a run: stops producing (`stopProducing` from `produce()`), waits until every written record was
   * processed, stops `stopping`, and returns every worker's ledger.
   */
  const drain = async (stopProducing: () => Promise<void>, ...stopping: FleetProcess[]) => {
    await stopProducing();
    await waitAllProcessed();
    await Promise.all(stopping.map((w) => w.stop()));
    return ledgers();
  };
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
    drain,
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

/**
 * After `victim` was killed: each duplicate was processed by the victim, and (where the victim's ledger
 * holds a numeric checkpoint of the shard) lies after the victim's last checkpoint of that shard.
 */
function expectRedeliveredAfterCheckpoint(
  dups: ReturnType<typeof duplicates>,
  victimLedger: readonly LedgerLine[],
  victim: string,
): void {
  const lastCheckpoint = new Map<string, string>();
  for (const e of events(victimLedger, 'CHECKPOINT_WRITTEN')) lastCheckpoint.set(e.key, e.extra!);
  for (const [body, list] of dups) {
    expect(
      list.some((d) => d.workerId === victim),
      body,
    ).toBe(true);
    const { shardId, sequenceNumber } = list[0]!;
    const checkpoint = lastCheckpoint.get(shardId);
    if (checkpoint && /^\d+$/.test(checkpoint)) expect(isAfter(sequenceNumber, checkpoint), body).toBe(true);
  }
}

/** The checkpoint interval of the worker killed by SIGKILL. */
const W2_CHECKPOINT_MS = 3_000;

/**
 * Whether the ledger shows, on some shard, records processed after the shard's last checkpoint, that
 * checkpoint written less than `recentMs` ago.
 */
function hasUnwrittenWork(lines: readonly LedgerLine[], recentMs: number): boolean {
  const checkpoints = new Map<string, { atMs: number; sequenceNumber: string }>();
  for (const e of events(lines, 'CHECKPOINT_WRITTEN')) {
    if (/^\d+$/.test(e.extra ?? '')) checkpoints.set(e.key, { atMs: e.atMs, sequenceNumber: e.extra! });
  }
  const nowMs = Date.now();
  return processed(lines).some((p) => {
    const checkpoint = checkpoints.get(p.shardId);
    return (
      checkpoint !== undefined &&
      nowMs - checkpoint.atMs < recentMs &&
      p.atMs >= checkpoint.atMs &&
      isAfter(p.sequenceNumber, checkpoint.sequenceNumber)
    );
  });
}

/**
 * The zombie's guarantees, from the ledgers: for each of its shards taken by another worker, it
 * delivered no batch after that take, and none of its checkpoints landed after it.
 *
 * A ledger line is written when the worker learns a fact, so a zombie frozen between DynamoDB's answer
 * and its own event logs a checkpoint that landed before the take only after the thaw. Fencing makes a
 * checkpoint landing after the take impossible (the take moved the lease counter); the independent test
 * is the taker's ledger: it resumed after the checkpoint it found, so its first record on the shard lies
 * after every checkpoint that landed before its take. A zombie checkpoint logged after the take counts
 * as late unless the taker's first record is after it.
 */
function expectNoZombieWork(
  ledgers: ReadonlyMap<string, readonly LedgerLine[]>,
  zombieId: string,
  sinceMs: number,
) {
  const zombie = ledgers.get(zombieId)!;
  const zombieShards = new Set(events(zombie, 'LEASE_TAKEN').map((e) => e.key));
  const others = [...ledgers.keys()].filter((id) => id !== zombieId);
  const stolen = takesOf(ledgers, others, [...zombieShards], sinceMs);
  expect(stolen.length, 'the zombie’s shards were taken by others').toBeGreaterThan(0);
  for (const take of stolen) {
    const takerFirst = processed(ledgers.get(take.workerId)!).find(
      (p) => p.shardId === take.key && p.atMs >= take.atMs,
    );
    const late = zombie.filter(
      (l) =>
        l.atMs > take.atMs &&
        ((l.kind === 'D' && l.shardId === take.key) ||
          (l.kind === 'E' &&
            l.type === 'CHECKPOINT_WRITTEN' &&
            l.key === take.key &&
            !(takerFirst && /^\d+$/.test(l.extra ?? '') && isAfter(takerFirst.sequenceNumber, l.extra!)))),
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

type Take = Extract<LedgerLine, { kind: 'E' }> & { readonly workerId: string };

/** The takes of `shardIds` by `workerIds` since `sinceMs`, from their ledgers. */
function takesOf(
  ledgers: ReadonlyMap<string, readonly LedgerLine[]>,
  workerIds: readonly string[],
  shardIds: readonly string[],
  sinceMs: number,
): Take[] {
  return workerIds.flatMap((workerId) =>
    events(ledgers.get(workerId) ?? [], 'LEASE_TAKEN')
      .filter((e) => shardIds.includes(e.key) && e.atMs >= sinceMs)
      .map((e) => ({ ...e, workerId })),
  );
}

/** `workerId`'s first delivered batch on each of `shardIds` after its take of that shard since `sinceMs`. */
function deliveredAfterTake(
  ledgers: ReadonlyMap<string, readonly LedgerLine[]>,
  workerId: string,
  shardIds: readonly string[],
  sinceMs: number,
) {
  const lines = ledgers.get(workerId) ?? [];
  return takesOf(ledgers, [workerId], shardIds, sinceMs).flatMap((take) => {
    const delivery = lines.find((l) => l.kind === 'D' && l.shardId === take.key && l.atMs >= take.atMs);
    return delivery ? [delivery] : [];
  });
}

/**
 * Fan-out: the new owner of each take subscribed to the shard within `withinMs` of its take. kinesis-local
 * refuses a second open subscription of a consumer on a shard for as long as the first one stays open
 * (measured: indefinitely), and frees a cancelled one about 3 s after its client closed the connection;
 * the new owner meets `ResourceInUseException` meanwhile and retries with backoff (counted and printed).
 * @returns when each take's subscription started.
 */
function expectSubscribedAfter(
  ledgers: ReadonlyMap<string, readonly LedgerLine[]>,
  takes: readonly Take[],
  withinMs: number,
  label: string,
): Map<Take, number> {
  const subscribedAt = new Map<Take, number>();
  const waits: string[] = [];
  for (const take of takes) {
    const lines = events(ledgers.get(take.workerId) ?? []).filter(
      (e) => e.key === take.key && e.atMs >= take.atMs,
    );
    const subscribed = lines.find((e) => e.type === 'SUBSCRIBED');
    expect(subscribed, `${take.workerId} subscribed to ${take.key} after taking it`).toBeDefined();
    const inUse = lines.filter(
      (e) =>
        e.type === 'RETRY' &&
        e.extra?.endsWith(':ResourceInUseException') &&
        e.atMs <= (subscribed?.atMs ?? Number.POSITIVE_INFINITY),
    );
    waits.push(`${take.key} ${subscribed!.atMs - take.atMs} ms (${inUse.length} refused)`);
    expect(subscribed!.atMs - take.atMs, `${take.workerId} subscribed to ${take.key}`).toBeLessThan(withinMs);
    subscribedAt.set(take, subscribed!.atMs);
  }
  console.info(`[fleet fan-out ${label}] take to subscription: ${waits.join(', ')}`);
  return subscribedAt;
}

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

  it('throttled lease table (a third of lease-table requests fail with ProvisionedThroughputExceededException): no healthy worker loses a lease', async () => {
    const fleet = await setUp('throttled', 4);
    await fleet.put(200);
    const seed = testSeed('throttled lease table');
    const w1 = await fleet.start('w1', { throttle: { share: 0.33, seed } });
    const w2 = await fleet.start('w2', { throttle: { share: 0.33, seed: seed + 1 } });
    await untilAsync(async () => balanced(await fleet.owners(), ['w1', 'w2'], 4), 40_000, '2/2');
    const stopProducing = fleet.produce();
    await new Promise((resolve) => setTimeout(resolve, 8_000)); // several failover times
    const ledgers = await fleet.drain(stopProducing, w1, w2);
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

describe.each(RETRIEVAL_MODES)('a fleet of worker processes reading by %s', (mode) => {
  it('graceful stop of one of three: its shards move without waiting for expiry, zero duplicates', async () => {
    const fleet = await setUp('graceful', 6, mode);
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
    const ledgers = await fleet.drain(stopProducing);
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
    if (mode === 'fanOut') {
      // w2 cancelled its subscriptions (before releasing, see the unit tests): the takers got in within
      // kinesis-local's delay in freeing a closed subscription.
      expectSubscribedAfter(
        ledgers,
        takesOf(ledgers, ['w1', 'w3'], released, stoppedAtMs),
        8_000,
        'graceful',
      );
    }
    await Promise.all([w1.stop(), w3.stop()]);
  }, 120_000);

  it('SIGKILL of one of three: its shards are taken after the failover time; only records after its last checkpoint are re-delivered', async () => {
    const fleet = await setUp('sigkill', 6, mode);
    await fleet.put(300);
    const w1 = await fleet.start('w1');
    const w2 = await fleet.start('w2', { checkpointIntervalMs: W2_CHECKPOINT_MS });
    const w3 = await fleet.start('w3');
    await untilAsync(async () => balanced(await fleet.owners(), ['w1', 'w2', 'w3'], 6), 40_000, '2/2/2');
    const stopProducing = fleet.produce();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    // The kill point: w2 holds processed records past a checkpoint written so recently that the next
    // one is still at least 500 ms away (one write per interval), so some work is surely redone.
    await until(
      () => hasUnwrittenWork(readLedger(w2.ledgerPath), W2_CHECKPOINT_MS - 500),
      20_000,
      'w2 to hold processed records after its last checkpoint',
    );
    const killedAtMs = Date.now();
    w2.child.kill('SIGKILL');
    await w2.exited;
    await untilAsync(async () => balanced(await fleet.owners(), ['w1', 'w3'], 6), 30_000, '3/3');
    const ledgers = await fleet.drain(stopProducing);
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
    const dups = duplicates(ledgers);
    // The killed process's connections died with it: the new owners subscribed once kinesis-local let go.
    if (mode === 'fanOut')
      expectSubscribedAfter(ledgers, takesOf(ledgers, ['w1', 'w3'], w2Shards, killedAtMs), 8_000, 'SIGKILL');
    expect(dups.length).toBeGreaterThan(0); // killed with processed records not checkpointed
    for (const [body, list] of dups) {
      expect(list.map((d) => d.workerId).sort()[0], body).not.toBe(list.map((d) => d.workerId).sort()[1]);
    }
    expectRedeliveredAfterCheckpoint(dups, w2Ledger, 'w2');
    await Promise.all([w1.stop(), w3.stop()]);
  }, 120_000);

  it('zombie cut off from DynamoDB (TCP proxy) longer than the failover time: it stops delivering before its leases are taken; its late checkpoints never land', async () => {
    const fleet = await setUp('zombie', 4, mode);
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
      // The zombie still reaches Kinesis: in fan-out its subscriptions stay open unless it cancels them,
      // and kinesis-local would then refuse w1 for good. w1 delivering on every stolen shard proves they
      // were cancelled (wait for it before the zombie may take shards back).
      const stolen = () => events(fleet.ledgers().get('zombie')!, 'LEASE_LOST').map((e) => e.key);
      if (mode === 'fanOut')
        await until(
          () =>
            deliveredAfterTake(fleet.ledgers(), 'w1', stolen(), cutAtMs).length === stolen().length &&
            stolen().length > 0,
          20_000,
          'w1 to deliver on every stolen shard',
        );
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const restoredAtMs = Date.now();
      proxy.restore();
      await untilAsync(async () => balanced(await fleet.owners(), ['w1', 'zombie'], 4), 40_000, '2/2 again');
      if (mode === 'fanOut') {
        // Wait for it: the records may all be processed before the zombie needs a subscription.
        const subscribedBack = () => {
          const ledger = fleet.ledgers().get('zombie')!;
          const takes = events(ledger, 'LEASE_TAKEN').filter((e) => e.atMs >= restoredAtMs);
          return (
            takes.length > 0 &&
            takes.every((t) => events(ledger, 'SUBSCRIBED').some((e) => e.key === t.key && e.atMs >= t.atMs))
          );
        };
        await until(subscribedBack, 20_000, 'the zombie to subscribe to the shards it took back');
      }
      const ledgers = await fleet.drain(stopProducing, w1, zombie);
      expectNoZombieWork(ledgers, 'zombie', cutAtMs);
      if (mode === 'fanOut') {
        const takes = takesOf(ledgers, ['w1'], stolen(), cutAtMs);
        expect(takes.length).toBe(stolen().length);
        expectSubscribedAfter(ledgers, takes, 10_000, 'zombie behind a cut proxy');
        // w1 delivered on each stolen shard before the zombie took any back.
        const retakes = events(ledgers.get('zombie')!, 'LEASE_TAKEN').filter((e) => e.atMs > cutAtMs);
        for (const key of stolen()) {
          const firstDelivery = deliveredAfterTake(ledgers, 'w1', [key], cutAtMs)[0];
          expect(firstDelivery, `w1 delivered on ${key}`).toBeDefined();
          for (const retake of retakes) expect(firstDelivery!.atMs).toBeLessThan(retake.atMs);
        }
        // Back online, the zombie took shards back from w1, which is alive and subscribed: the zombie
        // getting in proves w1 cancelled those subscriptions when it gave the leases up.
        const takenBack = takesOf(ledgers, ['zombie'], [...new Set(retakes.map((e) => e.key))], restoredAtMs);
        expect(takenBack.length).toBeGreaterThan(0);
        expectSubscribedAfter(ledgers, takenBack, 10_000, 'w1 gives shards back to the zombie');
        console.info(
          `[fleet fan-out zombie behind a cut proxy] w1 handed off ${events(ledgers.get('w1')!, 'LEASE_HANDED_OFF').length}, lost ${events(ledgers.get('w1')!, 'LEASE_LOST').length}`,
        );
      }
    } finally {
      await proxy.close();
    }
  }, 150_000);

  it('zombie frozen (SIGSTOP longer than the failover time, then SIGCONT): nothing delivered after its leases were taken, no late checkpoint', async () => {
    const fleet = await setUp('frozen', 4, mode);
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
    const thawedAtMs = Date.now();
    await untilAsync(async () => balanced(await fleet.owners(), ['w1', 'zombie'], 4), 40_000, '2/2 again');
    const ledgers = await fleet.drain(stopProducing, w1, zombie);
    expectNoZombieWork(ledgers, 'zombie', frozenAtMs);
    if (mode === 'fanOut') {
      // A frozen process cannot cancel. Yet kinesis-local (measured) accepts w1's first subscription, sent
      // while the zombie is still frozen: it has dropped the subscription of a client that stopped
      // reading (AWS hands the shard to a new subscription after 5 s). The fencing above is what counts.
      const stolen = events(ledgers.get('zombie')!, 'LEASE_LOST').map((e) => e.key);
      const takes = takesOf(ledgers, ['w1'], stolen, frozenAtMs);
      expect(takes.length).toBe(stolen.length);
      const subscribedAt = expectSubscribedAfter(ledgers, takes, 20_000, 'frozen zombie');
      console.info(
        `[fleet fan-out frozen zombie] subscriptions ${[...subscribedAt.values()].map((at) => at - thawedAtMs).join(', ')} ms after the thaw`,
      );
    }
  }, 150_000);
});

describe("a leader-assigned fleet of worker processes (leaseAssignment: 'leader')", () => {
  const leader = { leaseAssignment: 'leader' } as const;
  const coordinatorTable = (applicationName: string) =>
    new DynamoDBLeaseStore({ client: dynamodb, tableName: `${applicationName}-ShardlineCoordinator` });
  const leaderOf = async (applicationName: string) =>
    (await coordinatorTable(applicationName).getLease('leader'))?.leaseOwner;
  const WORKERS = ['w1', 'w2', 'w3'];
  /** w1, w2 and w3 on six shards holding 300 records, balanced 2/2/2; `first` leads, `rest` do not. */
  const threeBalanced = async (name: string) => {
    const fleet = await setUp(name, 6);
    await fleet.put(300);
    const workers = new Map<string, FleetProcess>();
    for (const id of WORKERS) workers.set(id, await fleet.start(id, leader));
    await untilAsync(async () => balanced(await fleet.owners(), WORKERS, 6), 40_000, '2/2/2');
    const first = (await leaderOf(fleet.applicationName))!;
    return { fleet, workers, first, rest: WORKERS.filter((id) => id !== first) };
  };

  it('three workers: one leader, shards 2/2/2; a graceful stop of the leader moves its shards and the leadership at once, zero duplicates', async () => {
    const { fleet, workers, first, rest } = await threeBalanced('leader-graceful');
    expect(WORKERS).toContain(first);
    const stopProducing = fleet.produce();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const stoppedAtMs = Date.now();
    await workers.get(first)!.stop();
    await untilAsync(async () => balanced(await fleet.owners(), rest, 6), 20_000, '3/3');
    const movedMs = Date.now() - stoppedAtMs;
    const next = await leaderOf(fleet.applicationName);
    expect(rest).toContain(next);
    const ledgers = await fleet.drain(stopProducing);
    const released = events(ledgers.get(first)!, 'LEASE_RELEASED').map((e) => e.key);
    expect(released).toHaveLength(2);
    const takes = takesOf(ledgers, rest, released, stoppedAtMs);
    expect(takes).toHaveLength(2);
    console.log(`leader ${first} stopped; ${next} leads; its shards moved in ${movedMs} ms`);
    // Released leases are assigned by the next leader without waiting for any expiry.
    for (const take of takes) expect(take.atMs - stoppedAtMs).toBeLessThan(FAILOVER_MS + RENEW_MS);
    expect(duplicates(ledgers)).toEqual([]);
    await Promise.all(rest.map((id) => workers.get(id)!.stop()));
  }, 120_000);

  it('SIGKILL of the leader: another worker is elected and takes its shards over after about two failover times; only records after its last checkpoint are re-delivered', async () => {
    const { fleet, workers, first, rest } = await threeBalanced('leader-sigkill');
    const victim = workers.get(first)!;
    const stopProducing = fleet.produce();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const killedAtMs = Date.now();
    victim.child.kill('SIGKILL');
    await victim.exited;
    await untilAsync(async () => balanced(await fleet.owners(), rest, 6), 40_000, '3/3');
    const movedMs = Date.now() - killedAtMs;
    expect(rest).toContain(await leaderOf(fleet.applicationName));
    const ledgers = await fleet.drain(stopProducing);
    const victimShards = [...new Set(events(ledgers.get(first)!, 'LEASE_TAKEN').map((e) => e.key))];
    const takes = takesOf(ledgers, rest, victimShards, killedAtMs);
    expect(takes.length).toBeGreaterThanOrEqual(2);
    console.log(`leader ${first} killed; shards moved in ${movedMs} ms`);
    for (const take of takes) {
      // The leader item expires (one failover time), the new leader observes the leases afresh (one
      // more), then assigns.
      expect(take.atMs - killedAtMs).toBeGreaterThanOrEqual(FAILOVER_MS - RENEW_MS - 100);
      expect(take.atMs - killedAtMs).toBeLessThan(2 * FAILOVER_MS + 8_000);
    }
    expectRedeliveredAfterCheckpoint(duplicates(ledgers), ledgers.get(first)!, first);
    await Promise.all(rest.map((id) => workers.get(id)!.stop()));
  }, 150_000);
});
