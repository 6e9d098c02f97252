import { INGEST_LIMITS } from '@shardline/ingest';

/**
 * How deep `data` may nest for the sink to read its values: the event contract's limit (64). Deeper
 * data is refused before any recursive parse, so whether a record is routed or refused never depends
 * on the stack's size (a redo must route every record the same way).
 */
export const MAX_DATA_DEPTH = INGEST_LIMITS.maxDataDepth;

/**
 * The deepest nesting of arrays and objects in JSON text (valid JSON: strings are skipped by their
 * quotes and escapes). Iterative: any depth is measured without recursion.
 */
export function jsonDepth(bytes: Uint8Array): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0x22) {
      // Skip the string: up to the next quote not escaped.
      for (i++; i < bytes.length && bytes[i] !== 0x22; i++) if (bytes[i] === 0x5c) i++;
    } else if (b === 0x7b || b === 0x5b) {
      if (++depth > max) max = depth;
    } else if (b === 0x7d || b === 0x5d) depth--;
  }
  return max;
}
