/**
 * The query syntax of `partitionKeys`: a path into the event envelope.
 *
 * ```
 * query   := ['.'] root ( '.' name | '[' index ']' | '["' text '"]' )*
 * root    := 'data' | 'eventId' | 'receivedAt' | 'partitionKey'
 * name    := [A-Za-z_$][A-Za-z0-9_$-]*
 * ```
 *
 * `data` is the posted JSON value, `eventId`/`receivedAt` the envelope's fields, `partitionKey` the
 * Kinesis record's partition key. Examples: `data.event_type`, `.data.user.country`, `data.items[0].sku`,
 * `data["content-type"]`. A query selects one scalar (string, number, boolean); anything else, or nothing,
 * is a partitioning failure (the record goes to the error output).
 */
export type EnvelopeQuerySegment = string | number;

/** A parsed query. */
export interface EnvelopeQuery {
  readonly source: string;
  readonly root: 'data' | 'eventId' | 'receivedAt' | 'partitionKey';
  readonly path: readonly EnvelopeQuerySegment[];
}

const ROOTS = ['data', 'eventId', 'receivedAt', 'partitionKey'] as const;
const NAME = /^[A-Za-z_$][A-Za-z0-9_$-]*/;

/** Parses a query; returns an error message instead when it is not valid. */
export function parseEnvelopeQuery(source: string): EnvelopeQuery | string {
  let rest = source.startsWith('.') ? source.slice(1) : source;
  const rootMatch = NAME.exec(rest);
  const root = ROOTS.find((r) => r === rootMatch?.[0]);
  if (!root) return `"${source}" must start with one of ${ROOTS.join(', ')} (e.g. data.event_type)`;
  rest = rest.slice(root.length);
  const path: EnvelopeQuerySegment[] = [];
  while (rest.length > 0) {
    if (rest.startsWith('.')) {
      const m = NAME.exec(rest.slice(1));
      if (!m)
        return `"${source}": expected a field name after "." at position ${source.length - rest.length + 1}`;
      path.push(m[0]);
      rest = rest.slice(1 + m[0].length);
    } else if (rest.startsWith('["')) {
      const close = rest.indexOf('"]', 2);
      if (close < 0) return `"${source}": unclosed ["..."]`;
      path.push(rest.slice(2, close));
      rest = rest.slice(close + 2);
    } else if (rest.startsWith('[')) {
      const m = /^\[(\d+)\]/.exec(rest);
      if (!m)
        return `"${source}": expected [<index>] or ["<name>"] at position ${source.length - rest.length}`;
      path.push(Number(m[1]));
      rest = rest.slice(m[0].length);
    } else {
      return `"${source}": unexpected "${rest[0]}" at position ${source.length - rest.length}`;
    }
  }
  if (root !== 'data' && path.length > 0) return `"${source}": ${root} is a string and has no fields`;
  return { source, root, path };
}

/** What a query is evaluated against. */
export interface QueryInput {
  readonly eventId: string;
  readonly receivedAt: string;
  readonly partitionKey: string;
  /** The parsed `data` (big integers as decimal strings). */
  readonly data: () => unknown;
}

/**
 * Selects the value a query points at, as parsed (numbers as numbers, big integers as decimal strings),
 * or an error message when there is none.
 */
export function selectEnvelopeValue(
  query: EnvelopeQuery,
  input: QueryInput,
): { value: unknown } | { error: string } {
  let value: unknown;
  if (query.root === 'data') {
    value = input.data();
    for (const segment of query.path) {
      if (value === null || typeof value !== 'object') {
        return { error: `${query.source}: no field ${JSON.stringify(segment)} (not an object or array)` };
      }
      if (typeof segment === 'number') {
        if (!Array.isArray(value))
          return { error: `${query.source}: [${segment}] on a value that is not an array` };
        value = value[segment];
      } else {
        value = Object.hasOwn(value, segment) ? (value as Record<string, unknown>)[segment] : undefined;
      }
      if (value === undefined) return { error: `${query.source}: no value` };
    }
  } else {
    value = input[query.root];
  }
  return { value };
}

/**
 * Evaluates a query: the selected scalar as text (numbers exactly as parsed), or an error message.
 */
export function evaluateEnvelopeQuery(query: EnvelopeQuery, input: QueryInput): string | { error: string } {
  const selected = selectEnvelopeValue(query, input);
  if ('error' in selected) return selected;
  const { value } = selected;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (value === null) return { error: `${query.source} is null` };
  return { error: `${query.source} is ${Array.isArray(value) ? 'an array' : 'an object'}, not a scalar` };
}
