import { INGEST_LIMITS } from '../contract/limits.js';
import type { IngestProblem } from '../contract/types.js';
import { JsonSyntaxError } from '../errors.js';
import { JsonByte, JsonScanner, STRING_HAS_ESCAPE, STRING_HAS_NON_ASCII } from './JsonScanner.js';

/** One record as found in a request body: `data` as a byte span of the body, the strings decoded. */
export interface ScannedRecord {
  /** Byte span of `data`'s JSON text in the body. */
  readonly dataStart: number;
  readonly dataEnd: number;
  /** Whether `data`'s text holds insignificant whitespace (then it is compacted before storing). */
  readonly dataHasWhitespace: boolean;
  readonly partitionKey: string | undefined;
  readonly eventId: string | undefined;
}

/** The outcome of {@link parseIngestBody}. */
export type ParsedIngestBody =
  | { readonly kind: 'ok'; readonly records: readonly ScannedRecord[] }
  /** Not JSON at all: one problem, where the reader stopped. */
  | { readonly kind: 'syntax'; readonly problems: readonly IngestProblem[] }
  /** JSON that breaks the contract: every problem. */
  | { readonly kind: 'invalid'; readonly problems: readonly IngestProblem[]; readonly problemCount: number };

const ID_PATTERN = /^[A-Za-z0-9._:-]+$/;
/** Record "indexes" that are not indexes: the top level of a batch, and the body of `/v1/event`. */
const TOP = -2;
const SINGLE = -1;

/** The JSON Pointer of a record: `/records/3`, or `""` for `/v1/event`'s body (and the top level). */
function recordPath(record: number): string {
  return record >= 0 ? `/records/${record}` : '';
}

/** Known field names, as bits (a record remembers which it has seen). */
const Field = { Unknown: 0, Data: 1, PartitionKey: 2, EventId: 4, Records: 8 } as const;
type Field = (typeof Field)[keyof typeof Field];

/** Escapes a field name for a JSON Pointer (RFC 6901). */
export function escapePointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

function matches(b: Uint8Array, start: number, end: number, ascii: string): boolean {
  if (end - start !== ascii.length) return false;
  for (let i = 0; i < ascii.length; i++) if (b[start + i] !== ascii.charCodeAt(i)) return false;
  return true;
}

function fieldOf(name: string): Field {
  switch (name) {
    case 'data':
      return Field.Data;
    case 'partitionKey':
      return Field.PartitionKey;
    case 'eventId':
      return Field.EventId;
    case 'records':
      return Field.Records;
    default:
      return Field.Unknown;
  }
}

function typeName(c: number): string {
  switch (c) {
    case JsonByte.OPEN_BRACE:
      return 'an object';
    case JsonByte.OPEN_BRACKET:
      return 'an array';
    case JsonByte.QUOTE:
      return 'a string';
    case 0x74:
    case 0x66:
      return 'a boolean';
    case 0x6e:
      return 'null';
    default:
      return 'a number';
  }
}

/**
 * Reads and validates a request body (UTF-8, BOM already removed) against the contract, in one pass
 * and without building `data` values: their byte spans are recorded so that the stored envelope
 * splices the original text. Collects every schema problem with its JSON Pointer path.
 *
 * @param isBatch - `true` for `POST /v1/events` (`{ "records": [...] }`), `false` for `POST /v1/event`.
 */
export function parseIngestBody(body: Uint8Array, isBatch: boolean, maxProblems = 1000): ParsedIngestBody {
  return new IngestBodyParser(body, maxProblems).parse(isBatch);
}

class IngestBodyParser {
  readonly #s: JsonScanner;
  readonly #buffer: Buffer;
  readonly #maxProblems: number;
  readonly #problems: IngestProblem[] = [];
  #problemCount = 0;
  readonly #records: ScannedRecord[] = [];
  /** Where the reader is, for the path of a syntax error: a record index (or TOP) and a suffix. */
  #whereRecord = TOP;
  #whereSuffix = '';
  /** The name `#readName` read, when it is not one of the known fields (or had escapes). */
  #name: string | undefined;

