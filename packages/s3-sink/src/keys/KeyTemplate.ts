import type { ConfigurationProblem } from '../errors.js';
import { BUCKET_MS, type LocalTime, localTime, UTC, wallClockFields, wallClockMs } from './timeZone.js';

/** Why a record went to the error output: the value of `!{firehose:error-output-type}`. */
export const ErrorOutputType = {
  /** The record could not be read as configured (not an event envelope, `data` not JSON...). */
  ProcessingFailed: 'processing-failed',
  /** A `partitionKeys` query found no usable value in the record. */
  PartitioningFailed: 'partitioning-failed',
  /** The record does not fit the output format's schema (Parquet: a missing column, a wrong type). */
  FormatConversionFailed: 'format-conversion-failed',
} as const;
/** See {@link ErrorOutputType}. */
export type ErrorOutputType = (typeof ErrorOutputType)[keyof typeof ErrorOutputType];

/** One piece of a parsed key template. */
export type KeyTemplatePart =
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'timestamp'; readonly tokens: readonly TimestampToken[] }
  | { readonly kind: 'partitionKey'; readonly name: string }
  | { readonly kind: 'errorOutputType' };

/** A token of a `!{timestamp:...}` format: a date field or literal text. */
export type TimestampToken =
  | { readonly kind: 'field'; readonly field: 'yyyy' | 'yy' | 'MM' | 'dd' | 'HH' | 'mm' | 'ss' }
  | { readonly kind: 'literal'; readonly text: string };

/** A parsed key prefix: see {@link parseKeyTemplate}. */
export interface KeyTemplate {
  /** The template as written. */
  readonly source: string;
  readonly parts: readonly KeyTemplatePart[];
  /** The partition keys it uses, in order of appearance. */
  readonly partitionKeyNames: readonly string[];
  /** The literal text before the first expression: where every key of this template starts. */
  readonly staticPrefix: string;
}

/** What {@link parseKeyTemplate} may accept in one template. */
export interface KeyTemplateRules {
  /** Option path used in problems, e.g. `prefix`. */
  readonly path: string;
  /** Names defined in `partitionKeys`. */
  readonly partitionKeyNames: readonly string[];
  /** Whether `!{firehose:error-output-type}` is allowed (the error prefix) — and then required. */
  readonly isErrorPrefix: boolean;
}

const FIELDS = ['yyyy', 'MM', 'dd', 'HH', 'mm', 'ss', 'yy'] as const;
/** Firehose's default time layout, appended to a prefix that has no expression. */
export const DEFAULT_TIME_LAYOUT = '!{timestamp:yyyy/MM/dd/HH}/';

/**
 * Parses a key prefix in Firehose's syntax: literal text and the expressions
 * `!{timestamp:<format>}` (format fields `yyyy yy MM dd HH mm ss`, other non-letters kept, `'text'`
 * quoted), `!{partitionKeyFromQuery:<name>}` and, in the error prefix only, `!{firehose:error-output-type}`.
 * `!{firehose:random-string}` is refused: a random key breaks exactly-once objects.
 *
 * @returns the template, or every problem found.
 */
