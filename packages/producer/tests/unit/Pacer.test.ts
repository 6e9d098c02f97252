import { describe, expect, it } from 'vitest';
import { Pacer } from '../../src/cli/Pacer.js';

describe('Pacer', () => {
  it('--rate spaces sends 1/rate apart from the first', () => {
    const pacer = new Pacer({ ratePerSecond: 200 });
    expect([0, 1, 2, 3].map(() => pacer.dueAtMs(undefined, 1_000))).toEqual([1_000, 1_005, 1_010, 1_015]);
  });

  it('--speed follows the event times divided by the factor; late rows never pull the schedule back', () => {
    const pacer = new Pacer({ speed: 10 });
    const t0 = Date.UTC(2019, 9, 1);
    expect(pacer.dueAtMs(t0, 50_000)).toBe(50_000);
    expect(pacer.dueAtMs(t0 + 10_000, 50_001)).toBe(51_000); // 10 s of event time at ×10
    expect(pacer.dueAtMs(t0 - 5_000, 50_002)).toBe(50_000); // out of order: at once
    expect(pacer.dueAtMs(t0 + 60_000, 50_003)).toBe(56_000);
  });

  it('without pacing, everything is due now', () => {
    expect(new Pacer({}).dueAtMs(123, 5)).toBeUndefined();
  });
});
