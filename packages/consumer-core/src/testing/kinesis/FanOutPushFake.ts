import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { Duplex } from 'node:stream';
import { MAX_HASH_KEY } from '@shardline/common';
import { partitionKeyHash } from '@shardline/kpl';
import { exceptionFrame, initialResponseFrame, subscribeToShardEventFrame } from './eventStreamFrames.js';

const TARGET_PREFIX = 'Kinesis_20131202.';
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
// Real sequence numbers have 56 digits: the fake's do too, so that no code can get away with Number().
const SEQUENCE_BASE = BigInt(`496${'0'.repeat(53)}`);
const HTTP2_PREFACE = 'PRI * HTTP/2.0';

/** Options of {@link startFanOutFake}. */
export interface FanOutFakeOptions {
  /**
   * How long a subscription lives before the fake ends its event stream (AWS: 5 minutes). Tests
   * compress it to exercise renewal. @defaultValue 300000
   */
  readonly subscriptionLifetimeMs?: number;
  /**
   * A second `SubscribeToShard` for the same consumer and shard within this time of the open one fails
   * with `ResourceInUseException`; later, it takes over and the old stream fails with
   * `ResourceInUseException` (AWS: 5 s). @defaultValue 5000
   */
  readonly takeoverAfterMs?: number;
  /** Time between empty events on a caught-up subscription (AWS sends them too). @defaultValue 1000 */
  readonly heartbeatIntervalMs?: number;
  /** How long a registered consumer stays `CREATING` before `ACTIVE`. @defaultValue 200 */
  readonly consumerActivationMs?: number;
  /** How long a deregistered consumer stays `DELETING` before it is gone. @defaultValue 200 */
  readonly consumerDeletionMs?: number;
  /** Registered consumers per stream (AWS: 20); one more fails with `LimitExceededException`. @defaultValue 20 */
  readonly maxConsumersPerStream?: number;
  /** Most records in one `SubscribeToShardEvent`. @defaultValue 1000 */
  readonly maxRecordsPerEvent?: number;
  /** Most payload bytes in one `SubscribeToShardEvent` (at least one record is always sent). @defaultValue 1048576 */
  readonly maxBytesPerEvent?: number;
}

/** A record the fake holds. */
export interface FanOutFakeRecord {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly data: Uint8Array;
  readonly approximateArrivalTimestamp: Date;
}

/**
 * A fault for matching subscriptions: after `afterEvents` `SubscribeToShardEvent`s, the stream gets a
 * modeled exception message (`error`), an HTTP/2 `RST_STREAM` (`reset`), or falls silent (`stall`).
 */
export interface SubscriptionFault {
  /** Only subscriptions of this shard; all when absent. */
  readonly shardId?: string;
  /** Events sent before the fault fires (0: right after `initial-response`). */
  readonly afterEvents: number;
  /** Exception message by name (`InternalFailureException`, `ResourceNotFoundException`, ...), or a reset or a stall. */
  readonly fault: { readonly error: string; readonly message?: string } | 'reset' | 'stall';
  /** How many subscriptions it hits. @defaultValue 1 */
  readonly times?: number;
}

/** A fault for whole calls: the next `times` calls of `operation` fail with HTTP 400 and this error name. */
export interface CallFault {
  /** Operation name as in `X-Amz-Target` (`SubscribeToShard`, `GetRecords`, `RegisterStreamConsumer`, ...). */
  readonly operation: string;
  /** The error name the SDK turns into its typed exception. */
  readonly error: string;
  /** @defaultValue 1 */
  readonly times?: number;
}

/** How a subscription's event stream ended. */
export type SubscriptionEnd =
  | 'expired'
  | 'taken-over'
  | 'shard-end'
  | 'fault'
  | 'client-closed'
  | 'deregistered'
  | 'server-stopped';

/** One `SubscribeToShard` the fake accepted, for assertions. */
export interface SubscriptionRecord {
  readonly consumerArn: string;
  readonly shardId: string;
  /** `StartingPosition` as the client sent it. */
  readonly startingPosition: {
    readonly Type: string;
    readonly SequenceNumber?: string;
    readonly Timestamp?: number;
  };
  /** `SubscribeToShardEvent`s sent so far. */
  readonly eventCount: number;
  /** Records sent so far. */
  readonly recordCount: number;
  /** Set once the stream has ended. */
  readonly endedBy: SubscriptionEnd | undefined;
}

/** A fault point of the fake, and how often it fired. */
export interface FaultReport {
  readonly description: string;
  readonly fired: number;
}

interface FakeShard {
  readonly shardId: string;
  readonly parentShardId: string | undefined;
  readonly adjacentParentShardId: string | undefined;
  readonly startingHashKey: bigint;
  readonly endingHashKey: bigint;
  readonly startingSequenceNumber: string;
  endingSequenceNumber: string | undefined;
  readonly records: FanOutFakeRecord[];
  readonly createdAtMs: number;
  closedAtMs: number | undefined;
  children: FakeShard[];
}

interface FakeConsumer {
  readonly name: string;
  readonly arn: string;
  readonly streamName: string;
  readonly createdAt: Date;
  status: 'CREATING' | 'ACTIVE' | 'DELETING';
}

interface FakeStream {
  readonly name: string;
  readonly arn: string;
  readonly createdAt: Date;
  readonly shards: FakeShard[];
  nextShard: number;
  nextSequence: bigint;
  readonly consumers: Map<string, FakeConsumer>;
  listeners: Set<() => void>;
}

