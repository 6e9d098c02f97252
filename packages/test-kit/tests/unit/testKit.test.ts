import { describe, expect, it } from 'vitest';
import { seededRandom, until } from '../../src/index.js';

describe('seededRandom', () => {
  it('replays the same numbers from the same seed, in [0, 1)', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const drawn = Array.from({ length: 1_000 }, () => a());
    expect(Array.from({ length: 1_000 }, () => b())).toEqual(drawn);
    expect(drawn.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(seededRandom(43)()).not.toBe(drawn[0]);
  });
});

describe('until', () => {
  it('resolves once the (async) check holds', async () => {
    let calls = 0;
    await until(async () => ++calls >= 3, 1_000, 'three calls', 1);
    expect(calls).toBe(3);
  });

  it('rejects after the timeout, naming what it waited for', async () => {
    await expect(until(() => false, 30, 'never', 5)).rejects.toThrow(/after 30 ms waiting for never/);
  });
});
