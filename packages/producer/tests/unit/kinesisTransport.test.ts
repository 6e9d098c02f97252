import {
  ListShardsCommand,
  ProvisionedThroughputExceededException,
  type PutRecordsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-kinesis';
import { deaggregate } from '@shardline/kpl';
import { ConfigurationError, createProducer, kinesisTransport } from '@shardline/producer';
import { describe, expect, it } from 'vitest';
import { translateKinesisError } from '../../src/transport/kinesis/kinesisTransport.js';
import { ShardMap } from '../../src/transport/kinesis/ShardMap.js';
import { SAMPLE_RECORD } from '../helpers/FakeTransport.js';

const MAX = (1n << 128n) - 1n;
const signal = new AbortController().signal;

describe('ShardMap', () => {
  it('finds the shard holding a hash key, and nothing in a gap', () => {
    const map = new ShardMap([
      { shardId: 'b', startingHashKey: 100n, endingHashKey: 199n },
      { shardId: 'a', startingHashKey: 0n, endingHashKey: 99n },
      { shardId: 'd', startingHashKey: 300n, endingHashKey: MAX },
    ]);
    expect([0n, 99n, 100n, 199n, 250n, 300n, MAX].map((h) => map.shardFor(h))).toEqual([
      'a',
      'a',
      'b',
      'b',
      undefined,
      'd',
      'd',
    ]);
  });
});

describe('translateKinesisError', () => {
  it('marks throttling retriable, a missing stream final, unknown faults retriable', () => {
    const throttled = translateKinesisError(
      new ProvisionedThroughputExceededException({ message: 'x', $metadata: {} }),
      signal,
    );
    expect(throttled).toMatchObject({
      retriable: true,
      isThrottle: true,
      code: 'ProvisionedThroughputExceededException',
    });
    expect(
      translateKinesisError(new ResourceNotFoundException({ message: 'x', $metadata: {} }), signal),
    ).toMatchObject({ retriable: false });
    expect(
      translateKinesisError(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }), signal),
    ).toMatchObject({ retriable: true });
  });
});

describe('kinesisTransport', () => {
  it('lists every wrong option', () => {
    const error = (() => {
      try {
        kinesisTransport({
          client: {} as never,
          streamArn: 'orders',
          maxRequestBytes: 1,
          aggregation: { maxRecordBytes: 10 },
        });
      } catch (e) {
        return e as ConfigurationError;
      }
    })();
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error!.problems.map((p) => p.path)).toEqual([
      'client',
      'streamArn',
      'maxRequestBytes',
      'aggregation.maxRecordBytes',
    ]);
  });

  it('aggregates per shard of the ListShards map and gives each event its sub-sequence number', async () => {
    const puts: PutRecordsCommand[] = [];
    const client = {
      send: async (command: unknown) => {
        if (command instanceof ListShardsCommand) {
          return {
            Shards: [
              {
                ShardId: 'low',
                HashKeyRange: { StartingHashKey: '0', EndingHashKey: String(2n ** 127n - 1n) },
                SequenceNumberRange: { StartingSequenceNumber: '1' },
              },
              {
                ShardId: 'high',
                HashKeyRange: { StartingHashKey: String(2n ** 127n), EndingHashKey: String(MAX) },
                SequenceNumberRange: { StartingSequenceNumber: '1' },
              },
              // A closed parent: no writes go there.
              {
                ShardId: 'old',
                HashKeyRange: { StartingHashKey: '0', EndingHashKey: String(MAX) },
                SequenceNumberRange: { StartingSequenceNumber: '0', EndingSequenceNumber: '9' },
              },
            ],
          };
        }
        const put = command as PutRecordsCommand;
        puts.push(put);
        return {
          Records: put.input.Records!.map((_e, i) => ({
            ShardId: i === 0 ? 'low' : 'high',
            SequenceNumber: String(100 + i),
          })),
        };
      },
    };
    const transport = kinesisTransport({ client: client as never, streamName: 's', aggregation: true });
    const producer = createProducer({ transport, lingerMs: 60_000, deadLetter: () => {} });
    // Explicit hash keys pin the shards: 3 events low, 2 high.
    const keys = ['1', '2', String(2n ** 127n + 5n), '3', String(MAX)];
    const results = Promise.all(
      keys.map((k, i) => producer.put({ i }, { eventId: `e${i}`, explicitHashKey: k })),
    );
    await producer.flush();
    const answered = await results;
    await producer.close();
    expect(puts).toHaveLength(1);
    const entries = puts[0]!.input.Records!;
    expect(entries).toHaveLength(2);
    expect(deaggregate(entries[0]!.Data!)!.map((u) => u.explicitHashKey)).toEqual(['1', '2', '3']);
    expect(deaggregate(entries[1]!.Data!)!.map((u) => u.explicitHashKey)).toEqual([
      String(2n ** 127n + 5n),
      String(MAX),
    ]);
    expect(answered.map((r) => [r.eventId, r.shardId, r.sequenceNumber, r.subSequenceNumber])).toEqual([
      ['e0', 'low', '100', 0],
      ['e1', 'low', '100', 1],
      ['e2', 'high', '101', 0],
      ['e3', 'low', '100', 2],
      ['e4', 'high', '101', 1],
    ]);
  });
});

