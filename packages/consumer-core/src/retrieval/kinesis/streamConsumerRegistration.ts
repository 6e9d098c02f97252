import {
  type Consumer,
  type ConsumerDescription,
  DeregisterStreamConsumerCommand,
  DescribeStreamConsumerCommand,
  ListStreamConsumersCommand,
  RegisterStreamConsumerCommand,
} from '@aws-sdk/client-kinesis';
import { awsErrorName, backoffDelayMs, clientWithDeadline, sleep } from '@shardline/common';
import { DependencyError, StreamConsumerLimitError } from '../../errors.js';
import { isThrottling, translateKinesisError } from './awsErrors.js';
import type { KinesisClientLike } from './PollingShardReader.js';

/** AWS: at most 20 registered consumers per stream. */
export const MAX_STREAM_CONSUMERS = 20;

/** A registered stream consumer as `ListStreamConsumers` / `DescribeStreamConsumer` report it. */
export interface StreamConsumer {
  readonly consumerName: string;
  readonly consumerArn: string;
  /** `CREATING`, `ACTIVE` or `DELETING`. */
  readonly status: string;
  readonly createdAt: Date | undefined;
}

/** Options of {@link registerStreamConsumer}. */
export interface RegisterStreamConsumerOptions {
  /** The user's client; never destroyed by the library. */
  readonly client: KinesisClientLike;
  /** The stream (consumers are registered by stream ARN). */
  readonly streamArn: string;
  /** The consumer to register or reuse. */
  readonly consumerName: string;
  /** Stops waiting (the promise rejects with the signal's reason). */
  readonly signal?: AbortSignal;
  /** How long to wait for the consumer to become `ACTIVE` (AWS: usually seconds). @defaultValue 120000 */
  readonly activeTimeoutMs?: number;
  /** Delay between `DescribeStreamConsumer` polls while it is `CREATING` or `DELETING`. @defaultValue 1000 */
  readonly pollIntervalMs?: number;
  /** Deadline of each call, SDK retries included. @defaultValue 10000 */
  readonly callTimeoutMs?: number;
  /** Random source for jitter. */
  readonly random?: () => number;
}

/** The result of {@link registerStreamConsumer}. */
export interface RegisteredStreamConsumer {
  /** The `ACTIVE` consumer's ARN, what `SubscribeToShard` takes. */
  readonly consumerArn: string;
  /** Whether this call registered it (false: it existed and was reused). */
  readonly isNew: boolean;
}

/**
 * Registers the fan-out consumer `consumerName` on a stream, or reuses the one that exists, and resolves
 * once it is `ACTIVE`. Safe to call from every worker of an application at once:
 *
 * 1. `DescribeStreamConsumer`: `ACTIVE` → done; `CREATING` → wait (step 3); `DELETING` → wait until it
 *    is gone, then register; not found → step 2.
 * 2. `RegisterStreamConsumer`. `ResourceInUseException` means another worker registered it first (or it
 *    is being deleted): go back to step 1. `LimitExceededException` is either the API's rate limit
 *    (retried with backoff) or the 20-consumers-per-stream limit, told apart with `ListStreamConsumers`:
 *    the latter throws {@link StreamConsumerLimitError}.
 * 3. Poll `DescribeStreamConsumer` every `pollIntervalMs` until `ACTIVE`.
 *
 * Workers call it once when they start (not per shard). It never deregisters: a consumer outlives the
 * workers (deregistering is an operator's decision, `shardline consumers deregister`).
 *
 * @throws {@link StreamConsumerLimitError} when the stream has 20 consumers already.
 * @throws `DependencyError` when AWS refuses (missing stream, access denied) or the consumer is not
 *   `ACTIVE` within `activeTimeoutMs`.
 * @example
 * ```ts
 * const { consumerArn } = await registerStreamConsumer({ client, streamArn, consumerName: 'orders-app' });
 * ```
 */
