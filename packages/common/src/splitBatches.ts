/**
 * Cuts `items` into consecutive batches of at most `maxRecords` items whose sizes add up to at most
 * `maxBytes` (greedy, order kept) — e.g. the `PutRecords` calls of a list of records. An item larger
 * than `maxBytes` goes alone in its own batch.
 *
 * @param sizeOf - the item's size in bytes.
 * @example
 * ```ts
 * splitBatches(records, (r) => r.bytes, MAX_PUT_RECORDS_RECORDS, MAX_PUT_RECORDS_BYTES);
 * ```
 */
export function splitBatches<T>(
  items: readonly T[],
  sizeOf: (item: T) => number,
  maxRecords: number,
  maxBytes: number,
): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (current.length > 0 && (current.length >= maxRecords || bytes + size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
