import type { ProblemList } from '@shardline/common';

// Pure reading of the s3-sink's settings for the archive table: the schema's columns as Glue/Hive
// columns, and the data prefix (Firehose syntax) as a table location plus Athena partition projection.
// The rules mirror @shardline/s3-sink's (its README: "Parquet output", "Hive-style prefixes").

/** The archive's record formats (the s3-sink's `--format`). */
export const ArchiveFormat = {
  /** JSON lines (the sink's default), read with the OpenX JSON SerDe. */
  Json: 'json',
  /** Apache Parquet, read with the Parquet SerDe. */
  Parquet: 'parquet',
} as const;
/** See {@link ArchiveFormat}. */
export type ArchiveFormat = (typeof ArchiveFormat)[keyof typeof ArchiveFormat];

/** Column types of an s3-sink schema (its `--schema` column list). */
export const ArchiveColumnType = {
  String: 'string',
  Integer: 'integer',
  Number: 'number',
  Boolean: 'boolean',
  Timestamp: 'timestamp',
  Json: 'json',
} as const;
/** See {@link ArchiveColumnType}. */
export type ArchiveColumnType = (typeof ArchiveColumnType)[keyof typeof ArchiveColumnType];

/** One column of an s3-sink schema: a top-level field of the event's `data`. */
export interface ArchiveColumn {
  /** The field's name (`[A-Za-z_][A-Za-z0-9_]*`, at most 128). */
  readonly name: string;
  readonly type: ArchiveColumnType;
  /** @defaultValue true */
  readonly nullable?: boolean;
}

/**
 * The s3-sink's schema, as given to `--schema`: a column list, or a JSON Schema subset
 * (`{ "type": "object", "properties": {…}, "required": […] }`; property types `string` (with
 * `format: "date-time"`: a timestamp), `integer`, `number`, `boolean`, `object`, `array`, optionally
 * with `"null"`).
 */
export type ArchiveSchema = readonly ArchiveColumn[] | Readonly<Record<string, unknown>>;

/** A Glue column. */
export interface GlueColumn {
  readonly name: string;
  readonly type: string;
}

/** Hive/Glue type of each column type, in Parquet objects and in JSON lines. */
export const GLUE_TYPES: Readonly<Record<ArchiveColumnType, { parquet: string; json: string }>> =
  Object.freeze({
    string: { parquet: 'string', json: 'string' },
    integer: { parquet: 'bigint', json: 'bigint' },
    number: { parquet: 'double', json: 'double' },
    boolean: { parquet: 'boolean', json: 'boolean' },
    // Parquet: INT64 TIMESTAMP(MILLIS, UTC). JSON lines hold ISO 8601 text (with 'T' and an offset),
    // which Hive's timestamp parser does not read: a string, for from_iso8601_timestamp().
    timestamp: { parquet: 'timestamp', json: 'string' },
    // Parquet: the value's JSON text. JSON lines: the SerDe gives a string column the field's JSON text.
    json: { parquet: 'string', json: 'string' },
  });

const COLUMN_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const TYPES: readonly string[] = Object.values(ArchiveColumnType);
const ENVELOPE_COLUMNS = ['eventid', 'receivedat'];
/** ECS task definitions are limited to 64 KiB in all: the schema travels in one variable. */
export const MAX_SCHEMA_CHARS = 32_768;

/**
 * The schema's columns (name, type, nullability), in order, with every problem recorded under `path`.
 */