export function parseKeyTemplate(
  source: string,
  rules: KeyTemplateRules,
): { template: KeyTemplate; problems: ConfigurationProblem[] } {
  const problems: ConfigurationProblem[] = [];
  const problem = (message: string) => problems.push({ path: rules.path, message });
  const parts: KeyTemplatePart[] = [];
  const partitionKeyNames: string[] = [];
  let hasErrorType = false;
  let i = 0;
  let literal = '';
  while (i < source.length) {
    const start = source.indexOf('!{', i);
    if (start < 0) {
      literal += source.slice(i);
      break;
    }
    literal += source.slice(i, start);
    const end = source.indexOf('}', start);
    if (end < 0) {
      problem(`"${source.slice(start)}" opens an expression that is never closed with "}"`);
      break;
    }
    if (literal) parts.push({ kind: 'literal', text: literal });
    literal = '';
    const expression = source.slice(start + 2, end);
    const colon = expression.indexOf(':');
    const namespace = colon < 0 ? expression : expression.slice(0, colon);
    const argument = colon < 0 ? '' : expression.slice(colon + 1);
    if (namespace === 'timestamp') {
      const parsed = parseTimestampFormat(argument);
      if (typeof parsed === 'string') problem(`!{${expression}}: ${parsed}`);
      else parts.push({ kind: 'timestamp', tokens: parsed });
    } else if (namespace === 'partitionKeyFromQuery') {
      if (!rules.partitionKeyNames.includes(argument)) {
        problem(
          `!{${expression}} names a partition key that partitionKeys does not define (defined: ${
            rules.partitionKeyNames.length ? rules.partitionKeyNames.join(', ') : 'none'
          })`,
        );
      } else {
        parts.push({ kind: 'partitionKey', name: argument });
        if (!partitionKeyNames.includes(argument)) partitionKeyNames.push(argument);
      }
    } else if (namespace === 'firehose' && argument === 'error-output-type') {
      if (!rules.isErrorPrefix) problem('!{firehose:error-output-type} is allowed only in errorPrefix');
      else {
        parts.push({ kind: 'errorOutputType' });
        hasErrorType = true;
      }
    } else if (namespace === 'firehose' && argument === 'random-string') {
      problem(
        '!{firehose:random-string} is not supported: a random key would give a replayed range a second object (keys here are deterministic)',
      );
    } else {
      problem(
        `unknown expression !{${expression}} (known: !{timestamp:<format>}, !{partitionKeyFromQuery:<name>}${
          rules.isErrorPrefix ? ', !{firehose:error-output-type}' : ''
        })`,
      );
    }
    i = end + 1;
  }
  if (literal) parts.push({ kind: 'literal', text: literal });
  if (rules.isErrorPrefix && !hasErrorType && problems.length === 0) {
    problem(
      'the error prefix must contain !{firehose:error-output-type}, so error objects never mix with data',
    );
  }
  if (source.startsWith('/')) problem('must not start with "/" (S3 keys would start with an empty segment)');
  const first = parts[0];
  const staticPrefix = first?.kind === 'literal' ? first.text : '';
  return { template: { source, parts, partitionKeyNames, staticPrefix }, problems };
}

function parseTimestampFormat(format: string): TimestampToken[] | string {
  if (format.length === 0) return 'the timestamp format is empty (e.g. !{timestamp:yyyy/MM/dd})';
  const tokens: TimestampToken[] = [];
  let i = 0;
  while (i < format.length) {
    const c = format[i]!;
    if (c === "'") {
      const close = format.indexOf("'", i + 1);
      if (close < 0) return `unclosed quote in "${format}"`;
      tokens.push({ kind: 'literal', text: format.slice(i + 1, close) });
      i = close + 1;
      continue;
    }
    const field = FIELDS.find((f) => format.startsWith(f, i));
    if (field) {
      tokens.push({ kind: 'field', field });
      i += field.length;
      continue;
    }
    if (/[A-Za-z]/.test(c)) {
      return `unsupported pattern letter "${c}" in "${format}" (supported: yyyy yy MM dd HH mm ss; quote literal text)`;
    }
    tokens.push({ kind: 'literal', text: c });
    i += 1;
  }
  return tokens;
}

/** Values an object's key is rendered from. */
export interface KeyValues {
  /**
   * The key's time (ms since the epoch): the arrival time of the object's oldest record, or with
   * event-time partitioning the event time of its records (all of them render the same prefix).
   */
  readonly timestampMs: number;
  /** IANA time zone the time is rendered in. @defaultValue `'UTC'` */
  readonly timeZone?: string;
  /** Values of the partition keys. */
  readonly partitionValues?: Readonly<Record<string, string>>;
  /** For the error prefix. */
  readonly errorOutputType?: ErrorOutputType;
}

/**
 * Renders a template. Pure: the same values always give the same text.
 *
 * @throws Error when a partition key of the template has no value; RangeError when `timeZone` is not a
 *   zone the runtime knows.
 */
