import { describe, expect, it } from 'vitest';
import { median, percentile, ratio, roundFigure, summarize } from '../harness/stats.js';

describe('median', () => {
  it('takes the middle value of an odd count, whatever the order', () => {
    expect(median([5, 1, 3])).toBe(3);
  });
  it('averages the two middle values of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
  it('rejects no values and values that are not finite', () => {
    expect(() => median([])).toThrow(RangeError);
    expect(() => median([1, Number.NaN])).toThrow(/value 1 is NaN/);
    expect(() => median([Number.POSITIVE_INFINITY])).toThrow(RangeError);
  });
});

describe('percentile (nearest rank)', () => {
  const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted on purpose
  it('returns observed values', () => {
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile(values, 0)).toBe(1);
  });
  it('rounds the rank up on small samples', () => {
    expect(percentile([10, 20, 30], 50)).toBe(20);
    expect(percentile([10, 20, 30], 99)).toBe(30);
  });
  it('rejects p outside 0–100', () => {
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], -1)).toThrow(RangeError);
  });
});

describe('summarize', () => {
  it('gives median, min, max and count', () => {
    expect(summarize([3, 9, 1, 4])).toEqual({ median: 3.5, min: 1, max: 9, count: 4 });
  });
});

describe('ratio', () => {
  it('is candidate over baseline', () => {
    expect(ratio(90, 100)).toBeCloseTo(0.9);
  });
  it('is null without a baseline or with a zero baseline', () => {
    expect(ratio(5, null)).toBeNull();
    expect(ratio(5, 0)).toBeNull();
  });
});

describe('roundFigure', () => {
  it('keeps 4 significant digits below 1000 and whole numbers above', () => {
    expect(roundFigure(12.34567)).toBe(12.35);
    expect(roundFigure(0.000123456)).toBe(0.0001235);
    expect(roundFigure(12345.6)).toBe(12346);
    expect(roundFigure(0)).toBe(0);
  });
});