export function schemaColumns(
  schema: unknown,
  path: string,
  problems: ProblemList,
): Required<ArchiveColumn>[] {
  const columns: Required<ArchiveColumn>[] = [];
  if (Array.isArray(schema)) {
    schema.forEach((column: unknown, i) => {
      const at = `${path}[${i}]`;
      if (typeof column !== 'object' || column === null) {
        problems.add(at, 'must be a column { name, type, nullable? }');
        return;
      }
      const { name, type, nullable = true } = column as Record<string, unknown>;
      if (typeof name !== 'string') problems.add(`${at}.name`, 'is required (a string)');
      if (typeof type !== 'string' || !TYPES.includes(type)) {
        problems.add(`${at}.type`, `must be one of ${TYPES.join(', ')}, got ${JSON.stringify(type)}`);
      }
      if (typeof nullable !== 'boolean') problems.add(`${at}.nullable`, 'must be a boolean');
      if (typeof name === 'string' && TYPES.includes(type as string)) {
        columns.push({ name, type: type as ArchiveColumnType, nullable: nullable === true });
      }
    });
  } else if (typeof schema === 'object' && schema !== null) {
    const { type, properties, required = [] } = schema as Record<string, unknown>;
    if (type !== 'object') problems.add(`${path}.type`, 'must be "object" (the event\'s data)');
    const requiredNames = new Set(Array.isArray(required) ? (required as unknown[]) : []);
    if (!Array.isArray(required)) problems.add(`${path}.required`, 'must be a list of property names');
    if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) {
      problems.add(`${path}.properties`, 'is required (an object of property schemas)');
    } else {
      for (const [name, property] of Object.entries(properties as Record<string, unknown>)) {
        const column = jsonSchemaColumn(name, property, requiredNames.has(name));
        if (typeof column === 'string') problems.add(`${path}.properties.${name}`, column);
        else columns.push(column);
      }
    }
  } else {
    problems.add(path, 'must be a column list or a JSON Schema object');
    return columns;
  }
  const seen = new Set<string>();
  for (const column of columns) {
    const at = `${path}.${column.name}`;
    if (!COLUMN_NAME.test(column.name)) {
      problems.add(at, `"${column.name}" is not a column name ([A-Za-z_][A-Za-z0-9_]*, at most 128)`);
    }
    const folded = column.name.toLowerCase();
    if (ENVELOPE_COLUMNS.includes(folded)) {
      problems.add(at, "is reserved: every Parquet object has the envelope's eventId and receivedAt");
    } else if (seen.has(folded)) {
      problems.add(at, 'appears twice (Glue and Athena compare names without case)');
    }
    seen.add(folded);
  }
  if (columns.length === 0 && !problems.hasProblems) problems.add(path, 'has no columns');
  const text = JSON.stringify(schema);
  if (text.length > MAX_SCHEMA_CHARS) {
    problems.add(path, `is ${text.length} characters of JSON, more than ${MAX_SCHEMA_CHARS}`);
  }
  return columns;
}

function jsonSchemaColumn(
  name: string,
  property: unknown,
  isRequired: boolean,
): Required<ArchiveColumn> | string {
  if (typeof property !== 'object' || property === null || Array.isArray(property)) {
    return 'must be a property schema object';
  }
  const p = property as Record<string, unknown>;
  const types = Array.isArray(p.type) ? (p.type as unknown[]) : [p.type];
  const others = types.filter((t) => t !== 'null');
  const nullable = types.includes('null') || !isRequired;
  const kind = others.length === 1 ? others[0] : undefined;
  if (kind === 'string') {
    if (p.format !== undefined && p.format !== 'date-time') {
      return `format ${JSON.stringify(p.format)} is not supported (only date-time)`;
    }
    return { name, type: p.format === 'date-time' ? 'timestamp' : 'string', nullable };
  }
  if (kind === 'integer' || kind === 'number' || kind === 'boolean') return { name, type: kind, nullable };
  if (kind === 'object' || kind === 'array') return { name, type: 'json', nullable };
  return 'type must be one of string, integer, number, boolean, object, array, optionally with "null"';
}

/** What a JSON-lines object holds per line (the s3-sink's `recordContent`). */
export type ArchiveRecordContent = 'envelope' | 'data';

/**
 * The table's data columns: for Parquet `eventid` (string), `receivedat` (timestamp) and the schema's
 * columns; for JSON lines of envelopes `eventid`, `receivedat` (ISO 8601 text) and `data` as a struct
 * of the schema's columns; for JSON lines of `data` the schema's columns. Names are lowercased (Glue
 * keeps lowercase names; both SerDes match fields without case).
 */
