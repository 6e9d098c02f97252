import { crc32 } from 'node:zlib';
import {
  DescribeStreamConsumerCommand,
  InternalFailureException,
  InvalidArgumentException,
  type KinesisClient,
  LimitExceededException,
  ListShardsCommand,
  PutRecordsCommand,
  RegisterStreamConsumerCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  type StartingPosition,
  SubscribeToShardCommand,
  type SubscribeToShardEvent,
} from '@aws-sdk/client-kinesis';
import { until } from '@shardline/test-kit';
import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler';
import { afterEach, describe, expect, it } from 'vitest';
import { type FanOutFakeOptions, type FanOutPushFake, startFanOutFake } from '../../src/testing/index.js';
import { exceptionFrame, subscribeToShardEventFrame } from '../../src/testing/kinesis/eventStreamFrames.js';
import { clientOfFake } from '../helpers/fakeFanOut.js';

// The SDK client exactly as the README configures it for AWS: HTTP/2, no TLS needed (h2c to http://).
function http2Client(fake: FanOutPushFake): KinesisClient {
  return clientOfFake(fake, new NodeHttp2Handler({ requestTimeout: 20_000 }));
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(options: FanOutFakeOptions = {}, shardCount = 1) {
  const fake = await startFanOutFake({ consumerActivationMs: 50, ...options });
  cleanups.push(() => fake.stop());
  const streamArn = fake.createStream('orders', { shardCount });
  const kinesis = http2Client(fake);
  cleanups.push(() => kinesis.destroy());
  const registered = await kinesis.send(
    new RegisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: 'app' }),
  );
  expect(registered.Consumer?.ConsumerStatus).toBe('CREATING');
  const consumerArn = registered.Consumer!.ConsumerARN!;
  await until(
    async () =>
      (await kinesis.send(new DescribeStreamConsumerCommand({ ConsumerARN: consumerArn })))
        .ConsumerDescription?.ConsumerStatus === 'ACTIVE',
    10_000,
    'consumer ACTIVE',
  );
  return { fake, kinesis, streamArn, consumerArn };
}

async function put(kinesis: KinesisClient, streamArn: string, count: number, prefix = 'r') {
  const entries = Array.from({ length: count }, (_, i) => ({
    PartitionKey: `pk-${i % 7}`,
    Data: new TextEncoder().encode(`${prefix}-${i}`),
  }));
  const output = await kinesis.send(new PutRecordsCommand({ StreamARN: streamArn, Records: entries }));
  expect(output.FailedRecordCount).toBe(0);
}

async function subscribe(
  kinesis: KinesisClient,
  consumerArn: string,
  shardId: string,
  position: StartingPosition = { Type: 'TRIM_HORIZON' },
  abortSignal?: AbortSignal,
) {
  const output = await kinesis.send(
    new SubscribeToShardCommand({ ConsumerARN: consumerArn, ShardId: shardId, StartingPosition: position }),
    { abortSignal },
  );
  return output.EventStream!;
}

/** Reads events until `stop` says so or the stream ends; an error thrown by the stream is returned. */
async function drain(
  events: AsyncIterable<{ SubscribeToShardEvent?: SubscribeToShardEvent }>,
  stop: (seen: SubscribeToShardEvent[]) => boolean = () => false,
): Promise<{ events: SubscribeToShardEvent[]; error: unknown; ended: boolean }> {
  const seen: SubscribeToShardEvent[] = [];
  try {
    for await (const event of events) {
      if (event.SubscribeToShardEvent) seen.push(event.SubscribeToShardEvent);
      if (stop(seen)) return { events: seen, error: undefined, ended: false };
    }
    return { events: seen, error: undefined, ended: true };
  } catch (error) {
    return { events: seen, error, ended: false };
  }
}

const recordsIn = (events: SubscribeToShardEvent[]) => events.flatMap((e) => e.Records ?? []);
const text = (data: Uint8Array | undefined) => new TextDecoder().decode(data);

