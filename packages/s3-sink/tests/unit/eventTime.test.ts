import { seededRandom, testSeed } from '@shardline/test-kit';
import { describe, expect, it } from 'vitest';
import {
  parseEventTime,
  parseKeyTemplate,
  renderKeyTemplate,
  type TimeFieldFormat,
} from '../../src/index.js';
import { createTimestampRenderer } from '../../src/keys/KeyTemplate.js';
import { checkTimeZone, localTime } from '../../src/keys/timeZone.js';

const T = Date.UTC(2026, 4, 1, 12, 0, 0);
const HOUR = 3_600_000;

function template(source: string) {
  return parseKeyTemplate(source, { path: 'prefix', partitionKeyNames: [], isErrorPrefix: false }).template;
}

describe('parseEventTime', () => {
  it('reads ISO 8601 date-times with a UTC offset', () => {
    expect(parseEventTime('2026-05-01T12:00:00Z', 'auto')).toBe(T);
    expect(parseEventTime('2026-05-01T12:00:00.123Z', 'iso-8601')).toBe(T + 123);
    expect(parseEventTime('2026-05-01T12:00:00.123456789Z', 'auto')).toBe(T + 123);
    expect(parseEventTime('2026-05-01t12:00:00,5z', 'auto')).toBe(T + 500);
    expect(parseEventTime('2026-05-01 14:00:00+02:00', 'auto')).toBe(T);
    expect(parseEventTime('2026-05-01T14:00+0200', 'auto')).toBe(T);
    expect(parseEventTime('2026-05-01T07:30:00-04:30', 'auto')).toBe(T);
    expect(parseEventTime('2026-05-01T14:00:00+02', 'auto')).toBe(T);
    // A leap second counts as the next minute's first second, as POSIX time does.
    expect(parseEventTime('2026-05-01T11:59:60Z', 'auto')).toBe(T);
    expect(parseEventTime('2024-02-29T00:00:00Z', 'auto')).toBe(Date.UTC(2024, 1, 29));
  });

  it('agrees with Date.parse on random valid ISO 8601 date-times with offsets', () => {
    const seed = testSeed('ISO 8601 vs Date.parse');
    const random = seededRandom(seed);
    const pad = (n: number, w = 2) => String(n).padStart(w, '0');
    for (let i = 0; i < 5000; i++) {
      const ms = Date.UTC(1971, 0, 1) + Math.floor(random() * (Date.UTC(9000, 0, 1) - Date.UTC(1971, 0, 1)));
      const offsetMinutes = (Math.floor(random() * 4 * 28) - 4 * 14) * 15;
      const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 23);
      const sign = offsetMinutes < 0 ? '-' : '+';
      const text = `${local}${sign}${pad(Math.floor(Math.abs(offsetMinutes) / 60))}:${pad(Math.abs(offsetMinutes) % 60)}`;
      expect(parseEventTime(text, 'iso-8601'), `seed ${seed} ${text}`).toBe(Date.parse(text));
      expect(parseEventTime(text, 'iso-8601'), `seed ${seed} ${text}`).toBe(ms);
    }
  });

  it('reads epoch seconds and milliseconds, explicitly or by the documented 1e11 rule', () => {
    expect(parseEventTime(T / 1000, 'auto')).toBe(T);
    expect(parseEventTime(T, 'auto')).toBe(T);
    expect(parseEventTime(T / 1000 + 0.001, 'auto')).toBe(T + 1);
    expect(parseEventTime(String(T / 1000), 'auto')).toBe(T);
    expect(parseEventTime(String(T), 'auto')).toBe(T);
    expect(parseEventTime(99_999_999_999, 'auto')).toBe(99_999_999_999_000);
    expect(parseEventTime(100_000_000_000, 'auto')).toBe(100_000_000_000);
    expect(parseEventTime(T / 1000, 'epoch-seconds')).toBe(T);
    expect(parseEventTime(`${T / 1000}.25`, 'epoch-seconds')).toBe(T + 250);
    expect(parseEventTime(T, 'epoch-millis')).toBe(T);
    // Explicit units override the rule: 1e9 ms is 12 January 1970.
    expect(parseEventTime(1_000_000_000, 'epoch-millis')).toBe(1_000_000_000);
    expect(parseEventTime(1_000_000_000, 'auto')).toBe(1_000_000_000_000);
  });

  it('explains every unusable value', () => {
    const cases: [unknown, TimeFieldFormat, RegExp][] = [
      ['2026-05-01T12:00:00', 'auto', /no UTC offset/],
      ['2026-05-01', 'auto', /expected yyyy-MM-ddTHH:mm/],
      ['yesterday', 'auto', /not an ISO 8601 date-time/],
      ['2026-13-01T00:00:00Z', 'auto', /month 13/],
      ['2026-02-29T00:00:00Z', 'auto', /day 29 of month 02/],
      ['2026-05-01T24:00:00Z', 'auto', /hour 24/],
      ['2026-05-01T12:60:00Z', 'auto', /minute 60/],
      ['2026-05-01T12:00:00+25:00', 'auto', /offset/],
      ['2026-05-01T12:00:00.Z', 'auto', /digits after the decimal mark/],
      ['2026-05-01T12:00:0Z', 'auto', /two digits of seconds/],
      ['2026-05-01T12:00:00+02:0', 'auto', /expected a UTC offset/],
      ['2026-05-01T12:00:00+2', 'auto', /expected a UTC offset/],
      ['2026-05-01T12:00:00Zjunk', 'auto', /expected a UTC offset/],
      ['2026-05-01T12:00:00+02:00 ', 'auto', /expected a UTC offset/],
      ['2026-5-01T12:00:00Z', 'auto', /expected yyyy-MM-ddTHH:mm/],
      ['2026-05-01X12:00:00Z', 'auto', /expected yyyy-MM-ddTHH:mm/],
      [' 2026-05-01T12:00:00Z', 'auto', /expected yyyy-MM-ddTHH:mm/],
      ['', 'auto', /expected yyyy-MM-ddTHH:mm/],
      [T, 'iso-8601', /is a number, not an ISO 8601/],
      ['2026-05-01T12:00:00Z', 'epoch-seconds', /not a number of seconds/],
      ['2026-05-01T12:00:00Z', 'epoch-millis', /not a number of milliseconds/],
      [null, 'auto', /null is not a time/],
      [true, 'auto', /boolean is not a time/],
      [{ t: 1 }, 'auto', /an object is not a time/],
      [[1], 'auto', /an array is not a time/],
      [1e20, 'auto', /outside the years 1000–9999/],
      ['0999-12-31T00:00:00Z', 'auto', /outside the years/],
      // A big integer reaches the router as a decimal string (exact); still out of range.
      ['123456789012345678901234', 'auto', /outside the years|not a finite/],
    ];
    for (const [value, format, reason] of cases) {
      const result = parseEventTime(value, format);
      expect(result, `${JSON.stringify(value)} ${format}`).toEqual({ error: expect.stringMatching(reason) });
    }
  });
});

