import { describe, expect, it, vi } from 'vitest';
import { ShardCheckpointer } from '../../src/checkpoint/ShardCheckpointer.js';
import { CheckpointRejectedError, type ExtendedSequenceNumber } from '../../src/index.js';

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
    clock: { nowMs: () => nowMs },
    onWriteError: () => {},
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
    await lost.checkpointer.checkpoint(at(3));
    expect(lost.checkpointer.isLeaseLost).toBe(true);
    expect(await lost.checkpointer.writeShardEnd([])).toBe(false);
    expect(lost.writes).toEqual(['3:0']);
  });

  it('prepares a checkpoint at once, within what was delivered and not before the checkpoint', async () => {
    const { checkpointer, writes } = make(60_000);
    checkpointer.markDelivered(at(10));
    await checkpointer.checkpoint(at(4));
    await expect(checkpointer.prepare(at(11), undefined)).rejects.toBeInstanceOf(CheckpointRejectedError);
    await expect(checkpointer.prepare(at(3), undefined)).rejects.toBeInstanceOf(CheckpointRejectedError);
    expect(await checkpointer.prepare(at(9), new Uint8Array([7]))).toBe(true);
    expect(writes).toEqual(['prepare 9 [7]']); // the coalesced checkpoint at 4 is not written yet
  });
});
