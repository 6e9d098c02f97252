import { createHash } from 'node:crypto';
import type { ConfigurationProblem } from '../../errors.js';

/** The types a Parquet column can have, and what the record's JSON value must be. */
export const ParquetColumnType = {
  /** A JSON string → `BYTE_ARRAY` annotated `STRING` (UTF-8). */
  String: 'string',
  /** A JSON integer within ±2^63 (exactly, beyond 2^53 too) → `INT64`. */
  Integer: 'integer',
  /** A JSON number, exactly representable as a double → `DOUBLE`. */
  Number: 'number',
  /** `true` or `false` → `BOOLEAN`. */
  Boolean: 'boolean',
  /**
   * An RFC 3339 date-time with an offset (`2026-01-02T03:04:05.678Z`; digits finer than milliseconds
   * must be zero) or integer epoch milliseconds → `INT64` `TIMESTAMP(MILLIS, UTC)`.
   */
  Timestamp: 'timestamp',
  /** Any JSON value, stored as its exact JSON text → `BYTE_ARRAY` annotated `STRING`. */
  Json: 'json',
} as const;
/** See {@link ParquetColumnType}. */
export type ParquetColumnType = (typeof ParquetColumnType)[keyof typeof ParquetColumnType];

/** One column of a Parquet schema given as a column list: a top-level field of the event's `data`. */
export interface ParquetColumn {
  /** The field of `data`, and the column's name (`[A-Za-z_][A-Za-z0-9_]*`, at most 128). */
  readonly name: string;
  /** What the field holds, and so the column's Parquet type (see {@link ParquetColumnType}). */
  readonly type: ParquetColumnType;
  /**
   * Whether the field may be missing or `null` (an `OPTIONAL` column). A record without a
   * non-nullable field goes to the error output.
   * @defaultValue true
   */
  readonly nullable?: boolean;
}

/**
 * A Parquet schema: a column list, or a JSON Schema subset — `{ "type": "object", "properties": {…},
 * "required": […] }` whose properties have `type` `string` (with `format: "date-time"`: a timestamp),
 * `integer`, `number`, `boolean`, `object` or `array` (JSON text), optionally with `"null"`
 * (`["integer", "null"]`). Properties not in `required`, or allowing `null`, are nullable.
 */
export type ParquetSchemaSource = readonly ParquetColumn[] | Readonly<Record<string, unknown>>;

/** A checked schema. */
export interface ParquetSchema {
  /** The columns from `data`, in file order (after `eventId` and `receivedAt`). */
  readonly columns: readonly Required<ParquetColumn>[];
  /** Stable JSON text of the columns: names, types and nullability in order. */
  readonly canonical: string;
  /** The schema version in object names: given, or the first 12 hex digits of SHA-256(canonical). */
  readonly version: string;
}

/** Columns every Parquet object has, from the envelope. */
export const ENVELOPE_COLUMNS = ['eventId', 'receivedAt'] as const;
const COLUMN_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const VERSION = /^[A-Za-z0-9_-]{1,32}$/;
const TYPES: readonly string[] = Object.values(ParquetColumnType);
const JSON_SCHEMA_COMBINATORS = ['$ref', 'anyOf', 'oneOf', 'allOf', 'not', 'if'];

/**
 * Checks a schema given as a column list or a JSON Schema subset.
 *
 * @param path - option path used in problems, e.g. `parquet.schema`.
 * @returns the schema, or `undefined` and every problem found.
 */
