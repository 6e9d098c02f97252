import { EVENT_ID_PATTERN, INGEST_LIMITS } from '../contract/limits.js';
import { EnvelopeDecodeError, EnvelopeEncodeError, JsonSyntaxError } from '../errors.js';
import {
  compactJsonLength,
  copyCompactJson,
  JsonByte,
  JsonScanner,
  STRING_HAS_ESCAPE,
} from '../json/JsonScanner.js';
import { BigIntegerMode, parseJson } from '../json/parseJson.js';

/** The event envelope: what each Kinesis record's data holds (UTF-8 JSON, fields in this order). */
export interface EventEnvelope<T = unknown> {
  /** The client's or the gateway's id (1–128 of `[A-Za-z0-9._:-]`): de-duplicate on it. */
  readonly eventId: string;
  /** ISO-8601 UTC time the gateway received the request, e.g. `2026-11-25T16:38:00.123Z`. */
  readonly receivedAt: string;
  /** The posted JSON value. */
  readonly data: T;
}

/** Input of {@link encodeEnvelope}: `data` as a value, or `dataJson` as JSON text kept as is. */
export type EnvelopeInput =
  | {
      readonly eventId: string;
      /** @defaultValue now */
      readonly receivedAt?: Date | string | number;
      /** Any JSON-serializable value; `bigint` values are written as exact integers. */
      readonly data: unknown;
    }
  | {
      readonly eventId: string;
      /** @defaultValue now */
      readonly receivedAt?: Date | string | number;
      /** JSON text (string or UTF-8 bytes), validated and spliced without a number round trip. */
      readonly dataJson: string | Uint8Array;
    };

const PART_EVENT_ID = Buffer.from('{"eventId":"', 'latin1');
const PART_RECEIVED_AT = Buffer.from('","receivedAt":"', 'latin1');
const PART_DATA = Buffer.from('","data":', 'latin1');
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
/** `Date.prototype.toISOString()` is 24 characters for years 0000–9999. */
const ISO_LENGTH = 24;

/**
 * Bytes of an envelope around `data` of `dataByteLength` bytes, with an event id of `eventIdLength`
 * characters and a 24-character `receivedAt` (what the gateway writes). Add the partition key's UTF-8
 * bytes to get the size Kinesis counts against its 1 MiB record limit.
 */
export function envelopeByteLength(eventIdLength: number, dataByteLength: number): number {
  return (
    PART_EVENT_ID.length +
    eventIdLength +
    PART_RECEIVED_AT.length +
    ISO_LENGTH +
    PART_DATA.length +
    dataByteLength +
    1
  );
}

/**
 * Writes an envelope around the compacted JSON text `source[start, end)` (the caller validated it).
 * `receivedAt` must be an ISO string and `eventId` ASCII.
 * @internal
 */
export function spliceEnvelope(
  eventId: string,
  receivedAt: string,
  source: Uint8Array,
  start: number,
  end: number,
  isCompact: boolean,
  compactLength: number,
): Buffer {
  const dataLength = isCompact ? end - start : compactLength;
  const out = Buffer.allocUnsafe(
    PART_EVENT_ID.length +
      eventId.length +
      PART_RECEIVED_AT.length +
      receivedAt.length +
      PART_DATA.length +
      dataLength +
      1,
  );
  let o = PART_EVENT_ID.copy(out, 0);
  o += out.write(eventId, o, 'latin1');
  o += PART_RECEIVED_AT.copy(out, o);
  o += out.write(receivedAt, o, 'latin1');
  o += PART_DATA.copy(out, o);
  if (isCompact) {
    out.set(source.subarray(start, end), o);
    o += end - start;
  } else {
    o = copyCompactJson(source, start, end, out, o);
  }
  out[o] = JsonByte.CLOSE_BRACE;
  return out;
}

/**
 * The last time written by {@link toIso} and its text: a producer stamps many records within one
 * millisecond, and formatting a date costs about as much as serialising a small event.
 */
let lastIsoMs = Number.NaN;
let lastIso = '';

