import { randomFillSync } from 'node:crypto';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const POOL_SIZE = 16 * 256;
const pool = new Uint8Array(POOL_SIZE);
let poolOffset = POOL_SIZE;
let lastMs = -1;
let sequence = 0;

/** The UUIDv7 text form: 8-4-4-4-12 lower-case hex digits, version 7, RFC 9562 variant. */
export const UUID_V7_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * A new UUIDv7 (RFC 9562): 48-bit Unix time in milliseconds, then random bits. Ids made by one process
 * sort by creation: within one millisecond a 12-bit counter (`rand_a`, RFC 9562 §6.2 method 1) that
 * starts at a random value orders them, and borrows the next millisecond if it overflows.
 *
 * @param nowMs - the clock, for tests. @defaultValue `Date.now()`
 */
export function uuidv7(nowMs: number = Date.now()): string {
  if (poolOffset + 16 > POOL_SIZE) {
    // One syscall per 256 ids rather than one per id.
    randomFillSync(pool);
    poolOffset = 0;
  }
  const r = poolOffset;
  poolOffset += 16;
  let ms = Math.max(nowMs, lastMs);
  if (ms === lastMs) {
    sequence += 1;
    if (sequence > 0xfff) {
      ms += 1;
      sequence = pool[r]! & 0x7ff;
    }
  } else {
    // Start low in the counter's range so that it rarely overflows.
    sequence = ((pool[r]! << 8) | pool[r + 1]!) & 0x7ff;
  }
  lastMs = ms;
  const high = Math.floor(ms / 0x1000000);
  const low = ms % 0x1000000;
  return (
    HEX[(high >>> 16) & 0xff]! +
    HEX[(high >>> 8) & 0xff]! +
    HEX[high & 0xff]! +
    HEX[(low >>> 16) & 0xff]! +
    '-' +
    HEX[(low >>> 8) & 0xff]! +
    HEX[low & 0xff]! +
    '-' +
    HEX[0x70 | (sequence >>> 8)]! +
    HEX[sequence & 0xff]! +
    '-' +
    HEX[0x80 | (pool[r + 8]! & 0x3f)]! +
    HEX[pool[r + 9]!]! +
    '-' +
    HEX[pool[r + 10]!]! +
    HEX[pool[r + 11]!]! +
    HEX[pool[r + 12]!]! +
    HEX[pool[r + 13]!]! +
    HEX[pool[r + 14]!]! +
    HEX[pool[r + 15]!]!
  );
}
