import {
  KinesisClient,
  type KinesisClientConfig,
  type SubscribeToShardEventStream,
} from '@aws-sdk/client-kinesis';
import type { KinesisClientLike } from '../../src/index.js';
import { awsError, type FakeRawRecord } from './fakeKinesis.js';

/**
 * An SDK client aimed at a push fake (`startFanOutFake`) through `requestHandler`, with test
 * credentials and one attempt per call (the SDK's own retries would hide what the fake did). The
 * caller destroys it.
 */
export function clientOfFake(
  fake: { readonly endpoint: string },
  requestHandler: KinesisClientConfig['requestHandler'],
): KinesisClient {
  return new KinesisClient({
    endpoint: fake.endpoint,
    requestHandler,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
}

/** One event of a scripted subscription, or an error thrown by the stream, or the stream ending. */
export type FanOutStep =
  | {
      readonly records?: readonly FakeRawRecord[];
      readonly continuation?: string | null;
      readonly millisBehindLatest?: number;
      readonly childShards?: readonly { ShardId: string; ParentShards: string[] }[];
    }
  | { readonly error: Error }
  | { readonly member: SubscribeToShardEventStream }
  | 'end'
  /** Never answers (until the subscription is aborted). */
  | 'hang';

/** What one `SubscribeToShard` call does: fail at once, never answer (ignoring its signal), or stream the steps. */
export type SubscriptionScript = Error | 'no-answer' | readonly FanOutStep[];

/** A subscription as the fake saw it. */
export interface FakeSubscription {
  readonly input: {
    ConsumerARN?: string;
    ShardId?: string;
    StartingPosition?: { Type?: string; SequenceNumber?: string; Timestamp?: Date };
  };
  readonly signal: AbortSignal | undefined;
  /** `performance.now()` when the subscription's signal aborted (the SDK would reset the stream then). */
  abortedAtMs: number | undefined;
  /** Events handed to the reader (`next()` calls answered). */
  pulled: number;
  /** `next()` calls made by the reader. */
  nextCalls: number;
  /** Whether the reader called `return()` on the stream's iterator. */
  returned: boolean;
}

/**
 * A Kinesis client whose `SubscribeToShard` streams scripted events through a plain async iterable
 * (what the SDK hands out), one script per call in order; other commands go to `other`.
 */
export function fakeFanOutClient(
  scripts: readonly SubscriptionScript[],
  other: (command: { constructor: { name: string }; input: unknown }) => Promise<unknown> = () =>
    Promise.reject(awsError('UnsupportedOperation')),
) {
  const subscriptions: FakeSubscription[] = [];
  const commands: string[] = [];
  const client = {
    send: async (
      command: { constructor: { name: string }; input: unknown },
      options?: { abortSignal?: AbortSignal },
    ) => {
      commands.push(command.constructor.name);
      if (command.constructor.name !== 'SubscribeToShardCommand') return other(command);
      const script: SubscriptionScript = scripts[subscriptions.length] ?? ['hang'];
      const subscription: FakeSubscription = {
        input: command.input as FakeSubscription['input'],
        signal: options?.abortSignal,
        abortedAtMs: undefined,
        pulled: 0,
        nextCalls: 0,
        returned: false,
      };
      subscriptions.push(subscription);
      options?.abortSignal?.addEventListener(
        'abort',
        () => {
          subscription.abortedAtMs = performance.now();
        },
        { once: true },
      );
      if (script instanceof Error) throw script;
      if (script === 'no-answer') return new Promise(() => undefined);
      return { EventStream: eventStream(script, subscription) };
    },
  };
  return { client: client as unknown as KinesisClientLike, subscriptions, commands };
}

function eventStream(
  steps: readonly FanOutStep[],
  subscription: FakeSubscription,
): AsyncIterable<SubscribeToShardEventStream> {
  let index = 0;
  const aborted = () =>
    new Promise<never>((_, reject) => {
      const signal = subscription.signal;
      const fail = () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
      if (signal?.aborted) fail();
      signal?.addEventListener('abort', fail, { once: true });
    });
  return {
    [Symbol.asyncIterator]: () => ({
      next: async (): Promise<IteratorResult<SubscribeToShardEventStream>> => {
        subscription.nextCalls += 1;
        if (subscription.signal?.aborted) throw Object.assign(new Error('aborted'), { name: 'AbortError' });
        const step = steps[index++] ?? 'end';
        if (step === 'end') return { done: true, value: undefined };
        if (step === 'hang') return aborted();
        if ('error' in step) throw step.error;
        subscription.pulled += 1;
        if ('member' in step) return { done: false, value: step.member };
        return {
          done: false,
          value: {
            SubscribeToShardEvent: {
              Records: (step.records ?? []).map((r) => ({ ...r })) as never,
              ContinuationSequenceNumber:
                step.continuation === null
                  ? undefined
                  : (step.continuation ?? step.records?.at(-1)?.SequenceNumber ?? '0'),
              MillisBehindLatest: step.millisBehindLatest ?? 0,
              ChildShards: step.childShards?.map((c) => ({ ...c, HashKeyRange: undefined })) as never,
            },
          },
        };
      },
      return: async () => {
        subscription.returned = true;
        return { done: true, value: undefined };
      },
    }),
  };
}
