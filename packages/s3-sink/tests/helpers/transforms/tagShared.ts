import type { KinesisRecord } from '@shardline/consumer-core';
import type { TransformResult } from '../../../src/index.js';

const decoder = new TextDecoder();

/** Pure: records whose `data.i` is a multiple of 10 are dropped, the others kept as read. */
export function transform(record: KinesisRecord): TransformResult {
  const i = (JSON.parse(decoder.decode(record.data)) as { data?: { i?: unknown } }).data?.i;
  if (typeof i === 'number' && i % 10 === 0) return { result: 'Dropped' };
  return { result: 'Ok', data: record.data };
}