/** `ms` (epoch milliseconds) as ISO-8601 UTC text, reusing the previous call's text for the same ms. */
function isoOfMs(ms: number): string {
  if (ms !== lastIsoMs) {
    const date = new Date(ms);
    if (Number.isNaN(date.getTime())) throw new EnvelopeEncodeError('receivedAt is not a valid time');
    lastIso = date.toISOString();
    lastIsoMs = ms;
  }
  return lastIso;
}

function toIso(receivedAt: Date | string | number | undefined): string {
  if (receivedAt === undefined) return isoOfMs(Date.now());
  if (typeof receivedAt === 'number') return isoOfMs(receivedAt);
  if (typeof receivedAt === 'string') {
    if (!ISO_UTC.test(receivedAt) || Number.isNaN(Date.parse(receivedAt))) {
      throw new EnvelopeEncodeError(
        `receivedAt must be an ISO-8601 UTC time such as 2026-01-31T12:00:00.000Z, not "${receivedAt}"`,
      );
    }
    return receivedAt;
  }
  if (Number.isNaN(receivedAt.getTime())) throw new EnvelopeEncodeError('receivedAt is not a valid time');
  return receivedAt.toISOString();
}

const BIGINT_MARK = `\u0000bigint${Math.random().toString(36).slice(2)}:`;
const BIGINT_MARK_PATTERN = new RegExp(
  `"${JSON.stringify(BIGINT_MARK).slice(1, -1).replace(/\\/g, '\\\\')}(-?\\d+)"`,
  'g',
);

/**
 * `JSON.stringify` that writes `bigint` values as exact integer tokens. A replacer function takes V8
 * off its fast serialiser (measured about 3× slower on a typical event), so the plain call goes first
 * and only data that holds a `bigint` (the plain call throws a TypeError) is written a second time
 * with the replacer. A `toJSON` or getter of such data therefore runs twice.
 */
function stringifyData(data: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(data);
  } catch (error) {
    if (!(error instanceof TypeError) || !/BigInt/i.test(error.message)) throw cannotWrite(error);
    text = stringifyWithBigInts(data);
  }
  if (text === undefined)
    throw new EnvelopeEncodeError('data cannot be written as JSON (undefined, a function or a symbol)');
  return text;
}

function stringifyWithBigInts(data: unknown): string | undefined {
  let hasBigInt = false;
  let text: string | undefined;
  try {
    text = JSON.stringify(data, (_key, value: unknown) => {
      if (typeof value !== 'bigint') return value;
      hasBigInt = true;
      return `${BIGINT_MARK}${value.toString()}`;
    });
  } catch (error) {
    throw cannotWrite(error);
  }
  return hasBigInt && text !== undefined ? text.replace(BIGINT_MARK_PATTERN, '$1') : text;
}

function cannotWrite(error: unknown): EnvelopeEncodeError {
  return new EnvelopeEncodeError(`data cannot be written as JSON: ${(error as Error).message}`, {
    cause: error,
  });
}

/**
 * Whether `JSON.stringify` output needs no scan to meet the contract. Such text is always valid,
 * compact JSON whose UTF-8 form is valid; the contract's other two rules are checked here with native
 * string searches, by bounds that can only err towards a full scan: a lone surrogate is written as a
 * `\u` escape, so text without any `\u` holds none; and nesting is at most the count of `{` and `[`
 * characters (a typical event has a few).
 * @internal
 */
export function isContractSafeStringifyOutput(text: string, maxDepth: number): boolean {
  if (text.includes('\\u')) return false;
  let opens = 0;
  for (let i = text.indexOf('{'); i !== -1; i = text.indexOf('{', i + 1)) {
    if (++opens > maxDepth) return false;
  }
  for (let i = text.indexOf('['); i !== -1; i = text.indexOf('[', i + 1)) {
    if (++opens > maxDepth) return false;
  }
  return true;
}