export function parseParquetSchema(
  source: unknown,
  schemaVersion: unknown,
  path: string,
): { schema: ParquetSchema | undefined; problems: ConfigurationProblem[] } {
  const problems: ConfigurationProblem[] = [];
  const problem = (at: string, message: string) => problems.push({ path: at, message });
  const columns: Required<ParquetColumn>[] = [];
  if (Array.isArray(source)) {
    source.forEach((column: unknown, i) => {
      const at = `${path}[${i}]`;
      if (typeof column !== 'object' || column === null) {
        problem(at, 'must be a column { name, type, nullable? }');
        return;
      }
      const { name, type, nullable = true } = column as Record<string, unknown>;
      if (typeof type !== 'string' || !TYPES.includes(type)) {
        problem(`${at}.type`, `must be one of ${TYPES.join(', ')}`);
      }
      if (typeof nullable !== 'boolean') problem(`${at}.nullable`, 'must be a boolean');
      columns.push({
        name: typeof name === 'string' ? name : '',
        type: type as ParquetColumnType,
        nullable: nullable as boolean,
      });
      if (typeof name !== 'string') problem(`${at}.name`, 'is required (a string)');
    });
  } else if (typeof source === 'object' && source !== null) {
    const schema = source as Record<string, unknown>;
    if (schema.type !== 'object') problem(`${path}.type`, 'must be "object" (the event\'s data)');
    const properties = schema.properties;
    const required = schema.required ?? [];
    if (!Array.isArray(required) || !required.every((r) => typeof r === 'string')) {
      problem(`${path}.required`, 'must be a list of property names');
    }
    const requiredNames = new Set(Array.isArray(required) ? (required as unknown[]) : []);
    if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) {
      problem(`${path}.properties`, 'is required (an object of property schemas)');
    } else {
      for (const [name, property] of Object.entries(properties as Record<string, unknown>)) {
        const at = `${path}.properties.${name}`;
        const column = jsonSchemaColumn(name, property, requiredNames.has(name));
        if (typeof column === 'string') problem(at, column);
        else columns.push(column);
      }
      for (const name of requiredNames) {
        if (typeof name === 'string' && !(name in (properties as object))) {
          problem(`${path}.required`, `names "${name}", which is not in properties`);
        }
      }
    }
  } else {
    problem(path, 'is required with format parquet: a column list or a JSON Schema object');
  }

  const seen = new Set<string>();
  columns.forEach((column, i) => {
    const at = Array.isArray(source) ? `${path}[${i}].name` : `${path}.properties.${column.name}`;
    if (column.name === '' && Array.isArray(source)) return;
    if (!COLUMN_NAME.test(column.name)) {
      problem(at, `"${column.name}" is not a column name ([A-Za-z_][A-Za-z0-9_]*, at most 128)`);
    }
    // Query engines (Athena, DuckDB, Spark) match names without regard to case.
    const folded = column.name.toLowerCase();
    if (ENVELOPE_COLUMNS.some((c) => c.toLowerCase() === folded)) {
      problem(at, `"${column.name}" is reserved: every object has the envelope's eventId and receivedAt`);
    } else if (seen.has(folded)) {
      problem(at, `"${column.name}" appears twice (names are compared without case)`);
    }
    seen.add(folded);
  });
  if (columns.length === 0 && problems.length === 0) {
    problem(path, 'has no columns');
  }
  if (schemaVersion !== undefined && (typeof schemaVersion !== 'string' || !VERSION.test(schemaVersion))) {
    problem(`${path.replace(/\.schema$/, '')}.schemaVersion`, 'must be 1–32 of [A-Za-z0-9_-]');
  }
  if (problems.length > 0) return { schema: undefined, problems };
  const canonical = JSON.stringify(columns.map((c) => [c.name, c.type, c.nullable]));
  const version =
    (schemaVersion as string | undefined) ??
    createHash('sha256').update(canonical).digest('hex').slice(0, 12);
  return { schema: { columns, canonical, version }, problems };
}

function jsonSchemaColumn(
  name: string,
  property: unknown,
  isRequired: boolean,
): Required<ParquetColumn> | string {
  if (typeof property !== 'object' || property === null || Array.isArray(property)) {
    return 'must be a property schema object';
  }
  const p = property as Record<string, unknown>;
  const combinator = JSON_SCHEMA_COMBINATORS.find((k) => k in p);
  if (combinator !== undefined) {
    return `${combinator} is not supported (the subset: type string, integer, number, boolean, object, array, each optionally with "null"; format date-time)`;
  }
  const types = Array.isArray(p.type) ? (p.type as unknown[]) : [p.type];
  const allowsNull = types.includes('null');
  const others = types.filter((t) => t !== 'null');
  if (others.length !== 1 || typeof others[0] !== 'string') {
    return 'type must be one of string, integer, number, boolean, object, array, optionally with "null" (e.g. ["integer", "null"])';
  }
  const nullable = allowsNull || !isRequired;
  switch (others[0]) {
    case 'string':
      if (p.format !== undefined && p.format !== 'date-time') {
        return `format "${String(p.format)}" is not supported (only date-time, a timestamp column)`;
      }
      return {
        name,
        type: p.format === 'date-time' ? ParquetColumnType.Timestamp : ParquetColumnType.String,
        nullable,
      };
    case 'integer':
      return { name, type: ParquetColumnType.Integer, nullable };
    case 'number':
      return { name, type: ParquetColumnType.Number, nullable };
    case 'boolean':
      return { name, type: ParquetColumnType.Boolean, nullable };
    case 'object':
    case 'array':
      return { name, type: ParquetColumnType.Json, nullable };
    default:
      return `type "${others[0]}" is not supported (string, integer, number, boolean, object, array)`;
  }
}
