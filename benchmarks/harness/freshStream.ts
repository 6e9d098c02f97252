import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { type LocalStream, type LocalTwin, uniqueName } from '@shardline/local';
import { putEvents } from './putEvents.js';
import type { SampleEvent } from './sampleEvents.js';

/**
 * Runs `body` on a fresh stream of `shardCount` shards named after `prefix`, then deletes it: every
 * round and contender starts from the same empty stream, streams do not pile up in the emulator over
 * the rounds, and a failed delete never hides the body's own error (it is logged).
 */
export async function withFreshStream<T>(
  ctx: { log(message: string): void },
  stack: LocalTwin,
  prefix: string,
  shardCount: number,
  body: (stream: LocalStream) => Promise<T>,
): Promise<T> {
  const stream = await stack.createStream(uniqueName(prefix), { shardCount });
  try {
    return await body(stream);
  } finally {
    await stack
      .deleteStream(stream.streamName)
      .catch((error: unknown) => ctx.log(`could not delete ${stream.streamName}: ${String(error)}`));
  }
}

/**
 * {@link withFreshStream}, with `events` put into the stream before `body` runs (through `kinesis`, one
 * PutRecords call in flight per shard): what a drain contender reads from TRIM_HORIZON.
 */
export function withPreloadedStream<T>(
  ctx: { log(message: string): void; readonly signal: AbortSignal },
  stack: LocalTwin,
  preload: { readonly kinesis: KinesisClient; readonly events: readonly SampleEvent[] },
  prefix: string,
  shardCount: number,
  body: (stream: LocalStream) => Promise<T>,
): Promise<T> {
  return withFreshStream(ctx, stack, prefix, shardCount, async (stream) => {
    await putEvents(preload.kinesis, {
      streamName: stream.streamName,
      events: preload.events,
      concurrency: shardCount,
      signal: ctx.signal,
    });
    return body(stream);
  });
}