describe('FanOutPushFake with the plain AWS SDK over HTTP/2', () => {
  it('pushes records in order, each event carrying the continuation to resume from', async () => {
    const { fake, kinesis, streamArn, consumerArn } = await setUp({
      maxRecordsPerEvent: 7,
      takeoverAfterMs: 0,
    });
    await put(kinesis, streamArn, 30, 'a');
    const first = await drain(
      await subscribe(kinesis, consumerArn, 'shardId-000000000000'),
      (seen) => recordsIn(seen).length >= 30,
    );
    const ledger = fake.recordsOf('orders', 'shardId-000000000000');
    expect(recordsIn(first.events).map((r) => r.SequenceNumber)).toEqual(ledger.map((r) => r.sequenceNumber));
    expect(recordsIn(first.events).map((r) => text(r.Data))).toEqual(ledger.map((r) => text(r.data)));
    for (const event of first.events) {
      expect(event.Records!.length).toBeLessThanOrEqual(7);
      expect(event.ContinuationSequenceNumber).toBe(event.Records!.at(-1)?.SequenceNumber);
      expect(event.ChildShards ?? []).toEqual([]);
    }
    expect(ledger[0]!.sequenceNumber).toMatch(/^\d{56}$/);

    // Resuming AFTER the last continuation gets exactly the records written since.
    await put(kinesis, streamArn, 5, 'b');
    const resumed = await drain(
      await subscribe(kinesis, consumerArn, 'shardId-000000000000', {
        Type: 'AFTER_SEQUENCE_NUMBER',
        SequenceNumber: first.events.at(-1)!.ContinuationSequenceNumber!,
      }),
      (seen) => recordsIn(seen).length >= 5,
    );
    expect(recordsIn(resumed.events).map((r) => text(r.Data))).toEqual(['b-0', 'b-1', 'b-2', 'b-3', 'b-4']);
    expect(fake.callCount('SubscribeToShard')).toBe(2);
    expect(fake.callCount('GetRecords')).toBe(0);
  });

  it('sends empty events on a caught-up subscription, and pushes a new record without being asked', async () => {
    const { kinesis, streamArn, consumerArn } = await setUp({ heartbeatIntervalMs: 100 });
    const events = await subscribe(kinesis, consumerArn, 'shardId-000000000000', { Type: 'LATEST' });
    const written = new Promise((resolve) => setTimeout(resolve, 350)).then(() =>
      put(kinesis, streamArn, 1, 'late'),
    );
    const result = await drain(events, (seen) => recordsIn(seen).length >= 1);
    await written;
    expect(result.events.filter((e) => e.Records!.length === 0).length).toBeGreaterThanOrEqual(2);
    expect(result.events[0]!.ContinuationSequenceNumber).toMatch(/^\d{56}$/);
    expect(text(recordsIn(result.events)[0]!.Data)).toBe('late-0');
  });

  it('ends the event stream when the subscription lifetime is up (compressed from 5 minutes)', async () => {
    const { fake, kinesis, streamArn, consumerArn } = await setUp({
      subscriptionLifetimeMs: 600,
      heartbeatIntervalMs: 100,
    });
    await put(kinesis, streamArn, 3);
    const startedAt = performance.now();
    const result = await drain(await subscribe(kinesis, consumerArn, 'shardId-000000000000'));
    expect(result.ended).toBe(true);
    expect(result.error).toBeUndefined();
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(550);
    expect(recordsIn(result.events)).toHaveLength(3);
    expect(fake.subscriptions().map((s) => s.endedBy)).toEqual(['expired']);
  });

  it('refuses a second subscription within the takeover window, then lets it take over', async () => {
    const { fake, kinesis, consumerArn } = await setUp({ takeoverAfterMs: 400, heartbeatIntervalMs: 100 });
    const oldEvents = await subscribe(kinesis, consumerArn, 'shardId-000000000000');
    const old = drain(oldEvents);
    await expect(subscribe(kinesis, consumerArn, 'shardId-000000000000')).rejects.toBeInstanceOf(
      ResourceInUseException,
    );
    await new Promise((resolve) => setTimeout(resolve, 450));
    const cancel = new AbortController();
    const newer = await subscribe(kinesis, consumerArn, 'shardId-000000000000', undefined, cancel.signal);
    const oldResult = await old;
    expect(oldResult.error).toBeInstanceOf(ResourceInUseException);
    const newResult = await drain(newer, (seen) => seen.length >= 1);
    expect(newResult.error).toBeUndefined();
    // Leaving the SDK's iterator does not close the HTTP/2 stream (it stays open until the session
    // times out); aborting the call's signal does.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(fake.openSubscriptionCount()).toBe(1);
    cancel.abort();
    await until(() => fake.openSubscriptionCount() === 0, 5_000, 'the cancelled stream closed');
    expect(fake.subscriptions().map((s) => s.endedBy)).toEqual(['taken-over', 'client-closed']);
    expect(fake.callCount('SubscribeToShard')).toBe(3);
  });

  it('puts ChildShards in the last event of a split shard, with no continuation, then ends', async () => {
    const { fake, kinesis, streamArn, consumerArn } = await setUp();
    await put(kinesis, streamArn, 10);
    const [a, b] = fake.split('orders', 'shardId-000000000000');
    const result = await drain(await subscribe(kinesis, consumerArn, 'shardId-000000000000'));
    expect(result.ended).toBe(true);
    expect(recordsIn(result.events)).toHaveLength(10);
    const last = result.events.at(-1)!;
    expect(last.ContinuationSequenceNumber).toBeUndefined();
    expect(last.ChildShards?.map((c) => [c.ShardId, c.ParentShards])).toEqual([
      [a, ['shardId-000000000000']],
      [b, ['shardId-000000000000']],
    ]);
    for (const event of result.events.slice(0, -1)) expect(event.ChildShards ?? []).toEqual([]);
    const listed = await kinesis.send(new ListShardsCommand({ StreamARN: streamArn }));
    expect(listed.Shards?.[0]?.SequenceNumberRange?.EndingSequenceNumber).toMatch(/^\d{56}$/);
    expect(fake.subscriptions()[0]!.endedBy).toBe('shard-end');

    // Merge the two children: both report the one grandchild with both parents.
    const child = fake.merge('orders', a, b);
    for (const parent of [a, b]) {
      const merged = await drain(await subscribe(kinesis, consumerArn, parent));
      expect(merged.events.at(-1)!.ChildShards?.map((c) => [c.ShardId, c.ParentShards])).toEqual([
        [child, [a, b]],
      ]);
    }
  });

  it('injects mid-stream errors by name, and the SDK throws them typed', async () => {
    const { fake, kinesis, streamArn, consumerArn } = await setUp({ maxRecordsPerEvent: 1 });
    await put(kinesis, streamArn, 5);
    const internal = fake.injectSubscriptionFault({
      afterEvents: 2,
      fault: { error: 'InternalFailureException' },
    });
    const failed = await drain(await subscribe(kinesis, consumerArn, 'shardId-000000000000'));
    expect(failed.error).toBeInstanceOf(InternalFailureException);
    expect(recordsIn(failed.events)).toHaveLength(2);
    expect(internal.fired).toBe(1);

    const notFound = fake.injectSubscriptionFault({
      afterEvents: 0,
      fault: { error: 'ResourceNotFoundException' },
    });
    const gone = await drain(await subscribe(kinesis, consumerArn, 'shardId-000000000000'));
    expect(gone.error).toBeInstanceOf(ResourceNotFoundException);
    expect(gone.events).toHaveLength(0);
    expect(notFound.fired).toBe(1);

    const reset = fake.injectSubscriptionFault({ afterEvents: 1, fault: 'reset' });
    const broken = await drain(await subscribe(kinesis, consumerArn, 'shardId-000000000000'));
    expect(broken.error).toBeInstanceOf(Error);
    expect(reset.fired).toBe(1);

    const limit = fake.injectCallFault({ operation: 'SubscribeToShard', error: 'LimitExceededException' });
    await expect(subscribe(kinesis, consumerArn, 'shardId-000000000000')).rejects.toBeInstanceOf(
      LimitExceededException,
    );
    expect(limit.fired).toBe(1);
    expect(fake.subscriptions().map((s) => s.endedBy)).toEqual(['fault', 'fault', 'fault']);
  });

  it('stops pushing when the client stops reading (HTTP/2 flow control), and resumes when it reads', async () => {
    const { fake, kinesis, streamArn, consumerArn } = await setUp({ maxRecordsPerEvent: 10 });
    const payload = 'x'.repeat(1_000);
    for (let batch = 0; batch < 8; batch++) {
      const entries = Array.from({ length: 500 }, (_, i) => ({
        PartitionKey: `pk-${i}`,
        Data: new TextEncoder().encode(`${batch}-${i}-${payload}`),
      }));
      await kinesis.send(new PutRecordsCommand({ StreamARN: streamArn, Records: entries }));
    }
    const iterator = (await subscribe(kinesis, consumerArn, 'shardId-000000000000'))[Symbol.asyncIterator]();
    const first = await iterator.next();
    await new Promise((resolve) => setTimeout(resolve, 500));
    // About 4 MB are waiting; the fake may only have sent what the flow-control windows and buffers hold.
    const sentWhilePaused = fake.subscriptions()[0]!.recordCount;
    expect(sentWhilePaused).toBeLessThan(1_000);
    let read = first.value?.SubscribeToShardEvent?.Records?.length ?? 0;
    while (read < 4_000) {
      const next = await iterator.next();
      if (next.done) throw new Error(`The stream ended after ${read} records`);
      read += next.value.SubscribeToShardEvent?.Records?.length ?? 0;
    }
    expect(fake.subscriptions()[0]!.recordCount).toBeGreaterThanOrEqual(4_000);
    await iterator.return?.();
  });

  it('can fall silent without ending (a stall), which only a client read timeout notices', async () => {
    const { fake, consumerArn } = await setUp({ heartbeatIntervalMs: 50 });
    const stall = fake.injectSubscriptionFault({ afterEvents: 2, fault: 'stall' });
    const timed = clientOfFake(fake, new NodeHttp2Handler({ requestTimeout: 700 }));
    cleanups.push(() => timed.destroy());
    const startedAt = performance.now();
    const result = await drain(await subscribe(timed, consumerArn, 'shardId-000000000000'));
    expect(stall.fired).toBe(1);
    expect(result.events).toHaveLength(2);
    // The handler's timeout closes the stream, and the SDK's iterator then simply ends: to a reader, a
    // stalled subscription cut by the handler looks like an expired one (no ChildShards, resume from the
    // last continuation), not like an error.
    expect(result.ended).toBe(true);
    expect(performance.now() - startedAt).toBeLessThan(5_000);
    await until(() => fake.openSubscriptionCount() === 0, 5_000, 'the stalled stream closed');
    expect(fake.subscriptions()[0]!.endedBy).toBe('client-closed');
  });

  it('makes registration fail as AWS does: a taken name, and the consumer limit', async () => {
    const { kinesis, streamArn } = await setUp({ maxConsumersPerStream: 2 });
    await expect(
      kinesis.send(new RegisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: 'app' })),
    ).rejects.toBeInstanceOf(ResourceInUseException);
    await kinesis.send(new RegisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: 'second' }));
    await expect(
      kinesis.send(new RegisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: 'third' })),
    ).rejects.toBeInstanceOf(LimitExceededException);
  });

  it('refuses SubscribeToShard from an HTTP/1.1 client, and serves it the other calls', async () => {
    const { fake, streamArn, consumerArn } = await setUp();
    const http1 = clientOfFake(fake, new NodeHttpHandler());
    cleanups.push(() => http1.destroy());
    await put(http1, streamArn, 2);
    await expect(subscribe(http1, consumerArn, 'shardId-000000000000')).rejects.toBeInstanceOf(
      InvalidArgumentException,
    );
    expect(fake.subscriptions()).toHaveLength(0);
  });
});

describe('event-stream framing', () => {
  // Checked with zlib's CRC32, independently of the codec that wrote the frames.
  it.each([
    [
      'event',
      subscribeToShardEventFrame({ Records: [], ContinuationSequenceNumber: '1', MillisBehindLatest: 0 }),
    ],
    ['exception', exceptionFrame('InternalFailureException', 'boom')],
  ])('writes a %s frame with its total length and both CRCs', (_kind, frame) => {
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    expect(view.getUint32(0)).toBe(frame.byteLength);
    expect(view.getUint32(8)).toBe(crc32(frame.subarray(0, 8)));
    expect(view.getUint32(frame.byteLength - 4)).toBe(crc32(frame.subarray(0, frame.byteLength - 4)));
  });
});