export function glueColumns(
  columns: readonly Required<ArchiveColumn>[],
  format: ArchiveFormat,
  recordContent: ArchiveRecordContent = 'envelope',
): GlueColumn[] {
  const own = columns.map((c) => ({ name: c.name.toLowerCase(), type: GLUE_TYPES[c.type][format] }));
  if (format === 'parquet') {
    return [{ name: 'eventid', type: 'string' }, { name: 'receivedat', type: 'timestamp' }, ...own];
  }
  if (recordContent === 'data') return own;
  return [
    { name: 'eventid', type: 'string' },
    { name: 'receivedat', type: 'string' },
    { name: 'data', type: `struct<${own.map((c) => `${c.name}:${c.type}`).join(',')}>` },
  ];
}

/** Firehose's time layout, which the s3-sink appends to a prefix without any `!{…}` expression. */
export const DEFAULT_TIME_LAYOUT = '!{timestamp:yyyy/MM/dd/HH}/';

type Token = { kind: 'text'; text: string } | { kind: 'expression'; name: string; argument: string };

/** Splits a prefix in Firehose syntax into text and `!{name:argument}` expressions. */
function tokenize(template: string, offset: number): Token[] | string {
  const tokens: Token[] = [];
  let i = 0;
  while (i < template.length) {
    const start = template.indexOf('!{', i);
    if (start < 0) {
      tokens.push({ kind: 'text', text: template.slice(i) });
      break;
    }
    if (start > i) tokens.push({ kind: 'text', text: template.slice(i, start) });
    const end = template.indexOf('}', start);
    if (end < 0) return `'!{' at ${offset + start} is not closed`;
    const expression = template.slice(start + 2, end);
    const colon = expression.indexOf(':');
    tokens.push({
      kind: 'expression',
      name: colon < 0 ? expression : expression.slice(0, colon),
      argument: colon < 0 ? '' : expression.slice(colon + 1),
    });
    i = end + 1;
  }
  return tokens;
}

/** The fixed part of a prefix: its text before the first `!{…}` expression. */
export function fixedPart(template: string): string {
  const i = template.indexOf('!{');
  return i < 0 ? template : template.slice(0, i);
}

/** How Athena projects one partition column (table properties `projection.<name>.*`). */
export interface PartitionProjection {
  /** The partition column (lowercase). */
  readonly name: string;
  /** `projection.<name>.*` properties, without that prefix (`type`, `range`, `format`…). */
  readonly properties: Readonly<Record<string, string>>;
}

/** The table's location and partitions read from the sink's data prefix. */
export interface ArchiveLayout {
  /** The location, relative to the bucket: the data prefix's folders before its first expression. */
  readonly location: string;
  /** `storage.location.template`, relative to the bucket (`${column}` per expression). */
  readonly locationTemplate: string;
  readonly partitions: readonly PartitionProjection[];
}

/** Settings of the layout's projection. */
export interface LayoutOptions {
  /** Name of the partition column of a `!{timestamp:…}` not named Hive-style. @defaultValue 'dt' */
  readonly timePartitionName?: string;
  /** First and last year projected. @defaultValue [2020, 2050] */
  readonly years?: readonly [number, number];
  /** Whether the prefix's times are in another zone than UTC (then dates project to NOW+1DAYS). */
  readonly isUtc?: boolean;
  /** Values of `!{partitionKeyFromQuery:…}` partitions (`enum` projection); others are `injected`. */
  readonly partitionValues?: Readonly<Record<string, readonly string[]>>;
}

