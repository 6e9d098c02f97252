import { describe, expect, it, vi } from 'vitest';
import { ShardCheckpointer } from '../../src/checkpoint/ShardCheckpointer.js';
import {
  CheckpointRejectedError,
  DependencyError,
  type ExtendedSequenceNumber,
  LeaseLostError,
  RetriesExhaustedError,
} from '../../src/index.js';

const at = (n: number, sub = 0): ExtendedSequenceNumber => ({
  sequenceNumber: String(n),
  subSequenceNumber: sub,
});

function make(intervalMs: number, outcome: () => 'WRITTEN' | 'LEASE_LOST' = () => 'WRITTEN') {
  const writes: string[] = [];
  let nowMs = 0;
  const checkpointer = new ShardCheckpointer({
    shardId: 's',
    initialCheckpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 },
    lease: {
      checkpoint: async ({ checkpoint: position, childShardIds: children }) => {
        writes.push(
          `${position.sequenceNumber}:${position.subSequenceNumber}${children ? `>${children.join(',')}` : ''}`,
        );
        return outcome();
      },
      prepare: async ({ pendingCheckpoint: position, pendingCheckpointState: state }) => {
        writes.push(`prepare ${position.sequenceNumber}${state ? ` [${[...state].join(',')}]` : ''}`);
        return outcome();
      },
    },
    checkpointIntervalMs: intervalMs,
    retryBudgetMs: 1_000,
    clock: { nowMs: () => nowMs },
    onRetry: () => {},
    onGiveUp: () => {},
    onWritten: () => {},
  });
  return { checkpointer, writes, advance: (ms: number) => (nowMs += ms) };
}

