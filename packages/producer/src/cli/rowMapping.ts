import { createHash } from 'node:crypto';

/** How a mapped field's string is turned into a JSON value. */
export const FieldType = {
  /** As it is (the default: every CSV value stays a string). */
  String: 'string',
  /** A JSON number; integers beyond 2^53 keep every digit; empty → null; anything else rejects the row. */
  Number: 'number',
  /** `true`/`false`/`1`/`0` (any case); empty → null. */
  Boolean: 'boolean',
} as const;
/** See {@link FieldType}. */
export type FieldType = (typeof FieldType)[keyof typeof FieldType];

/** Formats of `--event-time`. */
export const EventTimeFormat = {
  /** `2019-10-01 00:00:00 UTC`, `2019-10-01T00:00:00Z`, with optional fraction and offset; no zone = UTC. */
  Iso: 'iso',
  /** `DD-MM-YYYY HH:MM[:SS]` or with `/` or `.` (UTC). */
  Dmy: 'dmy',
  /** `MM/DD/YYYY HH:MM[:SS]` or with `-` (UTC). */
  Mdy: 'mdy',
  /** Milliseconds since the epoch. */
  EpochMs: 'epoch-ms',
  /** Seconds since the epoch (fraction allowed). */
  EpochS: 'epoch-s',
} as const;
/** See {@link EventTimeFormat}. */
export type EventTimeFormat = (typeof EventTimeFormat)[keyof typeof EventTimeFormat];

/** How rows become events. */
export interface RowMappingOptions {
  /** `column → field`. When empty, every column becomes a field of its own name. */
  readonly fields: ReadonlyMap<string, string>;
  /** `field → type` for fields that are not strings. */
  readonly types: ReadonlyMap<string, FieldType>;
  /** Column whose value is the partition key. */
  readonly partitionKeyColumn?: string;
  /** Column holding the event time (needed by `--speed`). */
  readonly eventTimeColumn?: string;
  readonly eventTimeFormat: EventTimeFormat;
}

/** A row turned into an event. */
export interface MappedRow {
  readonly event: Record<string, unknown>;
  readonly partitionKey: string | undefined;
  /** Epoch ms of the event time, when an event time column is set. */
  readonly eventTimeMs: number | undefined;
}

/** A row that cannot become an event. */
export class RowMappingError extends Error {}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?\s*(Z|UTC|[+-]\d{2}:?\d{2})?$/i;
const DMY = /^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/;

function utc(
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
  fractionMs = 0,
): number | undefined {
  const ms = Date.UTC(y, mo - 1, d, h, mi, s, fractionMs);
  const check = new Date(ms);
  if (
    check.getUTCFullYear() !== y ||
    check.getUTCMonth() !== mo - 1 ||
    check.getUTCDate() !== d ||
    h > 23 ||
    mi > 59 ||
    s > 59
  ) {
    return undefined;
  }
  return ms;
}

/** Parses an event time; `undefined` when it does not match the format. */
export function parseEventTime(value: string, format: EventTimeFormat): number | undefined {
  const v = value.trim();
  switch (format) {
    case EventTimeFormat.Iso: {
      const m = ISO.exec(v);
      if (m === null) return undefined;
      const fraction = m[7] === undefined ? 0 : Math.floor(Number(m[7]) * 1000);
      const base = utc(+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +(m[6] ?? 0), fraction);
      if (base === undefined) return undefined;
      const zone = m[8]?.toUpperCase();
      if (zone === undefined || zone === 'Z' || zone === 'UTC') return base;
      const sign = zone.startsWith('-') ? -1 : 1;
      const digits = zone.slice(1).replace(':', '');
      return base - sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
    }
    case EventTimeFormat.Dmy:
    case EventTimeFormat.Mdy: {
      const m = DMY.exec(v);
      if (m === null) return undefined;
      const [a, b] = [+m[1]!, +m[2]!];
      const [day, month] = format === EventTimeFormat.Dmy ? [a, b] : [b, a];
      return utc(+m[3]!, month, day, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0));
    }
    case EventTimeFormat.EpochMs:
      return /^\d{1,16}$/.test(v) ? Number(v) : undefined;
    case EventTimeFormat.EpochS:
      return /^\d{1,13}(\.\d+)?$/.test(v) ? Math.round(Number(v) * 1000) : undefined;
  }
}

