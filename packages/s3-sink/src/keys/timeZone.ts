/**
 * Wall-clock time of an instant in an IANA time zone, for key prefixes (Firehose's `CustomTimeZone`).
 *
 * The zone's UTC offset comes from `Intl.DateTimeFormat#formatToParts` (the runtime's time-zone
 * database, `process.versions.tz`), cached per zone and per UTC hour: the hot path (one call per record)
 * is a comparison and arithmetic. Within one UTC hour the offset is constant unless a transition falls
 * inside it; such an hour is detected (offsets at its first and last second differ) and its instants are
 * converted one by one.
 */

/** The wall-clock fields of an instant in a time zone. */
export interface LocalTime {
  readonly year: number;
  /** 1–12. */
  readonly month: number;
  /** 1–31. */
  readonly day: number;
  /** 0–23. */
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

/** The time zone of keys unless one is given (Firehose's default). */
export const UTC = 'UTC';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** UTC hours whose offset is kept per zone (a range rarely spans more; the cache is then rebuilt). */
const MAX_CACHED_HOURS = 4096;
/** Marks a cached UTC hour that holds an offset transition. */
const VARIES = Number.NaN;

/**
 * Checks a time-zone name with `Intl` and returns the runtime's name for it (`utc` → `UTC`), or an error
 * message naming the value.
 */
export function checkTimeZone(name: unknown): { timeZone: string } | { error: string } {
  if (typeof name !== 'string' || name.length === 0) {
    return { error: 'must be an IANA time zone name such as UTC, Europe/Paris or America/New_York' };
  }
  try {
    return { timeZone: new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone };
  } catch {
    return {
      error: `"${name}" is not a time zone this runtime knows (an IANA name such as UTC, Europe/Paris or America/New_York)`,
    };
  }
}

class ZoneOffsets {
  readonly #format: Intl.DateTimeFormat | undefined;
  readonly #hours = new Map<number, number>();
  #lastHour = Number.NaN;
  #lastOffsetMs = 0;

  constructor(timeZone: string) {
    this.#format =
      timeZone === UTC
        ? undefined
        : new Intl.DateTimeFormat('en-US', {
            timeZone,
            hourCycle: 'h23',
            year: 'numeric',
            month: 'numeric',
            day: 'numeric',
            hour: 'numeric',
            minute: 'numeric',
            second: 'numeric',
          });
  }

  /** The zone's offset from UTC at `ms` (local wall time = `ms` + offset). */
  offsetMs(ms: number): number {
    if (this.#format === undefined) return 0;
    const hour = Math.floor(ms / HOUR);
    if (hour === this.#lastHour) return this.#lastOffsetMs;
    let offset = this.#hours.get(hour);
    if (offset === undefined) {
      const start = hour * HOUR;
      const atStart = this.#exactOffsetMs(start);
      offset = atStart === this.#exactOffsetMs(start + HOUR - SECOND) ? atStart : VARIES;
      if (this.#hours.size >= MAX_CACHED_HOURS) this.#hours.clear();
      this.#hours.set(hour, offset);
    }
    // A transition inside this hour: each instant on its own (transitions fall on whole seconds).
    if (Number.isNaN(offset)) return this.#exactOffsetMs(Math.floor(ms / SECOND) * SECOND);
    this.#lastHour = hour;
    this.#lastOffsetMs = offset;
    return offset;
  }

  #exactOffsetMs(wholeSecondMs: number): number {
    let year = 0;
    let month = 1;
    let day = 1;
    let hour = 0;
    let minute = 0;
    let second = 0;
    for (const part of this.#format!.formatToParts(wholeSecondMs)) {
      switch (part.type) {
        case 'year':
          year = Number(part.value);
          break;
        case 'month':
          month = Number(part.value);
          break;
        case 'day':
          day = Number(part.value);
          break;
        case 'hour':
          hour = Number(part.value) % 24;
          break;
        case 'minute':
          minute = Number(part.value);
          break;
        case 'second':
          second = Number(part.value);
          break;
      }
    }
    const wall = new Date(0);
    wall.setUTCFullYear(year, month - 1, day);
    wall.setUTCHours(hour, minute, second, 0);
    return wall.getTime() - wholeSecondMs;
  }
}

const zones = new Map<string, ZoneOffsets>();

function offsets(timeZone: string): ZoneOffsets {
  let zone = zones.get(timeZone);
  if (zone === undefined) {
    zone = new ZoneOffsets(timeZone);
    zones.set(timeZone, zone);
  }
  return zone;
}

/**
 * The local wall time (`ms` plus the zone's offset, as milliseconds since the epoch of a UTC clock) of
 * `ms` in `timeZone`. Pure; cached per zone and UTC hour.
 *
 * @throws RangeError when `timeZone` is not a zone the runtime knows (check it with {@link checkTimeZone}).
 */
export function wallClockMs(ms: number, timeZone: string): number {
  return ms + offsets(timeZone).offsetMs(ms);
}

/** The calendar fields of a wall-clock time from {@link wallClockMs} (proleptic Gregorian calendar). */
export function wallClockFields(wallMs: number): LocalTime {
  const days = Math.floor(wallMs / DAY);
  const msOfDay = wallMs - days * DAY;
  // Days to civil date (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms").
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const month = mp < 10 ? mp + 3 : mp - 9;
  return {
    year: yoe + era * 400 + (month <= 2 ? 1 : 0),
    month,
    day: doy - Math.floor((153 * mp + 2) / 5) + 1,
    hour: Math.floor(msOfDay / HOUR),
    minute: Math.floor((msOfDay % HOUR) / MINUTE),
    second: Math.floor((msOfDay % MINUTE) / SECOND),
  };
}

/** The wall-clock fields of `ms` in `timeZone`. See {@link wallClockMs}. */
export function localTime(ms: number, timeZone: string): LocalTime {
  return wallClockFields(wallClockMs(ms, timeZone));
}

/** Milliseconds per unit of a wall-clock bucket. */
export const BUCKET_MS = { second: SECOND, minute: MINUTE, hour: HOUR, day: DAY } as const;