export function renderKeyTemplate(template: KeyTemplate, values: KeyValues): string {
  let out = '';
  let time: LocalTime | undefined;
  for (const part of template.parts) {
    switch (part.kind) {
      case 'literal':
        out += part.text;
        break;
      case 'timestamp':
        time ??= localTime(values.timestampMs, values.timeZone ?? UTC);
        out += renderTimestamp(part.tokens, time);
        break;
      case 'partitionKey': {
        const value = values.partitionValues?.[part.name];
        if (value === undefined) throw new Error(`No value for partition key ${part.name}`);
        out += value;
        break;
      }
      case 'errorOutputType':
        out += values.errorOutputType ?? ErrorOutputType.ProcessingFailed;
        break;
    }
  }
  return out;
}

function renderTimestamp(tokens: readonly TimestampToken[], time: LocalTime): string {
  let out = '';
  for (const token of tokens) out += token.kind === 'literal' ? token.text : field(time, token.field);
  return out;
}

/** Rendered bucket texts kept per renderer (about two months of hours). */
const MAX_CACHED_BUCKETS = 1536;

/**
 * Makes a function from an instant to the text of every `!{timestamp:...}` of `template` rendered in
 * `timeZone` (joined by newlines): two instants with the same text give the same key prefix. It renders
 * once per wall-clock bucket of the template's finest field (second, minute, hour, else day), and keeps
 * the texts of recent buckets (records come mostly in time order, late ones to recent buckets).
 *
 * @throws RangeError when `timeZone` is not a zone the runtime knows.
 */
export function createTimestampRenderer(template: KeyTemplate, timeZone: string): (ms: number) => string {
  const tokens = template.parts.flatMap((part) => (part.kind === 'timestamp' ? [part.tokens] : []));
  const fields = new Set(
    tokens.flatMap((t) => t.flatMap((token) => (token.kind === 'field' ? [token.field] : []))),
  );
  const bucketMs = fields.has('ss')
    ? BUCKET_MS.second
    : fields.has('mm')
      ? BUCKET_MS.minute
      : fields.has('HH')
        ? BUCKET_MS.hour
        : BUCKET_MS.day;
  wallClockMs(0, timeZone);
  // Out-of-order records (late events, several clients) come back to recent buckets: their texts are
  // kept too, a bounded number of them.
  const texts = new Map<number, string>();
  let lastBucket = Number.NaN;
  let lastText = '';
  return (ms) => {
    const wall = wallClockMs(ms, timeZone);
    const bucket = Math.floor(wall / bucketMs);
    if (bucket === lastBucket) return lastText;
    let text = texts.get(bucket);
    if (text === undefined) {
      const time = wallClockFields(wall);
      text = tokens.map((t) => renderTimestamp(t, time)).join('\n');
      if (texts.size >= MAX_CACHED_BUCKETS) texts.clear();
      texts.set(bucket, text);
    }
    lastBucket = bucket;
    lastText = text;
    return text;
  };
}

function field(time: LocalTime, name: 'yyyy' | 'yy' | 'MM' | 'dd' | 'HH' | 'mm' | 'ss'): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  switch (name) {
    case 'yyyy':
      return pad(time.year, 4);
    case 'yy':
      return pad(time.year % 100);
    case 'MM':
      return pad(time.month);
    case 'dd':
      return pad(time.day);
    case 'HH':
      return pad(time.hour);
    case 'mm':
      return pad(time.minute);
    case 'ss':
      return pad(time.second);
  }
}

/**
 * An object's file name: `<stream>-<shardId>-<firstSequenceNumber>[-<subSequenceNumber>]<extension>`.
 * The sub-sequence number appears only inside a KPL aggregate (two objects may start in one record).
 */
export function objectFileName(
  streamLabel: string,
  shardId: string,
  first: { readonly sequenceNumber: string; readonly subSequenceNumber: number },
  extension: string,
): string {
  const sub = first.subSequenceNumber > 0 ? `-${first.subSequenceNumber}` : '';
  return `${streamLabel}-${shardId}-${first.sequenceNumber}${sub}${extension}`;
}