const INTEGER = /^-?(?:0|[1-9]\d*)$/;
const DECIMAL = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

function convert(value: string, type: FieldType, field: string): unknown {
  if (type === FieldType.String) return value;
  const v = value.trim();
  if (v === '') return null;
  if (type === FieldType.Number) {
    if (INTEGER.test(v)) {
      const n = Number(v);
      // Beyond 2^53 a JS number loses digits: keep the exact integer.
      return Number.isSafeInteger(n) ? n : BigInt(v);
    }
    if (DECIMAL.test(v) && Number.isFinite(Number(v))) return Number(v);
    throw new RowMappingError(`field "${field}": ${JSON.stringify(value)} is not a number`);
  }
  const lower = v.toLowerCase();
  if (lower === 'true' || lower === '1') return true;
  if (lower === 'false' || lower === '0') return false;
  throw new RowMappingError(`field "${field}": ${JSON.stringify(value)} is not a boolean`);
}

/** Turns rows of a file with `columns` into events. Checks the options against the header first. */
export class RowMapper {
  readonly #plan: { index: number; field: string; type: FieldType }[];
  readonly #keyIndex: number | undefined;
  readonly #timeIndex: number | undefined;
  readonly #timeFormat: EventTimeFormat;

  /** @throws RowMappingError naming every column that the header lacks. */
  constructor(columns: readonly string[], options: RowMappingOptions) {
    const index = new Map(columns.map((c, i) => [c, i]));
    const missing: string[] = [];
    const at = (column: string | undefined): number | undefined => {
      if (column === undefined) return undefined;
      const i = index.get(column);
      if (i === undefined) missing.push(column);
      return i;
    };
    const pairs = options.fields.size === 0 ? columns.map((c) => [c, c] as const) : [...options.fields];
    this.#plan = [];
    for (const [column, field] of pairs) {
      const i = at(column);
      if (i !== undefined)
        this.#plan.push({ index: i, field, type: options.types.get(field) ?? FieldType.String });
    }
    this.#keyIndex = at(options.partitionKeyColumn);
    this.#timeIndex = at(options.eventTimeColumn);
    this.#timeFormat = options.eventTimeFormat;
    const fields = new Set(this.#plan.map((p) => p.field));
    const unknownTypes = [...options.types.keys()].filter((f) => !fields.has(f));
    if (missing.length > 0 || unknownTypes.length > 0) {
      throw new RowMappingError(
        [
          missing.length > 0
            ? `no such column: ${missing.map((m) => JSON.stringify(m)).join(', ')} (columns: ${columns.join(', ')})`
            : '',
          unknownTypes.length > 0 ? `--type names no mapped field: ${unknownTypes.join(', ')}` : '',
        ]
          .filter(Boolean)
          .join('; '),
      );
    }
  }

  /** @throws RowMappingError when a value does not convert, or the key or time is unusable. */
  map(values: readonly string[]): MappedRow {
    const event: Record<string, unknown> = {};
    for (const { index, field, type } of this.#plan) event[field] = convert(values[index]!, type, field);
    let partitionKey: string | undefined;
    if (this.#keyIndex !== undefined) {
      partitionKey = values[this.#keyIndex]!;
      if (partitionKey.length === 0) throw new RowMappingError('the partition key column is empty');
      if (partitionKey.length > 256)
        throw new RowMappingError('the partition key is longer than 256 characters');
    }
    let eventTimeMs: number | undefined;
    if (this.#timeIndex !== undefined) {
      const raw = values[this.#timeIndex]!;
      eventTimeMs = parseEventTime(raw, this.#timeFormat);
      if (eventTimeMs === undefined)
        throw new RowMappingError(`event time ${JSON.stringify(raw)} is not a ${this.#timeFormat} time`);
    }
    return { event, partitionKey, eventTimeMs };
  }
}

/**
 * The deterministic event id of a row: the first 128 bits of SHA-256 over the source's identity and the
 * row number, in hex. The same file replayed (or resumed) gives every row the same id, so consumers can
 * de-duplicate re-sent rows.
 */
export function rowEventId(sourceId: string, rowNumber: number): string {
  return createHash('sha256').update(`${sourceId}\n${rowNumber}`).digest('hex').slice(0, 32);
}