describe('ShardCheckpointer', () => {
  it('never passes a record that was not delivered', async () => {
    const { checkpointer, writes } = make(0);
    await expect(checkpointer.checkpoint(at(1))).rejects.toBeInstanceOf(CheckpointRejectedError);
    checkpointer.markDelivered(at(5));
    await expect(checkpointer.checkpoint(at(6))).rejects.toBeInstanceOf(CheckpointRejectedError);
    await expect(checkpointer.checkpoint(at(5, 1))).rejects.toBeInstanceOf(CheckpointRejectedError);
    await checkpointer.checkpoint(at(5));
    expect(writes).toEqual(['5:0']);
  });

  it('never moves backwards', async () => {
    const { checkpointer, writes } = make(0);
    checkpointer.markDelivered(at(9));
    await checkpointer.checkpoint(at(7));
    await checkpointer.checkpoint(at(3));
    await checkpointer.checkpoint(at(7));
    expect(writes).toEqual(['7:0']);
    expect(checkpointer.requested).toEqual(at(7));
  });

  it('coalesces writes to one per interval, the newest position winning', async () => {
    vi.useFakeTimers();
    try {
      const { checkpointer, writes, advance } = make(1_000);
      checkpointer.markDelivered(at(100));
      await checkpointer.checkpoint(at(1));
      await checkpointer.checkpoint(at(2));
      await checkpointer.checkpoint(at(3));
      await vi.advanceTimersByTimeAsync(0);
      expect(writes).toEqual(['3:0']);
      advance(10);
      await checkpointer.checkpoint(at(4));
      await checkpointer.checkpoint(at(5));
      await vi.advanceTimersByTimeAsync(500);
      expect(writes).toEqual(['3:0']);
      advance(1_000);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(writes).toEqual(['3:0', '5:0']);
      await checkpointer.flush();
      expect(writes).toEqual(['3:0', '5:0']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('flushes the last checkpoint before SHARD_END, and stops writing once the lease is lost', async () => {
    const { checkpointer, writes } = make(60_000);
    checkpointer.markDelivered(at(8));
    await checkpointer.checkpoint(at(8));
    expect(await checkpointer.writeShardEnd(['c1', 'c2'])).toBe(true);
    expect(writes).toEqual(['8:0', 'SHARD_END:0>c1,c2']);

    const lost = make(0, () => 'LEASE_LOST');
    lost.checkpointer.markDelivered(at(3));
    await expect(lost.checkpointer.checkpoint(at(3))).rejects.toBeInstanceOf(LeaseLostError);
    expect(lost.checkpointer.isLeaseLost).toBe(true);
    await expect(lost.checkpointer.prepare(at(3), undefined)).rejects.toBeInstanceOf(LeaseLostError);
    expect(await lost.checkpointer.writeShardEnd([])).toBe(false);
    expect(lost.writes).toEqual(['3:0']);
  });

  it('prepares a checkpoint at once, within what was delivered and not before the checkpoint', async () => {
    const { checkpointer, writes } = make(60_000);
    checkpointer.markDelivered(at(10));
    await checkpointer.checkpoint(at(4));
    await expect(checkpointer.prepare(at(11), undefined)).rejects.toBeInstanceOf(CheckpointRejectedError);
    await expect(checkpointer.prepare(at(3), undefined)).rejects.toBeInstanceOf(CheckpointRejectedError);
    await checkpointer.prepare(at(9), new Uint8Array([7]));
    expect(writes).toEqual(['prepare 9 [7]']); // the coalesced checkpoint at 4 is not written yet
  });
});

/** A lease whose table fails every write with `error` (counting the attempts), until `heal()`. */
function failingTable(
  error: () => unknown,
  intervalMs: number,
  retryBudgetMs: number,
  backoff?: { initialDelayMs: number; maxDelayMs: number },
) {
  let isFailing = true;
  const attemptsAtMs: number[] = [];
  const written: string[] = [];
  const gaveUp: unknown[] = [];
  const retried: number[] = [];
  const write = async (position: ExtendedSequenceNumber) => {
    attemptsAtMs.push(performance.now());
    if (isFailing) throw error();
    written.push(position.sequenceNumber);
    return 'WRITTEN' as const;
  };
  const checkpointer = new ShardCheckpointer({
    shardId: 's',
    initialCheckpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 },
    lease: {
      checkpoint: ({ checkpoint }) => write(checkpoint),
      prepare: ({ pendingCheckpoint }) => write(pendingCheckpoint),
    },
    checkpointIntervalMs: intervalMs,
    retryBudgetMs,
    ...(backoff ? { backoff } : {}),
    clock: { nowMs: () => performance.now() },
    onRetry: (_error, _attempt, delayMs) => retried.push(delayMs),
    onGiveUp: (failure) => gaveUp.push(failure),
    onWritten: () => {},
  });
  return { checkpointer, attemptsAtMs, written, gaveUp, retried, heal: () => (isFailing = false) };
}

const throttled = () =>
  new DependencyError('dynamodb', 'UpdateItem', new Error('ProvisionedThroughputExceeded'), true);

describe('ShardCheckpointer against a failing table', () => {
  it('with interval 0, resolves only once written, and rejects with RetriesExhaustedError when the table keeps failing', async () => {
    const table = failingTable(throttled, 0, 600);
    table.checkpointer.markDelivered(at(10));
    const failure = await table.checkpointer.checkpoint(at(5)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RetriesExhaustedError);
    expect((failure as RetriesExhaustedError).attempts).toBe(table.attemptsAtMs.length);
    expect((failure as RetriesExhaustedError).cause).toBeInstanceOf(DependencyError);
    expect(table.gaveUp).toEqual([failure]);
    expect(table.checkpointer.written.sequenceNumber).toBe('TRIM_HORIZON');
    // Still recorded: the next write covers it once the table answers.
    table.heal();
    await table.checkpointer.checkpoint(at(7));
    expect(table.written).toEqual(['7']);
    expect(table.checkpointer.written).toEqual(at(7));
  });

  it('gives up at once on an error that cannot be retried (a plain Error), without a retry storm', async () => {
    const table = failingTable(() => new Error('not a store error'), 0, 60_000);
    table.checkpointer.markDelivered(at(10));
    await expect(table.checkpointer.checkpoint(at(5))).rejects.toBeInstanceOf(RetriesExhaustedError);
    expect(table.attemptsAtMs).toHaveLength(1);
  });

  it.each([
    ['retriable (throttled)', throttled],
    ['not retriable (a plain Error)', () => new Error('injected')],
  ])(
    'bounds the write attempts per second per shard, whatever the callers do (≤ 10/s): %s',
    async (_kind, error) => {
      // Callers that checkpoint again the moment a checkpoint rejects (a plain Error once caused 857
      // attempts/s): every attempt of every call shares the shard's backoff.
      const table = failingTable(error, 0, 1_500);
      table.checkpointer.markDelivered(at(100_000));
      const windowMs = 2_000;
      const startedAtMs = performance.now();
      let calls = 0;
      const callers = [0, 1, 2].map(async (lane) => {
        for (let n = 1; performance.now() - startedAtMs < windowMs; n++) {
          calls += 1;
          await table.checkpointer.checkpoint(at(n * 3 + lane)).catch(() => undefined);
          await new Promise((resolve) => setImmediate(resolve));
        }
      });
      await Promise.all(callers);
      const inWindow = table.attemptsAtMs.filter((t) => t - startedAtMs < windowMs);
      const gaps = inWindow.slice(1).map((t, i) => t - inWindow[i]!);
      // The first backoff is at least half of 200 ms (equal jitter), so no two attempts are closer than
      // 100 ms (timer slack allowed): at most 10 per second, ≤ 21 in two seconds.
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(95);
      expect(inWindow.length).toBeLessThanOrEqual(21);
      expect(inWindow.length).toBeGreaterThanOrEqual(3); // it did keep trying
      expect(calls).toBeGreaterThan(3);
      console.info(
        `checkpoint write attempts against a failing table: ${inWindow.length} in ${windowMs} ms (${calls} checkpoint calls)`,
      );
    },
    20_000,
  );

  it('with an interval, resolves once recorded; a background write that gave up is reported by the next checkpoint() and retried', async () => {
    const table = failingTable(throttled, 50, 150, { initialDelayMs: 100, maxDelayMs: 200 });
    table.checkpointer.markDelivered(at(10));
    await table.checkpointer.checkpoint(at(3)); // recorded
    await vi.waitFor(() => expect(table.gaveUp).toHaveLength(1), { timeout: 3_000 });
    await expect(table.checkpointer.checkpoint(at(4))).rejects.toBeInstanceOf(RetriesExhaustedError);
    expect(table.checkpointer.requested).toEqual(at(4)); // recorded all the same
    table.heal();
    await vi.waitFor(() => expect(table.written).toEqual(['4']), { timeout: 5_000 });
    await table.checkpointer.checkpoint(at(5)); // no failure left to report
  }, 15_000);

  it('prepareCheckpoint is retried with the same backoff and rejects with RetriesExhaustedError', async () => {
    const table = failingTable(throttled, 0, 400);
    table.checkpointer.markDelivered(at(10));
    await expect(table.checkpointer.prepare(at(5), undefined)).rejects.toBeInstanceOf(RetriesExhaustedError);
    const gaps = table.attemptsAtMs.slice(1).map((t, i) => t - table.attemptsAtMs[i]!);
    expect(gaps.length).toBeGreaterThan(0);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(95);
  });

  it('a write waiting for its next attempt gives up with LeaseLostError when the session closes', async () => {
    const table = failingTable(throttled, 0, 60_000);
    table.checkpointer.markDelivered(at(10));
    const pending = table.checkpointer.checkpoint(at(5));
    await vi.waitFor(() => expect(table.attemptsAtMs.length).toBeGreaterThan(0));
    table.checkpointer.close();
    await expect(pending).rejects.toBeInstanceOf(LeaseLostError);
  });
});
