import type { ConsumerEvent, ReadResult, ShardReader, StartingPosition } from '../../src/index.js';

/**
 * Reads `shardId-000000000000` with `reader` from `start` (TRIM_HORIZON by default) until the reader
 * ends or `shouldStop(results)` (checked every millisecond) says so, then aborts, as a lease loss would.
 * Returns every result in order, the events the reader reported, and the records it delivered.
 */
export async function readShard(
  reader: ShardReader,
  shouldStop: (results: readonly ReadResult[]) => boolean,
  start: StartingPosition = { kind: 'TRIM_HORIZON' },
) {
  const controller = new AbortController();
  const events: ConsumerEvent[] = [];
  const results: ReadResult[] = [];
  const watchdog = setInterval(() => {
    if (shouldStop(results)) controller.abort();
  }, 1);
  try {
    for await (const result of reader.read({
      shardId: 'shardId-000000000000',
      start,
      hashKeyRange: undefined,
      signal: controller.signal,
      onEvent: (e) => events.push(e),
    })) {
      results.push(result);
    }
  } finally {
    clearInterval(watchdog);
  }
  const records = results.flatMap((r) => (r.kind === 'records' ? r.records : []));
  return { events, results, records };
}
