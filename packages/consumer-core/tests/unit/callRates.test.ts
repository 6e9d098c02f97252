import { describe, expect, it } from 'vitest';
import { maxCallsInWindow } from '../../src/testing/index.js';

describe('maxCallsInWindow', () => {
  it('counts the busiest window', () => {
    expect(maxCallsInWindow([], 1_000)).toBe(0);
    expect(maxCallsInWindow([0, 200, 400, 600, 800, 1_000], 1_000)).toBe(5);
    expect(maxCallsInWindow([0, 10, 20, 2_000, 2_001], 1_000)).toBe(3);
  });
});
