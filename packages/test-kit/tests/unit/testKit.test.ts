import { describe, expect, it } from 'vitest';
import { mutate, seededRandom, until } from '../../src/index.js';

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

describe('mutate', () => {
  it('makes 1 to maxEdits one-character edits, the same ones for the same seed', () => {
    const text = '{"a":[1,2,3]}';
    const a = seededRandom(7);
    const b = seededRandom(7);
    for (let i = 0; i < 200; i++) {
      const mutated = mutate(text, a, 'xyz', 3);
      expect(mutate(text, b, 'xyz', 3)).toBe(mutated);
      expect(Math.abs(mutated.length - text.length)).toBeLessThanOrEqual(3);
    }
  });
});
