import type { Consumer, ConsumerEvent, RecordBatch, ShardSession } from '../../src/index.js';

/** Subscribes to `consumer.events$`: the list fills with every event as it comes. */
export function collectEvents(consumer: Consumer): ConsumerEvent[] {
  const events: ConsumerEvent[] = [];
  consumer.events$.subscribe((e) => events.push(e));
  return events;
}

/**
 * Subscribes to `consumer.shards$` and to the `records$` of every session: the lists fill with each
 * session and each batch as they come (nothing is checkpointed or released).
 */
export function collectSessions(consumer: Consumer): { sessions: ShardSession[]; batches: RecordBatch[] } {
  const sessions: ShardSession[] = [];
  const batches: RecordBatch[] = [];
  consumer.shards$.subscribe((session) => {
    sessions.push(session);
    session.records$.subscribe((batch) => batches.push(batch));
  });
  return { sessions, batches };
}