  constructor(body: Uint8Array, maxProblems: number) {
    this.#s = new JsonScanner(body, 0, body.length, maxProblems);
    this.#buffer = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    this.#maxProblems = maxProblems;
  }

  parse(isBatch: boolean): ParsedIngestBody {
    const s = this.#s;
    try {
      if (s.peek() < 0) return { kind: 'syntax', problems: [{ path: '', message: 'The body is empty' }] };
      if (isBatch) this.#parseBatch();
      else this.#parseRecord(SINGLE);
      s.expectEnd();
    } catch (error) {
      if (error instanceof JsonSyntaxError) {
        return {
          kind: 'syntax',
          problems: [
            {
              path: recordPath(this.#whereRecord) + this.#whereSuffix,
              message: `Invalid JSON: ${error.message}`,
            },
          ],
        };
      }
      throw error;
    }
    if (this.#problemCount > 0) {
      return { kind: 'invalid', problems: this.#problems, problemCount: this.#problemCount };
    }
    return { kind: 'ok', records: this.#records };
  }

  #problem(path: string, message: string): void {
    this.#problemCount += 1;
    if (this.#problems.length < this.#maxProblems) this.#problems.push({ path, message });
  }

  /** Moves the scanner's issues (encoding, depth) found since `countBefore` into problems at `path`. */
  #takeIssues(countBefore: number, path: string): void {
    const s = this.#s;
    const issues = s.issues;
    // The scanner keeps a bounded number of issues; those beyond it are only counted.
    for (let i = countBefore; i < issues.length; i++) this.#problem(path, issues[i]!.message);
    const dropped = s.issueCount - Math.max(countBefore, issues.length);
    if (dropped > 0) this.#problemCount += dropped;
  }

  /**
   * Reads a field name of the object at `record` (`TOP`: the body) at the cursor and leaves the cursor
   * after the ':'. Returns the field; the name itself is decoded (into `#name`, else `undefined`) only
   * when it is not a plain known one. Problems found meanwhile are placed at that object.
   */
  #readName(record: number): Field {
    this.#whereRecord = record;
    this.#whereSuffix = '';
    this.#name = undefined;
    const s = this.#s;
    if (s.peek() !== JsonByte.QUOTE) s.fail('Expected a field name (a string)');
    const start = s.pos + 1;
    const issuesBefore = s.issueCount;
    const flags = s.scanString();
    const end = s.pos - 1;
    s.expect(JsonByte.COLON, "':'");
    const b = s.bytes;
    if ((flags & STRING_HAS_ESCAPE) === 0 && (flags & STRING_HAS_NON_ASCII) === 0) {
      switch (end - start) {
        case 4:
          if (matches(b, start, end, 'data')) return Field.Data;
          break;
        case 7:
          if (matches(b, start, end, 'records')) return Field.Records;
          if (matches(b, start, end, 'eventId')) return Field.EventId;
          break;
        case 12:
          if (matches(b, start, end, 'partitionKey')) return Field.PartitionKey;
          break;
      }
    }
    const name = this.#decode(start, end, flags);
    this.#name = name;
    if (s.issueCount > issuesBefore) {
      this.#takeIssues(issuesBefore, `${recordPath(record)}/${escapePointerToken(name)}`);
    }
    return fieldOf(name);
  }

  #decode(start: number, end: number, flags: number): string {
    if ((flags & STRING_HAS_ESCAPE) === 0) {
      return (flags & STRING_HAS_NON_ASCII) === 0
        ? this.#buffer.toString('latin1', start, end)
        : this.#buffer.toString('utf8', start, end);
    }
    return JSON.parse(this.#buffer.toString('utf8', start - 1, end + 1)) as string;
  }

  #parseBatch(): void {
    const s = this.#s;
    const c = s.peek();
    if (c !== JsonByte.OPEN_BRACE) {
      this.#problem('', `The body must be an object with "records", not ${typeName(c)}`);
      this.#skipAt('');
      return;
    }
    s.pos += 1;
    let hasRecords = false;
    if (s.peek() === JsonByte.CLOSE_BRACE) {
      s.pos += 1;
    } else {
      for (;;) {
        const field = this.#readName(TOP);
        const name = this.#name;
        if (field === Field.Records) {
          if (hasRecords) {
            this.#problem('/records', 'Duplicate field "records"');
            this.#skipAt('/records');
          } else {
            hasRecords = true;
            this.#parseRecords();
          }
        } else {
          const path = `/${escapePointerToken(name ?? fieldName(field))}`;
          this.#problem(path, `Unknown field "${name ?? fieldName(field)}" (allowed: "records")`);
          this.#skipAt(path);
        }
        const next = s.peek();
        if (next === JsonByte.COMMA) {
          s.pos += 1;
          continue;
        }
        s.expect(JsonByte.CLOSE_BRACE, "',' or '}'");
        break;
      }
    }
    this.#whereSuffix = '';
    if (!hasRecords) this.#problem('/records', 'Missing required field "records"');
  }