describe('time zones', () => {
  it('checks names with Intl and returns the runtime name', () => {
    expect(checkTimeZone('utc')).toEqual({ timeZone: 'UTC' });
    expect(checkTimeZone('America/New_York')).toEqual({ timeZone: 'America/New_York' });
    expect(checkTimeZone('Mars/Olympus_Mons')).toEqual({
      error: expect.stringMatching(/Mars\/Olympus_Mons/),
    });
    expect(checkTimeZone('')).toEqual({ error: expect.stringMatching(/IANA/) });
  });

  it('agrees with Intl for random instants in zones with odd offsets and transitions', () => {
    const seed = testSeed('time zones vs Intl');
    const random = seededRandom(seed);
    const zones = [
      'UTC',
      'America/New_York',
      'Asia/Kolkata',
      'Australia/Lord_Howe',
      'Pacific/Chatham',
      'Europe/Paris',
    ];
    for (const timeZone of zones) {
      const format = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      });
      for (let i = 0; i < 2000; i++) {
        // Mostly around 2026, some anywhere in 1970–2200.
        const ms =
          i % 4 === 0
            ? Math.floor(random() * Date.UTC(2200, 0, 1))
            : Date.UTC(2026, 0, 1) + Math.floor(random() * 366 * 24 * HOUR);
        const p = Object.fromEntries(format.formatToParts(ms).map((x) => [x.type, Number(x.value)]));
        const t = localTime(ms, timeZone);
        expect(
          [t.year, t.month, t.day, t.hour, t.minute, t.second],
          `seed ${seed} ${timeZone} ${new Date(ms).toISOString()}`,
        ).toEqual([p.year, p.month, p.day, p.hour! % 24, p.minute, p.second]);
      }
    }
  });

  it('renders UTC exactly as before the time-zone option (Date getters)', () => {
    const seed = testSeed('UTC rendering');
    const random = seededRandom(seed);
    const t = template('!{timestamp:yyyy-yy-MM-dd HH:mm:ss}');
    for (let i = 0; i < 5000; i++) {
      const ms = Math.floor(random() * Date.UTC(9999, 0, 1));
      const d = new Date(ms);
      const pad = (n: number, w = 2) => String(n).padStart(w, '0');
      const expected = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCFullYear() % 100)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
      expect(renderKeyTemplate(t, { timestampMs: ms }), `seed ${seed}`).toBe(expected);
    }
  });

  it('a fall-back night in New York: two UTC hours render the same local hour, deterministically', () => {
    // 2026-11-01: 01:00–02:00 EDT (05:00–06:00 UTC), then 01:00–02:00 EST again (06:00–07:00 UTC).
    const t = template('!{timestamp:yyyy/MM/dd/HH}/');
    const first = Date.UTC(2026, 10, 1, 5, 30);
    const second = Date.UTC(2026, 10, 1, 6, 30);
    const render = (ms: number) => renderKeyTemplate(t, { timestampMs: ms, timeZone: 'America/New_York' });
    expect(render(first)).toBe('2026/11/01/01/');
    expect(render(second)).toBe('2026/11/01/01/');
    expect(render(Date.UTC(2026, 10, 1, 4, 59, 59))).toBe('2026/11/01/00/');
    expect(render(Date.UTC(2026, 10, 1, 7, 0))).toBe('2026/11/01/02/');
    // Spring forward (2026-03-08): 02:00 local does not exist; 06:59:59 UTC is 01:59:59 EST, 07:00 is 03:00 EDT.
    expect(render(Date.UTC(2026, 2, 8, 6, 59, 59))).toBe('2026/03/08/01/');
    expect(render(Date.UTC(2026, 2, 8, 7, 0))).toBe('2026/03/08/03/');
    // The bucket renderer (the router's) gives the same text for both UTC hours, in any order.
    const bucket = createTimestampRenderer(t, 'America/New_York');
    expect([bucket(second), bucket(first), bucket(second)]).toEqual([
      '2026/11/01/01',
      '2026/11/01/01',
      '2026/11/01/01',
    ]);
  });

  it('a transition inside a UTC hour (Lord Howe moves by 30 minutes at 02:00 local)', () => {
    // 2026-04-05 02:00 LHDT (+11) becomes 01:30 LHST (+10:30), at 15:00 UTC on the 4th.
    const t = template('!{timestamp:HH:mm}');
    const render = (ms: number) => renderKeyTemplate(t, { timestampMs: ms, timeZone: 'Australia/Lord_Howe' });
    expect(render(Date.UTC(2026, 3, 4, 14, 59))).toBe('01:59');
    expect(render(Date.UTC(2026, 3, 4, 15, 0))).toBe('01:30');
    expect(render(Date.UTC(2026, 3, 4, 15, 29))).toBe('01:59');
    expect(render(Date.UTC(2026, 3, 4, 15, 30))).toBe('02:00');
  });

  it('the bucket renderer re-renders only when the wall-clock bucket changes, for half-hour zones too', () => {
    const kolkata = createTimestampRenderer(
      template('x/!{timestamp:yyyy}/y/!{timestamp:MM/dd/HH}'),
      'Asia/Kolkata',
    );
    // 12:00 UTC is 17:30 IST: 12:29 UTC is still hour 17, 12:30 UTC is hour 18.
    expect(kolkata(T)).toBe('2026\n05/01/17');
    expect(kolkata(T + 29 * 60_000)).toBe('2026\n05/01/17');
    expect(kolkata(T + 30 * 60_000)).toBe('2026\n05/01/18');
    expect(kolkata(T - 1)).toBe('2026\n05/01/17');
    const days = createTimestampRenderer(template('!{timestamp:yyyy/MM}/'), 'Europe/Paris');
    // 22:30 UTC on 30 April is 00:30 on 1 May in Paris.
    expect(days(Date.UTC(2026, 3, 30, 22, 30))).toBe('2026/05');
    expect(days(Date.UTC(2026, 3, 30, 21, 30))).toBe('2026/04');
  });

  it('refuses ISO times before the year 1000, which Date.UTC would read as 1900–1999', () => {
    expect(parseEventTime('0024-03-01T00:00:00Z', 'iso-8601')).toEqual({
      error: '"0024-03-01T00:00:00Z" is outside the years 1000–9999',
    });
    expect(parseEventTime('0999-12-31T23:59:59Z', 'auto')).toHaveProperty('error');
  });
});
