import { getEventListeners } from 'node:events';
import { DeadlineExceededError } from '@shardline/common';
import { describe, expect, it } from 'vitest';
import {
  DependencyError,
  type DynamoDBClientLike,
  DynamoDBLeaseStore,
  type KinesisClientLike,
  KinesisShardLister,
} from '../../src/index.js';

/** A client whose every call hangs and ignores its signal; it records the signals it was given. */
function hungClient() {
  const signals: AbortSignal[] = [];
  const names: string[] = [];
  const client = {
    send: (command: { constructor: { name: string } }, options?: { abortSignal?: AbortSignal }) => {
      names.push(command.constructor.name);
      if (options?.abortSignal) signals.push(options.abortSignal);
      return new Promise(() => {});
    },
  };
  return { client, signals, names };
}

async function failure(call: Promise<unknown>): Promise<DependencyError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DependencyError);
  return error as DependencyError;
}

describe('the deadline of every call the adapters make', () => {
  it('DynamoDBLeaseStore: each lease-table call is cut at callTimeoutMs, its signal aborted, retriable', async () => {
    const hung = hungClient();
    const store = new DynamoDBLeaseStore({
      client: hung.client as unknown as DynamoDBClientLike,
      tableName: 'leases',
      callTimeoutMs: 30,
    });
    const loop = new AbortController();
    const lease = {
      leaseKey: 'shardId-000000000000',
      leaseOwner: 'w1',
      leaseCounter: 3,
      checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 },
      ownerSwitchesSinceCheckpoint: 0,
      parentShardIds: [],
      unknownAttributes: {},
    } as never;
    const calls: [string, Promise<unknown>][] = [
      ['Scan', store.listLeases(loop.signal)],
      ['GetItem', store.getLease('shardId-000000000000', loop.signal)],
      ['UpdateItem', store.renewLease(lease, loop.signal)],
      ['DescribeTable', store.initialize(loop.signal)],
    ];
    expect(getEventListeners(loop.signal, 'abort')).toHaveLength(1);
    for (const [operation, call] of calls) {
      const error = await failure(call);
      expect(error.retriable).toBe(true);
      expect(error.cause).toBeInstanceOf(DeadlineExceededError);
      expect(error.cause).toMatchObject({ operation, timeoutMs: 30 });
    }
    expect(hung.signals.every((s) => s.aborted && s !== loop.signal)).toBe(true);
    expect(getEventListeners(loop.signal, 'abort')).toHaveLength(0);
  });

  it('KinesisShardLister: a ListShards page that never answers is cut and retried, then fails', async () => {
    const hung = hungClient();
    const lister = new KinesisShardLister({
      client: hung.client as unknown as KinesisClientLike,
      streamName: 's',
      callTimeoutMs: 20,
    });
    const error = await failure(lister.listShards());
    expect(error.cause).toBeInstanceOf(DeadlineExceededError);
    expect(error.cause).toMatchObject({ operation: 'ListShards', timeoutMs: 20 });
    expect(hung.names.length).toBeGreaterThan(1); // retried with the listing's backoff
  }, 30_000);
});