  #parseRecords(): void {
    const s = this.#s;
    this.#whereRecord = TOP;
    this.#whereSuffix = '/records';
    const c = s.peek();
    if (c !== JsonByte.OPEN_BRACKET) {
      this.#problem('/records', `"records" must be an array, not ${typeName(c)}`);
      this.#skipAt('/records');
      return;
    }
    s.pos += 1;
    let count = 0;
    if (s.peek() === JsonByte.CLOSE_BRACKET) {
      s.pos += 1;
    } else {
      for (;;) {
        this.#parseRecord(count);
        count += 1;
        const next = s.peek();
        if (next === JsonByte.COMMA) {
          s.pos += 1;
          continue;
        }
        this.#whereRecord = TOP;
        this.#whereSuffix = '/records';
        s.expect(JsonByte.CLOSE_BRACKET, "',' or ']'");
        break;
      }
    }
    if (count < INGEST_LIMITS.minRecordsPerRequest || count > INGEST_LIMITS.maxRecordsPerRequest) {
      this.#problem(
        '/records',
        `"records" must hold ${INGEST_LIMITS.minRecordsPerRequest} to ${INGEST_LIMITS.maxRecordsPerRequest} records, not ${count}`,
      );
    }
  }

  /** Skips a value the contract does not want, keeping its encoding problems. */
  #skipAt(path: string): void {
    const s = this.#s;
    const before = s.issueCount;
    this.#whereRecord = TOP;
    this.#whereSuffix = path;
    s.skipValue(Number.MAX_SAFE_INTEGER);
    if (s.issueCount > before) this.#takeIssues(before, path);
  }

  #parseRecord(record: number): void {
    const s = this.#s;
    this.#whereRecord = record;
    this.#whereSuffix = '';
    const c = s.peek();
    if (c !== JsonByte.OPEN_BRACE) {
      const path = recordPath(record);
      this.#problem(path, `A record must be an object, not ${typeName(c)}`);
      this.#skipAt(path);
      return;
    }
    s.pos += 1;
    let seen = 0;
    let dataStart = -1;
    let dataEnd = -1;
    let dataHasWhitespace = false;
    let partitionKey: string | undefined;
    let eventId: string | undefined;
    if (s.peek() === JsonByte.CLOSE_BRACE) {
      s.pos += 1;
    } else {
      for (;;) {
        const field = this.#readName(record);
        const name = this.#name;
        if (field !== Field.Unknown && field !== Field.Records && (seen & field) !== 0) {
          const fieldPath = `${recordPath(record)}/${fieldName(field)}`;
          this.#problem(fieldPath, `Duplicate field "${fieldName(field)}"`);
          this.#skipAt(fieldPath);
        } else {
          seen |= field;
          switch (field) {
            case Field.Data: {
              this.#whereSuffix = '/data';
              s.peek();
              dataStart = s.pos;
              s.sawWhitespace = false;
              const before = s.issueCount;
              s.skipValue(INGEST_LIMITS.maxDataDepth);
              dataEnd = s.pos;
              dataHasWhitespace = s.sawWhitespace;
              if (s.issueCount > before) this.#takeIssues(before, `${recordPath(record)}/data`);
              break;
            }
            case Field.PartitionKey: {
              const value = this.#readIdString(record, 'partitionKey', '/partitionKey');
              if (value !== undefined) {
                if (value.length > INGEST_LIMITS.maxPartitionKeyLength) {
                  this.#problem(
                    `${recordPath(record)}/partitionKey`,
                    `"partitionKey" must be 1 to ${INGEST_LIMITS.maxPartitionKeyLength} UTF-16 code units long, not ${value.length}`,
                  );
                } else {
                  partitionKey = value;
                }
              }
              break;
            }
            case Field.EventId: {
              const value = this.#readIdString(record, 'eventId', '/eventId');
              if (value !== undefined) {
                if (value.length > INGEST_LIMITS.maxEventIdLength || !ID_PATTERN.test(value)) {
                  this.#problem(
                    `${recordPath(record)}/eventId`,
                    `"eventId" must be 1 to ${INGEST_LIMITS.maxEventIdLength} characters of [A-Za-z0-9._:-]`,
                  );
                } else {
                  eventId = value;
                }
              }
              break;
            }
            default: {
              const display = name ?? fieldName(field);
              const fieldPath = `${recordPath(record)}/${escapePointerToken(display)}`;
              this.#problem(
                fieldPath,
                `Unknown field "${display}" (allowed: "data", "partitionKey", "eventId")`,
              );
              this.#skipAt(fieldPath);
            }
          }
        }
        const next = s.peek();
        if (next === JsonByte.COMMA) {
          s.pos += 1;
          continue;
        }
        this.#whereSuffix = '';
        s.expect(JsonByte.CLOSE_BRACE, "',' or '}'");
        break;
      }
    }
    if ((seen & Field.Data) === 0)
      this.#problem(`${recordPath(record)}/data`, 'Missing required field "data"');
    if (this.#problemCount === 0) {
      this.#records.push({ dataStart, dataEnd, dataHasWhitespace, partitionKey, eventId });
    }
  }

  /** Reads a string field; reports a problem and returns `undefined` when it is not a non-empty string. */
  #readIdString(record: number, field: string, suffix: string): string | undefined {
    const s = this.#s;
    this.#whereSuffix = suffix;
    const c = s.peek();
    if (c !== JsonByte.QUOTE) {
      const path = recordPath(record) + suffix;
      this.#problem(
        path,
        c === 0x6e
          ? `"${field}" must be a string; leave the field out instead of sending null`
          : `"${field}" must be a string, not ${typeName(c)}`,
      );
      this.#skipAt(path);
      return undefined;
    }
    const start = s.pos + 1;
    const before = s.issueCount;
    const flags = s.scanString();
    const end = s.pos - 1;
    if (s.issueCount > before) {
      this.#takeIssues(before, recordPath(record) + suffix);
      return undefined;
    }
    const value = this.#decode(start, end, flags);
    if (value.length === 0) {
      this.#problem(recordPath(record) + suffix, `"${field}" must not be empty`);
      return undefined;
    }
    return value;
  }
}

function fieldName(field: Field): string {
  switch (field) {
    case Field.Data:
      return 'data';
    case Field.PartitionKey:
      return 'partitionKey';
    case Field.EventId:
      return 'eventId';
    case Field.Records:
      return 'records';
    default:
      return '';
  }
}
