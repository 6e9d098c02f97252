/**
 * The most events inside any window of `windowMs` (half-open: `[t, t + windowMs)`), e.g. the peak
 * GetRecords calls per second of a shard. Pure.
 */
export function maxInWindow(timestampsMs: readonly number[], windowMs: number): number {
  const sorted = [...timestampsMs].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

/** One request seen at a client. */
export interface CountedRequest {
  /** The SDK command, e.g. `GetRecords`. */
  readonly command: string;
  /** `performance.now()` when it was sent, ms. */
  readonly atMs: number;
  /** For Kinesis shard-level calls: the shard, known from `ShardId` or from the iterator's lineage. */
  readonly shardId?: string;
}

/**
 * Requests counted at a client (see {@link countRequests}): an independent ledger of what a component
 * under test really sent, rather than what it says it sent.
 */
export class RequestCounter {
  readonly #requests: CountedRequest[] = [];
  // iterator → shard: GetShardIterator names the shard, every GetRecords answer hands on a new iterator.
  readonly #iteratorShards = new Map<string, string>();

  /** @internal Called by the middleware. */
  observe(command: string, input: Record<string, unknown>): CountedRequest {
    let shardId = typeof input.ShardId === 'string' ? input.ShardId : undefined;
    if (!shardId && typeof input.ShardIterator === 'string') {
      shardId = this.#iteratorShards.get(input.ShardIterator);
      this.#iteratorShards.delete(input.ShardIterator);
    }
    const request = { command, atMs: performance.now(), ...(shardId ? { shardId } : {}) };
    this.#requests.push(request);
    return request;
  }

  /** @internal Called by the middleware with the answer. */
  answered(request: CountedRequest, output: Record<string, unknown>): void {
    if (!request.shardId) return;
    const next = output.ShardIterator ?? output.NextShardIterator;
    if (typeof next === 'string') this.#iteratorShards.set(next, request.shardId);
  }

  /** Every request so far, oldest first. */
  get requests(): readonly CountedRequest[] {
    return this.#requests;
  }

  /** How many requests of `command` (or of every command) were sent. */
  count(command?: string): number {
    return command ? this.#requests.filter((r) => r.command === command).length : this.#requests.length;
  }

  /** Request counts by command. */
  byCommand(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of this.#requests) counts[r.command] = (counts[r.command] ?? 0) + 1;
    return counts;
  }

  /**
   * The most `command` calls to one shard inside any 1-s window, over every shard: compare with
   * GetRecords' 5 calls/s per shard.
   */
  maxPerShardPerSecond(command: string): number {
    const byShard = new Map<string, number[]>();
    for (const r of this.#requests) {
      if (r.command !== command || !r.shardId) continue;
      const list = byShard.get(r.shardId) ?? [];
      list.push(r.atMs);
      byShard.set(r.shardId, list);
    }
    let best = 0;
    for (const times of byShard.values()) best = Math.max(best, maxInWindow(times, 1_000));
    return best;
  }
}

type Handler = (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>;
interface MiddlewareStackLike {
  add(
    middleware: (next: Handler, context: { commandName?: string }) => Handler,
    options: { step: 'initialize'; name: string; override: boolean },
  ): void;
}

/**
 * Counts every command sent through an AWS SDK v3 client (Kinesis, DynamoDB, S3) by adding a
 * middleware to the client's own stack: the component under test keeps calling `client.send` as usual.
 * Counted once per `send` (SDK retries of one send are not counted separately).
 *
 * @example
 * ```ts
 * const kinesis = new KinesisClient(kinesisClientConfig(info));
 * const counter = countRequests(kinesis);
 * // ... run the consumer with `kinesis` ...
 * counter.maxPerShardPerSecond('GetRecords'); // ≤ 5
 * ```
 */
export function countRequests<C extends { readonly middlewareStack: object }>(
  client: C,
  counter: RequestCounter = new RequestCounter(),
): RequestCounter {
  const stack = client.middlewareStack as unknown as MiddlewareStackLike;
  stack.add(
    (next, context) => async (args) => {
      const request = counter.observe(context.commandName?.replace(/Command$/, '') ?? 'unknown', args.input);
      const result = await next(args);
      counter.answered(request, result.output);
      return result;
    },
    { step: 'initialize', name: 'shardlineBenchRequestCounter', override: true },
  );
  return counter;
}