/** Validates JSON text by the contract's rules; returns where it starts and whether it is compact. */
function checkDataJson(bytes: Uint8Array): { start: number; isCompact: boolean } {
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const scanner = new JsonScanner(bytes, start, bytes.length, 10);
  try {
    if (scanner.peek() < 0) throw new EnvelopeEncodeError('dataJson is empty');
    const from = scanner.pos;
    scanner.sawWhitespace = false;
    scanner.skipValue(INGEST_LIMITS.maxDataDepth);
    const hasInnerWhitespace = scanner.sawWhitespace;
    const to = scanner.pos;
    scanner.expectEnd();
    if (scanner.issueCount > 0) {
      throw new EnvelopeEncodeError(
        `dataJson breaks the contract: ${scanner.issues.map((i) => i.message).join('; ')}`,
      );
    }
    return { start, isCompact: from === start && to === bytes.length && !hasInnerWhitespace };
  } catch (error) {
    if (error instanceof JsonSyntaxError) {
      throw new EnvelopeEncodeError(`dataJson is not valid JSON: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

/**
 * Encodes an event envelope: `{"eventId":…,"receivedAt":…,"data":…}` as compact UTF-8 JSON, exactly as
 * the ingest gateway writes it (one line, no insignificant whitespace). Producers that write to Kinesis
 * directly use it so that every consumer sees one format.
 *
 * `data` values are written with `JSON.stringify` (plus exact `bigint`s); `dataJson` text is validated
 * (syntax, UTF-8, lone surrogates, depth ≤ 64) and spliced, so its numbers keep every digit.
 *
 * @throws EnvelopeEncodeError when the event id, the time or the data break the contract.
 * @example
 * ```ts
 * const bytes = encodeEnvelope({ eventId: uuidv7(), dataJson: '{"orderId":12345678901234567890}' });
 * await kinesis.send(new PutRecordCommand({ StreamName, PartitionKey: 'p', Data: bytes }));
 * ```
 */
export function encodeEnvelope(input: EnvelopeInput): Uint8Array {
  const { eventId } = input;
  if (typeof eventId !== 'string' || !EVENT_ID_PATTERN.test(eventId)) {
    throw new EnvelopeEncodeError(
      `eventId must be 1 to 128 characters of [A-Za-z0-9._:-], not ${JSON.stringify(eventId)}`,
    );
  }
  const receivedAt = toIso(input.receivedAt);
  let bytes: Uint8Array;
  if ('dataJson' in input) {
    bytes = typeof input.dataJson === 'string' ? Buffer.from(input.dataJson, 'utf8') : input.dataJson;
  } else {
    const text = stringifyData(input.data);
    // The common case: the envelope is written in one UTF-8 encoding pass, without re-reading the
    // JSON just written. Anything the cheap check cannot clear goes through the full scan below.
    if (isContractSafeStringifyOutput(text, INGEST_LIMITS.maxDataDepth)) {
      // Written in place (the event id and the time are ASCII): no concatenated copy of `text`.
      const head = `{"eventId":"${eventId}","receivedAt":"${receivedAt}","data":`;
      const dataLength = Buffer.byteLength(text, 'utf8');
      const out = Buffer.allocUnsafe(head.length + dataLength + 1);
      out.write(head, 0, 'latin1');
      out.write(text, head.length, 'utf8');
      out[head.length + dataLength] = JsonByte.CLOSE_BRACE;
      return out;
    }
    bytes = Buffer.from(text, 'utf8');
  }
  const { start, isCompact } = checkDataJson(bytes);
  const compactLength = isCompact ? bytes.length - start : compactJsonLength(bytes, start, bytes.length);
  return spliceEnvelope(eventId, receivedAt, bytes, start, bytes.length, isCompact, compactLength);
}

/** Options of {@link decodeEnvelope}. */
export interface DecodeEnvelopeOptions {
  /**
   * How integers beyond ±(2^53 − 1) come out of `data`: `'number'` (like `JSON.parse`, digits lost),
   * `'bigint'` or `'string'`. `dataJson` and `dataBytes` are always exact.
   * @defaultValue 'number'
   */
  readonly integers?: BigIntegerMode;
}

/**
 * A decoded envelope. `eventId` and `receivedAt` are read at once; `data` is parsed on first access
 * (many consumers only need the id, or pass `dataBytes` on untouched), and `dataJson`/`dataBytes` hold
 * `data`'s exact JSON text, so big integers are never lost whatever `integers` says.
 */
export class DecodedEnvelope<T = unknown> implements EventEnvelope<T> {
  readonly eventId: string;
  readonly receivedAt: string;
  /** `data`'s exact UTF-8 JSON text (a view into the record's bytes, not a copy). */
  readonly dataBytes: Uint8Array;
  readonly #integers: BigIntegerMode;
  #dataJson: string | undefined;
  #data: { value: T } | undefined;

  constructor(eventId: string, receivedAt: string, dataBytes: Uint8Array, integers: BigIntegerMode) {
    this.eventId = eventId;
    this.receivedAt = receivedAt;
    this.dataBytes = dataBytes;
    this.#integers = integers;
  }

  /** `data`'s exact JSON text. */
  get dataJson(): string {
    this.#dataJson ??= Buffer.from(
      this.dataBytes.buffer,
      this.dataBytes.byteOffset,
      this.dataBytes.byteLength,
    ).toString('utf8');
    return this.#dataJson;
  }

  /** `data` as a JS value (integers per the `integers` option). Parsed once, on first access. */
  get data(): T {
    this.#data ??= { value: parseJson(this.dataJson, this.#integers) as T };
    return this.#data.value;
  }

  /** `receivedAt` as epoch milliseconds. */
  get receivedAtMs(): number {
    return Date.parse(this.receivedAt);
  }

  /** A plain `{ eventId, receivedAt, data }` object. */
  toJSON(): EventEnvelope<T> {
    return { eventId: this.eventId, receivedAt: this.receivedAt, data: this.data };
  }
}

/**
 * The JSON string at the scanner's position (its opening quote), decoded; the scanner moves past it.
 * `buffer` views the scanner's bytes. Without escapes it is the bytes between the quotes as they are.
 */
function readString(s: JsonScanner, buffer: Buffer): string {
  const start = s.pos;
  const flags = s.scanString();
  return (flags & STRING_HAS_ESCAPE) === 0
    ? buffer.toString('utf8', start + 1, s.pos - 1)
    : (JSON.parse(buffer.toString('utf8', start, s.pos)) as string);
}

/**
 * Decodes one Kinesis record's data as an event envelope: the ONE decoder every consumer, the s3-sink
 * and the examples use. The bytes are validated strictly (JSON syntax, UTF-8, lone surrogates, required
 * fields, event id and time formats); unknown extra fields are ignored so that the envelope can grow.
 *
 * Big integers: `data` follows `options.integers`; `dataJson` / `dataBytes` are the exact text always.
 *
 * @throws EnvelopeDecodeError when the bytes are not an envelope (route the record to a dead-letter
 * place with this error; never drop it).
 * @example
 * ```ts
 * const event = decodeEnvelope(record.data, { integers: 'bigint' });
 * if (!seen.has(event.eventId)) handle(event.data);
 * ```
 */
export function decodeEnvelope<T = unknown>(
  bytes: Uint8Array | string,
  options: DecodeEnvelopeOptions = {},
): DecodedEnvelope<T> {
  const integers = options.integers ?? BigIntegerMode.Number;
  const input = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  const buffer = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const s = new JsonScanner(input, 0, input.length, 10);
  let eventId: string | undefined;
  let receivedAt: string | undefined;
  let dataStart = -1;
  let dataEnd = -1;
  try {
    if (s.peek() !== JsonByte.OPEN_BRACE)
      throw new EnvelopeDecodeError('Not an event envelope: not a JSON object', { offset: s.pos });
    s.pos += 1;
    if (s.peek() !== JsonByte.CLOSE_BRACE) {
      for (;;) {
        if (s.peek() !== JsonByte.QUOTE) s.fail('Expected a field name');
        const name = readString(s, buffer);
        s.expect(JsonByte.COLON, "':'");
        const valueStart = s.peek();
        if (name === 'data') {
          if (dataStart >= 0)
            throw new EnvelopeDecodeError('Not an event envelope: duplicate "data"', { offset: s.pos });
          dataStart = s.pos;
          s.skipValue(Number.MAX_SAFE_INTEGER);
          dataEnd = s.pos;
        } else if (name === 'eventId' || name === 'receivedAt') {
          if (valueStart !== JsonByte.QUOTE)
            throw new EnvelopeDecodeError(`Not an event envelope: "${name}" is not a string`, {
              offset: s.pos,
            });
          const from = s.pos;
          const value = readString(s, buffer);
          if ((name === 'eventId' ? eventId : receivedAt) !== undefined) {
            throw new EnvelopeDecodeError(`Not an event envelope: duplicate "${name}"`, { offset: from });
          }
          if (name === 'eventId') eventId = value;
          else receivedAt = value;
        } else {
          s.skipValue(Number.MAX_SAFE_INTEGER);
        }
        if (s.peek() === JsonByte.COMMA) {
          s.pos += 1;
          continue;
        }
        s.expect(JsonByte.CLOSE_BRACE, "',' or '}'");
        break;
      }
    } else {
      s.pos += 1;
    }
    s.expectEnd();
  } catch (error) {
    if (error instanceof JsonSyntaxError) {
      throw new EnvelopeDecodeError(`Not an event envelope: invalid JSON: ${error.message}`, {
        offset: error.offset,
        cause: error,
      });
    }
    throw error;
  }
  if (s.issueCount > 0) {
    const first = s.issues[0]!;
    throw new EnvelopeDecodeError(`Not an event envelope: ${first.message}`, { offset: first.offset });
  }
  if (eventId === undefined || receivedAt === undefined || dataStart < 0) {
    const missing = [
      eventId === undefined && 'eventId',
      receivedAt === undefined && 'receivedAt',
      dataStart < 0 && 'data',
    ];
    throw new EnvelopeDecodeError(`Not an event envelope: missing ${missing.filter(Boolean).join(', ')}`);
  }
  if (!EVENT_ID_PATTERN.test(eventId))
    throw new EnvelopeDecodeError(`Not an event envelope: invalid eventId ${JSON.stringify(eventId)}`);
  if (!ISO_UTC.test(receivedAt) || Number.isNaN(Date.parse(receivedAt))) {
    throw new EnvelopeDecodeError(
      `Not an event envelope: receivedAt ${JSON.stringify(receivedAt)} is not an ISO-8601 UTC time`,
    );
  }
  return new DecodedEnvelope<T>(eventId, receivedAt, input.subarray(dataStart, dataEnd), integers);
}

const PART_EVENT_ID_CLOSE = Buffer.from('","receivedAt":"', 'latin1');
const PART_RECEIVED_AT_CLOSE = Buffer.from('","data":', 'latin1');
const MAX_EVENT_ID_LENGTH = 128;
const DIGIT_0 = 0x30;
/** `[A-Za-z0-9._:-]` by byte: the characters of an event id (`EVENT_ID_PATTERN`). */
const EVENT_ID_BYTE = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-') {
  EVENT_ID_BYTE[c.charCodeAt(0)] = 1;
}

function matchesAt(bytes: Uint8Array, at: number, part: Uint8Array): boolean {
  if (at + part.length > bytes.length) return false;
  for (let i = 0; i < part.length; i++) if (bytes[at + i] !== part[i]) return false;
  return true;
}

/** The value of the two ASCII digits at `at`, or -1. */
function twoDigits(bytes: Uint8Array, at: number): number {
  const hi = bytes[at]! - DIGIT_0;
  const lo = bytes[at + 1]! - DIGIT_0;
  return hi >= 0 && hi <= 9 && lo >= 0 && lo <= 9 ? hi * 10 + lo : -1;
}

/**
 * Whether the 24 bytes at `at` are a time `YYYY-MM-DDTHH:mm:ss.sssZ` that `decodeEnvelope` accepts
 * (its pattern and `Date.parse`). Only fields certainly in range pass; a day after the 28th is given
 * to `Date.parse` itself, so engines that differ on "February 30th" decide here as they do there.
 */
function isPlainIsoTime(bytes: Uint8Array, at: number): boolean {
  if (
    bytes[at + 4] !== 0x2d ||
    bytes[at + 7] !== 0x2d ||
    bytes[at + 10] !== 0x54 ||
    bytes[at + 13] !== 0x3a ||
    bytes[at + 16] !== 0x3a ||
    bytes[at + 19] !== 0x2e ||
    bytes[at + 23] !== 0x5a
  ) {
    return false;
  }
  const century = twoDigits(bytes, at);
  const year = twoDigits(bytes, at + 2);
  const month = twoDigits(bytes, at + 5);
  const day = twoDigits(bytes, at + 8);
  const hour = twoDigits(bytes, at + 11);
  const minute = twoDigits(bytes, at + 14);
  const second = twoDigits(bytes, at + 17);
  const milli = twoDigits(bytes, at + 20);
  const milliLast = bytes[at + 22]! - DIGIT_0;
  if ((century | year | milli) < 0 || milliLast < 0 || milliLast > 9) return false;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23) return false;
  if (minute < 0 || minute > 59 || second < 0 || second > 59) return false;
  if (day <= 28) return true;
  return !Number.isNaN(Date.parse(Buffer.from(bytes.buffer, bytes.byteOffset + at, 24).toString('latin1')));
}

/**
 * Whether `bytes` are an envelope in the form {@link encodeEnvelope} writes (`eventId`, `receivedAt`
 * and `data` in that order, no whitespace outside `data`, a 24-character time) that `decodeEnvelope`
 * accepts. `false` says only that this cheap check cannot tell.
 * @internal
 */
export function isPlainEnvelope(bytes: Uint8Array): boolean {
  if (!matchesAt(bytes, 0, PART_EVENT_ID)) return false;
  const end = bytes.length;
  let p = PART_EVENT_ID.length;
  const idEnd = Math.min(end, p + MAX_EVENT_ID_LENGTH + 1);
  while (p < idEnd && bytes[p]! < 0x80 && EVENT_ID_BYTE[bytes[p]!] === 1) p++;
  if (p === PART_EVENT_ID.length || p === idEnd || !matchesAt(bytes, p, PART_EVENT_ID_CLOSE)) return false;
  p += PART_EVENT_ID_CLOSE.length;
  if (p + ISO_LENGTH > end || !isPlainIsoTime(bytes, p)) return false;
  p += ISO_LENGTH;
  if (!matchesAt(bytes, p, PART_RECEIVED_AT_CLOSE)) return false;
  p += PART_RECEIVED_AT_CLOSE.length;
  // `data` ends at the record's last byte, the envelope's `}`.
  if (end - p < 2 || bytes[end - 1] !== JsonByte.CLOSE_BRACE) return false;
  // Over the whole record (one UTF-8 check of it, no view made), as decodeEnvelope scans it.
  const s = new JsonScanner(bytes, 0, end, 1);
  s.pos = p;
  try {
    s.skipValue(Number.MAX_SAFE_INTEGER);
  } catch (error) {
    if (error instanceof JsonSyntaxError) return false;
    throw error;
  }
  return s.pos === end - 1 && s.issueCount === 0;
}

/**
 * Checks that one Kinesis record's data is an event envelope, without making its strings or objects:
 * what {@link decodeEnvelope} accepts, this accepts, and what it refuses, this refuses with the same
 * error (class, message and offset). For consumers that only need to know — an archiver that writes
 * the record's bytes as they are, a filter in front of a dead-letter output.
 *
 * An envelope as {@link encodeEnvelope} and the ingest gateway write it is checked in one pass over
 * its bytes; any other input (another field order, whitespace, extra fields, or an error to report) is
 * given to {@link decodeEnvelope}, so the outcome is always its outcome.
 *
 * @throws EnvelopeDecodeError when the bytes are not an envelope, exactly as {@link decodeEnvelope}.
 * @example
 * ```ts
 * try {
 *   checkEnvelope(record.data);
 *   archive(record.data);
 * } catch (error) {
 *   deadLetter(record, error);
 * }
 * ```
 */
export function checkEnvelope(bytes: Uint8Array | string): void {
  if (typeof bytes !== 'string' && isPlainEnvelope(bytes)) return;
  decodeEnvelope(bytes);
}