const PARTITION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** Format fields of `!{timestamp:…}` (the s3-sink's), finest last, with Athena's interval unit. */
const TIME_FIELDS: readonly (readonly [string, string, number, number])[] = [
  // field, interval unit, integer range (min, max; the year's comes from options)
  ['yyyy', 'YEARS', 0, 0],
  ['yy', 'YEARS', 0, 99],
  ['MM', 'MONTHS', 1, 12],
  ['dd', 'DAYS', 1, 31],
  ['HH', 'HOURS', 0, 23],
  ['mm', 'MINUTES', 0, 59],
  ['ss', 'SECONDS', 0, 59],
];

/**
 * Reads the sink's data prefix (bucket-relative, Firehose syntax) as a table layout: the location is
 * its text up to the last `/` before the first expression; each expression after it is a partition
 * column — `name=!{…}` (Hive style) names it, a `!{partitionKeyFromQuery:k}` alone is `k`, a
 * `!{timestamp:…}` alone is `timePartitionName`. A single time field (`!{timestamp:HH}`) projects as
 * an integer, any other time format as a date; a query partition is `enum` with `partitionValues`,
 * else `injected`. Every problem is recorded under `path`.
 */
export function archiveLayout(
  dataPrefix: string,
  path: string,
  problems: ProblemList,
  options: LayoutOptions = {},
): ArchiveLayout {
  const template = dataPrefix.includes('!{') ? dataPrefix : dataPrefix + DEFAULT_TIME_LAYOUT;
  const fixed = fixedPart(template);
  const location = fixed.slice(0, fixed.lastIndexOf('/') + 1);
  const partitions: PartitionProjection[] = [];
  const tokens = tokenize(template.slice(location.length), location.length);
  if (typeof tokens === 'string') {
    problems.add(path, tokens);
    return { location, locationTemplate: template, partitions };
  }
  if (!template.endsWith('/')) {
    problems.add(path, `must end with '/' (a folder per partition), got '${dataPrefix}'`);
  }
  if (template.includes('${'))
    problems.add(path, "must not contain '${' (Athena's location template syntax)");
  const [firstYear, lastYear] = options.years ?? [2020, 2050];
  let locationTemplate = location;
  let text = '';
  tokens.forEach((token, i) => {
    if (token.kind === 'text') {
      text += token.text;
      locationTemplate += token.text;
      return;
    }
    const segmentStart = text.slice(text.lastIndexOf('/') + 1);
    const next = tokens[i + 1];
    const endsSegment = next === undefined || (next.kind === 'text' && next.text.startsWith('/'));
    const expression = `!{${token.name}${token.argument === '' ? '' : `:${token.argument}`}}`;
    let name: string | undefined;
    if (segmentStart === '') {
      name = token.name === 'partitionKeyFromQuery' ? token.argument : (options.timePartitionName ?? 'dt');
    } else if (segmentStart.endsWith('=') && PARTITION_NAME.test(segmentStart.slice(0, -1))) {
      name = segmentStart.slice(0, -1);
    }
    if (name === undefined || !endsSegment) {
      problems.add(
        path,
        `${expression} must be a folder of its own: '${expression}/' or Hive style 'name=${expression}/'`,
      );
      name = `_${partitions.length}`;
    }
    name = name.toLowerCase();
    if (token.name === 'timestamp') {
      const projection = timeProjection(token.argument, firstYear, lastYear, options.isUtc ?? true);
      if (typeof projection === 'string') problems.add(path, `${expression}: ${projection}`);
      else partitions.push({ name, properties: projection });
    } else if (token.name === 'partitionKeyFromQuery') {
      const values = options.partitionValues?.[token.argument];
      if (values?.some((v) => v.includes(',') || v === '')) {
        problems.add(`partitionValues.${token.argument}`, 'values must be non-empty and hold no comma');
      }
      partitions.push({
        name,
        properties: values === undefined ? { type: 'injected' } : { type: 'enum', values: values.join(',') },
      });
    } else {
      problems.add(
        path,
        `${expression} cannot be a table partition (the data prefix takes !{timestamp:…} and !{partitionKeyFromQuery:…})`,
      );
    }
    locationTemplate += `\${${name}}`;
    text += 'x';
  });
  const seen = new Set<string>();
  for (const p of partitions) {
    if (!PARTITION_NAME.test(p.name)) problems.add(path, `'${p.name}' is not a partition column name`);
    if (seen.has(p.name)) problems.add(path, `partition column '${p.name}' appears twice`);
    seen.add(p.name);
  }
  return { location, locationTemplate, partitions };
}

function timeProjection(
  format: string,
  firstYear: number,
  lastYear: number,
  isUtc: boolean,
): Record<string, string> | string {
  // The fields in the format, in order; quoted text ('T') and other characters are literal.
  const fields: string[] = [];
  for (let i = 0; i < format.length; ) {
    if (format[i] === "'") {
      const end = format.indexOf("'", i + 1);
      if (end < 0) return 'an unclosed quote';
      i = end + 1;
      continue;
    }
    const field = TIME_FIELDS.find(([f]) => format.startsWith(f, i));
    if (field !== undefined) {
      fields.push(field[0]);
      i += field[0].length;
    } else if (/[A-Za-z]/.test(format[i] ?? '')) {
      return `'${format[i]}' is not a time field (yyyy yy MM dd HH mm ss)`;
    } else i += 1;
  }
  if (fields.length === 0) return 'no time field';
  const single = fields.length === 1 ? TIME_FIELDS.find(([f]) => f === format) : undefined;
  if (single !== undefined) {
    const [field, , min, max] = single;
    const range = field === 'yyyy' ? `${firstYear},${lastYear}` : `${min},${max}`;
    return { type: 'integer', range, digits: field === 'yyyy' ? '4' : '2' };
  }
  const finest = TIME_FIELDS.filter(([f]) => fields.includes(f)).pop()!;
  return {
    type: 'date',
    format,
    // The first instant, written in the format itself (Athena reads the range with it).
    range: `${renderStart(format, firstYear)},${isUtc ? 'NOW' : 'NOW+1DAYS'}`,
    interval: '1',
    'interval.unit': finest[1],
  };
}

function renderStart(format: string, year: number): string {
  let out = '';
  for (let i = 0; i < format.length; ) {
    if (format[i] === "'") {
      const end = format.indexOf("'", i + 1);
      out += format.slice(i + 1, end);
      i = end + 1;
      continue;
    }
    const field = TIME_FIELDS.find(([f]) => format.startsWith(f, i));
    if (field === undefined) {
      out += format[i];
      i += 1;
      continue;
    }
    const value = { yyyy: year, yy: year % 100, MM: 1, dd: 1, HH: 0, mm: 0, ss: 0 }[field[0]]!;
    out += String(value).padStart(field[0] === 'yyyy' ? 4 : 2, '0');
    i += field[0].length;
  }
  return out;
}

/** Two key prefixes overlap when one starts with the other (one holds keys of the other). */
function overlaps(a: string, b: string): boolean {
  return a.startsWith(b) || b.startsWith(a);
}

/**
 * Records a problem under `path` for each other key space of the sink that the data location would
 * hold or lie in: the manifests (`null`: none written), the error output (its fixed part), and any
 * `others` (name → prefix, e.g. query results).
 */
export function checkLocationApart(
  location: string,
  path: string,
  problems: ProblemList,
  spaces: {
    readonly manifestPrefix: string | null;
    readonly errorPrefix: string;
    readonly others?: Readonly<Record<string, string>>;
  },
): void {
  if (location === '') {
    problems.add(
      path,
      "has no folder before its first expression: the table's location would be the whole bucket (manifests and error output included); start it with a folder of its own, e.g. 'data/'",
    );
    return;
  }
  if (spaces.manifestPrefix !== null && overlaps(location, spaces.manifestPrefix)) {
    problems.add(
      path,
      `the location '${location}' and the manifests' prefix '${spaces.manifestPrefix}' overlap: manifests would be read as data (give each its own folder, e.g. 'data/' and 'manifests/')`,
    );
  }
  const errors = fixedPart(spaces.errorPrefix);
  if (overlaps(location, errors)) {
    problems.add(
      path,
      `the location '${location}' and the error prefix's fixed part '${errors}' overlap: error output would be read as data (give each its own folder, e.g. 'data/' and 'errors/')`,
    );
  }
  for (const [name, prefix] of Object.entries(spaces.others ?? {})) {
    if (overlaps(location, prefix)) {
      problems.add(path, `the location '${location}' and ${name} '${prefix}' overlap`);
    }
  }
}