describe('kinesisTransport without aggregation', () => {
  const meta = { $metadata: {} };
  const record = (i: number, bytes = 100) => ({
    eventId: `e${i}`,
    partitionKey: `p${i}`,
    explicitHashKey: i === 0 ? '42' : undefined,
    envelope: Buffer.alloc(bytes, 0x31),
    dataOffset: 0,
  });

  it('sends one entry per record in one call, outcomes in order', async () => {
    const calls: { Data?: Uint8Array; PartitionKey?: string; ExplicitHashKey?: string }[][] = [];
    const client = {
      send: async (command: PutRecordsCommand) => {
        const entries = command.input.Records!;
        calls.push(entries);
        return {
          ...meta,
          Records: entries.map((_, i) =>
            i === 1
              ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'slow down' }
              : { ShardId: 'shardId-000000000000', SequenceNumber: `${100 + i}` },
          ),
        };
      },
    };
    const transport = kinesisTransport({ client: client as never, streamName: 's' });
    const records = [0, 1, 2].map((i) => record(i));
    const { outcomes } = await transport.send(records, signal);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.map((e) => [e.PartitionKey, e.ExplicitHashKey, e.Data])).toEqual(
      records.map((r) => [r.partitionKey, r.explicitHashKey, r.envelope]),
    );
    expect(outcomes).toEqual([
      { ok: true, shardId: 'shardId-000000000000', sequenceNumber: '100' },
      {
        ok: false,
        errorCode: 'ProvisionedThroughputExceededException',
        errorMessage: 'slow down',
        retriable: true,
        isThrottle: true,
      },
      { ok: true, shardId: 'shardId-000000000000', sequenceNumber: '102' },
    ]);
  });

  it('splits a batch over one call’s limits (500 records, maxRequestBytes); a failed call fails its own records only', async () => {
    const sizes: number[] = [];
    const client = {
      send: async (command: PutRecordsCommand) => {
        const entries = command.input.Records!;
        sizes.push(entries.length);
        if (sizes.length === 2) throw new ResourceNotFoundException({ message: 'gone', $metadata: {} });
        return {
          ...meta,
          Records: entries.map((e) => ({ ShardId: 'shardId-000000000001', SequenceNumber: e.PartitionKey })),
        };
      },
    };
    // 1,000 bytes of data plus a 2–4 byte key: two records fit a 2,048-byte call, a third does not.
    const transport = kinesisTransport({ client: client as never, streamName: 's', maxRequestBytes: 2048 });
    const records = Array.from({ length: 5 }, (_, i) => record(i, 1000));
    const { outcomes } = await transport.send(records, signal);
    expect(sizes).toEqual([2, 2, 1]);
    expect(outcomes.map((o) => (o.ok ? o.sequenceNumber : o.errorCode))).toEqual([
      'p0',
      'p1',
      'ResourceNotFoundException',
      'ResourceNotFoundException',
      'p4',
    ]);

    sizes.length = 0;
    const many = Array.from({ length: 501 }, (_, i) => record(i, 10));
    const big = kinesisTransport({
      client: {
        send: async (c: PutRecordsCommand) => {
          sizes.push(c.input.Records!.length);
          return { ...meta, Records: c.input.Records!.map(() => ({ ShardId: 's', SequenceNumber: '1' })) };
        },
      } as never,
      streamName: 's',
    });
    expect((await big.send(many, signal)).outcomes.every((o) => o.ok)).toBe(true);
    expect(sizes).toEqual([500, 1]);
  });

  it('a single call that fails throws, so the producer sees a failed request', async () => {
    const client = {
      send: async () => {
        throw new ResourceNotFoundException({ message: 'gone', $metadata: {} });
      },
    };
    const transport = kinesisTransport({ client: client as never, streamName: 's' });
    await expect(transport.send([record(1)], signal)).rejects.toMatchObject({
      code: 'ResourceNotFoundException',
      retriable: false,
    });
  });
});

describe('kinesisTransport deadlines and the destination check', () => {
  const meta = { $metadata: {} };
  /** An error of the AWS SDK for a refused request (`$fault: client`). */
  const clientFault = (name: string, message: string) =>
    Object.assign(new Error(message), { name, $fault: 'client', ...meta });

  it('a PutRecords call without an answer is aborted at requestTimeoutMs: code Timeout, retriable', async () => {
    let seen: AbortSignal | undefined;
    const client = {
      send: (_c: unknown, options: { abortSignal: AbortSignal }) => {
        seen = options.abortSignal;
        return new Promise(() => {});
      },
    };
    const transport = kinesisTransport({ client: client as never, streamName: 's', requestTimeoutMs: 50 });
    const error = await transport.send([SAMPLE_RECORD], signal).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'Timeout', retriable: true });
    expect(seen?.aborted).toBe(true);
  });

  it('check(): a missing stream, refused credentials and no answer each say so; no permission to describe passes', async () => {
    const check = (send: () => Promise<unknown>) =>
      kinesisTransport({ client: { send } as never, streamName: 's', requestTimeoutMs: 50 }).check(signal);
    await expect(
      check(async () => {
        throw new ResourceNotFoundException({
          message: 'Stream s under account 123456789012 not found.',
          ...meta,
        });
      }),
    ).rejects.toMatchObject({ problem: 'missing', message: 'the stream s does not exist' });
    await expect(
      check(async () => {
        throw clientFault('AccessDeniedException', 'denied');
      }),
    ).resolves.toBeUndefined();
    await expect(
      check(async () => {
        throw clientFault('UnrecognizedClientException', 'bad');
      }),
    ).rejects.toMatchObject({ problem: 'forbidden' });
    await expect(check(() => new Promise(() => {}))).rejects.toMatchObject({
      problem: 'unreachable',
      message: 'cannot reach Kinesis: no answer within 50 ms',
    });
    await expect(
      check(async () => ({ StreamDescriptionSummary: { StreamStatus: 'DELETING' }, ...meta })),
    ).rejects.toMatchObject({ problem: 'missing' });
    await expect(
      check(async () => ({ StreamDescriptionSummary: { StreamStatus: 'ACTIVE' }, ...meta })),
    ).resolves.toBeUndefined();
  });
});