interface Subscription {
  readonly record: {
    consumerArn: string;
    shardId: string;
    startingPosition: SubscriptionRecord['startingPosition'];
    eventCount: number;
    recordCount: number;
    endedBy: SubscriptionEnd | undefined;
  };
  readonly http2Stream: http2.ServerHttp2Stream;
  readonly openedAtMs: number;
  readonly stream: FakeStream;
  readonly shard: FakeShard;
  index: number;
  positionSequenceNumber: string;
  isEnding: boolean;
  wake: (() => void) | undefined;
  timer: NodeJS.Timeout | undefined;
}

interface ArmedSubscriptionFault extends SubscriptionFault {
  remaining: number;
  fired: number;
}

interface ArmedCallFault extends CallFault {
  remaining: number;
  fired: number;
}

/** An error answered as AWS JSON 1.1 (`__type`), which the SDK maps to its typed exception. */
class KinesisApiError extends Error {
  constructor(
    readonly errorName: string,
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
  }
}

type Json = Record<string, unknown>;

/**
 * The socket as a stream that first replays the bytes already read. The HTTP/2 session reads a native
 * socket below JavaScript, where `unshift` cannot reach; given any other Duplex it reads through it.
 */
function replaying(socket: net.Socket, first: Buffer): Duplex {
  const duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, callback);
    },
    final(callback) {
      socket.end();
      callback();
    },
    destroy(error, callback) {
      socket.destroy(error ?? undefined);
      callback(error);
    },
  });
  duplex.push(first);
  socket.on('data', (chunk: Buffer) => {
    if (!duplex.push(chunk)) socket.pause();
  });
  socket.on('end', () => duplex.push(null));
  socket.on('close', () => duplex.destroy());
  socket.on('error', (error) => duplex.destroy(error));
  return duplex;
}

function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

function shardIdOf(n: number): string {
  return `shardId-${String(n).padStart(12, '0')}`;
}

function readBody(source: NodeJS.ReadableStream): Promise<Json> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    source.on('data', (chunk: Buffer) => chunks.push(chunk));
    source.on('error', reject);
    source.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(text.length > 0 ? (JSON.parse(text) as Json) : {});
      } catch {
        reject(new KinesisApiError('SerializationException', 'Request body is not JSON'));
      }
    });
  });
}

/**
 * A Kinesis endpoint in memory for tests of enhanced fan-out: a `node:http2` server (plaintext HTTP/2,
 * "h2c") that answers `SubscribeToShard` exactly as AWS frames it — an AWS JSON 1.1 request answered by
 * an `application/vnd.amazon.eventstream` body of event-stream messages (`initial-response`, then
 * `SubscribeToShardEvent`s, `ChildShards` in the last event of a closed shard, exception messages for
 * mid-stream errors) — plus the calls a consumer makes around it (`RegisterStreamConsumer`,
 * `DescribeStreamConsumer`, `ListStreamConsumers`, `DeregisterStreamConsumer`, `ListShards`,
 * `DescribeStreamSummary`, `GetShardIterator`, `GetRecords`, `PutRecord(s)`, `CreateStream`).
 *
 * It covers what the emulators cannot: the 5-minute subscription limit compressed in time, takeover by a
 * newer subscription, `ChildShards` on split and merge, and faults injected by name. Every call is
 * counted per operation. Requests are not authenticated; records live in memory.
 *
 * The SDK's `NodeHttp2Handler` speaks h2c to an `http://` endpoint, so the client setup used for AWS
 * works unchanged. HTTP/1.1 requests are answered too (as AWS does for the request-response calls),
 * except `SubscribeToShard`, which AWS defines over HTTP/2 only: the fake refuses it with
 * `InvalidArgumentException`, so a client left on an HTTP/1.1 handler fails in tests.
 *
 * @example
 * ```ts
 * const fake = await startFanOutFake({ subscriptionLifetimeMs: 2_000 });
 * fake.createStream('orders', { shardCount: 2 });
 * const kinesis = new KinesisClient({
 *   endpoint: fake.endpoint,
 *   requestHandler: new NodeHttp2Handler(),
 *   region: 'us-east-1',
 *   credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
 * });
 * // ... run the consumer, then
 * await fake.stop();
 * ```
 */
export class FanOutPushFake {
  readonly #options: Required<FanOutFakeOptions>;
  readonly #streams = new Map<string, FakeStream>();
  readonly #counts = new Map<string, number>();
  readonly #subscriptions: Subscription[] = [];
  readonly #subscriptionFaults: ArmedSubscriptionFault[] = [];
  readonly #callFaults: ArmedCallFault[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #sockets = new Set<net.Socket>();
  readonly #h2 = http2.createServer();
  readonly #h1 = http.createServer();
  readonly #tcp = net.createServer();
  #stopping: Promise<void> | undefined;
  #port = 0;

