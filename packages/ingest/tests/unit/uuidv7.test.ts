import { describe, expect, it } from 'vitest';
import { UUID_V7_PATTERN, uuidv7 } from '../../src/index.js';

function timestampOf(id: string): number {
  return Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}

describe('uuidv7', () => {
  it('has the RFC 9562 layout: version 7, variant 10, 48-bit millisecond time', () => {
    const ms = Date.UTC(2026, 10, 25, 16, 38, 0, 123);
    const id = uuidv7(ms);
    expect(id).toMatch(UUID_V7_PATTERN);
    expect(timestampOf(id)).toBe(ms);
  });

  it('sorts by creation within one millisecond, and is unique', () => {
    const ms = Date.UTC(2030, 0, 1);
    const ids = Array.from({ length: 10_000 }, () => uuidv7(ms));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    // 10,000 ids in one millisecond overflow the 12-bit counter: time moves on, never back.
    expect(timestampOf(ids.at(-1)!)).toBeGreaterThanOrEqual(ms);
    expect(timestampOf(ids.at(-1)!)).toBeLessThan(ms + 10);
  });

  it('never goes back when the clock does', () => {
    const a = uuidv7(Date.UTC(2031, 0, 1, 0, 0, 1));
    const b = uuidv7(Date.UTC(2031, 0, 1, 0, 0, 0));
    expect(b > a).toBe(true);
  });
});
