import { describe, expect, it } from 'vitest';
import { addEvent, emptyMetrics, renderMetrics, top } from '../../src/metrics.js';

describe('live metrics', () => {
  it('counts types, brands, minutes and the session funnel once per session and step', () => {
    let m = emptyMetrics();
    const events = [
      { event_time: '2019-10-01 00:00:01 UTC', event_type: 'view', brand: 'apple', user_session: 's1' },
      { event_time: '2019-10-01 00:00:30 UTC', event_type: 'view', brand: 'apple', user_session: 's1' },
      { event_time: '2019-10-01 00:01:02 UTC', event_type: 'cart', brand: 'samsung', user_session: 's1' },
      { event_time: '2019-10-01 00:01:09 UTC', event_type: 'purchase', brand: 'samsung', user_session: 's1' },
      { event_time: '2019-10-01 00:02:00 UTC', event_type: 'view', brand: '', user_session: 's2' },
    ];
    for (const e of events) m = addEvent(m, e);
    expect(m.events).toBe(5);
    expect(Object.fromEntries(m.perType)).toEqual({ view: 3, cart: 1, purchase: 1 });
    expect(top(m.perBrand, 5)).toEqual([
      ['apple', 2],
      ['samsung', 2],
    ]);
    expect(m.funnel).toEqual({ view: 2, cart: 1, purchase: 1 });
    expect([...m.perMinute.keys()]).toEqual(['2019-10-01 00:00', '2019-10-01 00:01', '2019-10-01 00:02']);
    const text = renderMetrics(m);
    expect(text).toContain('conversion (sessions): view 2 -> cart 1 (50.0%) -> purchase 1 (50.0%)');
    expect(text).toContain('totals: view 3, cart 1, purchase 1');
  });

  it('keeps only the latest minutes', () => {
    let m = emptyMetrics();
    for (let i = 0; i < 8; i++)
      m = addEvent(m, { event_time: `2019-10-01 00:0${i}:00 UTC`, event_type: 'view' }, 3);
    expect([...m.perMinute.keys()].sort()).toEqual([
      '2019-10-01 00:05',
      '2019-10-01 00:06',
      '2019-10-01 00:07',
    ]);
  });
});
