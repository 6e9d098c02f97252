/**
 * How the value of `timeField` is read as an instant.
 *
 * - `auto`: a JSON string in ISO 8601 form is a date-time; a JSON number (or a string of digits, with an
 *   optional fraction) is epoch **seconds** when below 100,000,000,000 and epoch **milliseconds** from
 *   there (1e11 s is the year 5138; 1e11 ms is 3 March 1973, so every event time since then reads right
 *   either way).
 * - `iso-8601`: only ISO 8601 date-time strings.
 * - `epoch-seconds` / `epoch-millis`: only numbers (or strings of digits) in that unit.
 *
 * ISO 8601 date-times must carry a UTC offset (`Z`, `+02:00`, `+0200` or `+02`): a time without one
 * names no instant. Accepted shape: `yyyy-MM-ddTHH:mm[:ss[.fraction]]<offset>` (`T`, `t` or a space
 * between date and time; fractions beyond milliseconds are truncated).
 */
export const TimeFieldFormat = {
  Auto: 'auto',
  Iso8601: 'iso-8601',
  EpochSeconds: 'epoch-seconds',
  EpochMillis: 'epoch-millis',
} as const;
/** See {@link TimeFieldFormat}. */
export type TimeFieldFormat = (typeof TimeFieldFormat)[keyof typeof TimeFieldFormat];

/** In `auto`, numbers below this are seconds, numbers from it milliseconds. */
export const EPOCH_MILLIS_THRESHOLD = 100_000_000_000;
/** Event times are accepted within these years (four-digit years, whatever the time zone). */
const MIN_MS = Date.UTC(1000, 0, 2);
const MAX_MS = Date.UTC(9999, 11, 30);

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?$/;
const DIGITS = /^-?\d+(?:\.\d+)?$/;

/**
 * Reads an event time (the value `timeField` selected) in `format`: milliseconds since the epoch, or
 * why it is not usable (the reason names the value).
 */
export function parseEventTime(value: unknown, format: TimeFieldFormat): number | { error: string } {
  let ms: number | { error: string };
  if (typeof value === 'number') {
    ms =
      format === TimeFieldFormat.Iso8601
        ? { error: `${value} is a number, not an ISO 8601 date-time (timeFieldFormat iso-8601)` }
        : fromEpoch(value, format);
  } else if (typeof value === 'string') {
    const isDigits = DIGITS.test(value);
    if (format === TimeFieldFormat.Iso8601 || (format === TimeFieldFormat.Auto && !isDigits)) {
      ms = fromIso(value);
    } else if (isDigits) {
      ms = fromEpoch(Number(value), format);
    } else {
      ms = { error: `${JSON.stringify(value)} is not a number of ${unit(format)}` };
    }
  } else {
    const what =
      value === null
        ? 'null'
        : Array.isArray(value)
          ? 'an array'
          : typeof value === 'object'
            ? 'an object'
            : typeof value;
    ms = { error: `${what} is not a time` };
  }
  if (typeof ms === 'number' && (ms < MIN_MS || ms > MAX_MS)) {
    const when = Math.abs(ms) <= 8.64e15 ? ` is ${new Date(ms).toISOString()},` : ' is';
    return { error: `${JSON.stringify(value)}${when} outside the years 1000–9999` };
  }
  return ms;
}

function unit(format: TimeFieldFormat): string {
  return format === TimeFieldFormat.EpochMillis ? 'milliseconds' : 'seconds';
}

function fromEpoch(value: number, format: TimeFieldFormat): number | { error: string } {
  if (!Number.isFinite(value)) return { error: `${value} is not a finite number` };
  const isMillis =
    format === TimeFieldFormat.EpochMillis ||
    (format === TimeFieldFormat.Auto && Math.abs(value) >= EPOCH_MILLIS_THRESHOLD);
  // Seconds with a fraction: the nearest millisecond (1.001 * 1000 is 1000.9999999999999).
  return isMillis ? Math.floor(value) : Math.round(value * 1000);
}

function fromIso(text: string): number | { error: string } {
  const m = ISO.exec(text);
  const invalid = (why: string) => ({
    error: `${JSON.stringify(text)} is not an ISO 8601 date-time: ${why} (e.g. 2026-05-01T12:00:00Z)`,
  });
  if (!m) return invalid('expected yyyy-MM-ddTHH:mm[:ss[.fff]] and a UTC offset');
  const [, y, mo, d, h, mi, s, fraction, offset] = m;
  if (offset === undefined) return invalid('no UTC offset (Z or ±hh:mm), so it names no instant');
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (month < 1 || month > 12) return invalid(`month ${mo}`);
  if (day < 1 || day > daysInMonth(year, month)) return invalid(`day ${d} of month ${mo}`);
  if (hour > 23) return invalid(`hour ${h}`);
  if (minute > 59) return invalid(`minute ${mi}`);
  // 60: a leap second, counted as the first second of the next minute (as POSIX time does).
  if (second > 60) return invalid(`second ${s}`);
  let offsetMinutes = 0;
  if (offset !== 'Z' && offset !== 'z') {
    const digits = offset.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (oh > 23 || om > 59) return invalid(`offset ${offset}`);
    offsetMinutes = (offset[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const millis = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'));
  return Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