  /** @internal Use {@link startFanOutFake}. */
  constructor(options: FanOutFakeOptions = {}) {
    this.#options = {
      subscriptionLifetimeMs: options.subscriptionLifetimeMs ?? 300_000,
      takeoverAfterMs: options.takeoverAfterMs ?? 5_000,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 1_000,
      consumerActivationMs: options.consumerActivationMs ?? 200,
      consumerDeletionMs: options.consumerDeletionMs ?? 200,
      maxConsumersPerStream: options.maxConsumersPerStream ?? 20,
      maxRecordsPerEvent: options.maxRecordsPerEvent ?? 1_000,
      maxBytesPerEvent: options.maxBytesPerEvent ?? 1_048_576,
    };
    this.#h2.on('stream', (stream, headers) => {
      this.#onHttp2Stream(stream, headers);
    });
    this.#h1.on('request', (request, response) => {
      this.#onHttp1Request(request, response);
    });
    // One port for both protocols: plaintext HTTP/2 is recognized by its connection preface (RFC 9113 §3.4).
    this.#tcp.on('connection', (socket) => {
      this.#sockets.add(socket);
      // Small frames (WINDOW_UPDATE, one event) must not wait for Nagle's algorithm and delayed ACKs.
      socket.setNoDelay(true);
      socket.on('close', () => this.#sockets.delete(socket));
      socket.once('data', (chunk: Buffer) => {
        socket.pause();
        if (chunk.subarray(0, HTTP2_PREFACE.length).toString('latin1') === HTTP2_PREFACE) {
          this.#h2.emit('connection', replaying(socket, chunk));
          return;
        }
        socket.unshift(chunk);
        this.#h1.emit('connection', socket);
        socket.resume();
      });
    });
  }

  /** @internal */
  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#tcp.once('error', reject);
      this.#tcp.listen(0, '127.0.0.1', () => resolve());
    });
    const address = this.#tcp.address();
    if (address === null || typeof address === 'string') throw new Error('The fake has no TCP address');
    this.#port = address.port;
  }

  /** The endpoint to give the SDK client: `http://127.0.0.1:<port>`. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /**
   * Creates an `ACTIVE` stream whose shards split the hash-key space evenly.
   * @returns the stream's ARN.
   * @throws `Error` when a stream of that name exists.
   */
  createStream(name: string, options: { readonly shardCount?: number } = {}): string {
    if (this.#streams.has(name)) throw new Error(`Stream ${name} exists`);
    const createdAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    const stream: FakeStream = {
      name,
      arn: `arn:aws:kinesis:${REGION}:${ACCOUNT}:stream/${name}`,
      createdAt,
      shards: [],
      nextShard: 0,
      nextSequence: 0n,
      consumers: new Map(),
      listeners: new Set(),
    };
    const count = options.shardCount ?? 1;
    const width = (MAX_HASH_KEY + 1n) / BigInt(count);
    for (let i = 0; i < count; i++) {
      const start = width * BigInt(i);
      this.#addShard(
        stream,
        undefined,
        undefined,
        start,
        i === count - 1 ? MAX_HASH_KEY : start + width - 1n,
      );
    }
    this.#streams.set(name, stream);
    return stream.arn;
  }

  /**
   * Appends a record to the open shard whose hash range holds the partition key's MD5 (or the explicit
   * hash key), as `PutRecord` does.
   * @throws `Error` when the stream does not exist.
   */
  putRecord(
    streamName: string,
    partitionKey: string,
    data: Uint8Array | string,
    explicitHashKey?: string,
  ): FanOutFakeRecord {
    const stream = this.#stream(streamName);
    const hash = explicitHashKey !== undefined ? BigInt(explicitHashKey) : partitionKeyHash(partitionKey);
    const shard = stream.shards.find(
      (s) => s.closedAtMs === undefined && hash >= s.startingHashKey && hash <= s.endingHashKey,
    );
    if (!shard) throw new Error(`No open shard of ${streamName} holds hash ${hash}`);
    const record: FanOutFakeRecord = {
      shardId: shard.shardId,
      sequenceNumber: this.#nextSequence(stream),
      partitionKey,
      data: typeof data === 'string' ? new Uint8Array(Buffer.from(data, 'utf8')) : data,
      approximateArrivalTimestamp: new Date(),
    };
    shard.records.push(record);
    this.#wake(stream);
    return record;
  }

  /** Every record of a shard, in order: the independent ledger for tests. */
  recordsOf(streamName: string, shardId: string): readonly FanOutFakeRecord[] {
    return this.#shard(this.#stream(streamName), shardId).records;
  }

  /** Ids of a stream's shards, open and closed. */
  shardIds(streamName: string): string[] {
    return this.#stream(streamName).shards.map((s) => s.shardId);
  }

  /**
   * Closes a shard and opens two children splitting its hash range (like `SplitShard` at the middle);
   * subscriptions of the parent get `ChildShards` in their last event once caught up.
   * @returns the children's ids.
   */
  split(streamName: string, shardId: string): [string, string] {
    const stream = this.#stream(streamName);
    const parent = this.#close(stream, shardId);
    const middle = parent.startingHashKey + (parent.endingHashKey - parent.startingHashKey) / 2n;
    const a = this.#addShard(stream, shardId, undefined, parent.startingHashKey, middle);
    const b = this.#addShard(stream, shardId, undefined, middle + 1n, parent.endingHashKey);
    parent.children = [a, b];
    this.#wake(stream);
    return [a.shardId, b.shardId];
  }

  /**
   * Closes two adjacent shards and opens one child covering both (like `MergeShards`).
   * @returns the child's id.
   */
  merge(streamName: string, shardId: string, adjacentShardId: string): string {
    const stream = this.#stream(streamName);
    const first = this.#close(stream, shardId);
    const second = this.#close(stream, adjacentShardId);
    // BigInt has no Math.min/max: order the bounds instead.
    const bounds = [
      first.startingHashKey,
      first.endingHashKey,
      second.startingHashKey,
      second.endingHashKey,
    ].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    const start = bounds[0]!;
    const end = bounds[3]!;
    const child = this.#addShard(stream, shardId, adjacentShardId, start, end);
    first.children = [child];
    second.children = [child];
    this.#wake(stream);
    return child.shardId;
  }

  /** Arms a fault for the next matching subscriptions; see {@link SubscriptionFault}. */
  injectSubscriptionFault(fault: SubscriptionFault): FaultReport {
    const armed: ArmedSubscriptionFault = { ...fault, remaining: fault.times ?? 1, fired: 0 };
    this.#subscriptionFaults.push(armed);
    const kind = typeof fault.fault === 'string' ? fault.fault : fault.fault.error;
    const description = `${kind} after ${fault.afterEvents} events${fault.shardId ? ` on ${fault.shardId}` : ''}`;
    return {
      description,
      get fired() {
        return armed.fired;
      },
    };
  }

  /** Arms a failure of the next calls of an operation; see {@link CallFault}. */
  injectCallFault(fault: CallFault): FaultReport {
    const armed: ArmedCallFault = { ...fault, remaining: fault.times ?? 1, fired: 0 };
    this.#callFaults.push(armed);
    return {
      description: `${fault.operation} fails with ${fault.error}`,
      get fired() {
        return armed.fired;
      },
    };
  }

  /** Calls received per operation (`SubscribeToShard`, `GetRecords`, ...), failed ones included. */
  callCounts(): ReadonlyMap<string, number> {
    return this.#counts;
  }

  /** Calls of one operation so far. */
  callCount(operation: string): number {
    return this.#counts.get(operation) ?? 0;
  }

  /** Every subscription accepted so far, oldest first. */
  subscriptions(): readonly SubscriptionRecord[] {
    return this.#subscriptions.map((s) => ({ ...s.record }));
  }

  /** Subscriptions whose event stream is still open. */
  openSubscriptionCount(): number {
    return this.#subscriptions.filter((s) => s.record.endedBy === undefined).length;
  }

  /** Ends every subscription, closes every connection, and stops listening. Memoized. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      for (const timer of this.#timers) clearTimeout(timer);
      this.#timers.clear();
      for (const subscription of this.#subscriptions) this.#end(subscription, 'server-stopped');
      const closed = new Promise<void>((resolve) => this.#tcp.close(() => resolve()));
      for (const socket of this.#sockets) socket.destroy();
      await closed;
    })();
    return this.#stopping;
  }

  // ---- HTTP plumbing ----

  #onHttp2Stream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    stream.on('error', () => {});
    const target = String(headers['x-amz-target'] ?? '');
    void readBody(stream)
      .then((body) => {
        const operation = this.#operationOf(target);
        if (operation === 'SubscribeToShard') return this.#subscribe(stream, body);
        return this.#dispatch(operation, body).then((output) => this.#respond2(stream, 200, output));
      })
      .catch((error: unknown) => this.#respond2(stream, ...this.#errorReply(error)));
  }

  #onHttp1Request(request: http.IncomingMessage, response: http.ServerResponse): void {
    const target = String(request.headers['x-amz-target'] ?? '');
    const reply = (status: number, body: Json, errorName?: string) => {
      response.writeHead(status, {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-requestid': randomUUID(),
        ...(errorName ? { 'x-amzn-errortype': errorName } : {}),
      });
      response.end(JSON.stringify(body));
    };
    void readBody(request)
      .then(async (body) => {
        const operation = this.#operationOf(target);
        if (operation === 'SubscribeToShard') {
          // AWS defines SubscribeToShard over HTTP/2 only; over HTTP/1.1 it has been seen to hang until
          // the 5-minute limit (aws-sdk-js-v3#2131). Refusing at once makes a misconfigured client fail fast.
          throw new KinesisApiError(
            'InvalidArgumentException',
            'SubscribeToShard requires HTTP/2: give the Kinesis client a NodeHttp2Handler',
          );
        }
        reply(200, await this.#dispatch(operation, body));
      })
      .catch((error: unknown) => {
        const [status, body] = this.#errorReply(error);
        reply(status, body, String(body.__type));
      });
  }

  #operationOf(target: string): string {
    if (!target.startsWith(TARGET_PREFIX)) {
      throw new KinesisApiError('UnknownOperationException', `Unknown X-Amz-Target ${target}`);
    }
    const operation = target.slice(TARGET_PREFIX.length);
    this.#counts.set(operation, (this.#counts.get(operation) ?? 0) + 1);
    const fault = this.#callFaults.find((f) => f.operation === operation && f.remaining > 0);
    if (fault) {
      fault.remaining -= 1;
      fault.fired += 1;
      throw new KinesisApiError(fault.error, `Injected ${fault.error} for ${operation}`);
    }
    return operation;
  }

  #errorReply(error: unknown): [number, Json] {
    if (error instanceof KinesisApiError) {
      return [error.statusCode, { __type: error.errorName, message: error.message }];
    }
    return [500, { __type: 'InternalFailureException', message: String(error) }];
  }

  #respond2(stream: http2.ServerHttp2Stream, status: number, body: Json): void {
    if (stream.destroyed || stream.headersSent) return;
    const errorType = status === 200 ? undefined : String(body.__type);
    stream.respond({
      ':status': status,
      'content-type': 'application/x-amz-json-1.1',
      'x-amzn-requestid': randomUUID(),
      ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
    });
    stream.end(JSON.stringify(body));
  }

  async #dispatch(operation: string, input: Json): Promise<Json> {
    switch (operation) {
      case 'CreateStream':
        this.createStream(String(input.StreamName), { shardCount: Number(input.ShardCount ?? 1) });
        return {};
      case 'DescribeStreamSummary':
        return this.#describeStreamSummary(input);
      case 'ListShards':
        return this.#listShards(input);
      case 'PutRecord':
        return this.#putRecordApi(input);
      case 'PutRecords':
        return this.#putRecordsApi(input);
      case 'GetShardIterator':
        return this.#getShardIterator(input);
      case 'GetRecords':
        return this.#getRecords(input);
      case 'RegisterStreamConsumer':
        return this.#registerConsumer(input);
      case 'DescribeStreamConsumer':
        return { ConsumerDescription: this.#describeConsumer(this.#findConsumer(input)) };
      case 'ListStreamConsumers':
        return this.#listConsumers(input);
      case 'DeregisterStreamConsumer':
        return this.#deregisterConsumer(input);
      default:
        throw new KinesisApiError('UnknownOperationException', `The fake does not implement ${operation}`);
    }
  }

  // ---- request-response operations ----

  #streamOf(input: Json): FakeStream {
    const arn = typeof input.StreamARN === 'string' ? input.StreamARN : undefined;
    const name = typeof input.StreamName === 'string' ? input.StreamName : arn?.split('/')[1];
    const stream = name === undefined ? undefined : this.#streams.get(name);
    if (!stream || (arn !== undefined && stream.arn !== arn)) {
      throw new KinesisApiError('ResourceNotFoundException', `Stream ${name ?? arn} not found`);
    }
    return stream;
  }

  #describeStreamSummary(input: Json): Json {
    const stream = this.#streamOf(input);
    return {
      StreamDescriptionSummary: {
        StreamName: stream.name,
        StreamARN: stream.arn,
        StreamStatus: 'ACTIVE',
        StreamModeDetails: { StreamMode: 'PROVISIONED' },
        RetentionPeriodHours: 24,
        StreamCreationTimestamp: epochSeconds(stream.createdAt),
        EnhancedMonitoring: [{ ShardLevelMetrics: [] }],
        EncryptionType: 'NONE',
        OpenShardCount: stream.shards.filter((s) => s.closedAtMs === undefined).length,
        ConsumerCount: stream.consumers.size,
      },
    };
  }

  #listShards(input: Json): Json {
    let stream: FakeStream;
    let offset = 0;
    let filter = input.ShardFilter as Json | undefined;
    if (typeof input.NextToken === 'string') {
      const token = JSON.parse(Buffer.from(input.NextToken, 'base64url').toString('utf8')) as {
        stream: string;
        offset: number;
        filter?: Json;
      };
      stream = this.#stream(token.stream);
      offset = token.offset;
      filter = token.filter;
    } else {
      stream = this.#streamOf(input);
    }
    const atMs =
      filter?.Type === 'AT_TIMESTAMP' && typeof filter.Timestamp === 'number'
        ? filter.Timestamp * 1000
        : undefined;
    const shards = stream.shards.filter((s) => {
      switch (filter?.Type) {
        case undefined:
        case 'AT_TRIM_HORIZON':
          return true;
        case 'AT_LATEST':
          return s.closedAtMs === undefined;
        case 'AT_TIMESTAMP':
          return atMs !== undefined && (s.closedAtMs === undefined || s.closedAtMs > atMs);
        default:
          throw new KinesisApiError(
            'InvalidArgumentException',
            `ShardFilter ${String(filter?.Type)} is not supported`,
          );
      }
    });
    const max = typeof input.MaxResults === 'number' ? input.MaxResults : 1_000;
    const page = shards.slice(offset, offset + max);
    const next = offset + page.length < shards.length ? offset + page.length : undefined;
    return {
      Shards: page.map((s) => ({
        ShardId: s.shardId,
        ...(s.parentShardId ? { ParentShardId: s.parentShardId } : {}),
        ...(s.adjacentParentShardId ? { AdjacentParentShardId: s.adjacentParentShardId } : {}),
        HashKeyRange: { StartingHashKey: String(s.startingHashKey), EndingHashKey: String(s.endingHashKey) },
        SequenceNumberRange: {
          StartingSequenceNumber: s.startingSequenceNumber,
          ...(s.endingSequenceNumber ? { EndingSequenceNumber: s.endingSequenceNumber } : {}),
        },
      })),
      ...(next !== undefined
        ? {
            NextToken: Buffer.from(JSON.stringify({ stream: stream.name, offset: next, filter })).toString(
              'base64url',
            ),
          }
        : {}),
    };
  }

  #putRecordApi(input: Json): Json {
    const stream = this.#streamOf(input);
    const record = this.putRecord(
      stream.name,
      String(input.PartitionKey),
      new Uint8Array(Buffer.from(String(input.Data ?? ''), 'base64')),
      typeof input.ExplicitHashKey === 'string' ? input.ExplicitHashKey : undefined,
    );
    return { ShardId: record.shardId, SequenceNumber: record.sequenceNumber, EncryptionType: 'NONE' };
  }

  #putRecordsApi(input: Json): Json {
    const stream = this.#streamOf(input);
    const entries = Array.isArray(input.Records) ? (input.Records as Json[]) : [];
    if (entries.length === 0 || entries.length > 500) {
      throw new KinesisApiError('InvalidArgumentException', 'PutRecords takes 1 to 500 records');
    }
    const results = entries.map((entry) => {
      const record = this.putRecord(
        stream.name,
        String(entry.PartitionKey),
        new Uint8Array(Buffer.from(String(entry.Data ?? ''), 'base64')),
        typeof entry.ExplicitHashKey === 'string' ? entry.ExplicitHashKey : undefined,
      );
      return { ShardId: record.shardId, SequenceNumber: record.sequenceNumber };
    });
    return { FailedRecordCount: 0, Records: results, EncryptionType: 'NONE' };
  }

  #startIndex(shard: FakeShard, type: string, sequenceNumber: unknown, timestamp: unknown): number {
    const records = shard.records;
    switch (type) {
      case 'TRIM_HORIZON':
        return 0;
      case 'LATEST':
        return records.length;
      case 'AT_TIMESTAMP': {
        if (typeof timestamp !== 'number')
          throw new KinesisApiError('InvalidArgumentException', 'Timestamp missing');
        const index = records.findIndex((r) => r.approximateArrivalTimestamp.getTime() >= timestamp * 1000);
        return index < 0 ? records.length : index;
      }
      case 'AT_SEQUENCE_NUMBER':
      case 'AFTER_SEQUENCE_NUMBER': {
        if (typeof sequenceNumber !== 'string' || !/^\d+$/.test(sequenceNumber)) {
          throw new KinesisApiError(
            'InvalidArgumentException',
            'StartingSequenceNumber missing or malformed',
          );
        }
        const at = BigInt(sequenceNumber);
        const isAfter = type === 'AFTER_SEQUENCE_NUMBER';
        const index = records.findIndex((r) =>
          isAfter ? BigInt(r.sequenceNumber) > at : BigInt(r.sequenceNumber) >= at,
        );
        return index < 0 ? records.length : index;
      }
      default:
        throw new KinesisApiError('InvalidArgumentException', `Unknown starting position ${type}`);
    }
  }

  #getShardIterator(input: Json): Json {
    const stream = this.#streamOf(input);
    const shard = this.#shardApi(stream, input.ShardId);
    const index = this.#startIndex(
      shard,
      String(input.ShardIteratorType),
      input.StartingSequenceNumber,
      input.Timestamp,
    );
    return { ShardIterator: this.#iterator(stream, shard, index) };
  }

  #iterator(stream: FakeStream, shard: FakeShard, index: number): string {
    return Buffer.from(
      JSON.stringify({ s: stream.name, h: shard.shardId, i: index, t: Date.now() }),
    ).toString('base64url');
  }

  #getRecords(input: Json): Json {
    let token: { s: string; h: string; i: number; t: number };
    try {
      token = JSON.parse(Buffer.from(String(input.ShardIterator), 'base64url').toString('utf8'));
    } catch {
      throw new KinesisApiError('InvalidArgumentException', 'Invalid ShardIterator');
    }
    // Shard iterators expire 5 minutes after they are returned.
    if (Date.now() - token.t > 300_000)
      throw new KinesisApiError('ExpiredIteratorException', 'Iterator expired');
    const stream = this.#stream(token.s);
    const shard = this.#shard(stream, token.h);
    const limit = typeof input.Limit === 'number' ? input.Limit : 10_000;
    const records = shard.records.slice(token.i, token.i + limit);
    const index = token.i + records.length;
    const isEnd = shard.closedAtMs !== undefined && index >= shard.records.length;
    return {
      Records: records.map((r) => this.#recordJson(r)),
      MillisBehindLatest: this.#millisBehind(shard, index),
      ...(isEnd
        ? { ChildShards: this.#childShardsJson(shard) }
        : { NextShardIterator: this.#iterator(stream, shard, index) }),
    };
  }

  #registerConsumer(input: Json): Json {
    const stream = this.#streamOf(input);
    const name = String(input.ConsumerName ?? '');
    if (!/^[a-zA-Z0-9_.-]{1,128}$/.test(name)) {
      throw new KinesisApiError('InvalidArgumentException', `Invalid ConsumerName ${name}`);
    }
    if (stream.consumers.has(name)) {
      throw new KinesisApiError('ResourceInUseException', `Consumer ${name} of ${stream.arn} already exists`);
    }
    if (stream.consumers.size >= this.#options.maxConsumersPerStream) {
      throw new KinesisApiError(
        'LimitExceededException',
        `Stream ${stream.arn} has ${stream.consumers.size} consumers, the most allowed`,
      );
    }
    const createdAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    const consumer: FakeConsumer = {
      name,
      arn: `${stream.arn}/consumer/${name}:${Math.floor(createdAt.getTime() / 1000)}`,
      streamName: stream.name,
      createdAt,
      status: 'CREATING',
    };
    stream.consumers.set(name, consumer);
    this.#after(this.#options.consumerActivationMs, () => {
      if (consumer.status === 'CREATING') consumer.status = 'ACTIVE';
    });
    return {
      Consumer: {
        ConsumerName: consumer.name,
        ConsumerARN: consumer.arn,
        ConsumerStatus: consumer.status,
        ConsumerCreationTimestamp: epochSeconds(consumer.createdAt),
      },
    };
  }

  #findConsumer(input: Json): FakeConsumer {
    if (typeof input.ConsumerARN === 'string') {
      const arn = input.ConsumerARN;
      for (const stream of this.#streams.values()) {
        for (const consumer of stream.consumers.values()) if (consumer.arn === arn) return consumer;
      }
      throw new KinesisApiError('ResourceNotFoundException', `Consumer ${arn} not found`);
    }
    const stream = this.#streamOf(input);
    const consumer = stream.consumers.get(String(input.ConsumerName));
    if (!consumer) {
      throw new KinesisApiError(
        'ResourceNotFoundException',
        `Consumer ${String(input.ConsumerName)} not found`,
      );
    }
    return consumer;
  }

  #describeConsumer(consumer: FakeConsumer): Json {
    return {
      ConsumerName: consumer.name,
      ConsumerARN: consumer.arn,
      ConsumerStatus: consumer.status,
      ConsumerCreationTimestamp: epochSeconds(consumer.createdAt),
      StreamARN: this.#stream(consumer.streamName).arn,
    };
  }

  #listConsumers(input: Json): Json {
    const stream = this.#streamOf(input);
    return {
      Consumers: [...stream.consumers.values()].map((c) => ({
        ConsumerName: c.name,
        ConsumerARN: c.arn,
        ConsumerStatus: c.status,
        ConsumerCreationTimestamp: epochSeconds(c.createdAt),
      })),
    };
  }

  #deregisterConsumer(input: Json): Json {
    const consumer = this.#findConsumer(input);
    consumer.status = 'DELETING';
    for (const subscription of this.#subscriptions) {
      if (subscription.record.consumerArn === consumer.arn) this.#end(subscription, 'deregistered');
    }
    this.#after(this.#options.consumerDeletionMs, () => {
      this.#stream(consumer.streamName).consumers.delete(consumer.name);
    });
    return {};
  }

  // ---- SubscribeToShard ----

  #subscribe(http2Stream: http2.ServerHttp2Stream, input: Json): void {
    const consumer = this.#findConsumer({ ConsumerARN: input.ConsumerARN });
    if (consumer.status !== 'ACTIVE') {
      throw new KinesisApiError(
        'ResourceInUseException',
        `Consumer ${consumer.arn} is ${consumer.status}, not ACTIVE`,
      );
    }
    const stream = this.#stream(consumer.streamName);
    const shard = this.#shardApi(stream, input.ShardId);
    const position = (input.StartingPosition ?? {}) as Json;
    const index = this.#startIndex(shard, String(position.Type), position.SequenceNumber, position.Timestamp);
    const now = Date.now();
    const current = this.#subscriptions.find(
      (s) => s.record.endedBy === undefined && s.record.consumerArn === consumer.arn && s.shard === shard,
    );
    if (current && now - current.openedAtMs < this.#options.takeoverAfterMs) {
      throw new KinesisApiError(
        'ResourceInUseException',
        `Another active subscription exists for consumer ${consumer.arn} and shard ${shard.shardId}`,
      );
    }
    if (current)
      this.#fail(current, 'ResourceInUseException', 'A newer subscription took over', 'taken-over');

    const subscription: Subscription = {
      record: {
        consumerArn: consumer.arn,
        shardId: shard.shardId,
        startingPosition: position as SubscriptionRecord['startingPosition'],
        eventCount: 0,
        recordCount: 0,
        endedBy: undefined,
      },
      http2Stream,
      openedAtMs: now,
      stream,
      shard,
      index,
      positionSequenceNumber: shard.records[index - 1]?.sequenceNumber ?? shard.startingSequenceNumber,
      isEnding: false,
      wake: undefined,
      timer: undefined,
    };
    this.#subscriptions.push(subscription);
    http2Stream.on('close', () => this.#end(subscription, 'client-closed'));
    http2Stream.respond({
      ':status': 200,
      'content-type': 'application/vnd.amazon.eventstream',
      'x-amzn-requestid': randomUUID(),
    });
    subscription.timer = setTimeout(
      () => this.#end(subscription, 'expired'),
      this.#options.subscriptionLifetimeMs,
    );
    void this.#pump(subscription);
  }

  async #pump(subscription: Subscription): Promise<void> {
    const { shard } = subscription;
    if (!(await this.#write(subscription, initialResponseFrame()))) return;
    if (this.#faultDue(subscription)) return;
    while (!subscription.isEnding) {
      const available = shard.records.length - subscription.index;
      const isClosed = shard.closedAtMs !== undefined;
      if (available === 0 && !isClosed) {
        const isWoken = await this.#waitForRecords(subscription);
        if (subscription.isEnding) return;
        if (isWoken) continue;
      }
      const batch: FanOutFakeRecord[] = [];
      let bytes = 0;
      for (let i = subscription.index; i < shard.records.length; i++) {
        const record = shard.records[i]!;
        const size = record.data.byteLength + Buffer.byteLength(record.partitionKey);
        if (batch.length >= this.#options.maxRecordsPerEvent) break;
        if (batch.length > 0 && bytes + size > this.#options.maxBytesPerEvent) break;
        batch.push(record);
        bytes += size;
      }
      subscription.index += batch.length;
      const last = batch[batch.length - 1];
      if (last) subscription.positionSequenceNumber = last.sequenceNumber;
      const isShardEnd = isClosed && subscription.index >= shard.records.length;
      // At the end of a closed shard: no continuation, and the children (what the reader starts next).
      const event: Json = {
        Records: batch.map((r) => this.#recordJson(r)),
        MillisBehindLatest: this.#millisBehind(shard, subscription.index),
        ...(isShardEnd
          ? { ChildShards: this.#childShardsJson(shard) }
          : { ContinuationSequenceNumber: subscription.positionSequenceNumber }),
      };
      if (!(await this.#write(subscription, subscribeToShardEventFrame(event)))) return;
      subscription.record.eventCount += 1;
      subscription.record.recordCount += batch.length;
      if (isShardEnd) {
        this.#end(subscription, 'shard-end');
        return;
      }
      if (this.#faultDue(subscription)) return;
    }
  }

  /** Resolves true when records arrived (or the shard closed), false at a heartbeat. */
  #waitForRecords(subscription: Subscription): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const listeners = subscription.stream.listeners;
      const done = (isWoken: boolean) => {
        clearTimeout(timer);
        listeners.delete(onWrite);
        subscription.wake = undefined;
        resolve(isWoken);
      };
      const onWrite = () => done(true);
      const timer = setTimeout(() => done(false), this.#options.heartbeatIntervalMs);
      listeners.add(onWrite);
      subscription.wake = () => done(true);
    });
  }

  /** Writes a frame, honouring HTTP/2 flow control; false when the subscription ended meanwhile. */
  async #write(subscription: Subscription, frame: Uint8Array): Promise<boolean> {
    const stream = subscription.http2Stream;
    if (subscription.isEnding || stream.destroyed || stream.writableEnded) return false;
    if (!stream.write(frame)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          stream.off('drain', done);
          stream.off('close', done);
          resolve();
        };
        stream.on('drain', done);
        stream.on('close', done);
      });
    }
    return !subscription.isEnding && !stream.destroyed;
  }

  #faultDue(subscription: Subscription): boolean {
    const armed = this.#subscriptionFaults.find(
      (f) =>
        f.remaining > 0 &&
        f.afterEvents === subscription.record.eventCount &&
        (f.shardId === undefined || f.shardId === subscription.shard.shardId),
    );
    if (!armed) return false;
    armed.remaining -= 1;
    armed.fired += 1;
    const fault = armed.fault;
    if (fault === 'stall') {
      // Silent but open: the client's read timeout (or the subscription's expiry) has to notice.
      subscription.isEnding = true;
      return true;
    }
    if (fault === 'reset') {
      subscription.record.endedBy = 'fault';
      this.#cleanup(subscription);
      subscription.http2Stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      return true;
    }
    this.#fail(subscription, fault.error, fault.message ?? `Injected ${fault.error}`, 'fault');
    return true;
  }

  #fail(subscription: Subscription, errorName: string, message: string, reason: SubscriptionEnd): void {
    if (subscription.record.endedBy !== undefined) return;
    const stream = subscription.http2Stream;
    if (!stream.destroyed && !stream.writableEnded) stream.write(exceptionFrame(errorName, message));
    this.#end(subscription, reason);
  }

  #end(subscription: Subscription, reason: SubscriptionEnd): void {
    if (subscription.record.endedBy !== undefined) return;
    subscription.record.endedBy = reason;
    this.#cleanup(subscription);
    const stream = subscription.http2Stream;
    if (reason !== 'client-closed' && !stream.destroyed && !stream.writableEnded) stream.end();
  }

  #cleanup(subscription: Subscription): void {
    subscription.isEnding = true;
    if (subscription.timer) clearTimeout(subscription.timer);
    subscription.wake?.();
  }

  // ---- model helpers ----

  #recordJson(record: FanOutFakeRecord): Json {
    return {
      SequenceNumber: record.sequenceNumber,
      ApproximateArrivalTimestamp: epochSeconds(record.approximateArrivalTimestamp),
      Data: Buffer.from(record.data).toString('base64'),
      PartitionKey: record.partitionKey,
      EncryptionType: 'NONE',
    };
  }

  #childShardsJson(shard: FakeShard): Json[] {
    return shard.children.map((child) => ({
      ShardId: child.shardId,
      ParentShards: [child.parentShardId, child.adjacentParentShardId].filter((id) => id !== undefined),
      HashKeyRange: {
        StartingHashKey: String(child.startingHashKey),
        EndingHashKey: String(child.endingHashKey),
      },
    }));
  }

  #millisBehind(shard: FakeShard, index: number): number {
    const next = shard.records[index];
    return next ? Math.max(0, Date.now() - next.approximateArrivalTimestamp.getTime()) : 0;
  }

  #nextSequence(stream: FakeStream): string {
    stream.nextSequence += 1n;
    return String(SEQUENCE_BASE + stream.nextSequence);
  }

  #addShard(
    stream: FakeStream,
    parentShardId: string | undefined,
    adjacentParentShardId: string | undefined,
    startingHashKey: bigint,
    endingHashKey: bigint,
  ): FakeShard {
    const shard: FakeShard = {
      shardId: shardIdOf(stream.nextShard++),
      parentShardId,
      adjacentParentShardId,
      startingHashKey,
      endingHashKey,
      startingSequenceNumber: this.#nextSequence(stream),
      endingSequenceNumber: undefined,
      records: [],
      createdAtMs: Date.now(),
      closedAtMs: undefined,
      children: [],
    };
    stream.shards.push(shard);
    return shard;
  }

  #close(stream: FakeStream, shardId: string): FakeShard {
    const shard = this.#shard(stream, shardId);
    if (shard.closedAtMs !== undefined) throw new Error(`Shard ${shardId} is already closed`);
    shard.closedAtMs = Date.now();
    shard.endingSequenceNumber = this.#nextSequence(stream);
    return shard;
  }

  #wake(stream: FakeStream): void {
    const listeners = [...stream.listeners];
    stream.listeners.clear();
    for (const listener of listeners) listener();
  }

  #after(ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      action();
    }, ms);
    this.#timers.add(timer);
  }

  #stream(name: string): FakeStream {
    const stream = this.#streams.get(name);
    if (!stream) throw new KinesisApiError('ResourceNotFoundException', `Stream ${name} not found`);
    return stream;
  }

  #shard(stream: FakeStream, shardId: string): FakeShard {
    const shard = stream.shards.find((s) => s.shardId === shardId);
    if (!shard)
      throw new KinesisApiError('ResourceNotFoundException', `Shard ${shardId} of ${stream.name} not found`);
    return shard;
  }

  #shardApi(stream: FakeStream, shardId: unknown): FakeShard {
    if (typeof shardId !== 'string') throw new KinesisApiError('InvalidArgumentException', 'ShardId missing');
    return this.#shard(stream, shardId);
  }
}

/**
 * Starts a {@link FanOutPushFake} on an ephemeral port of 127.0.0.1. Always `stop()` it.
 * @throws `Error` when the port cannot be bound.
 */
export async function startFanOutFake(options: FanOutFakeOptions = {}): Promise<FanOutPushFake> {
  const fake = new FanOutPushFake(options);
  await fake.listen();
  return fake;
}
