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
  // A scan by position rather than a regular expression: this runs once per record.
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const separator = text.charCodeAt(10);
  if (
    year < 0 ||
    month < 0 ||
    day < 0 ||
    hour < 0 ||
    minute < 0 ||
    text.charCodeAt(4) !== DASH ||
    text.charCodeAt(7) !== DASH ||
    (separator !== UPPER_T && separator !== LOWER_T && separator !== SPACE) ||
    text.charCodeAt(13) !== COLON
  ) {
    return invalidIso(text, 'expected yyyy-MM-ddTHH:mm[:ss[.fff]] and a UTC offset');
  }
  let at = 16;
  let second = 0;
  let millis = 0;
  if (text.charCodeAt(at) === COLON) {
    second = digits(text, at + 1, 2);
    if (second < 0) return invalidIso(text, 'expected two digits of seconds');
    at += 3;
    const mark = text.charCodeAt(at);
    if (mark === DOT || mark === COMMA) {
      at += 1;
      const from = at;
      while (isDigit(text.charCodeAt(at))) at += 1;
      if (at === from) return invalidIso(text, 'expected digits after the decimal mark');
      // Milliseconds; finer digits are truncated.
      for (let i = 0; i < 3; i++)
        millis = millis * 10 + (from + i < at ? text.charCodeAt(from + i) - ZERO : 0);
    }
  }
  if (at === text.length) return invalidIso(text, 'no UTC offset (Z or ±hh:mm), so it names no instant');
  let offsetMinutes = 0;
  const sign = text.charCodeAt(at);
  if ((sign === UPPER_Z || sign === LOWER_Z) && at + 1 === text.length) {
    offsetMinutes = 0;
  } else if (sign === PLUS || sign === MINUS) {
    const offsetHours = digits(text, at + 1, 2);
    let rest = at + 3;
    if (text.charCodeAt(rest) === COLON) rest += 1;
    const offsetMins = rest === text.length ? 0 : digits(text, rest, 2);
    if (offsetHours < 0 || offsetMins < 0 || (rest !== text.length && rest + 2 !== text.length)) {
      return invalidIso(text, `expected a UTC offset Z, ±hh:mm, ±hhmm or ±hh, not "${text.slice(at)}"`);
    }
    if (offsetHours > 23 || offsetMins > 59) return invalidIso(text, `offset ${text.slice(at)}`);
    offsetMinutes = (sign === MINUS ? -1 : 1) * (offsetHours * 60 + offsetMins);
  } else {
    return invalidIso(text, `expected a UTC offset Z, ±hh:mm, ±hhmm or ±hh, not "${text.slice(at)}"`);
  }
  // Before the range check on the instant: `Date.UTC` reads years 0–99 as 1900–1999.
  if (year < 1000) return { error: `${JSON.stringify(text)} is outside the years 1000–9999` };
  if (month < 1 || month > 12) return invalidIso(text, `month ${text.slice(5, 7)}`);
  if (day < 1 || day > daysInMonth(year, month)) {
    return invalidIso(text, `day ${text.slice(8, 10)} of month ${text.slice(5, 7)}`);
  }
  if (hour > 23) return invalidIso(text, `hour ${text.slice(11, 13)}`);
  if (minute > 59) return invalidIso(text, `minute ${text.slice(14, 16)}`);
  // 60: a leap second, counted as the first second of the next minute (as POSIX time does).
  if (second > 60) return invalidIso(text, `second ${text.slice(17, 19)}`);
  return Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
}

function invalidIso(text: string, why: string): { error: string } {
  return {
    error: `${JSON.stringify(text)} is not an ISO 8601 date-time: ${why} (e.g. 2026-05-01T12:00:00Z)`,
  };
}

const ZERO = 0x30;
const DASH = 0x2d;
const COLON = 0x3a;
const DOT = 0x2e;
const COMMA = 0x2c;
const PLUS = 0x2b;
const MINUS = 0x2d;
const SPACE = 0x20;
const UPPER_T = 0x54;
const LOWER_T = 0x74;
const UPPER_Z = 0x5a;
const LOWER_Z = 0x7a;

function isDigit(code: number): boolean {
  return code >= ZERO && code <= ZERO + 9;
}

/** The number written by `count` ASCII digits at `start`, or -1. */
function digits(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const code = text.charCodeAt(i);
    if (!isDigit(code)) return -1;
    value = value * 10 + code - ZERO;
  }
  return value;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
