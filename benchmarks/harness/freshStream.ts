import { type LocalStream, type LocalTwin, uniqueName } from '@shardline/local';

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