export async function registerStreamConsumer(
  options: RegisterStreamConsumerOptions,
): Promise<RegisteredStreamConsumer> {
  const { streamArn, consumerName, signal } = options;
  const client = clientWithDeadline(options.client, options.callTimeoutMs ?? 10_000);
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const activeTimeoutMs = options.activeTimeoutMs ?? 120_000;
  const random = options.random ?? Math.random;
  const startedAtMs = performance.now();
  let isNew = false;
  let failures = 0;

  const backOff = async (operation: string, error: unknown): Promise<void> => {
    const translated = translateKinesisError(operation, error);
    if (!translated.retriable) throw translated;
    failures += 1;
    if (failures > 10) throw translated;
    const delayMs = backoffDelayMs(
      failures,
      { initialDelayMs: isThrottling(error) ? 500 : 100, maxDelayMs: 5_000 },
      random,
    );
    await sleep(delayMs, signal);
  };

  while (true) {
    signal?.throwIfAborted();
    if (performance.now() - startedAtMs > activeTimeoutMs) {
      throw new DependencyError(
        'kinesis',
        'DescribeStreamConsumer',
        new Error(`stream consumer ${consumerName} did not become ACTIVE within ${activeTimeoutMs} ms`),
        true,
      );
    }
    let description: ConsumerDescription | undefined;
    try {
      const output = await client.send(
        new DescribeStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: consumerName }),
        { abortSignal: signal },
      );
      description = output.ConsumerDescription;
    } catch (error) {
      signal?.throwIfAborted();
      if (awsErrorName(error) !== 'ResourceNotFoundException') {
        await backOff('DescribeStreamConsumer', error);
        continue;
      }
    }
    if (description?.ConsumerStatus === 'ACTIVE' && description.ConsumerARN) {
      return { consumerArn: description.ConsumerARN, isNew };
    }
    if (description) {
      // CREATING (another worker's registration, or ours) or DELETING (an operator's deregistration):
      // wait and look again.
      await sleep(pollIntervalMs, signal);
      continue;
    }
    try {
      await client.send(
        new RegisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: consumerName }),
        {
          abortSignal: signal,
        },
      );
      isNew = true;
      failures = 0;
    } catch (error) {
      signal?.throwIfAborted();
      const name = awsErrorName(error);
      if (name === 'ResourceInUseException') continue; // registered by another worker meanwhile
      if (name === 'LimitExceededException') {
        const existing = await listStreamConsumers({ client: options.client, streamArn, signal });
        if (
          existing.length >= MAX_STREAM_CONSUMERS &&
          !existing.some((c) => c.consumerName === consumerName)
        ) {
          throw new StreamConsumerLimitError(
            streamArn,
            consumerName,
            existing.map((c) => c.consumerName),
            error,
          );
        }
      }
      await backOff('RegisterStreamConsumer', error);
    }
  }
}

/** Options of {@link listStreamConsumers}. */
export interface ListStreamConsumersOptions {
  /** The user's client; never destroyed by the library. */
  readonly client: KinesisClientLike;
  /** The stream. */
  readonly streamArn: string;
  /** Stops the listing. */
  readonly signal?: AbortSignal;
  /** Deadline of each page, SDK retries included. @defaultValue 10000 */
  readonly callTimeoutMs?: number;
}

/**
 * Every consumer registered on a stream (`ListStreamConsumers`, following `NextToken`).
 *
 * @throws `DependencyError` when a page fails.
 */
export async function listStreamConsumers(options: ListStreamConsumersOptions): Promise<StreamConsumer[]> {
  const client = clientWithDeadline(options.client, options.callTimeoutMs ?? 10_000);
  const consumers: StreamConsumer[] = [];
  let nextToken: string | undefined;
  do {
    try {
      const output = await client.send(
        new ListStreamConsumersCommand(
          nextToken === undefined
            ? { StreamARN: options.streamArn }
            : { StreamARN: options.streamArn, NextToken: nextToken },
        ),
        { abortSignal: options.signal },
      );
      for (const consumer of output.Consumers ?? []) consumers.push(toStreamConsumer(consumer));
      nextToken = output.NextToken;
    } catch (error) {
      throw translateKinesisError('ListStreamConsumers', error);
    }
  } while (nextToken);
  return consumers;
}

/** Options of {@link deregisterStreamConsumer}. */
export interface DeregisterStreamConsumerOptions {
  /** The user's client; never destroyed by the library. */
  readonly client: KinesisClientLike;
  /** The stream. */
  readonly streamArn: string;
  /** The consumer to deregister. */
  readonly consumerName: string;
  /** Stops the call. */
  readonly signal?: AbortSignal;
  /** Deadline of the call, SDK retries included. @defaultValue 10000 */
  readonly callTimeoutMs?: number;
}

/**
 * Deregisters a stream consumer (`DeregisterStreamConsumer`): its subscriptions end and every
 * application reading through it stops receiving records until it is registered again. Resolves
 * `false` when no such consumer exists.
 *
 * @throws `DependencyError` when AWS refuses.
 */
export async function deregisterStreamConsumer(options: DeregisterStreamConsumerOptions): Promise<boolean> {
  const client = clientWithDeadline(options.client, options.callTimeoutMs ?? 10_000);
  try {
    await client.send(
      new DeregisterStreamConsumerCommand({
        StreamARN: options.streamArn,
        ConsumerName: options.consumerName,
      }),
      { abortSignal: options.signal },
    );
    return true;
  } catch (error) {
    if (awsErrorName(error) === 'ResourceNotFoundException') return false;
    throw translateKinesisError('DeregisterStreamConsumer', error);
  }
}

function toStreamConsumer(consumer: Consumer): StreamConsumer {
  return {
    consumerName: consumer.ConsumerName ?? '',
    consumerArn: consumer.ConsumerARN ?? '',
    status: consumer.ConsumerStatus ?? '',
    createdAt: consumer.ConsumerCreationTimestamp,
  };
}
